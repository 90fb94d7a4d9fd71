package sim

import (
	"errors"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
)

// reentry runs call and returns the *ReentryError it panicked with (nil if it returned).
func reentry(t *testing.T, call func()) (re *ReentryError) {
	t.Helper()
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		var ok bool
		if re, ok = r.(*ReentryError); !ok {
			t.Fatalf("panicked with %T %v, want *ReentryError", r, r)
		}
	}()
	call()
	return nil
}

// A World method called from inside the loop on the loop's goroutine panics naming the method and
// saying what to use instead, rather than wait for itself forever; the world is then stopped, and
// its lock free.
func TestReentryPanicsInsteadOfDeadlock(t *testing.T) {
	cases := []struct {
		name, method string
		call         func(w *World) error
	}{
		{"Now in ExecOn", "sim.(*World).Now", func(w *World) error {
			return w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error { w.Now(); return nil })
		}},
		{"ExecOn in Exec", "sim.(*World).ExecOn", func(w *World) error {
			return w.Exec(func(now time.Time) error {
				return w.ExecOn("DC1", func(time.Time, *fakead.Directory) error { return nil })
			})
		}},
		{"Logf in an event", "sim.(*World).Logf", func(w *World) error {
			w.After(time.Minute, "test", func(now time.Time) error { w.Logf("from the event"); return nil })
			return w.Advance(time.Hour)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, err := New(Config{Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			var callErr error
			re := reentry(t, func() { callErr = c.call(w) })
			if re == nil {
				t.Fatalf("no panic; the call returned %v", callErr)
			}
			if re.Method != c.method {
				t.Errorf("Method %q, want %q", re.Method, c.method)
			}
			msg := re.Error()
			for _, want := range []string{c.method + " called inside the world loop", "would wait for itself forever", "the closure's now (not World.Now)", "World.Loop()"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message lacks %q:\n%s", want, msg)
				}
			}
			if err := w.Exec(func(time.Time) error { return nil }); !errors.Is(err, ErrWorldPanicked) || !strings.Contains(err.Error(), c.method) {
				t.Errorf("after the re-entry, Exec: %v; want the world stopped, naming %s", err, c.method)
			}
			w.Now() // the lock was released
		})
	}
}

// Goroutines that wait for another goroutine's loop are not re-entry: the Lock that finds the loop
// running reads its own stack and waits.
func TestConcurrentCallsWaitForTheLoop(t *testing.T) {
	w, err := New(Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		var wg sync.WaitGroup
		started := make(chan bool)
		err := w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
			for i := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					started <- true
					if i%2 == 0 {
						w.Now()
					} else {
						w.Exec(func(time.Time) error { return nil })
					}
				}()
			}
			for range 4 {
				<-started
			}
			for range 100 {
				runtime.Gosched() // let them find the lock taken
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		wg.Wait()
	}
	if err := w.Exec(func(time.Time) error { return nil }); err != nil {
		t.Fatalf("the world stopped: %v", err)
	}
}

// The re-entry check names frames by this package's path: it must be the path the runtime uses.
func TestReentryNames(t *testing.T) {
	if got := reflect.TypeFor[World]().PkgPath(); got != simPkg || pkgDir+"sim" != simPkg {
		t.Errorf("package path %q; reentry.go says %q (pkgDir %q)", got, simPkg, pkgDir)
	}
}
