package ntlm

import (
	"bytes"
	"crypto/hmac"
	"crypto/rc4"
	"encoding/binary"
	"sync"
)

// SignatureSize is the length of an NTLMSSP_MESSAGE_SIGNATURE ([MS-NLMP] 2.2.2.9.1): Version (4,
// always 1), Checksum (8), SeqNum (4), all little-endian.
const SignatureSize = 16

// The key-derivation constants of [MS-NLMP] 3.4.5.2 and 3.4.5.3, each with its terminating NUL.
var (
	clientSignMagic = []byte("session key to client-to-server signing key magic constant\x00")
	serverSignMagic = []byte("session key to server-to-client signing key magic constant\x00")
	clientSealMagic = []byte("session key to client-to-server sealing key magic constant\x00")
	serverSealMagic = []byte("session key to server-to-client sealing key magic constant\x00")
)

// Session is an authenticated NTLM context, seen from the server. Its exported fields say who
// authenticated; its methods protect the messages that follow the bind when signing or sealing was
// negotiated ([MS-NLMP] 3.4, extended session security only).
//
// Outbound (Seal, Sign, Wrap: server to client) and inbound (Unseal, Verify, Unwrap: client to
// server) each have their own key, RC4 state and sequence number starting at 0, and their own lock:
// one goroutine may read while another writes. Within a direction the order of calls is the order
// on the wire, so a writer must seal and write under one lock.
type Session struct {
	// Flags are the negotiated NegotiateFlags: those of the CHALLENGE_MESSAGE the client kept in
	// its AUTHENTICATE_MESSAGE.
	Flags Flags
	// Domain, User and Workstation are as the AUTHENTICATE_MESSAGE gave them.
	Domain, User, Workstation string
	// Anonymous is set for an accepted anonymous authentication (ServerConfig.AllowAnonymous);
	// such a session has no keys and neither signs nor seals.
	Anonymous bool

	exportedSessionKey []byte
	out, in            direction
}

type direction struct {
	mu      sync.Mutex
	signKey []byte
	sealKey []byte // kept for the tests that check it against [MS-NLMP] 4.2.4
	handle  *rc4.Cipher
	seq     uint32
	broken  bool
}

func newSession(exportedSessionKey []byte, flags Flags, a *Authenticate) *Session {
	s := &Session{Flags: flags, Domain: a.Domain, User: a.User, Workstation: a.Workstation,
		exportedSessionKey: exportedSessionKey}
	sealBase := exportedSessionKey
	switch {
	case flags.Has(Flag128):
	case flags.Has(Flag56):
		sealBase = exportedSessionKey[:7]
	default:
		sealBase = exportedSessionKey[:5]
	}
	s.out = direction{signKey: md5Sum(exportedSessionKey, serverSignMagic), sealKey: md5Sum(sealBase, serverSealMagic)}
	s.in = direction{signKey: md5Sum(exportedSessionKey, clientSignMagic), sealKey: md5Sum(sealBase, clientSealMagic)}
	// Keys are 16 bytes (MD5 outputs): rc4.NewCipher cannot fail.
	s.out.handle, _ = rc4.NewCipher(s.out.sealKey)
	s.in.handle, _ = rc4.NewCipher(s.in.sealKey)
	return s
}

// SessionKey returns a copy of the ExportedSessionKey ([MS-NLMP] 3.1.5.1.2), nil for an anonymous
// session.
func (s *Session) SessionKey() []byte { return bytes.Clone(s.exportedSessionKey) }

// Signing reports whether message integrity was negotiated (SIGN, or SEAL which implies it).
func (s *Session) Signing() bool { return !s.Anonymous && s.Flags&(FlagSign|FlagSeal) != 0 }

// Sealing reports whether confidentiality (SEAL) was negotiated.
func (s *Session) Sealing() bool { return !s.Anonymous && s.Flags.Has(FlagSeal) }

// Seal encrypts a server-to-client message ([MS-NLMP] 3.4.3, SEAL): sealed has msg's length and
// signature is the 16-byte NTLMSSP_MESSAGE_SIGNATURE, returned separately (on LDAP the signature
// goes first: see Wrap).
func (s *Session) Seal(msg []byte) (sealed, signature []byte, err error) {
	if !s.Sealing() {
		return nil, nil, errorf(ErrNotNegotiated, "Seal without SEAL negotiated (flags %v)", s.Flags)
	}
	d := &s.out
	d.mu.Lock()
	defer d.mu.Unlock()
	sealed = make([]byte, len(msg))
	d.handle.XORKeyStream(sealed, msg)
	return sealed, s.mac(d, msg), nil
}

// Unseal decrypts a client-to-server message and verifies its 16-byte signature ([MS-NLMP] 3.4.3).
// After an ErrBadSignature the inbound direction is unusable (ErrBadSignature from then on).
func (s *Session) Unseal(sealed, signature []byte) ([]byte, error) {
	if !s.Sealing() {
		return nil, errorf(ErrNotNegotiated, "Unseal without SEAL negotiated (flags %v)", s.Flags)
	}
	d := &s.in
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.broken {
		return nil, errorf(ErrBadSignature, "inbound direction failed before")
	}
	if len(signature) != SignatureSize {
		d.broken = true
		return nil, errorf(ErrBadSignature, "signature of %d bytes", len(signature))
	}
	msg := make([]byte, len(sealed))
	d.handle.XORKeyStream(msg, sealed)
	if err := s.check(d, msg, signature); err != nil {
		return nil, err
	}
	return msg, nil
}

// Sign returns the 16-byte signature of a server-to-client message sent in the clear ([MS-NLMP]
// 3.4.4).
func (s *Session) Sign(msg []byte) ([]byte, error) {
	if !s.Signing() {
		return nil, errorf(ErrNotNegotiated, "Sign without SIGN or SEAL negotiated (flags %v)", s.Flags)
	}
	d := &s.out
	d.mu.Lock()
	defer d.mu.Unlock()
	return s.mac(d, msg), nil
}

// Verify checks the 16-byte signature of a client-to-server message sent in the clear.
func (s *Session) Verify(msg, signature []byte) error {
	if !s.Signing() {
		return errorf(ErrNotNegotiated, "Verify without SIGN or SEAL negotiated (flags %v)", s.Flags)
	}
	d := &s.in
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.broken {
		return errorf(ErrBadSignature, "inbound direction failed before")
	}
	if len(signature) != SignatureSize {
		d.broken = true
		return errorf(ErrBadSignature, "signature of %d bytes", len(signature))
	}
	return s.check(d, msg, signature)
}

// Wrap protects one outbound buffer as LDAP carries it inside a SASL security-layer buffer: the
// 16-byte signature followed by the sealed message when sealing was negotiated, by the message in
// the clear when only signing was. The 4-byte big-endian length in front is the caller's.
func (s *Session) Wrap(msg []byte) ([]byte, error) {
	if s.Sealing() {
		sealed, sig, err := s.Seal(msg)
		if err != nil {
			return nil, err
		}
		return append(sig, sealed...), nil
	}
	sig, err := s.Sign(msg)
	if err != nil {
		return nil, err
	}
	return append(sig, msg...), nil
}

// Unwrap is Wrap's inverse for an inbound buffer (without the 4-byte length): it splits off the
// signature, unseals or verifies, and returns the LDAP bytes.
func (s *Session) Unwrap(buf []byte) ([]byte, error) {
	if !s.Signing() {
		return nil, errorf(ErrNotNegotiated, "Unwrap without SIGN or SEAL negotiated (flags %v)", s.Flags)
	}
	if len(buf) < SignatureSize {
		s.in.mu.Lock()
		s.in.broken = true
		s.in.mu.Unlock()
		return nil, errorf(ErrBadSignature, "wrapped buffer of %d bytes has no room for a signature", len(buf))
	}
	sig, body := buf[:SignatureSize], buf[SignatureSize:]
	if s.Sealing() {
		return s.Unseal(body, sig)
	}
	if err := s.Verify(body, sig); err != nil {
		return nil, err
	}
	return bytes.Clone(body), nil
}

// mac computes the signature with extended session security ([MS-NLMP] 3.4.4.2) and advances the
// direction's sequence number. With KEY_EXCH the checksum is encrypted with the direction's RC4
// handle, continuing the stream Seal used for the message.
func (s *Session) mac(d *direction, msg []byte) []byte {
	var seq [4]byte
	binary.LittleEndian.PutUint32(seq[:], d.seq)
	checksum := hmacMD5(d.signKey, seq[:], msg)[:8]
	if s.Flags.Has(FlagKeyExch) {
		d.handle.XORKeyStream(checksum, checksum)
	}
	sig := make([]byte, 0, SignatureSize)
	sig = binary.LittleEndian.AppendUint32(sig, 1)
	sig = append(sig, checksum...)
	sig = append(sig, seq[:]...)
	d.seq++
	return sig
}

func (s *Session) check(d *direction, msg, signature []byte) error {
	want := s.mac(d, msg)
	if !hmac.Equal(want, signature) {
		d.broken = true
		// The expected value stays out of the message: it would be a valid signature for the sender.
		return errorf(ErrBadSignature, "signature %x does not verify (sequence number %d)", signature, d.seq-1)
	}
	return nil
}

// ResetInboundRC4 restarts the client-to-server RC4 stream from its sealing key, keeping the
// sequence number. GSS-SPNEGO needs it after verifying the client's mechListMIC: [MS-SPNG] has the
// RC4 state of the first application message equal that of the mechListMIC (pyspnego's
// _reset_ntlm_crypto_state resets the handle alone, the same way).
func (s *Session) ResetInboundRC4() { s.in.resetRC4() }

// ResetOutboundRC4 is ResetInboundRC4 for the server-to-client direction, after signing the
// server's own mechListMIC.
func (s *Session) ResetOutboundRC4() { s.out.resetRC4() }

func (d *direction) resetRC4() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sealKey != nil {
		d.handle, _ = rc4.NewCipher(d.sealKey)
	}
}
