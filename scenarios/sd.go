package scenarios

import (
	"encoding/binary"
	"fmt"

	"github.com/gmsasim/gmsasim/fakead"
)

// The msDS-GroupMSAMembership value the AD module writes for
// -PrincipalsAllowedToRetrieveManagedPassword: a self-relative security descriptor
// "O:S-1-5-32-544D:(A;;0xf01ff;;;SID)..." ([MS-DTYP] 2.4.6), one ACCESS_ALLOWED ACE per principal.

const (
	sdOwnerSID       = "S-1-5-32-544"
	gmsaAccessMask   = 0x000F01FF
	aceAccessAllowed = 0
)

// buildGMSAMembershipSD builds the binary self-relative security descriptor granting sids.
func buildGMSAMembershipSD(sids []string) ([]byte, error) {
	owner, err := fakead.ParseSID(sdOwnerSID)
	if err != nil {
		return nil, err
	}
	var aces []byte
	for _, s := range sids {
		sid, err := fakead.ParseSID(s)
		if err != nil {
			return nil, fmt.Errorf("SID %q: %w", s, err)
		}
		sb := sid.Bytes()
		ace := make([]byte, 8, 8+len(sb))
		ace[0], ace[1] = aceAccessAllowed, 0
		binary.LittleEndian.PutUint16(ace[2:], uint16(8+len(sb)))
		binary.LittleEndian.PutUint32(ace[4:], gmsaAccessMask)
		aces = append(aces, append(ace, sb...)...)
	}
	acl := make([]byte, 8, 8+len(aces))
	acl[0] = 2 // ACL_REVISION
	binary.LittleEndian.PutUint16(acl[2:], uint16(8+len(aces)))
	binary.LittleEndian.PutUint16(acl[4:], uint16(len(sids)))
	acl = append(acl, aces...)
	ob := owner.Bytes()
	hdr := make([]byte, 20)
	hdr[0] = 1                                                  // revision
	binary.LittleEndian.PutUint16(hdr[2:], 0x8004)              // SE_SELF_RELATIVE | SE_DACL_PRESENT
	binary.LittleEndian.PutUint32(hdr[4:], 20)                  // owner
	binary.LittleEndian.PutUint32(hdr[16:], uint32(20+len(ob))) // DACL
	return append(append(hdr, ob...), acl...), nil
}

// parseGMSAMembershipSD returns the SIDs of the ACCESS_ALLOWED ACEs of the descriptor's DACL.
func parseGMSAMembershipSD(b []byte) ([]string, error) {
	if len(b) < 20 || b[0] != 1 {
		return nil, fmt.Errorf("not a self-relative security descriptor (%d bytes)", len(b))
	}
	off := int(binary.LittleEndian.Uint32(b[16:]))
	if off == 0 {
		return nil, nil
	}
	if off+8 > len(b) {
		return nil, fmt.Errorf("DACL offset %d beyond %d bytes", off, len(b))
	}
	n := int(binary.LittleEndian.Uint16(b[off+4:]))
	p := off + 8
	var out []string
	for i := 0; i < n; i++ {
		if p+8 > len(b) {
			return nil, fmt.Errorf("ACE %d truncated", i)
		}
		size := int(binary.LittleEndian.Uint16(b[p+2:]))
		if size < 8 || p+size > len(b) {
			return nil, fmt.Errorf("ACE %d size %d out of range", i, size)
		}
		if b[p] == aceAccessAllowed {
			sid, err := fakead.SIDFromBytes(b[p+8 : p+size])
			if err != nil {
				return nil, fmt.Errorf("ACE %d: %w", i, err)
			}
			out = append(out, sid.String())
		}
		p += size
	}
	return out, nil
}
