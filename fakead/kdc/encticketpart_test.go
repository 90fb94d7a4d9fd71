package kdc_test

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// gokrb5EncTicketPart is gokrb5's decoding; its panic counts as an error.
func gokrb5EncTicketPart(b []byte) (p messages.EncTicketPart, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("gokrb5 panicked: %v", r)
		}
	}()
	err = p.Unmarshal(b)
	return p, err
}

// encTicketPartCorpus: the decrypted part of a TGT this KDC issued (with its PAC), and
// EncTicketParts marshalled by gofork's asn1 (gokrb5's library) with every optional field, none,
// long-form lengths and odd flags.
func encTicketPartCorpus(t testing.TB) [][]byte {
	p := newInproc(t)
	key := *aliceAES(t)
	rep := p.login("alice", key)
	tgt, err := crypto.DecryptEncPart(rep.Ticket.EncPart, krbtgtKey(t, p.w), keyusage.KDC_REP_TICKET)
	if err != nil {
		t.Fatal(err)
	}
	out := [][]byte{tgt}
	now := time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)
	f := types.NewKrbFlags()
	types.SetFlags(&f, []int{1, 8, 9, 10})
	cname := types.PrincipalName{NameType: 1, NameString: []string{"alice"}}
	k := types.EncryptionKey{KeyType: 18, KeyValue: bytes.Repeat([]byte{0xab}, 32)}
	for _, tp := range []messages.EncTicketPart{
		{Flags: f, Key: k, CRealm: "CONTOSO.COM", CName: cname, Transited: messages.TransitedEncoding{TRType: 1, Contents: []byte{}},
			AuthTime: now, StartTime: now, EndTime: now.Add(10 * time.Hour), RenewTill: now.Add(7 * 24 * time.Hour),
			CAddr:             []types.HostAddress{{AddrType: 2, Address: []byte{127, 0, 0, 1}}},
			AuthorizationData: types.AuthorizationData{{ADType: 1, ADData: make([]byte, 3000)}, {ADType: -17, ADData: []byte{}}}},
		{Flags: asn1.BitString{Bytes: []byte{0x80}, BitLength: 1}, Key: types.EncryptionKey{KeyValue: []byte{}}, CRealm: "",
			CName: types.PrincipalName{NameString: []string{}}, Transited: messages.TransitedEncoding{Contents: []byte{1}},
			AuthTime: now, EndTime: now.Add(time.Second), CAddr: []types.HostAddress{}, AuthorizationData: types.AuthorizationData{}},
		{Flags: asn1.BitString{Bytes: []byte{}}, Key: k, CRealm: "R", CName: cname, Transited: messages.TransitedEncoding{Contents: []byte{}},
			AuthTime: now, EndTime: now},
	} {
		inner, err := asn1.Marshal(tp)
		if err != nil {
			t.Fatal(err)
		}
		b, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassApplication, IsCompound: true, Tag: 3, Bytes: inner})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// The direct decoder takes the whole corpus and gives, byte for byte, gokrb5's decoding.
func TestDecodeEncTicketPartMatchesGokrb5(t *testing.T) {
	for i, b := range encTicketPartCorpus(t) {
		want, err := gokrb5EncTicketPart(b)
		if err != nil {
			t.Fatalf("part %d: gokrb5 does not decode it: %v", i, err)
		}
		got, direct, err := kdc.DecodeEncTicketPart(b)
		if err != nil || !direct || !reflect.DeepEqual(got, want) {
			t.Errorf("part %d: direct %v, error %v\n%+v\nwant\n%+v", i, direct, err, got, want)
		}
	}
}

// Every truncation and one-byte change of the corpus: decoded exactly when gokrb5 decodes it, to
// the same struct, never a panic.
func TestDecodeEncTicketPartMalformed(t *testing.T) {
	mangleCorpus(t, encTicketPartCorpus(t), checkDecodeEncTicketPart)
}

func checkDecodeEncTicketPart(t testing.TB, b []byte) {
	t.Helper()
	sameAsGokrb5(t, b, kdc.DecodeEncTicketPart, gokrb5EncTicketPart)
}

func FuzzDecodeEncTicketPart(f *testing.F) {
	for _, b := range encTicketPartCorpus(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > kdc.MaxMessageSize {
			return
		}
		checkDecodeEncTicketPart(t, b)
	})
}
