package fakekds

import (
	"encoding/binary"

	"github.com/gmsasim/gmsasim/ad"
)

// KeyEnvelope constants.
const (
	// KeyEnvelopeMagic is "KDSK" read as a little-endian u32.
	KeyEnvelopeMagic uint32 = 0x4b53444b
	// EnvelopeFlagKeyMayEncryptNewData (2) is the flag Windows sets in msDS-ManagedPasswordId.
	EnvelopeFlagKeyMayEncryptNewData uint32 = 2

	keyEnvelopeHeader = 52
	// MaxPasswordIDLength is rangeUpper of msDS-ManagedPasswordId ([MS-ADA2]).
	MaxPasswordIDLength = 1024
)

// PasswordID is msDS-ManagedPasswordId / msDS-ManagedPasswordPreviousId, a KeyEnvelope
// without key material (layout: Samba librpc/idl/gkdi.idl KeyEnvelope; DSInternals
// ProtectionKeyIdentifier). All integers little-endian:
//
//	version u32 | "KDSK" | flags u32 | L0 i32 | L1 i32 | L2 i32 | root key id (16, MS-DTYP) |
//	additional info len u32 | domain len u32 | forest len u32 | additional info | domain | forest
//
// Domain and forest are DNS names in UTF-16LE with a terminating NUL, lengths in bytes.
type PasswordID struct {
	Version        uint32 // root key msKds-Version, 1
	Flags          uint32 // EnvelopeFlagKeyMayEncryptNewData
	GKID           GKID
	RootKeyID      ad.GUID
	AdditionalInfo []byte // empty for gMSA
	Domain         string // DNS domain name
	Forest         string // DNS forest name
}

// NewPasswordID returns the id Windows writes for a gMSA: version 1, flags 2, no additional info.
func NewPasswordID(rootKeyID ad.GUID, g GKID, domain, forest string) PasswordID {
	return PasswordID{Version: RootKeyVersion, Flags: EnvelopeFlagKeyMayEncryptNewData, GKID: g, RootKeyID: rootKeyID, Domain: domain, Forest: forest}
}

// Marshal returns the binary form (100 bytes for contoso.com).
func (p PasswordID) Marshal() []byte {
	dom, forest := UTF16Z(p.Domain), UTF16Z(p.Forest)
	b := make([]byte, 0, keyEnvelopeHeader+len(p.AdditionalInfo)+len(dom)+len(forest))
	b = binary.LittleEndian.AppendUint32(b, p.Version)
	b = binary.LittleEndian.AppendUint32(b, KeyEnvelopeMagic)
	b = binary.LittleEndian.AppendUint32(b, p.Flags)
	b = binary.LittleEndian.AppendUint32(b, uint32(p.GKID.L0))
	b = binary.LittleEndian.AppendUint32(b, uint32(p.GKID.L1))
	b = binary.LittleEndian.AppendUint32(b, uint32(p.GKID.L2))
	b = append(b, p.RootKeyID.Wire()...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(p.AdditionalInfo)))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(dom)))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(forest)))
	b = append(b, p.AdditionalInfo...)
	b = append(b, dom...)
	return append(b, forest...)
}

// ParsePasswordID parses msDS-ManagedPasswordId. It requires the KDSK magic, version 1, a
// valid L2 GKID, lengths that add up exactly to len(b), and NUL-terminated UTF-16LE names.
func ParsePasswordID(b []byte) (PasswordID, error) {
	const op = "ParsePasswordID"
	if len(b) < keyEnvelopeHeader {
		return PasswordID{}, errorf(op, ErrMalformed, "%d bytes, a KeyEnvelope has a %d-byte header", len(b), keyEnvelopeHeader)
	}
	if len(b) > MaxPasswordIDLength {
		return PasswordID{}, errorf(op, ErrMalformed, "%d bytes, more than rangeUpper %d", len(b), MaxPasswordIDLength)
	}
	u32 := func(off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
	var p PasswordID
	p.Version = u32(0)
	if m := u32(4); m != KeyEnvelopeMagic {
		return PasswordID{}, errorf(op, ErrMalformed, "magic %08x, want %08x (\"KDSK\")", m, KeyEnvelopeMagic)
	}
	if p.Version != RootKeyVersion {
		return PasswordID{}, errorf(op, ErrMalformed, "version %d, only 1 is defined", p.Version)
	}
	p.Flags = u32(8)
	p.GKID = GKID{int32(u32(12)), int32(u32(16)), int32(u32(20))}
	if err := p.GKID.Validate(); err != nil || !p.GKID.IsL2() {
		return PasswordID{}, errorf(op, ErrMalformed, "GKID %v is not a valid L2 identifier", p.GKID)
	}
	p.RootKeyID, _ = ad.GUIDFromWire(b[24:40])
	infoLen, domLen, forestLen := uint64(u32(40)), uint64(u32(44)), uint64(u32(48))
	if total := keyEnvelopeHeader + infoLen + domLen + forestLen; total != uint64(len(b)) {
		return PasswordID{}, errorf(op, ErrMalformed, "lengths %d+%d+%d after the header need %d bytes, have %d", infoLen, domLen, forestLen, total, len(b))
	}
	off := uint64(keyEnvelopeHeader)
	if infoLen > 0 {
		p.AdditionalInfo = append([]byte(nil), b[off:off+infoLen]...)
	}
	off += infoLen
	var ok bool
	if p.Domain, ok = decodeUTF16Z(b[off : off+domLen]); !ok {
		return PasswordID{}, errorf(op, ErrMalformed, "domain name is not NUL-terminated UTF-16LE")
	}
	off += domLen
	if p.Forest, ok = decodeUTF16Z(b[off : off+forestLen]); !ok {
		return PasswordID{}, errorf(op, ErrMalformed, "forest name is not NUL-terminated UTF-16LE")
	}
	return p, nil
}
