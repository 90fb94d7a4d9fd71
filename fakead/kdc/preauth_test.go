package kdc_test

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/iana/patype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// gokrb5 decodings; a panic counts as an error.
func gokrb5EncryptedData(b []byte) (e types.EncryptedData, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("gokrb5 panicked: %v", r)
		}
	}()
	err = e.Unmarshal(b)
	return e, err
}

func gokrb5PAEncTSEnc(b []byte) (ts types.PAEncTSEnc, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("gokrb5 panicked: %v", r)
		}
	}()
	err = ts.Unmarshal(b)
	return ts, err
}

// preauthCorpus: PA-ENC-TIMESTAMP values (the gokrb5 client's in the fuzz seeds, and marshalled
// ones with and without kvno, a long cipher) and PA-ENC-TS-ENCs with and without pausec.
func preauthCorpus(t testing.TB) (encData, tsEnc [][]byte) {
	fuzzSetup(t)
	for _, seed := range fuzzWorld.seeds {
		var r messages.ASReq
		if r.Unmarshal(seed) != nil {
			continue
		}
		for _, pa := range r.PAData {
			if pa.PADataType == patype.PA_ENC_TIMESTAMP {
				encData = append(encData, pa.PADataValue)
			}
		}
	}
	if len(encData) == 0 {
		t.Fatal("no PA-ENC-TIMESTAMP in the fuzz seeds")
	}
	for _, e := range []types.EncryptedData{
		{EType: 18, KVNO: 2, Cipher: bytes.Repeat([]byte{1}, 56)},
		{EType: 23, Cipher: bytes.Repeat([]byte{2}, 300)},
		{EType: -1, KVNO: -7, Cipher: []byte{}},
	} {
		b, err := asn1.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		encData = append(encData, b)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, ts := range []types.PAEncTSEnc{{PATimestamp: now, PAUSec: 123456}, {PATimestamp: now}, {PATimestamp: now, PAUSec: -1}} {
		b, err := asn1.Marshal(ts)
		if err != nil {
			t.Fatal(err)
		}
		tsEnc = append(tsEnc, b)
	}
	return encData, tsEnc
}

// The direct decoders take the whole corpus and give, byte for byte, gokrb5's decodings.
func TestDecodePreauthMatchesGokrb5(t *testing.T) {
	encData, tsEnc := preauthCorpus(t)
	for i, b := range encData {
		want, err := gokrb5EncryptedData(b)
		if err != nil {
			t.Fatalf("EncryptedData %d: gokrb5 does not decode it: %v", i, err)
		}
		got, direct, err := kdc.DecodeEncryptedData(b)
		if err != nil || !direct || !reflect.DeepEqual(got, want) {
			t.Errorf("EncryptedData %d: direct %v, error %v\n%+v\nwant\n%+v", i, direct, err, got, want)
		}
	}
	for i, b := range tsEnc {
		want, err := gokrb5PAEncTSEnc(b)
		if err != nil {
			t.Fatalf("PA-ENC-TS-ENC %d: gokrb5 does not decode it: %v", i, err)
		}
		got, direct, err := kdc.DecodePAEncTSEnc(b)
		if err != nil || !direct || !reflect.DeepEqual(got, want) {
			t.Errorf("PA-ENC-TS-ENC %d: direct %v, error %v\n%+v\nwant\n%+v", i, direct, err, got, want)
		}
	}
}

// Every truncation and one-byte change of the corpus (each input through both decoders): decoded
// exactly when gokrb5 decodes it, to the same struct, never a panic.
func TestDecodePreauthMalformed(t *testing.T) {
	encData, tsEnc := preauthCorpus(t)
	mangleCorpus(t, append(encData, tsEnc...), checkDecodePreauth)
}

func checkDecodePreauth(t testing.TB, b []byte) {
	t.Helper()
	sameAsGokrb5(t, b, kdc.DecodeEncryptedData, gokrb5EncryptedData)
	sameAsGokrb5(t, b, kdc.DecodePAEncTSEnc, gokrb5PAEncTSEnc)
}

func FuzzDecodePreauth(f *testing.F) {
	encData, tsEnc := preauthCorpus(f)
	for _, b := range append(encData, tsEnc...) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > kdc.MaxMessageSize {
			return
		}
		checkDecodePreauth(t, b)
	})
}
