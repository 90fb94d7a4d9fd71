package sim

import (
	"fmt"
	"strconv"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
)

// Domain accounts a layer above needs before it starts (MIM's service users and sync groups),
// created as SYSTEM on one DC and traced.

// AddDomainUser creates an enabled user CN=name,CN=Users with a password, as SYSTEM on dc.
func AddDomainUser(w *World, dc, name, password string) error {
	return w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		dn := "CN=" + name + ",CN=Users," + d.DomainDN()
		err := d.Add(now, fakead.SystemCaller, dn, []fakead.Attribute{
			{Name: "objectClass", Values: [][]byte{[]byte("user")}},
			{Name: "sAMAccountName", Values: [][]byte{[]byte(name)}},
			{Name: "userPrincipalName", Values: [][]byte{[]byte(name + "@" + d.DNSName())}},
			{Name: "userAccountControl", Values: [][]byte{[]byte(strconv.Itoa(fakead.UACNormalAccount))}},
		})
		if err != nil {
			return fmt.Errorf("sim: user %s: %w", name, err)
		}
		if err := d.SetPassword(now, fakead.SystemCaller, dn, password); err != nil {
			return fmt.Errorf("sim: password of %s: %w", name, err)
		}
		w.trace.Logf(now, "%s user %s created", d.DC().Name, name)
		return nil
	})
}

// AddDomainGroup creates a global security group CN=name,CN=Users as SYSTEM on dc.
func AddDomainGroup(w *World, dc, name string) error {
	return w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		dn := "CN=" + name + ",CN=Users," + d.DomainDN()
		err := d.Add(now, fakead.SystemCaller, dn, []fakead.Attribute{
			{Name: "objectClass", Values: [][]byte{[]byte("group")}},
			{Name: "sAMAccountName", Values: [][]byte{[]byte(name)}},
			{Name: "groupType", Values: [][]byte{[]byte("-2147483646")}},
		})
		if err != nil {
			return fmt.Errorf("sim: group %s: %w", name, err)
		}
		w.trace.Logf(now, "%s group %s created", d.DC().Name, name)
		return nil
	})
}

// exists reports whether an account of exactly that name exists on dc.
func exists(w *World, dc, name string) bool {
	ok, _ := w.has(dc, name)
	return ok
}

// EnsureDomainUser creates the user unless an account of that name exists.
func EnsureDomainUser(w *World, dc, name, password string) error {
	if exists(w, dc, name) {
		return nil
	}
	return AddDomainUser(w, dc, name, password)
}

// EnsureDomainGroup creates the group unless an account of that name exists.
func EnsureDomainGroup(w *World, dc, name string) error {
	if exists(w, dc, name) {
		return nil
	}
	return AddDomainGroup(w, dc, name)
}
