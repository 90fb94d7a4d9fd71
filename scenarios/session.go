package scenarios

import (
	"fmt"
	"strings"
	"sync"

	"github.com/gmsasim/gmsasim/scenarios/ps"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/gmsasim/gmsasim/sim/host"
)

// A Session is a scenario's world kept open after its file has run, so that more steps — the
// same directives and PowerShell lines, with the same output — run against it later: `gmsasim
// serve --world FILE.scn` serves a session's world, and its control API runs the steps a CI job
// sends (`POST /steps`). A Session is safe for concurrent use; its steps run one at a time.
type Session struct {
	mu     sync.Mutex
	r      *runner
	closed bool
	untee  func() // Attach's: stop copying the world's trace
}

// SessionTraceLines is how many trace lines a session keeps for its steps' output (the world's
// trace writer gets them all): a long-running server's memory stays bounded.
const SessionTraceLines = 1 << 16

// Open runs sc as Run does — its world block, then every step, comparing outputs — and keeps the
// world. The error is the run's *Failure when a step's output differs or a step fails (the
// session is then closed), or a *PendingFeatureError's failure for a pending file, which Open
// refuses. opt.Configure may change the world's configuration before it is built (serve makes
// it realtime); opt.Rewrite and metamorphic variants do not apply.
func Open(sc *Scenario, opt Options) (*Session, error) {
	if sc.Pending() && !opt.IncludePending {
		return nil, fmt.Errorf("%s: labelled pending: it needs a part of the simulator that is still being built", sc.Path)
	}
	opt.Rewrite = false
	r := newRunner(sc, opt)
	r.trace.max = SessionTraceLines
	res := &Result{Scenario: sc}
	if f := r.run(res, map[int]string{}); f != nil {
		r.closeMIM()
		r.closeWire()
		return nil, f
	}
	return &Session{r: r}, nil
}

// Attach opens a session over a world built in Go (sim.New, sim.NewDefaultDomain, ...) and its
// member hosts (nil: a new fleet, with no host). Steps then run against it exactly as against a
// scenario's world: this is how Go tests run PowerShell lines on a world they hold, and how
// `gmsasim serve` runs the control API's steps on its default domain. The session sees the
// world's trace from now on (World.TeeTrace); Close stops that.
func Attach(w *sim.World, fleet *host.Fleet, opt Options) (*Session, error) {
	if w == nil {
		return nil, fmt.Errorf("scenarios: Attach: no world")
	}
	if fleet == nil {
		fleet = host.NewFleet(w)
	}
	sc := &Scenario{Path: "attached", Header: []string{"a world built in Go"}, Steps: []*Step{{Line: 1, Cmd: "world"}}}
	r := newRunner(sc, opt)
	r.trace.max = SessionTraceLines
	r.trace.fwd = nil // the world has its own writer, if any
	r.w, r.hosts = w, fleet
	r.kdsRand = w.Rand("scenario/kds")
	r.sess = &session{r: r, ps: ps.NewSession()}
	return &Session{r: r, untee: w.TeeTrace(r.trace)}, nil
}

// RunOn runs step text (see Session.Steps) on a world a Go test holds and its member hosts (nil:
// none), with the output each step prints in a .scn file: Attach, Steps, Close. The PowerShell
// session's variables live as long as the call; keep a Session (Attach) to run more text later
// with the same variables.
func RunOn(w *sim.World, hosts *host.Fleet, text string) ([]StepResult, error) {
	s, err := Attach(w, hosts, Options{Keys: w.Keys()})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Steps("steps", text)
}

// World is the session's world.
func (s *Session) World() *sim.World { return s.r.w }

// Hosts are the session's member hosts.
func (s *Session) Hosts() *host.Fleet { return s.r.hosts }

// Seed is the seed the world was built from.
func (s *Session) Seed() uint64 { return s.r.seed() }

// Credentials are the passwords of the world's accounts a client may log on with: Administrator,
// every DC's computer account, the users the world block declared (the scenario language's fixed
// password for each) and every member host's computer account (its machine password) — what
// `gmsasim serve --world` writes to credentials.json. Accounts a step created later with a
// password of its own are not listed.
func (s *Session) Credentials() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.r
	out := map[string]string{"Administrator": r.w.Config().AdminPassword}
	for _, d := range r.w.DCs() {
		out[d.SAMAccountName()] = d.MachinePassword()
	}
	if r.ws != nil {
		for _, o := range r.ws.objects {
			if o.kind == "user" {
				out[o.name] = userPassword(o.name)
			}
		}
	}
	for _, h := range r.hosts.Hosts() {
		out[h.SAMAccountName()] = h.MachinePassword()
	}
	return out
}

// StepResult is one step a session ran: its directive line (as numbered in the text given to
// Steps), the directive, its output as a .scn file shows it, and — when the text carried an
// expected output block — whether the output matches it.
type StepResult struct {
	Line        int
	Step        string
	Input       []string
	Output      string
	Expected    string
	HasExpected bool
	Match       bool
}

// Steps runs step text — directives, each with its input lines and, optionally, a "----" line
// and an expected output block, as in a .scn file after its world block — against the session's
// world, one step after another. A step with no "----" is run without an expectation (the
// blank line after its input ends it). It returns the steps run; a step that fails stops the
// run with a *Failure (the steps before it stay applied), text that does not parse returns a
// *ParseError and runs nothing. An output that differs from an expected block is not an error:
// the step's Match says so, and the steps after it run.
func (s *Session) Steps(path, text string) ([]StepResult, error) {
	steps, expect, err := ParseSteps(path, text)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("scenarios: the session is closed")
	}
	var out []StepResult
	for i, st := range steps {
		o, f := s.r.execExpect(st)
		if f != nil {
			f.Path, f.Line = path, st.Line
			return out, f
		}
		got := normaliseOutput(o.out)
		sr := StepResult{Line: st.Line, Step: st.String(), Input: st.Input, Output: got, HasExpected: expect[i]}
		if sr.HasExpected {
			sr.Expected = st.Expected
			sr.Match, _ = o.matches(st.Expected)
		}
		out = append(out, sr)
	}
	return out, nil
}

// Close stops what the session's steps started (wire probes' LDAP servers, a migration's hosts).
// The world itself has no goroutine to stop.
func (s *Session) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		s.r.closeMIM()
		s.r.closeWire()
		if s.untee != nil {
			s.untee()
		}
	}
}

// FormatSteps prints step results as a .scn file's steps: each directive, its input, "----" and
// its output, a blank line between steps. It is the transcript a user pastes into a scenario
// file to replay what the steps did.
func FormatSteps(res []StepResult) string {
	var b strings.Builder
	for i, sr := range res {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(sr.Step + "\n")
		for _, in := range sr.Input {
			b.WriteString(in + "\n")
		}
		b.WriteString(formatBlock(sr.Output))
	}
	return b.String()
}

// sep is the transcript's separator between a directive's input and its output.
const sep = "----"

// stepsPreamble is what ParseSteps puts before step text so that the scenario parser reads it:
// a header and an empty world block, 4 lines.
const stepsPreamble = "# steps\nworld\n----\n\n"

// ParseSteps parses step text (see Session.Steps). It returns the steps, numbered by their line
// in text, and for each whether it carried an expected output block.
func ParseSteps(path, text string) ([]*Step, []bool, error) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	// Close every paragraph that has no "----" with one, remembering which: those steps carry no
	// expectation. A doubled "----" opens an output block that may hold blank lines; inside it
	// nothing is touched.
	var (
		fixed  []string
		expect []bool
		orig   []int // fixed line index → line in text (1-based); 0 for an inserted separator
	)
	inDoubled := false
	for i := 0; i < len(lines); {
		if strings.TrimSpace(lines[i]) == "" {
			fixed, orig = append(fixed, lines[i]), append(orig, i+1)
			i++
			continue
		}
		j := i
		hasSep := false
		wasDoubled := inDoubled // the paragraph continues an output block: its "#" lines are output
		for ; j < len(lines) && (inDoubled || strings.TrimSpace(lines[j]) != ""); j++ {
			if lines[j] == sep {
				hasSep = true
				if j+1 < len(lines) && lines[j+1] == sep {
					inDoubled = !inDoubled
					fixed, orig = append(fixed, lines[j]), append(orig, j+1)
					j++
				}
			}
			fixed, orig = append(fixed, lines[j]), append(orig, j+1)
		}
		// Comment lines opening a paragraph are not part of a step; a paragraph of comments only
		// is none.
		start := len(fixed) - (j - i)
		first := i
		for !wasDoubled && first < j && strings.HasPrefix(lines[first], "#") {
			fixed[start+first-i] = ""
			first++
		}
		if first < j && !inDoubled && directiveName(lines[first]) == "world" {
			return nil, nil, &ParseError{Path: path, Line: first + 1, Msg: "a world block builds a world; steps run against the one already built (serve --world FILE.scn builds it)"}
		}
		if first < j {
			if !hasSep {
				fixed, orig = append(fixed, sep), append(orig, 0)
			}
			expect = append(expect, hasSep)
		}
		i = j
	}
	sc, err := Parse(path, stepsPreamble+strings.Join(fixed, "\n")+"\n")
	pre := strings.Count(stepsPreamble, "\n")
	lineOf := func(l int) int { // a line of the parsed text → a line of text
		if k := l - pre - 1; k >= 0 && k < len(orig) {
			if orig[k] > 0 {
				return orig[k]
			}
			if k > 0 {
				return orig[k-1]
			}
		}
		return max(l-pre, 1)
	}
	if err != nil {
		if pe, ok := err.(*ParseError); ok {
			return nil, nil, &ParseError{Path: path, Line: lineOf(pe.Line), Msg: pe.Msg}
		}
		return nil, nil, err
	}
	steps := sc.Steps[1:]
	if len(steps) != len(expect) {
		return nil, nil, &ParseError{Path: path, Line: 1, Msg: fmt.Sprintf("expected %d steps, parsed %d", len(expect), len(steps))}
	}
	for _, st := range steps {
		st.Line = lineOf(st.Line)
	}
	return steps, expect, nil
}
