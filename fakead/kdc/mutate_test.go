package kdc_test

import "os"

// byteChanges are the values the decoders' malformed-input tests put at each byte of a sample:
// five in make test-long (GMSASIM_TEST_LONG=1), two in make test (a flipped bit and 0xff: the
// length and tag bytes' worst cases); every truncation is tried either way.
func byteChanges(b byte) []byte {
	if os.Getenv("GMSASIM_TEST_LONG") != "" {
		return []byte{0x00, 0x01, 0x80, 0xff, b ^ 0x20}
	}
	return []byte{0xff, b ^ 0x20}
}
