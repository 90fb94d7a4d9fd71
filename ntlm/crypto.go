package ntlm

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rc4"
	"fmt"
	"strings"

	"golang.org/x/crypto/md4"
)

// NTHash is NTOWFv1 ([MS-NLMP] 3.3.1): MD4 of the UTF-16LE password, the account's "NT hash" (the
// unicodePwd a DC stores). A lookup function returns this for the account.
func NTHash(password string) []byte {
	h := md4.New()
	h.Write(utf16le(password))
	return h.Sum(nil)
}

// NTOWFv2 is [MS-NLMP] 3.3.2's ResponseKeyNT: HMAC_MD5(NT hash, UTF-16LE(Uppercase(user) + domain)).
// The domain is used as the client sent it, not upper-cased.
func NTOWFv2(ntHash []byte, user, domain string) []byte {
	return hmacMD5(ntHash, utf16le(strings.ToUpper(user)+domain))
}

func hmacMD5(key []byte, data ...[]byte) []byte {
	m := hmac.New(md5.New, key)
	for _, d := range data {
		m.Write(d)
	}
	return m.Sum(nil)
}

func md5Sum(data ...[]byte) []byte {
	h := md5.New()
	for _, d := range data {
		h.Write(d)
	}
	return h.Sum(nil)
}

// rc4K is RC4K(key, data) of [MS-NLMP] 6: a fresh RC4 stream over data.
func rc4K(key, data []byte) []byte {
	c, err := rc4.NewCipher(key)
	if err != nil {
		// Keys here are 5, 7 or 16 bytes, all inside rc4's 1..256.
		panic(fmt.Sprintf("ntlm: rc4 key of length %d: %v", len(key), err))
	}
	out := make([]byte, len(data))
	c.XORKeyStream(out, data)
	return out
}
