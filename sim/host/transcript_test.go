package host

import (
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/internal/transcript"
	"github.com/gmsasim/gmsasim/sim"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata/*.txt transcripts (review the diff!)")

// TestHostTranscripts runs testdata/*.txt, transcripts of member hosts: each block is a
// command, "----", and what it printed after the trace lines it caused. -rewrite regenerates them
// (review the diff).
//
// Commands:
//
//	farm seed=N [dcs=DC1,DC2]          a world with a usable root key, ITFarmHosts and alice
//	host NAME [os=2016] [x86] [cluster] [trigger] [dc=DC1] [group=ITFarmHosts]
//	gmsa [enc=28]                      ITFarm1 for ITFarmHosts, SPN http/ITFarm1.contoso.com
//	member NAME add|remove             ITFarmHosts membership, written on the host's DC
//	on NAME <line>                     a host line: Install-/Test-/Uninstall-ADServiceAccount X,
//	                                   Start-Service X, Stop-Service X, Get-Service X, sc.exe ...,
//	                                   klist ..., reboot
//	ticket NAME client=alice           alice's service ticket for the farm SPN, remembered as NAME
//	decrypt NAME on=HOST               does HOST decrypt ticket NAME?
//	advance 30d | advance rotation[-1h|+1m]   (rotation: ITFarm1's next rotation on DC1)
//	invariant                          Fleet.CheckCaches
func TestHostTranscripts(t *testing.T) {
	transcript.RunFiles(t, "testdata/*.txt", *rewrite, func(t *testing.T) func(string) string {
		return (&hostRun{t: t, tickets: map[string]*Ticket{}}).run
	})
}

type hostRun struct {
	t       *testing.T
	w       *farmWorld
	alice   *Client
	tickets map[string]*Ticket
}

func (r *hostRun) run(cmd string) string {
	t := r.t
	verb, rest, _ := strings.Cut(cmd, " ")
	args := map[string]string{}
	var pos []string
	for _, f := range strings.Fields(rest) {
		if k, v, ok := strings.Cut(f, "="); ok && verb != "on" {
			args[k] = v
		} else {
			pos = append(pos, f)
		}
	}
	if r.w == nil && verb != "farm" {
		t.Fatalf("%q before farm", cmd)
	}
	before := 0
	if r.w != nil {
		before = len(r.w.Trace())
	}
	var printed string
	var err error
	switch verb {
	case "farm":
		cfg := sim.Config{}
		fmt.Sscan(args["seed"], &cfg.Seed)
		if dcs, ok := args["dcs"]; ok {
			for _, n := range strings.Split(dcs, ",") {
				cfg.DCs = append(cfg.DCs, sim.DCSpec{Name: n})
			}
		}
		r.w = newFarmWorld(t, cfg)
		before = 0
	case "host":
		spec := Spec{Name: pos[0], OS: args["os"], DC: args["dc"]}
		for _, p := range pos[1:] {
			switch p {
			case "x86":
				spec.X86 = true
			case "cluster":
				spec.Cluster = true
			case "trigger":
				spec.KDSSvcTrigger = true
			}
		}
		if g, ok := args["group"]; ok {
			spec.Groups = []string{g}
		}
		_, err = r.w.AddHost(spec)
	case "gmsa":
		enc := args["enc"]
		if enc == "" {
			enc = "28"
		}
		newGMSA(t, r.w, enc)
	case "member":
		setMember(t, r.w, r.host(pos[0]), pos[1] == "add")
	case "on":
		printed, err = r.on(r.host(pos[0]), strings.TrimSpace(strings.TrimPrefix(rest, pos[0])))
	case "ticket":
		if r.alice == nil {
			if r.alice, err = r.w.Logon("DC1", "alice", alicePwd); err != nil {
				break
			}
		}
		var tk *Ticket
		if tk, err = r.alice.ServiceTicket(farmSPN); err == nil {
			r.tickets[pos[0]] = tk
			printed = fmt.Sprintf("%s: kvno %d etype %d until %s", pos[0], tk.KVNO, tk.EType, sim.FormatOffset(tk.EndTime.Sub(r.w.Start())))
		}
	case "decrypt":
		var x *Decrypted
		if x, err = r.host(args["on"]).DecryptTicket(r.tickets[pos[0]]); err == nil {
			printed = "ok: " + x.String()
		}
	case "advance":
		if strings.HasPrefix(pos[0], "rotation") {
			at := nextRotation(t, r.w)
			if off := strings.TrimPrefix(pos[0], "rotation"); off != "" {
				d, perr := time.ParseDuration(off)
				if perr != nil {
					t.Fatal(perr)
				}
				at = at.Add(d)
			}
			err = r.w.AdvanceTo(at)
		} else {
			var d time.Duration
			if d, err = parseHostDuration(pos[0]); err == nil {
				err = r.w.Advance(d)
			}
		}
	case "invariant":
		if err = r.w.CheckHostCaches(); err == nil {
			printed = "host caches hold current or previous passwords"
		}
	default:
		t.Fatalf("unknown command %q", cmd)
	}
	var b strings.Builder
	for _, l := range r.w.Trace()[before:] {
		b.WriteString(l + "\n")
	}
	if printed != "" {
		// A blank line ends a block in the transcript form: show the blank lines tools print.
		for _, l := range strings.Split(printed, "\n") {
			if l == "" {
				l = "<blank>"
			}
			b.WriteString(l + "\n")
		}
	}
	if err != nil {
		first, _, _ := strings.Cut(err.Error(), "\n")
		b.WriteString("error: " + first + "\n")
	}
	return b.String()
}

func (r *hostRun) host(name string) *Host {
	h := r.w.Host(name)
	if h == nil {
		r.t.Fatalf("no host %q", name)
	}
	return h
}

// on runs one host line and returns what it printed.
func (r *hostRun) on(h *Host, line string) (string, error) {
	verb, arg, _ := strings.Cut(line, " ")
	switch strings.ToLower(verb) {
	case "install-adserviceaccount":
		return "", h.InstallADServiceAccount(arg)
	case "uninstall-adserviceaccount":
		return "", h.UninstallADServiceAccount(arg)
	case "test-adserviceaccount":
		res, err := h.TestADServiceAccount(arg)
		if err != nil {
			return "", err
		}
		return res.String(), nil
	case "start-service":
		return h.StartService(arg)
	case "stop-service":
		return "", h.StopService(arg)
	case "get-service":
		return h.GetService(arg)
	case "sc.exe", "sc":
		return h.SC(line), nil
	case "klist":
		return h.Klist(line)
	case "reboot":
		return "", h.Reboot()
	}
	r.t.Fatalf("unknown host line %q", line)
	return "", nil
}

// parseHostDuration reads 30d, 10h, 5m, 1h30m.
func parseHostDuration(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscan(d, &n); err != nil {
			return 0, err
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}
