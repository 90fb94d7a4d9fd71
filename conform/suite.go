package conform

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gmsasim/gmsasim/control"
)

// World is a running world as a check drives it: the control API of `gmsasim serve --control`
// (*control.Client satisfies it).
type World interface {
	Steps(ctx context.Context, text string) (control.StepsResult, error)
	State(ctx context.Context) (control.State, error)
}

// WorldSpec is the world a check needs: the default domain with DCs domain controllers.
type WorldSpec struct {
	DCs  int
	Seed uint64
}

// Started is a world a Starter started: its control API and its state directory (ca.pem,
// credentials.json, krb5.conf, keytabs/, endpoints.json), as `gmsasim serve --control
// --state-dir DIR` leaves them.
type Started struct {
	World    World
	StateDir string
	Close    func() error
}

// Starter starts a fresh world in dir (an empty directory the suite owns).
type Starter func(ctx context.Context, spec WorldSpec, dir string) (*Started, error)

// Options say what to run.
type Options struct {
	Adapter  *Adapter
	Start    Starter
	Dir      string   // where each check's world and product output go (DIR/CHECK/state, DIR/CHECK/out)
	Checks   []string // names; empty: every check
	Parallel int      // worlds at once; 0: 2
	Seed     uint64
	// Env is added to every product command's environment (before the adapter's own env), e.g.
	// GMSASIM, the gmsasim executable the shipped adapters call.
	Env map[string]string
}

// Event is one line of a check's timeline.
type Event struct {
	Elapsed string // world time since the world started ("719h58m00s")
	Kind    string // "steps", "run", "check", "fail"
	Text    string
	Detail  string
	Run     *ProductRun
}

// Result is one check's outcome.
type Result struct {
	Check    string
	Title    string
	Failures []string // empty: passed
	Error    string   // the suite could not run the check (world did not start, ...)
	Events   []Event
	Wall     time.Duration
	Seed     uint64
}

// Passed reports a check that ran and found nothing wrong.
func (r *Result) Passed() bool { return r.Error == "" && len(r.Failures) == 0 }

// CheckNames are the names of every check, in order.
func CheckNames() []string {
	var out []string
	for _, c := range checks {
		out = append(out, c.Name)
	}
	return out
}

// Run runs the checks, each in its own fresh world, opts.Parallel at once, and returns their
// results in check order.
func Run(ctx context.Context, opts Options) ([]*Result, error) {
	var todo []*check
	for _, name := range opts.Checks {
		c := findCheck(name)
		if c == nil {
			return nil, fmt.Errorf("no check %q (checks: %s)", name, strings.Join(CheckNames(), ", "))
		}
		todo = append(todo, c)
	}
	if len(opts.Checks) == 0 {
		for i := range checks {
			todo = append(todo, &checks[i])
		}
	}
	par := opts.Parallel
	if par <= 0 {
		par = 2
	}
	results := make([]*Result, len(todo))
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i, c := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = runCheck(ctx, c, opts)
		}()
	}
	wg.Wait()
	return results, nil
}

func findCheck(name string) *check {
	for i := range checks {
		if checks[i].Name == name {
			return &checks[i]
		}
	}
	return nil
}

// stop ends a check early (a failure after which nothing more can be learnt).
type stop struct{}

func runCheck(ctx context.Context, c *check, opts Options) (res *Result) {
	began := time.Now() // wallclock: the JUnit testcase's time
	res = &Result{Check: c.Name, Title: c.Title, Seed: opts.Seed}
	defer func() { res.Wall = time.Since(began) }() // wallclock
	dir := filepath.Join(opts.Dir, c.Name)
	for _, d := range []string{filepath.Join(dir, "state"), filepath.Join(dir, "out")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			res.Error = err.Error()
			return res
		}
	}
	dcs := 1
	if c.DCs > 0 {
		dcs = c.DCs
	}
	w, err := opts.Start(ctx, WorldSpec{DCs: dcs, Seed: opts.Seed}, filepath.Join(dir, "state"))
	if err != nil {
		res.Error = "start the world: " + err.Error()
		return res
	}
	defer w.Close()
	cx := &Ctx{ctx: ctx, res: res, w: w.World, stateDir: w.StateDir, out: filepath.Join(dir, "out"), a: opts.Adapter,
		extra: opts.Env, Account: "ITFarm1$", SPN: "http/ITFarm1.contoso.com"}
	if err := cx.init(); err != nil {
		res.Error = err.Error()
		return res
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(stop); !ok {
					panic(r)
				}
			}
		}()
		c.Run(cx)
	}()
	return res
}

// Ctx is what a check does with its world and the product.
type Ctx struct {
	ctx      context.Context
	res      *Result
	w        World
	stateDir string
	out      string
	a        *Adapter
	extra    map[string]string

	Account string // the gMSA the product is asked for (GMSASIM_ACCOUNT)
	SPN     string // its SPN, for tickets
	LDAPDC  int    // the DC the product is told to use first (index into State.DCs)

	st      control.State
	creds   map[string]string
	secrets []string
}

func (c *Ctx) init() error {
	b, err := os.ReadFile(filepath.Join(c.stateDir, "credentials.json"))
	if err != nil {
		return fmt.Errorf("the world's credentials: %w", err)
	}
	if err := json.Unmarshal(b, &c.creds); err != nil {
		return fmt.Errorf("credentials.json: %w", err)
	}
	for _, v := range c.creds {
		c.secrets = append(c.secrets, v)
	}
	sort.Slice(c.secrets, func(i, j int) bool { return len(c.secrets[i]) > len(c.secrets[j]) })
	_, err = c.state()
	return err
}

// state refreshes the world's state.
func (c *Ctx) state() (control.State, error) {
	st, err := c.w.State(c.ctx)
	if err != nil {
		return st, fmt.Errorf("the world's state: %w", err)
	}
	c.st = st
	return st, nil
}

func (c *Ctx) elapsed() string {
	d, err := time.ParseDuration(c.st.Elapsed)
	if err != nil {
		return c.st.Elapsed
	}
	return fmtElapsed(d)
}

func fmtElapsed(d time.Duration) string {
	d = d.Truncate(time.Second)
	h := d / time.Hour
	m := (d % time.Hour) / time.Minute
	s := (d % time.Minute) / time.Second
	return fmt.Sprintf("+%dh%02dm%02ds", h, m, s)
}

func (c *Ctx) event(kind, text, detail string) {
	c.res.Events = append(c.res.Events, Event{Elapsed: c.elapsed(), Kind: kind, Text: text, Detail: detail})
}

// Fail records what the product did wrong, prefixed with where: check, seed and world time.
func (c *Ctx) Fail(format string, args ...any) {
	msg := fmt.Sprintf("check=%s seed=%d t=%s: %s", c.res.Check, c.res.Seed, c.elapsed(), fmt.Sprintf(format, args...))
	c.res.Failures = append(c.res.Failures, msg)
	c.event("fail", fmt.Sprintf(format, args...), "")
}

// Fatal is Fail, then the check stops.
func (c *Ctx) Fatal(format string, args ...any) {
	c.Fail(format, args...)
	panic(stop{})
}

// broken is a failure of the suite or the world, not of the product.
func (c *Ctx) broken(format string, args ...any) {
	c.res.Error = fmt.Sprintf("check=%s seed=%d t=%s: %s", c.res.Check, c.res.Seed, c.elapsed(), fmt.Sprintf(format, args...))
	c.event("fail", "suite error: "+c.res.Error, "")
	panic(stop{})
}

// Steps runs scenario steps on the world; a failing step is a suite error.
func (c *Ctx) Steps(text string) string {
	res, err := c.w.Steps(c.ctx, text)
	var out []string
	for _, s := range res.Steps {
		if strings.TrimSpace(s.Output) != "" {
			out = append(out, strings.TrimRight(s.Output, "\n"))
		}
	}
	c.state()
	c.event("steps", strings.TrimSpace(text), strings.Join(out, "\n"))
	if err != nil {
		c.broken("steps %q: %v", firstLine(text), err)
	}
	return strings.Join(out, "\n")
}

// AdvanceTo moves world time to t (never back).
func (c *Ctx) AdvanceTo(t time.Time) {
	if _, err := c.state(); err != nil {
		c.broken("%v", err)
	}
	if d := t.Sub(c.st.Now).Truncate(time.Second); d > 0 {
		c.Steps("advance " + d.String())
	}
}

// GMSA is the state of the gMSA named name ("ITFarm1$").
func (c *Ctx) GMSA(name string) control.GMSAState {
	if _, err := c.state(); err != nil {
		c.broken("%v", err)
	}
	for _, g := range c.st.GMSAs {
		if strings.EqualFold(g.Name, name) {
			return g
		}
	}
	c.broken("the world has no gMSA %s", name)
	return control.GMSAState{}
}

// env is the product's environment for this check (see doc.go).
func (c *Ctx) env() map[string]string {
	st := c.st
	dc := st.DCs[c.LDAPDC]
	order := append([]control.DCState{dc}, append(append([]control.DCState{}, st.DCs[:c.LDAPDC]...), st.DCs[c.LDAPDC+1:]...)...)
	var ldaps, ldapURLs, ldapsURLs []string
	for _, d := range order {
		ldaps = append(ldaps, d.LDAPS)
		ldapURLs = append(ldapURLs, "ldap://"+d.LDAP)
		ldapsURLs = append(ldapsURLs, "ldaps://"+d.LDAPS)
	}
	var ep struct {
		DNS string `json:"dns"`
	}
	if b, err := os.ReadFile(filepath.Join(c.stateDir, "endpoints.json")); err == nil {
		json.Unmarshal(b, &ep)
	}
	env := map[string]string{
		"KRB5_CONFIG":           filepath.Join(c.stateDir, "krb5.conf"),
		"KRB5CCNAME":            "FILE:" + filepath.Join(c.out, "..", "host.ccache"),
		"GMSASIM_CA":            filepath.Join(c.stateDir, "ca.pem"),
		"GMSASIM_HOST":          "WEB1$",
		"GMSASIM_HOST_KEYTAB":   filepath.Join(c.stateDir, "keytabs", "WEB1.keytab"),
		"GMSASIM_HOST_PASSWORD": c.creds["WEB1$"],
		"GMSASIM_ACCOUNT":       c.Account,
		"GMSASIM_DOMAIN":        st.Domain,
		"GMSASIM_REALM":         st.Realm,
		"GMSASIM_DC":            dc.DNSName,
		"GMSASIM_LDAP":          dc.LDAP,
		"GMSASIM_LDAPS":         dc.LDAPS,
		"GMSASIM_LDAP_URLS":     strings.Join(ldapURLs, ","),
		"GMSASIM_LDAPS_URLS":    strings.Join(ldapsURLs, ","),
		"GMSASIM_ENDPOINTS":     filepath.Join(c.stateDir, "endpoints.json"),
		"GMSASIM_DNS":           ep.DNS,
		"GMSASIM_OUT":           c.out,
		"GMSASIM_STATE_DIR":     c.stateDir,
		"GMSASIM_ADAPTER_DIR":   c.a.dir,
	}
	for k, v := range c.extra {
		env[k] = v
	}
	for k, v := range c.a.Env {
		env[k] = expand(v, env)
	}
	return env
}

// Refresh wakes the product up: it runs the adapter's refresh command and returns its run.
func (c *Ctx) Refresh(why string) ProductRun {
	if _, err := c.state(); err != nil {
		c.broken("%v", err)
	}
	r := c.a.run(c.ctx, c.a.Refresh, c.env(), c.secrets)
	c.res.Events = append(c.res.Events, Event{Elapsed: c.elapsed(), Kind: "run", Text: fmt.Sprintf("refresh (%s): exit %d", why, r.Exit), Run: &r})
	return r
}

// Held reads the keys the product holds; errNoKeys when it holds none.
func (c *Ctx) Held() ([]HeldKey, error) {
	keys, r, err := c.a.held(c.ctx, c.env(), c.secrets)
	if r != nil {
		c.res.Events = append(c.res.Events, Event{Elapsed: c.elapsed(), Kind: "run", Text: fmt.Sprintf("keys: exit %d", r.Exit), Run: r})
	}
	return keys, err
}

// MustHeld reads the keys the product holds; holding none fails the check with why.
func (c *Ctx) MustHeld(why string) []HeldKey {
	keys, err := c.Held()
	if err != nil {
		c.Fatal("%s: %v", why, err)
	}
	return keys
}

// Check records something checked that held.
func (c *Ctx) Check(format string, args ...any) { c.event("check", fmt.Sprintf(format, args...), "") }

// MustRefresh refreshes and fails the check when the product reports a failure.
func (c *Ctx) MustRefresh(why string) ProductRun {
	r := c.Refresh(why)
	if r.Exit != 0 {
		c.Fatal("the refresh (%s) exited %d: %s", why, r.Exit, firstLine(r.Stderr))
	}
	return r
}
