package ldapsrv

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gmsasim/gmsasim/fakead/kdc"
)

// GSS-API token codecs for the SASL GSSAPI and GSS-SPNEGO binds: the initial context token
// framing (RFC 2743 3.1) around the Kerberos mechanism's AP-REQ and AP-REP (RFC 4121 4.1), the
// SPNEGO negotiation tokens (RFC 4178 4.2), and RFC 4121 per-message tokens (CFX wrap tokens,
// sealed or not, and MIC tokens). Every decoder here takes bytes straight off the wire, is bounded
// by its input and is fuzzed (fuzz_test.go); none panics.

var errGSS = errors.New("malformed GSS-API token")

// DER encodings of the mechanism OIDs (the contents, without the 06 tag and length).
var (
	oidKRB5   = []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02} // 1.2.840.113554.1.2.2
	oidMSKRB5 = []byte{0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02} // 1.2.840.48018.1.2.2 ([MS-SPNG])
	oidSPNEGO = []byte{0x2b, 0x06, 0x01, 0x05, 0x05, 0x02}                   // 1.3.6.1.5.5.2
)

// Kerberos mechanism token IDs (RFC 4121 4.1).
var (
	tokAPReq = []byte{0x01, 0x00}
	tokAPRep = []byte{0x02, 0x00}
)

func isKRB5(oid []byte) bool { return bytes.Equal(oid, oidKRB5) || bytes.Equal(oid, oidMSKRB5) }

// parseContextToken splits an InitialContextToken: [APPLICATION 0] { thisMech OID, innerToken }.
func parseContextToken(b []byte) (oid, inner []byte, err error) {
	class, constructed, tag, h, l, err := readHeader(b)
	if err != nil || class != classApplication || !constructed || tag != 0 || h+l != len(b) {
		return nil, nil, fmt.Errorf("%w: not an InitialContextToken", errGSS)
	}
	body := b[h:]
	class, constructed, tag, h, l, err = readHeader(body)
	if err != nil || class != classUniversal || constructed || tag != 6 || h+l > len(body) || l == 0 {
		return nil, nil, fmt.Errorf("%w: no mechanism OID", errGSS)
	}
	return body[h : h+l], body[h+l:], nil
}

// contextToken builds an InitialContextToken-framed token of mechanism oid.
func contextToken(oid, inner []byte) []byte {
	return berSeq(classApplication, 0, appendTLV(nil, classUniversal, false, 6, oid), inner)
}

// krb5APReq extracts the AP-REQ from a Kerberos mechanism's initial token.
func krb5APReq(tok []byte) ([]byte, error) {
	oid, inner, err := parseContextToken(tok)
	if err != nil {
		return nil, err
	}
	if !isKRB5(oid) {
		return nil, fmt.Errorf("%w: mechanism is not Kerberos V5", errGSS)
	}
	if len(inner) < 2 || !bytes.Equal(inner[:2], tokAPReq) {
		return nil, fmt.Errorf("%w: not an AP-REQ token", errGSS)
	}
	return inner[2:], nil
}

// krb5APRepToken frames an AP-REP as the Kerberos mechanism's reply token.
func krb5APRepToken(oid, apRep []byte) []byte {
	return contextToken(oid, append(append([]byte(nil), tokAPRep...), apRep...))
}

// negTokenInit is the initiator's first SPNEGO token (RFC 4178 4.2.1).
type negTokenInit struct {
	mechTypes    [][]byte // OIDs (contents)
	mechTypesDER []byte   // the MechTypeList as encoded, what mechListMIC covers
	mechToken    []byte
	mechListMIC  []byte
}

// parseNegTokenInit reads the GSS-framed SPNEGO negTokenInit.
func parseNegTokenInit(b []byte) (*negTokenInit, error) {
	oid, inner, err := parseContextToken(b)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(oid, oidSPNEGO) {
		return nil, fmt.Errorf("%w: mechanism is not SPNEGO", errGSS)
	}
	t, err := parseTLV(inner)
	if err != nil || t.class != classContext || t.tag != 0 || len(t.children) != 1 || t.children[0].tag != tagSequence {
		return nil, fmt.Errorf("%w: not a negTokenInit", errGSS)
	}
	n := &negTokenInit{}
	for _, f := range t.children[0].children {
		if f.class != classContext {
			return nil, fmt.Errorf("%w: negTokenInit field", errGSS)
		}
		switch f.tag {
		case 0:
			if len(f.children) != 1 || f.children[0].tag != tagSequence {
				return nil, fmt.Errorf("%w: mechTypes", errGSS)
			}
			n.mechTypesDER = f.children[0].encode(nil)
			for _, m := range f.children[0].children {
				if m.class != classUniversal || m.tag != 6 || m.constructed {
					return nil, fmt.Errorf("%w: mechType", errGSS)
				}
				n.mechTypes = append(n.mechTypes, m.value)
			}
		case 2, 3:
			if len(f.children) != 1 || f.children[0].tag != tagOctetString || f.children[0].constructed {
				return nil, fmt.Errorf("%w: negTokenInit octet string", errGSS)
			}
			if f.tag == 2 {
				n.mechToken = f.children[0].value
			} else {
				n.mechListMIC = f.children[0].value
			}
		}
	}
	if len(n.mechTypes) == 0 {
		return nil, fmt.Errorf("%w: negTokenInit without mechTypes", errGSS)
	}
	return n, nil
}

// negTokenResp is an SPNEGO negTokenResp (RFC 4178 4.2.2).
type negTokenResp struct {
	state         int // -1: absent
	supportedMech []byte
	responseToken []byte
	mechListMIC   []byte
}

// SPNEGO negState values.
const (
	negAcceptCompleted  = 0
	negAcceptIncomplete = 1
	negReject           = 2
)

func parseNegTokenResp(b []byte) (*negTokenResp, error) {
	t, err := parseTLV(b)
	if err != nil || t.class != classContext || t.tag != 1 || len(t.children) != 1 || t.children[0].tag != tagSequence {
		return nil, fmt.Errorf("%w: not a negTokenResp", errGSS)
	}
	n := &negTokenResp{state: -1}
	for _, f := range t.children[0].children {
		if f.class != classContext || len(f.children) != 1 || f.children[0].constructed {
			return nil, fmt.Errorf("%w: negTokenResp field", errGSS)
		}
		v := f.children[0]
		switch f.tag {
		case 0:
			s, err := parseInt(v.value)
			if err != nil || v.tag != tagEnumerated || s < 0 || s > 3 {
				return nil, fmt.Errorf("%w: negState", errGSS)
			}
			n.state = int(s)
		case 1:
			n.supportedMech = v.value
		case 2:
			n.responseToken = v.value
		case 3:
			n.mechListMIC = v.value
		}
	}
	return n, nil
}

func (n *negTokenResp) encode() []byte {
	var f [][]byte
	if n.state >= 0 {
		f = append(f, berSeq(classContext, 0, berInt(classUniversal, tagEnumerated, int64(n.state))))
	}
	if n.supportedMech != nil {
		f = append(f, berSeq(classContext, 1, appendTLV(nil, classUniversal, false, 6, n.supportedMech)))
	}
	if n.responseToken != nil {
		f = append(f, berSeq(classContext, 2, berOctets(classUniversal, tagOctetString, n.responseToken)))
	}
	if n.mechListMIC != nil {
		f = append(f, berSeq(classContext, 3, berOctets(classUniversal, tagOctetString, n.mechListMIC)))
	}
	return berSeq(classContext, 1, berSeq(classUniversal, tagSequence, f...))
}

// RFC 4121 4.2.2 token flags and key usages (4.2.4, 4.2.6).
const (
	flagSentByAcceptor = 0x01
	flagSealed         = 0x02
	flagAcceptorSubkey = 0x04

	usageAcceptorSeal  = 22
	usageAcceptorSign  = 23
	usageInitiatorSeal = 24
	usageInitiatorSign = 25

	cfxHeaderLen = 16
)

// gssKeys are a context's keys for per-message tokens.
type gssKeys struct {
	// acceptor is the acceptor's subkey from the AP-REP (KeyType 0: none asserted); initiator the
	// initiator's subkey or else the session key. Tokens flagged AcceptorSubkey use the former.
	acceptor, initiator types.EncryptionKey
}

func (k gssKeys) forFlags(f byte) types.EncryptionKey {
	if f&flagAcceptorSubkey != 0 {
		return k.acceptor
	}
	return k.initiator
}

// ours is the key the acceptor protects its tokens with and the flags saying so.
func (k gssKeys) ours() (types.EncryptionKey, byte) {
	if k.acceptor.KeyType != 0 {
		return k.acceptor, flagSentByAcceptor | flagAcceptorSubkey
	}
	return k.initiator, flagSentByAcceptor
}

// confounders is a deterministic stream of RFC 3961 confounders for one context direction:
// HMAC-SHA256 of the context key over a counter. A confounder need not be secret, only
// unpredictable without the key; no global randomness is read.
type confounders struct {
	key []byte
	n   uint64
	buf []byte
}

func (c *confounders) Read(p []byte) (int, error) {
	for len(c.buf) < len(p) {
		m := hmac.New(sha256.New, c.key)
		m.Write([]byte("gmsasim wrap confounder"))
		m.Write(binary.BigEndian.AppendUint64(nil, c.n))
		c.n++
		c.buf = m.Sum(c.buf)
	}
	n := copy(p, c.buf)
	c.buf = c.buf[n:]
	return n, nil
}

// cfxHeader is the 16-octet token header of a wrap (05 04) or MIC (04 04) token.
func cfxHeader(wrap bool, flags byte, ec, rrc uint16, seq uint64) []byte {
	h := make([]byte, cfxHeaderLen)
	if wrap {
		h[0], h[1], h[2], h[3] = 0x05, 0x04, flags, 0xff
		binary.BigEndian.PutUint16(h[4:], ec)
		binary.BigEndian.PutUint16(h[6:], rrc)
	} else {
		h[0], h[1], h[2] = 0x04, 0x04, flags
		copy(h[3:8], []byte{0xff, 0xff, 0xff, 0xff, 0xff})
	}
	binary.BigEndian.PutUint64(h[8:], seq)
	return h
}

func checksum(key types.EncryptionKey, data []byte, usage uint32) ([]byte, error) {
	e, err := crypto.GetEtype(key.KeyType)
	if err != nil {
		return nil, err
	}
	return e.GetChecksumHash(key.KeyValue, data, usage)
}

// wrapToken builds an RFC 4121 4.2.6.2 wrap token sent by the acceptor: sealed (the payload and a
// copy of the header encrypted, EC 0) or signed (payload, then the checksum of payload || header
// with EC and RRC zeroed). Like Windows, the data after the header is rotated right (RRC, 4.2.5):
// by 28 octets for a sealed token (the encrypted header copy and the integrity tag come first), by
// the checksum's length for a signed one. Clients built against AD rely on it: go-ldap's gssapi
// client reads a signed token's checksum before its payload whatever RRC says.
func wrapToken(k gssKeys, seal bool, seq uint64, payload []byte, rnd *confounders) ([]byte, error) {
	key, flags := k.ours()
	if seal {
		flags |= flagSealed
		ct, err := kdc.Seal(rnd, key, append(append([]byte(nil), payload...), cfxHeader(true, flags, 0, 0, seq)...), usageAcceptorSeal)
		if err != nil {
			return nil, err
		}
		rrc := min(cfxHeaderLen+12, len(ct))
		return append(cfxHeader(true, flags, 0, uint16(rrc), seq), rotateRight(ct, rrc)...), nil
	}
	sum, err := checksum(key, append(append([]byte(nil), payload...), cfxHeader(true, flags, 0, 0, seq)...), usageAcceptorSeal)
	if err != nil {
		return nil, err
	}
	h := cfxHeader(true, flags, uint16(len(sum)), uint16(len(sum)), seq)
	return append(append(h, sum...), payload...), nil
}

// rotateRight returns b rotated right by n octets (RFC 4121 4.2.5).
func rotateRight(b []byte, n int) []byte {
	if len(b) == 0 {
		return nil
	}
	n %= len(b)
	return append(append([]byte(nil), b[len(b)-n:]...), b[:len(b)-n]...)
}

// unwrapped is an initiator's wrap token, checked.
type unwrapped struct {
	payload []byte
	sealed  bool
	seq     uint64
}

// unwrapToken checks and opens a wrap token sent by the initiator (either key, sealed or not, any
// RRC), as RFC 4121 4.2.4 and 4.2.5 describe.
func unwrapToken(k gssKeys, tok []byte) (unwrapped, error) {
	if len(tok) < cfxHeaderLen || tok[0] != 0x05 || tok[1] != 0x04 || tok[3] != 0xff {
		return unwrapped{}, fmt.Errorf("%w: not a CFX wrap token", errGSS)
	}
	flags := tok[2]
	if flags&flagSentByAcceptor != 0 || flags&^0x07 != 0 {
		return unwrapped{}, fmt.Errorf("%w: wrap token flags %#x", errGSS, flags)
	}
	ec := int(binary.BigEndian.Uint16(tok[4:]))
	rrc := int(binary.BigEndian.Uint16(tok[6:]))
	seq := binary.BigEndian.Uint64(tok[8:])
	key := k.forFlags(flags)
	if key.KeyType == 0 {
		return unwrapped{}, fmt.Errorf("%w: no acceptor subkey in this context", errGSS)
	}
	data := append([]byte(nil), tok[cfxHeaderLen:]...)
	if len(data) > 0 { // RFC 4121 4.2.5: undo the right rotation
		r := rrc % len(data)
		data = append(data[r:], data[:r]...)
	}
	if flags&flagSealed != 0 {
		plain, err := kdc.Open(key, data, usageInitiatorSeal)
		if err != nil {
			return unwrapped{}, fmt.Errorf("%w: sealed wrap token does not decrypt: %v", errGSS, err)
		}
		if len(plain) < cfxHeaderLen+ec {
			return unwrapped{}, fmt.Errorf("%w: sealed wrap token too short", errGSS)
		}
		inner := plain[len(plain)-cfxHeaderLen:]
		if !bytes.Equal(inner, cfxHeader(true, flags, uint16(ec), 0, seq)) {
			return unwrapped{}, fmt.Errorf("%w: encrypted header does not match", errGSS)
		}
		return unwrapped{payload: plain[:len(plain)-cfxHeaderLen-ec], sealed: true, seq: seq}, nil
	}
	if ec > len(data) {
		return unwrapped{}, fmt.Errorf("%w: checksum length %d exceeds the token", errGSS, ec)
	}
	payload, sum := data[:len(data)-ec], data[len(data)-ec:]
	want, err := checksum(key, append(append([]byte(nil), payload...), cfxHeader(true, flags, 0, 0, seq)...), usageInitiatorSeal)
	if err != nil {
		return unwrapped{}, err
	}
	if !hmac.Equal(want, sum) {
		return unwrapped{}, fmt.Errorf("%w: wrap token checksum mismatch", errGSS)
	}
	return unwrapped{payload: payload, seq: seq}, nil
}

// micToken builds the acceptor's MIC token over data (RFC 4121 4.2.6.1).
func micToken(k gssKeys, seq uint64, data []byte) ([]byte, error) {
	key, flags := k.ours()
	h := cfxHeader(false, flags, 0, 0, seq)
	sum, err := checksum(key, append(append([]byte(nil), data...), h...), usageAcceptorSign)
	if err != nil {
		return nil, err
	}
	return append(h, sum...), nil
}

// verifyMIC checks the initiator's MIC token over data.
func verifyMIC(k gssKeys, tok, data []byte) error {
	if len(tok) < cfxHeaderLen || tok[0] != 0x04 || tok[1] != 0x04 || !bytes.Equal(tok[3:8], []byte{0xff, 0xff, 0xff, 0xff, 0xff}) {
		return fmt.Errorf("%w: not a CFX MIC token", errGSS)
	}
	flags := tok[2]
	if flags&(flagSentByAcceptor|flagSealed) != 0 || flags&^0x07 != 0 {
		return fmt.Errorf("%w: MIC token flags %#x", errGSS, flags)
	}
	key := k.forFlags(flags)
	if key.KeyType == 0 {
		return fmt.Errorf("%w: no acceptor subkey in this context", errGSS)
	}
	want, err := checksum(key, append(append([]byte(nil), data...), tok[:cfxHeaderLen]...), usageInitiatorSign)
	if err != nil {
		return err
	}
	if !hmac.Equal(want, tok[cfxHeaderLen:]) {
		return fmt.Errorf("%w: MIC checksum mismatch", errGSS)
	}
	return nil
}
