package fakekds

import "encoding/hex"

// GUID is a GUID held in the order of its canonical text form (RFC 4122 / big-endian fields).
// Bytes gives the MS-DTYP wire layout that GKDI contexts and KeyEnvelopes use.
type GUID [16]byte

// ParseGUID parses the canonical 36-character form "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
// (optionally in braces), any case.
func ParseGUID(s string) (GUID, error) {
	var g GUID
	if len(s) == 38 && s[0] == '{' && s[37] == '}' {
		s = s[1:37]
	}
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return g, errorf("ParseGUID", ErrMalformed, "%q is not a GUID of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", s)
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	if _, err := hex.Decode(g[:], []byte(h)); err != nil {
		return GUID{}, errorf("ParseGUID", ErrMalformed, "%q: %v", s, err)
	}
	return g, nil
}

// String returns the canonical lowercase text form.
func (g GUID) String() string {
	h := hex.EncodeToString(g[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// Bytes returns the MS-DTYP layout: Data1 (4 bytes), Data2 and Data3 (2 bytes each)
// little-endian, then Data4 as is (.NET Guid.ToByteArray, Python uuid.bytes_le).
func (g GUID) Bytes() []byte {
	b := make([]byte, 16)
	b[0], b[1], b[2], b[3] = g[3], g[2], g[1], g[0]
	b[4], b[5] = g[5], g[4]
	b[6], b[7] = g[7], g[6]
	copy(b[8:], g[8:])
	return b
}

// GUIDFromBytes is the inverse of Bytes.
func GUIDFromBytes(b []byte) (GUID, error) {
	var g GUID
	if len(b) != 16 {
		return g, errorf("GUIDFromBytes", ErrMalformed, "%d bytes, want 16", len(b))
	}
	g[0], g[1], g[2], g[3] = b[3], b[2], b[1], b[0]
	g[4], g[5] = b[5], b[4]
	g[6], g[7] = b[7], b[6]
	copy(g[8:], b[8:])
	return g, nil
}
