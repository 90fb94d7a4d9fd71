package sim

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
)

// Backend returns the LDAP server's view of one DC: every call runs through the world loop
// (serialised, at simulated time) against that DC's replica, and its writes replicate like any
// other. Writes are traced ("DC1 add CN=..."); reads are not, so a trace does not depend on how
// often a client polls. Every error is a *fakead.Error. An unknown DC name gives a backend whose
// calls fail with Unavailable.
//
// Calls from concurrent connections are serialised in the order they take the lock, which is Go's
// scheduling order: runs over real sockets have deterministic time but not a deterministic trace.
func (w *World) Backend(dc string) ldapsrv.Backend { return &backend{w: w, dc: dc} }

type backend struct {
	w  *World
	dc string
}

var _ ldapsrv.Backend = (*backend)(nil)

func (b *backend) Bind(encrypted bool, name, password string) (fakead.Caller, error) {
	var c fakead.Caller
	err := b.w.ExecOn(b.dc, func(now time.Time, d *fakead.Directory) error {
		var err error
		c, err = d.Bind(now, name, password, encrypted)
		return err
	})
	return c, asModelError("bind", name, err)
}

func (b *backend) Search(c fakead.Caller, req *fakead.SearchRequest) ([]fakead.SearchEntry, error) {
	var res []fakead.SearchEntry
	base := ""
	if req != nil {
		base = req.BaseDN
	}
	err := b.w.ExecOn(b.dc, func(now time.Time, d *fakead.Directory) error {
		if req == nil {
			return &fakead.Error{Code: fakead.ProtocolError, Op: "search", Diag: "no search request"}
		}
		var err error
		res, err = d.Search(now, c, req)
		return err
	})
	return res, asModelError("search", base, err)
}

func (b *backend) Add(c fakead.Caller, dn string, attrs []fakead.Attribute) error {
	return b.write("add", dn, func(now time.Time, d *fakead.Directory) error { return d.Add(now, c, dn, attrs) })
}

func (b *backend) Modify(c fakead.Caller, dn string, mods []fakead.Modification) error {
	return b.write("modify", dn, func(now time.Time, d *fakead.Directory) error { return d.Modify(now, c, dn, mods) })
}

func (b *backend) Delete(c fakead.Caller, dn string) error {
	return b.write("delete", dn, func(now time.Time, d *fakead.Directory) error { return d.Delete(now, c, dn) })
}

func (b *backend) ModifyDN(c fakead.Caller, dn, newRDN string, deleteOldRDN bool, newSuperior string) error {
	return b.write("modifyDN", dn, func(now time.Time, d *fakead.Directory) error {
		return d.ModifyDN(now, c, dn, newRDN, deleteOldRDN, newSuperior)
	})
}

func (b *backend) Compare(c fakead.Caller, dn, attr string, value []byte) (bool, error) {
	var ok bool
	err := b.w.ExecOn(b.dc, func(now time.Time, d *fakead.Directory) error {
		var err error
		ok, err = d.Compare(now, c, dn, attr, value)
		return err
	})
	return ok, asModelError("compare", dn, err)
}

// write runs a write and traces it with its outcome.
func (b *backend) write(op, dn string, fn func(now time.Time, d *fakead.Directory) error) error {
	err := b.w.ExecOn(b.dc, func(now time.Time, d *fakead.Directory) error {
		err := fn(now, d)
		if err != nil {
			b.w.trace.Logf(now, "%s %s %s: %s", strings.ToUpper(b.dc), op, dn, fakead.CodeOf(err))
		} else {
			b.w.trace.Logf(now, "%s %s %s", strings.ToUpper(b.dc), op, dn)
		}
		return err
	})
	return asModelError(op, dn, err)
}

// asModelError keeps *fakead.Error as is (filling in the operation) and wraps anything else (an
// unknown DC, a world failure) so the wire edge always gets a result code.
func asModelError(op, dn string, err error) error {
	if err == nil {
		return nil
	}
	var fe *fakead.Error
	if errors.As(err, &fe) {
		if fe.Op == "" { // a world-level refusal (stopped DC): say what was refused
			fe.Op = op
			if fe.DN == "" {
				fe.DN = dn
			}
		}
		return err
	}
	code := fakead.Other
	if errors.Is(err, ErrUnknownDC) {
		code = fakead.Unavailable
	}
	diag, _, _ := strings.Cut(err.Error(), "\n") // the first line; the trace tail stays in Err
	return &fakead.Error{Code: code, Op: op, DN: dn, Diag: diag, Err: err}
}

// ExportLDIF writes one DC's replica as LDIF (the model's deterministic export).
func (w *World) ExportLDIF(dc string, out io.Writer) error {
	return w.enter(func() error {
		d, err := w.lookup(dc)
		if err != nil {
			return err
		}
		if err := d.dir.ExportLDIF(out); err != nil {
			return fmt.Errorf("sim: exporting %s: %w", d.name, err)
		}
		return nil
	})
}

// DefaultQueryPolicyDN is the Default Query Policy's DN below the configuration naming context
// ([MS-ADTS] 3.1.1.3.4.6): its lDAPAdminLimits are the LDAP limits a DC enforces.
const DefaultQueryPolicyDN = "CN=Default Query Policy,CN=Query-Policies,CN=Directory Service,CN=Windows NT,CN=Services,"

// QueryPolicy returns the lDAPAdminLimits values ("MaxPageSize=1000", ...) of the Default Query
// Policy as dc's replica holds them, for the LDAP server's limits (ldapsrv.ParseQueryPolicy).
func (w *World) QueryPolicy(dc string) ([]string, error) {
	var vals []string
	err := w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		res, err := d.Search(now, fakead.SystemCaller, &fakead.SearchRequest{BaseDN: DefaultQueryPolicyDN + d.ConfigDN(),
			Scope: fakead.ScopeBase, Filter: fakead.FilterPresent{Attr: "objectClass"}, Attributes: []string{"lDAPAdminLimits"}, SDFlags: -1})
		if err != nil {
			return err
		}
		for _, e := range res {
			for _, a := range e.Attributes {
				for _, v := range a.Values {
					vals = append(vals, string(v))
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the Default Query Policy on %s: %w", dc, err)
	}
	return vals, nil
}
