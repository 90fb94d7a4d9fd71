package gss

import (
	"encoding/binary"
	"fmt"
)

// Security layers of RFC 4752 section 3.1 (a bit mask).
const (
	LayerNone            = 0x01
	LayerIntegrity       = 0x02
	LayerConfidentiality = 0x04
)

// LayerMessage is the 4-octet message of the last GSSAPI SASL step, wrapped in a wrap token: the
// server offers the layers it supports and the largest buffer it takes; the client answers with
// the one layer it chose, the largest buffer it takes, and an optional authorization identity.
type LayerMessage struct {
	Layers  byte
	MaxSize uint32 // 24 bits
	AuthzID string // client → server only
}

// Marshal encodes m. MaxSize is truncated to 24 bits.
func (m LayerMessage) Marshal() []byte {
	b := make([]byte, 4, 4+len(m.AuthzID))
	binary.BigEndian.PutUint32(b, m.MaxSize&0xffffff)
	b[0] = m.Layers
	return append(b, m.AuthzID...)
}

// ParseLayerMessage decodes the unwrapped payload of the negotiation step.
func ParseLayerMessage(b []byte) (LayerMessage, error) {
	if len(b) < 4 {
		return LayerMessage{}, fmt.Errorf("gss: security layer message of %d bytes, want at least 4", len(b))
	}
	return LayerMessage{Layers: b[0], MaxSize: binary.BigEndian.Uint32(b) & 0xffffff, AuthzID: string(b[4:])}, nil
}
