package kdc

import (
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/messages"
)

// decodeAPReq decodes the AP-REQ of a PA-TGS-REQ as messages.APReq.Unmarshal does, the next
// reflective decode of every TGS request: canonical DER through the direct decoder (the rules of
// directKDCReq), anything else through gokrb5; tested byte for byte, FuzzDecodeAPReq.
func decodeAPReq(b []byte) (messages.APReq, error) {
	return directOr(b, directAPReq, (*messages.APReq).Unmarshal)
}

// directAPReq decodes [APPLICATION 14] AP-REQ (RFC 4120 5.5.1) with its Ticket, or gives up.
func directAPReq(b []byte) (a messages.APReq, ok bool) {
	seq, ok := one(b, 0x60|14)
	if !ok {
		return a, false
	}
	body, ok := one(seq, 0x30)
	if !ok {
		return a, false
	}
	d := derIn{body}
	pvno, ok1 := d.int64Field(0)
	mt, ok2 := d.int64Field(1)
	if !ok1 || !ok2 || mt != msgtype.KRB_AP_REQ {
		return a, false
	}
	a.PVNO, a.MsgType = int(pvno), int(mt)
	bits, ok := d.field(2, 0x03)
	if !ok {
		return a, false
	}
	if a.APOptions, ok = derBitsIn(bits); !ok {
		return a, false
	}
	tc, ok := d.field(3, 0x60|1)
	if !ok {
		return a, false
	}
	if a.Ticket, ok = directTicket(tc); !ok {
		return a, false
	}
	ec, ok := d.field(4, 0x30)
	if !ok {
		return a, false
	}
	a.EncryptedAuthenticator, ok = directEncryptedData(ec)
	return a, ok && len(d.b) == 0
}

// directTicket decodes the contents of [APPLICATION 1] Ticket (RFC 4120 5.3).
func directTicket(c []byte) (t messages.Ticket, ok bool) {
	body, ok := one(c, 0x30)
	if !ok {
		return t, false
	}
	d := derIn{body}
	if t.TktVNO, t.Realm, t.SName, ok = d.vnoRealmName(); !ok {
		return t, false
	}
	ec, ok := d.field(3, 0x30)
	if !ok {
		return t, false
	}
	t.EncPart, ok = directEncryptedData(ec)
	return t, ok && len(d.b) == 0
}
