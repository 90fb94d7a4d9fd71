package ldapsrv

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	goldap "github.com/lor00x/goldap/message"
	"github.com/vjeantet/ldapserver"

	"github.com/gmsasim/gmsasim/fakead"
)

// These tests pin the goldap/vjeantet internals goldapx.go depends on. If one fails after a
// dependency change, the reflection and unsafe code in goldapx.go must be revisited.

func decodeReq(t *testing.T, hex []byte) goldap.ProtocolOp {
	t.Helper()
	out, _, err := preparePDU(hex)
	if err != nil {
		t.Fatalf("preparePDU: %v", err)
	}
	m, err := goldap.ReadLDAPMessage(goldap.NewBytes(0, out))
	if err != nil {
		t.Fatalf("goldap: %v", err)
	}
	return m.ProtocolOp()
}

func TestPinModifyDNFields(t *testing.T) {
	// modDN "cn=a,dc=x" → "cn=b", deleteOldRDN TRUE (0x01, as go-asn1-ber writes it), newSuperior "dc=y".
	pdu := berSeq(classUniversal, tagSequence, berInt(classUniversal, tagInteger, 2),
		berSeq(classApplication, opModifyDN, berString("cn=a,dc=x"), berString("cn=b"),
			[]byte{0x01, 0x01, 0x01}, berOctets(classContext, 0, []byte("dc=y"))))
	op, ok := decodeReq(t, pdu).(goldap.ModifyDNRequest)
	if !ok {
		t.Fatal("not a ModifyDNRequest")
	}
	dn, rdn, del, sup, err := modifyDNFields(op)
	if err != nil || dn != "cn=a,dc=x" || rdn != "cn=b" || !del || sup != "dc=y" {
		t.Fatalf("modifyDNFields = %q %q %v %q %v", dn, rdn, del, sup, err)
	}
}

func TestPinExtensibleBindAndSASL(t *testing.T) {
	// (uac:1.2.840.113556.1.4.803:=2) without dnAttributes, as go-ldap and ldapsearch send it.
	ext := berSeq(classContext, filterTagExt,
		berOctets(classContext, 1, []byte(fakead.MatchBitAnd)),
		berOctets(classContext, 2, []byte("uac")),
		berOctets(classContext, 3, []byte("2")))
	pdu := berSeq(classUniversal, tagSequence, berInt(classUniversal, tagInteger, 3),
		berSeq(classApplication, opSearch, berString("dc=x"), berInt(classUniversal, tagEnumerated, 2),
			berInt(classUniversal, tagEnumerated, 0), berInt(classUniversal, tagInteger, 0),
			berInt(classUniversal, tagInteger, 0), berBool(false), ext, berSeq(classUniversal, tagSequence)))
	sr, ok := decodeReq(t, pdu).(goldap.SearchRequest)
	if !ok {
		t.Fatal("not a SearchRequest")
	}
	f, err := convertFilter(sr.Filter())
	want := fakead.FilterExtensible{Rule: fakead.MatchBitAnd, Attr: "uac", Value: []byte("2")}
	if err != nil || !reflect.DeepEqual(f, want) {
		t.Fatalf("filter = %#v, %v", f, err)
	}

	sasl := berSeq(classUniversal, tagSequence, berInt(classUniversal, tagInteger, 4),
		berSeq(classApplication, opBind, berInt(classUniversal, tagInteger, 3), berString(""),
			berSeq(classContext, 3, berString("GSS-SPNEGO"), berString("token"))))
	br, ok := decodeReq(t, sasl).(goldap.BindRequest)
	if !ok {
		t.Fatal("not a BindRequest")
	}
	mech, err := saslMechanism(br)
	if err != nil || mech != "GSS-SPNEGO" {
		t.Fatalf("saslMechanism = %q, %v", mech, err)
	}
	v, err := bindVersion(br)
	if err != nil || v != 3 {
		t.Fatalf("bindVersion = %d, %v", v, err)
	}
}

// stubBackend answers every search with one entry.
type stubBackend struct{ Backend }

func (stubBackend) Bind(bool, string, string) (fakead.Caller, error) { return fakead.Caller{}, nil }
func (stubBackend) Search(fakead.Caller, *fakead.SearchRequest) ([]fakead.SearchEntry, error) {
	return []fakead.SearchEntry{{DN: "dc=x"}, {DN: "dc=y"}}, nil
}

// TestPinResponseWriterChanOut checks the library's ResponseWriter still carries chanOut of the
// expected type, which the paged-results cookie depends on.
func TestPinResponseWriterChanOut(t *testing.T) {
	var mu sync.Mutex
	var seen []error
	s := New(stubBackend{}, Options{})
	s.testHookWriter = func(w ldapserver.ResponseWriter) {
		_, err := outChannel(w)
		mu.Lock()
		seen = append(seen, err)
		mu.Unlock()
	}
	if err := s.ListenLDAP("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := ldap.DialURL("ldap://" + s.LDAPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetTimeout(10 * time.Second)
	res, err := c.SearchWithPaging(ldap.NewSearchRequest("dc=x", 2, 0, 0, 0, false, "(objectClass=*)", nil, nil), 1)
	if err != nil || len(res.Entries) != 2 {
		t.Fatalf("paged search through the chanOut route: %+v, %v", res, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) == 0 {
		t.Fatal("hook never called")
	}
	for _, err := range seen {
		if err != nil {
			t.Fatalf("vjeantet/ldapserver's ResponseWriter changed: %v", err)
		}
	}
}

func TestPinGoldapFieldTypes(t *testing.T) {
	for _, c := range []struct {
		typ   reflect.Type
		field string
		kind  reflect.Kind
	}{
		{reflect.TypeOf(goldap.ModifyDNRequest{}), "entry", reflect.String},
		{reflect.TypeOf(goldap.ModifyDNRequest{}), "newrdn", reflect.String},
		{reflect.TypeOf(goldap.ModifyDNRequest{}), "deleteoldrdn", reflect.Bool},
		{reflect.TypeOf(goldap.ModifyDNRequest{}), "newSuperior", reflect.Pointer},
		{reflect.TypeOf(goldap.FilterExtensibleMatch{}), "matchingRule", reflect.Pointer},
		{reflect.TypeOf(goldap.FilterExtensibleMatch{}), "type_", reflect.Pointer},
		{reflect.TypeOf(goldap.FilterExtensibleMatch{}), "matchValue", reflect.String},
		{reflect.TypeOf(goldap.FilterExtensibleMatch{}), "dnAttributes", reflect.Bool},
		{reflect.TypeOf(goldap.SaslCredentials{}), "mechanism", reflect.String},
		{reflect.TypeOf(goldap.BindRequest{}), "version", reflect.Int32},
	} {
		f, ok := c.typ.FieldByName(c.field)
		if !ok || f.Type.Kind() != c.kind {
			t.Errorf("goldap %s.%s: present=%v kind=%v, want %v", c.typ, c.field, ok, f.Type, c.kind)
		}
	}
}
