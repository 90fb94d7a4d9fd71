package kdc_test

import (
	"io"
	"log"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/jcmturner/gofork/encoding/asn1"
	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/messages"
	"github.com/jcmturner/gokrb5/v8/pac"
	"github.com/jcmturner/gokrb5/v8/types"
)

// decodePAC finds the PAC in a decrypted ticket and decodes it with gokrb5, which checks the
// server signature with key.
func decodePAC(t *testing.T, tkt messages.Ticket, key types.EncryptionKey) pac.PACType {
	t.Helper()
	ad := tkt.DecryptedEncPart.AuthorizationData
	if len(ad) != 1 || ad[0].ADType != 1 {
		t.Fatalf("authorization data %+v: want one AD-IF-RELEVANT", ad)
	}
	var inner types.AuthorizationData
	if _, err := asn1.Unmarshal(ad[0].ADData, &inner); err != nil || len(inner) != 1 || inner[0].ADType != 128 {
		t.Fatalf("AD-IF-RELEVANT %+v %v: want one AD-WIN2K-PAC", inner, err)
	}
	var p pac.PACType
	if err := p.Unmarshal(inner[0].ADData); err != nil {
		t.Fatal(err)
	}
	if err := p.ProcessPACInfoBuffers(key, log.New(io.Discard, "", 0)); err != nil {
		t.Fatalf("gokrb5 rejects the PAC: %v", err)
	}
	return p
}

// The service ticket's PAC, decoded by gokrb5: KERB_VALIDATION_INFO, PAC_CLIENT_INFO, the server
// signature with the service's key and the KDC signature with krbtgt's.
func TestPACInServiceTicket(t *testing.T) {
	p := newInproc(t)
	key := *aliceAES(t)
	t0 := p.w.Now()
	rep := p.login("alice", key)
	o := p.exchange(mustMarshalTGS(t, tgsReq(t, rep, key, "http/ITFarm1.contoso.com")))
	var trep messages.TGSRep
	if err := trep.Unmarshal(o.Reply); err != nil {
		t.Fatalf("%s: %v", o, err)
	}
	farm := gmsaKey(t, p.w, "ITFarm1$", kdc.EtypeAES256)
	tkt := trep.Ticket
	if err := tkt.Decrypt(farm); err != nil {
		t.Fatal(err)
	}
	pc := decodePAC(t, tkt, farm)
	v := pc.KerbValidationInfo
	var alice, webAdmins *fakead.Account
	p.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		alice, _ = d.Account("alice")
		webAdmins, _ = d.Account("Web Admins")
		return nil
	})
	dom := p.w.DomainSID()
	if v.EffectiveName.Value != "alice" || v.LogonDomainName.Value != "CONTOSO" || v.LogonServer.Value != "DC1" ||
		v.LogonDomainID.String() != dom || v.UserID != alice.SID.RID() || v.PrimaryGroupID != 513 {
		t.Errorf("logon info: name %q domain %q server %q domain SID %s user %d primary %d",
			v.EffectiveName.Value, v.LogonDomainName.Value, v.LogonServer.Value, v.LogonDomainID.String(), v.UserID, v.PrimaryGroupID)
	}
	groups := v.GetGroupMembershipSIDs()
	if !slices.Contains(groups, webAdmins.SID.String()) || !slices.Contains(groups, dom+"-513") || v.UserAccountControl != 0x10 {
		t.Errorf("groups %v (want Web Admins and Domain Users), SAM account control %#x (want 0x10)", groups, v.UserAccountControl)
	}
	if pc.ClientInfo.Name != "alice" || !pc.ClientInfo.ClientID.Time().Equal(t0) {
		t.Errorf("client info %q %v, want alice %v", pc.ClientInfo.Name, pc.ClientInfo.ClientID.Time(), t0)
	}
	// The KDC signature is krbtgt's checksum over the server signature.
	kt := krbtgtKey(t, p.w)
	e, err := crypto.GetChksumEtype(int32(pc.KDCChecksum.SignatureType))
	if err != nil || pc.KDCChecksum.SignatureType != 16 {
		t.Fatalf("KDC signature type %d: %v", pc.KDCChecksum.SignatureType, err)
	}
	if !e.VerifyChecksum(kt.KeyValue, pc.ServerChecksum.Signature, pc.KDCChecksum.Signature, keyusage.KERB_NON_KERB_CKSUM_SALT) {
		t.Error("the KDC signature does not verify with krbtgt's key")
	}
	// The same PAC does not verify with another key.
	var other pac.PACType
	inner := tkt.DecryptedEncPart.AuthorizationData[0].ADData
	var ad types.AuthorizationData
	asn1.Unmarshal(inner, &ad)
	other.Unmarshal(ad[0].ADData)
	if err := other.ProcessPACInfoBuffers(krbtgtKey(t, p.w), log.New(io.Discard, "", 0)); err == nil ||
		!strings.Contains(err.Error(), "checksum") {
		t.Errorf("PAC verified with the wrong key: %v", err)
	}
}

// Groups of other domains and BUILTIN go in ExtraSids; an RC4 service gets an HMAC-MD5 signature.
func TestPACExtraSidsAndRC4(t *testing.T) {
	p := newInproc(t)
	var admin *fakead.Account
	p.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		admin, _ = d.Account("Administrator")
		return nil
	})
	key := types.EncryptionKey{KeyType: 18, KeyValue: admin.Keys.AES256}
	rep := p.login("Administrator", key)
	o := p.exchange(mustMarshalTGS(t, tgsReq(t, rep, key, "cifs/web2.contoso.com")))
	var trep messages.TGSRep
	if err := trep.Unmarshal(o.Reply); err != nil {
		t.Fatalf("%s: %v", o, err)
	}
	web2 := adKey(t, kdc.EtypeRC4, "machine-password-web2", "")
	tkt := trep.Ticket
	if err := tkt.Decrypt(web2); err != nil {
		t.Fatal(err)
	}
	pc := decodePAC(t, tkt, web2)
	if pc.ServerChecksum.SignatureType != uint32(0xffffff76) || len(pc.ServerChecksum.Signature) != 16 {
		t.Errorf("server signature type %#x len %d, want KERB_CHECKSUM_HMAC_MD5 (16 bytes)", pc.ServerChecksum.SignatureType, len(pc.ServerChecksum.Signature))
	}
	groups := pc.KerbValidationInfo.GetGroupMembershipSIDs()
	var tg []ad.SID
	p.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		tg, _ = d.TokenGroups(admin.DN)
		return nil
	})
	if len(tg) == 0 || len(groups) != len(tg) {
		t.Fatalf("PAC groups %v, tokenGroups %v", groups, tg)
	}
	for _, s := range tg {
		if !slices.Contains(groups, s.String()) {
			t.Errorf("tokenGroups has %s, the PAC does not", s)
		}
	}
	// Administrators (S-1-5-32-544) is a BUILTIN group: not a RID of the domain, an ExtraSid.
	if !slices.Contains(groups, "S-1-5-32-544") || len(pc.KerbValidationInfo.ExtraSIDs) == 0 ||
		pc.KerbValidationInfo.UserFlags&0x20 == 0 {
		t.Errorf("groups %v, ExtraSids %d, UserFlags %#x: want S-1-5-32-544 as an ExtraSid with EXTRA_SIDS set",
			groups, len(pc.KerbValidationInfo.ExtraSIDs), pc.KerbValidationInfo.UserFlags)
	}
}
