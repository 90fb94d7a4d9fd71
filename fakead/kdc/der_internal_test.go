package kdc

import (
	"bytes"
	"github.com/jcmturner/gofork/encoding/asn1"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/asnAppTag"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// The direct encoder gives gofork's asn1.Marshal bytes, for full and sparse structures.
func TestDEREqualsReflection(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)
	f := types.NewKrbFlags()
	types.SetFlags(&f, []int{1, 8, 9, 10})
	big := make([]byte, 70000)
	for i := range big {
		big[i] = byte(i)
	}
	cname := types.PrincipalName{NameType: 1, NameString: []string{"alice"}}
	sname := types.PrincipalName{NameType: 2, NameString: []string{"krbtgt", "CONTOSO.COM"}}
	key := types.EncryptionKey{KeyType: 18, KeyValue: bytes.Repeat([]byte{0xab}, 32)}
	for i, tp := range []messages.EncTicketPart{
		{Flags: f, Key: key, CRealm: "CONTOSO.COM", CName: cname, Transited: messages.TransitedEncoding{TRType: 1, Contents: []byte{}},
			AuthTime: now, StartTime: now, EndTime: now.Add(10 * time.Hour), RenewTill: now.Add(7 * 24 * time.Hour),
			CAddr:             []types.HostAddress{{AddrType: 2, Address: []byte{127, 0, 0, 1}}},
			AuthorizationData: types.AuthorizationData{{ADType: 1, ADData: big}, {ADType: -17, ADData: []byte{1}}}},
		{Flags: f, Key: key, CRealm: "R", CName: cname, Transited: messages.TransitedEncoding{Contents: []byte{}},
			AuthTime: now, EndTime: now.Add(time.Second)},
	} {
		want, err := marshalApp(tp, asnAppTag.EncTicketPart)
		if err != nil {
			t.Fatal(err)
		}
		if got := encodeEncTicketPart(nil, tp); !bytes.Equal(got, want) {
			t.Errorf("EncTicketPart %d differs:\n got %x\nwant %x", i, got[:min(64, len(got))], want[:min(64, len(want))])
		}
	}
	for i, rp := range []messages.EncKDCRepPart{
		{Key: key, LastReqs: []messages.LastReq{{LRType: 0, LRValue: now}}, Nonce: 2147483647, Flags: f,
			AuthTime: now, StartTime: now, EndTime: now.Add(10 * time.Hour), RenewTill: now.Add(time.Hour),
			SRealm: "CONTOSO.COM", SName: sname, CAddr: []types.HostAddress{{AddrType: 2, Address: []byte{10, 0, 0, 1}}}},
		{Key: key, LastReqs: []messages.LastReq{{LRType: -1, LRValue: now}}, Nonce: 128, Flags: f,
			AuthTime: now, EndTime: now, SRealm: "R", SName: sname},
		{Key: key, LastReqs: []messages.LastReq{{LRValue: now}}, Nonce: 0, Flags: f, AuthTime: now, EndTime: now, SRealm: "R", SName: sname},
	} {
		for _, tag := range []int{asnAppTag.EncASRepPart, asnAppTag.EncTGSRepPart} {
			want, err := marshalApp(rp, tag)
			if err != nil {
				t.Fatal(err)
			}
			if got := encodeEncKDCRepPart(nil, rp, tag); !bytes.Equal(got, want) {
				t.Errorf("EncKDCRepPart %d/%d differs:\n got %x\nwant %x", i, tag, got, want)
			}
		}
	}
	for _, v := range []int64{0, 1, 127, 128, 255, 256, -1, -128, -129, 1 << 31, -(1 << 31)} {
		want, _ := marshalAppInt(v)
		var w derBuf
		if w.integer(v); !bytes.Equal(w.b, want) {
			t.Errorf("INTEGER %d: %x, want %x", v, w.b, want)
		}
	}
}

func marshalAppInt(v int64) ([]byte, error) { return asn1.Marshal(v) }

// Replies, tickets and authorization data: the direct encoder matches gokrb5's Marshal.
func TestDERRepliesEqualReflection(t *testing.T) {
	tkt := messages.Ticket{TktVNO: 5, Realm: "CONTOSO.COM",
		SName:   types.PrincipalName{NameType: 2, NameString: []string{"krbtgt", "CONTOSO.COM"}},
		EncPart: types.EncryptedData{EType: 18, KVNO: 3, Cipher: bytes.Repeat([]byte{7}, 300)}}
	want, err := tkt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if got := encodeTicket(tkt); !bytes.Equal(got, want) {
		t.Errorf("Ticket:\n got %x\nwant %x", got, want)
	}
	fields := messages.KDCRepFields{PVNO: 5, MsgType: 11,
		PAData: types.PADataSequence{{PADataType: 19, PADataValue: []byte{0x30, 0}}},
		CRealm: "CONTOSO.COM", CName: types.PrincipalName{NameType: 1, NameString: []string{"alice"}},
		Ticket: tkt, EncPart: types.EncryptedData{EType: 17, Cipher: []byte{1, 2, 3}}}
	as := messages.ASRep{KDCRepFields: fields}
	if want, err = as.Marshal(); err != nil {
		t.Fatal(err)
	}
	if got := encodeKDCRep(fields, asnAppTag.ASREP); !bytes.Equal(got, want) {
		t.Errorf("AS-REP:\n got %x\nwant %x", got, want)
	}
	fields.MsgType, fields.PAData = 13, nil
	tgs := messages.TGSRep{KDCRepFields: fields}
	if want, err = tgs.Marshal(); err != nil {
		t.Fatal(err)
	}
	if got := encodeKDCRep(fields, asnAppTag.TGSREP); !bytes.Equal(got, want) {
		t.Errorf("TGS-REP:\n got %x\nwant %x", got, want)
	}
	ad := types.AuthorizationData{{ADType: 128, ADData: bytes.Repeat([]byte{9}, 500)}}
	if want, err = asn1.Marshal(ad); err != nil {
		t.Fatal(err)
	}
	if got := derAuthData(ad); !bytes.Equal(got, want) {
		t.Errorf("AuthorizationData:\n got %x\nwant %x", got, want)
	}
}

func TestDERErrorsEqualReflection(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)
	info := types.ETypeInfo2{{EType: 18, Salt: "CONTOSO.COMalice"}, {EType: 23}, {EType: 17, Salt: "x", S2KParams: []byte{0, 0, 16, 0}}}
	want, err := asn1.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	ib := encodeETypeInfo2(info)
	if !bytes.Equal(ib, want) {
		t.Errorf("ETYPE-INFO2:\n got %x\nwant %x", ib, want)
	}
	md := types.PADataSequence{{PADataType: 19, PADataValue: ib}, {PADataType: 2, PADataValue: []byte{}}}
	if want, err = asn1.Marshal(md); err != nil {
		t.Fatal(err)
	}
	mb := encodeMethodData(md)
	if !bytes.Equal(mb, want) {
		t.Errorf("METHOD-DATA:\n got %x\nwant %x", mb, want)
	}
	sname := types.PrincipalName{NameType: 2, NameString: []string{"krbtgt", "CONTOSO.COM"}}
	for i, e := range []messages.KRBError{
		{PVNO: 5, MsgType: 30, STime: now, ErrorCode: 25, Realm: "CONTOSO.COM", SName: sname,
			CRealm: "CONTOSO.COM", CName: types.PrincipalName{NameType: 1, NameString: []string{"alice"}}, EText: "pre-authentication required", EData: mb},
		{PVNO: 5, MsgType: 30, STime: now, Susec: 12, ErrorCode: 60, Realm: "R", SName: sname, CTime: now, Cusec: 3},
	} {
		want, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if got := encodeKRBError(e); !bytes.Equal(got, want) {
			t.Errorf("KRB-ERROR %d:\n got %x\nwant %x", i, got, want)
		}
	}
}

// marshalApp is the reflection-based encoding the direct encoder must match: v marshalled with
// gofork's asn1, wrapped in [APPLICATION tag].
func marshalApp(v any, tag int) ([]byte, error) {
	b, err := asn1.Marshal(v)
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(asn1.RawValue{Class: asn1.ClassApplication, IsCompound: true, Tag: tag, Bytes: b})
}
