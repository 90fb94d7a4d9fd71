package ntlm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"unicode/utf16"
)

// signature opens every NTLM message ([MS-NLMP] 2.2.1).
var signature = []byte("NTLMSSP\x00")

// Message types ([MS-NLMP] 2.2.1.1-2.2.1.3).
const (
	typeNegotiate    = 1
	typeChallenge    = 2
	typeAuthenticate = 3
)

// MaxMessageSize bounds every NTLM message this package parses. The 16-bit length fields cap a
// real AUTHENTICATE_MESSAGE's payloads at a few hundred KiB in theory and about 1 KiB in practice;
// anything larger is refused as ErrMalformed before it is looked at.
const MaxMessageSize = 64 << 10

// AV_PAIR identifiers ([MS-NLMP] 2.2.2.1).
const (
	AvEOL             = 0x0000 // MsvAvEOL
	AvNbComputerName  = 0x0001 // MsvAvNbComputerName
	AvNbDomainName    = 0x0002 // MsvAvNbDomainName
	AvDNSComputerName = 0x0003 // MsvAvDnsComputerName
	AvDNSDomainName   = 0x0004 // MsvAvDnsDomainName
	AvDNSTreeName     = 0x0005 // MsvAvDnsTreeName
	AvFlags           = 0x0006 // MsvAvFlags
	AvTimestamp       = 0x0007 // MsvAvTimestamp
	AvSingleHost      = 0x0008 // MsvAvSingleHost
	AvTargetName      = 0x0009 // MsvAvTargetName
	AvChannelBindings = 0x000a // MsvAvChannelBindings
)

// avFlagMICPresent is bit 0x2 of MsvAvFlags: the AUTHENTICATE_MESSAGE carries a MIC.
const avFlagMICPresent = 0x00000002

// AVPair is one AV_PAIR of a TargetInfo list ([MS-NLMP] 2.2.2.1).
type AVPair struct {
	ID    uint16
	Value []byte
}

// Negotiate is a parsed NEGOTIATE_MESSAGE ([MS-NLMP] 2.2.1.1).
type Negotiate struct {
	Flags       Flags
	Domain      string // OEM, present only with FlagOEMDomainSupplied
	Workstation string // OEM, present only with FlagOEMWorkstationSupplied
}

// Authenticate is a parsed AUTHENTICATE_MESSAGE ([MS-NLMP] 2.2.1.3). Byte slices alias the input.
type Authenticate struct {
	Flags                     Flags
	LMResponse                []byte // LmChallengeResponse
	NTResponse                []byte // NtChallengeResponse
	Domain                    string
	User                      string
	Workstation               string
	EncryptedRandomSessionKey []byte
}

// field is a (Len, MaxLen, BufferOffset) triple as every NTLM message uses for its payloads.
type field struct {
	len    uint16
	offset uint32
}

func readField(msg []byte, at int) field {
	return field{len: binary.LittleEndian.Uint16(msg[at:]), offset: binary.LittleEndian.Uint32(msg[at+4:])}
}

// bytesOf returns the payload a field points at, checking it lies inside msg and does not overlap
// the fixed header that ends at headerEnd.
func (f field) bytesOf(msg []byte, headerEnd int, name string) ([]byte, error) {
	if f.len == 0 {
		return nil, nil
	}
	start := int64(f.offset)
	end := start + int64(f.len)
	if start < int64(headerEnd) || end > int64(len(msg)) {
		return nil, fmt.Errorf("ntlm: %s at offset %d length %d outside the %d-byte message: %w",
			name, f.offset, f.len, len(msg), ErrMalformed)
	}
	return msg[start:end], nil
}

func checkHeader(msg []byte, want uint32, minLen int) error {
	if len(msg) > MaxMessageSize {
		return fmt.Errorf("ntlm: message of %d bytes exceeds %d: %w", len(msg), MaxMessageSize, ErrMalformed)
	}
	if len(msg) < minLen {
		return fmt.Errorf("ntlm: message of %d bytes shorter than %d: %w", len(msg), minLen, ErrMalformed)
	}
	if !bytes.Equal(msg[:8], signature) {
		return fmt.Errorf("ntlm: no NTLMSSP signature: %w", ErrMalformed)
	}
	if got := binary.LittleEndian.Uint32(msg[8:]); got != want {
		return fmt.Errorf("ntlm: message type %d, want %d: %w", got, want, ErrMalformed)
	}
	return nil
}

// ParseNegotiate parses a NEGOTIATE_MESSAGE. The 16-byte form (no Domain/Workstation fields) that
// some old clients send is accepted; the fields are then read only when their flag says so.
func ParseNegotiate(msg []byte) (*Negotiate, error) {
	if err := checkHeader(msg, typeNegotiate, 16); err != nil {
		return nil, err
	}
	n := &Negotiate{Flags: Flags(binary.LittleEndian.Uint32(msg[12:]))}
	if len(msg) < 32 {
		return n, nil
	}
	if n.Flags.Has(FlagOEMDomainSupplied) {
		b, err := readField(msg, 16).bytesOf(msg, 32, "negotiate DomainName")
		if err != nil {
			return nil, err
		}
		n.Domain = oemString(b)
	}
	if n.Flags.Has(FlagOEMWorkstationSupplied) {
		b, err := readField(msg, 24).bytesOf(msg, 32, "negotiate Workstation")
		if err != nil {
			return nil, err
		}
		n.Workstation = oemString(b)
	}
	return n, nil
}

// authHeaderLen is the AUTHENTICATE_MESSAGE's fixed part before Version and MIC.
const authHeaderLen = 64

// micOffset is where the MIC sits when Version (8 bytes at 64) and MIC (16 bytes at 72) are present.
const micOffset = 72

// ParseAuthenticate parses an AUTHENTICATE_MESSAGE. Every offset and length is checked against the
// message; strings are UTF-16LE when the message's flags say FlagUnicode, OEM (bytes as Latin-1)
// otherwise.
func ParseAuthenticate(msg []byte) (*Authenticate, error) {
	if err := checkHeader(msg, typeAuthenticate, authHeaderLen); err != nil {
		return nil, err
	}
	a := &Authenticate{Flags: Flags(binary.LittleEndian.Uint32(msg[60:]))}
	var err error
	get := func(at int, name string) []byte {
		if err != nil {
			return nil
		}
		var b []byte
		b, err = readField(msg, at).bytesOf(msg, authHeaderLen, name)
		return b
	}
	a.LMResponse = get(12, "LmChallengeResponse")
	a.NTResponse = get(20, "NtChallengeResponse")
	domain := get(28, "DomainName")
	user := get(36, "UserName")
	workstation := get(44, "Workstation")
	a.EncryptedRandomSessionKey = get(52, "EncryptedRandomSessionKey")
	if err != nil {
		return nil, err
	}
	for _, s := range []struct {
		dst *string
		b   []byte
	}{{&a.Domain, domain}, {&a.User, user}, {&a.Workstation, workstation}} {
		if *s.dst, err = decodeString(s.b, a.Flags.Has(FlagUnicode)); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// payloadStart is the lowest offset any non-empty payload field of an AUTHENTICATE_MESSAGE uses,
// or len(msg) if all are empty. A MIC can only be present if it is at least micOffset+16.
func payloadStart(msg []byte) int {
	start := len(msg)
	for _, at := range []int{12, 20, 28, 36, 44, 52} {
		f := readField(msg, at)
		if f.len != 0 && int64(f.offset) < int64(start) {
			start = int(f.offset)
		}
	}
	return start
}

// ParseAVPairs parses a TargetInfo list up to MsvAvEOL. A list without MsvAvEOL that ends exactly
// at a pair boundary is accepted (the spec requires the terminator; some clients drop it); a pair
// running past the end is ErrMalformed.
func ParseAVPairs(b []byte) ([]AVPair, error) {
	var pairs []AVPair
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, fmt.Errorf("ntlm: truncated AV_PAIR header (%d bytes): %w", len(b), ErrMalformed)
		}
		id := binary.LittleEndian.Uint16(b)
		n := int(binary.LittleEndian.Uint16(b[2:]))
		if id == AvEOL {
			return pairs, nil
		}
		if 4+n > len(b) {
			return nil, fmt.Errorf("ntlm: AV_PAIR %d of length %d past the end: %w", id, n, ErrMalformed)
		}
		pairs = append(pairs, AVPair{ID: id, Value: b[4 : 4+n]})
		b = b[4+n:]
	}
	return pairs, nil
}

func appendAVPair(b []byte, id uint16, value []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, id)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(value)))
	return append(b, value...)
}

func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

func decodeString(b []byte, unicode bool) (string, error) {
	if !unicode {
		return oemString(b), nil
	}
	if len(b)%2 != 0 {
		return "", fmt.Errorf("ntlm: UTF-16 string of odd length %d: %w", len(b), ErrMalformed)
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u)), nil
}

// oemString reads an OEM string as Latin-1: every name in the simulated domain is ASCII, where every
// OEM code page agrees.
func oemString(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

func oemBytes(s string) []byte {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			r = '?'
		}
		b = append(b, byte(r))
	}
	return b
}
