package fakekds

import (
	"crypto/aes"
	"crypto/pbkdf2"
	"crypto/sha1"
)

// Divergence: none in behaviour. The brief asked for gokrb5's string-to-key, but gokrb5's
// crypto/rfc3962 package pulls in modules (jcmturner/aescts/v2, jcmturner/gofork) that have no
// go.sum entries in this module, so RFC 3962 is implemented here on the standard library
// (crypto/pbkdf2, crypto/aes) and checked against the RFC 3962 and DSInternals vectors.

// aesStringToKey is RFC 3962 string-to-key: tkey = PBKDF2-HMAC-SHA1(password, salt, iter,
// keyLen); key = DK(tkey, "kerberos") (random-to-key is the identity for AES).
func aesStringToKey(password, salt string, iter, keyLen int) ([]byte, error) {
	tkey, err := pbkdf2.Key(sha1.New, password, []byte(salt), iter, keyLen)
	if err != nil {
		return nil, errorf("KerberosKey", ErrInvalidArgument, "PBKDF2: %v", err)
	}
	return deriveKeyAES(tkey, []byte("kerberos"))
}

// deriveKeyAES is RFC 3961 DK for the AES enctypes: DR(K, c) = K1 || K2 || ... truncated to the
// key length, where K1 = E(K, n-fold(c, 128 bits)) and K(i+1) = E(K, K(i)); E on one block is
// plain AES (CBC-CTS over a single block with a zero IV).
func deriveKeyAES(key, constant []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, errorf("KerberosKey", ErrInvalidArgument, "AES key: %v", err)
	}
	in := nfold(constant, aes.BlockSize)
	out := make([]byte, 0, len(key)+aes.BlockSize)
	for len(out) < len(key) {
		next := make([]byte, aes.BlockSize)
		block.Encrypt(next, in)
		out = append(out, next...)
		in = next
	}
	return out[:len(key)], nil
}

// nfold is the RFC 3961 n-fold of in to n bytes: concatenate lcm(len(in), n)/len(in) copies of
// in, copy i rotated right by 13·i bits, and add the n-byte chunks with one's-complement
// (end-around carry) addition.
func nfold(in []byte, n int) []byte {
	k := len(in)
	if k == 0 || n <= 0 {
		return make([]byte, max(n, 0))
	}
	l := k * n / gcd(k, n)
	buf := make([]byte, 0, l)
	bits := 8 * k
	for i := 0; i < l/k; i++ {
		r := (13 * i) % bits
		rot := make([]byte, k)
		for j := 0; j < bits; j++ { // output bit j (MSB first) = input bit j-r
			src := (j - r + bits) % bits
			if in[src/8]&(0x80>>(src%8)) != 0 {
				rot[j/8] |= 0x80 >> (j % 8)
			}
		}
		buf = append(buf, rot...)
	}
	sum := make([]int, n)
	for c := 0; c < l; c += n {
		for j := 0; j < n; j++ {
			sum[j] += int(buf[c+j])
		}
	}
	// Propagate carries from the least significant byte, wrapping the carry out of the top
	// byte back into the bottom until none is left.
	for {
		carry := 0
		for j := n - 1; j >= 0; j-- {
			sum[j] += carry
			carry = sum[j] >> 8
			sum[j] &= 0xff
		}
		if carry == 0 {
			break
		}
		sum[n-1] += carry
	}
	out := make([]byte, n)
	for j := range out {
		out[j] = byte(sum[j])
	}
	return out
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
