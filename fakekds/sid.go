package fakekds

import (
	"encoding/binary"
	"strconv"
	"strings"
)

// maxSubAuthorities is the MS-DTYP limit on a SID's sub-authority count.
const maxSubAuthorities = 15

// SID is a security identifier. fakekds needs only its binary form (the password KDF context)
// and its string form; fakead has its own richer type.
type SID struct {
	Revision       byte
	Authority      uint64 // 48-bit identifier authority
	SubAuthorities []uint32
}

// ParseSID parses "S-1-5-21-...". The authority may be decimal or 0x-prefixed hex.
func ParseSID(s string) (SID, error) {
	const op = "ParseSID"
	parts := strings.Split(s, "-")
	if len(parts) < 3 || !strings.EqualFold(parts[0], "S") {
		return SID{}, errorf(op, ErrMalformed, "%q does not look like S-R-A[-S...]", s)
	}
	rev, err := strconv.ParseUint(parts[1], 10, 8)
	if err != nil || rev != 1 {
		return SID{}, errorf(op, ErrMalformed, "%q: revision %q, want 1", s, parts[1])
	}
	var auth uint64
	if strings.HasPrefix(strings.ToLower(parts[2]), "0x") {
		auth, err = strconv.ParseUint(parts[2][2:], 16, 48)
	} else {
		auth, err = strconv.ParseUint(parts[2], 10, 48)
	}
	if err != nil {
		return SID{}, errorf(op, ErrMalformed, "%q: identifier authority %q", s, parts[2])
	}
	subs := parts[3:]
	if len(subs) > maxSubAuthorities {
		return SID{}, errorf(op, ErrMalformed, "%q: %d sub-authorities, at most %d", s, len(subs), maxSubAuthorities)
	}
	sid := SID{Revision: byte(rev), Authority: auth, SubAuthorities: make([]uint32, len(subs))}
	for i, p := range subs {
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return SID{}, errorf(op, ErrMalformed, "%q: sub-authority %q", s, p)
		}
		sid.SubAuthorities[i] = uint32(v)
	}
	return sid, nil
}

// String returns the SDDL form.
func (s SID) String() string {
	var b strings.Builder
	b.WriteString("S-")
	b.WriteString(strconv.Itoa(int(s.Revision)))
	b.WriteByte('-')
	if s.Authority >= 1<<32 {
		b.WriteString("0x" + strconv.FormatUint(s.Authority, 16))
	} else {
		b.WriteString(strconv.FormatUint(s.Authority, 10))
	}
	for _, v := range s.SubAuthorities {
		b.WriteByte('-')
		b.WriteString(strconv.FormatUint(uint64(v), 10))
	}
	return b.String()
}

// Bytes returns the binary form: revision, sub-authority count, 6-byte big-endian authority,
// then each sub-authority as a little-endian u32.
func (s SID) Bytes() []byte {
	b := make([]byte, 8+4*len(s.SubAuthorities))
	b[0] = s.Revision
	b[1] = byte(len(s.SubAuthorities))
	for i := 0; i < 6; i++ {
		b[2+i] = byte(s.Authority >> (8 * (5 - i)))
	}
	for i, v := range s.SubAuthorities {
		binary.LittleEndian.PutUint32(b[8+4*i:], v)
	}
	return b
}

// SIDFromBytes parses the binary form; b must hold exactly one SID.
func SIDFromBytes(b []byte) (SID, error) {
	const op = "SIDFromBytes"
	if len(b) < 8 {
		return SID{}, errorf(op, ErrMalformed, "%d bytes, want at least 8", len(b))
	}
	n := int(b[1])
	if b[0] != 1 || n > maxSubAuthorities || len(b) != 8+4*n {
		return SID{}, errorf(op, ErrMalformed, "revision %d, %d sub-authorities, %d bytes", b[0], n, len(b))
	}
	s := SID{Revision: b[0], SubAuthorities: make([]uint32, n)}
	for i := 0; i < 6; i++ {
		s.Authority = s.Authority<<8 | uint64(b[2+i])
	}
	for i := range s.SubAuthorities {
		s.SubAuthorities[i] = binary.LittleEndian.Uint32(b[8+4*i:])
	}
	return s, nil
}
