package fakead

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// String formats the GUID canonically, "6f1d2c1e-5b7a-4c1f-9a0e-2b8f4f1c3d55", reading the first
// three fields little-endian as MS-DTYP 2.3.4 lays them out.
func (g GUID) String() string {
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x",
		binary.LittleEndian.Uint32(g[0:4]), binary.LittleEndian.Uint16(g[4:6]),
		binary.LittleEndian.Uint16(g[6:8]), g[8:10], g[10:16])
}

// IsZero reports whether g is the nil GUID.
func (g GUID) IsZero() bool { return g == GUID{} }

// ParseGUID parses the canonical text form, with or without braces.
func ParseGUID(s string) (GUID, error) {
	var g GUID
	t := strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	if len(t) != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-' {
		return g, fmt.Errorf("GUID %q: want the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", s)
	}
	raw, err := hex.DecodeString(t[0:8] + t[9:13] + t[14:18] + t[19:23] + t[24:36])
	if err != nil {
		return g, fmt.Errorf("GUID %q: %v", s, err)
	}
	binary.LittleEndian.PutUint32(g[0:4], binary.BigEndian.Uint32(raw[0:4]))
	binary.LittleEndian.PutUint16(g[4:6], binary.BigEndian.Uint16(raw[4:6]))
	binary.LittleEndian.PutUint16(g[6:8], binary.BigEndian.Uint16(raw[6:8]))
	copy(g[8:], raw[8:])
	return g, nil
}

// GUIDFromBytes takes the 16 bytes of an objectGUID value.
func GUIDFromBytes(b []byte) (GUID, error) {
	var g GUID
	if len(b) != 16 {
		return g, fmt.Errorf("GUID: want 16 bytes, got %d", len(b))
	}
	copy(g[:], b)
	return g, nil
}
