package sim

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakead"
)

// memReplica is a stand-in replica for testing the world's replication machinery (scheduling,
// links, cuts, stops, forwarding) independently of the directory model. It keeps objects as
// GUID → attribute → value with AD's per-attribute stamps and resolves conflicts with the same
// rule (higher version, then later originating time, then higher invocationId).
type memReplica struct {
	inv     ad.GUID
	usn     uint64
	objects map[ad.GUID]map[string]*memAttr
	applied int // ApplyReplicated calls
}

type memAttr struct {
	val  string
	meta fakead.AttrMeta
}

func newMemReplica(i int) *memReplica {
	var inv ad.GUID
	inv[0] = byte(i + 1)
	return &memReplica{inv: inv, objects: map[ad.GUID]map[string]*memAttr{}}
}

// write is an originating update.
func (m *memReplica) write(now time.Time, obj byte, attr, val string) {
	g := ad.GUID{15: obj}
	o := m.objects[g]
	if o == nil {
		o = map[string]*memAttr{}
		m.objects[g] = o
	}
	a := o[attr]
	if a == nil {
		a = &memAttr{}
		o[attr] = a
	}
	m.usn++
	a.val = val
	a.meta = fakead.AttrMeta{Version: a.meta.Version + 1, OrigDSA: m.inv, OrigTime: now, OrigUSN: m.usn, LocalUSN: m.usn}
}

func (m *memReplica) get(obj byte, attr string) string {
	if a := m.objects[ad.GUID{15: obj}][attr]; a != nil {
		return a.val
	}
	return ""
}

func (m *memReplica) HighestUSN() uint64 { return m.usn }

func (m *memReplica) InvocationID() ad.GUID { return m.inv }

func (m *memReplica) ChangesSince(usn uint64) []fakead.ReplChange {
	var out []fakead.ReplChange
	for g, o := range m.objects {
		var ch fakead.ReplChange
		ch.GUID = g
		for n, a := range o {
			if a.meta.LocalUSN > usn {
				ch.Attrs = append(ch.Attrs, fakead.ReplAttr{Name: n, Values: [][]byte{[]byte(a.val)}, Meta: a.meta})
			}
		}
		if len(ch.Attrs) > 0 {
			sort.Slice(ch.Attrs, func(i, j int) bool { return ch.Attrs[i].Name < ch.Attrs[j].Name })
			out = append(out, ch)
		}
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].GUID[:], out[j].GUID[:]) < 0 })
	return out
}

func stampLess(a, b fakead.AttrMeta) bool {
	if a.Version != b.Version {
		return a.Version < b.Version
	}
	if !a.OrigTime.Equal(b.OrigTime) {
		return a.OrigTime.Before(b.OrigTime)
	}
	return bytes.Compare(a.OrigDSA[:], b.OrigDSA[:]) < 0
}

func (m *memReplica) ApplyReplicated(now time.Time, changes []fakead.ReplChange) error {
	m.applied++
	for _, ch := range changes {
		o := m.objects[ch.GUID]
		if o == nil {
			o = map[string]*memAttr{}
			m.objects[ch.GUID] = o
		}
		for _, ra := range ch.Attrs {
			cur := o[ra.Name]
			if cur != nil && !stampLess(cur.meta, ra.Meta) {
				continue // present already, or loses
			}
			m.usn++
			meta := ra.Meta
			meta.LocalUSN = m.usn
			o[ra.Name] = &memAttr{val: string(ra.Values[0]), meta: meta}
		}
	}
	return nil
}

func (m *memReplica) snapshot() *snapshot {
	s := &snapshot{names: map[string]string{}, attrs: map[string]map[string][][]byte{}}
	for g, o := range m.objects {
		k := fmt.Sprintf("obj%d", g[15])
		s.dns = append(s.dns, k)
		s.names[k] = k
		s.attrs[k] = map[string][][]byte{}
		for n, a := range o {
			s.attrs[k][n] = [][]byte{[]byte(a.val)}
		}
	}
	sort.Strings(s.dns)
	return s
}

// memWorld is a world whose DCs hold memReplicas.
func memWorld(t testing.TB, cfg Config) (*World, map[string]*memReplica) {
	t.Helper()
	w, err := newWorld(cfg)
	if err != nil {
		t.Fatal(err)
	}
	reps := make([]replica, len(w.cfg.DCs))
	byName := map[string]*memReplica{}
	for i, d := range w.cfg.DCs {
		m := newMemReplica(i)
		reps[i] = m
		byName[d.Name] = m
	}
	w.attach(nil, reps)
	w.snap = func(d *DC) (*snapshot, error) { return d.repl.(*memReplica).snapshot(), nil }
	return w, byName
}

// write runs an originating write on one mem DC through the world loop.
func write(t testing.TB, w *World, m *memReplica, obj byte, attr, val string) {
	t.Helper()
	if err := w.Exec(func(now time.Time) error { m.write(now, obj, attr, val); return nil }); err != nil {
		t.Fatal(err)
	}
}

func mustAdvance(t testing.TB, w *World, d time.Duration) {
	t.Helper()
	if err := w.Advance(d); err != nil {
		t.Fatal(err)
	}
}

func traceText(w *World) string { return strings.Join(w.Trace(), "\n") }
