package sim_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/nametype"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
	"github.com/gmsasim/gmsasim/sim"
)

// krbAccept builds the default domain (DC1$ given a password while DC accounts have none of their
// own), has WEB1$ log on and ask for ldap/dc1.contoso.com in process, and hands the AP-REQ to the
// world's LDAP backend.
func krbAccept(t *testing.T) (*ldapsrv.KerberosContext, ldapsrv.Backend) {
	t.Helper()
	w, _, err := sim.NewDefaultDomain(sim.Config{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	k, err := kdc.ForDirectory(w.DC("DC1").Directory(), w.Rand("kdc"))
	if err != nil {
		t.Fatal(err)
	}
	var apReq []byte
	err = w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		dc, _ := d.Account("DC1$")
		if !dc.HasPassword {
			if err := d.SetPassword(now, fakead.SystemCaller, dc.DN, "dc1-test-password"); err != nil {
				return err
			}
		}
		web1, _ := d.Account("WEB1$")
		creds, err := k.Logon(now, "WEB1$", types.EncryptionKey{KeyType: kdc.EtypeAES256, KeyValue: web1.Keys.AES256})
		if err != nil {
			return err
		}
		st, err := k.ServiceTicket(now, creds, "ldap/dc1.contoso.com")
		if err != nil {
			return err
		}
		auth := types.Authenticator{AVNO: 5, CRealm: "CONTOSO.COM", CName: types.NewPrincipalName(nametype.KRB_NT_PRINCIPAL, "WEB1$"),
			CTime: now, SeqNumber: 1}
		req, err := messages.NewAPReq(st.Ticket, st.SessionKey, auth)
		if err != nil {
			return err
		}
		apReq, err = req.Marshal()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	b := w.Backend("DC1")
	ctx, err := b.(ldapsrv.KerberosAcceptor).AcceptKerberos(apReq)
	if err != nil {
		t.Fatal(err)
	}
	var farm string
	_ = w.ExecOn("DC1", func(_ time.Time, d *fakead.Directory) error {
		g, _ := d.Account("ITFarmHosts")
		farm = g.SID.String()
		return nil
	})
	if !slices.Contains(ctx.Caller.Token, farm) {
		t.Errorf("token %v lacks ITFarmHosts %s", ctx.Caller.Token, farm)
	}
	return ctx, b
}

// TestBackendAcceptKerberos: the DC accepts WEB1$'s AP-REQ with its own keys; the caller is WEB1$
// with its PAC's groups; the AP-REP's acceptor subkey comes from the world's seed (the same in
// two worlds of one seed); WhoAmI answers u:CONTOSO\WEB1$; garbage is a KRB_AP_ERR_BAD_INTEGRITY.
func TestBackendAcceptKerberos(t *testing.T) {
	ctx, b := krbAccept(t)
	if ctx.Client != "WEB1$@CONTOSO.COM" || ctx.Caller.DN != "CN=WEB1,CN=Computers,DC=contoso,DC=com" ||
		ctx.Caller.SID == "" || ctx.Caller.Token[0] != ctx.Caller.SID || len(ctx.APRep) == 0 || ctx.AcceptorSubkey.KeyType == 0 {
		t.Fatalf("context %+v", ctx)
	}
	again, _ := krbAccept(t)
	if !bytes.Equal(again.AcceptorSubkey.KeyValue, ctx.AcceptorSubkey.KeyValue) || again.ServerSeq != ctx.ServerSeq {
		t.Error("the acceptor subkey or sequence number differs between two worlds of one seed")
	}
	if got := b.(ldapsrv.WhoAmIer).WhoAmI(ctx.Caller); got != `u:CONTOSO\WEB1$` {
		t.Errorf("WhoAmI %q", got)
	}
	_, err := b.(ldapsrv.KerberosAcceptor).AcceptKerberos([]byte{0x6e, 0x00})
	var ke *kdc.Error
	if !errors.As(err, &ke) || ke.Code != 31 {
		t.Errorf("garbage AP-REQ: %v", err)
	}
}
