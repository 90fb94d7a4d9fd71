package migrate

import (
	"context"
	"fmt"
	"net"
	"strings"
)

// Engine runs inventory, preflight, plan, apply, resume and rollback for one Config.
type Engine struct {
	cfg   Config
	hosts map[string]HostAgent // by lower-case DNS name
}

// New checks the configuration; it does no I/O.
func New(cfg Config) (*Engine, error) {
	if err := cfg.normalise(); err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, hosts: map[string]HostAgent{}}
	for _, h := range cfg.Hosts {
		e.hosts[strings.ToLower(h.Host())] = h
	}
	return e, nil
}

// Config returns the normalised configuration.
func (e *Engine) Config() Config { return e.cfg }

// Inventory takes the inventory of the configured hosts.
func (e *Engine) Inventory(ctx context.Context) (*Estate, error) {
	return TakeInventory(ctx, e.cfg.Hosts)
}

func (e *Engine) host(name string) (HostAgent, error) {
	h, ok := e.hosts[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("%w: no HostAgent for host %s (the plan names it; add it to Config.Hosts)", ErrConfig, name)
	}
	return h, nil
}

// connect binds to the DC the engine writes to.
func (e *Engine) connect() (*dirConn, error) { return dial(e.cfg.DC, e.cfg.Admin) }

// endpointFor is how to reach the DC named dnsName (for the root-key check).
func (e *Engine) endpointFor(dnsName string) Endpoint {
	if ep, ok := e.cfg.DCs[strings.ToLower(dnsName)]; ok {
		return ep
	}
	ep := e.cfg.DC
	_, port, err := net.SplitHostPort(ep.Addr)
	if err != nil {
		port = "636"
	}
	ep.Addr = net.JoinHostPort(dnsName, port)
	if ep.TLS != nil {
		t := ep.TLS.Clone()
		t.ServerName = dnsName
		ep.TLS = t
	}
	return ep
}

// sameDC reports whether a host's DC name is the DC the engine writes to.
func sameDC(a, b string) bool {
	short := func(s string) string { return strings.ToLower(strings.SplitN(s, ".", 2)[0]) }
	return strings.EqualFold(a, b) || (short(a) == short(b) && (!strings.Contains(a, ".") || !strings.Contains(b, ".")))
}
