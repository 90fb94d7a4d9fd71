package kdc_test

import (
	"slices"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/iana/patype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// tgsReq builds a TGS-REQ with gokrb5 from an AS-REP decrypted with the client's key.
func tgsReq(t testing.TB, rep messages.ASRep, key types.EncryptionKey, spn string) messages.TGSReq {
	t.Helper()
	b, err := crypto.DecryptEncPart(rep.EncPart, key, keyusage.AS_REP_ENCPART)
	if err != nil {
		t.Fatal(err)
	}
	var part messages.EncKDCRepPart
	if err := part.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	cfg := config.New()
	cfg.LibDefaults.DefaultTGSEnctypeIDs = []int32{kdc.EtypeAES256}
	sname := types.NewPrincipalName(nametype.KRB_NT_SRV_INST, spn)
	req, err := messages.NewTGSReq(rep.CName, realm, cfg, rep.Ticket, part.Key, sname, false)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// restamp replaces the TGS-REQ's authenticator with one stamped at ctime (the world's time).
func restamp(t testing.TB, req messages.TGSReq, rep messages.ASRep, key types.EncryptionKey, ctime time.Time) messages.TGSReq {
	t.Helper()
	b, err := crypto.DecryptEncPart(rep.EncPart, key, keyusage.AS_REP_ENCPART)
	if err != nil {
		t.Fatal(err)
	}
	var part messages.EncKDCRepPart
	if err := part.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	auth := mustAuth(t)
	auth.CTime = ctime.UTC().Truncate(time.Second)
	ap, err := messages.NewAPReq(rep.Ticket, part.Key, auth)
	if err != nil {
		t.Fatal(err)
	}
	apb, err := ap.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	req.PAData = types.PADataSequence{{PADataType: patype.PA_TGS_REQ, PADataValue: apb}}
	return req
}

func (p *inproc) login(user string, key types.EncryptionKey) messages.ASRep {
	p.t.Helper()
	o := p.exchange(marshalAS(p.t, asReq(p.t, user, []int32{key.KeyType}, &key, p.w.Now())))
	var rep messages.ASRep
	if err := rep.Unmarshal(o.Reply); err != nil {
		p.t.Fatalf("%s: %v", o, err)
	}
	return rep
}

// The groups a principal carries are those of its logon: a membership change shows only after
// it logs on again.
func TestGroupSnapshotUntilNextLogon(t *testing.T) {
	p := newInproc(t)
	web1 := adKey(t, kdc.EtypeAES256, pwWeb1, "CONTOSO.COMhostweb1.contoso.com")
	farm := gmsaKey(t, p.w, "ITFarm1$", kdc.EtypeAES256)
	var hostsSID string
	p.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		g, _ := d.Account("ITFarmHosts")
		hostsSID = g.SID.String()
		return nil
	})
	groupsOf := func(rep messages.ASRep) []string {
		o := p.exchange(mustMarshalTGS(t, tgsReq(t, rep, web1, "http/ITFarm1.contoso.com")))
		var trep messages.TGSRep
		if err := trep.Unmarshal(o.Reply); err != nil {
			t.Fatalf("%s: %v", o, err)
		}
		b, _ := trep.Ticket.Marshal()
		g, err := kdc.TicketGroups(b, farm)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	before := p.login("WEB1$", web1)
	if g := groupsOf(before); !slices.Contains(g, hostsSID) {
		t.Fatalf("WEB1's snapshot %v lacks ITFarmHosts", g)
	}
	// WEB1 leaves ITFarmHosts; its old TGT still says member.
	err := p.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		return d.Modify(now, fakead.SystemCaller, "CN=ITFarmHosts,"+users, []fakead.Modification{
			{Op: fakead.ModDelete, Attr: attr("member", "CN=WEB1,CN=Computers,DC=contoso,DC=com")}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if g := groupsOf(before); !slices.Contains(g, hostsSID) {
		t.Errorf("old TGT: snapshot %v lost ITFarmHosts before a new logon", g)
	}
	if g := groupsOf(p.login("WEB1$", web1)); slices.Contains(g, hostsSID) {
		t.Errorf("new logon: snapshot %v still has ITFarmHosts", g)
	}
}

func mustMarshalTGS(t testing.TB, r messages.TGSReq) []byte {
	t.Helper()
	b, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHandleTGSErrors(t *testing.T) {
	p := newInproc(t)
	key := *aliceAES(t)
	rep := p.login("alice", key)
	ok := tgsReq(t, rep, key, "http/ITFarm1.contoso.com")
	if o := p.exchange(mustMarshalTGS(t, ok)); o.Code != 0 {
		t.Fatalf("%s", o)
	}
	for _, tc := range []struct {
		name string
		spn  string
		want int32
	}{
		{"unknown SPN", "http/nowhere.contoso.com", 7},
		{"gMSA without SPN by name", "Outbound1$", 7},
		{"gMSA without SPN by host name", "host/Outbound1.contoso.com", 7},
		{"user without SPN", "alice", 7},
		{"group", "ITFarmHosts", 7},
	} {
		o := p.exchange(mustMarshalTGS(t, tgsReq(t, rep, key, tc.spn)))
		if e := krbError(t, o.Reply); e.ErrorCode != tc.want {
			t.Errorf("%s: code %d, want %d", tc.name, e.ErrorCode, tc.want)
		}
	}
	// An RC4-only request for an AES-only service (no AES-SK): no etype in common.
	rc4only := tgsReq(t, rep, key, "http/ITFarm1.contoso.com")
	rc4only.ReqBody.EType = []int32{kdc.EtypeRC4}
	if o := p.exchange(mustMarshalTGS(t, rc4only)); o.Code != 0 {
		t.Errorf("RC4 session key for ITFarm1 (types 28): %s, want a ticket", o)
	}
	if err := p.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		return d.Modify(now, fakead.SystemCaller, "CN=ITFarm1,CN=Managed Service Accounts,DC=contoso,DC=com",
			[]fakead.Modification{{Op: fakead.ModReplace, Attr: attr("msDS-SupportedEncryptionTypes", "24")}})
	}); err != nil {
		t.Fatal(err)
	}
	if e := krbError(t, p.exchange(mustMarshalTGS(t, rc4only)).Reply); e.ErrorCode != 14 {
		t.Errorf("RC4 session key for ITFarm1 (types 24): code %d, want 14", e.ErrorCode)
	}
	// A TGT whose encryption was tampered with does not decrypt.
	bad := tgsReq(t, rep, key, "http/ITFarm1.contoso.com")
	badTGT := rep.Ticket
	badTGT.EncPart.Cipher = append([]byte(nil), badTGT.EncPart.Cipher...)
	badTGT.EncPart.Cipher[20] ^= 1
	ap, err := messages.NewAPReq(badTGT, types.EncryptionKey{KeyType: 18, KeyValue: make([]byte, 32)}, mustAuth(t))
	if err != nil {
		t.Fatal(err)
	}
	apb, _ := ap.Marshal()
	bad.PAData = types.PADataSequence{{PADataType: patype.PA_TGS_REQ, PADataValue: apb}}
	if e := krbError(t, p.exchange(mustMarshalTGS(t, bad)).Reply); e.ErrorCode != 31 {
		t.Errorf("tampered TGT: code %d, want 31 (KRB_AP_ERR_BAD_INTEGRITY)", e.ErrorCode)
	}
	// No PA-TGS-REQ at all.
	bad.PAData = nil
	if e := krbError(t, p.exchange(mustMarshalTGS(t, bad)).Reply); e.ErrorCode != 16 {
		t.Errorf("no PA-TGS-REQ: code %d, want 16", e.ErrorCode)
	}
	// The TGT expires with the world's clock.
	if err := p.w.Advance(11 * time.Hour); err != nil {
		t.Fatal(err)
	}
	if e := krbError(t, p.exchange(mustMarshalTGS(t, ok)).Reply); e.ErrorCode != 37 {
		t.Errorf("after 11 h, the old authenticator: code %d, want 37", e.ErrorCode)
	}
	fresh := restamp(t, ok, rep, key, p.w.Now())
	if e := krbError(t, p.exchange(mustMarshalTGS(t, fresh)).Reply); e.ErrorCode != 32 {
		t.Errorf("after 11 h, a fresh authenticator: code %d, want 32 (KRB_AP_ERR_TKT_EXPIRED)", e.ErrorCode)
	}
}

func mustAuth(t testing.TB) types.Authenticator {
	a, err := types.NewAuthenticator(realm, types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// A service ticket never outlives the TGT it was obtained with.
func TestTGSLifetimeCappedByTGT(t *testing.T) {
	p := newInproc(t)
	key := *aliceAES(t)
	t0 := p.w.Now()
	rep := p.login("alice", key)
	if err := p.w.Advance(6 * time.Hour); err != nil {
		t.Fatal(err)
	}
	req := restamp(t, tgsReq(t, rep, key, "http/ITFarm1.contoso.com"), rep, key, p.w.Now())
	o := p.exchange(mustMarshalTGS(t, req))
	var trep messages.TGSRep
	if err := trep.Unmarshal(o.Reply); err != nil {
		t.Fatalf("%s: %v", o, err)
	}
	b, _ := trep.Ticket.Marshal()
	var tkt messages.Ticket
	tkt.Unmarshal(b)
	if err := tkt.Decrypt(gmsaKey(t, p.w, "ITFarm1$", kdc.EtypeAES256)); err != nil {
		t.Fatal(err)
	}
	ep := tkt.DecryptedEncPart
	if !ep.AuthTime.Equal(t0) || !ep.StartTime.Equal(t0.Add(6*time.Hour)) || !ep.EndTime.Equal(t0.Add(10*time.Hour)) {
		t.Errorf("auth %v start %v end %v; want auth t0, start t0+6h, end t0+10h (t0=%v)", ep.AuthTime, ep.StartTime, ep.EndTime, t0)
	}
}

// A TGT older than 20 minutes is checked against the account: disabled or deleted, no tickets.
func TestTGSAccountCheckAfter20Minutes(t *testing.T) {
	p := newInproc(t)
	key := *aliceAES(t)
	rep := p.login("alice", key)
	if err := p.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		return d.Modify(now, fakead.SystemCaller, "CN=alice,"+users, []fakead.Modification{
			{Op: fakead.ModReplace, Attr: attr("userAccountControl", "514")}})
	}); err != nil {
		t.Fatal(err)
	}
	req := func() kdc.Outcome {
		return p.exchange(mustMarshalTGS(t, restamp(t, tgsReq(t, rep, key, "http/ITFarm1.contoso.com"), rep, key, p.w.Now())))
	}
	if o := req(); o.Code != 0 {
		t.Errorf("disabled, TGT 0 minutes old: %s, want a ticket", o)
	}
	p.w.Advance(21 * time.Minute)
	if o := req(); o.Code != 18 {
		t.Errorf("disabled, TGT 21 minutes old: %s, want KDC_ERR_CLIENT_REVOKED", o)
	}
	if err := p.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		return d.Delete(now, fakead.SystemCaller, "CN=alice,"+users)
	}); err != nil {
		t.Fatal(err)
	}
	if o := req(); o.Code != 6 {
		t.Errorf("deleted: %s, want KDC_ERR_C_PRINCIPAL_UNKNOWN", o)
	}
}
