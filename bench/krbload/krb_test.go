package main

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/iana/patype"
	"github.com/jcmturner/gokrb5/v8/types"
)

// methodData is the e-data of a PREAUTH_REQUIRED error with a PA-ETYPE-INFO2 of entries.
func methodData(t *testing.T, entries types.ETypeInfo2) []byte {
	t.Helper()
	info, err := asn1.Marshal(entries)
	if err != nil {
		t.Fatal(err)
	}
	md, err := asn1.Marshal(types.PADataSequence{
		{PADataType: patype.PA_ENC_TIMESTAMP},
		{PADataType: patype.PA_ETYPE_INFO2, PADataValue: info},
	})
	if err != nil {
		t.Fatal(err)
	}
	return md
}

func TestETypeInfo2(t *testing.T) {
	md := methodData(t, types.ETypeInfo2{
		{EType: 23},
		{EType: 18, Salt: "CONTOSO.COMuser7", S2KParams: []byte{0, 0, 0x10, 0}},
	})
	salt, params, err := etypeInfo2(md, 18)
	if err != nil || salt != "CONTOSO.COMuser7" || params != "00001000" {
		t.Errorf("etypeInfo2(18) = %q, %q, %v; want CONTOSO.COMuser7 00001000", salt, params, err)
	}
	if _, _, err := etypeInfo2(md, 17); err == nil || !strings.Contains(err.Error(), "no entry for etype 17") {
		t.Errorf("etypeInfo2(17) error = %v, want no entry", err)
	}
	noInfo, _ := asn1.Marshal(types.PADataSequence{{PADataType: patype.PA_ENC_TIMESTAMP}})
	if _, _, err := etypeInfo2(noInfo, 18); err == nil {
		t.Errorf("etypeInfo2 without PA-ETYPE-INFO2 = nil error")
	}
	if _, _, err := etypeInfo2([]byte{0x30, 0x05, 1}, 18); err == nil {
		t.Errorf("etypeInfo2(garbage) = nil error")
	}
}

func TestReadFrame(t *testing.T) {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(3))
	b.WriteString("abcrest")
	got, err := readFrame(&b)
	if err != nil || string(got) != "abc" {
		t.Errorf("readFrame = %q, %v; want abc", got, err)
	}
	for _, bad := range [][]byte{{0, 0}, {0, 0, 0, 0}, {0xff, 0, 0, 0}, {0, 0, 0, 5, 'a'}} {
		if got, err := readFrame(bytes.NewReader(bad)); err == nil {
			t.Errorf("readFrame(% x) = %q, want an error", bad, got)
		}
	}
}

func TestAsKRBError(t *testing.T) {
	if asKRBError(nil) != nil || asKRBError([]byte{0x6b, 0}) != nil || asKRBError([]byte{0x7e, 0x01, 0x00}) != nil {
		t.Errorf("asKRBError took a non-error for a KRB-ERROR")
	}
}

func TestKeyringDerivesAndRoundTrips(t *testing.T) {
	// RFC 3962 appendix B: "password", salt "ATHENA.MIT.EDUraeburn", 1200 iterations (0x4b0).
	k := newKeyring(18, "password")
	key, err := k.get("ATHENA.MIT.EDUraeburn", "000004b0")
	if err != nil {
		t.Fatal(err)
	}
	want := "55a6ac740ad17b4846941051e1e8b0a7548d93b0ab30a8bc3ff16280382b8c2a"
	if got := hex.EncodeToString(key.KeyValue); got != want || key.KeyType != 18 {
		t.Errorf("key = %d %s, want 18 %s", key.KeyType, got, want)
	}
	c := &Config{Op: "keys", Realm: "EXAMPLE.COM", UserPW: "pw", Etype: 17, Users: 3, Conc: 2,
		KeysFile: filepath.Join(t.TempDir(), "keys")}
	n, err := WriteKeys(c)
	if err != nil || n != 3 {
		t.Fatalf("WriteKeys = %d, %v; want 3", n, err)
	}
	r, err := loadKeys(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.keys) != 3 {
		t.Fatalf("loadKeys read %d keys, want 3", len(r.keys))
	}
	fromFile, _ := r.get("EXAMPLE.COMuser2", "00001000") // the explicit default is the file's key
	fresh, err := derive(17, "pw", "EXAMPLE.COMuser2", "")
	if err != nil || !bytes.Equal(fromFile.KeyValue, fresh) || len(r.keys) != 3 {
		t.Errorf("key from file %x, derived %x (%v), ring size %d; want equal keys and no new entry", fromFile.KeyValue, fresh, err, len(r.keys))
	}
	if err := os.WriteFile(c.KeysFile, []byte("17 salt nothex\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadKeys(c); err == nil {
		t.Errorf("loadKeys of a bad file = nil error")
	}
}
