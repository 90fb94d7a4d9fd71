package ad

import (
	"encoding/hex"
	"errors"
	"testing"
)

// Known text/wire pairs: msDS-ManagedPassword's schemaIDGUID as [MS-ADA2] names it and the bytes
// schema.ldif stores; the root key id of Samba's KeyEnvelope NDR test (python/samba/tests/ndr/
// gkdi.py), bytes 24..40 of the envelope; the GoldenGMSA README lab root key, whose
// msDS-ManagedPasswordId carries b9b8e546 57ca e601 e8b9fbb267e4adeb; the objectGUID of a container
// in fakead/reference/domain.ldif (a Samba DC dump), G7kHqwRyTEGImloFSZfl2Q==.
func TestGUIDTextAndWire(t *testing.T) {
	for _, c := range []struct{ text, wire string }{
		{"e362ed86-b728-0842-b27d-2dea7a9df218", "86ed62e328b74208b27d2dea7a9df218"},
		{"9d922231-af27-b73b-1056-aeb18eeca71a", "3122929d27af3bb71056aeb18eeca71a"},
		{"46e5b8b9-ca57-01e6-e8b9-fbb267e4adeb", "b9b8e54657cae601e8b9fbb267e4adeb"},
		{"ab07b91b-7204-414c-889a-5a054997e5d9", "1bb907ab04724c41889a5a054997e5d9"},
		{"00000000-0000-0000-0000-000000000000", "00000000000000000000000000000000"},
	} {
		g, err := ParseGUID(c.text)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(g.Wire()); got != c.wire {
			t.Errorf("ParseGUID(%s).Wire() = %s, want %s", c.text, got, c.wire)
		}
		raw, _ := hex.DecodeString(c.wire)
		w, err := GUIDFromWire(raw)
		if err != nil || w != g || w.String() != c.text {
			t.Errorf("GUIDFromWire(%s) = %s, %v; want %s", c.wire, w, err, c.text)
		}
	}
	if g, err := ParseGUID("{E362ED86-B728-0842-B27D-2DEA7A9DF218}"); err != nil || g != SchemaIDManagedPassword {
		t.Errorf("braced upper-case form: %s %v", g, err)
	}
	if !(GUID{}).IsZero() || SchemaIDManagedPassword.IsZero() {
		t.Errorf("IsZero")
	}
}

func TestGUIDCompareFollowsText(t *testing.T) {
	// Wire bytes and text order disagree here: a's wire form starts 02, b's 01.
	a := MustParseGUID("00000001-0000-0000-0000-000000000000")
	b := MustParseGUID("00000000-0000-0000-0000-000000000002")
	if a.Compare(b) <= 0 || b.Compare(a) >= 0 || a.Compare(a) != 0 {
		t.Errorf("Compare does not follow the text order")
	}
	c := MustParseGUID("01000000-0000-0000-0000-000000000000")
	if a.Compare(c) >= 0 {
		t.Errorf("%s >= %s", a, c)
	}
}

func TestGUIDRejects(t *testing.T) {
	for _, s := range []string{"", "e362ed86b7280842b27d2dea7a9df218", "e362ed86-b728-0842-b27d-2dea7a9df21",
		"g362ed86-b728-0842-b27d-2dea7a9df218", "{e362ed86-b728-0842-b27d-2dea7a9df218", "e362ed86+b728-0842-b27d-2dea7a9df218"} {
		if _, err := ParseGUID(s); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseGUID(%q) = %v, want ErrMalformed", s, err)
		}
	}
	if _, err := GUIDFromWire(make([]byte, 15)); !errors.Is(err, ErrMalformed) {
		t.Errorf("GUIDFromWire of 15 bytes: %v", err)
	}
}

// FuzzParseGUID: text that parses round-trips through the wire form, and every refusal is
// ErrMalformed.
func FuzzParseGUID(f *testing.F) {
	f.Add("46e5b8b9-ca57-01e6-e8b9-fbb267e4adeb")
	f.Add("{46E5B8B9-CA57-01E6-E8B9-FBB267E4ADEB}")
	f.Fuzz(func(t *testing.T, s string) {
		g, err := ParseGUID(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		back, err := GUIDFromWire(g.Wire())
		if err != nil || back != g {
			t.Fatalf("wire round trip of %q: %v", s, err)
		}
	})
}
