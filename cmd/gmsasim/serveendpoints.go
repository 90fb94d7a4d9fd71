package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/gmsasim/gmsasim/control"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
	"github.com/gmsasim/gmsasim/internal/safefile"
	"github.com/gmsasim/gmsasim/sim"
)

// Every DC of serve's world has its own sockets: LDAP and LDAPS (one ldapsrv.Server) and the KDC
// (TCP and UDP on one port). The address rule: --ldap, --ldaps and --kdc give DC1's address; DC
// number i (0-based) listens on the same host at port+i, or on a port the kernel picks when the
// port is 0; "" disables that protocol for every DC.

// MaxServeDCs bounds serve --dcs.
const MaxServeDCs = 64

// dcAddr is DC number i's (0-based) listen address under the address rule.
func dcAddr(addr string, i int) (string, error) {
	if addr == "" {
		return "", nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	p, err := net.LookupPort("tcp", port)
	if err != nil {
		return "", err
	}
	if p == 0 {
		return net.JoinHostPort(host, "0"), nil
	}
	if p+i > 65535 {
		return "", fmt.Errorf("%s: DC%d would listen on port %d, past 65535", addr, i+1, p+i)
	}
	return net.JoinHostPort(host, strconv.Itoa(p+i)), nil
}

// endpointAddrs are one DC's listen addresses; "" for a disabled protocol.
type endpointAddrs struct {
	DC               string // "DC2"
	LDAP, LDAPS, KDC string
}

// dcAddrs applies the address rule to n DCs named names, and refuses two DCs or protocols on one
// fixed port (an ephemeral port 0 never collides).
func dcAddrs(names []string, ldapAddr, ldapsAddr, kdcAddr string) ([]endpointAddrs, error) {
	out := make([]endpointAddrs, len(names))
	used := map[string]string{} // address → "ldap of DC1"
	for i, name := range names {
		out[i].DC = name
		for _, f := range []struct {
			flag, base string
			dst        *string
		}{{"ldap", ldapAddr, &out[i].LDAP}, {"ldaps", ldapsAddr, &out[i].LDAPS}, {"kdc", kdcAddr, &out[i].KDC}} {
			a, err := dcAddr(f.base, i)
			if err != nil {
				return nil, fmt.Errorf("--%s %w", f.flag, err)
			}
			*f.dst = a
			if a == "" || strings.HasSuffix(a, ":0") {
				continue
			}
			what := f.flag + " of " + name
			if prev, ok := used[a]; ok {
				return nil, fmt.Errorf("%s and %s would both listen on %s: space --ldap, --ldaps and --kdc at least --dcs ports apart", prev, what, a)
			}
			used[a] = what
		}
	}
	return out, nil
}

// dcEndpoint is one DC's listeners on fixed addresses. The first Open binds the configured
// addresses and records the bound ones (a port 0 becomes the port the kernel picked), so every
// later Open listens on exactly the same addresses: a client configured with them finds the DC
// again after it restarts. Go's listeners on Linux set SO_REUSEADDR, so a just-closed TCP port can
// be bound again at once despite connections in TIME_WAIT. The servers cannot listen again after
// Close, so each Open builds new ones. Not safe for concurrent use: domainServer.mu guards it.
type dcEndpoint struct {
	endpointAddrs
	open bool
	ldap *ldapsrv.Server // nil while closed, or when LDAP and LDAPS are both disabled
	kdc  *kdc.Server     // nil while closed, or when the KDC is disabled
}

// Open starts the DC's listeners over w's replica of it; it does nothing when they are open. On an
// error nothing stays open.
func (e *dcEndpoint) Open(w *sim.World, ca *ldapsrv.CA, requireSigning bool) error {
	if e.open {
		return nil
	}
	if e.LDAP != "" || e.LDAPS != "" {
		srv, err := w.ServeLDAP(e.DC, sim.LDAPOptions{CA: ca, LDAP: e.LDAP, LDAPS: e.LDAPS, RequireSigning: requireSigning})
		if err != nil {
			return fmt.Errorf("%s: %w", e.DC, err)
		}
		e.ldap = srv
	}
	if e.KDC != "" {
		ks, err := w.KDCServer(e.DC)
		if err == nil {
			e.kdc = ks
			err = ks.Listen(e.KDC)
		}
		if err != nil {
			e.shut()
			return fmt.Errorf("%s: listen for Kerberos on %s (TCP and UDP): %w", e.DC, e.KDC, err)
		}
	}
	if e.ldap != nil {
		e.LDAP, e.LDAPS = boundAddr(e.LDAP, e.ldap.LDAPAddr()), boundAddr(e.LDAPS, e.ldap.LDAPSAddr())
	}
	if e.kdc != nil {
		e.KDC = boundAddr(e.KDC, e.kdc.Addr())
	}
	e.open = true
	return nil
}

// Close stops the listeners and every connection; a dial then is refused. It waits for requests
// already inside the world, so it must not run inside the world's lock.
func (e *dcEndpoint) Close() error {
	if !e.open {
		return nil
	}
	e.open = false
	return e.shut()
}

func (e *dcEndpoint) shut() error {
	var err error
	if e.ldap != nil {
		err = e.ldap.Close()
		e.ldap = nil
	}
	if e.kdc != nil {
		if kerr := e.kdc.Close(); kerr != nil && !errors.Is(kerr, net.ErrClosed) {
			err = errors.Join(err, kerr)
		}
		e.kdc = nil
	}
	return err
}

// boundAddr is what a listener configured with want bound: got's address, or want when it is not
// listening.
func boundAddr(want string, got net.Addr) string {
	if want == "" || got == nil {
		return want
	}
	return got.String()
}

// endpointsFile is STATE/endpoints.json: where every DC of the domain listens and whether it runs
// (its sockets are open). serve rewrites it whenever a DC stops or starts. A disabled protocol's
// address is "".
type endpointsFile struct {
	Domain  string       `json:"domain"`
	Realm   string       `json:"realm"`
	Seed    uint64       `json:"seed"`
	DNS     string       `json:"dns"`     // "" without --dns
	Control string       `json:"control"` // the control API's address; "" for now
	DCs     []endpointDC `json:"dcs"`     // in the world's DC order; the first is the PDC
}

// endpointDC is one DC of endpoints.json: the control API's DCState, the same fields under the
// same JSON names.
type endpointDC = control.DCState

// endpointsFileName is the state dir's file of DC addresses.
const endpointsFileName = "endpoints.json"

// endpointsLocked is what endpoints.json says now. ds.mu is held.
func (ds *domainServer) endpointsLocked() endpointsFile {
	w := ds.w
	f := endpointsFile{Domain: w.Config().Domain, Realm: strings.ToUpper(w.Config().Domain), Seed: w.Seed(),
		Control: ds.control, DCs: []endpointDC{}}
	if ds.DNS != nil {
		f.DNS = ds.DNS.Addr().String()
	}
	for i, e := range ds.eps {
		d := endpointDC{Name: e.DC, DNSName: w.DCDNSName(e.DC), PDC: i == 0, Running: e.open,
			LDAP: e.LDAP, LDAPS: e.LDAPS, KDC: e.KDC}
		if dc := w.DC(e.DC); dc != nil {
			d.OS = dc.OS()
		}
		f.DCs = append(f.DCs, d)
	}
	return f
}

// writeEndpointsLocked writes STATE/endpoints.json (0644: addresses, no secret), when the state
// dir is known. ds.mu is held.
func (ds *domainServer) writeEndpointsLocked() error {
	if ds.stateDir == "" {
		return nil
	}
	b, err := json.MarshalIndent(ds.endpointsLocked(), "", "  ")
	if err != nil {
		return err
	}
	return safefile.WriteFile(filepath.Join(ds.stateDir, endpointsFileName), append(b, '\n'), 0o644)
}
