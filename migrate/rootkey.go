package migrate

import (
	"fmt"
	"time"

	"github.com/gmsasim/gmsasim/ad"
)

// KeyCycle is the KDS's key interval ([MS-GKDI] 3.1.4.1: KeyCycleDuration, 10 hours): every group
// key interval starts at a multiple of it counted from the FILETIME epoch (1601).
const KeyCycle = 10 * time.Hour

// MaxClockSkew is Kerberos' 5 minutes, which the stricter reading adds to the key cycle.
const MaxClockSkew = 5 * time.Minute

// RootKeyRule is how a DC decides that a KDS root key is old enough to give a new gMSA its first
// password id — the "up to 10 hours" of the guides. Windows' exact rule is not published, so both
// readings exist; the rule itself is ad.RootKeyRule, which the simulated DCs' KDS applies too
// (fakekds.Policy): the engine must be told the reading its DCs apply, and preflight's "usable
// from" is then exactly when New-ADServiceAccount starts to succeed.
type RootKeyRule string

const (
	// RuleIntervalStart (the default, ""): a new gMSA asks for the key interval holding the DC's
	// time, and the KDS takes the most recently created key whose msKds-UseStartTime is at or before
	// that interval's start ([MS-GKDI] 3.1.4.1; Samba's emulation of Windows' GetKey). A key is
	// eligible from the first interval boundary at or after its use-start: up to 10 hours after
	// -EffectiveImmediately, at once for the lab recipe -EffectiveTime (Get-Date).AddHours(-10).
	RuleIntervalStart = RootKeyRule(ad.RuleIntervalStart)
	// RuleOneIntervalAgo: eligible when use-start <= the DC's time − (10 h + 5 min), the stricter
	// rule of Samba's own DC (gmsa_generate_blobs, "one_interval_ago").
	RuleOneIntervalAgo = RootKeyRule(ad.RuleOneIntervalAgo)
)

// ParseRootKeyRule reads a rule's name ("" is the default).
func ParseRootKeyRule(s string) (RootKeyRule, error) {
	r, err := ad.ParseRootKeyRule(s)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return RootKeyRule(r), nil
}

// Eligible reports whether a key with that use-start may give a gMSA created at now its first
// password id: ad.RootKeyRule, the rule the simulated DCs' KDS applies too.
func (r RootKeyRule) Eligible(useStart, now time.Time) bool {
	return ad.RootKeyRule(r).Eligible(ad.FileTimeFromTime(useStart), ad.FileTimeFromTime(now))
}

// UsableFrom is the first moment a key with that use-start is eligible.
func (r RootKeyRule) UsableFrom(useStart time.Time) time.Time {
	return ad.RootKeyRule(r).UsableFrom(ad.FileTimeFromTime(useStart)).Time()
}

// why says why a key is eligible at now, for preflight's detail.
func (r RootKeyRule) why(useStart, now time.Time) string {
	if r == RuleOneIntervalAgo {
		return fmt.Sprintf("use-start %s + 10 h 5 min <= DC time %s", useStart.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	return fmt.Sprintf("use-start %s <= %s, the start of the key interval holding the DC's time %s",
		useStart.Format(time.RFC3339), intervalStart(now).Format(time.RFC3339), now.Format(time.RFC3339))
}

// intervalStart is the start of the key interval holding t.
func intervalStart(t time.Time) time.Time {
	b, _ := ad.RuleIntervalStart.Bound(ad.FileTimeFromTime(t))
	return b.Time()
}
