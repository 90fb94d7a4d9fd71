package kdc

import "github.com/jcmturner/gokrb5/v8/types"

// The AS decodes two small structures per pre-authenticated request, PA-ENC-TIMESTAMP's
// EncryptedData and the PA-ENC-TS-ENC inside it (RFC 4120 5.2.7.2); gokrb5's reflective Unmarshal
// of the two was a tenth of an AS exchange. As for the other requests (directOr), canonical DER
// goes through the direct decoder and anything else through gokrb5; tested byte for byte,
// FuzzDecodePreauth.

// decodeEncryptedData decodes EncryptedData as types.EncryptedData.Unmarshal does.
func decodeEncryptedData(b []byte) (types.EncryptedData, error) {
	return directOr(b, directEncryptedDataSeq, (*types.EncryptedData).Unmarshal)
}

// directEncryptedDataSeq decodes SEQUENCE { EncryptedData }, or gives up.
func directEncryptedDataSeq(b []byte) (types.EncryptedData, bool) {
	c, ok := one(b, 0x30)
	if !ok {
		return types.EncryptedData{}, false
	}
	return directEncryptedData(c)
}

// decodePAEncTSEnc decodes PA-ENC-TS-ENC as types.PAEncTSEnc.Unmarshal does.
func decodePAEncTSEnc(b []byte) (types.PAEncTSEnc, error) {
	return directOr(b, directPAEncTSEnc, (*types.PAEncTSEnc).Unmarshal)
}

// directPAEncTSEnc decodes SEQUENCE { patimestamp [0] KerberosTime, pausec [1] Microseconds
// OPTIONAL }, or gives up.
func directPAEncTSEnc(b []byte) (ts types.PAEncTSEnc, ok bool) {
	c, ok := one(b, 0x30)
	if !ok {
		return ts, false
	}
	d := derIn{c}
	if ts.PATimestamp, ok = d.timeField(0); !ok {
		return ts, false
	}
	if d.has(1) {
		v, ok := d.int64Field(1)
		if !ok {
			return ts, false
		}
		ts.PAUSec = int(v)
	}
	return ts, len(d.b) == 0
}
