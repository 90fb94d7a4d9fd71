package kdc

import (
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// A direct DER encoder for the two structures every reply encrypts, EncTicketPart and
// EncKDCRepPart (RFC 4120 5.3, 5.4.2): reflection-based asn1.Marshal was two fifths of a
// request's cost. The output is byte for byte what gofork's asn1.Marshal gives (tested), so
// optional fields are left out exactly when they hold their zero value.

func derTLV(tag byte, parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n+6)
	out = append(out, tag)
	switch {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	case n < 0x10000:
		out = append(out, 0x82, byte(n>>8), byte(n))
	default:
		out = append(out, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func derCtx(n int, content []byte) []byte { return derTLV(0xa0|byte(n), content) }

func derSeq(parts ...[]byte) []byte { return derTLV(0x30, parts...) }

func derInt(v int64) []byte {
	n := 1
	for x := v; x > 127 || x < -128; x >>= 8 {
		n++
	}
	b := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
	return derTLV(0x02, b)
}

func derGeneralString(s string) []byte { return derTLV(0x1b, []byte(s)) }

func derOctets(b []byte) []byte { return derTLV(0x04, b) }

func derBits(b asn1.BitString) []byte {
	return derTLV(0x03, []byte{byte((8 - b.BitLength%8) % 8)}, b.Bytes)
}

func derTime(t time.Time) []byte {
	return derTLV(0x18, []byte(t.UTC().Format("20060102150405")+"Z"))
}

func derPrincipal(p types.PrincipalName) []byte {
	names := make([][]byte, len(p.NameString))
	for i, s := range p.NameString {
		names[i] = derGeneralString(s)
	}
	return derSeq(derCtx(0, derInt(int64(p.NameType))), derCtx(1, derSeq(names...)))
}

func derKey(k types.EncryptionKey) []byte {
	return derSeq(derCtx(0, derInt(int64(k.KeyType))), derCtx(1, derOctets(k.KeyValue)))
}

func derAddresses(hs []types.HostAddress) []byte {
	parts := make([][]byte, len(hs))
	for i, h := range hs {
		parts[i] = derSeq(derCtx(0, derInt(int64(h.AddrType))), derCtx(1, derOctets(h.Address)))
	}
	return derSeq(parts...)
}

func derAuthData(ad types.AuthorizationData) []byte {
	parts := make([][]byte, len(ad))
	for i, e := range ad {
		parts[i] = derSeq(derCtx(0, derInt(int64(e.ADType))), derCtx(1, derOctets(e.ADData)))
	}
	return derSeq(parts...)
}

// encodeEncTicketPart is [APPLICATION 3] EncTicketPart.
func encodeEncTicketPart(p messages.EncTicketPart) []byte {
	f := [][]byte{
		derCtx(0, derBits(p.Flags)),
		derCtx(1, derKey(p.Key)),
		derCtx(2, derGeneralString(p.CRealm)),
		derCtx(3, derPrincipal(p.CName)),
		derCtx(4, derSeq(derCtx(0, derInt(int64(p.Transited.TRType))), derCtx(1, derOctets(p.Transited.Contents)))),
		derCtx(5, derTime(p.AuthTime)),
	}
	if !p.StartTime.IsZero() {
		f = append(f, derCtx(6, derTime(p.StartTime)))
	}
	f = append(f, derCtx(7, derTime(p.EndTime)))
	if !p.RenewTill.IsZero() {
		f = append(f, derCtx(8, derTime(p.RenewTill)))
	}
	if p.CAddr != nil {
		f = append(f, derCtx(9, derAddresses(p.CAddr)))
	}
	if p.AuthorizationData != nil {
		f = append(f, derCtx(10, derAuthData(p.AuthorizationData)))
	}
	return derTLV(0x60|3, derSeq(f...))
}

// encodeEncKDCRepPart is EncKDCRepPart under [APPLICATION tag] (25 for an AS-REP, 26 for a
// TGS-REP). KeyExpiration and EncPAData are never set by this KDC and are left out.
func encodeEncKDCRepPart(p messages.EncKDCRepPart, tag int) []byte {
	lr := make([][]byte, len(p.LastReqs))
	for i, l := range p.LastReqs {
		lr[i] = derSeq(derCtx(0, derInt(int64(l.LRType))), derCtx(1, derTime(l.LRValue)))
	}
	f := [][]byte{
		derCtx(0, derKey(p.Key)),
		derCtx(1, derSeq(lr...)),
		derCtx(2, derInt(int64(p.Nonce))),
		derCtx(4, derBits(p.Flags)),
		derCtx(5, derTime(p.AuthTime)),
	}
	if !p.StartTime.IsZero() {
		f = append(f, derCtx(6, derTime(p.StartTime)))
	}
	f = append(f, derCtx(7, derTime(p.EndTime)))
	if !p.RenewTill.IsZero() {
		f = append(f, derCtx(8, derTime(p.RenewTill)))
	}
	f = append(f, derCtx(9, derGeneralString(p.SRealm)), derCtx(10, derPrincipal(p.SName)))
	if p.CAddr != nil {
		f = append(f, derCtx(11, derAddresses(p.CAddr)))
	}
	return derTLV(0x60|byte(tag), derSeq(f...))
}

func derEncryptedData(e types.EncryptedData) []byte {
	f := [][]byte{derCtx(0, derInt(int64(e.EType)))}
	if e.KVNO != 0 {
		f = append(f, derCtx(1, derInt(int64(e.KVNO))))
	}
	return derSeq(append(f, derCtx(2, derOctets(e.Cipher)))...)
}

// encodeTicket is [APPLICATION 1] Ticket.
func encodeTicket(t messages.Ticket) []byte {
	return derTLV(0x60|1, derSeq(derCtx(0, derInt(int64(t.TktVNO))), derCtx(1, derGeneralString(t.Realm)),
		derCtx(2, derPrincipal(t.SName)), derCtx(3, derEncryptedData(t.EncPart))))
}

// encodeKDCRep is an AS-REP ([APPLICATION 11]) or TGS-REP ([APPLICATION 13]).
func encodeKDCRep(r messages.KDCRepFields, tag int) []byte {
	f := [][]byte{derCtx(0, derInt(int64(r.PVNO))), derCtx(1, derInt(int64(r.MsgType)))}
	if r.PAData != nil {
		pa := make([][]byte, len(r.PAData))
		for i, p := range r.PAData {
			pa[i] = derSeq(derCtx(1, derInt(int64(p.PADataType))), derCtx(2, derOctets(p.PADataValue)))
		}
		f = append(f, derCtx(2, derSeq(pa...)))
	}
	f = append(f, derCtx(3, derGeneralString(r.CRealm)), derCtx(4, derPrincipal(r.CName)),
		derCtx(5, encodeTicket(r.Ticket)), derCtx(6, derEncryptedData(r.EncPart)))
	return derTLV(0x60|byte(tag), derSeq(f...))
}

// encodeKRBError is [APPLICATION 30] KRB-ERROR.
func encodeKRBError(e messages.KRBError) []byte {
	f := [][]byte{derCtx(0, derInt(int64(e.PVNO))), derCtx(1, derInt(int64(e.MsgType)))}
	if !e.CTime.IsZero() {
		f = append(f, derCtx(2, derTime(e.CTime)))
	}
	if e.Cusec != 0 {
		f = append(f, derCtx(3, derInt(int64(e.Cusec))))
	}
	f = append(f, derCtx(4, derTime(e.STime)), derCtx(5, derInt(int64(e.Susec))), derCtx(6, derInt(int64(e.ErrorCode))))
	if e.CRealm != "" {
		f = append(f, derCtx(7, derGeneralString(e.CRealm)))
	}
	if e.CName.NameType != 0 || e.CName.NameString != nil {
		f = append(f, derCtx(8, derPrincipal(e.CName)))
	}
	f = append(f, derCtx(9, derGeneralString(e.Realm)), derCtx(10, derPrincipal(e.SName)))
	if e.EText != "" {
		f = append(f, derCtx(11, derGeneralString(e.EText)))
	}
	if e.EData != nil {
		f = append(f, derCtx(12, derOctets(e.EData)))
	}
	return derTLV(0x60|30, derSeq(f...))
}

// encodeETypeInfo2 is ETYPE-INFO2 (RFC 4120 5.2.7.5).
func encodeETypeInfo2(info types.ETypeInfo2) []byte {
	parts := make([][]byte, len(info))
	for i, e := range info {
		f := [][]byte{derCtx(0, derInt(int64(e.EType)))}
		if e.Salt != "" {
			f = append(f, derCtx(1, derGeneralString(e.Salt)))
		}
		if e.S2KParams != nil {
			f = append(f, derCtx(2, derOctets(e.S2KParams)))
		}
		parts[i] = derSeq(f...)
	}
	return derSeq(parts...)
}

// encodeMethodData is METHOD-DATA, a SEQUENCE OF PA-DATA.
func encodeMethodData(pas types.PADataSequence) []byte {
	parts := make([][]byte, len(pas))
	for i, p := range pas {
		parts[i] = derSeq(derCtx(1, derInt(int64(p.PADataType))), derCtx(2, derOctets(p.PADataValue)))
	}
	return derSeq(parts...)
}
