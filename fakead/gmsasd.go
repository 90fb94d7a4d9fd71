package fakead

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// msDS-GroupMSAMembership is a binary self-relative security descriptor ([MS-DTYP] 2.4.6). The AD
// module writes "O:S-1-5-32-544D:(A;;0xf01ff;;;<SID>)..." — owner BUILTIN\Administrators and one
// ACCESS_ALLOWED ACE per principal allowed to retrieve the password. The DC reads its DACL to
// decide who may read msDS-ManagedPassword ([MS-ADTS] 3.1.1.4.5.39).

// Security descriptor constants ([MS-DTYP] 2.4.6, 2.4.4.1, 2.4.5).
const (
	sdRevision       = 1
	sdSelfRelative   = 0x8000
	sdDACLPresent    = 0x0004
	aclRevision      = 2
	aclRevisionDS    = 4
	aceAllowed       = 0x00
	aceDenied        = 0x01
	aceAllowedObject = 0x05
	aceDeniedObject  = 0x06
	aceInheritOnly   = 0x08
	aceObjectTypeSet = 0x1
	aceInheritedSet  = 0x2

	// RightReadProperty is ADS_RIGHT_DS_READ_PROP (RP): what reading msDS-ManagedPassword needs.
	RightReadProperty = 0x10
	// GMSAMembershipMask is the access mask the AD module grants (0xf01ff: every standard and
	// directory-specific right).
	GMSAMembershipMask = 0x000F01FF
	genericAll         = 0x10000000
	genericRead        = 0x80000000
)

// ErrBadSecurityDescriptor is wrapped by every parse failure of a security descriptor.
var ErrBadSecurityDescriptor = errors.New("malformed security descriptor")

// SecurityDescriptor is a parsed self-relative security descriptor. DACL is nil when the
// descriptor has no DACL (SE_DACL_PRESENT clear: everyone is allowed); an empty non-nil slice is
// a DACL with no ACEs (nobody is allowed).
type SecurityDescriptor struct {
	Control uint16
	Owner   *SID
	Group   *SID
	DACL    []ACE
	HasDACL bool
}

// ACE is one access control entry of a DACL.
type ACE struct {
	Type  byte
	Flags byte
	Mask  uint32
	// ObjectType is set for object ACEs that name a property or property set.
	ObjectType *GUID
	SID        SID
}

func sdErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadSecurityDescriptor, fmt.Sprintf(format, args...))
}

// ParseSecurityDescriptor parses and validates a self-relative security descriptor: revision 1,
// SE_SELF_RELATIVE set, every offset and length inside the buffer, ACL revision 2 or 4, ACE sizes
// consistent, SIDs well formed. It never panics on bad input.
func ParseSecurityDescriptor(b []byte) (*SecurityDescriptor, error) {
	if len(b) < 20 {
		return nil, sdErr("%d bytes, shorter than the 20-byte header", len(b))
	}
	if b[0] != sdRevision {
		return nil, sdErr("revision %d, want 1", b[0])
	}
	sd := &SecurityDescriptor{Control: binary.LittleEndian.Uint16(b[2:])}
	if sd.Control&sdSelfRelative == 0 {
		return nil, sdErr("control 0x%04x lacks SE_SELF_RELATIVE", sd.Control)
	}
	offOwner := binary.LittleEndian.Uint32(b[4:])
	offGroup := binary.LittleEndian.Uint32(b[8:])
	offDACL := binary.LittleEndian.Uint32(b[16:])
	sidAt := func(what string, off uint32) (*SID, error) {
		if off == 0 {
			return nil, nil
		}
		if off < 20 || uint64(off)+8 > uint64(len(b)) {
			return nil, sdErr("%s offset %d outside %d bytes", what, off, len(b))
		}
		n := 8 + 4*int(b[off+1])
		if int(off)+n > len(b) {
			return nil, sdErr("%s SID at %d runs past %d bytes", what, off, len(b))
		}
		s, err := SIDFromBytes(b[off : int(off)+n])
		if err != nil {
			return nil, sdErr("%s SID: %v", what, err)
		}
		return &s, nil
	}
	var err error
	if sd.Owner, err = sidAt("owner", offOwner); err != nil {
		return nil, err
	}
	if sd.Group, err = sidAt("group", offGroup); err != nil {
		return nil, err
	}
	if sd.Control&sdDACLPresent == 0 {
		return sd, nil
	}
	sd.HasDACL = true
	sd.DACL = []ACE{}
	if offDACL == 0 {
		sd.DACL = nil // a present but NULL DACL: everyone is allowed
		return sd, nil
	}
	if offDACL < 20 || uint64(offDACL)+8 > uint64(len(b)) {
		return nil, sdErr("DACL offset %d outside %d bytes", offDACL, len(b))
	}
	acl := b[offDACL:]
	if acl[0] != aclRevision && acl[0] != aclRevisionDS {
		return nil, sdErr("ACL revision %d, want 2 or 4", acl[0])
	}
	size := int(binary.LittleEndian.Uint16(acl[2:]))
	count := int(binary.LittleEndian.Uint16(acl[4:]))
	if size < 8 || size > len(acl) {
		return nil, sdErr("ACL size %d, %d bytes available", size, len(acl))
	}
	p := 8
	for i := 0; i < count; i++ {
		if p+8 > size {
			return nil, sdErr("ACE %d starts past the ACL's %d bytes", i, size)
		}
		a := ACE{Type: acl[p], Flags: acl[p+1]}
		n := int(binary.LittleEndian.Uint16(acl[p+2:]))
		if n < 12 || n%4 != 0 || p+n > size {
			return nil, sdErr("ACE %d size %d invalid", i, n)
		}
		body := acl[p+4 : p+n]
		a.Mask = binary.LittleEndian.Uint32(body)
		sidOff := 4
		switch a.Type {
		case aceAllowed, aceDenied:
		case aceAllowedObject, aceDeniedObject:
			if len(body) < 8 {
				return nil, sdErr("object ACE %d too short", i)
			}
			flags := binary.LittleEndian.Uint32(body[4:])
			sidOff = 8
			if flags&aceObjectTypeSet != 0 {
				if len(body) < sidOff+16 {
					return nil, sdErr("object ACE %d too short for its object type", i)
				}
				var g GUID
				copy(g[:], body[sidOff:sidOff+16])
				a.ObjectType = &g
				sidOff += 16
			}
			if flags&aceInheritedSet != 0 {
				sidOff += 16
			}
		default:
			// Other ACE types (audit, callback, ...) do not grant or deny here; keep their
			// bytes valid but skip them.
			p += n
			continue
		}
		if len(body) < sidOff+8 {
			return nil, sdErr("ACE %d has no room for its SID", i)
		}
		sb := body[sidOff:]
		sn := 8 + 4*int(sb[1])
		if sn > len(sb) {
			return nil, sdErr("ACE %d SID runs past the ACE", i)
		}
		if a.SID, err = SIDFromBytes(sb[:sn]); err != nil {
			return nil, sdErr("ACE %d SID: %v", i, err)
		}
		sd.DACL = append(sd.DACL, a)
		p += n
	}
	return sd, nil
}

// AccessAllowed evaluates the DACL for a token ([MS-DTYP] 2.5.3.2, simplified): ACEs in order,
// inherit-only ACEs skipped; a deny ACE naming a token SID and any wanted bit denies; allow ACEs
// accumulate granted bits until every wanted bit is granted. A missing DACL allows everything.
// Object ACEs that name a property apply only when the property is msDS-ManagedPassword's
// (Divergence: the model does not resolve property sets; such ACEs for other GUIDs are ignored).
func (sd *SecurityDescriptor) AccessAllowed(token []string, wanted uint32) bool {
	if !sd.HasDACL || sd.DACL == nil {
		return true
	}
	in := func(s SID) bool {
		str := s.String()
		for _, t := range token {
			if strings.EqualFold(t, str) {
				return true
			}
		}
		return false
	}
	var granted uint32
	for _, a := range sd.DACL {
		if a.Flags&aceInheritOnly != 0 || !in(a.SID) {
			continue
		}
		if a.ObjectType != nil && *a.ObjectType != managedPasswordSchemaID {
			continue
		}
		mask := a.Mask
		if mask&(genericAll|genericRead) != 0 {
			mask |= RightReadProperty
		}
		switch a.Type {
		case aceDenied, aceDeniedObject:
			if mask&wanted&^granted != 0 {
				return false
			}
		case aceAllowed, aceAllowedObject:
			granted |= mask & wanted
			if granted == wanted {
				return true
			}
		}
	}
	return false
}

// managedPasswordSchemaID is msDS-ManagedPassword's schemaIDGUID e362ed86-b728-0842-b27d-2dea7a9df218
// in MS-DTYP byte order.
var managedPasswordSchemaID = func() GUID {
	g, _ := ParseGUID("e362ed86-b728-0842-b27d-2dea7a9df218")
	return g
}()

// GMSAMembershipSD builds msDS-GroupMSAMembership as the AD module writes it for
// -PrincipalsAllowedToRetrieveManagedPassword: "O:S-1-5-32-544D:(A;;0xf01ff;;;SID)...", laid out
// as .NET's RawSecurityDescriptor.GetBinaryForm does (header, owner, DACL).
func GMSAMembershipSD(sids ...string) ([]byte, error) {
	owner, err := ParseSID(sidAdministrators)
	if err != nil {
		return nil, err
	}
	var aces []byte
	for _, s := range sids {
		sid, err := ParseSID(s)
		if err != nil {
			return nil, fmt.Errorf("msDS-GroupMSAMembership: SID %q: %w", s, err)
		}
		sb := sid.Bytes()
		ace := make([]byte, 8, 8+len(sb))
		ace[0] = aceAllowed
		binary.LittleEndian.PutUint16(ace[2:], uint16(8+len(sb)))
		binary.LittleEndian.PutUint32(ace[4:], GMSAMembershipMask)
		aces = append(aces, append(ace, sb...)...)
	}
	acl := make([]byte, 8, 8+len(aces))
	acl[0] = aclRevision
	binary.LittleEndian.PutUint16(acl[2:], uint16(8+len(aces)))
	binary.LittleEndian.PutUint16(acl[4:], uint16(len(sids)))
	acl = append(acl, aces...)
	ob := owner.Bytes()
	hdr := make([]byte, 20, 20+len(ob)+len(acl))
	hdr[0] = sdRevision
	binary.LittleEndian.PutUint16(hdr[2:], sdSelfRelative|sdDACLPresent)
	binary.LittleEndian.PutUint32(hdr[4:], 20)
	binary.LittleEndian.PutUint32(hdr[16:], uint32(20+len(ob)))
	return append(append(hdr, ob...), acl...), nil
}

// AllowedSIDs lists the SIDs of the allow ACEs of the DACL, in order (what
// PrincipalsAllowedToRetrieveManagedPassword shows).
func (sd *SecurityDescriptor) AllowedSIDs() []string {
	var out []string
	for _, a := range sd.DACL {
		if a.Type == aceAllowed || a.Type == aceAllowedObject {
			out = append(out, a.SID.String())
		}
	}
	return out
}
