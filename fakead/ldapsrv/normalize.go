package ldapsrv

import (
	"errors"
	"fmt"

	goldap "github.com/lor00x/goldap/message"
)

// LDAP protocolOp application tags (RFC 4511 4.2 ff.).
const (
	opBind       = 0
	opUnbind     = 2
	opSearch     = 3
	opModify     = 6
	opAdd        = 8
	opDelete     = 10
	opModifyDN   = 12
	opCompare    = 14
	opAbandon    = 16
	opExtended   = 23
	maxMessageID = 1<<31 - 1
	sicilyMarker = "GMSASIM-UNSUPPORTED-AUTH-CHOICE"
	// Sicily choices ([MS-ADTS] 5.1.1.1.3) carried through goldap as SASL marker mechanisms, the
	// choice's OCTET STRING as the credentials (ntlmbind.go).
	sicilyDiscoveryMarker = "GMSASIM-SICILY-PACKAGE-DISCOVERY" // [9]
	sicilyNegotiateMarker = "GMSASIM-SICILY-NEGOTIATE"         // [10]
	sicilyResponseMarker  = "GMSASIM-SICILY-RESPONSE"          // [11]
	emptyAndAttr          = "gmsasim-empty-and"
	emptyOrAttr           = "gmsasim-empty-or"
	filterTagAnd          = 0
	filterTagOr           = 1
	filterTagNot          = 2
	filterTagPres         = 7
	filterTagExt          = 9
)

var errNotRequest = errors.New("protocolOp is not a request")

// sicilyMarkers maps the Sicily AuthenticationChoice tags to their marker mechanisms.
var sicilyMarkers = map[int]string{9: sicilyDiscoveryMarker, 10: sicilyNegotiateMarker, 11: sicilyResponseMarker}

// pduInfo is what the framing layer learns about one request before the library sees it.
type pduInfo struct {
	msgID int
	op    int                 // application tag of the protocolOp
	msg   *goldap.LDAPMessage // goldap's decoding of the PDU preparePDU returns (requests only)
	bind  *simpleBindReq      // instead of msg: a simple bind without controls (simplebind.go)
}

// preparePDU validates one whole LDAPMessage PDU and returns bytes goldap is known to decode,
// rewriting what goldap cannot read but a client may legitimately send:
//
//   - BOOLEAN TRUE encoded as any non-zero octet (go-asn1-ber, hence go-ldap, sends 0x01; goldap
//     accepts only 0xFF) → 0xFF;
//   - an extensible match without dnAttributes (goldap reads the optional [4] unconditionally)
//     → an explicit [4] FALSE;
//   - lengths with leading zero octets (Windows' wldap32 sends 4-octet lengths) → minimal;
//   - an empty and/or filter (RFC 4526; goldap demands at least one element) → a marker present
//     filter that filter conversion turns back into FilterAnd{}/FilterOr{};
//   - a control's criticality sent as an explicit FALSE (go-ldap's DirSync control; goldap wants
//     the DEFAULT omitted) → omitted;
//   - the Sicily authentication choices (primitive [9] sicilyPackageDiscovery, [10] sicilyNegotiate,
//     [11] sicilyResponse; goldap knows only simple and SASL) → a SASL choice with a marker
//     mechanism per choice and the choice's octets as the credentials, which the bind handler runs
//     as NTLM (ntlmbind.go); any other choice → a SASL choice with a marker mechanism the bind
//     handler answers authMethodNotSupported.
//
// Anything still undecodable is an error: the connection gets a Notice of Disconnection with
// protocolError and is closed, never a silently dropped request (a hung client).
func preparePDU(pdu []byte) ([]byte, pduInfo, error) {
	// The whole PDU is checked (well-formed, nesting bounded) before goldap sees it; the tree is
	// built only when goldap cannot decode it as sent.
	if err := checkTLV(pdu); err != nil {
		return nil, pduInfo{}, err
	}
	class, constructed, tag, h, l, _ := readHeader(pdu) // checked
	if class != classUniversal || !constructed || tag != tagSequence {
		return nil, pduInfo{}, fmt.Errorf("%w: not an LDAPMessage", errBER)
	}
	// A constructed element's contents are whole elements (checked): reading them is safe.
	body := pdu[h : h+l]
	idClass, idConstructed, idTag, ih, il, errID := readHeader(body)
	var opClass, opTag int
	errOp := errID
	if errID == nil {
		opClass, _, opTag, _, _, errOp = readHeader(body[ih+il:])
	}
	if errOp != nil { // fewer than 2 elements
		return nil, pduInfo{}, fmt.Errorf("%w: not an LDAPMessage", errBER)
	}
	if idClass != classUniversal || idConstructed || idTag != tagInteger {
		return nil, pduInfo{}, fmt.Errorf("%w: bad messageID", errBER)
	}
	id, err := parseInt(body[ih : ih+il])
	if err != nil || id < 0 || id > maxMessageID {
		return nil, pduInfo{}, fmt.Errorf("%w: messageID out of range", errBER)
	}
	info := pduInfo{msgID: int(id), op: opTag}
	if opClass != classApplication {
		return nil, info, errNotRequest
	}
	switch opTag {
	case opBind, opUnbind, opSearch, opModify, opAdd, opDelete, opModifyDN, opCompare, opAbandon, opExtended:
	default:
		return nil, info, errNotRequest
	}
	if opTag == opBind {
		if _, b, ok := parseSimpleBind(pdu); ok {
			info.bind = &b // goldap decodes it the same (FuzzSimpleBind); the library still can
			return pdu, info, nil
		}
	}
	if info.msg = goldapDecode(pdu); info.msg != nil {
		return pdu, info, nil
	}
	root, err := parseTLV(pdu)
	if err != nil {
		return nil, info, err // cannot happen: checkTLV accepted it
	}
	normalize(root)
	out := root.encode(make([]byte, 0, len(pdu)+8))
	if info.msg = goldapDecode(out); info.msg == nil {
		return nil, info, fmt.Errorf("%w: request goldap cannot decode", errBER)
	}
	return out, info, nil
}

// goldapDecode is the library's decoding of b (nil if its decoder refuses or panics), as the
// library gets it when it reads the same bytes.
func goldapDecode(b []byte) (msg *goldap.LDAPMessage) {
	defer func() {
		if recover() != nil {
			msg = nil
		}
	}()
	m, err := goldap.ReadLDAPMessage(goldap.NewBytes(0, b))
	if err != nil {
		return nil
	}
	return &m
}

// goldapDecodes reports whether the library's decoder accepts b.
func goldapDecodes(b []byte) bool { return goldapDecode(b) != nil }

func normalize(root *tlv) {
	fixBooleans(root)
	if len(root.children) >= 3 {
		dropDefaultCriticality(root.children[2])
	}
	op := root.children[1]
	switch op.tag {
	case opBind:
		if len(op.children) == 3 {
			auth := op.children[2]
			if auth.class == classContext && auth.tag != 0 && auth.tag != 3 {
				mech, creds := sicilyMarker, []byte(nil)
				if m, ok := sicilyMarkers[auth.tag]; ok && !auth.constructed {
					mech, creds = m, auth.value
				}
				sasl := &tlv{class: classContext, constructed: true, tag: 3, children: []*tlv{
					{class: classUniversal, tag: tagOctetString, value: []byte(mech)},
				}}
				if creds != nil {
					sasl.children = append(sasl.children, &tlv{class: classUniversal, tag: tagOctetString, value: creds})
				}
				op.children[2] = sasl
			}
		}
	case opSearch:
		if len(op.children) >= 7 {
			normalizeFilter(op.children[6])
		}
	}
}

// dropDefaultCriticality removes "criticality FALSE" from every control of a request's controls
// ([0] SEQUENCE OF Control): DER omits a DEFAULT value and goldap refuses it, while go-ldap's
// DirSync control (and BER encoders generally) send it.
func dropDefaultCriticality(ctls *tlv) {
	if ctls.class != classContext || ctls.tag != 0 || !ctls.constructed {
		return
	}
	for _, c := range ctls.children {
		if !c.constructed || len(c.children) < 2 {
			continue
		}
		if b := c.children[1]; b.class == classUniversal && b.tag == tagBoolean && !b.constructed &&
			len(b.value) == 1 && b.value[0] == 0 {
			c.children = append(c.children[:1], c.children[2:]...)
		}
	}
}

func fixBooleans(t *tlv) {
	if !t.constructed {
		if t.class == classUniversal && t.tag == tagBoolean && len(t.value) == 1 && t.value[0] != 0 {
			t.value = []byte{0xff}
		}
		return
	}
	for _, c := range t.children {
		fixBooleans(c)
	}
}

func normalizeFilter(f *tlv) {
	if f.class != classContext {
		return
	}
	switch f.tag {
	case filterTagAnd, filterTagOr:
		if !f.constructed {
			return
		}
		if len(f.children) == 0 {
			marker := emptyAndAttr
			if f.tag == filterTagOr {
				marker = emptyOrAttr
			}
			*f = tlv{class: classContext, tag: filterTagPres, value: []byte(marker)}
			return
		}
		for _, c := range f.children {
			normalizeFilter(c)
		}
	case filterTagNot:
		if f.constructed && len(f.children) == 1 {
			normalizeFilter(f.children[0])
		}
	case filterTagExt:
		if !f.constructed {
			return
		}
		for _, c := range f.children {
			if c.class == classContext && c.tag == 4 {
				if !c.constructed && len(c.value) == 1 && c.value[0] != 0 {
					c.value = []byte{0xff}
				}
				return
			}
		}
		f.children = append(f.children, &tlv{class: classContext, tag: 4, value: []byte{0x00}})
	}
}
