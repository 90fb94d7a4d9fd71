package migrate

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// SID is a security identifier in its binary form ([MS-DTYP] 2.4.2.2).
type SID []byte

// SIDAdministrators is BUILTIN\Administrators, the owner the AD module writes.
const SIDAdministrators = "S-1-5-32-544"

// GMSAMembershipMask is the access mask the AD module grants each principal allowed to retrieve
// the managed password (0xf01ff).
const GMSAMembershipMask = 0x000F01FF

// ParseSID converts "S-1-5-21-..." to its binary form.
func ParseSID(s string) (SID, error) {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || !strings.EqualFold(parts[0], "S") || parts[1] != "1" {
		return nil, fmt.Errorf("%w: SID %q: want S-1-<authority>-<sub>...", ErrConfig, s)
	}
	auth, err := strconv.ParseUint(parts[2], 10, 48)
	if err != nil {
		return nil, fmt.Errorf("%w: SID %q: authority: %v", ErrConfig, s, err)
	}
	subs := parts[3:]
	if len(subs) > 15 {
		return nil, fmt.Errorf("%w: SID %q: %d sub-authorities, at most 15", ErrConfig, s, len(subs))
	}
	b := make([]byte, 8, 8+4*len(subs))
	b[0], b[1] = 1, byte(len(subs))
	for i := 0; i < 6; i++ {
		b[2+i] = byte(auth >> (8 * (5 - i)))
	}
	for _, p := range subs {
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%w: SID %q: sub-authority %q: %v", ErrConfig, s, p, err)
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	return SID(b), nil
}

// parseBinarySID reads one SID from the front of b and returns it with its length.
func parseBinarySID(b []byte) (SID, int, error) {
	if len(b) < 8 || b[0] != 1 {
		return nil, 0, fmt.Errorf("%w: malformed SID (%d bytes)", ErrDirectory, len(b))
	}
	n := 8 + 4*int(b[1])
	if b[1] > 15 || len(b) < n {
		return nil, 0, fmt.Errorf("%w: malformed SID (%d sub-authorities in %d bytes)", ErrDirectory, b[1], len(b))
	}
	return SID(append([]byte(nil), b[:n]...)), n, nil
}

// String is the SDDL form, "S-1-5-21-...".
func (s SID) String() string {
	if len(s) < 8 {
		return "S-?"
	}
	var auth uint64
	for i := 0; i < 6; i++ {
		auth = auth<<8 | uint64(s[2+i])
	}
	var b strings.Builder
	fmt.Fprintf(&b, "S-%d-%d", s[0], auth)
	for i := 0; i < int(s[1]) && 8+4*i+4 <= len(s); i++ {
		fmt.Fprintf(&b, "-%d", binary.LittleEndian.Uint32(s[8+4*i:]))
	}
	return b.String()
}

// GMSAMembership builds msDS-GroupMSAMembership as the AD module writes it for
// -PrincipalsAllowedToRetrieveManagedPassword: the self-relative security descriptor
// "O:S-1-5-32-544D:(A;;0xf01ff;;;<SID>)..." ([MS-DTYP] 2.4.6): header, owner, then a DACL of one
// ACCESS_ALLOWED_ACE per principal, in the order given.
func GMSAMembership(principals []SID) []byte {
	owner, _ := ParseSID(SIDAdministrators)
	const header = 20
	aclSize := 8
	for _, p := range principals {
		aclSize += 8 + len(p)
	}
	b := make([]byte, header, header+len(owner)+aclSize)
	b[0] = 1                                                         // revision
	binary.LittleEndian.PutUint16(b[2:], 0x8000|0x0004)              // SE_SELF_RELATIVE | SE_DACL_PRESENT
	binary.LittleEndian.PutUint32(b[4:], header)                     // owner
	binary.LittleEndian.PutUint32(b[16:], uint32(header+len(owner))) // DACL
	b = append(b, owner...)
	b = append(b, 2, 0) // ACL_REVISION, Sbz1
	b = binary.LittleEndian.AppendUint16(b, uint16(aclSize))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(principals)))
	b = append(b, 0, 0)
	for _, p := range principals {
		b = append(b, 0x00, 0x00) // ACCESS_ALLOWED_ACE_TYPE, no flags
		b = binary.LittleEndian.AppendUint16(b, uint16(8+len(p)))
		b = binary.LittleEndian.AppendUint32(b, GMSAMembershipMask)
		b = append(b, p...)
	}
	return b
}

// MembershipSIDs returns the SIDs of the access-allowed ACEs of a self-relative security
// descriptor's DACL: who may retrieve a gMSA's password.
func MembershipSIDs(sd []byte) ([]SID, error) {
	bad := func(why string) error { return fmt.Errorf("%w: msDS-GroupMSAMembership: %s", ErrDirectory, why) }
	if len(sd) < 20 || sd[0] != 1 {
		return nil, bad("not a self-relative security descriptor")
	}
	if binary.LittleEndian.Uint16(sd[2:])&0x0004 == 0 {
		return nil, nil
	}
	off := int(binary.LittleEndian.Uint32(sd[16:]))
	if off == 0 || off+8 > len(sd) {
		return nil, bad("DACL offset out of range")
	}
	count := int(binary.LittleEndian.Uint16(sd[off+4:]))
	p := off + 8
	var out []SID
	for i := 0; i < count; i++ {
		if p+8 > len(sd) {
			return nil, bad("ACE out of range")
		}
		typ, size := sd[p], int(binary.LittleEndian.Uint16(sd[p+2:]))
		if size < 8 || p+size > len(sd) {
			return nil, bad("ACE size out of range")
		}
		if typ == 0x00 {
			s, _, err := parseBinarySID(sd[p+8 : p+size])
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		p += size
	}
	return out, nil
}
