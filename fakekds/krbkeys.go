package fakekds

import (
	"crypto/pbkdf2"
	"crypto/sha1"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/crypto/md4"
)

// Kerberos encryption types, as named by the CLI and by msDS-SupportedEncryptionTypes.
const (
	EtypeRC4    = "rc4"    // rc4-hmac, etype 23: the NT hash
	EtypeAES128 = "aes128" // aes128-cts-hmac-sha1-96, etype 17
	EtypeAES256 = "aes256" // aes256-cts-hmac-sha1-96, etype 18
)

// AESIterations is the PBKDF2 iteration count Windows uses (the RFC 3962 default).
const AESIterations = 4096

// NTHash returns MD4 of a UTF-16LE password. For a gMSA pass the 256 post-processed password
// bytes, without the blob's 00 00 terminator. The RC4-HMAC key is the same value.
func NTHash(utf16le []byte) []byte {
	h := md4.New()
	h.Write(utf16le)
	return h.Sum(nil)
}

// NTHashString returns the NT hash of a password given as text (users, computers).
func NTHashString(password string) []byte { return NTHash(UTF16LE(password)) }

// UTF16LE encodes s as UTF-16LE without a terminator.
func UTF16LE(s string) []byte {
	b := UTF16Z(s)
	return b[:len(b)-2]
}

// UTF16ToUTF8 converts UTF-16LE bytes to UTF-8 the way Windows does before Kerberos
// string-to-key: valid surrogate pairs become 4-byte sequences and every unpaired surrogate
// becomes U+FFFD (EF BF BD). An odd trailing byte also becomes U+FFFD.
func UTF16ToUTF8(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	s := string(utf16.Decode(u)) // utf16.Decode maps unpaired surrogates to U+FFFD
	if len(b)%2 == 1 {
		s += string(utf8.RuneError)
	}
	return s
}

// KerberosKey runs string-to-key for etype ("rc4", "aes128", "aes256") on a UTF-8 password and
// a salt. AES is RFC 3962 (PBKDF2-HMAC-SHA1, 4096 iterations, then DK(tkey, "kerberos"));
// rc4 is the NT hash of the UTF-16LE form and ignores the salt.
func KerberosKey(etype, password, salt string) ([]byte, error) {
	switch strings.ToLower(etype) {
	case EtypeRC4, "rc4-hmac", "23":
		return NTHashString(password), nil
	case EtypeAES128, "aes128-cts-hmac-sha1-96", "17":
		return aesStringToKey(password, salt, AESIterations, 16)
	case EtypeAES256, "aes256-cts-hmac-sha1-96", "18":
		return aesStringToKey(password, salt, AESIterations, 32)
	}
	return nil, errorf("KerberosKey", ErrInvalidArgument, "unknown encryption type %q (want rc4, aes128 or aes256)", etype)
}

// Keys are the long-term keys of an account.
type Keys struct {
	NTHash []byte // = RC4-HMAC key
	AES128 []byte
	AES256 []byte
}

// KeysFromUTF16 derives every key from a binary UTF-16LE password (a gMSA's 256 bytes): the NT
// hash over the bytes as they are, the AES keys from their UTF-8 conversion and salt.
func KeysFromUTF16(password []byte, salt string) (Keys, error) {
	s := UTF16ToUTF8(password)
	k := Keys{NTHash: NTHash(password)}
	// One PBKDF2 serves both AES keys: its output is a sequence of independent 20-byte blocks, so
	// the 16-byte tkey of AES128 is the first 16 bytes of AES256's 32 (a third of the work saved,
	// checked against both keys' RFC 3962 and DSInternals vectors).
	tkey, err := pbkdf2.Key(sha1.New, s, []byte(salt), AESIterations, 32)
	if err != nil {
		return Keys{}, errorf("KerberosKey", ErrInvalidArgument, "PBKDF2: %v", err)
	}
	if k.AES256, err = deriveKeyAES(tkey, []byte("kerberos")); err != nil {
		return Keys{}, err
	}
	if k.AES128, err = deriveKeyAES(tkey[:16], []byte("kerberos")); err != nil {
		return Keys{}, err
	}
	return k, nil
}

// KeysFromString derives every key from a text password (users, computers).
func KeysFromString(password, salt string) (Keys, error) {
	return KeysFromUTF16(UTF16LE(password), salt)
}

// MachineSalt is the salt of a computer or gMSA account: UPPER(dns domain) + "host" +
// lower(sAMAccountName without "$") + "." + lower(dns domain). It uses the domain's DNS name,
// not the account's dNSHostName.
func MachineSalt(dnsDomain, samAccountName string) string {
	name := strings.TrimSuffix(samAccountName, "$")
	return strings.ToUpper(dnsDomain) + "host" + strings.ToLower(name) + "." + strings.ToLower(dnsDomain)
}

// UserSalt is the salt of a user account: UPPER(dns domain) + sAMAccountName (case kept).
func UserSalt(dnsDomain, samAccountName string) string {
	return strings.ToUpper(dnsDomain) + samAccountName
}

// Salt picks MachineSalt for names ending in "$" (computers, gMSAs) and UserSalt otherwise.
func Salt(dnsDomain, samAccountName string) string {
	if strings.HasSuffix(samAccountName, "$") {
		return MachineSalt(dnsDomain, samAccountName)
	}
	return UserSalt(dnsDomain, samAccountName)
}
