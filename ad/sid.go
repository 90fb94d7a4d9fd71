package ad

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// SID is a security identifier ([MS-DTYP] 2.4.2). Its revision is always 1 (SID_REVISION, the only
// one), so it is not stored. The zero value is "no SID".
type SID struct {
	Authority    uint64   // the 48-bit IdentifierAuthority
	SubAuthority []uint32 // at most MaxSubAuthorities
}

// MaxSubAuthorities is the limit [MS-DTYP] 2.4.2.2 sets on a SID's sub-authority count.
const MaxSubAuthorities = 15

// Well-known SIDs ([MS-DTYP] 2.4.2.4) the simulator names.
const (
	SIDEnterpriseDCs         = "S-1-5-9"      // ENTERPRISE_DOMAIN_CONTROLLERS
	SIDAuthenticatedUsers    = "S-1-5-11"     // AUTHENTICATED_USERS
	SIDLocalSystem           = "S-1-5-18"     // LOCAL_SYSTEM
	SIDBuiltinAdministrators = "S-1-5-32-544" // BUILTIN\Administrators, the owner the AD module writes
)

const (
	// sidAuthorityHexThreshold: from 2^32 on, ConvertSidToStringSid writes the authority in hex.
	sidAuthorityHexThreshold = 1 << 32
	// identifierAuthorityBits is the width of a SID's IdentifierAuthority.
	identifierAuthorityBits = 48
)

// ParseSID parses the string form "S-1-5-21-1004336348-1177238915-682003330-512". The identifier
// authority may be decimal or 0x-prefixed hexadecimal ([MS-DTYP] 2.4.2.1); the revision must be 1.
func ParseSID(s string) (SID, error) {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || !strings.EqualFold(parts[0], "S") {
		return SID{}, syntaxErr("SID", s, "want S-1-<authority>[-<subauthority>...]")
	}
	if rev, err := strconv.ParseUint(parts[1], 10, 8); err != nil || rev != 1 {
		return SID{}, syntaxErr("SID", s, "revision %q, want 1", parts[1])
	}
	var auth uint64
	var err error
	if len(parts[2]) > 2 && (parts[2][:2] == "0x" || parts[2][:2] == "0X") {
		auth, err = strconv.ParseUint(parts[2][2:], 16, identifierAuthorityBits)
	} else {
		auth, err = strconv.ParseUint(parts[2], 10, identifierAuthorityBits)
	}
	if err != nil {
		return SID{}, syntaxErr("SID", s, "identifier authority %q", parts[2])
	}
	subs := parts[3:]
	if len(subs) > MaxSubAuthorities {
		return SID{}, syntaxErr("SID", s, "%d sub-authorities, at most %d", len(subs), MaxSubAuthorities)
	}
	sid := SID{Authority: auth, SubAuthority: make([]uint32, len(subs))}
	for i, p := range subs {
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return SID{}, syntaxErr("SID", s, "sub-authority %q", p)
		}
		sid.SubAuthority[i] = uint32(v)
	}
	return sid, nil
}

// MustParseSID is ParseSID for constants; it panics on a malformed literal.
func MustParseSID(s string) SID {
	sid, err := ParseSID(s)
	if err != nil {
		panic(err)
	}
	return sid
}

// SIDFromBytes decodes the binary form (objectSid's value); b must hold exactly one SID.
func SIDFromBytes(b []byte) (SID, error) {
	sid, n, err := ReadSID(b)
	if err != nil {
		return SID{}, err
	}
	if n != len(b) {
		return SID{}, syntaxErr("SID", "", "%d bytes, want %d for %d sub-authorities", len(b), n, len(sid.SubAuthority))
	}
	return sid, nil
}

// ReadSID decodes the binary SID at the front of b and returns it with its length in bytes
// (for SIDs embedded in security descriptors and ACEs).
func ReadSID(b []byte) (SID, int, error) {
	if len(b) < 8 {
		return SID{}, 0, syntaxErr("SID", "", "%d bytes, want at least 8", len(b))
	}
	if b[0] != 1 {
		return SID{}, 0, syntaxErr("SID", "", "revision %d, want 1", b[0])
	}
	n := int(b[1])
	if n > MaxSubAuthorities {
		return SID{}, 0, syntaxErr("SID", "", "%d sub-authorities, at most %d", n, MaxSubAuthorities)
	}
	size := 8 + 4*n
	if len(b) < size {
		return SID{}, 0, syntaxErr("SID", "", "%d bytes, want %d for %d sub-authorities", len(b), size, n)
	}
	sid := SID{SubAuthority: make([]uint32, n)}
	for _, c := range b[2:8] {
		sid.Authority = sid.Authority<<8 | uint64(c)
	}
	for i := range sid.SubAuthority {
		sid.SubAuthority[i] = binary.LittleEndian.Uint32(b[8+4*i:])
	}
	return sid, size, nil
}

// String formats the SID as "S-1-5-21-...". An identifier authority of 2^32 or more is written
// as 0x and 12 hexadecimal digits, a smaller one in decimal, as Windows' ConvertSidToStringSid does.
func (s SID) String() string {
	var b strings.Builder
	b.WriteString("S-1-")
	if s.Authority >= sidAuthorityHexThreshold {
		fmt.Fprintf(&b, "0x%012X", s.Authority)
	} else {
		b.WriteString(strconv.FormatUint(s.Authority, 10))
	}
	for _, v := range s.SubAuthority {
		b.WriteByte('-')
		b.WriteString(strconv.FormatUint(uint64(v), 10))
	}
	return b.String()
}

// Bytes encodes the binary form ([MS-DTYP] 2.4.2.2): revision, sub-authority count, the 6-byte
// big-endian identifier authority, then each sub-authority as a little-endian uint32.
func (s SID) Bytes() []byte {
	b := make([]byte, 8+4*len(s.SubAuthority))
	b[0] = 1
	b[1] = byte(len(s.SubAuthority))
	for i := range 6 {
		b[2+i] = byte(s.Authority >> (8 * (5 - i)))
	}
	for i, v := range s.SubAuthority {
		binary.LittleEndian.PutUint32(b[8+4*i:], v)
	}
	return b
}

// IsZero reports whether s is the zero value (no SID).
func (s SID) IsZero() bool { return s.Authority == 0 && len(s.SubAuthority) == 0 }

// RID is the last sub-authority (0 if there is none).
func (s SID) RID() uint32 {
	if len(s.SubAuthority) == 0 {
		return 0
	}
	return s.SubAuthority[len(s.SubAuthority)-1]
}

// WithRID returns the SID with rid appended: a domain SID plus a RID gives an account SID.
func (s SID) WithRID(rid uint32) SID {
	sub := make([]uint32, len(s.SubAuthority)+1)
	copy(sub, s.SubAuthority)
	sub[len(s.SubAuthority)] = rid
	return SID{Authority: s.Authority, SubAuthority: sub}
}

// Domain returns the SID without its RID.
func (s SID) Domain() SID {
	if len(s.SubAuthority) == 0 {
		return s
	}
	return SID{Authority: s.Authority,
		SubAuthority: append([]uint32(nil), s.SubAuthority[:len(s.SubAuthority)-1]...)}
}

// Equal compares two SIDs.
func (s SID) Equal(o SID) bool {
	if s.Authority != o.Authority || len(s.SubAuthority) != len(o.SubAuthority) {
		return false
	}
	for i := range s.SubAuthority {
		if s.SubAuthority[i] != o.SubAuthority[i] {
			return false
		}
	}
	return true
}
