package ntlm

import (
	"fmt"
	"strings"
)

// Flags is the NegotiateFlags field of the three NTLM messages ([MS-NLMP] 2.2.2.5), little-endian on
// the wire.
type Flags uint32

// The NegotiateFlags bits, named as [MS-NLMP] 2.2.2.5 names them (without the NTLMSSP_ prefix).
const (
	FlagUnicode                 Flags = 0x00000001 // A: NTLMSSP_NEGOTIATE_UNICODE
	FlagOEM                     Flags = 0x00000002 // B: NTLM_NEGOTIATE_OEM
	FlagRequestTarget           Flags = 0x00000004 // C: NTLMSSP_REQUEST_TARGET
	FlagSign                    Flags = 0x00000010 // D: NTLMSSP_NEGOTIATE_SIGN
	FlagSeal                    Flags = 0x00000020 // E: NTLMSSP_NEGOTIATE_SEAL
	FlagDatagram                Flags = 0x00000040 // F: NTLMSSP_NEGOTIATE_DATAGRAM
	FlagLMKey                   Flags = 0x00000080 // G: NTLMSSP_NEGOTIATE_LM_KEY
	FlagNTLM                    Flags = 0x00000200 // H: NTLMSSP_NEGOTIATE_NTLM
	FlagAnonymous               Flags = 0x00000800 // J: anonymous connection
	FlagOEMDomainSupplied       Flags = 0x00001000 // K: NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED
	FlagOEMWorkstationSupplied  Flags = 0x00002000 // L: NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED
	FlagAlwaysSign              Flags = 0x00008000 // M: NTLMSSP_NEGOTIATE_ALWAYS_SIGN
	FlagTargetTypeDomain        Flags = 0x00010000 // N: NTLMSSP_TARGET_TYPE_DOMAIN
	FlagTargetTypeServer        Flags = 0x00020000 // O: NTLMSSP_TARGET_TYPE_SERVER
	FlagExtendedSessionSecurity Flags = 0x00080000 // P: NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY
	FlagIdentify                Flags = 0x00100000 // Q: NTLMSSP_NEGOTIATE_IDENTIFY
	FlagRequestNonNTSessionKey  Flags = 0x00400000 // R: NTLMSSP_REQUEST_NON_NT_SESSION_KEY
	FlagTargetInfo              Flags = 0x00800000 // S: NTLMSSP_NEGOTIATE_TARGET_INFO
	FlagVersion                 Flags = 0x02000000 // T: NTLMSSP_NEGOTIATE_VERSION
	Flag128                     Flags = 0x20000000 // U: NTLMSSP_NEGOTIATE_128
	FlagKeyExch                 Flags = 0x40000000 // V: NTLMSSP_NEGOTIATE_KEY_EXCH
	Flag56                      Flags = 0x80000000 // W: NTLMSSP_NEGOTIATE_56
)

var flagNames = []struct {
	f    Flags
	name string
}{
	{FlagUnicode, "UNICODE"}, {FlagOEM, "OEM"}, {FlagRequestTarget, "REQUEST_TARGET"},
	{FlagSign, "SIGN"}, {FlagSeal, "SEAL"}, {FlagDatagram, "DATAGRAM"}, {FlagLMKey, "LM_KEY"},
	{FlagNTLM, "NTLM"}, {FlagAnonymous, "ANONYMOUS"}, {FlagOEMDomainSupplied, "OEM_DOMAIN_SUPPLIED"},
	{FlagOEMWorkstationSupplied, "OEM_WORKSTATION_SUPPLIED"}, {FlagAlwaysSign, "ALWAYS_SIGN"},
	{FlagTargetTypeDomain, "TARGET_TYPE_DOMAIN"}, {FlagTargetTypeServer, "TARGET_TYPE_SERVER"},
	{FlagExtendedSessionSecurity, "EXTENDED_SESSIONSECURITY"}, {FlagIdentify, "IDENTIFY"},
	{FlagRequestNonNTSessionKey, "REQUEST_NON_NT_SESSION_KEY"}, {FlagTargetInfo, "TARGET_INFO"},
	{FlagVersion, "VERSION"}, {Flag128, "128"}, {FlagKeyExch, "KEY_EXCH"}, {Flag56, "56"},
}

// Has reports whether every bit of want is set.
func (f Flags) Has(want Flags) bool { return f&want == want }

// String lists the set bits by name, e.g. "UNICODE|NTLM|0x00000100" (unnamed bits in hex).
func (f Flags) String() string {
	var parts []string
	rest := f
	for _, n := range flagNames {
		if f&n.f != 0 {
			parts = append(parts, n.name)
			rest &^= n.f
		}
	}
	if rest != 0 {
		parts = append(parts, fmt.Sprintf("0x%08x", uint32(rest)))
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, "|")
}
