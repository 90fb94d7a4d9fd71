package ldapsrv_test

import (
	"testing"

	"github.com/go-ldap/ldap/v3"
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
