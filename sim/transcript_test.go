package sim

import (
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead"

	"github.com/gmsasim/gmsasim/internal/transcript"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata/*.txt transcripts (review the diff!)")

// TestTranscripts runs testdata/*.txt: each block is a command, "----", and the output it must
// give (the trace lines it caused, then what a read printed). Run with -rewrite to regenerate.
//
// Commands:
//
//	world seed=N dcs=DC1,DC2 [delay=1h] [links=DC1-DC2:1h,DC2-DC3:2h]
//	add dc=DC1 cn=alice                      a user in CN=Users, added as the directory itself
//	set dc=DC1 cn=alice attr=description val=x
//	read dc=DC2 cn=alice attr=description
//	advance 59m | cut DC1 DC2 | heal DC1 DC2 | stop DC2 | start DC2 | settle | replicate-now | converged
func TestTranscripts(t *testing.T) {
	transcript.RunFiles(t, "testdata/*.txt", *rewrite, func(t *testing.T) func(string) string {
		var w *World
		return func(cmd string) string { return runCommand(t, &w, cmd) }
	})
}

func runCommand(t *testing.T, wp **World, cmd string) string {
	fields := strings.Fields(cmd)
	args := map[string]string{}
	var pos []string
	for _, f := range fields[1:] {
		if k, v, ok := strings.Cut(f, "="); ok {
			args[k] = v
		} else {
			pos = append(pos, f)
		}
	}
	w := *wp
	if w == nil && fields[0] != "world" {
		t.Fatalf("%q before any world command", cmd)
	}
	before := 0
	if w != nil {
		before = len(w.Trace())
	}
	var printed []string
	var err error
	dn := "CN=" + args["cn"] + "," + usersDN
	switch fields[0] {
	case "world":
		cfg := Config{}
		fmt.Sscan(args["seed"], &cfg.Seed)
		for _, n := range strings.Split(args["dcs"], ",") {
			cfg.DCs = append(cfg.DCs, DCSpec{Name: n})
		}
		if d, ok := args["delay"]; ok {
			cfg.LinkDelay, err = time.ParseDuration(d)
		}
		if ls, ok := args["links"]; ok {
			cfg.Links = []LinkSpec{}
			for _, l := range strings.Split(ls, ",") {
				pair, d, _ := strings.Cut(l, ":")
				a, b, _ := strings.Cut(pair, "-")
				delay, _ := time.ParseDuration(d)
				cfg.Links = append(cfg.Links, LinkSpec{A: a, B: b, Delay: delay})
			}
		}
		if err == nil {
			*wp, err = New(cfg)
		}
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		w = *wp
	case "add":
		err = w.Backend(args["dc"]).Add(fakead.SystemCaller, dn, []fakead.Attribute{
			{Name: "objectClass", Values: [][]byte{[]byte("user")}},
			{Name: "sAMAccountName", Values: [][]byte{[]byte(args["cn"])}}})
	case "set":
		err = w.Backend(args["dc"]).Modify(fakead.SystemCaller, dn, []fakead.Modification{
			{Op: fakead.ModReplace, Attr: fakead.Attribute{Name: args["attr"], Values: [][]byte{[]byte(args["val"])}}}})
	case "read":
		v, ok := readAttr(t, w, args["dc"], dn, args["attr"])
		if !ok {
			printed = append(printed, fmt.Sprintf("%s: %s: no such object", args["dc"], dn))
		} else {
			printed = append(printed, fmt.Sprintf("%s: %s: %s=%q", args["dc"], dn, args["attr"], v))
		}
	case "advance":
		var d time.Duration
		if d, err = time.ParseDuration(pos[0]); err == nil {
			err = w.Advance(d)
		}
	case "cut":
		err = w.CutLink(pos[0], pos[1])
	case "heal":
		err = w.HealLink(pos[0], pos[1])
	case "stop":
		err = w.StopDC(pos[0])
	case "start":
		err = w.StartDC(pos[0])
	case "settle":
		err = w.Settle()
	case "replicate-now":
		err = w.ReplicateNow()
	case "converged":
		if err = w.CheckConverged(); err == nil {
			printed = append(printed, "converged")
		}
	default:
		t.Fatalf("unknown command %q", cmd)
	}
	var b strings.Builder
	if w != nil {
		for _, l := range w.Trace()[before:] {
			b.WriteString(l + "\n")
		}
	}
	for _, p := range printed {
		b.WriteString(p + "\n")
	}
	if err != nil {
		first, _, _ := strings.Cut(err.Error(), "\n")
		b.WriteString("error: " + first + "\n")
	}
	return b.String()
}
