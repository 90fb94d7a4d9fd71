// Package loadkit is what the bench load clients (bench/ldapload, bench/krbload) share: the result
// line bench/run.sh reads, the tally of a phase, its budget, and the server CPU meter over /proc.
package loadkit

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// userHZ is the unit of utime and stime in /proc/PID/stat: USER_HZ, 100 on every Linux ABI Go
// supports (sysconf(_SC_CLK_TCK) would need cgo).
const userHZ = 100

// CPUSeconds is the CPU time (user + system, all threads) the process pid has used so far, from
// /proc/PID/stat (proc(5): fields 14 utime and 15 stime, in clock ticks).
func CPUSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("-server-pid %d: %w", pid, err)
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime + stime from the text of a /proc/PID/stat file. The command name (field
// 2) is in parentheses and may contain spaces and parentheses, so fields are counted after the last ')'.
func parseStatCPU(stat string) (float64, error) {
	end := strings.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, fmt.Errorf("/proc stat %.40q: no ')' after the command name", stat)
	}
	f := strings.Fields(stat[end+1:]) // f[0] is field 3 (state), so field n is f[n-3]
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc stat: %d fields after the command name, want at least 13", len(f))
	}
	var ticks uint64
	for _, s := range f[11:13] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc stat: utime/stime %q: %w", s, err)
		}
		ticks += v
	}
	return float64(ticks) / userHZ, nil
}
