package sim

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/gmsasim/gmsasim/fakead"
)

// localAttr reports whether AD keeps the attribute (lower-case name) per DC (not replicated, or
// local bookkeeping): it may differ between converged replicas, so the convergence check skips it.
func localAttr(name string) bool {
	switch name {
	case "usnchanged", "usncreated", "whenchanged",
		"lastlogon", "lastlogoff", "logoncount", "badpwdcount", "badpasswordtime",
		"repsfrom", "repsto", "repluptodatevector",
		"replpropertymetadata", "msds-replattributemetadata", "msds-replvaluemetadata":
		return true
	}
	return false
}

// CheckConverged checks the replication invariant: once nothing is pending (no queued delivery, no
// cut link, no stopped DC), every replica holds the same objects with the same values. It returns
// ErrNotQuiescent (saying what is pending) when the world is not quiet, and ErrNotConverged naming
// the first DN and attribute that differ otherwise. Run Settle or ReplicateNow first.
func (w *World) CheckConverged() error {
	return w.enter(func() error {
		var pending []string
		for _, d := range w.dcs {
			if d.stopped {
				pending = append(pending, d.name+" is stopped")
			}
		}
		for _, l := range w.sortedLinks() {
			if l.cut {
				pending = append(pending, fmt.Sprintf("link %s-%s is cut", l.a.name, l.b.name))
			}
			for _, f := range l.flows {
				if n := len(f.q); n > 0 {
					pending = append(pending, fmt.Sprintf("%d %s queued %s", n, plural(n, "delivery", "deliveries"), f.label()))
				}
			}
		}
		if len(pending) > 0 {
			return w.fail(fmt.Errorf("%w: %s", ErrNotQuiescent, strings.Join(pending, "; ")))
		}
		if len(w.dcs) < 2 {
			return nil
		}
		first := w.dcs[0]
		// The model's digest covers what replication must make equal, tombstones and stamps
		// included. Equal digests settle it; the client-view comparison (what a search returns)
		// is the costly part and runs only as the diagnostic when digests differ, or when a
		// replica has no model directory to digest.
		if first.dir != nil {
			want := first.dir.Digest()
			for _, d := range w.dcs[1:] {
				if d.dir == nil {
					if err := w.compareClientViews(first, d); err != nil {
						return w.fail(err)
					}
					continue
				}
				if d.dir.Digest() == want {
					continue
				}
				diff := fakead.DigestDiff(first.dir, d.dir)
				more := ""
				if len(diff) > maxDiffLines {
					diff, more = diff[:maxDiffLines], fmt.Sprintf("\n  ... %d more", len(diff)-maxDiffLines)
				}
				view := ""
				if err := w.compareClientViews(first, d); err != nil {
					view = "\n  what clients read: " + err.Error()
				}
				return w.fail(fmt.Errorf("%w: %s (-) and %s (+) digests differ:\n  %s%s%s", ErrNotConverged,
					first.name, d.name, strings.Join(diff, "\n  "), more, view))
			}
			return nil
		}
		for _, d := range w.dcs[1:] {
			if err := w.compareClientViews(first, d); err != nil {
				return w.fail(err)
			}
		}
		return nil
	})
}

// compareClientViews compares what a search of every naming context returns on two replicas:
// nil when equal, else an ErrNotConverged naming the first difference. Inside the loop.
func (w *World) compareClientViews(a, b *DC) error {
	ra, err := w.snap(a)
	if err != nil {
		return err
	}
	rb, err := w.snap(b)
	if err != nil {
		return err
	}
	if diff := diffSnapshots(ra, rb); diff != "" {
		return fmt.Errorf("%w: %s and %s: %s", ErrNotConverged, a.name, b.name, diff)
	}
	return nil
}

// maxDiffLines bounds the digest lines a convergence failure prints.
const maxDiffLines = 10

// snapshot is one replica's replicated content: DN key → attribute (lower-case) → sorted values.
type snapshot struct {
	dns   []string // sorted keys
	names map[string]string
	attrs map[string]map[string][][]byte
}

// searchSnapshot reads every object of the three naming contexts as the directory itself. Deleted
// objects (tombstones) are not returned by a search; the model's digest covers them.
func (w *World) searchSnapshot(d *DC) (*snapshot, error) {
	s := &snapshot{names: map[string]string{}, attrs: map[string]map[string][][]byte{}}
	dom := domainDN(w.cfg.Domain)
	for _, base := range []string{dom, "CN=Configuration," + dom, "CN=Schema,CN=Configuration," + dom} {
		res, err := d.dir.Search(w.clock.Now(), fakead.SystemCaller, &fakead.SearchRequest{
			BaseDN: base, Scope: fakead.ScopeSub, Filter: fakead.FilterPresent{Attr: "objectClass"},
			Attributes: []string{"*"}, SDFlags: -1,
		})
		if err != nil {
			return nil, fmt.Errorf("sim: reading %s of %s for the convergence check: %w", base, d.name, err)
		}
		for _, e := range res {
			key := strings.ToLower(e.DN)
			if _, dup := s.attrs[key]; dup {
				continue // the domain subtree may include the configuration partition
			}
			m := map[string][][]byte{}
			for _, a := range e.Attributes {
				n := strings.ToLower(a.Name)
				if localAttr(n) {
					continue
				}
				vals := append([][]byte(nil), a.Values...)
				sort.Slice(vals, func(i, j int) bool { return bytes.Compare(vals[i], vals[j]) < 0 })
				m[n] = vals
			}
			s.attrs[key] = m
			s.names[key] = e.DN
			s.dns = append(s.dns, key)
		}
	}
	sort.Strings(s.dns)
	return s, nil
}

// diffSnapshots describes the first difference, or returns "".
func diffSnapshots(a, b *snapshot) string {
	for _, k := range a.dns {
		if _, ok := b.attrs[k]; !ok {
			return fmt.Sprintf("%s exists only on the first", a.names[k])
		}
	}
	for _, k := range b.dns {
		if _, ok := a.attrs[k]; !ok {
			return fmt.Sprintf("%s exists only on the second", b.names[k])
		}
	}
	for _, k := range a.dns {
		am, bm := a.attrs[k], b.attrs[k]
		names := map[string]bool{}
		for n := range am {
			names[n] = true
		}
		for n := range bm {
			names[n] = true
		}
		sorted := make([]string, 0, len(names))
		for n := range names {
			sorted = append(sorted, n)
		}
		sort.Strings(sorted)
		for _, n := range sorted {
			if !equalValues(am[n], bm[n]) {
				return fmt.Sprintf("%s attribute %s: %s vs %s", a.names[k], n, showValues(am[n]), showValues(bm[n]))
			}
		}
	}
	return ""
}

func equalValues(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

func showValues(vs [][]byte) string {
	if vs == nil {
		return "(absent)"
	}
	parts := make([]string, len(vs))
	for i, v := range vs {
		if printable(v) {
			parts[i] = fmt.Sprintf("%q", v)
		} else {
			parts[i] = fmt.Sprintf("0x%x", v)
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func printable(v []byte) bool {
	for _, c := range v {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}
