package kdc_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/jcmturner/gokrb5/v8/types"
)

// gokrb5Authenticator is gokrb5's decoding; its panic counts as an error.
func gokrb5Authenticator(b []byte) (a types.Authenticator, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("gokrb5 panicked: %v", r)
		}
	}()
	err = a.Unmarshal(b)
	return a, err
}

// authenticatorCorpus: authenticators as the gokrb5 client builds them (NewAuthenticator, with a
// subkey and sequence number, with a GSS checksum) and with every optional field or none.
func authenticatorCorpus(t testing.TB) [][]byte {
	cname := types.PrincipalName{NameType: 1, NameString: []string{"alice"}}
	plain, err := types.NewAuthenticator("CONTOSO.COM", cname)
	if err != nil {
		t.Fatal(err)
	}
	sub := plain
	if err := sub.GenerateSeqNumberAndSubKey(18, 32); err != nil {
		t.Fatal(err)
	}
	full := sub
	full.Cksum = types.Checksum{CksumType: 0x8003, Checksum: make([]byte, 24)}
	full.AuthorizationData = types.AuthorizationData{{ADType: 1, ADData: make([]byte, 300)}, {ADType: -1, ADData: []byte{}}}
	full.SeqNumber = -5
	bare := types.Authenticator{AVNO: 5, CName: types.PrincipalName{NameString: []string{}},
		CTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Cusec: 999999, AuthorizationData: types.AuthorizationData{}}
	var out [][]byte
	for _, a := range []types.Authenticator{plain, sub, full, bare} {
		b, err := a.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// The direct decoder takes the whole corpus and gives, byte for byte, gokrb5's decoding.
func TestDecodeAuthenticatorMatchesGokrb5(t *testing.T) {
	for i, b := range authenticatorCorpus(t) {
		want, err := gokrb5Authenticator(b)
		if err != nil {
			t.Fatalf("authenticator %d: gokrb5 does not decode it: %v", i, err)
		}
		got, direct, err := kdc.DecodeAuthenticator(b)
		if err != nil || !direct || !reflect.DeepEqual(got, want) {
			t.Errorf("authenticator %d: direct %v, error %v\n%+v\nwant\n%+v", i, direct, err, got, want)
		}
	}
}

// Every truncation and one-byte change of the corpus: decoded exactly when gokrb5 decodes it, to
// the same struct, never a panic.
func TestDecodeAuthenticatorMalformed(t *testing.T) {
	mangleCorpus(t, authenticatorCorpus(t), checkDecodeAuthenticator)
}

func checkDecodeAuthenticator(t testing.TB, b []byte) {
	t.Helper()
	sameAsGokrb5(t, b, kdc.DecodeAuthenticator, gokrb5Authenticator)
}

func FuzzDecodeAuthenticator(f *testing.F) {
	for _, b := range authenticatorCorpus(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > kdc.MaxMessageSize {
			return
		}
		checkDecodeAuthenticator(t, b)
	})
}
