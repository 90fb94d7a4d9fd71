package scenarios

import (
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/scenarios/ps"
	"github.com/gmsasim/gmsasim/sim"
)

// Get-WinEvent on a DC, for seed 001's "The result of its creation can be verified in the KdsSvc
// Operational log, Event ID 4004": the DC's Microsoft-Windows-KdsSvc/Operational log
// (sim.KdsOperationalLog). Other logs are a pending feature.
// Divergence: PowerShell prints a "ProviderName: Microsoft-Windows-KdsSvc" header above the table
// and formats TimeCreated in the session's culture; the table here has the four columns only,
// the time as en-US prints it.
func eventCmdlets() []*cmdletDef {
	return []*cmdletDef{{
		Cmdlet: ps.Cmdlet{Name: "Get-WinEvent", Params: []ps.Param{
			{Name: "LogName", Kind: ps.String, Pos: 0, Mandatory: true},
			{Name: "MaxEvents", Kind: ps.Int, Pos: -1},
		}},
		run: getWinEvent,
	}}
}

const kdsOperationalLog = "Microsoft-Windows-KdsSvc/Operational"

func getWinEvent(x *cmdCtx, b ps.Bound) ([]any, error) {
	logName := b.Str("LogName")
	if !strings.EqualFold(logName, kdsOperationalLog) {
		return nil, &PendingFeatureError{Feature: "event logs other than " + kdsOperationalLog, What: "Get-WinEvent -LogName " + logName}
	}
	var events []sim.KdsEvent
	err := x.r.w.ExecOn(x.target, func(_ time.Time, d *fakead.Directory) error {
		events = sim.KdsOperationalLog(d)
		return nil
	})
	if err != nil {
		return nil, adError(err, "")
	}
	if n, ok := b["MaxEvents"].(int64); ok && n >= 0 && n < int64(len(events)) {
		events = events[:n]
	}
	if len(events) == 0 {
		return nil, ps.Errorf("No events were found that match the specified selection criteria.")
	}
	var out []any
	for _, e := range events {
		out = append(out, &ps.Object{Table: true, Props: []ps.Prop{
			{Name: "TimeCreated", Val: e.Time.Format("1/2/2006 3:04:05 PM")},
			{Name: "Id", Val: e.ID},
			{Name: "LevelDisplayName", Val: e.Level},
			{Name: "Message", Val: e.Message},
		}})
	}
	return out, nil
}
