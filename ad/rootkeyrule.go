package ad

import "fmt"

// The 10-hour rule: when a KDS root key is old enough to give a NEW gMSA its first password id.
// Windows' exact rule is not published ("it might take up to 10 hours"), so both readings exist,
// here, in one place: the simulated DCs' KDS (fakekds.Policy), the migration engine's preflight
// (migrate.RootKeyRule) and through the KDS the PowerShell cmdlets ("Key does not exist") all ask
// this type.

// RootKeyCycle is the KDS key interval, 10 hours in FILETIME units ([MS-GKDI] 3.1.4.1
// KeyCycleDuration); intervals start at multiples of it counted from the FILETIME epoch.
const RootKeyCycle FileTime = 360000000000

// RootKeySkew is Kerberos' 5 minutes of clock skew in FILETIME units, which the stricter reading
// adds to the key cycle.
const RootKeySkew FileTime = 3000000000

// RootKeyRule is a reading of the 10-hour rule.
type RootKeyRule string

const (
	// RuleIntervalStart (the default): a new gMSA asks for the key interval holding the DC's time,
	// and the KDS takes the most recently created key whose msKds-UseStartTime is at or before that
	// interval's start ([MS-GKDI] 3.1.4.1; Samba's emulation of Windows' GetKey). A key is eligible
	// from the first interval boundary at or after its use-start: up to 10 hours after
	// -EffectiveImmediately, at once for -EffectiveTime (Get-Date).AddHours(-10).
	RuleIntervalStart RootKeyRule = "interval-start"
	// RuleOneIntervalAgo: eligible when use-start <= the DC's time − (10 h + 5 min), the stricter
	// rule of Samba's own DC (gmsa_generate_blobs, "one_interval_ago").
	RuleOneIntervalAgo RootKeyRule = "one-interval-ago"
)

// ParseRootKeyRule reads a rule by its name ("" is the default).
func ParseRootKeyRule(s string) (RootKeyRule, error) {
	switch RootKeyRule(s) {
	case "", RuleIntervalStart:
		return RuleIntervalStart, nil
	case RuleOneIntervalAgo:
		return RuleOneIntervalAgo, nil
	}
	return "", fmt.Errorf("root-key rule %q: want %s or %s", s, RuleIntervalStart, RuleOneIntervalAgo)
}

// Bound is the latest msKds-UseStartTime a key may have to give a gMSA created at created its
// first password id; false when no key can be eligible that early.
func (r RootKeyRule) Bound(created FileTime) (FileTime, bool) {
	if r == RuleOneIntervalAgo {
		if created < RootKeyCycle+RootKeySkew {
			return 0, false
		}
		return created - RootKeyCycle - RootKeySkew, true
	}
	return created - created%RootKeyCycle, true
}

// Eligible reports whether a key with that use-start may give a gMSA created at created its first
// password id.
func (r RootKeyRule) Eligible(useStart, created FileTime) bool {
	b, ok := r.Bound(created)
	return ok && useStart <= b
}

// UsableFrom is the first creation time at which a key with that use-start is eligible.
func (r RootKeyRule) UsableFrom(useStart FileTime) FileTime {
	if r == RuleOneIntervalAgo {
		return useStart + RootKeyCycle + RootKeySkew
	}
	if rem := useStart % RootKeyCycle; rem != 0 {
		return useStart + RootKeyCycle - rem
	}
	return useStart
}
