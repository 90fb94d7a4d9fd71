package ldapsrv

import (
	"github.com/gmsasim/gmsasim/gss"

	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// GSS-API token codecs for the SASL GSSAPI and GSS-SPNEGO binds: the initial context token
// framing (RFC 2743 3.1) around the Kerberos mechanism's AP-REQ and AP-REP (RFC 4121 4.1) and the
// SPNEGO negotiation tokens (RFC 4178 4.2). The RFC 4121 per-message tokens (wrap and MIC) are
// package gss's, shared with the clients. Every decoder here takes bytes straight off the wire, is
// bounded by its input and is fuzzed (fuzz_gss_test.go); none panics.

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
	oid, inner, err = gss.ParseContextToken(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", errGSS, err)
	}
	return oid, inner, nil
}

// contextToken builds an InitialContextToken-framed token of mechanism oid.
func contextToken(oid, inner []byte) []byte { return gss.ContextToken(oid, inner) }

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
