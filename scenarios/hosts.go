package scenarios

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/gmsasim/gmsasim/scenarios/ps"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/gmsasim/gmsasim/fakekds"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/gmsasim/gmsasim/sim/host"
)

// Member hosts: the world's host.Host for each "host" line; the host cmdlets call its methods, which
// print what Windows prints (host.CmdletError.Text, host.TestResult.String, Host.SC).

// hostError turns a host method's error into what the transcript shows.
func hostError(cmdlet string, err error) error {
	if err == nil {
		return nil
	}
	var ce *host.CmdletError
	if errors.As(err, &ce) {
		return &ps.Verbatim{Text: ce.Text}
	}
	return &ps.CommandError{Cmd: cmdlet, Err: ps.Errorf("%v", err)}
}

func (r *runner) host(name string) *host.Host {
	if r.w == nil {
		return nil
	}
	return r.hosts.Host(name)
}

// runHostCommand runs a command on a member host.
func (s *session) runHostCommand(c *ps.Command, h *host.Host) ([]any, error) {
	def := s.r.cmdlets.lookup(c.Name)
	name := strings.ToLower(strings.TrimSuffix(strings.ToLower(c.Name), ".exe"))
	raw := func() string {
		parts := []string{}
		for _, el := range c.Elems {
			parts = append(parts, el.Raw)
		}
		return strings.Join(parts, " ")
	}
	switch name {
	case "sc": // sc.exe (a bare `sc` is Set-Content: psrun.go)
		return []any{strings.TrimRight(h.SC(raw()), "\n")}, nil
	case "appcmd":
		return []any{h.AppCmd(raw())}, nil
	case "schtasks":
		return []any{h.Schtasks(raw())}, nil
	case "nltest":
		out, err := h.Nltest(raw())
		if err != nil {
			return nil, hostError("nltest", err)
		}
		return []any{out}, nil
	case "klist":
		if strings.Join(strings.Fields(strings.ToLower(raw())), " ") != "-li 0x3e7 purge" {
			return nil, &PendingFeatureError{Feature: "klist other than `klist -li 0x3e7 purge` (the machine's tickets)", What: "klist " + raw()}
		}
		if err := h.PurgeTickets(); err != nil {
			return nil, hostError("klist", err)
		}
		return []any{"Current LogonId is 0:0x3e7\n        Deleting all tickets:\n        Ticket(s) purged!"}, nil
	}
	if def == nil {
		return nil, ps.Errorf("The term '%s' is not recognized as the name of a cmdlet, function, script file, or operable program.", c.Name)
	}
	b, err := ps.Bind(&def.Cmdlet, c.Elems, func(e ps.Expr) (any, error) { return s.eval(e, h.Name(), "") })
	if err != nil {
		return nil, err
	}
	id := b.Str("Identity")
	switch def.Name {
	case "Install-ADServiceAccount":
		if err := h.InstallADServiceAccount(id); err != nil {
			return nil, hostError(def.Name, err)
		}
		return nil, nil
	case "Uninstall-ADServiceAccount":
		if err := h.UninstallADServiceAccount(id); err != nil {
			return nil, hostError(def.Name, err)
		}
		return nil, nil
	case "Test-ADServiceAccount":
		res, err := h.TestADServiceAccount(id)
		if err != nil {
			return nil, hostError(def.Name, err)
		}
		return []any{res.String()}, nil
	case "Restart-Computer":
		if err := h.Reboot(); err != nil {
			return nil, hostError(def.Name, err)
		}
		return nil, nil
	case "Start-Service", "Stop-Service", "Get-Service":
		var out []any
		for _, n := range b.Strs("Name") {
			switch def.Name {
			case "Start-Service":
				if _, err := h.Start(host.KindService, n); err != nil {
					// Write-Error: non-terminating, as the *-Service cmdlets' failures are.
					return out, &ps.NonTerminating{Err: &ps.CommandError{Cmd: def.Name, Err: ps.Errorf("Service '%s (%s)' cannot be started due to the following error: Cannot start service %s on computer '.'.", n, n, n)}}
				}
			case "Stop-Service":
				if err := h.Stop(host.KindService, n); err != nil {
					return out, &ps.NonTerminating{Err: hostError(def.Name, err)}
				}
			default:
				st, err := h.ServiceState(n)
				if err != nil {
					return out, &ps.NonTerminating{Err: &ps.CommandError{Cmd: def.Name, Err: ps.Errorf("Cannot find any service with service name '%s'.", n)}}
				}
				out = append(out, &ps.Object{Table: true, Props: []ps.Prop{{Name: "Status", Val: string(st)}, {Name: "Name", Val: n}, {Name: "DisplayName", Val: n}}})
			}
		}
		return out, nil
	}
	return nil, &PendingFeatureError{Feature: "this host cmdlet", What: def.Name + " on " + h.Name()}
}

func hostLine(h *host.Host) string {
	sp := h.Spec()
	line := fmt.Sprintf("host %s os=%s arch=x64 dc=%s %s", h.Name(), sp.OS, sp.DC, h.DN())
	if sp.Cluster {
		line += " cluster"
	}
	if sp.KDSSvcTrigger {
		line += " kdssvc=trigger"
	}
	if len(sp.Groups) > 0 {
		line += " member-of=" + strings.Join(sp.Groups, ",")
	}
	return line
}

// encTypeBits reads a host's enctypes=RC4,AES256 list.
func encTypeBits(list string) (int64, error) {
	var bits int64
	for _, x := range strings.Split(list, ",") {
		x = strings.TrimSpace(x)
		found := false
		for _, e := range encTypes() {
			if strings.EqualFold(e.name, x) {
				bits |= e.bits
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("enctypes=%q: expected a list of DES, RC4, AES128, AES256", list)
		}
	}
	return bits, nil
}

// parseEtypes reads a kerberos probe's etypes=AES256,AES128,RC4 (the client's order).
func parseEtypes(list string) ([]int32, error) {
	byName := map[string]int32{"AES256": kdc.EtypeAES256, "AES128": kdc.EtypeAES128, "RC4": kdc.EtypeRC4}
	var out []int32
	for _, x := range strings.Split(list, ",") {
		et, ok := byName[strings.ToUpper(strings.TrimSpace(x))]
		if !ok {
			return nil, fmt.Errorf("etypes=%q: expected a list of AES256, AES128, RC4 (the client's order)", list)
		}
		out = append(out, et)
	}
	return out, nil
}

// userPassword is the password the world gives a user it creates (deterministic, complex enough
// for the default policy), used by kerberos probes to log the user on.
func userPassword(name string) string { return "Sim-" + name + "-Pw1!" }

// runKerberos: a user logs on at a DC, asks for a service ticket for an SPN, and a host tries to
// decrypt it with the keys it holds (its gMSA cache, its own machine keys).
// With save=NAME the ticket is kept (and not decrypted); ticket=NAME decrypts a kept ticket later,
// after a rotation for instance.
func runKerberos(r *runner, st *Step) (string, error) {
	client, _ := st.Arg("client")
	spn, _ := st.Arg("spn")
	on, _ := st.Arg("decrypt-on")
	save, saving := st.Arg("save")
	dc, ok := st.Arg("dc")
	if !ok {
		dc = r.w.DCs()[0].Name()
	}
	var t *host.Ticket
	if name, ok := st.Arg("ticket"); ok {
		t = r.tickets[name]
		if t == nil {
			return "", fmt.Errorf("ticket=%s: no ticket saved under that name (kerberos ... save=%s)", name, name)
		}
		spn = t.SPN
	} else {
		c, err := host.Logon(r.w, dc, client, userPassword(client))
		if err != nil {
			return "error: " + client + " cannot log on: " + oneLine(err), nil
		}
		if v, ok := st.Arg("etypes"); ok {
			ets, _ := parseEtypes(v) // checked at parse time
			c.SetEtypes(ets)
		}
		if t, err = c.ServiceTicket(spn); err != nil {
			return "error: no service ticket for " + spn + ": " + oneLine(err), nil
		}
	}
	if saving {
		if r.tickets == nil {
			r.tickets = map[string]*host.Ticket{}
		}
		r.tickets[save] = t
		return fmt.Sprintf("saved %s: ticket for %s (kvno %d)", save, spn, t.KVNO), nil
	}
	h := r.host(on)
	if h == nil {
		return "", fmt.Errorf("decrypt-on=%s: no such host (declare it in the world block)", on)
	}
	var d *host.Decrypted
	var err error
	kind, svc, hasService := host.KindService, "", false
	if v, ok := st.Arg("service"); ok {
		svc, hasService = v, true
	} else if v, ok := st.Arg("apppool"); ok {
		kind, svc, hasService = host.KindAppPool, v, true
	}
	if hasService {
		// The service's (or app pool's) side: it must run, and the ticket must be for the
		// account it runs as (a virtual account's or LocalSystem's is the computer's).
		d, err = h.Accept(kind, svc, t)
	} else {
		d, err = h.DecryptTicket(t)
	}
	if err != nil {
		why := oneLine(err)
		switch {
		case errors.Is(err, host.ErrNoKeyDecrypts) && hasService:
			why = "KRB_AP_ERR_MODIFIED, the key of the account " + svc + " runs as does not decrypt it"
		case errors.Is(err, host.ErrServiceNotReady):
			why = "the service is not running"
		case errors.Is(err, host.ErrNoKeyDecrypts):
			why = "KRB_AP_ERR_MODIFIED, none of its keys decrypts it"
		case errors.Is(err, host.ErrClockSkew):
			why = "KRB_AP_ERR_SKEW, the client's clock and the host's differ by more than 5 minutes"
		}
		return fmt.Sprintf("error: %s cannot decrypt the ticket for %s (kvno %d): %s", h.Name(), spn, t.KVNO, why), nil
	}
	return fmt.Sprintf("ok: %s decrypts the ticket for %s (kvno %d) with %s", h.Name(), spn, t.KVNO, d), nil
}

// runSkew: `skew HOST +10m` sets the host's clock to the world's plus the offset (-5m: behind;
// 0: back on time). Output: the trace line.
func runSkew(r *runner, st *Step) (string, error) {
	p := st.Positional()
	h := r.host(p[0])
	if h == nil {
		return "", fmt.Errorf("skew %s: no such host (declare it in the world block)", p[0])
	}
	d, err := parseDuration(p[1])
	if err != nil {
		return "", fmt.Errorf("skew %s %s: %v", p[0], p[1], err)
	}
	return traceOutput, h.SetClockSkew(d)
}

func oneLine(err error) string {
	var f *sim.Failure
	if errors.As(err, &f) {
		err = f.Err
	}
	return strings.SplitN(err.Error(), "\n", 2)[0]
}

// runPasswordEqual: every listed DC computes the gMSA's password now; they must agree. Each DC's
// line says what it derived or why it could not; the last line says what that means: the DCs
// agree, they differ, some could not derive it (which, and why), or — with one DC — that there is
// nothing to compare.
func runPasswordEqual(r *runner, st *Step) (string, error) {
	name := st.Positional()[1]
	var dcs []string
	if list, ok := st.Arg("on"); ok {
		dcs = strings.Split(list, ",")
	} else {
		for _, d := range r.w.DCs() {
			dcs = append(dcs, d.Name())
		}
	}
	var out strings.Builder
	var derived, failed []string // DC names
	var why []string             // "DC2: Key does not exist", for each failed DC
	hashes := map[string]string{}
	for _, dc := range dcs {
		dc = strings.ToUpper(dc)
		if r.w.DC(dc) == nil {
			return "", fmt.Errorf("check password-equal on=%s: no such DC", dc)
		}
		h, msg := derivedHash(r, dc, name)
		if msg != "" {
			fmt.Fprintf(&out, "%s: %s\n", dc, msg)
			failed, why = append(failed, dc), append(why, dc+": "+msg)
			continue
		}
		fmt.Fprintf(&out, "%s: %s\n", dc, h)
		derived = append(derived, dc)
		hashes[dc] = strings.Fields(h)[1]
	}
	same := true
	for _, dc := range derived {
		same = same && hashes[dc] == hashes[derived[0]]
	}
	switch {
	case len(dcs) == 1 && len(derived) == 1:
		fmt.Fprintf(&out, "ok: %s derives the password; with one DC there is nothing to compare it with", derived[0])
	case len(dcs) == 1:
		fmt.Fprintf(&out, "error: %s cannot derive the password, and with one DC there is nothing to compare: %s", failed[0], strings.TrimPrefix(why[0], failed[0]+": "))
	case len(failed) == 0 && same:
		out.WriteString("ok: the DCs derive the same password")
	case len(failed) == 0:
		out.WriteString("differ: the DCs do not derive the same password")
	case len(derived) == 0:
		fmt.Fprintf(&out, "error: no DC derives the password (%s)", strings.Join(why, "; "))
	case same:
		fmt.Fprintf(&out, "error: only %s derive%s the password; %s", strings.Join(derived, ", "), map[bool]string{true: "s"}[len(derived) == 1], strings.Join(why, "; "))
	default:
		fmt.Fprintf(&out, "error: %s derive different passwords; %s", strings.Join(derived, ", "), strings.Join(why, "; "))
	}
	return out.String(), nil
}

// derivedHash is what dc derives for the gMSA name: "current sha256:XXXXXXXX previous P", or why
// it cannot (msg).
func derivedHash(r *runner, dc, name string) (line, msg string) {
	dn := ""
	if err := r.w.ExecOn(dc, func(_ time.Time, dir *fakead.Directory) error {
		if a, ok := dir.Account(name); ok {
			dn = a.DN
		} else if a, ok := dir.Account(name + "$"); ok {
			dn = a.DN
		}
		return nil
	}); err != nil {
		var fe *fakead.Error
		if errors.As(err, &fe) {
			return "", ldapErrText(fe)
		}
		return "", oneLine(err)
	}
	if dn == "" {
		return "", "no gMSA " + name + " (not created there, or not replicated there yet)"
	}
	res, err := r.w.ManagedPassword(dc, dn)
	if err != nil {
		if errors.Is(err, fakekds.ErrNoRootKey) {
			return "", "Key does not exist"
		}
		return "", oneLine(err)
	}
	sum := sha256.Sum256(res.Parsed.Current)
	prev := "none"
	if len(res.Parsed.Previous) > 0 {
		ps := sha256.Sum256(res.Parsed.Previous)
		prev = hex.EncodeToString(ps[:4])
	}
	return fmt.Sprintf("current sha256:%s previous %s", hex.EncodeToString(sum[:4]), prev), ""
}
