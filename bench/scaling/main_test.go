//go:build unix

package main

import (
	"io"
	"slices"
	"testing"
	"time"
)

func TestParseOptions(t *testing.T) {
	t.Setenv("BENCH_SCALE_USERS", "100000,1000,10000")
	t.Setenv("BENCH_DURATION", "2s")
	o, err := parseOptions([]string{"-max", "10000", "-gmsas", "10,100,1000", "-sweeps", "repl,farm"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.users, []int{1000, 10000}) || !slices.Equal(o.gmsas, []int{10, 100, 1000}) || !slices.Equal(o.dcs, []int{2, 5, 10, 20}) {
		t.Errorf("sizes users=%v gmsas=%v dcs=%v, want the environment's users sorted and cut at -max", o.users, o.gmsas, o.dcs)
	}
	if o.duration != 2*time.Second || o.rounds != 3 || o.conc != 8 || !slices.Equal(o.sweeps, []string{"repl", "farm"}) || o.out != "out/bench" {
		t.Errorf("options %+v", o)
	}
	for _, bad := range [][]string{{"-users", "1k"}, {"-sweeps", "ldap,kdc"}, {"-dcs", "1"}, {"-duration", "soon"}, {"extra"}, {"-rounds", "0"}} {
		if _, err := parseOptions(bad, io.Discard); err == nil {
			t.Errorf("parseOptions(%q) = nil error", bad)
		}
	}
}

func TestParseVmRSS(t *testing.T) {
	got, err := parseVmRSS("Name:\tslapd\nVmPeak:\t  100 kB\nVmRSS:\t   70264 kB\nRssAnon:\t 1 kB\n")
	if err != nil || got != 70264*1024 {
		t.Errorf("parseVmRSS = %d, %v; want %d", got, err, 70264*1024)
	}
	for _, bad := range []string{"Name: x\n", "VmRSS: 12 MB\n", "VmRSS: x kB\n"} {
		if _, err := parseVmRSS(bad); err == nil {
			t.Errorf("parseVmRSS(%q) = nil error", bad)
		}
	}
}

func TestMedian(t *testing.T) {
	runs := []map[string]string{{"x": "3"}, {"x": "1"}, {"x": "2"}, {"y": "9"}}
	if m := median(runs, "x"); m != 2 {
		t.Errorf("median of 3 1 2 = %v", m)
	}
	if m := median(runs[:2], "x"); m != 2 {
		t.Errorf("median of 3 1 = %v, want 2", m)
	}
	if m := median(runs, "z"); m != 0 {
		t.Errorf("median of nothing = %v", m)
	}
}
