package fakekds

import (
	"errors"

	"github.com/gmsasim/gmsasim/ad"
)

// Account is what fakekds needs to know about a gMSA to compute msDS-ManagedPassword.
type Account struct {
	SID          ad.SID
	Created      ad.FileTime // whenCreated
	IntervalDays int64       // msDS-ManagedPasswordInterval; 0 = absent = 30
	// CurrentID and PreviousID are msDS-ManagedPasswordId and msDS-ManagedPasswordPreviousId
	// as stored (nil when absent).
	CurrentID  []byte
	PreviousID []byte
	// Domain and Forest are the DNS names written into the first password id (later ids keep
	// the names of the stored one).
	Domain, Forest string
}

// ManagedPasswordResult is the outcome of reading msDS-ManagedPassword at one time.
type ManagedPasswordResult struct {
	Blob   []byte              // msDS-ManagedPassword value
	Parsed ManagedPasswordBlob // the same, as fields
	View   ReadView            // which GKIDs the passwords come from

	// Rotated is true when the stored ids are stale: the caller writes, as SYSTEM,
	// msDS-ManagedPasswordId = NewCurrentID and msDS-ManagedPasswordPreviousId = NewPreviousID
	// (nil: leave as is), sets the account's keys from the password of NewCurrentID (this is
	// also Parsed.Current unless View.NextPasswordWindow) and bumps pwdLastSet and kvno.
	Rotated       bool
	NewCurrentID  []byte
	NewPreviousID []byte
	// StoredPassword is the password of the (possibly new) stored current id: the account's
	// long-term secret, what its Kerberos keys derive from.
	StoredPassword []byte
	NextRotation   ad.FileTime // when the stored id expires
}

// NewAccountID returns msDS-ManagedPasswordId for a gMSA created at created: the GKID of the
// creation interval with the root key the policy allows (ErrNoRootKey: "Key does not exist").
func (p Policy) NewAccountID(keys []*RootKey, created ad.FileTime, domain, forest string) (PasswordID, error) {
	rk, err := p.RootKeyForNewAccount(keys, created)
	if err != nil {
		return PasswordID{}, err
	}
	return NewPasswordID(rk.ID, GKIDFromFileTime(created), domain, forest), nil
}

// ManagedPassword computes msDS-ManagedPassword for acct at time now, performing lazy rollover:
// if the stored id has expired it picks the new id(s) (root key: most recently created with
// UseStartTime <= the new interval's start) and reports them for write-back. keys is the DC's
// view of the root keys. Errors: ErrNoRootKey / ErrRootKeyNotYetValid / ErrBadRootKey from key
// lookup, ErrInvalidGKID for ids in the future, ErrMalformed for unparsable stored ids.
func (d *Deriver) ManagedPassword(keys []*RootKey, acct Account, now ad.FileTime) (*ManagedPasswordResult, error) {
	var stored, storedPrev *PasswordID
	if acct.CurrentID != nil {
		id, err := ParsePasswordID(acct.CurrentID)
		if err != nil {
			return nil, err
		}
		stored = &id
	}
	if acct.PreviousID != nil {
		id, err := ParsePasswordID(acct.PreviousID)
		if err != nil {
			return nil, err
		}
		storedPrev = &id
	}
	var storedG, storedPrevG *GKID
	if stored != nil {
		storedG = &stored.GKID
	}
	if storedPrev != nil {
		storedPrevG = &storedPrev.GKID
	}
	sched, err := Rollover(acct.Created, storedG, acct.IntervalDays, now)
	if err != nil {
		return nil, err
	}
	res := &ManagedPasswordResult{Rotated: sched.Rotated, NextRotation: sched.NextRotation}
	// New ids keep the stored id's names, as Samba does (it rewrites only GKID and key id);
	// acct.Domain/Forest are used for an account without an id.
	if stored != nil {
		acct.Domain, acct.Forest = stored.Domain, stored.Forest
	}
	// ids maps each GKID the read may need to the root key id to derive it with.
	ids := map[GKID]ad.GUID{}
	if stored != nil {
		ids[stored.GKID] = stored.RootKeyID
	}
	if storedPrev != nil {
		ids[storedPrev.GKID] = storedPrev.RootKeyID
	}
	newID := func(g GKID) (PasswordID, error) {
		if id, ok := ids[g]; ok {
			return NewPasswordID(id, g, acct.Domain, acct.Forest), nil
		}
		rk, err := SelectRootKey(keys, g.StartFileTime())
		if err != nil {
			return PasswordID{}, err
		}
		ids[g] = rk.ID
		return NewPasswordID(rk.ID, g, acct.Domain, acct.Forest), nil
	}
	// A previous password whose key cannot be found is left out, not an error (Samba: "it's
	// not critical if we can't find a key for deriving a previous gMSA password").
	missingKey := func(err error) bool {
		return errors.Is(err, ErrNoRootKey) || errors.Is(err, ErrRootKeyNotYetValid)
	}
	if sched.Rotated {
		cur, err := newID(sched.Current)
		if err != nil {
			return nil, err
		}
		res.NewCurrentID = cur.Marshal()
		if sched.Previous != nil {
			prev, err := newID(*sched.Previous)
			switch {
			case err == nil:
				res.NewPreviousID = prev.Marshal()
			case !missingKey(err):
				return nil, err
			}
		}
	}
	view := sched.View(acct.Created, storedPrevG, now)
	password := func(g GKID) ([]byte, error) {
		if err := CheckNotFuture(g, now); err != nil {
			return nil, err
		}
		id, err := newID(g)
		if err != nil {
			return nil, err
		}
		rk, err := RootKeyForID(keys, id.RootKeyID, g)
		if err != nil {
			return nil, err
		}
		return d.Password(rk, g, acct.SID)
	}
	if res.StoredPassword, err = password(sched.Current); err != nil {
		return nil, err
	}
	res.Parsed.Current = res.StoredPassword
	if view.Current != sched.Current {
		if res.Parsed.Current, err = password(view.Current); err != nil {
			return nil, err
		}
	}
	if view.Previous != nil {
		res.Parsed.Previous, err = password(*view.Previous)
		switch {
		case err != nil && missingKey(err):
			view.Previous, res.Parsed.Previous = nil, nil
		case err != nil:
			return nil, err
		}
	}
	res.View = view
	res.Parsed.QueryInterval, res.Parsed.UnchangedInterval = view.QueryInterval, view.UnchangedInterval
	res.Blob = res.Parsed.Marshal()
	return res, nil
}
