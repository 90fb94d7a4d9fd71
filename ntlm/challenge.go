package ntlm

import (
	"encoding/binary"
	"time"
)

// serverVersion is the VERSION structure ([MS-NLMP] 2.2.2.10) the CHALLENGE_MESSAGE carries: Windows
// Server 2019 (10.0 build 17763), NTLMSSP_REVISION_W2K3 (0x0F). Informational only.
var serverVersion = [8]byte{10, 0, 0x63, 0x45, 0, 0, 0, 0x0f}

// challengeHeaderLen is the CHALLENGE_MESSAGE's fixed part including Version; payloads follow.
const challengeHeaderLen = 56

// serverFlags chooses the CHALLENGE_MESSAGE's NegotiateFlags from the client's ([MS-NLMP] 3.2.5.1.1):
// each optional capability is returned only if the client asked for it, NTLM, TARGET_INFO and
// VERSION always (a DC always sends the target information NTLMv2 needs).
func serverFlags(client Flags) (Flags, error) {
	f := FlagNTLM | FlagTargetInfo | FlagVersion
	switch {
	case client.Has(FlagUnicode):
		f |= FlagUnicode
	case client.Has(FlagOEM):
		f |= FlagOEM
	default:
		return 0, errorf(ErrMalformed, "NEGOTIATE_MESSAGE asks for neither UNICODE nor OEM (flags %v)", client)
	}
	if client.Has(FlagRequestTarget) {
		// A DC names its domain as the target ([MS-NLMP] 3.2.5.1.1: TargetName is the domain name
		// when the server is a domain member; TARGET_TYPE_DOMAIN says which).
		f |= FlagRequestTarget | FlagTargetTypeDomain
	}
	f |= client & (FlagSign | FlagSeal | FlagAlwaysSign | FlagKeyExch | Flag128 | Flag56 |
		FlagExtendedSessionSecurity | FlagIdentify)
	if f&(FlagSign|FlagSeal) != 0 && !f.Has(FlagExtendedSessionSecurity) {
		// Session security without ESS is NTLMv1's (RC4 over the whole key, CRC32 checksums).
		return 0, errorf(ErrUnsupported,
			"signing or sealing without EXTENDED_SESSIONSECURITY (flags %v)", client)
	}
	return f, nil
}

// buildChallenge lays out a CHALLENGE_MESSAGE ([MS-NLMP] 2.2.1.2): header, TargetName (the NetBIOS
// domain name when REQUEST_TARGET is set), then TargetInfo.
func buildChallenge(cfg *ServerConfig, flags Flags, serverChallenge [8]byte, now time.Time) []byte {
	var targetName []byte
	if flags.Has(FlagRequestTarget) {
		if flags.Has(FlagUnicode) {
			targetName = utf16le(cfg.NetBIOSDomain)
		} else {
			targetName = oemBytes(cfg.NetBIOSDomain)
		}
	}
	targetInfo := buildTargetInfo(cfg, now)

	msg := make([]byte, challengeHeaderLen, challengeHeaderLen+len(targetName)+len(targetInfo))
	copy(msg, signature)
	binary.LittleEndian.PutUint32(msg[8:], typeChallenge)
	putField(msg[12:], len(targetName), challengeHeaderLen)
	binary.LittleEndian.PutUint32(msg[20:], uint32(flags))
	copy(msg[24:32], serverChallenge[:])
	// msg[32:40] Reserved, zero.
	putField(msg[40:], len(targetInfo), challengeHeaderLen+len(targetName))
	copy(msg[48:56], serverVersion[:])
	msg = append(msg, targetName...)
	return append(msg, targetInfo...)
}

// buildTargetInfo lists the AV_PAIRs in the order a Windows DC sends them: NetBIOS domain, NetBIOS
// computer, DNS domain, DNS computer, DNS tree, timestamp, EOL.
func buildTargetInfo(cfg *ServerConfig, now time.Time) []byte {
	tree := cfg.DNSTree
	if tree == "" {
		tree = cfg.DNSDomain
	}
	var b []byte
	b = appendAVPair(b, AvNbDomainName, utf16le(cfg.NetBIOSDomain))
	b = appendAVPair(b, AvNbComputerName, utf16le(cfg.NetBIOSComputer))
	b = appendAVPair(b, AvDNSDomainName, utf16le(cfg.DNSDomain))
	b = appendAVPair(b, AvDNSComputerName, utf16le(cfg.DNSComputer))
	b = appendAVPair(b, AvDNSTreeName, utf16le(tree))
	b = appendAVPair(b, AvTimestamp, binary.LittleEndian.AppendUint64(nil, FileTime(now)))
	return appendAVPair(b, AvEOL, nil)
}

func putField(b []byte, n, offset int) {
	binary.LittleEndian.PutUint16(b, uint16(n))
	binary.LittleEndian.PutUint16(b[2:], uint16(n))
	binary.LittleEndian.PutUint32(b[4:], uint32(offset))
}

// fileTimeEpochOffset is the number of seconds from 1601-01-01 to 1970-01-01.
const fileTimeEpochOffset = 11644473600

// FileTime converts t to a Windows FILETIME: 100 ns ticks since 1601-01-01 UTC, 0 for earlier times.
// (time.UnixNano cannot be used: it overflows before 1678.)
func FileTime(t time.Time) uint64 {
	s := t.Unix() + fileTimeEpochOffset
	if s < 0 {
		return 0
	}
	return uint64(s)*10_000_000 + uint64(t.Nanosecond()/100)
}

// TimeFromFileTime is the inverse of FileTime.
func TimeFromFileTime(ft uint64) time.Time {
	return time.Unix(int64(ft/10_000_000)-fileTimeEpochOffset, int64(ft%10_000_000)*100).UTC()
}
