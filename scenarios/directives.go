package scenarios

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakekds"
	"github.com/gmsasim/gmsasim/sim"
)

// directive is one directive of the language: the arguments it takes, a syntax check at parse
// time, and what it does.
type directive struct {
	usage string
	args  argSpec
	// verbs, when set, are the directive's sub-commands (its first bare word: check converged,
	// migrate apply), each with the arguments it takes besides args.
	verbs map[string]argSpec
	// examples are valid directive lines (with the input lines after "\n"), one at least, that
	// together use every argument the directive takes: the parse test misspells each in turn.
	examples []string
	check    func(st *Step) error
	run      func(r *runner, st *Step) (string, error)
}

// argSpec is what a directive (or one of its verbs) accepts on its line: key=value arguments and
// bare flag words. Other bare words are its positional arguments (DC names, a duration), which its
// check counts.
type argSpec struct {
	keys  []string
	flags []string
}

// checkArgs refuses every argument the directive does not take, with the list of those it takes:
// an unknown word must not be silently ignored (kerberos ... etypes=RC4 on a simulator without
// etypes would run as if it had not been written).
func (d directive) checkArgs(st *Step) error {
	spec := d.args
	p := st.Positional()
	if d.verbs != nil {
		verbs := slices.DeleteFunc(slices.Sorted(maps.Keys(d.verbs)), func(v string) bool { return v == "" })
		verb := ""
		if len(p) > 0 {
			verb = strings.ToLower(p[0])
		}
		v, ok := d.verbs[verb]
		if !ok && verb == "" {
			return fmt.Errorf("expected one of %s: %s", strings.Join(verbs, ", "), d.usage)
		}
		if !ok {
			return fmt.Errorf("unknown %s %q; expected one of %s: %s", st.Cmd, p[0], strings.Join(verbs, ", "), d.usage)
		}
		spec = argSpec{keys: append(slices.Clone(spec.keys), v.keys...), flags: append(slices.Clone(spec.flags), v.flags...)}
	}
	for _, a := range st.Args {
		if a.HasVal && !slices.ContainsFunc(spec.keys, func(k string) bool { return strings.EqualFold(k, a.Key) }) {
			return fmt.Errorf("unknown argument %s=; %s", a.Key, spec.accepted(d.usage))
		}
	}
	return nil
}

// flag reports whether a bare word is one of the spec's flags.
func (s argSpec) flag(w string) bool {
	return slices.ContainsFunc(s.flags, func(f string) bool { return strings.EqualFold(f, w) })
}

// accepted lists what a spec takes, for error messages.
func (s argSpec) accepted(usage string) string {
	var all []string
	for _, k := range s.keys {
		all = append(all, k+"=")
	}
	all = append(all, s.flags...)
	if len(all) == 0 {
		return "it takes no key=value argument: " + usage
	}
	return "accepted: " + strings.Join(all, ", ") + " (" + usage + ")"
}

// noExtraWords refuses bare words other than the spec's flags (for directives without
// positional arguments).
func noExtraWords(spec argSpec, usage string) func(*Step) error {
	return func(st *Step) error {
		for _, w := range st.Positional() {
			if !spec.flag(w) {
				return fmt.Errorf("unknown word %q; %s", w, spec.accepted(usage))
			}
		}
		return nil
	}
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
// their own. Each declares the arguments it takes (args, verbs): the parser refuses any other.
func directiveTable() map[string]directive {
	psArgs := argSpec{keys: []string{"on", "as"}}
	ldapArgs := ldapArgSpec()
	krbArgs := argSpec{keys: []string{"client", "spn", "decrypt-on", "service", "apppool", "dc", "ticket", "save", "etypes"}}
	return map[string]directive{
		"world": {usage: "world [seed=N] [start=TIME] [delay=DURATION]", args: argSpec{keys: []string{"seed", "start", "delay"}},
			examples: []string{"world seed=7 start=2026-11-23T10:30Z delay=15s\ndomain contoso.com schema=88 netbios=CONTOSO\ndc DC1 os=2016"},
			check:    func(st *Step) error { _, err := parseWorld(st); return err }},
		"worlds": {usage: "worlds + one row per line (schema=47), the first block; the world block's $schema takes each row's value",
			examples: []string{"worlds\nschema=47\nschema=88"}, check: func(st *Step) error { _, err := parseWorldRows(st); return err }},
		"ps": {usage: "ps on=DC1|HOST [as=PRINCIPAL]", args: psArgs, examples: []string{"ps on=DC1 as=alice\nGet-Date"}, check: func(st *Step) error {
			if _, ok := st.Arg("on"); !ok {
				return fmt.Errorf("expected on=DC or on=HOST: ps on=DC1")
			}
			return noExtraWords(psArgs, "ps on=DC1|HOST [as=PRINCIPAL]")(st)
		}, run: runPS},
		"advance": {usage: "advance DURATION | advance to=HH:MM | advance to=TIME", args: argSpec{keys: []string{"to"}},
			examples: []string{"advance 10h", "advance to=20:00"}, check: func(st *Step) error {
				p := st.Positional()
				if _, ok := st.Arg("to"); ok {
					if len(p) > 0 {
						return fmt.Errorf("expected a duration or to=..., not both: advance 10h | advance to=20:00")
					}
					return nil
				}
				if len(p) != 1 {
					return fmt.Errorf("expected a duration (advance 10h, advance 30d) or to=HH:MM")
				}
				d, err := parseDuration(p[0])
				if err == nil && d < 0 {
					return fmt.Errorf("time only moves forward: %s", p[0])
				}
				return err
			}, run: runAdvance},
		"replicate": {usage: "replicate", examples: []string{"replicate"}, check: needPositional(0, "no arguments: replicate"), run: func(r *runner, st *Step) (string, error) {
			return traceOutput, r.w.ReplicateNow()
		}},
		"settle": {usage: "settle", examples: []string{"settle"}, check: needPositional(0, "no arguments: settle"), run: func(r *runner, st *Step) (string, error) {
			return traceOutput, r.w.Settle()
		}},
		"cut":  {usage: "cut DC1 DC2", examples: []string{"cut DC1 DC2"}, check: needPositional(2, "two DC names: cut DC1 DC2"), run: runLink},
		"heal": {usage: "heal DC1 DC2", examples: []string{"heal DC1 DC2"}, check: needPositional(2, "two DC names: heal DC1 DC2"), run: runLink},
		"link": {usage: "link DC1 DC2 delay=1h", args: argSpec{keys: []string{"delay"}}, examples: []string{"link DC1 DC2 delay=1h"}, check: func(st *Step) error {
			v, ok := st.Arg("delay")
			if len(st.Positional()) != 2 || !ok {
				return fmt.Errorf("expected link DC1 DC2 delay=1h")
			}
			_, err := parseDuration(v)
			return err
		}, run: runLink},
		"stop":  {usage: "stop DC", examples: []string{"stop DC1"}, check: needPositional(1, "a DC name: stop DC2"), run: runStartStop},
		"start": {usage: "start DC", examples: []string{"start DC1"}, check: needPositional(1, "a DC name: start DC2"), run: runStartStop},
		"check": {usage: "check converged | check password-equal GMSA [on=DC1,DC2] | check host-passwords | check no-future-keys",
			verbs:    map[string]argSpec{"converged": {}, "password-equal": {keys: []string{"on"}}, "no-future-keys": {}, "host-passwords": {}},
			examples: []string{"check converged", "check password-equal ITFarm1 on=DC1", "check host-passwords", "check no-future-keys"},
			check: func(st *Step) error {
				p := st.Positional()
				if want := map[bool]int{true: 2, false: 1}[strings.EqualFold(p[0], "password-equal")]; len(p) != want {
					return fmt.Errorf("expected check converged | check password-equal GMSA [on=DC1,DC2] | check host-passwords | check no-future-keys")
				}
				return nil
			}, run: runCheck},
		"ldap": {usage: "ldap on=DC1 as=PRINCIPAL [tls] [blob] [auth=simple|kerberos|ntlm [protect=none|sign|seal|tls]] object=NAME attr=A[,B]", args: ldapArgs,
			examples: []string{"ldap on=DC1 as=alice tls object=ITFarm1 attr=cn", "ldap on=DC1 as=alice auth=kerberos protect=seal blob object=ITFarm1 attr=msDS-ManagedPassword"},
			check:    checkLDAP, run: runLDAP},
		"kerberos": {usage: "kerberos client=USER spn=SPN decrypt-on=HOST [service=SVC | apppool=POOL] [dc=DC] [etypes=AES256,AES128,RC4] [save=T | ticket=T]", args: krbArgs,
			examples: []string{"kerberos client=alice spn=http/a.contoso.com decrypt-on=Host1 dc=DC1 etypes=RC4", "kerberos client=alice spn=http/a.contoso.com save=T1", "kerberos ticket=T1 decrypt-on=Host1", "kerberos client=alice spn=host/host1.contoso.com decrypt-on=Host1 service=WebSvc", "kerberos client=alice spn=http/web decrypt-on=Host1 apppool=Web"},
			check: func(st *Step) error {
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
				if v, ok := st.Arg("etypes"); ok {
					if _, err := parseEtypes(v); err != nil {
						return err
					}
				}
				return noExtraWords(krbArgs, "kerberos client=USER spn=SPN decrypt-on=HOST")(st)
			}, run: runKerberos},
		"kds": {usage: "kds restart DC | kds policy rule=interval-start|one-interval-ago", verbs: map[string]argSpec{"restart": {}, "policy": {keys: []string{"rule"}}},
			examples: []string{"kds restart DC1", "kds policy rule=one-interval-ago"}, check: checkKDS, run: runKDS},
		"reboot": {usage: "reboot HOST", examples: []string{"reboot Host1"}, check: needPositional(1, "a host: reboot Host1"), run: func(r *runner, st *Step) (string, error) {
			h := r.host(st.Positional()[0])
			if h == nil {
				return "", fmt.Errorf("reboot %s: no such host", st.Positional()[0])
			}
			return traceOutput, h.Reboot()
		}},
		"klist": {usage: "klist purge HOST", verbs: map[string]argSpec{"purge": {}}, examples: []string{"klist purge Host1"}, check: needPositional(2, "klist purge Host1"), run: func(r *runner, st *Step) (string, error) {
			h := r.host(st.Positional()[1])
			if h == nil {
				return "", fmt.Errorf("klist purge %s: no such host (declare it in the world block)", st.Positional()[1])
			}
			return traceOutput, h.PurgeTickets()
		}},
		"skew": {usage: "skew HOST +5m", examples: []string{"skew Host1 +5m"}, check: needPositional(2, "skew Host1 +5m"), run: runSkew},
		// The MIM directives (migrate.go).
		"mim": {usage: "mim [default] [version=V] [os=V] [exchange=online|onpremise] | mim state | mim directory | mim snapshot | mim compare | mim change-mode HOST COMPONENT account=A | mim export HOST [path=P] | mim restore HOST PATH | mim start HOST COMPONENT | mim delete-file HOST PATH",
			verbs: mimVerbs(), examples: []string{"mim version=4.5.25.0 os=2019 exchange=online", "mim default version=4.5.25.0", "mim state", "mim directory", "mim snapshot", "mim compare",
				"mim change-mode MIMSYNC sync account=A password=P exchange=online mail-account=M mail-password=Q", "mim export MIMSYNC path=C:\\k.bin",
				"mim restore MIMSYNC C:\\k.bin", "mim start MIMSYNC sync", "mim delete-file MIMSYNC C:\\k.bin"},
			check: checkMIM, run: runMIM},
		"migrate": {usage: "migrate plan [full=1] | apply | resume | rollback | crash-each [sync-password=P] [as=USER] [gmsa=COMPONENT:NAME,...] [installer=COMPONENT:ACCOUNT,...] [sync-group=G] [service-group=G] [root-key-rule=interval-start|one-interval-ago] [mode=change-mode|script]",
			args:  argSpec{keys: []string{"sync-password", "as", "gmsa", "installer", "sync-group", "service-group", "root-key-rule", "mode"}},
			verbs: map[string]argSpec{"plan": {keys: []string{"full"}}, "apply": {}, "resume": {}, "rollback": {}, "crash-each": {}},
			examples: []string{"migrate plan full=1 as=bob", "migrate apply sync-password=P", "migrate resume", "migrate rollback", "migrate crash-each",
				"migrate plan gmsa=sync:MIMSyncGMSAsvc installer=sync:CONTOSO\\MIMSyncGMSAsvc$ sync-group=G1 service-group=G2 root-key-rule=one-interval-ago mode=script"},
			check: checkMigrate, run: runMigrate},
		"crash-at": {usage: "crash-at STEP", examples: []string{"crash-at keyset-verify@mimsync.contoso.com"}, check: needPositional(1, "a plan step id: crash-at keyset-verify@mimsync.contoso.com"), run: runCrashAt},
	}
}

// checkKDS: kds restart DC | kds policy rule=NAME.
func checkKDS(st *Step) error {
	p := st.Positional()
	if strings.EqualFold(p[0], "policy") {
		v, ok := st.Arg("rule")
		if len(p) != 1 || !ok {
			return fmt.Errorf("expected: kds policy rule=interval-start|one-interval-ago")
		}
		_, err := fakekds.ParseCreationRule(v)
		return err
	}
	if len(p) != 2 {
		return fmt.Errorf("expected: kds restart DC1")
	}
	return nil
}

// runKDS restarts a DC's KDS, or sets the reading of the 10-hour rule every DC applies.
func runKDS(r *runner, st *Step) (string, error) {
	if strings.EqualFold(st.Positional()[0], "policy") {
		v, _ := st.Arg("rule")
		rule, err := fakekds.ParseCreationRule(v)
		if err != nil {
			return "", err
		}
		return traceOutput, r.w.SetKDSPolicy(fakekds.Policy{CreationRule: rule})
	}
	return traceOutput, r.w.RestartKDS(st.Positional()[1])
}

func ldapArgSpec() argSpec {
	return argSpec{keys: []string{"on", "as", "object", "attr", "auth", "protect"}, flags: []string{"tls", "blob"}}
}

// checkLDAP is the ldap probe's syntax check.
func checkLDAP(st *Step) error {
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
	if attrs, _ := st.Arg("attr"); st.Flag("blob") && !slices.ContainsFunc(strings.Split(attrs, ","), func(a string) bool { return strings.EqualFold(a, ad.AttrManagedPassword) }) {
		return fmt.Errorf("blob decodes msDS-ManagedPassword: add it to attr=")
	}
	return noExtraWords(ldapArgSpec(), "ldap on=DC1 as=PRINCIPAL [tls] [blob] object=NAME attr=A[,B]")(st)
}

func runPS(r *runner, st *Step) (string, error) {
	on, _ := st.Arg("on")
	as, _ := st.Arg("as")
	var out strings.Builder
	for _, l := range st.ps {
		r.w.Logf("%s ps> %s", strings.ToUpper(on), strings.TrimSpace(l.Text))
		if err := r.sess.ps.RunLine(l, recordErrors(r.sess.commands(on, as), &r.stepErrs), &out); err != nil {
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
		return runWireLDAP(r, on, as, strings.ToLower(auth), strings.ToLower(protect), objName, attrs, st.Flag("blob"))
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
		writeProbeEntry(&out, res[0].DN, attrs, got, st.Flag("blob"))
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
func runWireLDAP(r *runner, on, as, auth, protect, objName string, attrs []string, blob bool) (string, error) {
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
	writeProbeEntry(&out, e.DN, attrs, got, blob)
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
// printable single values as text, others as "<N bytes>", missing ones as "(not returned)"; with
// blob, msDS-ManagedPassword field by field (blob.go).
func writeProbeEntry(out *strings.Builder, dn string, attrs []string, got map[string][][]byte, blob bool) {
	fmt.Fprintf(out, "dn: %s\n", dn)
	for _, a := range attrs {
		vals, ok := got[strings.ToLower(a)]
		switch {
		case blob && ok && len(vals) == 1 && strings.EqualFold(a, ad.AttrManagedPassword):
			writeBlob(out, a, vals[0])
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
