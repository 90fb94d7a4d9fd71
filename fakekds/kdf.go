package fakekds

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"hash"
	"unicode/utf16"
)

// HashAlg is the HMAC hash of the SP 800-108 KDF, named in msKds-KDFParam.
type HashAlg int

// The hash algorithms [MS-GKDI] allows in KdfParameters.
const (
	SHA1 HashAlg = iota + 1
	SHA256
	SHA384
	SHA512
)

// DefaultHashAlg is the hash used when a root key has no msKds-KDFParam ([MS-GKDI]; Samba
// "the default used by Windows"). Keys written by Add-KdsRootKey carry SHA512.
const DefaultHashAlg = SHA256

// KDFAlgorithmID is the only msKds-KDFAlgorithmID value accepted (compared case-sensitively).
const KDFAlgorithmID = "SP800_108_CTR_HMAC"

// String returns the name as it appears in KdfParameters ("SHA512").
func (h HashAlg) String() string {
	switch h {
	case SHA1:
		return "SHA1"
	case SHA256:
		return "SHA256"
	case SHA384:
		return "SHA384"
	case SHA512:
		return "SHA512"
	}
	return "HashAlg(unknown)"
}

// ParseHashAlg maps "SHA1", "SHA256", "SHA384", "SHA512" (exact case) to a HashAlg.
func ParseHashAlg(name string) (HashAlg, error) {
	for _, h := range []HashAlg{SHA1, SHA256, SHA384, SHA512} {
		if h.String() == name {
			return h, nil
		}
	}
	return 0, errorf("ParseHashAlg", ErrInvalidArgument, "unknown hash %q (want SHA1, SHA256, SHA384 or SHA512)", name)
}

func (h HashAlg) newFunc() (func() hash.Hash, bool) {
	switch h {
	case SHA1:
		return sha1.New, true
	case SHA256:
		return sha256.New, true
	case SHA384:
		return sha512.New384, true
	case SHA512:
		return sha512.New, true
	}
	return nil, false
}

// KDF is NIST SP 800-108 counter mode with HMAC-h, a 32-bit big-endian counter before the fixed
// input and a 32-bit big-endian output length in bits after it:
//
//	K(i) = HMAC(key, BE32(i) || label || 0x00 || context || BE32(outLen*8))
//
// label is used as given (GKDI labels are UTF-16LE including their U+0000; see UTF16Z).
func KDF(h HashAlg, key, label, context []byte, outLen int) ([]byte, error) {
	newHash, ok := h.newFunc()
	if !ok {
		return nil, errorf("KDF", ErrInvalidArgument, "unknown hash algorithm %d", int(h))
	}
	if outLen <= 0 || outLen > 1<<20 {
		return nil, errorf("KDF", ErrInvalidArgument, "output length %d out of range", outLen)
	}
	mac := hmac.New(newHash, key)
	var ctr, bits [4]byte
	binary.BigEndian.PutUint32(bits[:], uint32(outLen)*8)
	out := make([]byte, 0, outLen+mac.Size())
	for i := uint32(1); len(out) < outLen; i++ {
		mac.Reset()
		binary.BigEndian.PutUint32(ctr[:], i)
		mac.Write(ctr[:])
		mac.Write(label)
		mac.Write([]byte{0})
		mac.Write(context)
		mac.Write(bits[:])
		out = mac.Sum(out)
	}
	return out[:outLen], nil
}

// UTF16Z encodes s as UTF-16LE followed by a U+0000 terminator, the form GKDI uses for labels,
// hash names and DNS names inside binary structures.
func UTF16Z(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(u)+2)
	for _, c := range u {
		b = append(b, byte(c), byte(c>>8))
	}
	return append(b, 0, 0)
}

// MarshalKdfParameters returns the msKds-KDFParam blob naming h: u32 0, u32 1, u32 byte length
// of the UTF-16LE name including its NUL, u32 0, the name.
func MarshalKdfParameters(h HashAlg) []byte {
	name := UTF16Z(h.String())
	b := make([]byte, 16, 16+len(name))
	binary.LittleEndian.PutUint32(b[4:], 1)
	binary.LittleEndian.PutUint32(b[8:], uint32(len(name)))
	return append(b, name...)
}

// ParseKdfParameters parses an msKds-KDFParam blob. A nil or empty blob (attribute absent)
// means DefaultHashAlg (SHA256).
func ParseKdfParameters(b []byte) (HashAlg, error) {
	const op = "ParseKdfParameters"
	if len(b) == 0 {
		return DefaultHashAlg, nil
	}
	if len(b) < 16 {
		return 0, errorf(op, ErrMalformed, "%d bytes, want at least 16", len(b))
	}
	p0 := binary.LittleEndian.Uint32(b[0:])
	p1 := binary.LittleEndian.Uint32(b[4:])
	n := binary.LittleEndian.Uint32(b[8:])
	p2 := binary.LittleEndian.Uint32(b[12:])
	if p0 != 0 || p1 != 1 || p2 != 0 {
		return 0, errorf(op, ErrMalformed, "header fields %d,%d,%d, want 0,1,0", p0, p1, p2)
	}
	if uint64(n) != uint64(len(b)-16) {
		return 0, errorf(op, ErrMalformed, "name length %d, but %d bytes follow the header", n, len(b)-16)
	}
	name, ok := decodeUTF16Z(b[16:])
	if !ok {
		return 0, errorf(op, ErrMalformed, "hash name is not NUL-terminated UTF-16LE")
	}
	h, err := ParseHashAlg(name)
	if err != nil {
		return 0, errorf(op, ErrMalformed, "unknown hash name %q", name)
	}
	return h, nil
}

// decodeUTF16Z decodes UTF-16LE that ends with exactly one U+0000 and contains no other NUL
// and no unpaired surrogate (so that re-encoding gives the same bytes).
func decodeUTF16Z(b []byte) (string, bool) {
	if len(b) < 2 || len(b)%2 != 0 || b[len(b)-1] != 0 || b[len(b)-2] != 0 {
		return "", false
	}
	u := make([]uint16, 0, len(b)/2-1)
	for i := 0; i+2 < len(b); i += 2 {
		c := uint16(b[i]) | uint16(b[i+1])<<8
		if c == 0 {
			return "", false
		}
		u = append(u, c)
	}
	for i := 0; i < len(u); i++ {
		switch {
		case utf16.IsSurrogate(rune(u[i])) && u[i] < 0xdc00 && i+1 < len(u) && u[i+1] >= 0xdc00 && u[i+1] <= 0xdfff:
			i++
		case utf16.IsSurrogate(rune(u[i])):
			return "", false
		}
	}
	return string(utf16.Decode(u)), true
}
