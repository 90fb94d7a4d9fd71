package kdc

import (
	"fmt"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// A direct DER decoder for KDC-REQ, the AS-REQ and TGS-REQ every request is (RFC 4120 5.4.1):
// gofork's reflective asn1.Unmarshal of it was a quarter of an AS request's cost and a tenth of a
// TGS request's (whose AP-REQ, TGT and authenticator decodes were another fifth). It reads
// canonical DER only, the encoding every client sends, and gives up (ok false) on anything else:
// indefinite or non-minimal lengths, a field out of order or of an unexpected tag, an explicit tag
// whose length is not that of its one element, trailing bytes, a time or string of another ASN.1
// type, additional-tickets (user-to-user, which this KDC refuses anyway). decodeASReq and
// decodeTGSReq then hand the request to gokrb5's Unmarshal, which is more lenient in places (it
// ignores the length of an explicit tag, trailing bytes, extra fields at the end of a SEQUENCE): so
// a request decodes exactly when gokrb5 decodes it, and to the same struct (tested byte for byte
// and fuzzed, FuzzDecodeKDCReq), except that where gokrb5 panics (a malformed additional-tickets)
// the request does not decode. Byte slices are copied, as gokrb5 copies OCTET STRINGs.

// decodeASReq decodes an AS-REQ as messages.ASReq.Unmarshal does.
func decodeASReq(b []byte) (messages.ASReq, error) {
	return directOr(b, func(b []byte) (messages.ASReq, bool) {
		f, ok := directKDCReq(b, 0x60|10, msgtype.KRB_AS_REQ)
		return messages.ASReq{KDCReqFields: f}, ok
	}, (*messages.ASReq).Unmarshal)
}

// decodeTGSReq decodes a TGS-REQ as messages.TGSReq.Unmarshal does.
func decodeTGSReq(b []byte) (messages.TGSReq, error) {
	return directOr(b, func(b []byte) (messages.TGSReq, bool) {
		f, ok := directKDCReq(b, 0x60|12, msgtype.KRB_TGS_REQ)
		return messages.TGSReq{KDCReqFields: f}, ok
	}, (*messages.TGSReq).Unmarshal)
}

// directOr is how every request structure is decoded: by its direct decoder when that takes b,
// else by gokrb5's Unmarshal into a fresh value (through unmarshalSafely).
func directOr[T any](b []byte, direct func([]byte) (T, bool), unmarshal func(*T, []byte) error) (T, error) {
	if v, ok := direct(b); ok {
		return v, nil
	}
	var v T
	err := unmarshalSafely(b, func(b []byte) error { return unmarshal(&v, b) })
	return v, err
}

// unmarshalSafely runs a gokrb5 Unmarshal, turning its panic into an error: gokrb5 v8.4.4's
// unmarshalTicketsSequence indexes past the end of a malformed additional-tickets field.
func unmarshalSafely(b []byte, unmarshal func([]byte) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("kdc: gokrb5 panicked decoding: %v", r)
		}
	}()
	return unmarshal(b)
}

// derIn reads DER elements from b in order.
type derIn struct{ b []byte }

// next reads one element: its identifier octet and contents. ok is false at the end, for a
// high tag number, an indefinite or non-minimal length, or contents past the end.
func (d *derIn) next() (tag byte, content []byte, ok bool) {
	if len(d.b) < 2 || d.b[0]&0x1f == 0x1f {
		return 0, nil, false
	}
	tag, l, rest := d.b[0], int(d.b[1]), d.b[2:]
	if l&0x80 != 0 {
		n := l & 0x7f
		if n == 0 || n > 3 || len(rest) < n || rest[0] == 0 {
			return 0, nil, false
		}
		l = 0
		for _, c := range rest[:n] {
			l = l<<8 | int(c)
		}
		if l < 0x80 {
			return 0, nil, false
		}
		rest = rest[n:]
	}
	if l > len(rest) {
		return 0, nil, false
	}
	d.b = rest[l:]
	return tag, rest[:l], true
}

// peek is the identifier octet of the next element, 0 at the end.
func (d *derIn) peek() byte {
	if len(d.b) == 0 {
		return 0
	}
	return d.b[0]
}

// one reads the only element of b, which must have tag.
func one(b []byte, tag byte) ([]byte, bool) {
	d := derIn{b}
	t, c, ok := d.next()
	return c, ok && t == tag && len(d.b) == 0
}

// field reads the explicitly tagged [n] element, which must hold exactly one element of tag.
func (d *derIn) field(n int, tag byte) ([]byte, bool) {
	t, c, ok := d.next()
	if !ok || t != 0xa0|byte(n) {
		return nil, false
	}
	return one(c, tag)
}

// has reports whether the next element is the explicitly tagged [n].
func (d *derIn) has(n int) bool { return d.peek() == 0xa0|byte(n) }

// derInt64 is a DER INTEGER's value, as gofork's parseInt64 reads it (minimal, at most 8 bytes).
func derInt64(c []byte) (int64, bool) {
	if len(c) == 0 || len(c) > 8 || (len(c) > 1 && ((c[0] == 0 && c[1]&0x80 == 0) || (c[0] == 0xff && c[1]&0x80 != 0))) {
		return 0, false
	}
	v := int64(int8(c[0]))
	for _, x := range c[1:] {
		v = v<<8 | int64(x)
	}
	return v, true
}

func derInt32(c []byte) (int32, bool) {
	v, ok := derInt64(c)
	return int32(v), ok && int64(int32(v)) == v
}

func (d *derIn) int64Field(n int) (int64, bool) {
	c, ok := d.field(n, 0x02)
	if !ok {
		return 0, false
	}
	return derInt64(c)
}

func (d *derIn) int32Field(n int) (int32, bool) {
	c, ok := d.field(n, 0x02)
	if !ok {
		return 0, false
	}
	return derInt32(c)
}

func (d *derIn) octetsField(n int) ([]byte, bool) {
	c, ok := d.field(n, 0x04)
	return append(make([]byte, 0, len(c)), c...), ok
}

// timeField is a GeneralizedTime, read as gofork reads one (and only what reads back the same).
func (d *derIn) timeField(n int) (time.Time, bool) {
	c, ok := d.field(n, 0x18)
	if !ok {
		return time.Time{}, false
	}
	if t, ok := utcTime(c); ok {
		return t, true
	}
	const layout = "20060102150405Z0700"
	s := string(c)
	t, err := time.Parse(layout, s)
	return t, err == nil && t.Format(layout) == s
}

// utcTime reads YYYYMMDDHHMMSSZ, the form every Kerberos time takes, without time.Parse (a
// twentieth of an AS exchange); anything else, or a field out of range, is left to timeField's
// time.Parse.
func utcTime(c []byte) (time.Time, bool) {
	if len(c) != 15 || c[14] != 'Z' {
		return time.Time{}, false
	}
	var v [14]int
	for i, x := range c[:14] {
		if x < '0' || x > '9' {
			return time.Time{}, false
		}
		v[i] = int(x - '0')
	}
	year := v[0]*1000 + v[1]*100 + v[2]*10 + v[3]
	month, day := time.Month(v[4]*10+v[5]), v[6]*10+v[7]
	hour, minute, sec := v[8]*10+v[9], v[10]*10+v[11], v[12]*10+v[13]
	if month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, month, day, hour, minute, sec, 0, time.UTC)
	return t, t.Day() == day // a day past the month's end rolls over
}

// seqOf calls f on the contents of each element of the SEQUENCE OF in c, each of tag.
func seqOf(c []byte, tag byte, f func([]byte) bool) bool {
	d := derIn{c}
	for len(d.b) > 0 {
		t, e, ok := d.next()
		if !ok || t != tag || !f(e) {
			return false
		}
	}
	return true
}

// vnoRealmName reads the three fields a Ticket and an Authenticator open with: [0] INTEGER (tkt-vno,
// authenticator-vno), [1] Realm, [2] PrincipalName.
func (d *derIn) vnoRealmName() (vno int, realm string, name types.PrincipalName, ok bool) {
	v, ok := d.int64Field(0)
	if !ok {
		return 0, "", name, false
	}
	r, ok := d.field(1, 0x1b)
	if !ok {
		return 0, "", name, false
	}
	pc, ok := d.field(2, 0x30)
	if !ok {
		return 0, "", name, false
	}
	name, ok = derPrincipalIn(pc)
	return int(v), string(r), name, ok
}

func derPrincipalIn(c []byte) (types.PrincipalName, bool) {
	d := derIn{c}
	var p types.PrincipalName
	var ok bool
	if p.NameType, ok = d.int32Field(0); !ok {
		return p, false
	}
	names, ok := d.field(1, 0x30)
	if !ok || len(d.b) != 0 {
		return p, false
	}
	p.NameString = []string{}
	return p, seqOf(names, 0x1b, func(e []byte) bool {
		p.NameString = append(p.NameString, string(e))
		return true
	})
}

// pair reads SEQUENCE { [a] INTEGER (int32), [b] OCTET STRING }, the shape of PA-DATA (1, 2) and
// HostAddress (0, 1).
func pair(c []byte, a, b int) (int32, []byte, bool) {
	d := derIn{c}
	v, ok := d.int32Field(a)
	if !ok {
		return 0, nil, false
	}
	o, ok := d.octetsField(b)
	return v, o, ok && len(d.b) == 0
}

// directKDCReq decodes a KDC-REQ under the application tag app whose msg-type is want, or gives
// up (ok false).
func directKDCReq(b []byte, app byte, want int) (f messages.KDCReqFields, ok bool) {
	seq, ok := one(b, app)
	if !ok {
		return f, false
	}
	body, ok := one(seq, 0x30)
	if !ok {
		return f, false
	}
	d := derIn{body}
	pvno, ok1 := d.int64Field(1)
	mt, ok2 := d.int64Field(2)
	if !ok1 || !ok2 || mt != int64(want) {
		return f, false
	}
	f.PVNO, f.MsgType = int(pvno), int(mt)
	if d.has(3) {
		pas, ok := d.field(3, 0x30)
		if !ok {
			return f, false
		}
		f.PAData = types.PADataSequence{}
		if !seqOf(pas, 0x30, func(e []byte) bool {
			t, v, ok := pair(e, 1, 2)
			f.PAData = append(f.PAData, types.PAData{PADataType: t, PADataValue: v})
			return ok
		}) {
			return f, false
		}
	}
	rb, ok := d.field(4, 0x30)
	if !ok || len(d.b) != 0 {
		return f, false
	}
	f.ReqBody, ok = directKDCReqBody(rb)
	return f, ok
}

// directKDCReqBody decodes the contents of KDC-REQ-BODY.
func directKDCReqBody(c []byte) (r messages.KDCReqBody, ok bool) {
	d := derIn{c}
	bits, ok := d.field(0, 0x03)
	if !ok {
		return r, false
	}
	if r.KDCOptions, ok = derBitsIn(bits); !ok {
		return r, false
	}
	if len(r.KDCOptions.Bytes) < 4 { // as gokrb5's KDCReqBody.Unmarshal pads it (in front)
		r.KDCOptions.Bytes = append(make([]byte, 4-len(r.KDCOptions.Bytes)), r.KDCOptions.Bytes...)
		r.KDCOptions.BitLength = len(r.KDCOptions.Bytes) * 8
	}
	if d.has(1) {
		pc, ok := d.field(1, 0x30)
		if !ok {
			return r, false
		}
		if r.CName, ok = derPrincipalIn(pc); !ok {
			return r, false
		}
	}
	realm, ok := d.field(2, 0x1b)
	if !ok {
		return r, false
	}
	r.Realm = string(realm)
	if d.has(3) {
		pc, ok := d.field(3, 0x30)
		if !ok {
			return r, false
		}
		if r.SName, ok = derPrincipalIn(pc); !ok {
			return r, false
		}
	}
	if d.has(4) {
		if r.From, ok = d.timeField(4); !ok {
			return r, false
		}
	}
	if r.Till, ok = d.timeField(5); !ok {
		return r, false
	}
	if d.has(6) {
		if r.RTime, ok = d.timeField(6); !ok {
			return r, false
		}
	}
	nonce, ok := d.int64Field(7)
	if !ok {
		return r, false
	}
	r.Nonce = int(nonce)
	ets, ok := d.field(8, 0x30)
	if !ok {
		return r, false
	}
	r.EType = []int32{}
	if !seqOf(ets, 0x02, func(e []byte) bool {
		v, ok := derInt32(e)
		r.EType = append(r.EType, v)
		return ok
	}) {
		return r, false
	}
	if d.has(9) {
		as, ok := d.field(9, 0x30)
		r.Addresses = []types.HostAddress{}
		if !ok || !seqOf(as, 0x30, func(e []byte) bool {
			t, v, ok := pair(e, 0, 1)
			r.Addresses = append(r.Addresses, types.HostAddress{AddrType: t, Address: v})
			return ok
		}) {
			return r, false
		}
	}
	if d.has(10) {
		ec, ok := d.field(10, 0x30)
		if !ok {
			return r, false
		}
		if r.EncAuthData, ok = directEncryptedData(ec); !ok {
			return r, false
		}
	}
	// additional-tickets ([11]) and anything else: gokrb5's.
	return r, len(d.b) == 0
}

// directEncryptedData decodes the contents of EncryptedData.
func directEncryptedData(c []byte) (e types.EncryptedData, ok bool) {
	d := derIn{c}
	if e.EType, ok = d.int32Field(0); !ok {
		return e, false
	}
	if d.has(1) {
		v, ok := d.int64Field(1)
		if !ok {
			return e, false
		}
		e.KVNO = int(v)
	}
	e.Cipher, ok = d.octetsField(2)
	return e, ok && len(d.b) == 0
}
