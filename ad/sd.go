package ad

import (
	"encoding/binary"
	"strings"
)

// msDS-GroupMSAMembership is a binary self-relative security descriptor ([MS-DTYP] 2.4.6). The AD
// module writes "O:S-1-5-32-544D:(A;;0xf01ff;;;<SID>)..." for
// -PrincipalsAllowedToRetrieveManagedPassword: owner BUILTIN\Administrators and one ACCESS_ALLOWED
// ACE per principal. The DC reads its DACL to decide who may read msDS-ManagedPassword
// ([MS-ADTS] 3.1.1.4.5.39).

// Access rights ([MS-ADTS] 5.1.3.2, [MS-DTYP] 2.4.3).
const (
	// RightReadProperty is ADS_RIGHT_DS_READ_PROP (RP): what reading msDS-ManagedPassword needs.
	RightReadProperty = 0x10
	// GMSAMembershipMask is the access mask the AD module grants each principal (0xf01ff: every
	// standard and directory-specific right).
	GMSAMembershipMask = 0x000F01FF
	genericAll         = 0x10000000
	genericRead        = 0x80000000
)

// ACE types ([MS-DTYP] 2.4.4.1).
const (
	ACEAccessAllowed       = 0x00
	ACEAccessDenied        = 0x01
	ACEAccessAllowedObject = 0x05
	ACEAccessDeniedObject  = 0x06
)

// Security descriptor layout constants ([MS-DTYP] 2.4.6, 2.4.5, 2.4.4.1).
const (
	sdRevision       = 1
	sdHeaderSize     = 20
	sdSelfRelative   = 0x8000
	sdDACLPresent    = 0x0004
	aclRevision      = 2
	aclRevisionDS    = 4
	aceInheritOnly   = 0x08
	aceObjectTypeSet = 0x1
	aceInheritedSet  = 0x2
)

// SchemaIDManagedPassword is msDS-ManagedPassword's schemaIDGUID: an object ACE naming it grants or
// denies the read of the password.
var SchemaIDManagedPassword = MustParseGUID("e362ed86-b728-0842-b27d-2dea7a9df218")

// SecurityDescriptor is a parsed self-relative security descriptor. HasDACL is false when
// SE_DACL_PRESENT is clear; DACL is nil for a NULL DACL (both allow everyone) and an empty non-nil
// slice for a DACL with no ACEs (nobody is allowed).
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
	return syntaxErr("security descriptor", "", format, args...)
}

// GMSAMembership builds msDS-GroupMSAMembership as the AD module writes it for
// -PrincipalsAllowedToRetrieveManagedPassword: "O:S-1-5-32-544D:(A;;0xf01ff;;;SID)...", laid out
// as .NET's RawSecurityDescriptor.GetBinaryForm does: header, owner, then a DACL of one
// ACCESS_ALLOWED_ACE per principal, in the order given.
func GMSAMembership(principals ...SID) []byte {
	owner := MustParseSID(SIDBuiltinAdministrators).Bytes()
	aclSize := 8
	for _, p := range principals {
		aclSize += 8 + 8 + 4*len(p.SubAuthority)
	}
	b := make([]byte, sdHeaderSize, sdHeaderSize+len(owner)+aclSize)
	b[0] = sdRevision
	binary.LittleEndian.PutUint16(b[2:], sdSelfRelative|sdDACLPresent)
	binary.LittleEndian.PutUint32(b[4:], sdHeaderSize)                     // owner
	binary.LittleEndian.PutUint32(b[16:], uint32(sdHeaderSize+len(owner))) // DACL
	b = append(b, owner...)
	b = append(b, aclRevision, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(aclSize))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(principals)))
	b = append(b, 0, 0)
	for _, p := range principals {
		sid := p.Bytes()
		b = append(b, ACEAccessAllowed, 0)
		b = binary.LittleEndian.AppendUint16(b, uint16(8+len(sid)))
		b = binary.LittleEndian.AppendUint32(b, GMSAMembershipMask)
		b = append(b, sid...)
	}
	return b
}

// GMSAMembershipSD is GMSAMembership for SIDs in string form.
func GMSAMembershipSD(sids ...string) ([]byte, error) {
	parsed := make([]SID, len(sids))
	for i, s := range sids {
		var err error
		if parsed[i], err = ParseSID(s); err != nil {
			return nil, err
		}
	}
	return GMSAMembership(parsed...), nil
}

// ParseSecurityDescriptor parses and validates a self-relative security descriptor: revision 1,
// SE_SELF_RELATIVE set, every offset and length inside the buffer, ACL revision 2 or 4, ACE sizes
// consistent, SIDs well formed. Errors wrap ErrMalformed. It never panics on bad input.
func ParseSecurityDescriptor(b []byte) (*SecurityDescriptor, error) {
	if len(b) < sdHeaderSize {
		return nil, sdErr("%d bytes, shorter than the 20-byte header", len(b))
	}
	if b[0] != sdRevision {
		return nil, sdErr("revision %d, want 1", b[0])
	}
	sd := &SecurityDescriptor{Control: binary.LittleEndian.Uint16(b[2:])}
	if sd.Control&sdSelfRelative == 0 {
		return nil, sdErr("control 0x%04x lacks SE_SELF_RELATIVE", sd.Control)
	}
	var err error
	if sd.Owner, err = sidAt(b, "owner", binary.LittleEndian.Uint32(b[4:])); err != nil {
		return nil, err
	}
	if sd.Group, err = sidAt(b, "group", binary.LittleEndian.Uint32(b[8:])); err != nil {
		return nil, err
	}
	if sd.Control&sdDACLPresent == 0 {
		return sd, nil
	}
	sd.HasDACL = true
	offDACL := binary.LittleEndian.Uint32(b[16:])
	if offDACL == 0 {
		return sd, nil // a present but NULL DACL: everyone is allowed
	}
	if offDACL < sdHeaderSize || uint64(offDACL)+8 > uint64(len(b)) {
		return nil, sdErr("DACL offset %d outside %d bytes", offDACL, len(b))
	}
	if sd.DACL, err = parseACL(b[offDACL:]); err != nil {
		return nil, err
	}
	return sd, nil
}

// sidAt reads the SID at off of a descriptor (nil when off is 0).
func sidAt(b []byte, what string, off uint32) (*SID, error) {
	if off == 0 {
		return nil, nil
	}
	if off < sdHeaderSize || uint64(off)+8 > uint64(len(b)) {
		return nil, sdErr("%s offset %d outside %d bytes", what, off, len(b))
	}
	s, _, err := ReadSID(b[off:])
	if err != nil {
		return nil, sdErr("%s SID: %v", what, err)
	}
	return &s, nil
}

// parseACL reads the ACEs of an ACL; it returns a non-nil slice.
func parseACL(acl []byte) ([]ACE, error) {
	if acl[0] != aclRevision && acl[0] != aclRevisionDS {
		return nil, sdErr("ACL revision %d, want 2 or 4", acl[0])
	}
	size := int(binary.LittleEndian.Uint16(acl[2:]))
	count := int(binary.LittleEndian.Uint16(acl[4:]))
	if size < 8 || size > len(acl) {
		return nil, sdErr("ACL size %d, %d bytes available", size, len(acl))
	}
	out := []ACE{}
	p := 8
	for i := 0; i < count; i++ {
		if p+8 > size {
			return nil, sdErr("ACE %d starts past the ACL's %d bytes", i, size)
		}
		n := int(binary.LittleEndian.Uint16(acl[p+2:]))
		if n < 12 || n%4 != 0 || p+n > size {
			return nil, sdErr("ACE %d size %d invalid", i, n)
		}
		a, ok, err := parseACE(acl[p:p+n], i)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, a)
		}
		p += n
	}
	return out, nil
}

// parseACE reads one ACE of n bytes; ok is false for ACE types that neither grant nor deny
// (audit, callback, ...), which are skipped.
func parseACE(ace []byte, i int) (ACE, bool, error) {
	a := ACE{Type: ace[0], Flags: ace[1]}
	body := ace[4:]
	a.Mask = binary.LittleEndian.Uint32(body)
	sidOff := 4
	switch a.Type {
	case ACEAccessAllowed, ACEAccessDenied:
	case ACEAccessAllowedObject, ACEAccessDeniedObject:
		if len(body) < 8 {
			return a, false, sdErr("object ACE %d too short", i)
		}
		flags := binary.LittleEndian.Uint32(body[4:])
		sidOff = 8
		if flags&aceObjectTypeSet != 0 {
			if len(body) < sidOff+16 {
				return a, false, sdErr("object ACE %d too short for its object type", i)
			}
			g, _ := GUIDFromWire(body[sidOff : sidOff+16])
			a.ObjectType = &g
			sidOff += 16
		}
		if flags&aceInheritedSet != 0 {
			sidOff += 16
		}
	default:
		return a, false, nil
	}
	if len(body) < sidOff+8 {
		return a, false, sdErr("ACE %d has no room for its SID", i)
	}
	sid, _, err := ReadSID(body[sidOff:])
	if err != nil {
		return a, false, sdErr("ACE %d SID: %v", i, err)
	}
	a.SID = sid
	return a, true, nil
}

// AccessAllowed evaluates the DACL for a token of SIDs in string form ([MS-DTYP] 2.5.3.2,
// simplified): ACEs in order, inherit-only ACEs skipped; a deny ACE naming a token SID and any
// wanted bit not yet granted denies; allow ACEs accumulate granted bits until every wanted bit is
// granted. A missing or NULL DACL allows everything. GENERIC_ALL and GENERIC_READ grant
// read-property.
// Divergence: the model does not resolve property sets; an object ACE applies only when it names
// msDS-ManagedPassword itself (SchemaIDManagedPassword), and is ignored otherwise.
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
		if a.ObjectType != nil && *a.ObjectType != SchemaIDManagedPassword {
			continue
		}
		mask := a.Mask
		if mask&(genericAll|genericRead) != 0 {
			mask |= RightReadProperty
		}
		switch a.Type {
		case ACEAccessDenied, ACEAccessDeniedObject:
			if mask&wanted&^granted != 0 {
				return false
			}
		case ACEAccessAllowed, ACEAccessAllowedObject:
			granted |= mask & wanted
			if granted == wanted {
				return true
			}
		}
	}
	return false
}

// AllowedSIDs lists the SIDs of the allow ACEs of the DACL, in order (what
// PrincipalsAllowedToRetrieveManagedPassword shows).
func (sd *SecurityDescriptor) AllowedSIDs() []SID {
	var out []SID
	for _, a := range sd.DACL {
		if a.Type == ACEAccessAllowed || a.Type == ACEAccessAllowedObject {
			out = append(out, a.SID)
		}
	}
	return out
}
