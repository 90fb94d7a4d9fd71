package kdc_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
)

// apReqFor logs alice on, gets a ticket for HOST/web1.contoso.com and builds an AP-REQ stamped at ctime with
// GSS flags and an initiator subkey.
func apReqFor(t testing.TB, p *inproc, ctime time.Time, gss uint32) (apReq []byte, st *kdc.ServiceTicket, sub types.EncryptionKey) {
	t.Helper()
	return apReqAs(t, p, ctime, gss, realm, "alice")
}

// apReqAs is apReqFor with the authenticator naming crealm and cname (the ticket is alice's).
func apReqAs(t testing.TB, p *inproc, ctime time.Time, gss uint32, crealm, cname string) (apReq []byte, st *kdc.ServiceTicket, sub types.EncryptionKey) {
	t.Helper()
	err := p.w.ExecOn("DC1", func(now time.Time, _ *fakead.Directory) error {
		c, err := p.k.Logon(now, "alice", adKey(t, kdc.EtypeAES256, pwAlice, realm+"alice"))
		if err != nil {
			return err
		}
		st, err = p.k.ServiceTicket(now, c, "HOST/web1.contoso.com")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sub = types.EncryptionKey{KeyType: kdc.EtypeAES128, KeyValue: bytes.Repeat([]byte{7}, 16)}
	ck := make([]byte, 24)
	binary.LittleEndian.PutUint32(ck, 16)
	binary.LittleEndian.PutUint32(ck[20:], gss)
	auth := types.Authenticator{AVNO: 5, CRealm: crealm, CName: types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, cname),
		Cksum: types.Checksum{CksumType: 0x8003, Checksum: ck}, CTime: ctime.UTC().Truncate(time.Second), Cusec: 4242,
		SeqNumber: 77, SubKey: sub}
	req, err := messages.NewAPReq(st.Ticket, st.SessionKey, auth)
	if err != nil {
		t.Fatal(err)
	}
	types.SetFlag(&req.APOptions, flags.APOptionMutualRequired)
	b, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b, st, sub
}

// TestAcceptAPReq: the service side decrypts ticket and authenticator, returns the client, its
// PAC groups and the authenticator's subkey, sequence number and GSS flags, and its AP-REP
// decrypts with the session key to the authenticator's ctime/cusec and the acceptor subkey.
func TestAcceptAPReq(t *testing.T) {
	p := newInproc(t)
	now := p.w.Now()
	b, st, sub := apReqFor(t, p, now, kdc.GSSFlagMutual|kdc.GSSFlagConf)
	svcKey := adKey(t, kdc.EtypeAES256, pwWeb1, realm+"hostweb1.contoso.com")
	old := adKey(t, kdc.EtypeAES256, "old password", realm+"hostweb1.contoso.com")
	a, err := kdc.AcceptAPReq(now, b, old, svcKey)
	if err != nil {
		t.Fatal(err)
	}
	if a.Client != "alice@CONTOSO.COM" || a.KeyIndex != 1 || a.SeqNumber != 77 || a.Cusec != 4242 ||
		!a.HasGSS || a.GSSFlags != kdc.GSSFlagMutual|kdc.GSSFlagConf || !a.MutualRequired ||
		!bytes.Equal(a.Subkey.KeyValue, sub.KeyValue) || !bytes.Equal(a.SessionKey.KeyValue, st.SessionKey.KeyValue) {
		t.Fatalf("accepted %+v", a)
	}
	if a.ContextKey().KeyType != kdc.EtypeAES128 {
		t.Errorf("context key is not the initiator's subkey: %+v", a.ContextKey())
	}
	webAdmins := ""
	_ = p.w.ExecOn("DC1", func(_ time.Time, d *fakead.Directory) error {
		g, _ := d.Account("Web Admins")
		webAdmins = g.SID.String()
		return nil
	})
	if !slices.Contains(a.Snapshot.Groups, webAdmins) {
		t.Errorf("PAC groups %v lack Web Admins %s", a.Snapshot.Groups, webAdmins)
	}
	acc := types.EncryptionKey{KeyType: kdc.EtypeAES128, KeyValue: bytes.Repeat([]byte{9}, 16)}
	rep, err := a.APRep(p.w.Rand("test/aprep"), acc, 1234)
	if err != nil {
		t.Fatal(err)
	}
	var m messages.APRep
	if err := m.Unmarshal(rep); err != nil {
		t.Fatalf("AP-REP does not parse: %v", err)
	}
	plain, err := crypto.DecryptEncPart(m.EncPart, st.SessionKey, 12)
	if err != nil {
		t.Fatal(err)
	}
	var part messages.EncAPRepPart
	if err := part.Unmarshal(plain); err != nil {
		t.Fatal(err)
	}
	if !part.CTime.Equal(now.UTC().Truncate(time.Second)) || part.Cusec != 4242 || part.SequenceNumber != 1234 ||
		!bytes.Equal(part.Subkey.KeyValue, acc.KeyValue) {
		t.Fatalf("EncAPRepPart %+v", part)
	}
}

// TestAcceptAPReqErrors: wrong key, skewed authenticator, expired ticket, garbage.
func TestAcceptAPReqErrors(t *testing.T) {
	p := newInproc(t)
	now := p.w.Now()
	svcKey := adKey(t, kdc.EtypeAES256, pwWeb1, realm+"hostweb1.contoso.com")
	good, _, _ := apReqFor(t, p, now, 0)
	skewed, _, _ := apReqFor(t, p, now.Add(6*time.Minute), 0)
	cases := []struct {
		name string
		now  time.Time
		req  []byte
		keys []types.EncryptionKey
		code int32
	}{
		{"wrong key", now, good, []types.EncryptionKey{adKey(t, kdc.EtypeAES256, "nope", realm+"hostweb1.contoso.com")}, 41},
		{"skew", now, skewed, []types.EncryptionKey{svcKey}, 37},
		{"expired", now.Add(11 * time.Hour), good, []types.EncryptionKey{svcKey}, 37}, // the authenticator is old too
		{"garbage", now, []byte{0x6e, 0x01, 0x00}, []types.EncryptionKey{svcKey}, 31},
	}
	for _, c := range cases {
		_, err := kdc.AcceptAPReq(c.now, c.req, c.keys...)
		var ke *kdc.Error
		if !errors.As(err, &ke) || ke.Code != c.code {
			t.Errorf("%s: %v, want code %d", c.name, err, c.code)
		}
	}
	// The authenticator names the ticket's client in another case (impacket writes the realm as
	// given, "contoso.com"): accepted, as Windows compares case-insensitively. Another client: 36.
	lower, _, _ := apReqAs(t, p, now, 0, strings.ToLower(realm), "Alice")
	if a, err := kdc.AcceptAPReq(now, lower, svcKey); err != nil || a.Client != "alice@CONTOSO.COM" {
		t.Errorf("authenticator naming alice@%s: %+v, %v", strings.ToLower(realm), a, err)
	}
	bob, _, _ := apReqAs(t, p, now, 0, realm, "bob")
	if _, err := kdc.AcceptAPReq(now, bob, svcKey); err == nil || err.(*kdc.Error).Code != 36 {
		t.Errorf("authenticator naming bob on alice's ticket: %v, want 36", err)
	}
	late, _, _ := apReqFor(t, p, now.Add(11*time.Hour), 0)
	if _, err := kdc.AcceptAPReq(now.Add(11*time.Hour), late, svcKey); err == nil || err.(*kdc.Error).Code != 32 {
		t.Errorf("expired ticket with a fresh authenticator: %v, want 32", err)
	}
}

// FuzzAcceptAPReq: any bytes give an *Error or an acceptance, never a panic.
func FuzzAcceptAPReq(f *testing.F) {
	p := newInproc(f)
	now := p.w.Now()
	good, _, _ := apReqFor(f, p, now, kdc.GSSFlagMutual)
	svcKey := adKey(f, kdc.EtypeAES256, pwWeb1, realm+"hostweb1.contoso.com")
	f.Add(good)
	f.Add([]byte{0x6e, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := kdc.AcceptAPReq(now, b, svcKey)
		var ke *kdc.Error
		if err != nil && !errors.As(err, &ke) {
			if a != nil {
				t.Fatal("an acceptance with an error")
			}
			return
		}
		if err == nil && a.Client == "" {
			t.Fatal("accepted without a client")
		}
	})
}
