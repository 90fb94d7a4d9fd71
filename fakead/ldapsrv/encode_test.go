package ldapsrv

import (
	"bytes"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	goldap "github.com/lor00x/goldap/message"

	"github.com/gmsasim/gmsasim/fakead"
)

// goldapBytes is what the library's writer sends for po as message id, after the framing layer's
// message-ID repair (inspectResponse).
func goldapBytes(t testing.TB, id int, po goldap.ProtocolOp) []byte {
	t.Helper()
	m := goldap.NewLDAPMessageWithProtocolOp(po)
	m.SetMessageID(id)
	b, err := m.Write()
	if err != nil {
		t.Fatalf("goldap cannot encode %T: %v", po, err)
	}
	out, _, ok := inspectResponse(b.Bytes())
	if !ok {
		t.Fatalf("goldap's %T for message %d is not one LDAPMessage", po, id)
	}
	return out
}

func checkEntry(t testing.TB, id int, e fakead.SearchEntry, typesOnly bool) {
	t.Helper()
	got := appendEntry(nil, id, &e, typesOnly)
	if want := goldapBytes(t, id, goldapEntry(&e, typesOnly)); !bytes.Equal(got, want) {
		t.Fatalf("entry %+v (typesOnly %v, id %d):\nours   %x\ngoldap %x", e, typesOnly, id, got, want)
	}
}

func checkResult(t testing.TB, id, appTag int, err error) {
	t.Helper()
	got := appendResult(nil, id, appTag, err)
	var po goldap.ProtocolOp
	switch appTag {
	case 1:
		po = goldap.BindResponse{LDAPResult: result(err)}
	case 5:
		po = goldap.SearchResultDone(result(err))
	}
	if want := goldapBytes(t, id, po); !bytes.Equal(got, want) {
		t.Fatalf("result tag %d for %v (id %d):\nours   %x\ngoldap %x", appTag, err, id, got, want)
	}
}

// sizes around the length-octet boundaries (127/128, 255/256, 65535/65536).
var encodeSizes = []int{0, 1, 2, 100, 115, 120, 123, 124, 125, 126, 127, 128, 129, 200, 240, 250, 253, 254, 255, 256, 257, 300,
	1000, 65500, 65530, 65535, 65536, 70000}

var encodeIDs = []int{0, 1, 2, 127, 128, 129, 255, 256, 32767, 32768, 65535, 65536, 8388607, 8388608, 2147483647}

// TestResponseEncodingMatchesGoldap: the hand-written encoder writes goldap's bytes for search
// entries and results across message IDs, element sizes at every length-octet boundary, empty
// and many attributes and values, typesOnly, and every result field including referrals.
func TestResponseEncodingMatchesGoldap(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 15))
	str := func(n int) string { return strings.Repeat(string(rune('a'+r.IntN(26))), n) }
	for _, id := range encodeIDs {
		for _, n := range encodeSizes {
			checkEntry(t, id, fakead.SearchEntry{DN: str(n)}, false)
			checkEntry(t, id, fakead.SearchEntry{DN: "CN=x", Attributes: []fakead.Attribute{{Name: str(n % 300), Values: [][]byte{[]byte(str(n))}}}}, false)
			checkEntry(t, id, fakead.SearchEntry{DN: "CN=x", Attributes: []fakead.Attribute{{Name: "cn", Values: [][]byte{[]byte(str(n))}}}}, true)
			checkResult(t, id, 1+4*(n%2), &fakead.Error{Code: fakead.ResultCode(n % 128), MatchedDN: str(n % 400), Diag: str(n)})
		}
		checkResult(t, id, 5, nil)
		checkResult(t, id, 1, nil)
		checkResult(t, id, 5, errBadCookie())
		checkResult(t, id, 1, errTimeLimit())
	}
	// Random entries: 400 in make test (goldap's encoder under -race is slow), 2000 in make
	// test-long; FuzzResponseEncoding draws further.
	draws := 400
	if os.Getenv("GMSASIM_TEST_LONG") != "" {
		draws = 2000
	}
	for i := 0; i < draws; i++ {
		e := fakead.SearchEntry{DN: str(r.IntN(300))}
		for range r.IntN(12) {
			a := fakead.Attribute{Name: str(1 + r.IntN(40))}
			for range r.IntN(6) {
				v := make([]byte, encodeSizes[r.IntN(len(encodeSizes)-3)])
				for j := range v {
					v[j] = byte(r.IntN(256))
				}
				a.Values = append(a.Values, v)
			}
			e.Attributes = append(e.Attributes, a)
		}
		id := encodeIDs[r.IntN(len(encodeIDs))]
		checkEntry(t, id, e, r.IntN(4) == 0)
		var refs []string
		for range r.IntN(3) {
			refs = append(refs, "ldap://"+str(1+r.IntN(200))+"/DC=fabrikam,DC=com")
		}
		code := fakead.ResultCode(r.IntN(81))
		if len(refs) > 0 {
			code = fakead.Referral
		}
		checkResult(t, id, 1+4*r.IntN(2), &fakead.Error{Code: code, MatchedDN: str(r.IntN(200)), Diag: str(r.IntN(300)), Referrals: refs})
	}
}

// FuzzResponseEncoding: for any entry, result and message ID, the hand-written encoder writes
// goldap's bytes.
func FuzzResponseEncoding(f *testing.F) {
	f.Add(uint32(1), "CN=user1,CN=Users,DC=contoso,DC=com", "cn", []byte("user1"), false, uint8(0), "", "", "")
	f.Add(uint32(128), "", "", []byte{}, true, uint8(49), "CN=x", "80090308: LdapErr", "ldap://x/DC=y")
	f.Add(uint32(1<<31-1), strings.Repeat("a", 300), strings.Repeat("b", 130), bytes.Repeat([]byte{0xff}, 70000), false, uint8(10), "m", "d", "ldap://r")
	f.Fuzz(func(t *testing.T, id uint32, dn, attr string, val []byte, typesOnly bool, code uint8, matched, diag, ref string) {
		id &= 1<<31 - 1
		e := fakead.SearchEntry{DN: dn, Attributes: []fakead.Attribute{{Name: attr, Values: [][]byte{val, val[:len(val)/2]}}, {Name: diag}}}
		checkEntry(t, int(id), e, typesOnly)
		ferr := &fakead.Error{Code: fakead.ResultCode(code % 128), MatchedDN: matched, Diag: diag}
		if ref != "" {
			ferr.Code, ferr.Referrals = fakead.Referral, []string{ref, dn}
		}
		checkResult(t, int(id), 1, ferr)
		checkResult(t, int(id), 5, ferr)
	})
}
