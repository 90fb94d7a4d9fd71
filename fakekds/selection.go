package fakekds

import (
	"fmt"

	"github.com/gmsasim/gmsasim/ad"
)

// CreationRule is how a DC decides that a root key is old enough to give a NEW gMSA its first
// password id. Windows' exact rule is not published; both readings are available (see doc.go).
type CreationRule int

const (
	// RuleIntervalStart (default): eligible when msKds-UseStartTime <= the start of the
	// 10-hour GKID interval containing the creation time. A key made effective at T is
	// refused until the next interval boundary, i.e. for up to 10 hours (Samba's emulation
	// of Windows GetKey; Learn: "wait up to 10 hours").
	RuleIntervalStart CreationRule = iota
	// RuleOneIntervalAgo: eligible when msKds-UseStartTime <= creation time − (10 h + 5 min),
	// the stricter rule of Samba's own DC (gmsa_generate_blobs, "one_interval_ago"). A key
	// made effective at T is refused for exactly 10 h 5 min.
	RuleOneIntervalAgo
)

// String names the rule as the CLI and traces print it.
func (r CreationRule) String() string {
	switch r {
	case RuleIntervalStart:
		return string(ad.RuleIntervalStart)
	case RuleOneIntervalAgo:
		return string(ad.RuleOneIntervalAgo)
	}
	return "CreationRule(unknown)"
}

// ParseCreationRule reads a rule by the name String gives it ("" is the default).
func ParseCreationRule(s string) (CreationRule, error) {
	for _, r := range []CreationRule{RuleIntervalStart, RuleOneIntervalAgo} {
		if s == r.String() {
			return r, nil
		}
	}
	if s == "" {
		return RuleIntervalStart, nil
	}
	return 0, fmt.Errorf("fakekds: root-key rule %q: want %s or %s", s, RuleIntervalStart, RuleOneIntervalAgo)
}

// Policy holds the KDS settings that differ between readings of Windows behaviour.
type Policy struct {
	CreationRule CreationRule
}

// RootKeyTolerance is how long before its use-start time Windows accepts a key that an
// existing password id names explicitly: one key cycle plus the maximum clock skew, 10 h 5 min.
const RootKeyTolerance = KeyCycleDuration + MaxClockSkew

// SelectRootKey returns, among keys, the most recently created (largest msKds-CreateTime) whose
// msKds-UseStartTime <= at. This is how a key is chosen when no key id is given: for a rollover,
// at is the start of the new interval. Keys marked LocalTestOnly are never in the directory and
// are ignored. Ties on CreateTime go to the larger GUID in text order (ad.GUID.Compare), so the choice does not depend on the
// order of keys (Divergence: Windows' tie-break is unknown; equal FILETIMEs only happen in
// simulations that create keys in the same 100 ns tick). The chosen key is validated: ErrBadRootKey if it is unusable, ErrNoRootKey if
// none is eligible.
func SelectRootKey(keys []*RootKey, at ad.FileTime) (*RootKey, error) {
	var best *RootKey
	for _, k := range keys {
		if k == nil || k.LocalTestOnly || k.UseStartTime > at {
			continue
		}
		if best == nil || k.CreateTime > best.CreateTime ||
			(k.CreateTime == best.CreateTime && k.ID.Compare(best.ID) > 0) {
			best = k
		}
	}
	if best == nil {
		return nil, errorf("SelectRootKey", ErrNoRootKey, "none of %d root keys has msKds-UseStartTime <= %d (%s)", len(keys), at, at.Time().Format("2006-01-02T15:04:05Z"))
	}
	if err := best.Validate(); err != nil {
		return nil, err
	}
	return best, nil
}

// RootKeyForNewAccount picks the root key for a gMSA created at time created, per the policy's
// CreationRule (ad.RootKeyRule, the one rule the migration engine's preflight asks too).
func (p Policy) RootKeyForNewAccount(keys []*RootKey, created ad.FileTime) (*RootKey, error) {
	at, ok := p.CreationRule.Rule().Bound(created)
	if !ok {
		return nil, errorf("RootKeyForNewAccount", ErrNoRootKey, "creation time %d is before any key could be eligible", created)
	}
	return SelectRootKey(keys, at)
}

// Rule is the reading's ad.RootKeyRule.
func (r CreationRule) Rule() ad.RootKeyRule {
	if r == RuleOneIntervalAgo {
		return ad.RuleOneIntervalAgo
	}
	return ad.RuleIntervalStart
}

// RootKeyForID returns the key named by an existing password id for interval g. The key must
// exist (ErrNoRootKey), be valid with a non-zero use-start time (ErrBadRootKey), and satisfy
// UseStartTime − 10 h 5 min <= start(g) (ErrRootKeyNotYetValid).
func RootKeyForID(keys []*RootKey, id ad.GUID, g GKID) (*RootKey, error) {
	const op = "RootKeyForID"
	var found *RootKey
	for _, k := range keys {
		if k != nil && !k.LocalTestOnly && k.ID == id {
			found = k
			break
		}
	}
	if found == nil {
		return nil, errorf(op, ErrNoRootKey, "no root key with id %s", id)
	}
	if err := found.Validate(); err != nil {
		return nil, err
	}
	if found.UseStartTime == 0 {
		return nil, errorf(op, ErrBadRootKey, "root key %s has msKds-UseStartTime 0", id)
	}
	if start := g.StartFileTime(); found.UseStartTime > start+RootKeyTolerance {
		return nil, errorf(op, ErrRootKeyNotYetValid, "root key %s starts at %d, more than 10 h 5 min after interval %v starts (%d)", id, found.UseStartTime, g, start)
	}
	return found, nil
}

// CheckNotFuture refuses a GKID later than the interval of now + 5 minutes: a DC never hands
// out a key from the future (E_INVALIDARG).
func CheckNotFuture(g GKID, now ad.FileTime) error {
	if limit := GKIDFromFileTime(now + MaxClockSkew); limit.Less(g) {
		return errorf("CheckNotFuture", ErrInvalidGKID, "%v is later than %v, the interval of now + 5 min", g, limit)
	}
	return nil
}
