package kdc_test

import (
	"os"
	"reflect"
	"testing"
)

// byteChanges are the values the decoders' malformed-input tests put at each byte of a sample:
// five in make test-long (GMSASIM_TEST_LONG=1), two in make test (a flipped bit and 0xff: the
// length and tag bytes' worst cases); every truncation is tried either way.
func byteChanges(b byte) []byte {
	if os.Getenv("GMSASIM_TEST_LONG") != "" {
		return []byte{0x00, 0x01, 0x80, 0xff, b ^ 0x20}
	}
	return []byte{0xff, b ^ 0x20}
}

// mangleCorpus runs check on every truncation and every byte change (byteChanges) of each sample
// (a sample longer than 2000 bytes is cut to its first 2000: the truncations of a long one still run
// through every field) and fails t unless at least 1000 inputs were tried.
func mangleCorpus(t *testing.T, corpus [][]byte, check func(testing.TB, []byte)) {
	t.Helper()
	n := 0
	for _, b := range corpus {
		if len(b) > 2000 {
			b = b[:2000]
		}
		for i := 0; i <= len(b); i++ {
			check(t, b[:i])
			n++
		}
		for i := range b {
			for _, x := range byteChanges(b[i]) {
				m := append([]byte(nil), b...)
				m[i] = x
				check(t, m)
				n++
			}
		}
	}
	if n < 1000 {
		t.Fatalf("only %d inputs", n)
	}
}

// sameAsGokrb5 fails t unless a direct decoder (ours: the value, whether the direct path took it,
// the error) agrees with gokrb5's Unmarshal (lib) on b: it never takes what gokrb5 refuses, fails
// exactly when gokrb5 fails, and decodes to the same struct.
func sameAsGokrb5[T any](t testing.TB, b []byte, ours func([]byte) (T, bool, error), lib func([]byte) (T, error)) {
	t.Helper()
	want, werr := lib(b)
	got, direct, err := ours(b)
	switch {
	case direct && werr != nil:
		t.Fatalf("%x: the direct decoder takes what gokrb5 refuses (%v)", b, werr)
	case (err == nil) != (werr == nil):
		t.Fatalf("%x: error %v, gokrb5's %v", b, err, werr)
	case err == nil && !reflect.DeepEqual(got, want):
		t.Fatalf("%x: decoded (direct %v)\n%+v\ngokrb5\n%+v", b, direct, got, want)
	}
}
