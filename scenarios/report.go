package scenarios

import (
	"fmt"
	"github.com/gmsasim/gmsasim/internal/junit"
	"html"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode"
)

// LabelFilter is a compiled label expression ("kds && !slow", "(a || b) && !pending"), the
// syntax of Ginkgo's --label-filter.
type LabelFilter struct{ eval func(labels []string) bool }

// Match reports whether a scenario's labels satisfy the filter.
func (f *LabelFilter) Match(s *Scenario) bool { return f == nil || f.eval(s.Labels) }

// ParseLabelFilter compiles a label expression.
func ParseLabelFilter(expr string) (*LabelFilter, error) {
	p := &lfParser{s: expr}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.s) {
		return nil, fmt.Errorf("label filter %q: unexpected %q at column %d", expr, p.s[p.i:], p.i+1)
	}
	return &LabelFilter{eval: e}, nil
}

type lfParser struct {
	s string
	i int
}

func (p *lfParser) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *lfParser) eat(tok string) bool {
	p.space()
	if strings.HasPrefix(p.s[p.i:], tok) {
		p.i += len(tok)
		return true
	}
	return false
}

func (p *lfParser) or() (func([]string) bool, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.eat("||") || p.eat(",") {
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		a, b := l, r
		l = func(x []string) bool { return a(x) || b(x) }
	}
	return l, nil
}

func (p *lfParser) and() (func([]string) bool, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.eat("&&") {
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		a, b := l, r
		l = func(x []string) bool { return a(x) && b(x) }
	}
	return l, nil
}

func (p *lfParser) not() (func([]string) bool, error) {
	if p.eat("!") {
		e, err := p.not()
		if err != nil {
			return nil, err
		}
		return func(x []string) bool { return !e(x) }, nil
	}
	if p.eat("(") {
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.eat(")") {
			return nil, fmt.Errorf("label filter %q: expected ')' at column %d", p.s, p.i+1)
		}
		return e, nil
	}
	p.space()
	start := p.i
	for p.i < len(p.s) && (unicode.IsLetter(rune(p.s[p.i])) || unicode.IsDigit(rune(p.s[p.i])) || strings.ContainsRune("-_.:/", rune(p.s[p.i]))) {
		p.i++
	}
	if start == p.i {
		return nil, fmt.Errorf("label filter %q: expected a label at column %d", p.s, p.i+1)
	}
	label := strings.ToLower(p.s[start:p.i])
	return func(x []string) bool {
		for _, l := range x {
			if l == label {
				return true
			}
		}
		return false
	}, nil
}

// WriteJUnit writes JUnit XML: one testsuite, one testcase per scenario (skipped ones marked), per
// world for a file with a worlds block (file.scn[schema=47]).
func WriteJUnit(w io.Writer, results []*Result, wall time.Duration) error {
	ts := junit.Suite{Name: "gmsasim scenarios", Time: junit.Seconds(wall)}
	for _, r := range results {
		// Classname from the file's directory (scenarios/library/x.scn → scenarios.library), as CI
		// dashboards group test cases by class; file and line point at the file and, on a failure,
		// the step that failed.
		tc := junit.Case{Name: r.Name(), Classname: junitClass(r.Scenario.Path), Time: junit.Seconds(r.Wall), File: r.Scenario.Path}
		switch {
		case r.Malformed != nil:
			tc.Error = &junit.Problem{Message: r.Scenario.Path + ": malformed scenario file", Type: "malformed", Text: r.Malformed.Error()}
		case r.Skipped:
			tc.Skipped = &junit.Skipped{Message: r.SkipReason}
		case r.Failure != nil:
			msg := r.Failure.Msg
			if msg == "" {
				msg = "output differs"
			}
			tc.Failure = &junit.Problem{Message: r.Failure.Location() + ": " + firstLine(msg), Type: "scenario", Text: r.Failure.Error()}
			tc.Line = r.Failure.Line
		default:
			tc.SystemOut = fmt.Sprintf("seed=%d simulated=%s steps=%d", r.Seed, fmtDuration(r.SimElapsed), r.Steps)
		}
		ts.Cases = append(ts.Cases, tc)
	}
	return junit.Write(w, ts)
}

// junitClass is a scenario's JUnit classname: its directory, dotted ("scenarios.library").
func junitClass(path string) string {
	dir := filepath.ToSlash(filepath.Dir(filepath.Clean(path)))
	dir = strings.Trim(strings.TrimLeft(dir, "./"), "/")
	if dir == "" {
		return "scenarios"
	}
	return strings.ReplaceAll(dir, "/", ".")
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// WriteReport writes the HTML report: a summary table and, per scenario, an SVG timeline of
// simulated time with one lane per DC (root keys created, visible, eligible; replication
// deliveries; link and DC faults; failures).
func WriteReport(w io.Writer, results []*Result, summary string) error {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>gmsasim run report</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#1b1f24;background:#fafafa}
h1{font-size:22px} h2{font-size:16px;margin:28px 0 4px} p.desc{margin:2px 0 8px;color:#444;font-size:13px}
table{border-collapse:collapse;font-size:13px} td,th{border:1px solid #ccd;padding:3px 8px;text-align:left}
.pass{color:#17702a;font-weight:600}.fail{color:#b3261e;font-weight:600}.skip{color:#8a6d00}
pre{background:#fff3f2;border:1px solid #e6b8b4;padding:8px;font-size:12px;overflow:auto}
svg{background:#fff;border:1px solid #dde;margin:4px 0} .legend span{display:inline-block;margin-right:14px;font-size:12px}
.sw{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
</style></head><body>
<h1>gmsasim run report</h1>
`)
	fmt.Fprintf(&b, "<p>%s</p>\n", html.EscapeString(summary))
	b.WriteString(`<div class="legend">`)
	for _, k := range legendKinds() {
		fmt.Fprintf(&b, `<span><i class="sw" style="background:%s"></i>%s</span>`, kindColor(k), html.EscapeString(kindLabel(k)))
	}
	b.WriteString("</div>\n<table><tr><th>scenario</th><th>result</th><th>seed</th><th>simulated</th><th>labels</th></tr>\n")
	for i, r := range results {
		status, cls := "pass", "pass"
		switch {
		case r.Malformed != nil:
			status, cls = "MALFORMED", "fail"
		case r.Skipped:
			status, cls = "skipped", "skip"
		case r.Failure != nil:
			status, cls = "FAIL", "fail"
		}
		fmt.Fprintf(&b, `<tr><td><a href="#s%d">%s</a></td><td class="%s">%s</td><td>%d</td><td>%s</td><td>%s</td></tr>`+"\n",
			i, html.EscapeString(r.Name()), cls, status, r.Seed, fmtDuration(r.SimElapsed), html.EscapeString(strings.Join(r.Scenario.Labels, ", ")))
	}
	b.WriteString("</table>\n")
	for i, r := range results {
		fmt.Fprintf(&b, `<h2 id="s%d">%s</h2><p class="desc">%s</p>`+"\n", i, html.EscapeString(r.Name()), html.EscapeString(strings.Join(r.Scenario.Header, " ")))
		if r.Malformed != nil {
			fmt.Fprintf(&b, "<pre>%s</pre>\n", html.EscapeString(r.Malformed.Error()))
			continue
		}
		if r.Skipped {
			fmt.Fprintf(&b, "<p class=\"skip\">skipped: %s</p>\n", html.EscapeString(r.SkipReason))
			continue
		}
		b.WriteString(timelineSVG(r))
		if r.Failure != nil {
			fmt.Fprintf(&b, "<pre>%s</pre>\n", html.EscapeString(r.Failure.Error()))
		}
	}
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// legendKinds are the timeline's event kinds, in the legend's order.
func legendKinds() []string {
	return []string{"step", "rootkey-created", "rootkey-visible", "rootkey-eligible", "replication", "rotation", "retrieval", "ticket", "link", "dc", "failure"}
}

// kindColor is an event kind's colour on the timeline ("" for a kind the legend does not list).
func kindColor(kind string) string {
	switch kind {
	case "rootkey-created":
		return "#6a1b9a"
	case "rootkey-visible":
		return "#1565c0"
	case "rootkey-eligible":
		return "#2e7d32"
	case "replication":
		return "#90a4ae"
	case "step":
		return "#b0b8c8"
	case "retrieval":
		return "#00897b"
	case "ticket":
		return "#f9a825"
	case "rotation":
		return "#ef6c00"
	case "link":
		return "#795548"
	case "dc":
		return "#455a64"
	case "failure":
		return "#c62828"
	}
	return ""
}

// kindLabel is an event kind's legend text.
func kindLabel(kind string) string {
	switch kind {
	case "rootkey-created":
		return "root key created"
	case "rootkey-visible":
		return "root key visible on DC"
	case "rootkey-eligible":
		return "root key eligible (new gMSAs)"
	case "replication":
		return "replication delivery"
	case "step":
		return "scenario step"
	case "retrieval":
		return "host retrieves/caches the password"
	case "ticket":
		return "host decrypts a ticket"
	case "rotation":
		return "password rotation"
	case "link":
		return "link cut/heal"
	case "dc":
		return "DC stop/start, host reboot/klist"
	case "failure":
		return "failure"
	}
	return ""
}

func timelineSVG(r *Result) string {
	events := append(append([]TimelineEvent(nil), r.Timeline...), traceEvents(r.Trace)...)
	sort.SliceStable(events, func(i, j int) bool { return events[i].At < events[j].At })
	end := r.SimElapsed
	for _, e := range events {
		if e.At > end {
			end = e.At
		}
	}
	if end <= 0 {
		end = time.Hour
	}
	lanes := append(append([]string{"scenario"}, r.DCs...), r.Hosts...)
	const left, width, laneH, top = 90, 900, 34, 26
	height := top + laneH*len(lanes) + 30
	x := func(d time.Duration) float64 { return left + float64(width)*float64(d)/float64(end) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`, left+width+30, height)
	laneY := map[string]int{}
	for i, l := range lanes {
		y := top + i*laneH
		laneY[l] = y
		fmt.Fprintf(&b, `<text x="6" y="%d">%s</text><line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#dde"/>`, y+4, html.EscapeString(l), left, y, left+width, y)
	}
	step := end / 10
	for _, s := range []time.Duration{time.Minute, 5 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour,
		2 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 48 * time.Hour, 5 * 24 * time.Hour, 10 * 24 * time.Hour, 30 * 24 * time.Hour} {
		if end/s <= 12 {
			step = s
			break
		}
	}
	for d := time.Duration(0); d <= end && step > 0; d += step {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#f0f0f4"/><text x="%.1f" y="%d" text-anchor="middle" fill="#667">+%s</text>`,
			x(d), top-12, x(d), height-22, x(d), height-8, fmtDuration(d.Truncate(time.Minute)))
	}
	for _, e := range events {
		lane := e.Lane
		if _, ok := laneY[lane]; !ok {
			lane = "scenario"
		}
		y := laneY[lane]
		c := kindColor(e.Kind)
		if c == "" {
			c = "#333"
		}
		title := html.EscapeString(fmt.Sprintf("+%s %s: %s", fmtDuration(e.At), lane, e.Text))
		switch e.Kind {
		case "replication":
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="2"><title>%s</title></line>`, x(e.At), y-6, x(e.At), y+6, c, title)
		case "rootkey-created":
			fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="9" height="9" fill="%s" transform="rotate(45 %.1f %d)"><title>%s</title></rect>`, x(e.At)-4.5, y-14, c, x(e.At), y-10, title)
		case "rootkey-visible":
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%d" r="5" fill="%s"><title>%s</title></circle>`, x(e.At), y, c, title)
		case "rootkey-eligible":
			fmt.Fprintf(&b, `<path d="M%.1f %d l6 10 h-12 z" fill="%s"><title>%s</title></path>`, x(e.At), y+4, c, title)
		case "step":
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="1"><title>%s</title></line>`, x(e.At), y-9, x(e.At), y+9, c, title)
		default:
			fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="6" height="12" fill="%s"><title>%s</title></rect>`, x(e.At)-3, y-6, c, title)
		}
	}
	b.WriteString("</svg>\n")
	// The same events as a list, for reading without hovering.
	b.WriteString(`<details><summary>events</summary><table>`)
	for _, e := range events {
		if e.Kind == "step" {
			continue
		}
		fmt.Fprintf(&b, `<tr><td>+%s</td><td>%s</td><td><i class="sw" style="background:%s"></i>%s</td><td>%s</td></tr>`,
			fmtDuration(e.At), html.EscapeString(e.Lane), kindColor(e.Kind), html.EscapeString(kindLabel(e.Kind)), html.EscapeString(e.Text))
	}
	b.WriteString("</table></details>\n")
	return b.String()
}
