package loadkit

import (
	"testing"
	"time"
)

func TestResultLine(t *testing.T) {
	r := Result{Server: "gmsasim", Op: "base", Conc: 8, Ops: 5000, Secs: 2, Errors: 0}
	if got, want := r.Line(), "server=gmsasim op=base conc=8 ops=5000 secs=2.000 ops_per_sec=2500.0 errors=0"; got != want {
		t.Errorf("Line = %q, want %q", got, want)
	}
	l := Result{Server: "slapd", Op: "load", Conc: 4, Ops: 90, Exists: 10, Secs: 0.5, Errors: 1}
	if got, want := l.Line(), "server=slapd op=load conc=4 ops=90 secs=0.500 ops_per_sec=180.0 errors=1 exists=10"; got != want {
		t.Errorf("Line = %q, want %q", got, want)
	}
	kv, err := ParseLine(l.Line())
	if err != nil {
		t.Fatalf("ParseLine = %v", err)
	}
	if kv["server"] != "slapd" || kv["ops_per_sec"] != "180.0" || kv["exists"] != "10" {
		t.Errorf("ParseLine = %v", kv)
	}
	c := Result{Server: "krb5kdc", Op: "tgs", Conc: 8, Ops: 4000, Secs: 2, Errors: 3, ServerCPU: 1.5, HasCPU: true}
	want := "server=krb5kdc op=tgs conc=8 ops=4000 secs=2.000 ops_per_sec=2000.0 errors=3 server_cpu_secs=1.50 cpu_us_per_op=375.0"
	if got := c.Line(); got != want {
		t.Errorf("Line = %q, want %q", got, want)
	}
	if kv, err := ParseLine(c.Line()); err != nil || kv["errors"] != "3" || kv["cpu_us_per_op"] != "375.0" {
		t.Errorf("ParseLine = %v, %v", kv, err)
	}
	if (Result{Ops: 10}).OpsPerSec() != 0 || (Result{Secs: 1}).CPUPerOp() != 0 {
		t.Errorf("OpsPerSec with zero secs or CPUPerOp with zero ops is not 0")
	}
}

func TestParseLineRejects(t *testing.T) {
	for _, line := range []string{
		"",
		"server=x op=base conc=8 ops=1 secs=1 errors=0",
		"server=x op=base conc=8 ops=1 secs=1 ops_per_sec=1",
		"server=x op=base conc=8 ops=1 secs=1 ops_per_sec=fast errors=0",
		"server=x op=base conc=8 ops=1 secs=1 ops_per_sec=1 errors=0 junk",
	} {
		if kv, err := ParseLine(line); err == nil {
			t.Errorf("ParseLine(%q) = %v, want an error", line, kv)
		}
	}
}

func TestTallyAndBudget(t *testing.T) {
	var tl Tally
	tl.OK.Add(2)
	tl.Fail(errFirst)
	tl.Fail(errSecond)
	if tl.Failed.Load() != 2 || tl.First() != errFirst {
		t.Errorf("tally: failed %d first %v", tl.Failed.Load(), tl.First())
	}
	b := Budget{Max: 2, Deadline: farFuture}
	if !b.Take() || !b.Take() || b.Take() {
		t.Error("a budget of 2 should hand out exactly 2 operations")
	}
	if past := (&Budget{Deadline: farPast}); past.Take() {
		t.Error("a budget past its deadline should hand out nothing")
	}
}

var (
	errFirst  = errorString("first")
	errSecond = errorString("second")
	farFuture = time.Now().Add(time.Hour)
	farPast   = time.Now().Add(-time.Hour)
)

type errorString string

func (e errorString) Error() string { return string(e) }
