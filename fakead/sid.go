package fakead

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// SID is a security identifier ([MS-DTYP] 2.4.2). Authority is the 48-bit identifier authority.
type SID struct {
	Revision  byte
	Authority uint64
	Sub       []uint32
}

// maxSubAuthorities is the limit [MS-DTYP] 2.4.2.2 sets.
const maxSubAuthorities = 15

// ParseSID parses the string form "S-1-5-21-1004336348-1177238915-682003330-512".
func ParseSID(s string) (SID, error) {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || !strings.EqualFold(parts[0], "S") {
		return SID{}, fmt.Errorf("SID %q: want S-<revision>-<authority>[-<subauthority>...]", s)
	}
	rev, err := strconv.ParseUint(parts[1], 10, 8)
	if err != nil || rev != 1 {
		return SID{}, fmt.Errorf("SID %q: revision must be 1", s)
	}
	var auth uint64
	if strings.HasPrefix(parts[2], "0x") || strings.HasPrefix(parts[2], "0X") {
		auth, err = strconv.ParseUint(parts[2][2:], 16, 48)
	} else {
		auth, err = strconv.ParseUint(parts[2], 10, 48)
	}
	if err != nil {
		return SID{}, fmt.Errorf("SID %q: bad identifier authority %q", s, parts[2])
	}
	if len(parts)-3 > maxSubAuthorities {
		return SID{}, fmt.Errorf("SID %q: %d subauthorities, at most %d allowed", s, len(parts)-3, maxSubAuthorities)
	}
	sid := SID{Revision: 1, Authority: auth, Sub: make([]uint32, 0, len(parts)-3)}
	for _, p := range parts[3:] {
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return SID{}, fmt.Errorf("SID %q: bad subauthority %q", s, p)
		}
		sid.Sub = append(sid.Sub, uint32(v))
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

// SIDFromBytes decodes the binary form (objectSid's value).
func SIDFromBytes(b []byte) (SID, error) {
	if len(b) < 8 {
		return SID{}, fmt.Errorf("SID: %d bytes, want at least 8", len(b))
	}
	if b[0] != 1 {
		return SID{}, fmt.Errorf("SID: revision %d, want 1", b[0])
	}
	n := int(b[1])
	if n > maxSubAuthorities {
		return SID{}, fmt.Errorf("SID: %d subauthorities, at most %d allowed", n, maxSubAuthorities)
	}
	if len(b) != 8+4*n {
		return SID{}, fmt.Errorf("SID: %d bytes, want %d for %d subauthorities", len(b), 8+4*n, n)
	}
	var auth uint64
	for _, c := range b[2:8] {
		auth = auth<<8 | uint64(c)
	}
	sid := SID{Revision: 1, Authority: auth, Sub: make([]uint32, n)}
	for i := range n {
		sid.Sub[i] = binary.LittleEndian.Uint32(b[8+4*i:])
	}
	return sid, nil
}

// String formats the SID as "S-1-5-21-...".
func (s SID) String() string {
	var b strings.Builder
	b.WriteString("S-1-")
	if s.Authority >= 1<<32 {
		fmt.Fprintf(&b, "0x%012X", s.Authority)
	} else {
		b.WriteString(strconv.FormatUint(s.Authority, 10))
	}
	for _, v := range s.Sub {
		b.WriteByte('-')
		b.WriteString(strconv.FormatUint(uint64(v), 10))
	}
	return b.String()
}

// Bytes encodes the SID in its binary form.
func (s SID) Bytes() []byte {
	b := make([]byte, 8+4*len(s.Sub))
	b[0] = 1
	b[1] = byte(len(s.Sub))
	for i := range 6 {
		b[2+i] = byte(s.Authority >> (8 * (5 - i)))
	}
	for i, v := range s.Sub {
		binary.LittleEndian.PutUint32(b[8+4*i:], v)
	}
	return b
}

// IsZero reports whether s is the zero value (no SID).
func (s SID) IsZero() bool { return s.Revision == 0 && s.Authority == 0 && len(s.Sub) == 0 }

// RID is the last subauthority (0 if there is none).
func (s SID) RID() uint32 {
	if len(s.Sub) == 0 {
		return 0
	}
	return s.Sub[len(s.Sub)-1]
}

// WithRID returns the SID with rid appended: a domain SID plus a RID gives an account SID.
func (s SID) WithRID(rid uint32) SID {
	sub := make([]uint32, len(s.Sub)+1)
	copy(sub, s.Sub)
	sub[len(s.Sub)] = rid
	return SID{Revision: 1, Authority: s.Authority, Sub: sub}
}

// Domain returns the SID without its RID.
func (s SID) Domain() SID {
	if len(s.Sub) == 0 {
		return s
	}
	return SID{Revision: s.Revision, Authority: s.Authority, Sub: append([]uint32(nil), s.Sub[:len(s.Sub)-1]...)}
}

// Equal compares two SIDs.
func (s SID) Equal(o SID) bool {
	if s.Revision != o.Revision || s.Authority != o.Authority || len(s.Sub) != len(o.Sub) {
		return false
	}
	for i := range s.Sub {
		if s.Sub[i] != o.Sub[i] {
			return false
		}
	}
	return true
}
