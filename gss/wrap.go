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

// RFC 4121 4.2.2: the wrap token's flags.
const (
	FlagSentByAcceptor = 0x01
	FlagSealed         = 0x02
	FlagAcceptorSubkey = 0x04
)

// HeaderLen is the length of a wrap token's header (RFC 4121 4.2.6.2).
const HeaderLen = 16

// Errors Unwrap returns; each wraps ErrToken, so a caller can treat any of them as "close the
// connection".
var (
	ErrToken     = errors.New("gss: bad wrap token")
	ErrDirection = fmt.Errorf("%w: sent by the wrong side", ErrToken)
	ErrIntegrity = fmt.Errorf("%w: integrity check failed", ErrToken)
	ErrEtype     = errors.New("gss: wrap tokens need an AES session key (aes128/aes256-cts-hmac-sha1-96)")
)

// Context is one side of an established Kerberos GSS context, as far as messages go: the key
// that protects them and the two sequence numbers. It is not safe for concurrent use; a
// connection wraps from its writer and unwraps from its reader, so it keeps one Context per
// direction if those run concurrently (Split).
type Context struct {
	// Key is the context key: the acceptor's subkey when the AP-REP carried one, otherwise the
	// initiator's subkey from the authenticator, otherwise the ticket's session key (RFC 4121 2).
	Key types.EncryptionKey
	// AcceptorSubkey says Key is the acceptor's subkey: both sides then set FlagAcceptorSubkey.
	AcceptorSubkey bool
	// Acceptor is true on the server's side.
	Acceptor bool
	// Rand supplies the confounders of sealed tokens.
	Rand io.Reader
	// SendSeq is the sequence number of the next token sent; RecvSeq the one expected next
	// (from the authenticator's and the AP-REP's seq-number, RFC 4121 4.2.6.2).
	SendSeq, RecvSeq uint64
}

func (c *Context) etype() (etype.EType, error) {
	switch c.Key.KeyType {
	case etypeID.AES128_CTS_HMAC_SHA1_96, etypeID.AES256_CTS_HMAC_SHA1_96:
		return crypto.GetEtype(c.Key.KeyType)
	}
	return nil, ErrEtype
}

// usages are the key usages of the tokens this side sends and receives (RFC 4121 2: wrap
// tokens, sealed or not, use the SEAL usages).
func (c *Context) usages() (send, recv uint32) {
	if c.Acceptor {
		return keyusage.GSSAPI_ACCEPTOR_SEAL, keyusage.GSSAPI_INITIATOR_SEAL
	}
	return keyusage.GSSAPI_INITIATOR_SEAL, keyusage.GSSAPI_ACCEPTOR_SEAL
}

func (c *Context) header(flags byte, ec, rrc uint16, seq uint64) []byte {
	h := make([]byte, HeaderLen)
	h[0], h[1], h[2], h[3] = 0x05, 0x04, flags, 0xff
	binary.BigEndian.PutUint16(h[4:], ec)
	binary.BigEndian.PutUint16(h[6:], rrc)
	binary.BigEndian.PutUint64(h[8:], seq)
	return h
}

// Wrap protects payload: sealed (encrypted and integrity-protected) or integrity only. The token
// is sent with RRC 0 and, when sealed, EC 0 (AES-CTS needs no padding), as MIT's library sends
// them; any RRC and EC are accepted on receipt.
func (c *Context) Wrap(payload []byte, seal bool) ([]byte, error) {
	e, err := c.etype()
	if err != nil {
		return nil, err
	}
	send, _ := c.usages()
	var flags byte
	if c.Acceptor {
		flags |= FlagSentByAcceptor
	}
	if c.AcceptorSubkey {
		flags |= FlagAcceptorSubkey
	}
	seq := c.SendSeq
	c.SendSeq++
	if !seal {
		// RFC 4121 4.2.4: header | plaintext | checksum(plaintext | header with EC = RRC = 0).
		sum, err := e.GetChecksumHash(c.Key.KeyValue, append(append([]byte(nil), payload...), c.header(flags, 0, 0, seq)...), send)
		if err != nil {
			return nil, err
		}
		out := c.header(flags, uint16(len(sum)), 0, seq)
		return append(append(out, payload...), sum...), nil
	}
	flags |= FlagSealed
	hdr := c.header(flags, 0, 0, seq)
	// header | E(plaintext | header): RFC 3961 encryption with the send usage.
	ct, err := Encrypt(c.Rand, c.Key, send, append(append(make([]byte, 0, len(payload)+HeaderLen), payload...), hdr...))
	if err != nil {
		return nil, err
	}
	return append(hdr, ct...), nil
}

// Encrypt is RFC 3961/3962 encryption of plain with an AES key for the key usage — confounder,
// AES-CTS, HMAC-SHA1-96 — drawing the confounder from rnd rather than crypto/rand, as gokrb5's
// own EncryptMessage does. Any Kerberos implementation decrypts the result.
func Encrypt(rnd io.Reader, key types.EncryptionKey, usage uint32, plain []byte) ([]byte, error) {
	e, err := (&Context{Key: key}).etype()
	if err != nil {
		return nil, err
	}
	if len(key.KeyValue) != e.GetKeyByteSize() {
		return nil, fmt.Errorf("gss: key of etype %d has %d bytes, want %d", key.KeyType, len(key.KeyValue), e.GetKeyByteSize())
	}
	msg := make([]byte, e.GetConfounderByteSize(), e.GetConfounderByteSize()+len(plain))
	if _, err := io.ReadFull(rnd, msg); err != nil {
		return nil, fmt.Errorf("gss: confounder: %w", err)
	}
	msg = append(msg, plain...)
	ke, err := e.DeriveKey(key.KeyValue, common.GetUsageKe(usage))
	if err != nil {
		return nil, err
	}
	_, ct, err := e.EncryptData(ke, msg)
	if err != nil {
		return nil, err
	}
	mac, err := common.GetIntegrityHash(msg, key.KeyValue, usage, e)
	if err != nil {
		return nil, err
	}
	return append(ct, mac...), nil
}

// Unwrap checks a token from the other side and returns its payload and whether it was sealed.
// Sequence numbers are not enforced (RFC 4121 leaves replay and order detection to the
// application; LDAP runs over TCP), but RecvSeq follows the last token accepted.
func (c *Context) Unwrap(token []byte) (payload []byte, sealed bool, err error) {
	e, err := c.etype()
	if err != nil {
		return nil, false, err
	}
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
	if (flags&FlagAcceptorSubkey != 0) != c.AcceptorSubkey {
		return nil, false, fmt.Errorf("%w: acceptor-subkey flag does not match the context", ErrToken)
	}
	ec := int(binary.BigEndian.Uint16(token[4:]))
	rrc := int(binary.BigEndian.Uint16(token[6:]))
	seq := binary.BigEndian.Uint64(token[8:])
	body := token[HeaderLen:]
	if rrc > 0 {
		// RFC 4121 4.2.5: the body was rotated right by RRC octets; undo it.
		if len(body) == 0 {
			return nil, false, fmt.Errorf("%w: RRC %d on an empty body", ErrToken, rrc)
		}
		r := rrc % len(body)
		body = append(append([]byte(nil), body[r:]...), body[:r]...)
	}
	_, recv := c.usages()
	if flags&FlagSealed == 0 {
		if ec != e.GetHMACBitLength()/8 || len(body) < ec {
			return nil, false, fmt.Errorf("%w: checksum length %d", ErrToken, ec)
		}
		payload, sum := body[:len(body)-ec], body[len(body)-ec:]
		want, err := e.GetChecksumHash(c.Key.KeyValue, append(append([]byte(nil), payload...), c.header(flags, 0, 0, seq)...), recv)
		if err != nil {
			return nil, false, err
		}
		if !hmac.Equal(sum, want) {
			return nil, false, ErrIntegrity
		}
		c.RecvSeq = seq + 1
		return payload, false, nil
	}
	if len(body) < e.GetConfounderByteSize()+HeaderLen+e.GetHMACBitLength()/8 {
		return nil, false, fmt.Errorf("%w: sealed body of %d bytes", ErrToken, len(body))
	}
	plain, err := e.DecryptMessage(c.Key.KeyValue, body, recv)
	if err != nil {
		return nil, false, ErrIntegrity
	}
	// plaintext | EC filler octets | the header as sent, with RRC 0 inside the encryption.
	if len(plain) < ec+HeaderLen {
		return nil, false, fmt.Errorf("%w: sealed plaintext shorter than its filler and header", ErrToken)
	}
	inner := plain[len(plain)-HeaderLen:]
	outer := c.header(flags, uint16(ec), 0, seq)
	if !hmac.Equal(inner, outer) {
		return nil, false, fmt.Errorf("%w: the encrypted header differs from the token's", ErrToken)
	}
	c.RecvSeq = seq + 1
	return plain[:len(plain)-HeaderLen-ec], true, nil
}
