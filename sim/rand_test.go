package sim

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestStreamsAreIndependentAndStable(t *testing.T) {
	a := NewStreams(1)
	first := a.Get("guids").Uint64()

	// Drawing from other streams first, in any order, does not change what "guids" gives.
	b := NewStreams(1)
	b.Get("rootkeys").Uint64()
	b.Get("zzz").Uint64()
	if got := b.Get("guids").Uint64(); got != first {
		t.Errorf("guids after other streams = %x, want %x", got, first)
	}
	// Get returns the same stream: it continues.
	if a.Get("guids").Uint64() == first {
		t.Error("second draw equals the first: Get restarted the stream")
	}
	// Another seed or name gives other draws.
	if NewStreams(2).Get("guids").Uint64() == first {
		t.Error("seed 2 draws what seed 1 draws")
	}
	if NewStreams(1).Get("guids2").Uint64() == first {
		t.Error("stream guids2 draws what guids draws")
	}
	if got := strings.Join(b.Names(), ","); got != "guids,rootkeys,zzz" {
		t.Errorf("Names = %q", got)
	}
}

// The derivation is pinned: changing it would silently change every golden trace.
func TestStreamDerivationPinned(t *testing.T) {
	key := sha256.Sum256(append([]byte{0, 0, 0, 0, 0, 0, 0, 1}, "guids"...))
	want := rand.NewChaCha8(key).Uint64()
	if got := NewStreams(1).Get("guids").Uint64(); got != want {
		t.Errorf("Uint64 = %#x, want %#x (ChaCha8 keyed by SHA-256(be64(seed) || name))", got, want)
	}
	if got := NewStreams(1).Get("guids").Uint64(); got != pinnedGUIDsDraw {
		t.Errorf("Uint64 = %#x, want the pinned %#x", got, pinnedGUIDsDraw)
	}
	r1, r2 := NewStreams(9).Get("k"), NewStreams(9).Get("k")
	p1, p2 := make([]byte, 100), make([]byte, 100)
	io.ReadFull(r1, p1)
	io.ReadFull(r2, p2)
	if !bytes.Equal(p1, p2) || bytes.Equal(p1, make([]byte, 100)) {
		t.Error("Read is not deterministic or returns zeros")
	}
}

const pinnedGUIDsDraw uint64 = 0x95345cd5ed0f3ca9

func TestGUIDSource(t *testing.T) {
	src := GUIDSource{NewStreams(5).Get(StreamGUIDs)}
	seen := map[[16]byte]bool{}
	for i := 0; i < 1000; i++ {
		g := src.NewGUID()
		if g[7]>>4 != 4 || g[8]&0xc0 != 0x80 {
			t.Fatalf("GUID %x: version nibble %x variant %x, want 4 and 10xx", g, g[7]>>4, g[8]>>6)
		}
		if seen[g] {
			t.Fatalf("GUID %x repeated", g)
		}
		seen[g] = true
	}
	a := GUIDSource{NewStreams(5).Get(StreamGUIDs)}.NewGUID()
	b := GUIDSource{NewStreams(5).Get(StreamGUIDs)}.NewGUID()
	if a != b {
		t.Errorf("same seed, different first GUID: %x %x", a, b)
	}
}

func TestDomainSID(t *testing.T) {
	re := regexp.MustCompile(`^S-1-5-21-(\d+)-(\d+)-(\d+)$`)
	s1 := DomainSID(1)
	if !re.MatchString(s1) {
		t.Fatalf("DomainSID(1) = %q, want S-1-5-21-x-y-z", s1)
	}
	if DomainSID(1) != s1 {
		t.Error("DomainSID not stable for a seed")
	}
	if DomainSID(2) == s1 {
		t.Error("seeds 1 and 2 give the same domain SID")
	}
}

func TestGeneratePassword(t *testing.T) {
	p := GeneratePassword(NewStreams(3).Get(StreamPasswords))
	if len(p) != 16 || !strings.ContainsAny(p, "ABCDEFGHJKLMNPQRSTUVWXYZ") || !strings.ContainsAny(p, "abcdefghijkmnopqrstuvwxyz") ||
		!strings.ContainsAny(p, "23456789") || !strings.ContainsAny(p, "!#%+-.=@_") {
		t.Errorf("password %q does not meet complexity", p)
	}
	if q := GeneratePassword(NewStreams(3).Get(StreamPasswords)); q != p {
		t.Errorf("not stable: %q vs %q", p, q)
	}
}

func TestTrace(t *testing.T) {
	var out bytes.Buffer
	tr := NewTrace(t0, &out, 4)
	tr.Logf(t0, "world seed=%d", 1)
	tr.Logf(t0.Add(time.Hour), "DC2 replicated %d changes from %s", 3, "DC1")
	tr.Logf(t0.Add(time.Hour), "two\nlines")
	want := []string{"+0s world seed=1", "+1h00m00s DC2 replicated 3 changes from DC1", `+1h00m00s two\nlines`}
	if got := tr.Lines(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lines = %q, want %q", got, want)
	}
	if out.String() != strings.Join(want, "\n")+"\n" {
		t.Errorf("writer got %q", out.String())
	}
	tr.Logf(t0.Add(2*time.Hour), "d")
	tr.Logf(t0.Add(3*time.Hour), "e") // over the bound of 4: the oldest half goes
	if tr.Dropped() != 2 || len(tr.Lines()) != 3 || tr.Lines()[0] != `+1h00m00s two\nlines` {
		t.Errorf("after bound: dropped %d lines %q", tr.Dropped(), tr.Lines())
	}
	if got := tr.Tail(2); strings.Join(got, "|") != "+2h00m00s d|+3h00m00s e" {
		t.Errorf("tail = %q", got)
	}
	if strings.Count(out.String(), "\n") != 5 {
		t.Errorf("the writer should get every line, got %q", out.String())
	}
	var buf bytes.Buffer
	tr.WriteTo(&buf)
	if buf.String() != strings.Join(tr.Lines(), "\n")+"\n" {
		t.Errorf("WriteTo = %q", buf.String())
	}
	fw := NewTrace(t0, failWriter{}, 0)
	fw.Logf(t0, "x")
	fw.Logf(t0, "y")
	if fw.WriterErr() == nil || len(fw.Lines()) != 2 {
		t.Errorf("failing writer: err %v lines %d", fw.WriterErr(), len(fw.Lines()))
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
