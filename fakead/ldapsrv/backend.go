package ldapsrv

import "github.com/gmsasim/gmsasim/fakead"

// Backend is what the LDAP server runs requests against: one domain controller of the world. The
// world implements it by handing each call to its serialised loop (exec) with simulated time, so
// handlers here only translate wire ↔ model. Every error is a *fakead.Error (anything else maps to
// "other").
type Backend interface {
	Bind(encrypted bool, name, password string) (fakead.Caller, error)
	Search(c fakead.Caller, req *fakead.SearchRequest) ([]fakead.SearchEntry, error)
	Add(c fakead.Caller, dn string, attrs []fakead.Attribute) error
	Modify(c fakead.Caller, dn string, mods []fakead.Modification) error
	Delete(c fakead.Caller, dn string) error
	ModifyDN(c fakead.Caller, dn, newRDN string, deleteOldRDN bool, newSuperior string) error
	Compare(c fakead.Caller, dn, attr string, value []byte) (bool, error)
}
