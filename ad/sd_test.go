package ad

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// The descriptor New-ADServiceAccount writes for one principal, laid out by hand from [MS-DTYP]
// 2.4.6 (header), 2.4.2.2 (SID), 2.4.5 (ACL) and 2.4.4.2 (ACCESS_ALLOWED_ACE).
func TestGMSAMembershipLayout(t *testing.T) {
	sd := GMSAMembership(MustParseSID("S-1-5-21-1004336348-1177238915-682003330-1105"))
	want := "01000480" + "14000000" + "00000000" + "00000000" + "24000000" + // rev, sbz, control 0x8004, owner@20, group, sacl, dacl@36
		"01020000000000052000000020020000" + // owner S-1-5-32-544
		"02002c00" + "01000000" + // ACL rev 2, size 44, 1 ACE, sbz2
		"00002400" + "ff010f00" + // ACCESS_ALLOWED, flags 0, size 36, mask 0xf01ff
		"010500000000000515000000dcf4dc3b833d2b46828ba628" + "51040000" // the SID
	if got := hex.EncodeToString(sd); got != want {
		t.Errorf("descriptor\n got %s\nwant %s", got, want)
	}
	// O:S-1-5-32-544 D:(A;;0xf01ff;;;S-1-5-21-1-2-3-1105)(A;;0xf01ff;;;S-1-5-21-1-2-3-1106)
	two, err := GMSAMembershipSD("S-1-5-21-1-2-3-1105", "S-1-5-21-1-2-3-1106")
	if err != nil {
		t.Fatal(err)
	}
	want = "0100048014000000000000000000000024000000" + // header: owner at 20, DACL at 36
		"01020000000000052000000020020000" + // S-1-5-32-544
		"020050000200000000002400ff010f00010500000000000515000000010000000200000003000000510400000000" +
		"2400ff010f0001050000000000051500000001000000020000000300000052040000"
	if got := hex.EncodeToString(two); got != want {
		t.Errorf("GMSAMembershipSD\n got %s\nwant %s", got, want)
	}
	if _, err := GMSAMembershipSD("S-1-5-21-1-2-3-1105", "alice"); !errors.Is(err, ErrMalformed) {
		t.Errorf("a bad SID: %v", err)
	}
}

func TestParseGMSAMembership(t *testing.T) {
	sids := []string{"S-1-5-21-1-2-3-1105", "S-1-5-21-1-2-3-1106", "S-1-5-32-544"}
	sd, _ := GMSAMembershipSD(sids...)
	p, err := ParseSecurityDescriptor(sd)
	if err != nil {
		t.Fatal(err)
	}
	if p.Owner == nil || p.Owner.String() != SIDBuiltinAdministrators || p.Group != nil || !p.HasDACL ||
		len(p.DACL) != 3 || p.DACL[1].Mask != GMSAMembershipMask || p.DACL[1].Type != ACEAccessAllowed {
		t.Errorf("parsed %+v", p)
	}
	var got []string
	for _, s := range p.AllowedSIDs() {
		got = append(got, s.String())
	}
	if strings.Join(got, ",") != strings.Join(sids, ",") {
		t.Errorf("AllowedSIDs %v", got)
	}
	if !p.AccessAllowed([]string{"S-1-5-11", "S-1-5-21-1-2-3-1106"}, RightReadProperty) ||
		p.AccessAllowed([]string{"S-1-5-11", "S-1-5-21-1-2-3-1107"}, RightReadProperty) {
		t.Errorf("AccessAllowed disagrees with the DACL")
	}
	for n := 0; n < len(sd); n++ {
		if _, err := ParseSecurityDescriptor(sd[:n]); err == nil {
			t.Errorf("truncated to %d bytes parsed", n)
		}
	}
}

// GmsaSD() of [MS-ADTS] 3.1.1.4.5.39, O:SYD:(A;;FRFW;;;S-1-5-9), the exact bytes Windows feeds the
// GKDI seed-key derivation (shared/notes/gkdi.md (c); Samba lib/crypto/gmsa.c).
func TestParseGmsaSD(t *testing.T) {
	raw, _ := hex.DecodeString("010004803000000000000000000000001400000002001c0001000000000014009f011200010100000000000509000000010100000000000512000000")
	p, err := ParseSecurityDescriptor(raw)
	if err != nil {
		t.Fatal(err)
	}
	if p.Owner == nil || p.Owner.String() != SIDLocalSystem || len(p.DACL) != 1 ||
		p.DACL[0].Mask != 0x0012019F || p.DACL[0].SID.String() != SIDEnterpriseDCs {
		t.Errorf("parsed %+v", p)
	}
	if !p.AccessAllowed([]string{SIDEnterpriseDCs}, RightReadProperty) || p.AccessAllowed([]string{SIDAuthenticatedUsers}, RightReadProperty) {
		t.Errorf("GmsaSD grants read to the enterprise DCs only")
	}
}

// ace encodes one ACE; guid, when set, makes it an object ACE naming that property.
func ace(typ, flags byte, mask uint32, sid string, guid *GUID) []byte {
	body := binary.LittleEndian.AppendUint32(nil, mask)
	if guid != nil {
		body = binary.LittleEndian.AppendUint32(body, aceObjectTypeSet)
		body = append(body, guid[:]...)
	}
	body = append(body, MustParseSID(sid).Bytes()...)
	b := []byte{typ, flags}
	b = binary.LittleEndian.AppendUint16(b, uint16(4+len(body)))
	return append(b, body...)
}

// descriptor wraps ACEs in a self-relative descriptor without owner.
func descriptor(aces ...[]byte) []byte {
	var body []byte
	for _, a := range aces {
		body = append(body, a...)
	}
	b := make([]byte, 20)
	b[0] = 1
	binary.LittleEndian.PutUint16(b[2:], sdSelfRelative|sdDACLPresent)
	binary.LittleEndian.PutUint32(b[16:], 20)
	b = append(b, aclRevisionDS, 0)
	b = binary.LittleEndian.AppendUint16(b, uint16(8+len(body)))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(aces)))
	b = append(b, 0, 0)
	return append(b, body...)
}

func TestAccessAllowed(t *testing.T) {
	const alice, group, everyone = "S-1-5-21-1-2-3-1105", "S-1-5-21-1-2-3-1200", "S-1-1-0"
	other := MustParseGUID("bf967950-0de6-11d0-a285-00aa003049e2") // description
	pw := SchemaIDManagedPassword
	token := []string{alice, group, everyone}
	for _, c := range []struct {
		name string
		sd   []byte
		want bool
	}{
		{"allow the user", descriptor(ace(ACEAccessAllowed, 0, RightReadProperty, alice, nil)), true},
		{"allow a group of the token", descriptor(ace(ACEAccessAllowed, 0, GMSAMembershipMask, group, nil)), true},
		{"allow someone else", descriptor(ace(ACEAccessAllowed, 0, GMSAMembershipMask, "S-1-5-21-1-2-3-9", nil)), false},
		{"allow without read-property", descriptor(ace(ACEAccessAllowed, 0, 0x20, alice, nil)), false},
		{"generic read", descriptor(ace(ACEAccessAllowed, 0, genericRead, alice, nil)), true},
		{"generic all", descriptor(ace(ACEAccessAllowed, 0, genericAll, alice, nil)), true},
		{"deny first wins", descriptor(ace(ACEAccessDenied, 0, RightReadProperty, everyone, nil), ace(ACEAccessAllowed, 0, RightReadProperty, alice, nil)), false},
		{"allow first wins", descriptor(ace(ACEAccessAllowed, 0, RightReadProperty, alice, nil), ace(ACEAccessDenied, 0, RightReadProperty, everyone, nil)), true},
		{"inherit-only skipped", descriptor(ace(ACEAccessAllowed, aceInheritOnly, RightReadProperty, alice, nil)), false},
		{"object ACE for the password", descriptor(ace(ACEAccessAllowedObject, 0, RightReadProperty, alice, &pw)), true},
		{"object ACE for another property", descriptor(ace(ACEAccessAllowedObject, 0, RightReadProperty, alice, &other)), false},
		{"object deny for the password", descriptor(ace(ACEAccessDeniedObject, 0, RightReadProperty, alice, &pw), ace(ACEAccessAllowed, 0, RightReadProperty, alice, nil)), false},
		{"empty DACL", descriptor(), false},
		{"audit ACE skipped", descriptor(ace(0x02, 0, RightReadProperty, alice, nil)), false},
	} {
		p, err := ParseSecurityDescriptor(c.sd)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got := p.AccessAllowed(token, RightReadProperty); got != c.want {
			t.Errorf("%s: AccessAllowed = %v, want %v", c.name, got, c.want)
		}
	}
	// No DACL at all, and a NULL DACL: everyone is allowed.
	noDACL := []byte{1, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	nullDACL := []byte{1, 0, 4, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	for _, b := range [][]byte{noDACL, nullDACL} {
		p, err := ParseSecurityDescriptor(b)
		if err != nil || !p.AccessAllowed(token, RightReadProperty) || p.AllowedSIDs() != nil {
			t.Errorf("%x: %+v %v", b, p, err)
		}
	}
}

func TestParseSecurityDescriptorRejects(t *testing.T) {
	good := GMSAMembership(MustParseSID("S-1-5-21-1-2-3-1105"))
	mod := func(f func(b []byte)) []byte {
		b := append([]byte(nil), good...)
		f(b)
		return b
	}
	for name, b := range map[string][]byte{
		"revision 2":        mod(func(b []byte) { b[0] = 2 }),
		"not self-relative": mod(func(b []byte) { b[3] = 0 }),
		"owner offset":      mod(func(b []byte) { b[4] = 200 }),
		"DACL offset":       mod(func(b []byte) { b[16] = 200 }),
		"ACL revision":      mod(func(b []byte) { b[36] = 3 }),
		"ACL size":          mod(func(b []byte) { b[38] = 200 }),
		"ACE count":         mod(func(b []byte) { b[40] = 2 }),
		"ACE size":          mod(func(b []byte) { b[46] = 13 }),
		"ACE SID count":     mod(func(b []byte) { b[53] = 9 }),
	} {
		if _, err := ParseSecurityDescriptor(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

func FuzzParseSecurityDescriptor(f *testing.F) {
	f.Add(GMSAMembership(MustParseSID("S-1-5-21-1-2-3-1105")))
	f.Add([]byte{1, 0, 4, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 2, 0, 8, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseSecurityDescriptor(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		p.AccessAllowed([]string{"S-1-5-11"}, RightReadProperty)
		_ = GMSAMembership(p.AllowedSIDs()...)
	})
}
