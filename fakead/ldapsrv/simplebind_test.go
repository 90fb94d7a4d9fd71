package ldapsrv

import (
	"bytes"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	goldap "github.com/lor00x/goldap/message"
)

// sameAsGoldap checks parseSimpleBind against goldap on pdu: whatever it accepts, goldap decodes
// to the same message, a simple bind without controls. It reports whether it accepted.
func sameAsGoldap(t testing.TB, pdu []byte) bool {
	t.Helper()
	id, b, ok := parseSimpleBind(pdu)
	if !ok {
		return false
	}
	m := goldapDecode(pdu)
	if m == nil {
		t.Fatalf("parseSimpleBind accepts %x, goldap does not", pdu)
	}
	br, isBind := m.ProtocolOp().(goldap.BindRequest)
	if !isBind || br.AuthenticationChoice() != "simple" || m.Controls() != nil {
		t.Fatalf("parseSimpleBind accepts %x, goldap reads %T (controls %v)", pdu, m.ProtocolOp(), m.Controls() != nil)
	}
	v, err := bindVersion(br)
	if err != nil || m.MessageID().Int() != id || v != b.version || string(br.Name()) != b.name ||
		string(br.AuthenticationSimple()) != b.password {
		t.Fatalf("%x: parseSimpleBind %d %+v, goldap %d v%d %q %q", pdu, id, b, m.MessageID().Int(), v, br.Name(), br.AuthenticationSimple())
	}
	return true
}

// simpleBindBER encodes a simple bind as go-ldap does (go-asn1-ber).
func simpleBindBER(id, version int64, name, pw string) []byte {
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, ""))
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 0, nil, "")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, version, ""))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, name, ""))
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, pw, ""))
	p.AppendChild(op)
	return p.Bytes()
}

// TestSimpleBindDecoding: the simple binds clients send (go-ldap's, captured and generated, with
// message IDs and field lengths across the encoding boundaries) take the hand-written decoder
// and agree with goldap; what it must leave to goldap (controls, SASL, odd encodings, trailing
// bytes) it refuses.
func TestSimpleBindDecoding(t *testing.T) {
	accepted := 0
	for _, h := range capturedGoLDAP {
		pdu := unhex(h)
		simple := false
		if m := goldapDecode(pdu); m != nil {
			br, isBind := m.ProtocolOp().(goldap.BindRequest)
			simple = isBind && br.AuthenticationChoice() == "simple" && m.Controls() == nil
		}
		if got := sameAsGoldap(t, pdu); got != simple {
			t.Errorf("captured go-ldap PDU %s: accepted %v, want %v", h, got, simple)
		}
		if simple {
			accepted++
		}
	}
	if accepted == 0 {
		t.Fatal("no captured go-ldap simple bind")
	}
	for _, id := range []int64{0, 1, 127, 128, 255, 256, 32767, 32768, 8388607, 8388608, 2147483647} {
		for _, n := range []int{0, 1, 100, 127, 128, 255, 256, 1000, 65535, 65536, 70000} {
			name, pw := string(bytes.Repeat([]byte{'n'}, n)), string(bytes.Repeat([]byte{'p'}, n/2))
			for _, v := range []int64{1, 2, 3, 127} {
				pdu := simpleBindBER(id, v, name, pw)
				if !sameAsGoldap(t, pdu) {
					t.Fatalf("a go-ldap simple bind (id %d, version %d, %d-byte name) is not accepted", id, v, n)
				}
			}
		}
	}
	withControl := ber.DecodePacket(simpleBindBER(1, 3, "a", "b"))
	ctls := ber.Encode(ber.ClassContext, ber.TypeConstructed, 0, nil, "")
	ctl := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	ctl.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "1.2.840.113556.1.4.319", ""))
	ctls.AppendChild(ctl)
	withControl.AppendChild(ctls)
	sasl := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	sasl.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 1, ""))
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 0, nil, "")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 3, ""))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", ""))
	creds := ber.Encode(ber.ClassContext, ber.TypeConstructed, 3, nil, "")
	creds.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "GSSAPI", ""))
	op.AppendChild(creds)
	sasl.AppendChild(op)
	refuse := map[string][]byte{
		"long-form lengths": unhex("30840000001002010760840000000702010304008000"),
		"trailing bytes":    append(simpleBindBER(1, 3, "a", "b"), 0x00),
		"version 0":         simpleBindBER(1, 0, "a", "b"),
		"version 128":       simpleBindBER(1, 128, "a", "b"),
		"negative id":       unhex("300c0201ff600702010304008000"),
		"non-minimal id":    unhex("300d020200016007020103040080" + "00"),
		"sasl":              sasl.Bytes(),
		"controls":          withControl.Bytes(),
		"wrong outer tag":   unhex("310c020101600702010304008000"),
		"sicily discovery":  unhex("300c020105600702010304008900"),
	}
	for _, what := range []string{"sasl", "controls"} { // well-formed requests, not ours to decode
		if goldapDecode(refuse[what]) == nil {
			t.Errorf("%s (%x): goldap does not decode the sample", what, refuse[what])
		}
	}
	for what, pdu := range refuse {
		if _, _, ok := parseSimpleBind(pdu); ok {
			t.Errorf("%s (%x) accepted", what, pdu)
		}
	}
}

// FuzzSimpleBind: whatever parseSimpleBind accepts, goldap decodes to the same simple bind.
func FuzzSimpleBind(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Add(simpleBindBER(128, 3, "CN=Administrator,CN=Users,DC=contoso,DC=com", "Passw0rd!"))
	f.Add(simpleBindBER(300, 2, string(make([]byte, 200)), ""))
	f.Fuzz(func(t *testing.T, pdu []byte) { sameAsGoldap(t, pdu) })
}
