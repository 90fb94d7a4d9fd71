package main

import (
	"bytes"
	"testing"
)

type bufWriter = bytes.Buffer

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
	c := Result{Server: "slapd", Op: "eq", Conc: 8, Ops: 4000, Secs: 2, ServerCPU: 1.5, HasCPU: true}
	if got, want := c.Line(), "server=slapd op=eq conc=8 ops=4000 secs=2.000 ops_per_sec=2000.0 errors=0 server_cpu_secs=1.50 cpu_us_per_op=375.0"; got != want {
		t.Errorf("Line = %q, want %q", got, want)
	}
	if (Result{Ops: 10}).OpsPerSec() != 0 {
		t.Errorf("OpsPerSec with zero secs is not 0")
	}
}

func TestParseLineRejects(t *testing.T) {
	for _, line := range []string{
		"",
		"server=x op=base conc=8 ops=1 secs=1",
		"server=x op=base conc=8 ops=1 secs=1 ops_per_sec=fast",
		"server=x op=base conc=8 ops=1 secs=1 ops_per_sec=1 junk",
	} {
		if kv, err := ParseLine(line); err == nil {
			t.Errorf("ParseLine(%q) = %v, want an error", line, kv)
		}
	}
}
