package gss

import (
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/crypto/common"
	"github.com/jcmturner/gokrb5/v8/crypto/etype"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/types"
)

// RFC 4121 4.2.2: the token flags.
const (
	FlagSentByAcceptor = 0x01
	FlagSealed         = 0x02
	FlagAcceptorSubkey = 0x04
)

// HeaderLen is the length of a wrap or MIC token's header (RFC 4121 4.2.6).
const HeaderLen = 16

// Errors Unwrap and VerifyMIC return; each wraps ErrToken, so a caller can treat any of them as
// "close the connection".
var (
	ErrToken     = errors.New("gss: bad token")
	ErrDirection = fmt.Errorf("%w: sent by the wrong side", ErrToken)
	ErrIntegrity = fmt.Errorf("%w: integrity check failed", ErrToken)
	ErrEtype     = errors.New("gss: per-message tokens need an AES key (aes128/aes256-cts-hmac-sha1-96)")
)

// Context is one side of an established Kerberos GSS context, as far as messages go: its keys
// and the two sequence numbers. Wrap and GetMIC change SendSeq, Unwrap RecvSeq; a connection
// whose reader and writer run concurrently gives each its own copy.
type Context struct {
	// AcceptorSubkey is the subkey of the AP-REP (KeyType 0: the acceptor asserted none);
	// InitiatorKey the authenticator's subkey, or the ticket's session key when it has none. Each
	// side protects its tokens with the acceptor's subkey when there is one (and flags them so),
	// else with InitiatorKey (RFC 4121 2); a token received is checked with the key its flag names.
	AcceptorSubkey, InitiatorKey types.EncryptionKey
	// Acceptor is true on the server's side.
	Acceptor bool
	// Rand supplies the confounders of sealed tokens.
	Rand io.Reader
	// WindowsRotation rotates the tokens sent as Windows does (RFC 4121 4.2.5): a sealed token's
	// data right by 28 octets (the encrypted header copy and the integrity tag first), a signed
	// one's by its checksum length (the checksum first). Clients written against AD expect it
	// (go-ldap's reads a signed token's checksum first whatever RRC says); MIT and Cyrus take any
	// rotation. Off: RRC 0, as MIT sends.
	WindowsRotation bool
	// SendSeq is the sequence number of the next token sent; RecvSeq follows the last token
	// accepted (RFC 4121 4.2.6.2; order is not enforced: LDAP runs over TCP).
	SendSeq, RecvSeq uint64

	derived map[derivedKey][]byte // Ke, Ki and Kc of the context's keys, per usage
}

type derivedKey struct {
	acceptorKey bool
	usage       uint32
	kind        byte // 'e', 'i', 'c'
}

// Usages of RFC 4121 2: wrap tokens use the SEAL usages, MIC tokens the SIGN ones.
func (c *Context) usages(mic bool) (send, recv uint32) {
	switch {
	case c.Acceptor && mic:
		return keyusage.GSSAPI_ACCEPTOR_SIGN, keyusage.GSSAPI_INITIATOR_SIGN
	case c.Acceptor:
		return keyusage.GSSAPI_ACCEPTOR_SEAL, keyusage.GSSAPI_INITIATOR_SEAL
	case mic:
		return keyusage.GSSAPI_INITIATOR_SIGN, keyusage.GSSAPI_ACCEPTOR_SIGN
	}
	return keyusage.GSSAPI_INITIATOR_SEAL, keyusage.GSSAPI_ACCEPTOR_SEAL
}

// sendKey is the key this side protects its tokens with, and the flags that say so.
func (c *Context) sendKey() (types.EncryptionKey, bool, byte) {
	var flags byte
	if c.Acceptor {
		flags |= FlagSentByAcceptor
	}
	if c.AcceptorSubkey.KeyType != 0 {
		return c.AcceptorSubkey, true, flags | FlagAcceptorSubkey
	}
	return c.InitiatorKey, false, flags
}

// recvKey is the key a received token's flags name.
func (c *Context) recvKey(flags byte) (types.EncryptionKey, bool, error) {
	if flags&FlagAcceptorSubkey != 0 {
		if c.AcceptorSubkey.KeyType == 0 {
			return types.EncryptionKey{}, false, fmt.Errorf("%w: acceptor-subkey flag, but the context has none", ErrToken)
		}
		return c.AcceptorSubkey, true, nil
	}
	return c.InitiatorKey, false, nil
}

func aesEtype(key types.EncryptionKey) (etype.EType, error) {
	switch key.KeyType {
	case etypeID.AES128_CTS_HMAC_SHA1_96, etypeID.AES256_CTS_HMAC_SHA1_96:
		e, err := crypto.GetEtype(key.KeyType)
		if err != nil {
			return nil, err
		}
		if len(key.KeyValue) != e.GetKeyByteSize() {
			return nil, fmt.Errorf("gss: key of etype %d has %d bytes, want %d", key.KeyType, len(key.KeyValue), e.GetKeyByteSize())
		}
		return e, nil
	}
	return nil, ErrEtype
}

// derive returns the derived key of the given kind for one of the context's keys, once.
func (c *Context) derive(e etype.EType, key types.EncryptionKey, acceptorKey bool, usage uint32, kind byte) ([]byte, error) {
	dk := derivedKey{acceptorKey, usage, kind}
	if k, ok := c.derived[dk]; ok {
		return k, nil
	}
	var constant []byte
	switch kind {
	case 'e':
		constant = common.GetUsageKe(usage)
	case 'i':
		constant = common.GetUsageKi(usage)
	default:
		constant = common.GetUsageKc(usage)
	}
	k, err := e.DeriveKey(key.KeyValue, constant)
	if err != nil {
		return nil, err
	}
	if c.derived == nil {
		c.derived = map[derivedKey][]byte{}
	}
	c.derived[dk] = k
	return k, nil
}

// checksum is RFC 3961's get_mic with Kc: HMAC-SHA1-96 over data.
func (c *Context) checksum(e etype.EType, key types.EncryptionKey, acceptorKey bool, usage uint32, data []byte) ([]byte, error) {
	kc, err := c.derive(e, key, acceptorKey, usage, 'c')
	if err != nil {
		return nil, err
	}
	m := hmac.New(e.GetHashFunc(), kc)
	m.Write(data)
	return m.Sum(nil)[:e.GetHMACBitLength()/8], nil
}

func header(tokID [2]byte, flags byte, ec, rrc uint16, seq uint64) []byte {
	h := make([]byte, HeaderLen)
	h[0], h[1], h[2] = tokID[0], tokID[1], flags
	if tokID[0] == 0x05 {
		h[3] = 0xff
		binary.BigEndian.PutUint16(h[4:], ec)
		binary.BigEndian.PutUint16(h[6:], rrc)
	} else {
		copy(h[3:8], []byte{0xff, 0xff, 0xff, 0xff, 0xff})
	}
	binary.BigEndian.PutUint64(h[8:], seq)
	return h
}

var (
	wrapID = [2]byte{0x05, 0x04}
	micID  = [2]byte{0x04, 0x04}
)

// rotateRight returns b rotated right by n octets (RFC 4121 4.2.5).
func rotateRight(b []byte, n int) []byte {
	if len(b) == 0 {
		return nil
	}
	n %= len(b)
	return append(append([]byte(nil), b[len(b)-n:]...), b[:len(b)-n]...)
}

// Wrap protects payload: sealed (encrypted and integrity-protected, EC 0: AES-CTS needs no
// padding) or integrity only (RFC 4121 4.2.4).
func (c *Context) Wrap(payload []byte, seal bool) ([]byte, error) {
	key, acc, flags := c.sendKey()
	e, err := aesEtype(key)
	if err != nil {
		return nil, err
	}
	send, _ := c.usages(false)
	seq := c.SendSeq
	if !seal {
		// header | plaintext | checksum(plaintext | header with EC = RRC = 0).
		sum, err := c.checksum(e, key, acc, send, append(append([]byte(nil), payload...), header(wrapID, flags, 0, 0, seq)...))
		if err != nil {
			return nil, err
		}
		c.SendSeq++
		rrc := 0
		if c.WindowsRotation {
			rrc = len(sum)
		}
		return append(header(wrapID, flags, uint16(len(sum)), uint16(rrc), seq), rotateRight(append(append([]byte(nil), payload...), sum...), rrc)...), nil
	}
	flags |= FlagSealed
	// header | E(plaintext | header): RFC 3961 encryption with the send usage.
	ke, err := c.derive(e, key, acc, send, 'e')
	if err != nil {
		return nil, err
	}
	ki, err := c.derive(e, key, acc, send, 'i')
	if err != nil {
		return nil, err
	}
	ct, err := encryptWith(e, ke, ki, c.Rand, append(append(make([]byte, 0, len(payload)+HeaderLen), payload...), header(wrapID, flags, 0, 0, seq)...))
	if err != nil {
		return nil, err
	}
	c.SendSeq++
	rrc := 0
	if c.WindowsRotation {
		rrc = min(HeaderLen+e.GetHMACBitLength()/8, len(ct))
	}
	return append(header(wrapID, flags, 0, uint16(rrc), seq), rotateRight(ct, rrc)...), nil
}

// Unwrap checks a wrap token from the other side and returns its payload and whether it was
// sealed. Any RRC and EC are accepted.
func (c *Context) Unwrap(token []byte) (payload []byte, sealed bool, err error) {
	if len(token) < HeaderLen || token[0] != 0x05 || token[1] != 0x04 || token[3] != 0xff {
		return nil, false, fmt.Errorf("%w: not a wrap token header", ErrToken)
	}
	flags := token[2]
	if (flags&FlagSentByAcceptor != 0) == c.Acceptor {
		return nil, false, ErrDirection
	}
	if flags&^(FlagSentByAcceptor|FlagSealed|FlagAcceptorSubkey) != 0 {
		return nil, false, fmt.Errorf("%w: unknown flags %#02x", ErrToken, flags)
	}
	key, acc, err := c.recvKey(flags)
	if err != nil {
		return nil, false, err
	}
	e, err := aesEtype(key)
	if err != nil {
		return nil, false, err
	}
	ec := int(binary.BigEndian.Uint16(token[4:]))
	rrc := int(binary.BigEndian.Uint16(token[6:]))
	seq := binary.BigEndian.Uint64(token[8:])
	body := token[HeaderLen:]
	if rrc > 0 && len(body) > 0 {
		// RFC 4121 4.2.5: the body was rotated right by RRC octets; undo it.
		r := rrc % len(body)
		body = append(append([]byte(nil), body[r:]...), body[:r]...)
	}
	_, recv := c.usages(false)
	if flags&FlagSealed == 0 {
		if ec != e.GetHMACBitLength()/8 || len(body) < ec {
			return nil, false, fmt.Errorf("%w: checksum length %d", ErrToken, ec)
		}
		payload, sum := body[:len(body)-ec], body[len(body)-ec:]
		want, err := c.checksum(e, key, acc, recv, append(append([]byte(nil), payload...), header(wrapID, flags, 0, 0, seq)...))
		if err != nil {
			return nil, false, err
		}
		if !hmac.Equal(sum, want) {
			return nil, false, ErrIntegrity
		}
		c.RecvSeq = seq + 1
		return payload, false, nil
	}
	ke, err := c.derive(e, key, acc, recv, 'e')
	if err != nil {
		return nil, false, err
	}
	ki, err := c.derive(e, key, acc, recv, 'i')
	if err != nil {
		return nil, false, err
	}
	plain, err := decryptWith(e, ke, ki, body)
	if err != nil {
		return nil, false, err
	}
	// plaintext | EC filler octets | the header as sent, with RRC 0 inside the encryption.
	if len(plain) < ec+HeaderLen {
		return nil, false, fmt.Errorf("%w: sealed plaintext shorter than its filler and header", ErrToken)
	}
	if !hmac.Equal(plain[len(plain)-HeaderLen:], header(wrapID, flags, uint16(ec), 0, seq)) {
		return nil, false, fmt.Errorf("%w: the encrypted header differs from the token's", ErrToken)
	}
	c.RecvSeq = seq + 1
	return plain[:len(plain)-HeaderLen-ec], true, nil
}

// GetMIC is this side's MIC token over data (RFC 4121 4.2.6.1), as SPNEGO's mechListMIC.
func (c *Context) GetMIC(data []byte) ([]byte, error) {
	key, acc, flags := c.sendKey()
	e, err := aesEtype(key)
	if err != nil {
		return nil, err
	}
	send, _ := c.usages(true)
	h := header(micID, flags, 0, 0, c.SendSeq)
	sum, err := c.checksum(e, key, acc, send, append(append([]byte(nil), data...), h...))
	if err != nil {
		return nil, err
	}
	c.SendSeq++
	return append(h, sum...), nil
}

// VerifyMIC checks the other side's MIC token over data.
func (c *Context) VerifyMIC(token, data []byte) error {
	if len(token) < HeaderLen || token[0] != 0x04 || token[1] != 0x04 || string(token[3:8]) != "\xff\xff\xff\xff\xff" {
		return fmt.Errorf("%w: not a MIC token", ErrToken)
	}
	flags := token[2]
	if (flags&FlagSentByAcceptor != 0) == c.Acceptor || flags&FlagSealed != 0 || flags&^0x07 != 0 {
		return fmt.Errorf("%w: MIC token flags %#02x", ErrToken, flags)
	}
	key, acc, err := c.recvKey(flags)
	if err != nil {
		return err
	}
	e, err := aesEtype(key)
	if err != nil {
		return err
	}
	_, recv := c.usages(true)
	want, err := c.checksum(e, key, acc, recv, append(append([]byte(nil), data...), token[:HeaderLen]...))
	if err != nil {
		return err
	}
	if !hmac.Equal(want, token[HeaderLen:]) {
		return ErrIntegrity
	}
	c.RecvSeq = binary.BigEndian.Uint64(token[8:]) + 1
	return nil
}

// Encrypt is RFC 3961/3962 encryption of plain with an AES key for the key usage — confounder,
// AES-CTS, HMAC-SHA1-96 — drawing the confounder from rnd rather than crypto/rand, as gokrb5's
// own EncryptMessage does. Any Kerberos implementation decrypts the result.
func Encrypt(rnd io.Reader, key types.EncryptionKey, usage uint32, plain []byte) ([]byte, error) {
	e, err := aesEtype(key)
	if err != nil {
		return nil, err
	}
	ke, err := e.DeriveKey(key.KeyValue, common.GetUsageKe(usage))
	if err != nil {
		return nil, err
	}
	ki, err := e.DeriveKey(key.KeyValue, common.GetUsageKi(usage))
	if err != nil {
		return nil, err
	}
	return encryptWith(e, ke, ki, rnd, plain)
}

// encryptWith is RFC 3961 5.3 with the derived keys: AES-CTS of confounder | plain, then
// HMAC-SHA1-96 of the same with Ki.
func encryptWith(e etype.EType, ke, ki []byte, rnd io.Reader, plain []byte) ([]byte, error) {
	msg := make([]byte, e.GetConfounderByteSize(), e.GetConfounderByteSize()+len(plain))
	if _, err := io.ReadFull(rnd, msg); err != nil {
		return nil, fmt.Errorf("gss: confounder: %w", err)
	}
	msg = append(msg, plain...)
	_, ct, err := e.EncryptData(ke, msg)
	if err != nil {
		return nil, err
	}
	m := hmac.New(e.GetHashFunc(), ki)
	m.Write(msg)
	return append(ct, m.Sum(nil)[:e.GetHMACBitLength()/8]...), nil
}

// decryptWith reverses encryptWith and checks the integrity tag.
func decryptWith(e etype.EType, ke, ki, ct []byte) ([]byte, error) {
	n := e.GetHMACBitLength() / 8
	if len(ct) < e.GetConfounderByteSize()+n+1 {
		return nil, fmt.Errorf("%w: ciphertext of %d bytes", ErrToken, len(ct))
	}
	msg, err := e.DecryptData(ke, ct[:len(ct)-n])
	if err != nil {
		return nil, ErrIntegrity
	}
	m := hmac.New(e.GetHashFunc(), ki)
	m.Write(msg)
	if !hmac.Equal(m.Sum(nil)[:n], ct[len(ct)-n:]) {
		return nil, ErrIntegrity
	}
	return msg[e.GetConfounderByteSize():], nil
}
