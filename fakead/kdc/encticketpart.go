package kdc

import (
	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// decodeEncTicketPart decodes a ticket's decrypted part as messages.EncTicketPart.Unmarshal does:
// the TGS decodes the TGT of every request, and gofork's reflective decode of it was the largest
// cost left in a TGS exchange. Canonical DER goes through the direct decoder (the rules of
// directKDCReq), anything else through gokrb5; tested byte for byte, FuzzDecodeEncTicketPart.
func decodeEncTicketPart(b []byte) (messages.EncTicketPart, error) {
	return directOr(b, directEncTicketPart, (*messages.EncTicketPart).Unmarshal)
}

// derBitsIn is a BIT STRING's value, with gofork's checks of the padding bits.
func derBitsIn(c []byte) (asn1.BitString, bool) {
	if len(c) == 0 || c[0] > 7 || (len(c) == 1 && c[0] > 0) || c[len(c)-1]&(1<<c[0]-1) != 0 {
		return asn1.BitString{}, false
	}
	return asn1.BitString{Bytes: append(make([]byte, 0, len(c)-1), c[1:]...), BitLength: (len(c)-1)*8 - int(c[0])}, true
}

// directEncTicketPart decodes [APPLICATION 3] EncTicketPart (RFC 4120 5.3), or gives up (ok false).
func directEncTicketPart(b []byte) (p messages.EncTicketPart, ok bool) {
	seq, ok := one(b, 0x60|3)
	if !ok {
		return p, false
	}
	body, ok := one(seq, 0x30)
	if !ok {
		return p, false
	}
	d := derIn{body}
	bits, ok := d.field(0, 0x03)
	if !ok {
		return p, false
	}
	if p.Flags, ok = derBitsIn(bits); !ok {
		return p, false
	}
	kc, ok := d.field(1, 0x30)
	if !ok {
		return p, false
	}
	if p.Key.KeyType, p.Key.KeyValue, ok = pair(kc, 0, 1); !ok {
		return p, false
	}
	realm, ok := d.field(2, 0x1b)
	if !ok {
		return p, false
	}
	p.CRealm = string(realm)
	pc, ok := d.field(3, 0x30)
	if !ok {
		return p, false
	}
	if p.CName, ok = derPrincipalIn(pc); !ok {
		return p, false
	}
	tc, ok := d.field(4, 0x30)
	if !ok {
		return p, false
	}
	if p.Transited.TRType, p.Transited.Contents, ok = pair(tc, 0, 1); !ok {
		return p, false
	}
	if p.AuthTime, ok = d.timeField(5); !ok {
		return p, false
	}
	if d.has(6) {
		if p.StartTime, ok = d.timeField(6); !ok {
			return p, false
		}
	}
	if p.EndTime, ok = d.timeField(7); !ok {
		return p, false
	}
	if d.has(8) {
		if p.RenewTill, ok = d.timeField(8); !ok {
			return p, false
		}
	}
	if d.has(9) {
		as, ok := d.field(9, 0x30)
		p.CAddr = types.HostAddresses{}
		if !ok || !seqOf(as, 0x30, func(e []byte) bool {
			t, v, ok := pair(e, 0, 1)
			p.CAddr = append(p.CAddr, types.HostAddress{AddrType: t, Address: v})
			return ok
		}) {
			return p, false
		}
	}
	if d.has(10) {
		ad, ok := d.field(10, 0x30)
		p.AuthorizationData = types.AuthorizationData{}
		if !ok || !seqOf(ad, 0x30, func(e []byte) bool {
			t, v, ok := pair(e, 0, 1)
			p.AuthorizationData = append(p.AuthorizationData, types.AuthorizationDataEntry{ADType: t, ADData: v})
			return ok
		}) {
			return p, false
		}
	}
	return p, len(d.b) == 0
}
