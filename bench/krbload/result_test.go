package main

import "testing"

func TestResultLine(t *testing.T) {
	r := Result{Server: "gmsasim", Op: "as", Conc: 8, Ops: 5000, Secs: 2, Errors: 0}
	if got, want := r.Line(), "server=gmsasim op=as conc=8 ops=5000 secs=2.000 ops_per_sec=2500.0 errors=0"; got != want {
		t.Errorf("Line = %q, want %q", got, want)
	}
	c := Result{Server: "krb5kdc", Op: "tgs", Conc: 8, Ops: 4000, Secs: 2, Errors: 3, ServerCPU: 1.5, HasCPU: true}
	want := "server=krb5kdc op=tgs conc=8 ops=4000 secs=2.000 ops_per_sec=2000.0 errors=3 server_cpu_secs=1.50 cpu_us_per_op=375.0"
	if got := c.Line(); got != want {
		t.Errorf("Line = %q, want %q", got, want)
	}
	kv, err := ParseLine(c.Line())
	if err != nil {
		t.Fatalf("ParseLine = %v", err)
	}
	if kv["server"] != "krb5kdc" || kv["ops_per_sec"] != "2000.0" || kv["errors"] != "3" || kv["cpu_us_per_op"] != "375.0" {
		t.Errorf("ParseLine = %v", kv)
	}
	if (Result{Ops: 10}).OpsPerSec() != 0 || (Result{Secs: 1}).CPUPerOp() != 0 {
		t.Errorf("OpsPerSec with zero secs or CPUPerOp with zero ops is not 0")
	}
}

func TestParseLineRejects(t *testing.T) {
	for _, line := range []string{
		"",
		"server=x op=as conc=8 ops=1 secs=1 errors=0",
		"server=x op=as conc=8 ops=1 secs=1 ops_per_sec=fast errors=0",
		"server=x op=as conc=8 ops=1 secs=1 ops_per_sec=1 errors=0 junk",
	} {
		if kv, err := ParseLine(line); err == nil {
			t.Errorf("ParseLine(%q) = %v, want an error", line, kv)
		}
	}
}
