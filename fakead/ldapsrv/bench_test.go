package ldapsrv_test

import (
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
)

// Round-trips over loopback with go-ldap against the in-memory backend: the wire edge's cost
// (framing, normalisation check, goldap decode/encode, per-connection ordering).

func BenchmarkBaseObjectSearch(b *testing.B) {
	f := startMem(b)
	c := f.dial(b)
	req := ldap.NewSearchRequest(adminDN, ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", []string{"cn", "sAMAccountName"}, nil)
	b.ReportAllocs()
	for b.Loop() {
		res, err := c.Search(req)
		if err != nil || len(res.Entries) != 1 {
			b.Fatal(res, err)
		}
	}
}

func BenchmarkBind(b *testing.B) {
	f := startMem(b)
	c := f.dial(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Bind(adminDN, adminPW); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBaseObjectSearchParallel(b *testing.B) {
	f := startMem(b)
	req := ldap.NewSearchRequest(adminDN, ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", []string{"cn"}, nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		c, err := ldap.DialURL("ldap://" + f.srv.LDAPAddr().String())
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		c.SetTimeout(clientTimeout)
		for pb.Next() {
			if _, err := c.Search(req); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkGSSAPISealedBindSearch is what a Windows member host does to read a gMSA's password:
// per connection, a GSSAPI bind with a sealed layer (three round trips; the AP-REQ built by the
// hand-driven client from a ticket obtained once) and one base search through the layer.
// Against the live model (a sim world), so it compares with BenchmarkSimpleBindSearch only.
func BenchmarkGSSAPISealedBindSearch(b *testing.B) {
	kw := newKrbWorldTB(b, ldapsrv.Options{})
	st := kw.ticket(b, "WEB1$", ldapSPN)
	b.ReportAllocs()
	for b.Loop() {
		tok, ctx := apReqToken(b, st, "WEB1$", kw.w.Now(), gssFlagsAll)
		r := dialKrb(b, kw.f.srv.LDAPAddr(), nil)
		if res, _ := r.gssapiBind(tok, ctx, 4); res.code != 0 {
			b.Fatal(res.diag)
		}
		if vals, res := r.readAttr(itFarm1DN, "sAMAccountName"); len(vals) != 1 {
			b.Fatal(res.diag)
		}
		r.c.Close()
	}
}

// BenchmarkSimpleBindSearch is the same with a simple bind (WEB1$'s password) over plain LDAP.
func BenchmarkSimpleBindSearch(b *testing.B) {
	kw := newKrbWorldTB(b, ldapsrv.Options{})
	req := ldap.NewSearchRequest(itFarm1DN, ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", []string{"sAMAccountName"}, nil)
	b.ReportAllocs()
	for b.Loop() {
		c, err := ldap.DialURL("ldap://" + kw.f.srv.LDAPAddr().String())
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Bind(`CONTOSO\WEB1$`, kw.pop.Passwords["WEB1$"]); err != nil {
			b.Fatal(err)
		}
		if res, err := c.Search(req); err != nil || len(res.Entries) != 1 {
			b.Fatal(err)
		}
		c.Close()
	}
}
