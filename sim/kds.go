package sim

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakekds"
)

// The Key Distribution Service in the world. Each DC's KDS lives in its replica (fakead: root-key
// cache, key selection on that DC's clock and replica); the world adds the actions a scenario
// performs on it, each through the loop and traced:
//   - AddKdsRootKey: Add-KdsRootKey run on a DC (the key object is written there and replicates);
//   - RestartKDS: Restart-Service kdssvc on a DC (its root-key cache is dropped);
//   - SetKDSPolicy: which reading of the 10-hour rule every DC applies.

// StreamKDS is the named stream root-key ids and data are drawn from.
const StreamKDS = "kds"

// AddKdsRootKey runs Add-KdsRootKey on dc at the current simulated time: the key (id and data
// from the world's "kds" stream, msKds-DomainID the DC's computer object) is added to the DC's
// replica as the directory itself and replicates from there. With opt.LocalTestOnly nothing is
// written. Errors: ErrUnknownDC, a stopped DC (unavailable), fakekds.ErrInvalidArgument.
func (w *World) AddKdsRootKey(dc string, opt fakekds.AddOptions) (*fakekds.RootKey, error) {
	var rk *fakekds.RootKey
	err := w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		dcDN := "CN=" + d.DC().Name + ",OU=Domain Controllers," + d.DomainDN()
		var err error
		rk, err = fakekds.AddKdsRootKey(w.streams.Get(StreamKDS), ad.FileTimeFromTime(now), dcDN, opt)
		if err != nil {
			return err
		}
		if opt.LocalTestOnly {
			w.trace.Logf(now, "%s Add-KdsRootKey -LocalTestOnly %s (not written)", d.DC().Name, rk.ID)
			return nil
		}
		var attrs []fakead.Attribute
		for _, a := range rk.Attributes() {
			attrs = append(attrs, fakead.Attribute{Name: a.Name, Values: a.Values})
		}
		if err := d.Add(now, fakead.SystemCaller, rk.DN(d.DomainDN()), attrs); err != nil {
			return err
		}
		w.trace.Logf(now, "%s Add-KdsRootKey %s use-start %s", d.DC().Name, rk.ID,
			rk.UseStartTime.Time().Format("2006-01-02T15:04:05Z"))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rk, nil
}

// RestartKDS restarts the Key Distribution Service of dc: its cache of root keys is dropped, so a
// key deleted from its replica stops working there. Traced.
func (w *World) RestartKDS(dc string) error {
	return w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		n := d.RestartKDS()
		w.trace.Logf(now, "%s KDS restarted (%d cached root keys dropped)", d.DC().Name, n)
		return nil
	})
}

// SetKDSPolicy sets the KDS policy (the reading of the 10-hour rule for new gMSAs) on every DC.
// Traced.
func (w *World) SetKDSPolicy(p fakekds.Policy) error {
	return w.Exec(func(now time.Time) error {
		for _, dc := range w.dcs {
			if dc.dir == nil {
				return fmt.Errorf("sim: DC %s has no directory", dc.name)
			}
			dc.dir.SetKDSPolicy(p)
		}
		w.trace.Logf(now, "KDS policy creation-rule=%s on every DC", p.CreationRule)
		return nil
	})
}

// ManagedPassword computes a gMSA's msDS-ManagedPassword on dc at the current simulated time, as
// that DC's KDS does (with the lazy rotation write, which then replicates), bypassing the LDAP
// access and encryption rules: for tests and the harness. A DC without a usable root key answers
// the "Key does not exist" error (errors.Is(err, fakekds.ErrNoRootKey)).
func (w *World) ManagedPassword(dc, gmsaDN string) (*fakekds.ManagedPasswordResult, error) {
	var res *fakekds.ManagedPasswordResult
	err := w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		var err error
		res, err = d.ManagedPassword(now, gmsaDN)
		return err // a rotation is traced by traceRotations
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// traceRotations traces the lazy gMSA rotations every DC performed since the last call — on an
// LDAP read of msDS-ManagedPassword, a KDC lookup or ManagedPassword — at the time each was
// written, so the report's timeline shows them. Called with every capture (after each Exec and
// each event), inside the loop.
func (w *World) traceRotations() {
	for _, dc := range w.dcs {
		if dc.dir == nil {
			continue
		}
		for _, r := range dc.dir.DrainRotations() {
			w.trace.Logf(r.At, "%s rotated the password of %s (next rotation %s)", dc.name, r.DN,
				r.NextRotation.UTC().Format("2006-01-02T15:04:05Z"))
		}
	}
}

// KdsEvent is one event of a DC's Microsoft-Windows-KdsSvc/Operational log.
type KdsEvent struct {
	Time    time.Time
	ID      int    // 4004
	Level   string // "Information"
	Message string
}

// KdsOperationalLog is the Microsoft-Windows-KdsSvc/Operational log of the DC whose replica d is,
// newest first (as Get-WinEvent lists it): event 4004, "Group Key Distribution Service created a
// master root key in AD.  The key ID is %1.", for every root key this DC's KDS created. Seed 001:
// "The result of its creation can be verified in the KdsSvc Operational log, Event ID 4004." The
// message is the provider's (Microsoft-Windows-KdsSvc manifest, event 4004, field MRKID). Inside
// the loop.
// Divergence: the log is read from the root keys this DC's KDS knows (its replica and its cache,
// msKds-DomainID naming this DC), not kept as a log: a key deleted and dropped from the cache
// (RestartKDS) leaves no event, and the service's start/stop events (4002, 4003) are not listed.
func KdsOperationalLog(d *fakead.Directory) []KdsEvent {
	if !d.HasKDS() {
		return nil
	}
	self := "CN=" + d.DC().Name + ",OU=Domain Controllers," + d.DomainDN()
	var out []KdsEvent
	for _, rk := range d.KDSRootKeys() {
		if !strings.EqualFold(rk.DomainID, self) {
			continue
		}
		out = append(out, KdsEvent{Time: rk.CreateTime.Time(), ID: 4004, Level: "Information",
			Message: "Group Key Distribution Service created a master root key in AD.  The key ID is " + rk.ID.String() + "."})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	return out
}
