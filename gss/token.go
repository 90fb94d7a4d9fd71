package gss

import (
	"errors"
	"fmt"
)

// ErrContextToken is a malformed RFC 2743 3.1 InitialContextToken.
var ErrContextToken = errors.New("gss: not an InitialContextToken")

// ContextToken frames inner as RFC 2743 3.1's InitialContextToken of a mechanism:
// [APPLICATION 0] { thisMech OID, innerToken }. oid is the OID's DER contents (no tag, no length).
func ContextToken(oid, inner []byte) []byte {
	body := append(append([]byte{0x06}, derLength(len(oid))...), oid...)
	body = append(body, inner...)
	return append(append([]byte{0x60}, derLength(len(body))...), body...)
}

// ParseContextToken splits an InitialContextToken into its mechanism OID (DER contents) and inner
// token. It reads only definite lengths of up to four octets and needs the token whole.
func ParseContextToken(b []byte) (oid, inner []byte, err error) {
	if len(b) < 2 || b[0] != 0x60 {
		return nil, nil, ErrContextToken
	}
	n, h, ok := readLength(b[1:])
	if !ok || 1+h+n != len(b) {
		return nil, nil, fmt.Errorf("%w: bad length", ErrContextToken)
	}
	body := b[1+h:]
	if len(body) < 2 || body[0] != 0x06 {
		return nil, nil, fmt.Errorf("%w: no mechanism OID", ErrContextToken)
	}
	n, h, ok = readLength(body[1:])
	if !ok || n == 0 || 1+h+n > len(body) {
		return nil, nil, fmt.Errorf("%w: bad mechanism OID", ErrContextToken)
	}
	return body[1+h : 1+h+n], body[1+h+n:], nil
}

func derLength(n int) []byte {
	switch {
	case n < 0x80:
		return []byte{byte(n)}
	case n < 0x100:
		return []byte{0x81, byte(n)}
	case n < 0x10000:
		return []byte{0x82, byte(n >> 8), byte(n)}
	case n < 0x1000000:
		return []byte{0x83, byte(n >> 16), byte(n >> 8), byte(n)}
	}
	return []byte{0x84, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
}

// readLength reads a definite DER/BER length: its value and how many octets it took.
func readLength(b []byte) (n, size int, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	if b[0] < 0x80 {
		return int(b[0]), 1, true
	}
	k := int(b[0] & 0x7f)
	if k == 0 || k > 4 || len(b) < 1+k {
		return 0, 0, false
	}
	for _, c := range b[1 : 1+k] {
		n = n<<8 | int(c)
	}
	return n, 1 + k, n >= 0
}
