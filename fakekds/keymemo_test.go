package fakekds

import (
	"bytes"
	"testing"
)

// A KeyMemo gives what KeysFromUTF16 gives, every time, and a caller that changes its copy does
// not reach the memo; a nil memo derives.
func TestKeyMemo(t *testing.T) {
	for _, km := range []*KeyMemo{NewKeyMemo(), nil} {
		testKeyMemo(t, km)
	}
}

func testKeyMemo(t *testing.T, km *KeyMemo) {
	const salt = "CONTOSO.COMhostweb1.contoso.com"
	want, err := KeysFromString("p@ss word 1", salt)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		got, err := km.KeysFromString("p@ss word 1", salt)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.NTHash, want.NTHash) || !bytes.Equal(got.AES128, want.AES128) || !bytes.Equal(got.AES256, want.AES256) {
			t.Fatalf("round %d: cached keys differ from derived ones", i)
		}
		got.AES256[0] ^= 0xff
		got.NTHash[0] ^= 0xff
	}
	other, err := km.KeysFromString("p@ss word 2", salt)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(other.AES256, want.AES256) {
		t.Fatal("another password gave the same key")
	}
	bin, err := km.Keys(UTF16LE("p@ss word 1"), salt)
	if err != nil || !bytes.Equal(bin.AES256, want.AES256) {
		t.Fatalf("the UTF-16 form of the same password: %v", err)
	}
}
