package loadkit

import (
	"os"
	"testing"
)

func TestParseStatCPU(t *testing.T) {
	// A /proc/PID/stat line (proc(5)) whose command name has a space and a ')': utime 1234 and
	// stime 566 ticks are fields 14 and 15.
	stat := "4580 (gms asim) x) S 1 4579 4579 0 -1 4194560 2767 0 0 0 1234 566 0 0 20 0 9 0 2890 1934656000 9689 18446744073709551615\n"
	got, err := parseStatCPU(stat)
	if err != nil {
		t.Fatalf("parseStatCPU = %v", err)
	}
	if want := 18.0; got != want {
		t.Errorf("parseStatCPU = %v s, want %v s (1800 ticks at 100 Hz)", got, want)
	}
	for _, bad := range []string{"", "4580 gmsasim S 1", "1 (x) S 1 2 3", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 abc 5 0"} {
		if v, err := parseStatCPU(bad); err == nil {
			t.Errorf("parseStatCPU(%q) = %v, want an error", bad, v)
		}
	}
}

func TestCPUSecondsOfSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	a, err := CPUSeconds(os.Getpid())
	if err != nil {
		t.Fatalf("CPUSeconds(self) = %v", err)
	}
	x := 0
	for i := range 50_000_000 { // some CPU, so the counter has something to count
		x ^= i
	}
	b, err := CPUSeconds(os.Getpid())
	if err != nil {
		t.Fatalf("CPUSeconds(self) = %v", err)
	}
	if b < a {
		t.Errorf("CPU time went backwards: %v then %v (x=%d)", a, b, x)
	}
	if _, err := CPUSeconds(-1); err == nil {
		t.Errorf("CPUSeconds(-1) = nil error")
	}
}
