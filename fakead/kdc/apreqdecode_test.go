package kdc_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/iana/patype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// gokrb5APReq is gokrb5's decoding; its panic counts as an error.
func gokrb5APReq(b []byte) (a messages.APReq, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("gokrb5 panicked: %v", r)
		}
	}()
	err = a.Unmarshal(b)
	return a, err
}

// apReqCorpus: the AP-REQs of the gokrb5 client's TGS-REQs (the fuzz seeds) and AP-REQs
// marshalled by gokrb5 with options, a kvno or none, a long authenticator.
func apReqCorpus(t testing.TB) [][]byte {
	fuzzSetup(t)
	var out [][]byte
	for _, s := range fuzzWorld.seeds {
		var r messages.TGSReq
		if r.Unmarshal(s) != nil {
			continue
		}
		for _, pa := range r.PAData {
			if pa.PADataType == patype.PA_TGS_REQ {
				out = append(out, pa.PADataValue)
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no PA-TGS-REQ in the seeds")
	}
	tkt := messages.Ticket{TktVNO: 5, Realm: "CONTOSO.COM",
		SName:   types.PrincipalName{NameType: 2, NameString: []string{"krbtgt", "CONTOSO.COM"}},
		EncPart: types.EncryptedData{EType: 18, KVNO: 2, Cipher: make([]byte, 1200)}}
	for _, a := range []messages.APReq{
		{PVNO: 5, MsgType: msgtype.KRB_AP_REQ, APOptions: asn1.BitString{Bytes: []byte{0x20, 0, 0, 0}, BitLength: 32},
			Ticket: tkt, EncryptedAuthenticator: types.EncryptedData{EType: 18, Cipher: make([]byte, 300)}},
		{PVNO: 0, MsgType: msgtype.KRB_AP_REQ, APOptions: asn1.BitString{Bytes: []byte{}},
			Ticket:                 messages.Ticket{SName: types.PrincipalName{NameString: []string{}}, EncPart: types.EncryptedData{Cipher: []byte{}}},
			EncryptedAuthenticator: types.EncryptedData{EType: 23, KVNO: -1, Cipher: []byte{1}}},
	} {
		b, err := a.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// The direct decoder takes the whole corpus and gives, byte for byte, gokrb5's decoding.
func TestDecodeAPReqMatchesGokrb5(t *testing.T) {
	for i, b := range apReqCorpus(t) {
		want, err := gokrb5APReq(b)
		if err != nil {
			t.Fatalf("AP-REQ %d: gokrb5 does not decode it: %v", i, err)
		}
		got, direct, err := kdc.DecodeAPReq(b)
		if err != nil || !direct || !reflect.DeepEqual(got, want) {
			t.Errorf("AP-REQ %d: direct %v, error %v\n%+v\nwant\n%+v", i, direct, err, got, want)
		}
	}
}

// Every truncation and one-byte change of the corpus: decoded exactly when gokrb5 decodes it, to
// the same struct, never a panic.
func TestDecodeAPReqMalformed(t *testing.T) {
	mangleCorpus(t, apReqCorpus(t), checkDecodeAPReq)
}

func checkDecodeAPReq(t testing.TB, b []byte) {
	t.Helper()
	sameAsGokrb5(t, b, kdc.DecodeAPReq, gokrb5APReq)
}

func FuzzDecodeAPReq(f *testing.F) {
	for _, b := range apReqCorpus(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > kdc.MaxMessageSize {
			return
		}
		checkDecodeAPReq(t, b)
	})
}
