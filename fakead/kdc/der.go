package kdc

import (
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// A direct DER encoder for what the KDC sends (RFC 4120 5.3-5.9): reflection-based asn1.Marshal
// was two fifths of a request's cost, and building every element in a slice of its own and
// copying it into its parent was a third of what was left (a TGS-REP took about a hundred
// allocations). derBuf writes one buffer front to back: begin writes the identifier and a one-byte
// length, end fixes the length once the contents are known, moving them up for the long form.
// The output is byte for byte what gofork's asn1.Marshal gives (tested on random structures and
// fuzzed), so optional fields are left out exactly when they hold their zero value.

// derBuf is a DER writer. maxDepth bounds the nesting of constructed elements, which the
// structures here keep under 16.
type derBuf struct {
	b     []byte
	open  [maxDepth]int // contents' start of each open element
	depth int
}

const maxDepth = 16

// begin opens a constructed element (or a primitive one written piecewise) with identifier tag.
func (w *derBuf) begin(tag byte) {
	w.b = append(w.b, tag, 0)
	w.open[w.depth] = len(w.b)
	w.depth++
}

// end closes the innermost open element.
func (w *derBuf) end() {
	w.depth--
	start := w.open[w.depth]
	n := len(w.b) - start
	if n < 0x80 {
		w.b[start-1] = byte(n)
		return
	}
	extra := lenOctets(n)
	var zero [4]byte
	w.b = append(w.b, zero[:extra]...)
	copy(w.b[start+extra:], w.b[start:start+n])
	w.b[start-1] = 0x80 | byte(extra)
	putLen(w.b[start:start+extra], n)
}

// lenOctets is how many octets the long form of length n takes.
func lenOctets(n int) int {
	switch {
	case n < 0x100:
		return 1
	case n < 0x10000:
		return 2
	case n < 0x1000000:
		return 3
	}
	return 4
}

func putLen(dst []byte, n int) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = byte(n)
		n >>= 8
	}
}

// header writes the identifier and length of a primitive element of n content octets.
func (w *derBuf) header(tag byte, n int) {
	if n < 0x80 {
		w.b = append(w.b, tag, byte(n))
		return
	}
	extra := lenOctets(n)
	w.b = append(w.b, tag, 0x80|byte(extra))
	var l [4]byte
	putLen(l[:extra], n)
	w.b = append(w.b, l[:extra]...)
}

func (w *derBuf) bytes(tag byte, c []byte) {
	w.header(tag, len(c))
	w.b = append(w.b, c...)
}

func (w *derBuf) octets(c []byte) { w.bytes(0x04, c) }

func (w *derBuf) generalString(s string) {
	w.header(0x1b, len(s))
	w.b = append(w.b, s...)
}

func (w *derBuf) integer(v int64) {
	n := 1
	for x := v; x > 127 || x < -128; x >>= 8 {
		n++
	}
	w.b = append(w.b, 0x02, byte(n))
	for i := n - 1; i >= 0; i-- {
		w.b = append(w.b, byte(v>>(8*i)))
	}
}

func (w *derBuf) bits(b asn1.BitString) {
	w.header(0x03, 1+len(b.Bytes))
	w.b = append(w.b, byte((8-b.BitLength%8)%8))
	w.b = append(w.b, b.Bytes...)
}

// generalizedTime writes t in UTC as YYYYMMDDHHMMSSZ, as gofork does for UTC times.
func (w *derBuf) generalizedTime(t time.Time) {
	t = t.UTC()
	y := t.Year()
	if y < 0 || y > 9999 {
		w.bytes(0x18, []byte(t.Format("20060102150405")+"Z")) // never for the times a KDC issues
		return
	}
	mo, d := t.Month(), t.Day()
	h, mi, s := t.Clock()
	w.b = append(w.b, 0x18, 15,
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10),
		byte('0'+mo/10), byte('0'+mo%10), byte('0'+d/10), byte('0'+d%10),
		byte('0'+h/10), byte('0'+h%10), byte('0'+mi/10), byte('0'+mi%10), byte('0'+s/10), byte('0'+s%10), 'Z')
}

// Fields of a SEQUENCE: [n] EXPLICIT around a value.

func (w *derBuf) ctxInt(n int, v int64) {
	w.begin(0xa0 | byte(n))
	w.integer(v)
	w.end()
}

func (w *derBuf) ctxString(n int, s string) {
	w.begin(0xa0 | byte(n))
	w.generalString(s)
	w.end()
}

func (w *derBuf) ctxOctets(n int, c []byte) {
	w.begin(0xa0 | byte(n))
	w.octets(c)
	w.end()
}

func (w *derBuf) ctxTime(n int, t time.Time) {
	w.begin(0xa0 | byte(n))
	w.generalizedTime(t)
	w.end()
}

func (w *derBuf) ctxBits(n int, b asn1.BitString) {
	w.begin(0xa0 | byte(n))
	w.bits(b)
	w.end()
}

// typeValue writes SEQUENCE { [t] INTEGER, [t+1] OCTET STRING }: HostAddress, AuthorizationData
// entries and TransitedEncoding at t=0, PA-DATA at t=1.
func (w *derBuf) typeValue(t int, typ int64, v []byte) {
	w.begin(0x30)
	w.ctxInt(t, typ)
	w.ctxOctets(t+1, v)
	w.end()
}

func (w *derBuf) principal(p types.PrincipalName) {
	w.begin(0x30)
	w.ctxInt(0, int64(p.NameType))
	w.begin(0xa1)
	w.begin(0x30)
	for _, s := range p.NameString {
		w.generalString(s)
	}
	w.end()
	w.end()
	w.end()
}

func (w *derBuf) key(k types.EncryptionKey) {
	w.begin(0x30)
	w.ctxInt(0, int64(k.KeyType))
	w.ctxOctets(1, k.KeyValue)
	w.end()
}

func (w *derBuf) addresses(hs []types.HostAddress) {
	w.begin(0x30)
	for _, h := range hs {
		w.typeValue(0, int64(h.AddrType), h.Address)
	}
	w.end()
}

func (w *derBuf) authData(ad types.AuthorizationData) {
	w.begin(0x30)
	for _, e := range ad {
		w.typeValue(0, int64(e.ADType), e.ADData)
	}
	w.end()
}

func (w *derBuf) encryptedData(e types.EncryptedData) {
	w.begin(0x30)
	w.ctxInt(0, int64(e.EType))
	if e.KVNO != 0 {
		w.ctxInt(1, int64(e.KVNO))
	}
	w.ctxOctets(2, e.Cipher)
	w.end()
}

func (w *derBuf) ticket(t messages.Ticket) {
	w.begin(0x60 | 1)
	w.begin(0x30)
	w.ctxInt(0, int64(t.TktVNO))
	w.ctxString(1, t.Realm)
	w.begin(0xa2)
	w.principal(t.SName)
	w.end()
	w.begin(0xa3)
	w.encryptedData(t.EncPart)
	w.end()
	w.end()
	w.end()
}

// derAuthData is AuthorizationData on its own (the contents of AD-IF-RELEVANT).
func derAuthData(ad types.AuthorizationData) []byte {
	var w derBuf
	w.authData(ad)
	return w.b
}

// encodeEncTicketPart is [APPLICATION 3] EncTicketPart, appended to dst.
func encodeEncTicketPart(dst []byte, p messages.EncTicketPart) []byte {
	w := derBuf{b: dst}
	w.begin(0x60 | 3)
	w.begin(0x30)
	w.ctxBits(0, p.Flags)
	w.begin(0xa1)
	w.key(p.Key)
	w.end()
	w.ctxString(2, p.CRealm)
	w.begin(0xa3)
	w.principal(p.CName)
	w.end()
	w.begin(0xa4)
	w.typeValue(0, int64(p.Transited.TRType), p.Transited.Contents)
	w.end()
	w.ctxTime(5, p.AuthTime)
	if !p.StartTime.IsZero() {
		w.ctxTime(6, p.StartTime)
	}
	w.ctxTime(7, p.EndTime)
	if !p.RenewTill.IsZero() {
		w.ctxTime(8, p.RenewTill)
	}
	if p.CAddr != nil {
		w.begin(0xa9)
		w.addresses(p.CAddr)
		w.end()
	}
	if p.AuthorizationData != nil {
		w.begin(0xaa)
		w.authData(p.AuthorizationData)
		w.end()
	}
	w.end()
	w.end()
	return w.b
}

// encodeEncKDCRepPart is EncKDCRepPart under [APPLICATION tag] (25 for an AS-REP, 26 for a
// TGS-REP), appended to dst. KeyExpiration and EncPAData are never set by this KDC and are left
// out.
func encodeEncKDCRepPart(dst []byte, p messages.EncKDCRepPart, tag int) []byte {
	w := derBuf{b: dst}
	w.begin(0x60 | byte(tag))
	w.begin(0x30)
	w.begin(0xa0)
	w.key(p.Key)
	w.end()
	w.begin(0xa1)
	w.begin(0x30)
	for _, l := range p.LastReqs {
		w.begin(0x30)
		w.ctxInt(0, int64(l.LRType))
		w.ctxTime(1, l.LRValue)
		w.end()
	}
	w.end()
	w.end()
	w.ctxInt(2, int64(p.Nonce))
	w.ctxBits(4, p.Flags)
	w.ctxTime(5, p.AuthTime)
	if !p.StartTime.IsZero() {
		w.ctxTime(6, p.StartTime)
	}
	w.ctxTime(7, p.EndTime)
	if !p.RenewTill.IsZero() {
		w.ctxTime(8, p.RenewTill)
	}
	w.ctxString(9, p.SRealm)
	w.begin(0xaa)
	w.principal(p.SName)
	w.end()
	if p.CAddr != nil {
		w.begin(0xab)
		w.addresses(p.CAddr)
		w.end()
	}
	w.end()
	w.end()
	return w.b
}

// encodeTicket is [APPLICATION 1] Ticket.
func encodeTicket(t messages.Ticket) []byte {
	var w derBuf
	w.ticket(t)
	return w.b
}

// encodeKDCRep is an AS-REP ([APPLICATION 11]) or TGS-REP ([APPLICATION 13]).
func encodeKDCRep(r messages.KDCRepFields, tag int) []byte {
	w := derBuf{b: make([]byte, 0, 64+len(r.Ticket.EncPart.Cipher)+len(r.EncPart.Cipher)+kdcRepFieldsSize(r))}
	w.begin(0x60 | byte(tag))
	w.begin(0x30)
	w.ctxInt(0, int64(r.PVNO))
	w.ctxInt(1, int64(r.MsgType))
	if r.PAData != nil {
		w.begin(0xa2)
		w.methodData(r.PAData)
		w.end()
	}
	w.ctxString(3, r.CRealm)
	w.begin(0xa4)
	w.principal(r.CName)
	w.end()
	w.begin(0xa5)
	w.ticket(r.Ticket)
	w.end()
	w.begin(0xa6)
	w.encryptedData(r.EncPart)
	w.end()
	w.end()
	w.end()
	return w.b
}

// kdcRepFieldsSize estimates the room a reply's names and padata take, so the reply is written
// into one allocation.
func kdcRepFieldsSize(r messages.KDCRepFields) int {
	n := len(r.CRealm) + len(r.Ticket.Realm) + 64
	for _, s := range r.CName.NameString {
		n += len(s) + 2
	}
	for _, s := range r.Ticket.SName.NameString {
		n += len(s) + 2
	}
	for _, p := range r.PAData {
		n += len(p.PADataValue) + 16
	}
	return n
}

// encodeKRBError is [APPLICATION 30] KRB-ERROR.
func encodeKRBError(e messages.KRBError) []byte {
	w := derBuf{b: make([]byte, 0, 128+len(e.EText)+len(e.EData))}
	w.begin(0x60 | 30)
	w.begin(0x30)
	w.ctxInt(0, int64(e.PVNO))
	w.ctxInt(1, int64(e.MsgType))
	if !e.CTime.IsZero() {
		w.ctxTime(2, e.CTime)
	}
	if e.Cusec != 0 {
		w.ctxInt(3, int64(e.Cusec))
	}
	w.ctxTime(4, e.STime)
	w.ctxInt(5, int64(e.Susec))
	w.ctxInt(6, int64(e.ErrorCode))
	if e.CRealm != "" {
		w.ctxString(7, e.CRealm)
	}
	if e.CName.NameType != 0 || e.CName.NameString != nil {
		w.begin(0xa8)
		w.principal(e.CName)
		w.end()
	}
	w.ctxString(9, e.Realm)
	w.begin(0xaa)
	w.principal(e.SName)
	w.end()
	if e.EText != "" {
		w.ctxString(11, e.EText)
	}
	if e.EData != nil {
		w.ctxOctets(12, e.EData)
	}
	w.end()
	w.end()
	return w.b
}

// encodeETypeInfo2 is ETYPE-INFO2 (RFC 4120 5.2.7.5).
func encodeETypeInfo2(info types.ETypeInfo2) []byte {
	var w derBuf
	w.begin(0x30)
	for _, e := range info {
		w.begin(0x30)
		w.ctxInt(0, int64(e.EType))
		if e.Salt != "" {
			w.ctxString(1, e.Salt)
		}
		if e.S2KParams != nil {
			w.ctxOctets(2, e.S2KParams)
		}
		w.end()
	}
	w.end()
	return w.b
}

// methodData writes METHOD-DATA, a SEQUENCE OF PA-DATA.
func (w *derBuf) methodData(pas types.PADataSequence) {
	w.begin(0x30)
	for _, p := range pas {
		w.typeValue(1, int64(p.PADataType), p.PADataValue)
	}
	w.end()
}

// encodeMethodData is METHOD-DATA on its own (the e-data of KDC_ERR_PREAUTH_REQUIRED).
func encodeMethodData(pas types.PADataSequence) []byte {
	var w derBuf
	w.methodData(pas)
	return w.b
}

// encodeAPRep is [APPLICATION 15] AP-REP with its encrypted part.
func encodeAPRep(enc types.EncryptedData) []byte {
	var w derBuf
	w.begin(0x60 | 15)
	w.begin(0x30)
	w.ctxInt(0, 5)
	w.ctxInt(1, 15)
	w.begin(0xa2)
	w.encryptedData(enc)
	w.end()
	w.end()
	w.end()
	return w.b
}

// encodeEncAPRepPart is [APPLICATION 27] EncAPRepPart; subkey is left out when its type is 0.
func encodeEncAPRepPart(ctime time.Time, cusec int, subkey types.EncryptionKey, seq int64) []byte {
	var w derBuf
	w.begin(0x60 | 27)
	w.begin(0x30)
	w.ctxTime(0, ctime)
	w.ctxInt(1, int64(cusec))
	if subkey.KeyType != 0 {
		w.begin(0xa2)
		w.key(subkey)
		w.end()
	}
	w.ctxInt(3, seq)
	w.end()
	w.end()
	return w.b
}
