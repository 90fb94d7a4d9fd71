package kdc_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/jcmturner/gokrb5/v8/iana/msgtype"
	"github.com/jcmturner/gokrb5/v8/iana/patype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// gokrb5KDCReq is gokrb5's decoding of an AS-REQ or TGS-REQ (by its first byte); a panic of
// gokrb5's (it has one, on a malformed additional-tickets) counts as an error.
func gokrb5KDCReq(b []byte) (f messages.KDCReqFields, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("gokrb5 panicked: %v", r)
		}
	}()
	if len(b) > 0 && b[0] == 0x6c {
		var r messages.TGSReq
		err = r.Unmarshal(b)
		return r.KDCReqFields, err
	}
	var r messages.ASReq
	err = r.Unmarshal(b)
	return r.KDCReqFields, err
}

// kdcReqCorpus: the fuzz seeds (gokrb5 client requests: AS-REQ without and with
// PA-ENC-TIMESTAMP, TGS-REQs with PA-TGS-REQ and an AP-REQ) and requests built with gokrb5's
// marshalling that exercise every optional field and long-form lengths. user2user is the one
// the direct decoder leaves to gokrb5 (additional-tickets).
func kdcReqCorpus(t testing.TB) (direct, user2user [][]byte) {
	fuzzSetup(t)
	direct = append(direct, fuzzWorld.seeds...)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	body := func() messages.KDCReqBody {
		return messages.KDCReqBody{KDCOptions: types.NewKrbFlags(), Realm: "CONTOSO.COM",
			CName: types.PrincipalName{NameType: 1, NameString: []string{"alice"}},
			SName: types.PrincipalName{NameType: 2, NameString: []string{"krbtgt", "CONTOSO.COM"}},
			Till:  now.Add(10 * time.Hour), Nonce: 12345, EType: []int32{18, 17, 23}}
	}
	pac := []byte{0x30, 0x05, 0xa0, 0x03, 0x01, 0x01, 0xff} // KERB-PA-PAC-REQUEST { include-pac TRUE }
	as := func(f func(*messages.KDCReqFields)) []byte {
		r := messages.ASReq{KDCReqFields: messages.KDCReqFields{PVNO: 5, MsgType: msgtype.KRB_AS_REQ, ReqBody: body()}}
		f(&r.KDCReqFields)
		b, err := r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tgs := func(f func(*messages.KDCReqFields)) []byte {
		r := messages.TGSReq{KDCReqFields: messages.KDCReqFields{PVNO: 5, MsgType: msgtype.KRB_TGS_REQ, ReqBody: body()}}
		f(&r.KDCReqFields)
		b, err := r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	direct = append(direct,
		as(func(*messages.KDCReqFields) {}),
		as(func(r *messages.KDCReqFields) {
			r.PAData = types.PADataSequence{{PADataType: patype.PA_PAC_REQUEST, PADataValue: pac},
				{PADataType: 136, PADataValue: []byte{0x30, 0x00}}, // PA-FX-FAST (the KDC ignores it)
				{PADataType: 149, PADataValue: []byte{}}}           // PA-REQ-ENC-PA-REP, empty
			r.ReqBody.From, r.ReqBody.RTime = now, now.Add(7*24*time.Hour)
			r.ReqBody.Addresses = []types.HostAddress{{AddrType: 2, Address: []byte{10, 0, 0, 1}}, {AddrType: 24, Address: make([]byte, 16)}}
			r.ReqBody.Nonce = -1
		}),
		as(func(r *messages.KDCReqFields) {
			r.PAData = types.PADataSequence{}
			r.ReqBody.EType = []int32{}
			r.ReqBody.CName = types.PrincipalName{NameType: 10, NameString: []string{strings.Repeat("a", 300) + "@contoso.com"}}
			r.ReqBody.Nonce = 1<<31 - 1
			r.ReqBody.KDCOptions.Bytes[0] = 0x40 // forwardable
		}),
		as(func(r *messages.KDCReqFields) {
			r.PVNO = 0
			r.ReqBody.CName = types.PrincipalName{}
			r.ReqBody.SName = types.PrincipalName{NameString: []string{}}
			r.ReqBody.EType = []int32{-135, 2147483647, -2147483648}
			r.ReqBody.EncAuthData = types.EncryptedData{EType: 18, Cipher: make([]byte, 200)}
		}),
		tgs(func(r *messages.KDCReqFields) {
			r.PAData = types.PADataSequence{{PADataType: patype.PA_TGS_REQ, PADataValue: make([]byte, 70000)}}
			r.ReqBody.EncAuthData = types.EncryptedData{EType: 23, KVNO: 3, Cipher: []byte{1, 2, 3}}
			r.ReqBody.Addresses = []types.HostAddress{}
		}),
	)
	user2user = append(user2user, tgs(func(r *messages.KDCReqFields) {
		r.ReqBody.AdditionalTickets = []messages.Ticket{{TktVNO: 5, Realm: "CONTOSO.COM",
			SName:   types.PrincipalName{NameType: 2, NameString: []string{"krbtgt", "CONTOSO.COM"}},
			EncPart: types.EncryptedData{EType: 18, KVNO: 2, Cipher: []byte{9, 9}}}}
	}))
	return direct, user2user
}

// The direct decoder gives, byte for byte, gokrb5's decoding of every request of the corpus, and
// takes all of them but the user-to-user one.
func TestDecodeKDCReqMatchesGokrb5(t *testing.T) {
	direct, u2u := kdcReqCorpus(t)
	for i, b := range append(direct, u2u...) {
		want, err := gokrb5KDCReq(b)
		if err != nil {
			t.Fatalf("request %d: gokrb5 does not decode it: %v", i, err)
		}
		got, isDirect, err := kdc.DecodeKDCReq(b)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("request %d: decoded (%v)\n%+v\nwant\n%+v", i, err, got, want)
		}
		if isDirect != (i < len(direct)) {
			t.Errorf("request %d: direct decoder took it: %v, want %v", i, isDirect, i < len(direct))
		}
	}
}

// Every truncation and every one-byte change of the corpus: decoded exactly when gokrb5 decodes
// it, to the same struct, never a panic.
func TestDecodeKDCReqMalformed(t *testing.T) {
	direct, u2u := kdcReqCorpus(t)
	var short [][]byte // the long samples (70 KB fields) are the direct tests'; their cut prefixes add only time
	for _, b := range append(direct, u2u...) {
		if len(b) <= 2000 {
			short = append(short, b)
		}
	}
	mangleCorpus(t, short, checkDecodeKDCReq)
}

func checkDecodeKDCReq(t testing.TB, b []byte) {
	t.Helper()
	sameAsGokrb5(t, b, kdc.DecodeKDCReq, gokrb5KDCReq)
}

func FuzzDecodeKDCReq(f *testing.F) {
	direct, u2u := kdcReqCorpus(f)
	for _, b := range append(direct, u2u...) {
		if len(b) < 4096 {
			f.Add(b)
		}
	}
	f.Add([]byte{0x6a, 0x00})
	f.Add([]byte{0x6c, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > kdc.MaxMessageSize {
			return
		}
		checkDecodeKDCReq(t, b)
	})
}
