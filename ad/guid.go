package ad

import (
	"bytes"
	"encoding/hex"
)

// GUID is a GUID held in its wire layout ([MS-DTYP] 2.3.4.2): Data1 (4 bytes), Data2 and Data3
// (2 bytes each) little-endian, then Data4's 8 bytes as they are. That is how AD stores objectGUID
// and schemaIDGUID, how GKDI puts a root key id into KDF contexts and KeyEnvelopes, and what .NET's
// Guid.ToByteArray and Python's uuid.bytes_le give. The text form
// ("6f1d2c1e-5b7a-4c1f-9a0e-2b8f4f1c3d55") reads the first three fields as numbers, so its first
// eight bytes appear swapped relative to the wire bytes. Convert only through ParseGUID/String
// (text) and GUIDFromWire/Wire (bytes); g[:] is the wire form.
type GUID [16]byte

// ParseGUID parses the text form "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", optionally in braces,
// any case.
func ParseGUID(s string) (GUID, error) {
	t := s
	if len(t) == 38 && t[0] == '{' && t[37] == '}' {
		t = t[1:37]
	}
	if len(t) != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-' {
		return GUID{}, syntaxErr("GUID", s, "want the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")
	}
	var text [16]byte
	if _, err := hex.Decode(text[:], []byte(t[0:8]+t[9:13]+t[14:18]+t[19:23]+t[24:36])); err != nil {
		return GUID{}, syntaxErr("GUID", s, "%v", err)
	}
	return GUID(swapFields(text)), nil
}

// MustParseGUID is ParseGUID for constants; it panics on a malformed literal.
func MustParseGUID(s string) GUID {
	g, err := ParseGUID(s)
	if err != nil {
		panic(err)
	}
	return g
}

// GUIDFromWire takes the 16 bytes of the wire layout (an objectGUID value, a KeyEnvelope's root
// key id).
func GUIDFromWire(b []byte) (GUID, error) {
	var g GUID
	if len(b) != 16 {
		return g, syntaxErr("GUID", "", "%d bytes, want 16", len(b))
	}
	copy(g[:], b)
	return g, nil
}

// Wire returns a copy of the 16 bytes of the wire layout.
func (g GUID) Wire() []byte { return append([]byte(nil), g[:]...) }

// String formats the text form in lower case.
func (g GUID) String() string {
	text := swapFields(g)
	h := hex.EncodeToString(text[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// IsZero reports whether g is the nil GUID.
func (g GUID) IsZero() bool { return g == GUID{} }

// Compare orders GUIDs as their text forms sort (-1, 0, +1): the order a tie between root keys
// is broken in, whatever the byte layout.
func (g GUID) Compare(o GUID) int {
	a, b := swapFields(g), swapFields(o)
	return bytes.Compare(a[:], b[:])
}

// swapFields converts between the wire layout and the text (big-endian field) order; it is its
// own inverse.
func swapFields(g [16]byte) [16]byte {
	g[0], g[1], g[2], g[3] = g[3], g[2], g[1], g[0]
	g[4], g[5] = g[5], g[4]
	g[6], g[7] = g[7], g[6]
	return g
}
