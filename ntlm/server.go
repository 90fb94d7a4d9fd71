package ntlm

import (
	"bytes"
	"crypto/hmac"
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// ServerConfig describes the accepting DC. Names go into the CHALLENGE_MESSAGE's TargetName and
// TargetInfo exactly as given.
type ServerConfig struct {
	NetBIOSDomain   string // MsvAvNbDomainName and TargetName, e.g. "CONTOSO"
	NetBIOSComputer string // MsvAvNbComputerName, e.g. "DC1"
	DNSDomain       string // MsvAvDnsDomainName, e.g. "contoso.com"
	DNSComputer     string // MsvAvDnsComputerName, e.g. "DC1.contoso.com"
	DNSTree         string // MsvAvDnsTreeName (the forest); DNSDomain when empty

	// Now is the clock (the simulator's virtual one); it stamps MsvAvTimestamp and, with
	// MaxClockSkew, checks the client's. Required.
	Now func() time.Time
	// Rand supplies the 8-byte server challenge, read once per Challenge. Required.
	Rand io.Reader

	// MaxClockSkew, when positive, refuses an NTLMv2 response whose timestamp is further than this
	// from Now() with ErrTimeSkew ([MS-NLMP] 3.2.5.1.2: the server SHOULD fail a timestamp more than
	// MaxLifetime from its time). Zero disables the check, the default: the simulator's clock is
	// virtual, and clients that stamp their own wall-clock time (python ldap3 does, ignoring
	// MsvAvTimestamp) would otherwise be refused.
	//
	// Divergence: a Windows DC checks the timestamp against MaxLifetime; with MaxClockSkew zero this
	// package does not. Replay of one AUTHENTICATE_MESSAGE is impossible anyway: each Server issues
	// one challenge and accepts one answer to it.
	MaxClockSkew time.Duration
	// AllowAnonymous accepts an anonymous AUTHENTICATE_MESSAGE (empty NT response, LM response
	// empty or one zero byte) as a Session with Anonymous set; otherwise it is ErrAnonymous.
	AllowAnonymous bool
}

// LookupFunc returns the 16-byte NT hash (see NTHash) of the account the client names, domain and
// user exactly as the AUTHENTICATE_MESSAGE carries them: domain may be the NetBIOS name, the DNS
// name, any case, or empty (user then possibly a UPN such as "alice@contoso.com"). It should return
// an error wrapping ErrUnknownUser when there is no such account.
type LookupFunc func(domain, user string) (ntHash []byte, err error)

type serverState int

const (
	stateNew serverState = iota
	stateChallenged
	stateDone
)

// Server is the accepting side of one NTLM handshake (one connection's bind): Challenge, then
// Authenticate, each once; a failed call uses the Server up (ErrState afterwards), so a challenge
// is never answered twice. Not safe for concurrent use.
type Server struct {
	cfg   ServerConfig
	state serverState

	negotiate       []byte // the NEGOTIATE_MESSAGE as received, for the MIC
	challenge       []byte // the CHALLENGE_MESSAGE as sent, for the MIC
	serverChallenge [8]byte
	flags           Flags // the CHALLENGE_MESSAGE's NegotiateFlags
}

// NewServer returns a Server for one handshake. It panics if cfg.Now or cfg.Rand is nil.
func NewServer(cfg ServerConfig) *Server {
	if cfg.Now == nil || cfg.Rand == nil {
		panic("ntlm: ServerConfig needs Now and Rand")
	}
	return &Server{cfg: cfg}
}

// Challenge takes the client's NEGOTIATE_MESSAGE (raw NTLMSSP bytes, "NTLMSSP\0" + type 1) and
// returns the CHALLENGE_MESSAGE to send back (raw NTLMSSP bytes, type 2).
func (s *Server) Challenge(negotiate []byte) ([]byte, error) {
	if s.state != stateNew {
		return nil, errorf(ErrState, "Challenge called twice")
	}
	s.state = stateDone
	n, err := ParseNegotiate(negotiate)
	if err != nil {
		return nil, err
	}
	flags, err := serverFlags(n.Flags)
	if err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(s.cfg.Rand, s.serverChallenge[:]); err != nil {
		return nil, fmt.Errorf("ntlm: reading the server challenge: %w", err)
	}
	s.negotiate = bytes.Clone(negotiate)
	s.flags = flags
	s.challenge = buildChallenge(&s.cfg, flags, s.serverChallenge, s.cfg.Now())
	s.state = stateChallenged
	return bytes.Clone(s.challenge), nil
}

// Authenticate verifies the client's AUTHENTICATE_MESSAGE (raw NTLMSSP bytes, type 3) against the
// account lookup names and returns the established Session. It accepts NTLMv2 only ([MS-NLMP]
// 3.3.2); it checks the MIC when MsvAvFlags says one is present ([MS-NLMP] 3.2.5.1.2).
func (s *Server) Authenticate(auth []byte, lookup LookupFunc) (*Session, error) {
	if s.state != stateChallenged {
		return nil, errorf(ErrState, "Authenticate without a pending Challenge")
	}
	s.state = stateDone
	return s.verify(auth, lookup)
}

func (s *Server) verify(auth []byte, lookup LookupFunc) (*Session, error) {
	a, err := ParseAuthenticate(auth)
	if err != nil {
		return nil, err
	}
	flags := s.flags & a.Flags
	switch {
	case len(a.NTResponse) == 0 && (len(a.LMResponse) == 0 || bytes.Equal(a.LMResponse, []byte{0})):
		if !s.cfg.AllowAnonymous {
			return nil, errorf(ErrAnonymous, "anonymous AUTHENTICATE_MESSAGE (user %q)", a.User)
		}
		return &Session{Anonymous: true, Flags: flags &^ (FlagSign | FlagSeal | FlagKeyExch),
			Domain: a.Domain, User: a.User, Workstation: a.Workstation}, nil
	case len(a.NTResponse) == 24 || len(a.NTResponse) == 0:
		return nil, errorf(ErrNTLMv1Refused, "%d-byte NT response, %d-byte LM response from %s\\%s",
			len(a.NTResponse), len(a.LMResponse), a.Domain, a.User)
	case len(a.NTResponse) < 16+28:
		return nil, errorf(ErrMalformed, "%d-byte NT response is neither NTLMv1 nor NTLMv2", len(a.NTResponse))
	}
	proof, blob := a.NTResponse[:16], a.NTResponse[16:]
	if blob[0] != 1 || blob[1] != 1 {
		return nil, errorf(ErrMalformed, "NTLMv2 client challenge RespType %d HiRespType %d, want 1 1", blob[0], blob[1])
	}
	clientTime := binary.LittleEndian.Uint64(blob[8:])
	avPairs, err := ParseAVPairs(blob[28:])
	if err != nil {
		return nil, err
	}
	micPresent, err := hasMIC(avPairs)
	if err != nil {
		return nil, err
	}

	ntHash, err := lookup(a.Domain, a.User)
	if err != nil {
		return nil, fmt.Errorf("ntlm: looking up %s\\%s: %w", a.Domain, a.User, err)
	}
	if len(ntHash) != 16 {
		return nil, errorf(ErrUnknownUser, "lookup of %s\\%s returned a %d-byte NT hash", a.Domain, a.User, len(ntHash))
	}
	responseKeyNT := NTOWFv2(ntHash, a.User, a.Domain)
	if !hmac.Equal(hmacMD5(responseKeyNT, s.serverChallenge[:], blob), proof) {
		return nil, errorf(ErrWrongPassword, "NTProofStr mismatch for %s\\%s", a.Domain, a.User)
	}
	// [MS-NLMP] 3.3.2 and 3.4.5.1: for NTLMv2 the KeyExchangeKey is the SessionBaseKey.
	keyExchangeKey := hmacMD5(responseKeyNT, proof)
	exported := keyExchangeKey
	if flags.Has(FlagKeyExch) {
		switch len(a.EncryptedRandomSessionKey) {
		case 16:
			exported = rc4K(keyExchangeKey, a.EncryptedRandomSessionKey)
		case 0:
			flags &^= FlagKeyExch // the client kept the flag but sent no key: no exchange happened
		default:
			return nil, errorf(ErrMalformed, "%d-byte EncryptedRandomSessionKey", len(a.EncryptedRandomSessionKey))
		}
	}
	if micPresent {
		if err := s.checkMIC(auth, exported); err != nil {
			return nil, err
		}
	}
	if s.cfg.MaxClockSkew > 0 {
		now, t := s.cfg.Now(), TimeFromFileTime(clientTime)
		if d := now.Sub(t); d > s.cfg.MaxClockSkew || d < -s.cfg.MaxClockSkew {
			return nil, errorf(ErrTimeSkew, "NTLMv2 timestamp %s is %s from now %s (allowed %s)",
				t.Format(time.RFC3339), d, now.UTC().Format(time.RFC3339), s.cfg.MaxClockSkew)
		}
	}
	return newSession(exported, flags, a), nil
}

// hasMIC reports whether MsvAvFlags has bit 0x2 set.
func hasMIC(pairs []AVPair) (bool, error) {
	for _, p := range pairs {
		if p.ID != AvFlags {
			continue
		}
		if len(p.Value) != 4 {
			return false, errorf(ErrMalformed, "MsvAvFlags of %d bytes", len(p.Value))
		}
		return binary.LittleEndian.Uint32(p.Value)&avFlagMICPresent != 0, nil
	}
	return false, nil
}

// checkMIC verifies MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE || CHALLENGE || AUTHENTICATE with
// the MIC zeroed) ([MS-NLMP] 3.2.5.1.2). The MIC is the 16 bytes at offset 72, after Version.
func (s *Server) checkMIC(auth, exportedSessionKey []byte) error {
	if len(auth) < micOffset+16 || payloadStart(auth) < micOffset+16 {
		return errorf(ErrMalformed, "MsvAvFlags announces a MIC but the message has no room for one")
	}
	zeroed := bytes.Clone(auth)
	clear(zeroed[micOffset : micOffset+16])
	want := hmacMD5(exportedSessionKey, s.negotiate, s.challenge, zeroed)
	if !hmac.Equal(want, auth[micOffset:micOffset+16]) {
		return errorf(ErrMIC, "MIC over the three messages does not match")
	}
	return nil
}
