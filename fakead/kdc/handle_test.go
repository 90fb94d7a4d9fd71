package kdc_test

import (
	"slices"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana/flags"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/iana/patype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"
)

// inproc is a KDC called directly (no sockets), inside the world loop.
type inproc struct {
	t testing.TB
	w *sim.World
	k *kdc.KDC
}

func newInproc(t testing.TB) *inproc {
	w := newWorld(t)
	return &inproc{t: t, w: w, k: newKDC(t, w)}
}

func (p *inproc) exchange(req []byte) kdc.Outcome {
	var o kdc.Outcome
	if err := p.w.ExecOn("DC1", func(now time.Time, _ *fakead.Directory) error {
		o = p.k.Exchange(now, req)
		return nil
	}); err != nil {
		p.t.Fatal(err)
	}
	return o
}

// asReq builds an AS-REQ for name with gokrb5, pre-authenticated with key at ts when key is set.
func asReq(t testing.TB, name string, etypes []int32, key *types.EncryptionKey, ts time.Time) messages.ASReq {
	t.Helper()
	cfg := config.New()
	cfg.LibDefaults.DefaultTktEnctypeIDs = etypes
	cfg.LibDefaults.Forwardable = true
	req, err := messages.NewASReqForTGT(realm, cfg, types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, name))
	if err != nil {
		t.Fatal(err)
	}
	if key != nil {
		b, err := asn1.Marshal(types.PAEncTSEnc{PATimestamp: ts.UTC().Truncate(time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		ed, err := crypto.GetEncryptedData(b, *key, keyusage.AS_REQ_PA_ENC_TIMESTAMP, 0)
		if err != nil {
			t.Fatal(err)
		}
		eb, err := ed.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		req.PAData = append(req.PAData, types.PAData{PADataType: patype.PA_ENC_TIMESTAMP, PADataValue: eb})
	}
	return req
}

func marshalAS(t testing.TB, r messages.ASReq) []byte {
	t.Helper()
	b, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var aliceAES = func(t testing.TB) *types.EncryptionKey {
	k := adKey(t, kdc.EtypeAES256, pwAlice, "CONTOSO.COMalice")
	return &k
}

func krbError(t testing.TB, reply []byte) messages.KRBError {
	t.Helper()
	var e messages.KRBError
	if err := e.Unmarshal(reply); err != nil {
		t.Fatalf("reply is not a KRB-ERROR: %v", err)
	}
	return e
}

func TestHandleASErrors(t *testing.T) {
	p := newInproc(t)
	now := p.w.Now()
	aes := []int32{kdc.EtypeAES256, kdc.EtypeAES128}
	wrong := adKey(t, kdc.EtypeAES256, "wrong", "CONTOSO.COMalice")
	carol := adKey(t, kdc.EtypeRC4, "Carol-Pa55word!", "")
	bob := adKey(t, kdc.EtypeAES256, "Bob-Pa55word!", "CONTOSO.COMbob")
	otherRealm := asReq(t, "alice", aes, aliceAES(t), now)
	otherRealm.ReqBody.Realm = "FABRIKAM.COM"
	badService := asReq(t, "alice", aes, aliceAES(t), now)
	badService.ReqBody.SName = types.NewPrincipalName(nametype.KRB_NT_SRV_INST, "http/nowhere.contoso.com")
	for _, tc := range []struct {
		name string
		req  messages.ASReq
		want int32
	}{
		{"unknown principal", asReq(t, "nobody", aes, nil, now), 6},
		{"disabled account", asReq(t, "bob", aes, &bob, now), 18},
		{"no pre-authentication", asReq(t, "alice", aes, nil, now), 25},
		{"bad password", asReq(t, "alice", aes, &wrong, now), 24},
		{"skew: client 10 minutes behind", asReq(t, "alice", aes, aliceAES(t), now.Add(-10*time.Minute)), 37},
		{"skew: client 10 minutes ahead", asReq(t, "alice", aes, aliceAES(t), now.Add(10*time.Minute)), 37},
		{"no etype in common", asReq(t, "carol", []int32{kdc.EtypeRC4}, &carol, now), 14},
		{"wrong realm", otherRealm, 68},
		{"unknown service", badService, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := p.exchange(marshalAS(t, tc.req))
			e := krbError(t, o.Reply)
			if e.ErrorCode != tc.want || o.Code != tc.want {
				t.Errorf("code %d (outcome %d, %q), want %d", e.ErrorCode, o.Code, e.EText, tc.want)
			}
			if !e.STime.Equal(now) {
				t.Errorf("stime %v, want the world's %v", e.STime, now)
			}
		})
	}
	// Within the skew the timestamp is accepted.
	if o := p.exchange(marshalAS(t, asReq(t, "alice", aes, aliceAES(t), now.Add(-4*time.Minute)))); o.Code != 0 {
		t.Errorf("4 minutes behind: %s", o)
	}
}

func TestHandlePreauthRequiredEData(t *testing.T) {
	p := newInproc(t)
	for _, tc := range []struct {
		user   string
		etypes []int32
		want   []types.ETypeInfo2Entry
	}{
		{"alice", []int32{kdc.EtypeAES128, kdc.EtypeRC4, kdc.EtypeAES256}, []types.ETypeInfo2Entry{
			{EType: 17, Salt: "CONTOSO.COMalice"}, {EType: 23}, {EType: 18, Salt: "CONTOSO.COMalice"}}},
		{"WEB1$", []int32{kdc.EtypeAES256}, []types.ETypeInfo2Entry{{EType: 18, Salt: "CONTOSO.COMhostweb1.contoso.com"}}},
		// carol's msDS-SupportedEncryptionTypes (AES only) leaves RC4 out.
		{"carol", []int32{kdc.EtypeRC4, kdc.EtypeAES256}, []types.ETypeInfo2Entry{{EType: 18, Salt: "CONTOSO.COMcarol"}}},
	} {
		e := krbError(t, p.exchange(marshalAS(t, asReq(t, tc.user, tc.etypes, nil, time.Time{}))).Reply)
		if e.ErrorCode != 25 {
			t.Fatalf("%s: code %d", tc.user, e.ErrorCode)
		}
		var md types.PADataSequence
		if _, err := asn1.Unmarshal(e.EData, &md); err != nil {
			t.Fatalf("%s: e-data: %v", tc.user, err)
		}
		if len(md) != 2 || md[0].PADataType != patype.PA_ETYPE_INFO2 || md[1].PADataType != patype.PA_ENC_TIMESTAMP {
			t.Fatalf("%s: METHOD-DATA %+v", tc.user, md)
		}
		var info types.ETypeInfo2
		if err := info.Unmarshal(md[0].PADataValue); err != nil {
			t.Fatal(err)
		}
		if len(info) != len(tc.want) {
			t.Fatalf("%s: ETYPE-INFO2 %+v, want %+v", tc.user, info, tc.want)
		}
		for i := range info {
			if info[i].EType != tc.want[i].EType || info[i].Salt != tc.want[i].Salt {
				t.Errorf("%s: entry %d = %d %q, want %d %q", tc.user, i, info[i].EType, info[i].Salt, tc.want[i].EType, tc.want[i].Salt)
			}
		}
	}
}

// krbtgtKey is the krbtgt account's AES256 key from the directory.
func krbtgtKey(t testing.TB, w *sim.World) types.EncryptionKey {
	var k types.EncryptionKey
	w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		a, ok := d.Account("krbtgt")
		if !ok || len(a.Keys.AES256) != 32 {
			t.Fatalf("krbtgt has no AES256 key")
		}
		k = types.EncryptionKey{KeyType: 18, KeyValue: a.Keys.AES256}
		return nil
	})
	return k
}

func TestHandleASReply(t *testing.T) {
	p := newInproc(t)
	now := p.w.Now()
	req := asReq(t, "alice", []int32{kdc.EtypeAES128, kdc.EtypeAES256}, aliceAES(t), now)
	types.SetFlag(&req.ReqBody.KDCOptions, flags.Renewable)
	req.ReqBody.RTime = now.Add(30 * 24 * time.Hour) // more than policy: capped at 7 days
	o := p.exchange(marshalAS(t, req))
	if o.Code != 0 {
		t.Fatalf("%s", o)
	}
	var rep messages.ASRep
	if err := rep.Unmarshal(o.Reply); err != nil {
		t.Fatal(err)
	}
	// The reply is encrypted with the key the client pre-authenticated with (AES256), though it
	// listed AES128 first; PA-ETYPE-INFO2 says so with the salt.
	if rep.EncPart.EType != kdc.EtypeAES256 || len(rep.PAData) != 1 || rep.PAData[0].PADataType != patype.PA_ETYPE_INFO2 {
		t.Fatalf("reply etype %d, padata %+v", rep.EncPart.EType, rep.PAData)
	}
	var info types.ETypeInfo2
	if err := info.Unmarshal(rep.PAData[0].PADataValue); err != nil || len(info) != 1 || info[0].Salt != "CONTOSO.COMalice" {
		t.Fatalf("ETYPE-INFO2 %+v %v", info, err)
	}
	b, err := crypto.DecryptEncPart(rep.EncPart, *aliceAES(t), keyusage.AS_REP_ENCPART)
	if err != nil {
		t.Fatal(err)
	}
	var part messages.EncKDCRepPart
	if err := part.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	if part.Nonce != req.ReqBody.Nonce || !part.AuthTime.Equal(now) || part.EndTime.Sub(now) != 10*time.Hour ||
		part.RenewTill.Sub(now) != 7*24*time.Hour {
		t.Errorf("nonce %d/%d auth %v end +%v renew +%v", part.Nonce, req.ReqBody.Nonce, part.AuthTime, part.EndTime.Sub(now), part.RenewTill.Sub(now))
	}
	for _, f := range []int{flags.Initial, flags.PreAuthent, flags.Forwardable, flags.Renewable} {
		if !types.IsFlagSet(&part.Flags, f) {
			t.Errorf("flag %d not set", f)
		}
	}
	// The session key is of the client's first etype the krbtgt account has.
	if part.Key.KeyType != kdc.EtypeAES128 {
		t.Errorf("session key etype %d, want 17", part.Key.KeyType)
	}
	// The TGT decrypts with krbtgt's key and carries alice's SID and groups.
	tb, _ := rep.Ticket.Marshal()
	snap, err := kdc.TicketSnapshot(tb, krbtgtKey(t, p.w))
	if err != nil {
		t.Fatal(err)
	}
	var aliceSID, webAdmins string
	p.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		a, _ := d.Account("alice")
		g, _ := d.Account("Web Admins")
		aliceSID, webAdmins = a.SID.String(), g.SID.String()
		return nil
	})
	if snap.SID != aliceSID || !slices.Contains(snap.Groups, webAdmins) || !snap.AuthTime.Equal(now) {
		t.Errorf("snapshot %+v; want SID %s with group %s at %v", snap, aliceSID, webAdmins, now)
	}
}

// Same seed, same request, same time: the same reply, byte for byte (session keys and confounders
// come from the world's stream).
func TestHandleDeterministic(t *testing.T) {
	start := sim.DefaultStart()
	var replies [2][]byte
	var req []byte
	for i := range replies {
		w, err := sim.New(sim.Config{Seed: 3, Start: start})
		if err != nil {
			t.Fatal(err)
		}
		var key types.EncryptionKey
		w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
			a, _ := d.Account("Administrator")
			key = types.EncryptionKey{KeyType: 18, KeyValue: a.Keys.AES256}
			return nil
		})
		if req == nil {
			req = marshalAS(t, asReq(t, "Administrator", []int32{18}, &key, start))
		}
		k := newKDC(t, w)
		w.ExecOn("DC1", func(now time.Time, _ *fakead.Directory) error {
			replies[i] = k.Handle(now, req)
			return nil
		})
	}
	if replies[0] == nil || replies[0][0] != 0x6b || string(replies[0]) != string(replies[1]) {
		t.Errorf("replies differ or are not AS-REPs: %x / %x", replies[0][:8], replies[1][:8])
	}
}

func TestHandleGarbage(t *testing.T) {
	p := newInproc(t)
	key := *aliceAES(t)
	as := marshalAS(t, asReq(t, "alice", []int32{18}, &key, p.w.Now()))
	tgs := mustMarshalTGS(t, tgsReq(t, p.login("alice", key), key, "http/ITFarm1.contoso.com"))
	for _, tc := range []struct {
		name string
		req  []byte
	}{{"empty", nil}, {"text", []byte("GET / HTTP/1.1\r\n\r\n")}, {"ldap", []byte{0x30, 0x0c, 0x02, 0x01, 0x01}},
		{"huge", make([]byte, kdc.MaxMessageSize+1)}} {
		if o := p.exchange(tc.req); o.Reply != nil {
			t.Errorf("%s: got a reply %x", tc.name, o.Reply[:4])
		}
	}
	// Every truncation of a valid request: a KRB-ERROR (the tag says AS or TGS) or nothing.
	for _, full := range [][]byte{as, tgs} {
		for n := 1; n < len(full); n++ {
			o := p.exchange(full[:n])
			if o.Reply != nil && o.Reply[0] != 0x7e {
				t.Fatalf("truncated to %d: reply %x is not a KRB-ERROR", n, o.Reply[:1])
			}
			if o.Reply != nil && o.Code != 60 {
				t.Fatalf("truncated to %d: code %d, want 60", n, o.Code)
			}
		}
	}
}
