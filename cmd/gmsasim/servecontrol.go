package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/control"
	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakekds"
	"github.com/gmsasim/gmsasim/internal/safefile"
	"github.com/gmsasim/gmsasim/scenarios"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/gmsasim/gmsasim/sim/mim"
)

// serveBackend is the control API (package control) over the world serve holds: steps run on
// the world's scenario session, then the DCs' sockets follow their running state (Reconcile).
type serveBackend struct {
	ds *domainServer
	o  serveOptions
}

var _ control.Backend = (*serveBackend)(nil)

// serveControl starts the control API on addr, writes its token to dir/control.token (0600) and
// its URL into endpoints.json.
func (ds *domainServer) serveControl(o serveOptions, addr, dir string, hub *control.TraceHub) (*control.Server, error) {
	token, err := control.NewToken()
	if err != nil {
		return nil, err
	}
	if err := safefile.WriteFile(filepath.Join(dir, "control.token"), []byte(token+"\n"), 0o600); err != nil {
		return nil, err
	}
	srv, err := control.NewServer(control.Config{Backend: &serveBackend{ds: ds, o: o}, Token: token, Trace: hub})
	if err != nil {
		return nil, err
	}
	if err := srv.Listen(addr); err != nil {
		return nil, fmt.Errorf("listen for the control API on %s: %w", addr, err)
	}
	ds.mu.Lock()
	ds.control = "http://" + srv.Addr().String()
	err = ds.writeEndpointsLocked()
	ds.mu.Unlock()
	if err != nil {
		srv.Close()
		return nil, err
	}
	return srv, nil
}

// session is the scenario session over the world served now.
func (ds *domainServer) session() *scenarios.Session {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	return ds.sess
}

// Steps runs step text on the served world's session, then reconciles the DCs' sockets with what
// the steps did (stop DC2 closes DC2's ports before the answer goes out).
func (b *serveBackend) Steps(ctx context.Context, text string) (control.StepsResult, error) {
	res, err := b.ds.session().Steps("steps", text)
	out := control.StepsResult{Steps: []control.StepOutput{}}
	for _, sr := range res {
		so := control.StepOutput{Line: sr.Line, Step: sr.Step, Output: sr.Output, Match: true}
		if sr.HasExpected {
			exp := sr.Expected
			so.Expected, so.Match = &exp, sr.Match
		}
		out.Steps = append(out.Steps, so)
	}
	rerr := b.ds.Reconcile()
	var pe *scenarios.ParseError
	var f *scenarios.Failure
	switch {
	case errors.As(err, &pe):
		return out, &control.SyntaxError{Line: pe.Line, Msg: pe.Msg}
	case errors.As(err, &f):
		msg := f.Msg
		if f.Hint != "" {
			msg += " (" + f.Hint + ")"
		}
		step, _, _ := strings.Cut(f.Step, "\n")
		out.Failure = &control.StepFailure{Line: f.Line, Step: step, Message: msg}
	case err != nil:
		return out, err
	}
	if rerr != nil {
		return out, fmt.Errorf("the steps ran, but the DCs' sockets do not follow their state: %w", rerr)
	}
	return out, nil
}

// State describes the served world: its clocks, DCs and their sockets, links, hosts and gMSAs.
func (b *serveBackend) State(ctx context.Context) (control.State, error) {
	ds := b.ds
	w := ds.World()
	sess := ds.session()
	if err := w.RunDue(); err != nil {
		return control.State{}, err
	}
	now, wire := w.Now(), w.Wire()
	cfg := w.Config()
	st := control.State{Now: now, Wire: wire, Offset: now.Sub(wire).Round(time.Second).String(),
		Elapsed: w.Elapsed().String(), Seed: w.Seed(), Domain: cfg.Domain, Realm: strings.ToUpper(cfg.Domain),
		DCs: []control.DCState{}, Links: []control.LinkState{}, Hosts: []control.HostState{}, GMSAs: []control.GMSAState{},
		Pending: w.Pending()}
	addrs := ds.Addrs()
	for i, d := range w.DCs() {
		dcs := control.DCState{Name: d.Name(), DNSName: w.DCDNSName(d.Name()), OS: d.OS(), PDC: i == 0, Running: d.Running()}
		if i < len(addrs) {
			dcs.LDAP, dcs.LDAPS, dcs.KDC = addrs[i].LDAP, addrs[i].LDAPS, addrs[i].KDC
		}
		st.DCs = append(st.DCs, dcs)
	}
	for _, l := range w.Links() {
		st.Links = append(st.Links, control.LinkState{A: l.A, B: l.B, Delay: l.Delay.String(), Cut: l.Cut})
	}
	for _, h := range sess.Hosts().Hosts() {
		hs := control.HostState{Name: h.Name(), OS: h.Spec().OS, Arch: "x64", Running: true, InstalledAccounts: []string{}}
		for _, c := range h.Cache() {
			hs.InstalledAccounts = append(hs.InstalledAccounts, c.SAMAccountName)
		}
		st.Hosts = append(st.Hosts, hs)
	}
	gmsas, err := gmsaStates(w)
	if err != nil {
		return control.State{}, err
	}
	st.GMSAs = gmsas
	return st, nil
}

// gmsaStates reads every gMSA on the first running DC as the directory stores it — without the
// read of msDS-ManagedPassword that would make the DC rotate a stale password: a kvno and
// password-last-set from before a rotation that is due show NextRotation in the past.
func gmsaStates(w *sim.World) ([]control.GMSAState, error) {
	dc := ""
	for _, d := range w.DCs() {
		if d.Running() {
			dc = d.Name()
			break
		}
	}
	out := []control.GMSAState{}
	if dc == "" {
		return out, nil
	}
	err := w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		names := map[string]string{} // SID → sAMAccountName
		all, err := d.Search(now, fakead.SystemCaller, &fakead.SearchRequest{BaseDN: w.DomainDN(), Scope: fakead.ScopeSub,
			Filter: fakead.FilterPresent{Attr: "objectSid"}, Attributes: []string{"objectSid", "sAMAccountName"}, SDFlags: -1})
		if err != nil {
			return err
		}
		for _, e := range all {
			if sid, err := ad.SIDFromBytes(attrBytes(e, "objectSid")); err == nil {
				names[sid.String()] = string(attrBytes(e, "sAMAccountName"))
			}
		}
		res, err := d.Search(now, fakead.SystemCaller, &fakead.SearchRequest{BaseDN: w.DomainDN(), Scope: fakead.ScopeSub,
			Filter:     fakead.FilterEquality{Attr: "objectClass", Value: []byte("msDS-GroupManagedServiceAccount")},
			Attributes: []string{"sAMAccountName", "dNSHostName", "msDS-KeyVersionNumber", "pwdLastSet", "msDS-ManagedPasswordInterval", "msDS-GroupMSAMembership", "msDS-ManagedPasswordId"}, SDFlags: -1})
		if err != nil {
			return err
		}
		for _, e := range res {
			g := control.GMSAState{Name: string(attrBytes(e, "sAMAccountName")), DN: e.DN, DNSHostName: string(attrBytes(e, "dNSHostName")),
				PrincipalsAllowedToRetrieve: []string{}}
			g.KVNO, _ = strconv.Atoi(string(attrBytes(e, "msDS-KeyVersionNumber")))
			g.IntervalDays, _ = strconv.Atoi(string(attrBytes(e, "msDS-ManagedPasswordInterval")))
			if g.IntervalDays == 0 {
				g.IntervalDays = 30
			}
			if ft, err := strconv.ParseInt(string(attrBytes(e, "pwdLastSet")), 10, 64); err == nil && ft > 0 {
				g.PasswordLastSet = ad.FileTime(ft).Time().UTC()
				g.NextRotation = g.PasswordLastSet.Add(time.Duration(g.IntervalDays) * 24 * time.Hour)
			}
			// The DC rotates when the stored password id's interval ends: ids sit on the KDS's
			// 10-hour grid, so that is up to 10 hours before pwdLastSet + the interval.
			if id, err := fakekds.ParsePasswordID(attrBytes(e, "msDS-ManagedPasswordId")); err == nil {
				if r, err := fakekds.RolloverInterval(int64(g.IntervalDays)); err == nil {
					g.NextRotation = (id.GKID.StartFileTime() + r).Time().UTC()
				}
			}
			if sd, err := ad.ParseSecurityDescriptor(attrBytes(e, "msDS-GroupMSAMembership")); err == nil {
				for _, sid := range sd.AllowedSIDs() {
					n := names[sid.String()]
					if n == "" {
						n = sid.String()
					}
					g.PrincipalsAllowedToRetrieve = append(g.PrincipalsAllowedToRetrieve, n)
				}
			}
			slices.Sort(g.PrincipalsAllowedToRetrieve)
			out = append(out, g)
		}
		return nil
	})
	return out, err
}

func attrBytes(e fakead.SearchEntry, name string) []byte {
	for _, a := range e.Attributes {
		if strings.EqualFold(a.Name, name) && len(a.Values) > 0 {
			return a.Values[0]
		}
	}
	return nil
}

// Snapshot is the whole world — every replica, the configuration, the time and the member hosts
// — as sim/mim's saved-world JSON (the format `gmsasim migrate` journals). Replication queued on
// the links is delivered first (sim.SavedState does not hold it): a snapshot flushes it.
func (b *serveBackend) Snapshot(ctx context.Context) ([]byte, error) {
	return mim.Save(mim.New(b.ds.session().Hosts()))
}

// Restore replaces the served world with a snapshot's: its time runs on from the saved moment
// (wire time stays the wall clock), every DC's sockets reopen on the same addresses.
func (b *serveBackend) Restore(ctx context.Context, snapshot []byte) error {
	w, m, err := mim.Load(snapshot, sim.Config{Realtime: b.o.Realtime, TraceWriter: b.o.Trace, Keys: b.o.Keys,
		RequireSigning: b.o.RequireSigning})
	if err != nil {
		return &control.Error{Status: 400, Message: err.Error()}
	}
	sess, err := scenarios.Attach(w, m.Fleet(), scenarios.Options{Keys: b.o.Keys})
	if err != nil {
		return err
	}
	old := b.ds.session()
	if err := b.ds.swapWorld(w); err != nil {
		sess.Close()
		return &control.Error{Status: 409, Message: err.Error()}
	}
	b.ds.mu.Lock()
	b.ds.sess = sess
	b.ds.mu.Unlock()
	old.Close()
	return nil
}

// LDIF writes a DC's replica; dc "" is the first DC.
func (b *serveBackend) LDIF(ctx context.Context, dc string, out io.Writer) error {
	w := b.ds.World()
	if dc == "" {
		dc = w.DCs()[0].Name()
	}
	if w.DC(dc) == nil {
		return &control.Error{Status: 404, Message: fmt.Sprintf("no DC %q in the world", dc)}
	}
	return w.ExportLDIF(dc, out)
}
