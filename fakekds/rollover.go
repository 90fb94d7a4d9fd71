package fakekds

import "github.com/gmsasim/gmsasim/ad"

// DefaultPasswordIntervalDays is msDS-ManagedPasswordInterval when the attribute is absent.
const DefaultPasswordIntervalDays = 30

// maxIntervalDays keeps RolloverInterval far from overflow (about 1000 years).
const maxIntervalDays = 365000

// RolloverInterval returns the rotation period for msDS-ManagedPasswordInterval days:
// (days*24/10) whole key cycles, with integer division (30 d → 72 cycles = 30 d; 1 d → 2 cycles
// = 20 h; 14 d → 33 cycles = 13.75 d). days <= 0 is unusable (ErrInvalidArgument); so is an
// interval shorter than one key cycle.
func RolloverInterval(days int64) (ad.FileTime, error) {
	if days <= 0 || days > maxIntervalDays {
		return 0, errorf("RolloverInterval", ErrInvalidArgument, "msDS-ManagedPasswordInterval %d days is out of range 1..%d", days, maxIntervalDays)
	}
	return ad.FileTime(days*24/10) * KeyCycleDuration, nil
}

// Schedule is where the stored password ids of a gMSA stand at a given time, after lazy
// rollover ([MS-ADTS] 3.1.1.4.5.39 as implemented by Samba's gmsa_recalculate_managed_pwd).
type Schedule struct {
	Current      GKID        // the interval msDS-ManagedPasswordId names (after rollover)
	CurrentStart ad.FileTime // start of Current, S'
	NextRotation ad.FileTime // when Current expires, E' = S' + R
	Interval     ad.FileTime // R
	// Rotated reports that the stored ids must be rewritten: Current becomes
	// msDS-ManagedPasswordId and Previous msDS-ManagedPasswordPreviousId.
	Rotated bool
	// Previous is the interval msDS-ManagedPasswordPreviousId should name after a rotation:
	// the old current id when the new one immediately follows it, else GKID(S' − R) once the
	// account is one period old. Nil when not Rotated, and for the first id of a young account.
	Previous *GKID
}

// Rollover computes the stored-id schedule of an account created at created, whose
// msDS-ManagedPasswordId currently names stored (nil: no id yet), with an interval of
// intervalDays (0: default 30), at time now. The anchor is the stored id, not pwdLastSet: ids
// stay on the 10-hour grid of the creation interval, S' = E + k·R with the largest k such that
// S' <= now.
func Rollover(created ad.FileTime, stored *GKID, intervalDays int64, now ad.FileTime) (Schedule, error) {
	if intervalDays == 0 {
		intervalDays = DefaultPasswordIntervalDays
	}
	r, err := RolloverInterval(intervalDays)
	if err != nil {
		return Schedule{}, err
	}
	var expiry ad.FileTime
	if stored != nil {
		if !stored.IsL2() || stored.Validate() != nil {
			return Schedule{}, errorf("Rollover", ErrInvalidGKID, "stored password id %v is not an L2 identifier", *stored)
		}
		expiry = stored.StartFileTime() + r
	} else {
		expiry = GKIDFromFileTime(created).StartFileTime()
	}
	if stored != nil && now < expiry {
		return Schedule{Current: *stored, CurrentStart: stored.StartFileTime(), NextRotation: expiry, Interval: r}, nil
	}
	k := ad.FileTime(0)
	if now > expiry {
		k = (now - expiry) / r
	}
	start := expiry + k*r
	s := Schedule{Current: GKIDFromFileTime(start), CurrentStart: start, NextRotation: start + r, Interval: r, Rotated: true}
	var prev GKID
	switch {
	case stored != nil && k == 0:
		prev = *stored // the current id becomes the previous one
	case now-min(created, now) >= r && start >= r:
		prev = GKIDFromFileTime(start - r)
	default:
		return s, nil
	}
	s.Previous = &prev
	return s, nil
}

// ReadView is what a read of msDS-ManagedPassword returns at time now, in GKIDs.
type ReadView struct {
	Current           GKID  // password returned as CurrentPassword
	Previous          *GKID // password returned as PreviousPassword; nil when absent
	QueryInterval     ad.FileTime
	UnchangedInterval ad.FileTime
	// NextPasswordWindow: now is within 5 minutes of the rotation, so the next password is
	// handed out as current and the current one as previous.
	NextPasswordWindow bool
}

// View derives the read view from a schedule: storedPrevious is msDS-ManagedPasswordPreviousId
// as stored (or as just rewritten), nil when absent.
//
//   - Query = E' − now; Unchanged = max(0, Query − 5 min).
//   - If E' − now <= 5 min: current = GKID(E'), previous = the stored current, and Unchanged
//     = Query + R − 5 min (the 5 minutes come off after R is added).
//     Divergence: no public Windows sample shows this window; Query stays E' − now, as in
//     Samba's implementation.
//   - Otherwise the previous password is returned only once the account is one period old
//     (now − created >= R): from storedPrevious, or GKID(S' − R) when that is absent.
func (s Schedule) View(created ad.FileTime, storedPrevious *GKID, now ad.FileTime) ReadView {
	v := ReadView{Current: s.Current}
	if s.NextRotation > now {
		v.QueryInterval = s.NextRotation - now
	}
	if v.QueryInterval > MaxClockSkew {
		v.UnchangedInterval = v.QueryInterval - MaxClockSkew
	}
	if v.QueryInterval <= MaxClockSkew {
		cur := s.Current
		v.Current = GKIDFromFileTime(s.NextRotation)
		v.Previous = &cur
		v.UnchangedInterval = v.QueryInterval + s.Interval - MaxClockSkew
		v.NextPasswordWindow = true
		return v
	}
	if now >= created && now-created >= s.Interval {
		switch {
		case s.Previous != nil:
			p := *s.Previous
			v.Previous = &p
		case storedPrevious != nil:
			p := *storedPrevious
			v.Previous = &p
		case s.CurrentStart >= s.Interval:
			p := GKIDFromFileTime(s.CurrentStart - s.Interval)
			v.Previous = &p
		}
	}
	return v
}
