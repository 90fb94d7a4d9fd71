package scenarios

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/sim"
)

// directive is one directive of the language: a syntax check at parse time, and what it does.
type directive struct {
	usage string
	check func(st *Step) error
	run   func(r *runner, st *Step) (string, error)
}

func needPositional(n int, usage string) func(*Step) error {
	return func(st *Step) error {
		if len(st.Positional()) != n {
			return fmt.Errorf("expected %s", usage)
		}
		return nil
	}
}

func pending(feature string) func(r *runner, st *Step) (string, error) {
	return func(r *runner, st *Step) (string, error) {
		return "", &PendingFeatureError{Feature: feature, What: st.String()}
	}
}

// directiveTable is every directive of the language, by name. A parse and a run each build
// their own.
func directiveTable() map[string]directive {
	return map[string]directive{
		"world": {usage: "world [seed=N] [start=TIME] [delay=DURATION]", check: func(st *Step) error { _, err := parseWorld(st); return err }},
		"ps": {usage: "ps on=DC1|HOST [as=PRINCIPAL]", check: func(st *Step) error {
			if _, ok := st.Arg("on"); !ok {
				return fmt.Errorf("expected on=DC or on=HOST: ps on=DC1")
			}
			return nil
		}, run: runPS},
		"advance": {usage: "advance DURATION | advance to=HH:MM | advance to=TIME", check: func(st *Step) error {
			if _, ok := st.Arg("to"); ok {
				return nil
			}
			p := st.Positional()
			if len(p) != 1 {
				return fmt.Errorf("expected a duration (advance 10h, advance 30d) or to=HH:MM")
			}
			d, err := parseDuration(p[0])
			if err == nil && d < 0 {
				return fmt.Errorf("time only moves forward: %s", p[0])
			}
			return err
		}, run: runAdvance},
		"replicate": {usage: "replicate", check: needPositional(0, "no arguments: replicate"), run: func(r *runner, st *Step) (string, error) {
			return traceOutput, r.w.ReplicateNow()
		}},
		"settle": {usage: "settle", check: needPositional(0, "no arguments: settle"), run: func(r *runner, st *Step) (string, error) {
			return traceOutput, r.w.Settle()
		}},
		"cut":  {usage: "cut DC1 DC2", check: needPositional(2, "two DC names: cut DC1 DC2"), run: runLink},
		"heal": {usage: "heal DC1 DC2", check: needPositional(2, "two DC names: heal DC1 DC2"), run: runLink},
		"link": {usage: "link DC1 DC2 delay=1h", check: func(st *Step) error {
			v, ok := st.Arg("delay")
			if len(st.Positional()) != 2 || !ok {
				return fmt.Errorf("expected link DC1 DC2 delay=1h")
			}
			_, err := parseDuration(v)
			return err
		}, run: runLink},
		"stop":  {usage: "stop DC", check: needPositional(1, "a DC name: stop DC2"), run: runStartStop},
		"start": {usage: "start DC", check: needPositional(1, "a DC name: start DC2"), run: runStartStop},
		"check": {usage: "check converged | check password-equal GMSA on=DC1,DC2", check: func(st *Step) error {
			p := st.Positional()
			if len(p) == 0 || (p[0] != "converged" && p[0] != "password-equal" && p[0] != "no-future-keys" && p[0] != "host-passwords") {
				return fmt.Errorf("expected converged, password-equal, no-future-keys or host-passwords")
			}
			return nil
		}, run: runCheck},
		"ldap": {usage: "ldap on=DC1 as=PRINCIPAL [tls] [auth=simple|kerberos|ntlm [protect=none|sign|seal|tls]] object=NAME attr=A[,B]", check: func(st *Step) error {
			for _, k := range []string{"on", "as", "object", "attr"} {
				if _, ok := st.Arg(k); !ok {
					return fmt.Errorf("expected %s=...: ldap on=DC1 as=Host1$ tls object=ITFarm1$ attr=msDS-ManagedPassword", k)
				}
			}
			auth, hasAuth := st.Arg("auth")
			if hasAuth && !slices.Contains(probeAuths(), strings.ToLower(auth)) {
				return fmt.Errorf("auth=%q: expected one of %s", auth, strings.Join(probeAuths(), ", "))
			}
			if p, ok := st.Arg("protect"); ok {
				if !hasAuth {
					return fmt.Errorf("protect=%s needs auth=simple|kerberos|ntlm (the probe then binds over the wire)", p)
				}
				if !slices.Contains(probeProtects(), strings.ToLower(p)) {
					return fmt.Errorf("protect=%q: expected one of %s", p, strings.Join(probeProtects(), ", "))
				}
				if st.Flag("tls") && !strings.EqualFold(p, "tls") {
					return fmt.Errorf("tls and protect=%s contradict each other", p)
				}
			}
			return nil
		}, run: runLDAP},
		"kerberos": {usage: "kerberos client=USER spn=SPN decrypt-on=HOST [dc=DC]", check: func(st *Step) error {
			_, byName := st.Arg("ticket")
			_, saving := st.Arg("save")
			need := []string{"client", "spn", "decrypt-on"}
			switch {
			case byName:
				need = []string{"decrypt-on"}
			case saving:
				need = []string{"client", "spn"}
			}
			for _, k := range need {
				if _, ok := st.Arg(k); !ok {
					return fmt.Errorf("expected %s=...: kerberos client=alice spn=http/ITFarm1.contoso.com decrypt-on=Host1 (or save=T1, then ticket=T1 decrypt-on=Host1)", k)
				}
			}
			return nil
		}, run: runKerberos},
		"kds": {usage: "kds restart DC", check: needPositional(2, "kds restart DC1"), run: func(r *runner, st *Step) (string, error) {
			if p := st.Positional(); p[0] != "restart" {
				return "", fmt.Errorf("expected: kds restart DC1")
			}
			return traceOutput, r.w.RestartKDS(st.Positional()[1])
		}},
		"reboot": {usage: "reboot HOST", check: needPositional(1, "a host: reboot Host1"), run: func(r *runner, st *Step) (string, error) {
			h := r.host(st.Positional()[0])
			if h == nil {
				return "", fmt.Errorf("reboot %s: no such host", st.Positional()[0])
			}
			return traceOutput, h.Reboot()
		}},
		"klist": {usage: "klist purge HOST", check: needPositional(2, "klist purge Host1"), run: func(r *runner, st *Step) (string, error) {
			h := r.host(st.Positional()[1])
			if h == nil || st.Positional()[0] != "purge" {
				return "", fmt.Errorf("expected: klist purge HOST (a declared host)")
			}
			return traceOutput, h.PurgeTickets()
		}},
		"skew": {usage: "skew HOST +5m", check: needPositional(2, "skew Host1 +5m"), run: runSkew},
		// The MIM directives (migrate.go).
		"mim": {usage: "mim [default] [version=V] [os=V] [exchange=online|onpremise] | mim state | mim directory | mim change-mode HOST COMPONENT account=A | mim delete-file HOST PATH",
			check: checkMIM, run: runMIM},
		"migrate": {usage: "migrate plan [full=1] | apply | resume | rollback | crash-each [sync-password=P] [as=USER]",
			check: checkMigrate, run: runMigrate},
		"crash-at": {usage: "crash-at STEP", check: needPositional(1, "a plan step id: crash-at sync-change-mode"), run: runCrashAt},
	}
}

func runPS(r *runner, st *Step) (string, error) {
	on, _ := st.Arg("on")
	as, _ := st.Arg("as")
	var out strings.Builder
	for _, l := range st.ps {
		r.w.Logf("%s ps> %s", strings.ToUpper(on), strings.TrimSpace(l.Text))
		if err := r.sess.runLine(l, on, as, &out); err != nil {
			return "", err
		}
	}
	return out.String(), nil
}

// advanceChunk is the resolution at which root keys are watched arriving on DCs (for the
// report's timeline) while some key has not reached every DC.
const advanceChunk = 10 * time.Minute

func runAdvance(r *runner, st *Step) (string, error) {
	now := r.w.Now()
	var target time.Time
	if to, ok := st.Arg("to"); ok {
		if hm, err := time.Parse("15:04", to); err == nil {
			target = time.Date(now.Year(), now.Month(), now.Day(), hm.Hour(), hm.Minute(), 0, 0, time.UTC)
			if target.Before(now) {
				target = target.Add(24 * time.Hour)
			}
		} else if t, err := parseTime(to); err == nil {
			if t.Before(now) {
				return "", fmt.Errorf("advance to=%s: that is before now (%s); time only moves forward", to, now.Format(time.RFC3339))
			}
			target = t
		} else {
			return "", fmt.Errorf("advance to=%q: expected HH:MM or a time like 2026-11-24T20:00Z", to)
		}
	} else {
		d, _ := parseDuration(st.Positional()[0])
		target = now.Add(d)
	}
	for r.tl.watching() {
		next := r.w.Now().Add(advanceChunk)
		if !next.Before(target) {
			break
		}
		if err := r.w.AdvanceTo(next); err != nil {
			return "", err
		}
		r.trackRootKeys()
	}
	if err := r.w.AdvanceTo(target); err != nil {
		return "", err
	}
	return traceOutput, nil
}

func runLink(r *runner, st *Step) (string, error) {
	p := st.Positional()
	a, b := strings.ToUpper(p[0]), strings.ToUpper(p[1])
	key := [2]string{a, b}
	if b < a {
		key = [2]string{b, a}
	}
	var err error
	switch st.Cmd {
	case "cut":
		if err = r.w.CutLink(a, b); err == nil {
			r.cut[key] = true
			r.tl.add(r.w.Elapsed(), "", "link", "cut "+a+"-"+b)
		}
	case "heal":
		if err = r.w.HealLink(a, b); err == nil {
			r.cut[key] = false
			r.tl.add(r.w.Elapsed(), "", "link", "heal "+a+"-"+b)
		}
	case "link":
		v, _ := st.Arg("delay")
		d, _ := parseDuration(v)
		err = r.w.SetLinkDelay(a, b, d)
	}
	return traceOutput, err
}

func runStartStop(r *runner, st *Step) (string, error) {
	name := strings.ToUpper(st.Positional()[0])
	var err error
	if st.Cmd == "stop" {
		err = r.w.StopDC(name)
		r.stopped[name] = err == nil
	} else {
		err = r.w.StartDC(name)
		if err == nil {
			r.stopped[name] = false
		}
	}
	if err == nil {
		r.tl.add(r.w.Elapsed(), name, "dc", st.Cmd)
	}
	return traceOutput, err
}

func runCheck(r *runner, st *Step) (string, error) {
	switch st.Positional()[0] {
	case "converged":
		if err := r.w.CheckConverged(); err != nil {
			var f *sim.Failure
			if errors.As(err, &f) {
				err = f.Err // the seed and trace tail are not part of the output
			}
			return "not converged: " + err.Error(), nil
		}
		return fmt.Sprintf("ok: %d replicas identical", len(r.w.DCs())), nil
	case "password-equal":
		return runPasswordEqual(r, st)
	case "host-passwords":
		if err := r.hosts.CheckCaches(); err != nil {
			return "not ok: " + oneLine(err), nil
		}
		if n := len(r.hosts.Hosts()); n != 1 {
			return fmt.Sprintf("ok: %d hosts hold the current or previous password", n), nil
		}
		return "ok: 1 host holds the current or previous password", nil
	}
	return "", &PendingFeatureError{Feature: "member hosts and per-DC KDS (issues 3 and 4)", What: st.String()}
}

// runLDAP reads attributes of an object as a principal. Without auth= it asks the model
// in-process, as the caller d.CallerFor(principal, tls) — what the principal's own LDAP client
// would get once bound. With auth=simple|kerberos|ntlm it goes over the wire (ldapwire.go): a
// real bind of that kind to the DC's LDAP server, the connection protected as protect= says
// (none, sign, seal, tls; the tls flag is protect=tls).
// Divergence: without auth= the probe calls the model in-process and opens no socket.
func runLDAP(r *runner, st *Step) (string, error) {
	on, _ := st.Arg("on")
	as, _ := st.Arg("as")
	objName, _ := st.Arg("object")
	attrList, _ := st.Arg("attr")
	tls := st.Flag("tls")
	attrs := strings.Split(attrList, ",")
	if auth, ok := st.Arg("auth"); ok {
		protect, _ := st.Arg("protect")
		if protect == "" {
			protect = "none"
			if tls {
				protect = "tls"
			}
		}
		return runWireLDAP(r, on, as, strings.ToLower(auth), strings.ToLower(protect), objName, attrs)
	}
	var out strings.Builder
	err := r.w.ExecOn(on, func(now time.Time, d *fakead.Directory) error {
		c, err := r.callerOn(d, as, tls)
		if err != nil {
			return err
		}
		dn := r.objectDN(d, objName)
		res, err := d.Search(now, c, &fakead.SearchRequest{BaseDN: dn, Scope: fakead.ScopeBase,
			Filter: fakead.FilterPresent{Attr: "objectClass"}, Attributes: attrs, SDFlags: -1})
		if err != nil {
			fmt.Fprintf(&out, "error: %s\n", ldapErrText(err))
			return nil
		}
		if len(res) == 0 {
			out.WriteString("no entry\n")
			return nil
		}
		got := map[string][][]byte{}
		for _, a := range res[0].Attributes {
			got[strings.ToLower(a.Name)] = a.Values
		}
		writeProbeEntry(&out, res[0].DN, attrs, got)
		return nil
	})
	if err != nil {
		if ldapErr := ldapErrText(err); ldapErr != "" && fakead.CodeOf(err) != fakead.Other {
			return "error: " + ldapErr, nil
		}
		return "", err
	}
	return out.String(), nil
}

// runWireLDAP is the ldap probe over a real bind and connection (ldapwire.go).
func runWireLDAP(r *runner, on, as, auth, protect, objName string, attrs []string) (string, error) {
	var dn string
	if err := r.w.ExecOn(on, func(now time.Time, d *fakead.Directory) error {
		dn = r.objectDN(d, objName)
		return nil
	}); err != nil {
		return "", err
	}
	e, err := r.wireSearch(on, as, auth, protect, dn, attrs)
	if err != nil {
		var le *ldap.Error
		if errors.As(err, &le) {
			return "error: " + wireErrText(err) + "\n", nil
		}
		return "", err
	}
	if e == nil {
		return "no entry\n", nil
	}
	got := map[string][][]byte{}
	for _, a := range e.Attributes {
		got[strings.ToLower(a.Name)] = a.ByteValues
	}
	var out strings.Builder
	writeProbeEntry(&out, e.DN, attrs, got)
	return out.String(), nil
}

// objectDN is the DN the probe reads: the account named, or objName itself as a DN.
func (r *runner) objectDN(d *fakead.Directory, objName string) string {
	target, ok := d.Account(objName)
	if !ok && !strings.HasSuffix(objName, "$") {
		target, ok = d.Account(objName + "$")
	}
	if ok {
		return target.DN
	}
	return objName
}

// writeProbeEntry prints an entry as the ldap probe does: its DN, then each attribute asked for,
// printable single values as text, others as "<N bytes>", missing ones as "(not returned)".
func writeProbeEntry(out *strings.Builder, dn string, attrs []string, got map[string][][]byte) {
	fmt.Fprintf(out, "dn: %s\n", dn)
	for _, a := range attrs {
		vals, ok := got[strings.ToLower(a)]
		switch {
		case !ok:
			fmt.Fprintf(out, "%s: (not returned)\n", a)
		case len(vals) == 1 && printableBytes(vals[0]):
			fmt.Fprintf(out, "%s: %s\n", a, vals[0])
		default:
			var parts []string
			for _, v := range vals {
				if printableBytes(v) {
					parts = append(parts, string(v))
				} else {
					parts = append(parts, fmt.Sprintf("<%d bytes>", len(v)))
				}
			}
			sort.Strings(parts)
			fmt.Fprintf(out, "%s: %s\n", a, strings.Join(parts, "; "))
		}
	}
}

// ldapErrText is a model error as an LDAP client shows it: code name (number) and diagnostic.
func ldapErrText(err error) string {
	var fe *fakead.Error
	if e, ok := err.(*fakead.Error); ok {
		fe = e
	}
	if fe == nil {
		return err.Error()
	}
	s := fmt.Sprintf("%s (%d)", fe.Code, int(fe.Code))
	if fe.Diag != "" {
		s += ": " + fe.Diag
	}
	return s
}
