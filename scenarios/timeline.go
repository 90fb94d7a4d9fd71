package scenarios

import (
	"fmt"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakekds"
)

// TimelineEvent is one mark on a run's timeline (the report's SVG): At is simulated time since
// the start; Lane is a DC name ("" for the scenario itself).
type TimelineEvent struct {
	At   time.Duration
	Lane string
	Kind string // rootkey-created, rootkey-visible, rootkey-eligible, link, dc, failure
	Text string
}

type timeline struct {
	events []TimelineEvent
	keys   []*trackedKey
}

type trackedKey struct {
	id       string
	dn       string
	useStart time.Time
	visible  map[string]bool
}

func (t *timeline) add(at time.Duration, lane, kind, text string) {
	t.events = append(t.events, TimelineEvent{At: at, Lane: lane, Kind: kind, Text: text})
}

func (t *timeline) rootKey(at time.Duration, dc string, rk *fakekds.RootKey) {
	id := rk.ID.String()
	t.add(at, dc, "rootkey-created", fmt.Sprintf("root key %.8s created, effective %s", id, rk.UseStartTime.Time().Format("2006-01-02 15:04")))
	t.keys = append(t.keys, &trackedKey{id: id, useStart: rk.UseStartTime.Time(), visible: map[string]bool{}})
}

// watching reports whether some root key has not reached every DC yet.
func (t *timeline) watching() bool {
	for _, k := range t.keys {
		if k.visible != nil {
			return true
		}
	}
	return false
}

// eligibleFrom is when a new gMSA may first use a key whose use-start time is useStart: the
// start of the first 10-hour GKDI interval at or after it (fakekds.RuleIntervalStart).
func eligibleFrom(useStart time.Time) time.Time {
	ft := ad.FileTimeFromTime(useStart)
	start := fakekds.GKIDFromFileTime(ft).StartFileTime()
	if start < ft {
		start = fakekds.GKIDFromFileTime(ft + ad.FileTime(10*time.Hour/100)).StartFileTime()
	}
	return start.Time()
}

// trackRootKeys notes, for each key not yet on every DC, the DCs whose replica now holds it.
// Divergence: the report's "visible" mark has the resolution of advanceChunk.
func (r *runner) trackRootKeys() {
	if !r.tl.watching() {
		return
	}
	for _, k := range r.tl.keys {
		if k.visible == nil {
			continue
		}
		all := true
		for _, dc := range r.w.DCs() {
			name := dc.Name()
			if k.visible[name] {
				continue
			}
			found := false
			_ = r.w.ExecOn(name, func(now time.Time, d *fakead.Directory) error {
				dn := "CN=" + k.id + "," + fakekds.RootKeyContainerRDNs + "," + d.DomainDN()
				res, err := d.Search(now, fakead.SystemCaller, &fakead.SearchRequest{BaseDN: dn, Scope: fakead.ScopeBase,
					Filter: fakead.FilterPresent{Attr: "objectClass"}, Attributes: []string{"1.1"}, SDFlags: -1})
				found = err == nil && len(res) == 1
				return nil
			})
			if !found {
				all = false
				continue
			}
			k.visible[name] = true
			at := r.w.Elapsed()
			r.tl.add(at, name, "rootkey-visible", fmt.Sprintf("root key %.8s visible", k.id))
			el := eligibleFrom(k.useStart)
			if now := r.w.Now(); el.Before(now) {
				el = now
			}
			r.tl.add(el.Sub(r.w.Start()), name, "rootkey-eligible", fmt.Sprintf("root key %.8s eligible for new gMSAs", k.id))
		}
		if all {
			k.visible = nil
		}
	}
}

// traceEvents turns replication and fault lines of a trace into timeline events.
func traceEvents(trace []string) []TimelineEvent {
	var out []TimelineEvent
	for _, l := range trace {
		off, msg, ok := strings.Cut(l, " ")
		if !ok {
			continue
		}
		at, err := parseOffset(off)
		if err != nil {
			continue
		}
		f := strings.Fields(msg)
		switch {
		case len(f) >= 3 && f[1] == "replicated":
			out = append(out, TimelineEvent{At: at, Lane: f[0], Kind: "replication", Text: msg})
		case len(f) >= 2 && f[1] == "failed":
			out = append(out, TimelineEvent{At: at, Lane: f[0], Kind: "failure", Text: msg})
		case len(f) >= 3 && f[0] == "host" && (strings.Contains(msg, "cannot") || strings.Contains(msg, "failed") || strings.Contains(msg, "hangs")):
			out = append(out, TimelineEvent{At: at, Lane: f[1], Kind: "failure", Text: msg})
		case len(f) >= 3 && f[0] == "host" && f[2] == "cached":
			out = append(out, TimelineEvent{At: at, Lane: f[1], Kind: "retrieval", Text: msg})
		case len(f) >= 3 && f[0] == "host" && f[2] == "decrypts":
			out = append(out, TimelineEvent{At: at, Lane: f[1], Kind: "ticket", Text: msg})
		case len(f) >= 3 && f[0] == "host" && (f[2] == "reboot" || f[2] == "klist"):
			out = append(out, TimelineEvent{At: at, Lane: f[1], Kind: "dc", Text: msg})
		case len(f) >= 2 && strings.Contains(msg, "rotat"):
			out = append(out, TimelineEvent{At: at, Lane: f[0], Kind: "rotation", Text: msg})
		}
	}
	return out
}

// parseOffset reads sim.FormatOffset's "+1h00m00s", "+59m00s", "+0s".
func parseOffset(s string) (time.Duration, error) {
	if !strings.HasPrefix(s, "+") {
		return 0, fmt.Errorf("not an offset: %q", s)
	}
	return time.ParseDuration(s[1:])
}
