package ldapsrv

import (
	"sync"
	"testing"
)

// Handlers run one at a time in the order their requests were read, whatever order the
// library's goroutines start in.
func TestConnStateOrder(t *testing.T) {
	st := newConnState(nil, false)
	ids := []int{5, 3, 9, 3, 1}
	for _, id := range ids {
		st.enqueue(id)
	}
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i := len(ids) - 1; i >= 0; i-- { // start in reverse
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			if !st.acquire(id) {
				t.Errorf("request %d reported abandoned", id)
			}
			mu.Lock()
			order = append(order, id)
			mu.Unlock()
			st.release()
		}(ids[i])
	}
	wg.Wait()
	for i := range ids {
		if order[i] != ids[i] {
			t.Fatalf("ran in order %v, want %v", order, ids)
		}
	}
}

func TestConnStateAbandon(t *testing.T) {
	st := newConnState(nil, false)
	st.enqueue(1)
	st.enqueue(2)
	// 2 is abandoned before its handler arrived; 1 while registered.
	st.abandon(2)
	cancel := st.register(1)
	st.abandon(1)
	if !st.acquire(1) {
		t.Fatal("registered request lost its turn")
	}
	if !cancel.Load() {
		t.Fatal("registered request not signalled")
	}
	st.release()
	if st.acquire(2) {
		t.Fatal("request abandoned while queued still runs")
	}
	st.release()
	// Abandoning an unknown ID changes nothing.
	st.abandon(42)
	if len(st.abandoned) != 0 {
		t.Fatalf("abandoned = %v", st.abandoned)
	}
	// After reading stops, a request whose ID was never queued still gets its turn.
	st.stopReading()
	if !st.acquire(77) {
		t.Fatal("unqueued request after stopReading did not run")
	}
	st.release()
}
