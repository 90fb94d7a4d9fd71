package conform

import (
	"fmt"
	"github.com/gmsasim/gmsasim/internal/junit"
	"html/template"
	"io"
	"strings"
	"time"
)

// WriteJUnit writes one testsuite with one testcase per check: a product failure is <failure>
// (every message in its text), a check the suite could not run is <error>.
func WriteJUnit(w io.Writer, adapter string, results []*Result, wall time.Duration) error {
	ts := junit.Suite{Name: "gmsasim conform " + adapter, Time: junit.Seconds(wall)}
	for _, r := range results {
		tc := junit.Case{Name: r.Check, Classname: "conform." + adapter, Time: junit.Seconds(r.Wall), SystemOut: timelineText(r)}
		switch {
		case r.Error != "":
			tc.Error = &junit.Problem{Message: firstLine(r.Error), Type: "suite", Text: r.Error}
		case len(r.Failures) > 0:
			tc.Failure = &junit.Problem{Message: r.Failures[0], Type: "product", Text: strings.Join(r.Failures, "\n")}
		}
		ts.Cases = append(ts.Cases, tc)
	}
	return junit.Write(w, ts)
}

// timelineText is a check's timeline as plain text.
func timelineText(r *Result) string {
	var b strings.Builder
	for _, e := range r.Events {
		fmt.Fprintf(&b, "%s %-5s %s\n", e.Elapsed, e.Kind, strings.ReplaceAll(e.Text, "\n", " | "))
		if e.Run != nil && e.Run.Exit != 0 && e.Run.Stderr != "" {
			fmt.Fprintf(&b, "%s       stderr: %s\n", e.Elapsed, firstLine(e.Run.Stderr))
		}
	}
	return b.String()
}

// WriteHTML writes the report: a summary table, then each check's timeline — the steps sent to
// the world with their output, each run of the product (command, exit code, output), and what was
// checked.
func WriteHTML(w io.Writer, adapter string, results []*Result) error {
	passed := 0
	for _, r := range results {
		if r.Passed() {
			passed++
		}
	}
	return reportTmpl.Execute(w, map[string]any{"Adapter": adapter, "Results": results, "Passed": passed, "Total": len(results)})
}

var reportTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"join": strings.Join,
}).Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>gmsasim conform: {{.Adapter}}</title>
<style>
body{font-family:sans-serif;margin:2em;max-width:80em}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
.pass{color:#170}.fail{color:#b00}.error{color:#a60}
pre{background:#f6f6f6;padding:.4em;margin:.2em 0;white-space:pre-wrap}
.k-steps{color:#345}.k-run{color:#505}.k-check{color:#170}.k-fail{color:#b00;font-weight:bold}
</style></head><body>
<h1>gmsasim conform: {{.Adapter}}</h1>
<p>{{.Passed}} of {{.Total}} checks passed. Each check ran in its own fresh world; times are world time since that world started.</p>
<table><tr><th>check</th><th>result</th><th>what it checks</th></tr>
{{range .Results}}<tr><td><a href="#{{.Check}}">{{.Check}}</a></td>
<td>{{if .Error}}<span class="error">error</span>{{else if .Failures}}<span class="fail">FAIL</span>{{else}}<span class="pass">pass</span>{{end}}</td>
<td>{{.Title}}</td></tr>
{{end}}</table>
{{range .Results}}<h2 id="{{.Check}}">{{.Check}} — {{if .Error}}<span class="error">error</span>{{else if .Failures}}<span class="fail">FAIL</span>{{else}}<span class="pass">pass</span>{{end}}</h2>
<p>{{.Title}} (seed {{.Seed}}, {{.Wall}})</p>
{{if .Error}}<pre class="error">{{.Error}}</pre>{{end}}
{{range .Failures}}<pre class="fail">{{.}}</pre>{{end}}
<table><tr><th>world time</th><th>what</th><th>detail</th></tr>
{{range .Events}}<tr><td>{{.Elapsed}}</td><td class="k-{{.Kind}}">{{.Kind}}</td><td>
{{if .Run}}<b>{{.Text}}</b><pre>$ {{join .Run.Args " "}}</pre>{{if .Run.Stdout}}<pre>{{.Run.Stdout}}</pre>{{end}}{{if .Run.Stderr}}<pre class="fail">{{.Run.Stderr}}</pre>{{end}}
{{else}}<pre>{{.Text}}</pre>{{if .Detail}}<pre>{{.Detail}}</pre>{{end}}{{end}}
</td></tr>
{{end}}</table>
{{end}}
</body></html>
`))
