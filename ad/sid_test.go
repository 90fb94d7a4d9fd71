package ad

import (
	"encoding/hex"
	"errors"
	"testing"
)

func TestSIDRoundTrip(t *testing.T) {
	for _, c := range []struct {
		in, out, hex string
	}{
		{"S-1-5-21-1004336348-1177238915-682003330-512", "", "010500000000000515000000dcf4dc3b833d2b46828ba62800020000"},
		{"S-1-5-32-544", "", "01020000000000052000000020020000"},
		// objectSid of "Event Log Readers" in fakead/reference/domain.ldif: AQIAAAAAAAUgAAAAPQIAAA==.
		{"S-1-5-32-573", "", "010200000000000520000000" + "3d020000"},
		{"S-1-5-9", "", "010100000000000509000000"},
		{"S-1-0", "", "010000000000000000"[:16]},
		{"s-1-5-18", "S-1-5-18", "010100000000000512000000"},
		// The identifier authority: below 2^32 decimal, from 2^32 on 0x and 12 hex digits
		// (ConvertSidToStringSid). A hex input below 2^32 comes back decimal.
		{"S-1-4294967295-1", "", "0101 0000ffffffff 01000000"},
		{"S-1-0x100000000-1", "S-1-0x000100000000-1", "0101 000100000000 01000000"},
		{"S-1-0xFFFFFFFFFFFF", "S-1-0xFFFFFFFFFFFF", "0100 ffffffffffff"},
		{"S-1-0x12", "S-1-18", "0100 000000000012"},
		{"S-1-5-4294967295", "", "0101 000000000005 ffffffff"},
	} {
		sid, err := ParseSID(c.in)
		if err != nil {
			t.Errorf("ParseSID(%q): %v", c.in, err)
			continue
		}
		want := c.out
		if want == "" {
			want = c.in
		}
		if got := sid.String(); got != want {
			t.Errorf("ParseSID(%q).String() = %q, want %q", c.in, got, want)
		}
		wantHex := despace(c.hex)
		if got := hex.EncodeToString(sid.Bytes()); got != wantHex {
			t.Errorf("%s bytes %s, want %s", c.in, got, wantHex)
		}
		back, err := SIDFromBytes(sid.Bytes())
		if err != nil || !back.Equal(sid) || back.String() != want {
			t.Errorf("SIDFromBytes(%s) = %v, %v", wantHex, back, err)
		}
	}
}

func despace(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' {
			out = append(out, s[i])
		}
	}
	return string(out)
}

func TestSIDRejects(t *testing.T) {
	for _, s := range []string{"", "S", "S-1", "X-1-5", "S-2-5-1", "S-1-x-1", "S-1-5-1-", "S-1-5-4294967296",
		"S-1-0x1000000000000", "S-1-281474976710656", "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16"} {
		if _, err := ParseSID(s); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseSID(%q) = %v, want ErrMalformed", s, err)
		}
	}
	good := MustParseSID("S-1-5-21-1-2-3-1105").Bytes()
	for _, b := range [][]byte{nil, good[:7], good[:len(good)-1], append(append([]byte(nil), good...), 0),
		{2, 0, 0, 0, 0, 0, 0, 5}, {1, 16, 0, 0, 0, 0, 0, 5}} {
		if _, err := SIDFromBytes(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("SIDFromBytes(%x) = %v, want ErrMalformed", b, err)
		}
	}
	// ReadSID reads a SID at the front of a longer buffer.
	sid, n, err := ReadSID(append(append([]byte(nil), good...), 0xff, 0xff))
	if err != nil || n != len(good) || sid.String() != "S-1-5-21-1-2-3-1105" {
		t.Errorf("ReadSID = %v %d %v", sid, n, err)
	}
}

func TestSIDParts(t *testing.T) {
	dom := MustParseSID("S-1-5-21-1-2-3")
	acct := dom.WithRID(1105)
	if acct.String() != "S-1-5-21-1-2-3-1105" || acct.RID() != 1105 || !acct.Domain().Equal(dom) || dom.String() != "S-1-5-21-1-2-3" {
		t.Errorf("WithRID/RID/Domain: %v %d %v", acct, acct.RID(), acct.Domain())
	}
	if !(SID{}).IsZero() || dom.IsZero() || (SID{}).RID() != 0 {
		t.Errorf("IsZero/RID of the zero SID")
	}
	if acct.Equal(dom) || acct.Equal(MustParseSID("S-1-5-21-1-2-3-1106")) {
		t.Errorf("Equal accepts different SIDs")
	}
}

func FuzzSIDFromBytes(f *testing.F) {
	f.Add(MustParseSID("S-1-5-21-1-2-3-1105").Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		sid, err := SIDFromBytes(b)
		if err != nil {
			return
		}
		if got := sid.Bytes(); string(got) != string(b) {
			t.Fatalf("%x -> %v -> %x", b, sid, got)
		}
		if back, err := ParseSID(sid.String()); err != nil || !back.Equal(sid) {
			t.Fatalf("%v does not round-trip through text: %v %v", sid, back, err)
		}
	})
}

// FuzzParseSID: text that parses round-trips through the binary form, and every refusal is
// ErrMalformed.
func FuzzParseSID(f *testing.F) {
	f.Add("S-1-5-21-1437000690-1664695696-1586295871-1112")
	f.Add("S-1-5-9")
	f.Add("S-1-0x123456789abc-1")
	f.Fuzz(func(t *testing.T, s string) {
		sid, err := ParseSID(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		back, err := SIDFromBytes(sid.Bytes())
		if err != nil || back.String() != sid.String() {
			t.Fatalf("binary round trip of %q: %v", s, err)
		}
	})
}
