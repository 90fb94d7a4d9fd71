package mimagent

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
	"github.com/gmsasim/gmsasim/migrate"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/gmsasim/gmsasim/sim/mim"
)

// Env is a simulated MIM world served to the engine: one LDAPS listener per DC on 127.0.0.1:0
// (certificates from a per-run CA, names dcN.<domain>), and the engine's Config filled in with
// those endpoints, the Administrator's credentials, an agent per MIM host, the current sync
// account's credentials and the current services' passwords (what the operator would type).
type Env struct {
	World   *sim.World
	MIM     *mim.Deployment
	Config  migrate.Config
	servers []*ldapsrv.Server
}

// Serve starts the listeners. Close them with Env.Close.
func Serve(w *sim.World, m *mim.Deployment) (*Env, error) {
	// wallclock: the TLS key material of the per-run CA is not part of the simulation (nil: crypto/rand).
	ca, err := ldapsrv.NewCA(nil)
	if err != nil {
		return nil, fmt.Errorf("mimagent: the world's CA: %w", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Certificate())
	cfg := w.Config()
	domain := strings.ToLower(cfg.Domain)
	env := &Env{World: w, MIM: m}
	mc := migrate.Config{Domain: domain, NetBIOS: cfg.NetBIOS, DCs: map[string]migrate.Endpoint{},
		Admin:             migrate.Credentials{Name: cfg.NetBIOS + `\Administrator`, Password: cfg.AdminPassword},
		Hosts:             ForMIM(m),
		PreviousPasswords: m.KnownPasswords()}
	for i, dc := range w.DCs() {
		dns := w.DCDNSName(dc.Name())
		srv, err := w.ServeLDAP(dc.Name(), sim.LDAPOptions{CA: ca, LDAPS: "127.0.0.1:0"})
		if err != nil {
			env.Close()
			return nil, fmt.Errorf("mimagent: serve %s: %w", dc.Name(), err)
		}
		env.servers = append(env.servers, srv)
		ep := migrate.Endpoint{Addr: srv.LDAPSAddr().String(), LDAPS: true,
			TLS: &tls.Config{RootCAs: roots, ServerName: dns, MinVersion: tls.VersionTLS12}}
		mc.DCs[dns] = ep
		if i == 0 {
			mc.DC = ep
		}
	}
	for _, mh := range m.Hosts() {
		if !mh.Has(mim.CompSync) {
			continue
		}
		acct, _ := mh.Account(mim.CompSync)
		dom, name, _ := strings.Cut(acct, `\`)
		mc.SyncAccount = migrate.KeySetExportRequest{Account: name, Domain: dom, Password: mc.PreviousPasswords[acct]}
		break
	}
	for _, mh := range m.Hosts() {
		if !mh.Has(mim.CompService) || mh.Exchange() == mim.ExchangeNone {
			continue
		}
		// The mailbox stays with the account the MIM Service used before ("use the current
		// Exchange account"); the operator types its password.
		acct, _ := mh.Account(mim.CompService)
		mc.Exchange = &migrate.ExchangeOptions{Online: mh.Exchange() == mim.ExchangeOnline, MailAccount: acct,
			MailPassword: mc.PreviousPasswords[acct]}
		break
	}
	env.Config = mc
	return env, nil
}

// Close stops the listeners.
func (e *Env) Close() error {
	var errs []error
	for _, s := range e.servers {
		errs = append(errs, s.Close())
	}
	e.servers = nil
	return errors.Join(errs...)
}
