package kdc

import "github.com/jcmturner/gokrb5/v8/types"

// decodeAuthenticator decodes a decrypted Authenticator as types.Authenticator.Unmarshal does
// (the TGS decodes one per request): canonical DER through the direct decoder (the rules of
// directKDCReq), anything else through gokrb5; tested byte for byte, FuzzDecodeAuthenticator.
func decodeAuthenticator(b []byte) (types.Authenticator, error) {
	return directOr(b, directAuthenticator, (*types.Authenticator).Unmarshal)
}

// directAuthenticator decodes [APPLICATION 2] Authenticator (RFC 4120 5.5.1), or gives up.
func directAuthenticator(b []byte) (a types.Authenticator, ok bool) {
	seq, ok := one(b, 0x60|2)
	if !ok {
		return a, false
	}
	body, ok := one(seq, 0x30)
	if !ok {
		return a, false
	}
	d := derIn{body}
	if a.AVNO, a.CRealm, a.CName, ok = d.vnoRealmName(); !ok {
		return a, false
	}
	if d.has(3) {
		cc, ok := d.field(3, 0x30)
		if !ok {
			return a, false
		}
		if a.Cksum.CksumType, a.Cksum.Checksum, ok = pair(cc, 0, 1); !ok {
			return a, false
		}
	}
	cusec, ok := d.int64Field(4)
	if !ok {
		return a, false
	}
	a.Cusec = int(cusec)
	if a.CTime, ok = d.timeField(5); !ok {
		return a, false
	}
	if d.has(6) {
		kc, ok := d.field(6, 0x30)
		if !ok {
			return a, false
		}
		if a.SubKey.KeyType, a.SubKey.KeyValue, ok = pair(kc, 0, 1); !ok {
			return a, false
		}
	}
	if d.has(7) {
		if a.SeqNumber, ok = d.int64Field(7); !ok {
			return a, false
		}
	}
	if d.has(8) {
		ad, ok := d.field(8, 0x30)
		a.AuthorizationData = types.AuthorizationData{}
		if !ok || !seqOf(ad, 0x30, func(e []byte) bool {
			t, v, ok := pair(e, 0, 1)
			a.AuthorizationData = append(a.AuthorizationData, types.AuthorizationDataEntry{ADType: t, ADData: v})
			return ok
		}) {
			return a, false
		}
	}
	return a, len(d.b) == 0
}
