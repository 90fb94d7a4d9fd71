package kdc

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// derGen draws the structures the direct encoder writes, with every optional field present or
// absent, nil and empty lists, negative and extreme integers, long-form lengths and times from
// year 1 to 9999 (UTC, whole seconds: what a KDC issues).
type derGen struct{ r *rand.Rand }

func (g derGen) n(max int) int { return g.r.IntN(max + 1) }

func (g derGen) i32() int32 {
	switch g.n(4) {
	case 0:
		return 0
	case 1:
		return int32(g.n(300)) - 150
	case 2:
		return []int32{-1 << 31, 1<<31 - 1, 127, 128, -128, -129, 255, 256, 32767, 32768}[g.n(9)]
	}
	return int32(g.r.Uint32())
}

// size picks a length: mostly short, now and then around a long-form boundary.
func (g derGen) size() int {
	switch g.n(9) {
	case 0:
		return 0
	case 1:
		return 120 + g.n(20) // around 127/128
	case 2:
		return 250 + g.n(10) // around 255/256
	case 3:
		if g.n(3) == 0 {
			return 65530 + g.n(10) // around 65535/65536
		}
	}
	return g.n(40)
}

func (g derGen) bytes() []byte {
	if g.n(5) == 0 {
		return nil
	}
	b := make([]byte, g.size())
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return b
}

func (g derGen) nonNil() []byte {
	if b := g.bytes(); b != nil {
		return b
	}
	return []byte{}
}

func (g derGen) str() string {
	const alphabet = "abcXYZ019./$@-_ "
	b := make([]byte, g.n(3)*g.size()/2)
	for i := range b {
		b[i] = alphabet[g.n(len(alphabet)-1)]
	}
	return string(b)
}

func (g derGen) time() time.Time {
	switch g.n(5) {
	case 0:
		return time.Time{}
	case 1:
		return time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	}
	return time.Unix(int64(g.r.Uint64N(253402300800))-62135596800, 0).UTC() // years 1..9999
}

func (g derGen) reqTime() time.Time { // a mandatory time: gofork encodes the zero time as year 1
	return g.time()
}

func (g derGen) principal() types.PrincipalName {
	p := types.PrincipalName{NameType: g.i32()}
	if k := g.n(4); k > 0 || g.n(1) == 0 {
		p.NameString = make([]string, k)
		for i := range p.NameString {
			p.NameString[i] = g.str()
		}
	}
	return p
}

func (g derGen) key() types.EncryptionKey {
	return types.EncryptionKey{KeyType: g.i32(), KeyValue: g.nonNil()}
}

func (g derGen) flags() asn1.BitString {
	b := g.nonNil()
	if len(b) > 8 {
		b = b[:8]
	}
	return asn1.BitString{Bytes: b, BitLength: g.n(8 * len(b))}
}

func (g derGen) addrs() []types.HostAddress {
	if g.n(2) == 0 {
		return nil
	}
	a := make([]types.HostAddress, g.n(3))
	for i := range a {
		a[i] = types.HostAddress{AddrType: g.i32(), Address: g.nonNil()}
	}
	return a
}

func (g derGen) authData() types.AuthorizationData {
	if g.n(2) == 0 {
		return nil
	}
	a := make(types.AuthorizationData, g.n(3))
	for i := range a {
		a[i] = types.AuthorizationDataEntry{ADType: g.i32(), ADData: g.nonNil()}
	}
	return a
}

func (g derGen) encTicketPart() messages.EncTicketPart {
	return messages.EncTicketPart{Flags: g.flags(), Key: g.key(), CRealm: g.str(), CName: g.principal(),
		Transited: messages.TransitedEncoding{TRType: g.i32(), Contents: g.nonNil()},
		AuthTime:  g.reqTime(), StartTime: g.time(), EndTime: g.reqTime(), RenewTill: g.time(),
		CAddr: g.addrs(), AuthorizationData: g.authData()}
}

func (g derGen) encKDCRepPart() messages.EncKDCRepPart {
	lr := make([]messages.LastReq, g.n(3))
	for i := range lr {
		lr[i] = messages.LastReq{LRType: g.i32(), LRValue: g.reqTime()}
	}
	return messages.EncKDCRepPart{Key: g.key(), LastReqs: lr, Nonce: int(g.i32()), Flags: g.flags(),
		AuthTime: g.reqTime(), StartTime: g.time(), EndTime: g.reqTime(), RenewTill: g.time(),
		SRealm: g.str(), SName: g.principal(), CAddr: g.addrs()}
}

func (g derGen) encryptedData() types.EncryptedData {
	e := types.EncryptedData{EType: g.i32(), Cipher: g.nonNil()}
	if g.n(1) == 0 {
		e.KVNO = int(g.i32())
	}
	return e
}

func (g derGen) ticket() messages.Ticket {
	return messages.Ticket{TktVNO: int(g.i32()), Realm: g.str(), SName: g.principal(), EncPart: g.encryptedData()}
}

func (g derGen) paData() types.PADataSequence {
	if g.n(2) == 0 {
		return nil
	}
	p := make(types.PADataSequence, g.n(3))
	for i := range p {
		p[i] = types.PAData{PADataType: g.i32(), PADataValue: g.nonNil()}
	}
	return p
}

func (g derGen) kdcRep() messages.KDCRepFields {
	return messages.KDCRepFields{PVNO: int(g.i32()), MsgType: int(g.i32()), PAData: g.paData(), CRealm: g.str(),
		CName: g.principal(), Ticket: g.ticket(), EncPart: g.encryptedData()}
}

func (g derGen) krbError() messages.KRBError {
	e := messages.KRBError{PVNO: int(g.i32()), MsgType: int(g.i32()), CTime: g.time(), STime: g.reqTime(),
		Susec: int(g.i32()), ErrorCode: g.i32(), CRealm: g.str(), Realm: g.str(), SName: g.principal(), EText: g.str(), EData: g.bytes()}
	if g.n(1) == 0 {
		e.Cusec = int(g.i32())
	}
	if g.n(1) == 0 {
		e.CName = g.principal()
	}
	return e
}

func (g derGen) eTypeInfo2() types.ETypeInfo2 {
	info := make(types.ETypeInfo2, g.n(3))
	for i := range info {
		info[i] = types.ETypeInfo2Entry{EType: g.i32(), Salt: g.str(), S2KParams: g.bytes()}
	}
	return info
}

// checkDEREncoders draws one of each structure from g and fails t unless the direct encoder
// writes gofork's bytes for it.
func checkDEREncoders(t testing.TB, g derGen) {
	t.Helper()
	same := func(what string, got []byte, want []byte, err error, v any) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: gofork does not marshal %+v: %v", what, v, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s %+v:\n got %x\nwant %x", what, v, got, want)
		}
	}
	tp := g.encTicketPart()
	want, err := marshalApp(tp, asnAppTag.EncTicketPart)
	prefix := g.nonNil()[:0:0]
	same("EncTicketPart", encodeEncTicketPart(prefix, tp), want, err, tp)
	rp := g.encKDCRepPart()
	for _, tag := range []int{asnAppTag.EncASRepPart, asnAppTag.EncTGSRepPart} {
		want, err = marshalApp(rp, tag)
		same("EncKDCRepPart", encodeEncKDCRepPart(nil, rp, tag), want, err, rp)
	}
	tkt := g.ticket()
	want, err = tkt.Marshal()
	same("Ticket", encodeTicket(tkt), want, err, tkt)
	rep := g.kdcRep()
	want, err = (&messages.ASRep{KDCRepFields: rep}).Marshal()
	same("AS-REP", encodeKDCRep(rep, asnAppTag.ASREP), want, err, rep)
	want, err = (&messages.TGSRep{KDCRepFields: rep}).Marshal()
	same("TGS-REP", encodeKDCRep(rep, asnAppTag.TGSREP), want, err, rep)
	ke := g.krbError()
	want, err = ke.Marshal()
	same("KRB-ERROR", encodeKRBError(ke), want, err, ke)
	info := g.eTypeInfo2()
	want, err = asn1.Marshal(info)
	same("ETYPE-INFO2", encodeETypeInfo2(info), want, err, info)
	pa := g.paData()
	if pa == nil {
		pa = types.PADataSequence{}
	}
	want, err = asn1.Marshal(pa)
	same("METHOD-DATA", encodeMethodData(pa), want, err, pa)
	ad := g.authData()
	if ad == nil {
		ad = types.AuthorizationData{}
	}
	want, err = asn1.Marshal(ad)
	same("AuthorizationData", derAuthData(ad), want, err, ad)
}

// The direct encoder writes gofork's bytes for random draws of every structure it encodes: 200
// in make test (gofork's reflection under -race is slow), 1000 in make test-long; FuzzDEREncode
// draws further.
func TestDERRandomEqualsReflection(t *testing.T) {
	n := 200
	if os.Getenv("GMSASIM_TEST_LONG") != "" {
		n = 1000
	}
	for seed := range uint64(n) {
		checkDEREncoders(t, derGen{rand.New(rand.NewPCG(seed, 0x6b6463))})
	}
}

// fuzzSource is a rand.Source reading the fuzzer's bytes, then a PCG stream seeded with their
// length (a source stuck at one value would loop forever in rand's rejection sampling).
type fuzzSource struct {
	b    []byte
	rest *rand.PCG
}

func (s *fuzzSource) Uint64() uint64 {
	if len(s.b) == 0 {
		return s.rest.Uint64()
	}
	var x [8]byte
	s.b = s.b[copy(x[:], s.b):]
	return binary.LittleEndian.Uint64(x[:])
}

func FuzzDEREncode(f *testing.F) {
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 64))
	f.Add(bytes.Repeat([]byte{0x01, 0x80, 0x7f, 0x00}, 64))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDEREncoders(t, derGen{rand.New(&fuzzSource{b, rand.NewPCG(uint64(len(b)), 1)})})
	})
}
