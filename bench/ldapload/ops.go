package main

import (
	"fmt"
	"math/rand/v2"

	"github.com/go-ldap/ldap/v3"
)

// opFunc runs one operation on conn for user i and checks its answer.
type opFunc func(conn *ldap.Conn, i int) error

// newOp returns the operation c.Op names for worker w (an operation may hold per-worker state,
// such as a Kerberos client).
func newOp(c *Config, w int) (opFunc, error) {
	switch c.Op {
	case "connbind", "gssapi":
		return newConnOp(c, w)
	}
	return sameConnOp(c), nil
}

// sameConnOp is an operation on the worker's long-lived connection.
func sameConnOp(c *Config) opFunc {
	switch c.Op {
	case "eq":
		return func(conn *ldap.Conn, i int) error {
			filter := fmt.Sprintf("(%s=%s)", ldap.EscapeFilter(c.FilterAttr), ldap.EscapeFilter(UserName(i)))
			req := ldap.NewSearchRequest(c.Base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
				2, 0, false, filter, c.Attrs, nil)
			return expectOne(conn, req, c.UserDN(i))
		}
	case "bind":
		return func(conn *ldap.Conn, i int) error {
			if err := conn.Bind(c.UserDN(i), c.UserPW); err != nil {
				return fmt.Errorf("bind as %s: %w", c.UserDN(i), err)
			}
			return nil
		}
	default: // "base"
		return func(conn *ldap.Conn, i int) error {
			req := ldap.NewSearchRequest(c.UserDN(i), ldap.ScopeBaseObject, ldap.NeverDerefAliases,
				0, 0, false, "(objectClass=*)", c.Attrs, nil)
			return expectOne(conn, req, c.UserDN(i))
		}
	}
}

// expectOne runs req and checks that it returns exactly the entry wantDN (DNs compared as DNs).
func expectOne(conn *ldap.Conn, req *ldap.SearchRequest, wantDN string) error {
	res, err := conn.Search(req)
	if err != nil {
		return fmt.Errorf("search %q base %q: %w", req.Filter, req.BaseDN, err)
	}
	if len(res.Entries) != 1 {
		return fmt.Errorf("search %q base %q: %w: got %d, want 1", req.Filter, req.BaseDN, errWrongCount, len(res.Entries))
	}
	if !sameDN(res.Entries[0].DN, wantDN) {
		return fmt.Errorf("search %q base %q: got entry %q, want %q", req.Filter, req.BaseDN, res.Entries[0].DN, wantDN)
	}
	return nil
}

// sameDN compares two DNs as LDAP does (case-insensitive attribute types and, for these names,
// values); unparsable DNs fall back to exact comparison.
func sameDN(a, b string) bool {
	da, errA := ldap.ParseDN(a)
	db, errB := ldap.ParseDN(b)
	if errA != nil || errB != nil {
		return a == b
	}
	return da.EqualFold(db)
}

// picker is one connection's deterministic stream of user indices.
type picker struct{ r *rand.Rand }

// newPicker seeds worker w's stream from seed: the same seed and worker give the same users.
func newPicker(seed uint64, w int) picker {
	return picker{rand.New(rand.NewPCG(seed, uint64(w)))}
}

func (p picker) next(users int) int { return p.r.IntN(users) }
