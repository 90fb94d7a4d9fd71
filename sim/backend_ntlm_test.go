package sim_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
	"github.com/gmsasim/gmsasim/ntlm"
	"github.com/gmsasim/gmsasim/sim"
)

// TestNTLMAccount: the world's LDAP backend finds an NTLM account by every name form a client
// sends (empty, NetBIOS or DNS domain in any case; sAMAccountName or UPN), returns its NT hash
// from the replica and a caller with its groups as they are now (a group joined a moment ago
// counts: NTLM has no PAC), refuses other domains and non-accounts as unknown users, and reports
// a disabled account with its hash so the password is checked first.
func TestNTLMAccount(t *testing.T) {
	w, pop, err := sim.NewDefaultDomain(sim.Config{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	na := w.Backend("DC1").(ldapsrv.NTLMAcceptor)
	want := ntlm.NTHash(pop.Passwords["WEB3$"])
	for _, n := range [][2]string{{"", "WEB3$"}, {"CONTOSO", "web3$"}, {"contoso", "WEB3$"}, {"Contoso.Com", "WEB3$"}, {"", "web3$@contoso.com"}} {
		h, c, err := na.NTLMAccount(n[0], n[1])
		if err != nil || !bytes.Equal(h, want) || c.DN != "CN=WEB3,CN=Computers,DC=contoso,DC=com" || !slices.Contains(c.Token, ad.SIDAuthenticatedUsers) {
			t.Errorf("NTLMAccount(%q, %q) = %x, %+v, %v", n[0], n[1], h, c, err)
		}
	}
	for _, n := range [][2]string{{"FABRIKAM", "WEB3$"}, {"", "nosuch"}, {"", "CN=WEB3,CN=Computers,DC=contoso,DC=com"},
		{"", "HOST/web3.contoso.com"}, {"", "ITFarmHosts"}, {"", ""}} {
		if _, _, err := na.NTLMAccount(n[0], n[1]); !errors.Is(err, ntlm.ErrUnknownUser) {
			t.Errorf("NTLMAccount(%q, %q) = %v, want ErrUnknownUser", n[0], n[1], err)
		}
	}

	// Group membership is read at logon time, not from a ticket.
	groupSID := func() string {
		var sid string
		_ = w.ExecOn("DC1", func(_ time.Time, d *fakead.Directory) error {
			a, _ := d.Account("CN=ITFarmHosts,CN=Users,DC=contoso,DC=com")
			if a != nil {
				sid = a.SID.String()
			}
			return nil
		})
		return sid
	}()
	if groupSID == "" {
		t.Fatal("no ITFarmHosts SID")
	}
	_, c, _ := na.NTLMAccount("CONTOSO", "WEB3$")
	if slices.Contains(c.Token, groupSID) {
		t.Fatal("WEB3$ already in ITFarmHosts")
	}
	err = w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		if err := d.Modify(now, fakead.SystemCaller, "CN=ITFarmHosts,CN=Users,DC=contoso,DC=com", []fakead.Modification{
			{Op: fakead.ModAdd, Attr: fakead.Attribute{Name: "member", Values: [][]byte{[]byte("CN=WEB3,CN=Computers,DC=contoso,DC=com")}}}}); err != nil {
			return err
		}
		return d.Modify(now, fakead.SystemCaller, "CN=WEB3,CN=Computers,DC=contoso,DC=com", []fakead.Modification{
			{Op: fakead.ModReplace, Attr: fakead.Attribute{Name: "userAccountControl", Values: [][]byte{[]byte("4098")}}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	h, c, err := na.NTLMAccount("CONTOSO", "WEB3$")
	if !errors.Is(err, ldapsrv.ErrAccountDisabled) || !bytes.Equal(h, want) || !slices.Contains(c.Token, groupSID) {
		t.Errorf("disabled WEB3$ after joining ITFarmHosts: %x, in group %v, %v", h, slices.Contains(c.Token, groupSID), err)
	}

	// The CHALLENGE names the DC as the world does; its clock is the world's.
	cfg, err := na.NTLMConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NetBIOSDomain != "CONTOSO" || cfg.NetBIOSComputer != "DC1" || cfg.DNSDomain != "contoso.com" ||
		cfg.DNSComputer != "dc1.contoso.com" || cfg.MaxClockSkew != 0 || !cfg.Now().Equal(w.Now()) {
		t.Errorf("NTLMConfig %+v, now %s (world %s)", cfg, cfg.Now(), w.Now())
	}
	var a, b [8]byte
	_, _ = cfg.Rand.Read(a[:])
	_, _ = cfg.Rand.Read(b[:])
	if a == b {
		t.Errorf("two server challenges drawn alike: %x", a)
	}
}
