package scenarios

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gmsasim/gmsasim/migrate"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/gmsasim/gmsasim/sim/host"
	"github.com/gmsasim/gmsasim/sim/mim"
	"github.com/gmsasim/gmsasim/sim/mimagent"
)

// The MIM directives: `mim` installs MIM hosts and acts on them as an operator would, `migrate`
// runs the engine (package migrate) against the scenario's world over real LDAPS sockets and the
// simulator's HostAgent, and `crash-at` arms a simulated crash for the next apply or resume.
//
//	mim [default] [version=V] [os=V] [exchange=online|onpremise]   + optional host lines:
//	    HOST components=sync,service,... [account=USER] [version=V] [os=V] [arch=x86] [dc=DC]
//	         [pcns] [agents=AD,FIM] [exchange=online|onpremise] [kdssvc=trigger]
//	mim state                                    the MIM hosts: each component's state and account
//	mim directory                                the gMSAs and groups in the directory, by name
//	mim change-mode HOST COMPONENT account=A [password=P] [exchange=online|onpremise]
//	                [mail-account=A mail-password=P]   (the MIM Service's Service Email Account)
//	mim export HOST [path=P]                     the Key Management tool's export, as the current
//	                                             sync account with its known password
//	mim restore HOST PATH | mim start HOST COMPONENT   restore a key set, start a component
//	mim delete-file HOST PATH                    an operator deleting a file (a key set export)
//	migrate plan | apply | resume | rollback     [sync-password=P] (the operator's entry for the
//	                                             sync account) [as=USER] (the operator, a world user)
//	migrate crash-each                           apply crashed after every step, each resumed from
//	                                             a reloaded world, compared with an uninterrupted run
//	crash-at STEP                                the next apply/resume stops right after STEP
//
// After a crash the world is saved and loaded back (mim.Save / LoadMIMWorld), as
// `gmsasim migrate resume` does after a killed process.

// mimRun is a runner's MIM state.
type mimRun struct {
	m            *mim.Deployment
	dir          string // the journal's directory
	runs         int    // journals made
	journal      string
	crash        string
	syncPassword *string
	as           string // the operator, a scenario user; "" Administrator
	// snapshot is what mim snapshot kept (mim directory, then mim state), for mim compare.
	snapshot *string
	// ov are the operator's names and rule (gmsa=, installer=, sync-group=, service-group=,
	// root-key-rule=), kept for the later migrate lines as sync-password= is.
	ov migrate.Overrides
}

// mim is the runner's MIM state, made by the first MIM directive.
func (r *runner) mimState() *mimRun {
	if r.mim == nil {
		r.mim = &mimRun{}
	}
	return r.mim
}

// closeMIM removes the MIM directives' journals (Run and BuildMIMWorld call it when they end).
func (r *runner) closeMIM() {
	if r.mim != nil && r.mim.dir != "" {
		os.RemoveAll(r.mim.dir)
	}
	r.mim = nil
}

// mimVerbs are the mim directive's verbs and the arguments each takes ("": a bare mim, as default).
func mimVerbs() map[string]argSpec {
	install := argSpec{keys: []string{"version", "os", "exchange"}}
	return map[string]argSpec{"": install, "default": install, "state": {}, "directory": {}, "snapshot": {}, "compare": {},
		"change-mode": {keys: []string{"account", "password", "exchange", "mail-account", "mail-password"}},
		"export":      {keys: []string{"path"}}, "restore": {}, "start": {}, "delete-file": {}}
}

func checkMigrate(st *Step) error {
	p := st.Positional()
	if len(p) != 1 {
		return fmt.Errorf("expected: migrate plan|apply|resume|rollback|crash-each")
	}
	switch p[0] {
	case "plan", "apply", "resume", "rollback", "crash-each":
		_, err := overridesOf(st, migrate.Overrides{})
		return err
	}
	return fmt.Errorf("migrate %s: expected plan, apply, resume, rollback or crash-each", p[0])
}

// snapshotDiff is lineDiff's changed lines only ("+ " added since the snapshot, "- " gone), or
// "same as the snapshot".
func snapshotDiff(before, after string) string {
	var out []string
	for _, l := range strings.Split(lineDiff(before, after), "\n") {
		if strings.HasPrefix(l, " + ") || strings.HasPrefix(l, " - ") {
			out = append(out, strings.TrimPrefix(l, " "))
		}
	}
	if len(out) == 0 {
		return "same as the snapshot"
	}
	return strings.Join(out, "\n")
}

func runCrashAt(r *runner, st *Step) (string, error) {
	mr := r.mimState()
	mr.crash = st.Positional()[0]
	return "armed: the next apply or resume stops right after step " + mr.crash, nil
}

func checkMIM(st *Step) error {
	p := st.Positional()
	if len(p) == 0 || p[0] == "default" {
		if len(p) > 1 {
			return fmt.Errorf("unknown word %q: expected mim [default] [version=V] [os=V] [exchange=online|onpremise]", p[1])
		}
		for _, line := range st.Input {
			if _, err := parseMIMHost(line); err != nil {
				return err
			}
		}
		return nil
	}
	switch p[0] {
	case "state", "directory", "snapshot", "compare":
		if len(p) != 1 {
			return fmt.Errorf("unknown word %q: expected mim %s", p[1], p[0])
		}
		return nil
	case "change-mode":
		if len(p) != 3 {
			return fmt.Errorf("expected: mim change-mode HOST COMPONENT account=A [password=P]")
		}
		return nil
	case "delete-file", "restore", "start":
		if len(p) != 3 {
			return fmt.Errorf("expected: mim %s HOST %s", p[0], map[string]string{"delete-file": "PATH", "restore": "PATH", "start": "COMPONENT"}[p[0]])
		}
		return nil
	case "export":
		if len(p) != 2 {
			return fmt.Errorf("expected: mim export HOST [path=P]")
		}
		return nil
	}
	return fmt.Errorf("mim %s: expected default, state, directory, change-mode, export, restore, start or delete-file", p[0])
}

// mimHostLine is one host line of a mim block.
type mimHostLine struct {
	spec    mim.HostSpec
	account string
}

func parseMIMHost(line string) (*mimHostLine, error) {
	args, err := splitArgs(strings.TrimSpace(line))
	if err != nil {
		return nil, err
	}
	if len(args) == 0 || args[0].HasVal {
		return nil, fmt.Errorf("mim host line %q: expected HOST components=...", line)
	}
	hl := &mimHostLine{spec: mim.HostSpec{Host: host.Spec{Name: args[0].Key}}}
	for _, a := range args[1:] {
		switch strings.ToLower(a.Key) {
		case "components":
			for _, c := range strings.Split(a.Val, ",") {
				if _, _, ok := mim.Workload(mim.Component(c)); !ok {
					return nil, fmt.Errorf("mim host %s: unknown component %q; expected one of %v", args[0].Key, c, mim.Components())
				}
				hl.spec.Components = append(hl.spec.Components, mim.Component(c))
			}
		case "account":
			hl.account = a.Val
		case "version":
			hl.spec.Version = a.Val
		case "os":
			hl.spec.Host.OS = a.Val
		case "arch":
			hl.spec.Host.X86 = a.Val == "x86"
		case "dc":
			hl.spec.Host.DC = a.Val
		case "pcns":
			hl.spec.PCNS = true
		case "kdssvc":
			hl.spec.Host.KDSSvcTrigger = a.Val == "trigger"
		case "exchange":
			hl.spec.Exchange = mim.ExchangeMode(a.Val)
		case "agents":
			for _, t := range strings.Split(a.Val, ",") {
				hl.spec.Agents = append(hl.spec.Agents, mim.ManagementAgent{Name: t + " MA", Type: t})
			}
		default:
			return nil, fmt.Errorf("mim host %s: unknown argument %q", args[0].Key, a.Key)
		}
	}
	if len(hl.spec.Components) == 0 {
		return nil, fmt.Errorf("mim host %s: expected components=sync,service,...", args[0].Key)
	}
	return hl, nil
}

func runMIM(r *runner, st *Step) (string, error) {
	mr := r.mimState()
	p := st.Positional()
	if len(p) > 0 && p[0] != "default" {
		if mr.m == nil {
			return "", fmt.Errorf("no MIM hosts yet: install them with a mim block first")
		}
		mh := func(name string) (*mim.Host, error) {
			h := mr.m.Host(name)
			if h == nil {
				return nil, fmt.Errorf("%s is not a MIM host", name)
			}
			return h, nil
		}
		switch p[0] {
		case "state":
			return mimagent.HostState(mr.m), nil
		case "directory":
			return mimagent.DirectoryState(r.w)
		case "snapshot", "compare":
			dir, err := mimagent.DirectoryState(r.w)
			if err != nil {
				return "", err
			}
			now := dir + "\n" + mimagent.HostState(mr.m)
			if p[0] == "snapshot" {
				mr.snapshot = &now
				return "snapshot: the directory's MIM accounts and the hosts' state kept", nil
			}
			if mr.snapshot == nil {
				return "", fmt.Errorf("mim compare: no snapshot yet (mim snapshot first)")
			}
			return snapshotDiff(*mr.snapshot, now), nil
		case "change-mode":
			h, err := mh(p[1])
			if err != nil {
				return "", err
			}
			acct, _ := st.Arg("account")
			pw, _ := st.Arg("password")
			ex, _ := st.Arg("exchange")
			ma, _ := st.Arg("mail-account")
			mp, _ := st.Arg("mail-password")
			res, err := h.ChangeMode(mim.ChangeModeRequest{Component: mim.Component(p[2]), Account: acct, Password: pw,
				Exchange: mim.ExchangeMode(ex), MailAccount: ma, MailPassword: mp})
			if err != nil {
				return "error: " + err.Error(), nil
			}
			out := "ok: " + p[2] + " runs as " + res.Account
			for _, w := range res.Warnings {
				out += "\nwarning: " + w
			}
			return out, nil
		case "export":
			h, err := mh(p[1])
			if err != nil {
				return "", err
			}
			acct, _ := h.Account(mim.CompSync)
			dom, name, _ := strings.Cut(acct, `\`)
			path, _ := st.Arg("path")
			f, err := h.ExportKeySet(name, mr.m.KnownPasswords()[acct], dom, path)
			if err != nil {
				return "error: " + err.Error(), nil
			}
			return fmt.Sprintf("exported key set %s to %s as %s", f.KeyID, f.Path, acct), nil
		case "restore":
			h, err := mh(p[1])
			if err != nil {
				return "", err
			}
			if err := h.RestoreKeySet(p[2]); err != nil {
				return "error: " + err.Error(), nil
			}
			return "restored the key set from " + p[2], nil
		case "start":
			h, err := mh(p[1])
			if err != nil {
				return "", err
			}
			st, err := h.Start(mim.Component(p[2]))
			if err != nil {
				return "error: " + err.Error(), nil
			}
			return p[2] + ": " + string(st), nil
		case "delete-file":
			h, err := mh(p[1])
			if err != nil {
				return "", err
			}
			if _, ok := h.KeySet(p[2]); !ok {
				return "", fmt.Errorf("%s has no file %s", p[1], p[2])
			}
			h.DeleteFile(p[2])
			return "deleted " + p[2] + " on " + h.Name(), nil
		}
	}
	if mr.m == nil {
		mr.m = mim.New(r.hosts)
	}
	var opt mim.DefaultOptions
	if v, ok := st.Arg("version"); ok {
		opt.Version = v
	}
	if v, ok := st.Arg("os"); ok {
		opt.OS = v
	}
	if v, ok := st.Arg("exchange"); ok {
		opt.Exchange = mim.ExchangeMode(v)
	}
	if len(p) > 0 && p[0] == "default" {
		m, err := mim.InstallDefaultOn(mr.m, opt)
		if err != nil {
			return "", err
		}
		mr.m = m
	}
	dc := r.w.DCs()[0].Name()
	for _, g := range mim.SyncGroups() {
		if err := sim.EnsureDomainGroup(r.w, dc, g); err != nil {
			return "", err
		}
	}
	nb := r.w.Config().NetBIOS
	for _, line := range st.Input {
		hl, err := parseMIMHost(line)
		if err != nil {
			return "", err
		}
		if hl.spec.Version == "" {
			hl.spec.Version = opt.Version
		}
		if hl.spec.Host.OS == "" {
			hl.spec.Host.OS = opt.OS
		}
		if hl.spec.Exchange == "" && hasComponent(hl.spec.Components, mim.CompService) {
			hl.spec.Exchange = mim.ExchangeOnPremise
		}
		if hl.account != "" {
			udc := dc // the host's DC: the account must resolve there at once
			if hl.spec.Host.DC != "" {
				udc = hl.spec.Host.DC
			}
			if err := sim.EnsureDomainUser(r.w, udc, hl.account, mim.UserPassword(r.w, hl.account)); err != nil {
				return "", err
			}
			hl.spec.Accounts, hl.spec.Passwords = map[mim.Component]string{}, map[mim.Component]string{}
			for _, c := range hl.spec.Components {
				hl.spec.Accounts[c] = nb + `\` + hl.account
				hl.spec.Passwords[c] = mim.UserPassword(r.w, hl.account)
			}
		}
		for i := range hl.spec.Agents {
			hl.spec.Agents[i].Account = nb + `\` + hl.account
		}
		if _, err := mr.m.AddHost(hl.spec); err != nil {
			return "", err
		}
	}
	return mimagent.HostState(mr.m), nil
}

func hasComponent(cs []mim.Component, c mim.Component) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

// env serves the runner's world to the engine.
func (mr *mimRun) env(r *runner) (*mimagent.Env, error) {
	if mr.m == nil {
		return nil, fmt.Errorf("no MIM hosts: install them with a mim block first")
	}
	env, err := mimagent.Serve(r.w, mr.m)
	if err != nil {
		return nil, err
	}
	if mr.syncPassword != nil {
		env.Config.SyncAccount.Password = *mr.syncPassword
	}
	if mr.as != "" {
		env.Config.Admin = migrate.Credentials{Name: r.w.Config().NetBIOS + `\` + mr.as, Password: userPassword(mr.as)}
	}
	if err := mr.ov.Apply(&env.Config); err != nil {
		env.Close()
		return nil, err
	}
	return env, nil
}

// setOverrides takes a migrate line's gmsa=, installer=, sync-group=, service-group= and
// root-key-rule= (each replacing what an earlier line gave), checked before anything runs.
func (mr *mimRun) setOverrides(st *Step) error {
	ov, err := overridesOf(st, mr.ov)
	if err != nil {
		return err
	}
	mr.ov = ov
	return nil
}

// overridesOf is base with a migrate line's overrides, checked.
func overridesOf(st *Step, base migrate.Overrides) (migrate.Overrides, error) {
	ov := base
	var gmsa, inst []string
	for _, a := range st.Args {
		switch strings.ToLower(a.Key) {
		case "gmsa":
			gmsa = append(gmsa, a.Val)
		case "installer":
			inst = append(inst, a.Val)
		case "sync-group":
			ov.SyncServersGroup = a.Val
		case "service-group":
			ov.ServiceServersGroup = a.Val
		case "root-key-rule":
			ov.RootKeyRule = a.Val
		case "mode":
			ov.Mode = a.Val
		}
	}
	if gmsa != nil {
		ov.GMSA = gmsa
	}
	if inst != nil {
		ov.Installer = inst
	}
	return ov, ov.Apply(&migrate.Config{})
}

func (mr *mimRun) newJournal() (string, error) {
	if mr.dir == "" {
		d, err := os.MkdirTemp("", "gmsasim-migrate-")
		if err != nil {
			return "", err
		}
		mr.dir = d
	}
	mr.runs++
	mr.journal = filepath.Join(mr.dir, fmt.Sprintf("journal-%d.json", mr.runs))
	return mr.journal, nil
}

func runMigrate(r *runner, st *Step) (string, error) {
	mr := r.mimState()
	if v, ok := st.Arg("sync-password"); ok {
		mr.syncPassword = &v
	}
	if v, ok := st.Arg("as"); ok {
		mr.as = v
	}
	if err := mr.setOverrides(st); err != nil {
		return "", err
	}
	verb := st.Positional()[0]
	if verb == "crash-each" {
		return crashEach(r, mr)
	}
	env, err := mr.env(r)
	if err != nil {
		return "", err
	}
	defer env.Close()
	ctx := context.Background()
	var out strings.Builder
	if verb == "plan" && len(st.Positional()) == 1 {
		if _, full := st.Arg("full"); !full {
			return planBrief(ctx, env)
		}
	}
	if verb == "plan" {
		est, rep, p, err := env.Plan(ctx)
		if est != nil {
			out.WriteString(est.Text() + "\n")
		}
		if rep != nil {
			out.WriteString(rep.Text() + "\n")
		}
		if err != nil {
			fmt.Fprintf(&out, "error: %v", err)
			return strings.TrimSpace(out.String()), nil
		}
		out.WriteString(p.Text())
		return strings.TrimSpace(out.String()), nil
	}
	if verb == "apply" {
		if _, err := mr.newJournal(); err != nil {
			return "", err
		}
	} else if mr.journal == "" {
		return "", fmt.Errorf("migrate %s: no journal yet (run migrate apply first)", verb)
	}
	o := mimagent.RunOptions{Journal: mr.journal, CrashAfter: mr.crash, Progress: &out}
	mr.crash = ""
	var res *migrate.Result
	var plan *migrate.Plan
	switch verb {
	case "apply":
		plan, res, err = env.Apply(ctx, o)
	case "resume":
		res, err = env.Resume(ctx, o)
	case "rollback":
		res, err = env.Rollback(ctx, o)
	}
	if o.CrashAfter != "" && !errors.Is(err, migrate.ErrInterrupted) {
		if cerr := crashNotReached(o.CrashAfter, verb, plan, res); cerr != nil {
			return "", cerr
		}
	}
	if res != nil {
		fmt.Fprintf(&out, "ran %d step(s), skipped %d already done\n", len(res.Ran), len(res.Skipped))
	}
	switch {
	case errors.Is(err, migrate.ErrInterrupted):
		fmt.Fprintf(&out, "crashed after %s; the world is saved and loaded back\n", o.CrashAfter)
		if err := mr.reload(r); err != nil {
			return "", err
		}
	case err != nil:
		fmt.Fprintf(&out, "error: %v\n", err)
	}
	out.WriteString("hosts:\n" + mimagent.HostState(mr.m))
	return strings.TrimSpace(out.String()), nil
}

// crashNotReached explains an armed crash-at that did not stop the run: the plan has no such step
// (a misspelt id must not let the run go to the end as if it had been tested), or an earlier run
// already did it. Step ids name hosts, so they are only known once the plan is made: this is
// checked at run time. nil when the run stopped before reaching the step for another reason.
func crashNotReached(id, verb string, plan *migrate.Plan, res *migrate.Result) error {
	var ids []string
	if plan != nil {
		for _, s := range plan.Steps {
			ids = append(ids, s.ID)
		}
	} else if res != nil {
		ids = append(append(ids, res.Skipped...), res.Ran...)
	}
	switch {
	case res != nil && slices.Contains(res.Skipped, id):
		return fmt.Errorf("crash-at %s: migrate %s did not crash: an earlier run already did step %s", id, verb, id)
	case len(ids) > 0 && !slices.Contains(ids, id):
		return fmt.Errorf("crash-at %s: the plan has no step %s, so migrate %s ran without crashing; its steps are: %s", id, id, verb, strings.Join(ids, ", "))
	case verb == "rollback":
		return fmt.Errorf("crash-at %s: migrate rollback does not crash; crash-at arms the next apply or resume", id)
	}
	return nil
}

// reload saves the world and loads it back into the runner, as a restarted process would.
func (mr *mimRun) reload(r *runner) error {
	b, err := mim.Save(mr.m)
	if err != nil {
		return err
	}
	cfg := r.w.Config()
	w, m, err := mim.Load(b, sim.Config{TraceWriter: r.trace, MaxEvents: cfg.MaxEvents, MaxSimTime: cfg.MaxSimTime, Keys: r.w.Keys()})
	if err != nil {
		return err
	}
	r.w, r.hosts, mr.m = w, m.Fleet(), m
	return nil
}

// planBrief is `migrate plan`: the preflight checks that did not pass, then the plan's step ids
// in order and what is left alone. `migrate plan full=1` prints the inventory, every check and
// the engine's full plan text.
func planBrief(ctx context.Context, env *mimagent.Env) (string, error) {
	_, rep, p, err := env.Plan(ctx)
	var out strings.Builder
	if rep != nil {
		for _, l := range strings.Split(rep.Text(), "\n") {
			if l != "" && !strings.HasPrefix(l, "PASS") {
				out.WriteString(l + "\n")
			}
		}
		if rep.OK() {
			out.WriteString("preflight: ok\n")
		} else {
			fmt.Fprintf(&out, "preflight: %d blocker(s)\n", len(rep.Blockers()))
		}
	}
	if err != nil {
		fmt.Fprintf(&out, "error: %v\n", err)
		return strings.TrimSpace(out.String()), nil
	}
	fmt.Fprintf(&out, "plan: %d steps\n", len(p.Steps))
	for _, s := range p.Steps {
		out.WriteString("  " + s.ID + "\n")
	}
	for _, u := range p.Unsupported {
		out.WriteString("left alone: " + u + "\n")
	}
	for _, k := range p.Kept {
		out.WriteString("kept: " + k + "\n")
	}
	return strings.TrimSpace(out.String()), nil
}
