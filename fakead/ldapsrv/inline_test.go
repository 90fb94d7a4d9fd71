package ldapsrv_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
)

// Requests answered on the reading goroutine (inline.go) must get the very bytes the library's
// path sends: the same requests, pipelined in one write, against two servers over identical
// backends, one of them sending everything through the library.

// rawStream sends b on a fresh connection and returns every byte the server sends until it closes
// (b ends with an unbind).
func rawStream(t *testing.T, addr string, b []byte) []byte {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(clientTimeout))
	out, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading the answers: %v (%d bytes so far)", err, len(out))
	}
	return out
}

func envelope(id int64, op *ber.Packet) []byte {
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAPMessage")
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, "messageID"))
	p.AppendChild(op)
	return p.Bytes()
}

func bindVersionPDU(id int64, version int64, name, pw string) []byte {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 0, nil, "BindRequest")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, version, "version"))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, name, "name"))
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, pw, "simple"))
	return envelope(id, op)
}

func searchReqPDU(t *testing.T, id int64, base string, scope, sizeLimit int64, typesOnly bool, filter string, attrs []string) []byte {
	t.Helper()
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 3, nil, "SearchRequest")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, base, "base"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, scope, "scope"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, 0, "derefAliases"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, sizeLimit, "sizeLimit"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 0, "timeLimit"))
	op.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, typesOnly, "typesOnly"))
	f, err := ldap.CompileFilter(filter)
	if err != nil {
		t.Fatalf("filter %s: %v", filter, err)
	}
	op.AppendChild(f)
	al := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attributes")
	for _, a := range attrs {
		al.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a, "attribute"))
	}
	op.AppendChild(al)
	return envelope(id, op)
}

// inlineCorpus is a deterministic mix of simple binds and searches, message IDs crossing 128
// (goldap's sign-octet bug) and 32768. It returns the PDUs and how many there are.
func inlineCorpus(t *testing.T, seed uint64, n int) ([]byte, int) {
	r := rand.New(rand.NewPCG(seed, 0))
	names := []string{adminDN, `CONTOSO\alice`, "alice@contoso.com", "CN=bob,CN=Users," + baseDN, "CN=nobody," + baseDN, "", "not a dn"}
	pws := []string{adminPW, "alice-pw", "bob-pw", "wrong", ""}
	bases := []string{baseDN, "CN=Users," + baseDN, "CN=Computers," + baseDN, adminDN, "CN=WEB3,CN=Computers," + baseDN,
		"CN=missing," + baseDN, "", "DC=fabrikam,DC=com", "not a dn"}
	filters := []string{"(objectClass=*)", "(sAMAccountName=alice)", "(cn=WEB*)", "(&(objectClass=computer)(cn=WEB2))",
		"(|(cn=alice)(cn=bob))", "(!(objectClass=user))", "(userAccountControl>=1000)", "(cn=*e*)",
		"(msDS-ManagedPassword=secret-alice)", "(objectSid=\\01\\05\\00\\00\\00\\00\\00\\05\\15\\00\\00\\00\\ff\\00\\04)"}
	attrLists := [][]string{nil, {"cn"}, {"cn", "sAMAccountName"}, {"*"}, {"1.1"}, {"objectSid", "userAccountControl"},
		{"msDS-ManagedPassword"}, {"nosuchattr"}}
	var out bytes.Buffer
	id := int64(100)
	for i := 0; i < n; i++ {
		id += int64(1 + r.IntN(3))
		if i == n/2 {
			id = 32760
		}
		if r.IntN(3) == 0 {
			version := int64(3)
			if r.IntN(8) == 0 {
				version = []int64{2, 4}[r.IntN(2)]
			}
			out.Write(bindVersionPDU(id, version, names[r.IntN(len(names))], pws[r.IntN(len(pws))]))
			continue
		}
		out.Write(searchReqPDU(t, id, bases[r.IntN(len(bases))], int64(r.IntN(3)), int64(r.IntN(4)), r.IntN(6) == 0,
			filters[r.IntN(len(filters))], attrLists[r.IntN(len(attrLists))]))
	}
	return out.Bytes(), n
}

func TestInlineAnswersLikeTheLibrary(t *testing.T) {
	inline := startMem(t)
	lib := ldapsrv.New(newMemBackend(), ldapsrv.Options{})
	ldapsrv.NoInline(lib)
	if err := lib.ListenLDAP("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lib.Close() })
	unbind := hexPDU("30 05 02 01 01 42 00")
	total := 0
	for seed := uint64(1); seed <= 12; seed++ {
		reqs, n := inlineCorpus(t, seed, 60)
		total += n
		in := append(append([]byte(nil), reqs...), unbind...)
		got := rawStream(t, inline.srv.LDAPAddr().String(), in)
		want := rawStream(t, lib.LDAPAddr().String(), in)
		if !bytes.Equal(got, want) {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			t.Fatalf("seed %d: inline answers differ from the library's at byte %d of %d/%d:\ninline  %x\nlibrary %x",
				seed, i, len(got), len(want), got[i:min(len(got), i+48)], want[i:min(len(want), i+48)])
		}
		if len(got) < n*10 {
			t.Fatalf("seed %d: %d bytes of answers to %d requests", seed, len(got), n)
		}
	}
	if got := ldapsrv.Inlined(inline.srv); got != total {
		t.Errorf("inline server answered %d of %d requests inline", got, total)
	}
	if got := ldapsrv.Inlined(lib); got != 0 {
		t.Errorf("library-only server answered %d requests inline", got)
	}
}

// TestInlineOnlyWhenQuiet: a request with controls, a SASL bind or an extended operation goes
// through the library, and a simple bind pipelined right behind it waits its turn there too
// (the answers stay in order).
func TestInlineOnlyWhenQuiet(t *testing.T) {
	f := startMem(t)
	who := hexPDU("30 1e 02 01 03 77 19 80 17 31 2e 33 2e 36 2e 31 2e 34 2e 31 2e 34 32 30 33 2e 31 2e 31 31 2e 33")
	var in []byte
	for i := int64(0); i < 20; i++ {
		in = append(in, who...)
		in = append(in, bindVersionPDU(10+i, 3, adminDN, adminPW)...)
	}
	in = append(in, hexPDU("30 05 02 01 01 42 00")...)
	msgs, _ := rawExchange(t, f.srv.LDAPAddr().String(), in, false)
	if len(msgs) != 40 {
		t.Fatalf("%d answers to 40 requests", len(msgs))
	}
	for i, m := range msgs {
		id, _, code, diag := resultOf(t, m)
		want := int64(3)
		if i%2 == 1 {
			want = 10 + int64(i/2)
		}
		if id != want || code != 0 {
			t.Fatalf("answer %d: message %d code %d (%s), want message %d success", i, id, code, diag, want)
		}
	}
	if n := ldapsrv.Inlined(f.srv); n > 20 {
		t.Fatalf("%d requests answered inline, at most the 20 binds may be", n)
	}
}
