package main

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"math/rand/v2"
	"unicode/utf16"
)

// Attr is one attribute of an entry to add, in the order it is sent.
type Attr struct {
	Type   string
	Values []string
}

// UserEntry is the add request body for user i under the profile. With an empty password the user
// gets none: AD then creates it disabled, slapd without userPassword (neither can bind as it).
func (c *Config) UserEntry(i int) []Attr {
	name := UserName(i)
	switch c.Profile.Name {
	case "inetorgperson":
		attrs := []Attr{
			{"objectClass", []string{"inetOrgPerson"}},
			{"uid", []string{name}},
			{"cn", []string{name}},
			{"sn", []string{name}},
		}
		if c.UserPW != "" {
			attrs = append(attrs, Attr{"userPassword", []string{SSHA(c.UserPW, c.salt(i))}})
		}
		return attrs
	default: // "ad"
		attrs := []Attr{
			{"objectClass", []string{"top", "person", "organizationalPerson", "user"}},
			{"cn", []string{name}},
			{"sAMAccountName", []string{name}},
		}
		if c.UserPW != "" {
			// NORMAL_ACCOUNT (0x200): with a password set in the same add, AD creates the
			// account enabled; without one it would be ACCOUNTDISABLE|NORMAL_ACCOUNT (514).
			attrs = append(attrs,
				Attr{"unicodePwd", []string{UnicodePwd(c.UserPW)}},
				Attr{"userAccountControl", []string{"512"}})
		}
		return attrs
	}
}

// salt is 8 bytes for user i's {SSHA} hash, drawn from the seed so a load is reproducible.
func (c *Config) salt(i int) []byte {
	r := rand.New(rand.NewPCG(c.Seed, uint64(i)))
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], r.Uint64())
	return b[:]
}

// SSHA is OpenLDAP's salted SHA-1 password scheme, "{SSHA}" + base64(SHA1(pw ‖ salt) ‖ salt):
// how slapd stores passwords in a usual deployment, so a slapd bind does a hash as an AD bind does.
func SSHA(password string, salt []byte) string {
	h := sha1.New()
	h.Write([]byte(password))
	h.Write(salt)
	return "{SSHA}" + base64.StdEncoding.EncodeToString(append(h.Sum(nil), salt...))
}

// UnicodePwd is the value AD takes in unicodePwd: the password in double quotes, UTF-16LE
// ([MS-ADTS] 3.1.1.3.1.5.1). AD accepts it only on an encrypted connection.
func UnicodePwd(password string) string {
	u := utf16.Encode([]rune(`"` + password + `"`))
	b := make([]byte, 2*len(u))
	for i, r := range u {
		binary.LittleEndian.PutUint16(b[2*i:], r)
	}
	return string(b)
}
