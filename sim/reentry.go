package sim

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
)

// ReentryError is the panic value of a World method called from inside the world loop (an Exec or
// ExecOn closure, a scheduled event) on the goroutine that runs the loop. The loop holds the
// world's lock; the method would wait for it forever.
type ReentryError struct {
	Method string // the method called: "sim.(*World).Now"
}

func (e *ReentryError) Error() string {
	return fmt.Sprintf("%s called inside the world loop (an Exec/ExecOn closure or a scheduled event), "+
		"which holds the world's lock: it would wait for itself forever. Inside the loop use what the loop "+
		"passes in: the closure's now (not World.Now), its *fakead.Directory (not ExecOn), and World.Loop() "+
		"to schedule, trace or draw; call the World's methods after the closure returns", e.Method)
}

// loopMutex is the world's lock. It is a sync.Mutex that refuses re-entry: enter marks the loop as
// running while closures and events run under the lock, and a Lock that finds the lock taken while
// the loop runs and sees enter on its own goroutine's stack panics with a *ReentryError rather
// than deadlock. The check costs nothing on an uncontended Lock and a stack walk (runtime.Callers)
// on a contended one while the loop runs; a goroutine waiting for another's loop is not re-entry
// unless it is itself inside a loop, and only then is the stack read.
//
// Limit: the stack shows that the goroutine is inside some world's loop, not whose. A closure of
// one world that calls another world's method while that world runs its loop on another goroutine
// is refused the same way (it risks a lock-order deadlock anyway); one world per loop.
type loopMutex struct {
	mu     sync.Mutex
	inLoop atomic.Bool // enter runs code under the lock
}

const (
	// simPkg is this package's path as the runtime names it in a stack (TestReentryNames checks
	// it against reflect).
	simPkg = "github.com/gmsasim/gmsasim/sim"
	// enterFunc is the name of World.enter as the runtime reports it in a stack.
	enterFunc = simPkg + ".(*World).enter"
	// lockedFunc is World.Locked's name: a re-entry through it names Locked's caller.
	lockedFunc = simPkg + ".(*World).Locked"
	// lockedValueFunc is LockedValue's name as the runtime gives a generic function's.
	lockedValueFunc = simPkg + ".LockedValue[...]"
	// pkgDir is what precedes "sim." in those names: "github.com/gmsasim/gmsasim/".
	pkgDir = "github.com/gmsasim/gmsasim/"
)

func (m *loopMutex) Lock() {
	if m.mu.TryLock() {
		return
	}
	if m.inLoop.Load() && insideLoop() {
		panic(&ReentryError{Method: callerMethod()})
	}
	m.mu.Lock()
}

func (m *loopMutex) Unlock() { m.mu.Unlock() }

// insideLoop reports whether World.enter runs a loop on the calling goroutine's stack: an enter
// frame below the one taking the lock, if it is enter that takes it.
func insideLoop() bool {
	// From the caller of Lock; enter is a few frames below any re-entry.
	pcs := make([]uintptr, 128)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(3, pcs)])
	for first := true; ; first = false {
		f, more := frames.Next()
		if f.Function == enterFunc && !first {
			return true
		}
		if !more {
			return false
		}
	}
}

// callerMethod names the World method that took the lock, "sim.(*World).Now", or for
// World.Locked and LockedValue the method that called them, "sim/host.(*Host).Boots": the first frame that is none
// of the lock's own.
func callerMethod() string {
	pcs := make([]uintptr, 16)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(1, pcs)])
	for {
		f, more := frames.Next()
		switch {
		case f.Function == enterFunc, strings.HasSuffix(f.Function, ".callerMethod"), strings.HasSuffix(f.Function, ".(*loopMutex).Lock"),
			f.Function == lockedFunc, f.Function == lockedValueFunc: // name the layer's method that called them
		default:
			return strings.TrimPrefix(f.Function, pkgDir)
		}
		if !more {
			return "a World method"
		}
	}
}
