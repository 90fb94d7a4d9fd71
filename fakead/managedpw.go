package fakead

import (
	"errors"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakekds"
)

// msDS-ManagedPassword, constructed on read ([MS-ADTS] 3.1.1.4.5.39):
//   - only on an encrypted connection: otherwise the search fails with operationsError and
//     0000202D ERROR_DS_CONFIDENTIALITY_REQUIRED, whoever asks;
//   - only for principals the gMSA's msDS-GroupMSAMembership grants read-property, through their
//     own SID or a group SID of the token they bound with; everyone else gets the entry without
//     the attribute;
//   - computed by this DC's KDS from the root keys of its replica on its clock, with lazy
//     rotation: when the stored id has expired the DC writes msDS-ManagedPasswordId,
//     msDS-ManagedPasswordPreviousId, the new keys (pwdLastSet, msDS-KeyVersionNumber) as SYSTEM,
//     and that write replicates.
//
// Divergence: when the DC has no usable root key for the account (the key has not replicated
// here, or is not yet valid), the entry is returned without the attribute, so that a host reading
// it sees "no password" as from a DC that refuses it. Windows fails the password retrieval on
// such a DC, in a way that is not documented; Samba (managed_pwd.c, gmsa_fetch_root_key) fails
// the whole search when the key an existing id names cannot be found. Callers that need the
// reason use Directory.ManagedPassword, which returns the "Key does not exist" error.

// A DC older than Windows Server 2012 has no Key Distribution Service and does not construct
// msDS-ManagedPassword: [MS-ADTS] 3.1.1.4.5.39 says "The msDS-ManagedPassword attribute exists in
// AD DS on Windows Server 2012 operating system and later", and [MS-ADA2] 2.379 marks it
// FLAG_ATTR_IS_CONSTRUCTED, "First implemented on Windows Server 2012". A constructed attribute
// that the DSA does not construct is not returned, so a Windows Server 2008 R2 DC (even with the
// 2012 schema, where the attribute is defined) returns the gMSA entry without it, whoever asks;
// the seed's requirement is "Windows Server 2012 DCs available for host to retrieve the password".
// It performs no lazy rotation either. Its KDC still issues tickets for the gMSA from the keys
// the 2012 DCs stored and replicated (AccountAt falls back to them): the seed asks only for an
// "RFC compliant KDC" of the member host's domain.
// Divergence: no transcript of such a read against a 2008 R2 DC was found (searches of Learn,
// Microsoft Q&A, GitHub issues); the unencrypted-connection error (0000202D) is kept as for a
// 2012 DC.

// ErrNoKDS is why a DC older than Windows Server 2012 computes no managed password.
var ErrNoKDS = errors.New("this domain controller runs a Windows Server older than 2012: it has no Key Distribution Service and does not construct msDS-ManagedPassword ([MS-ADTS] 3.1.1.4.5.39)")

// HasKDS reports whether this DC runs Windows Server 2012 or later (DS_BEHAVIOR_WIN2012, 5) and so
// computes msDS-ManagedPassword.
func (d *Directory) HasKDS() bool { return dcFunctionality(d.dc.OS) >= 5 }

// managedPasswordValue is the value a search returns for msDS-ManagedPassword of the gMSA e once
// the caller passed the checks (constructedValues): the blob this DC's KDS computes, with the
// lazy rotation write; no value when the DC has no usable root key (the Divergence above).
func (d *Directory) managedPasswordValue(now time.Time, e *entry) ([][]byte, error) {
	res, err := d.managedPassword(now, e)
	switch {
	case err == nil:
		return [][]byte{res.Blob}, nil
	case isKeyError(err), errors.Is(err, ErrNoKDS):
		return nil, nil
	}
	var ae *Error
	if errors.As(err, &ae) {
		return nil, err
	}
	return nil, &Error{Code: OperationsError, Op: "search", DN: e.dnString(), Err: err}
}

// isKeyError reports a failure for want of a usable root key.
func isKeyError(err error) bool {
	return errors.Is(err, fakekds.ErrNoRootKey) || errors.Is(err, fakekds.ErrRootKeyNotYetValid) ||
		errors.Is(err, fakekds.ErrBadRootKey)
}

// mayReadManagedPassword applies msDS-GroupMSAMembership to the caller's token.
// Divergence: AD also requires the caller to be able to read the object itself; every
// authenticated principal can in the model.
func (d *Directory) mayReadManagedPassword(c Caller, e *entry) bool {
	if c.System {
		return true
	}
	raw := e.first(d.schema.Attr(ad.AttrGroupMSAMembership))
	if raw == nil {
		return false
	}
	sd, err := ad.ParseSecurityDescriptor(raw)
	if err != nil {
		return false
	}
	token := c.Token
	if c.SID != "" {
		token = append([]string{c.SID}, token...)
	}
	return sd.AccessAllowed(token, ad.RightReadProperty)
}

// managedPassword computes the blob of e at now on this DC and performs the lazy rotation write.
func (d *Directory) managedPassword(now time.Time, e *entry) (*fakekds.ManagedPasswordResult, error) {
	if !d.HasKDS() {
		return nil, ErrNoKDS
	}
	acct, err := d.kdsAccount(e)
	if err != nil {
		return nil, err
	}
	res, err := d.kdsState().deriver.ManagedPassword(d.KDSRootKeys(), acct, ad.FileTimeFromTime(now))
	if err != nil {
		return nil, err
	}
	if res.Rotated {
		if err := d.writeRotation(now, e, res); err != nil {
			return nil, err
		}
		d.rotations = append(d.rotations, Rotation{At: now, DN: e.dn.String(),
			SAMAccountName: string(e.first(d.at.sAMAccountName)), NextRotation: res.NextRotation.Time()})
	}
	return res, nil
}

// Rotation is one lazy rotation of a gMSA's password this DC performed: a read of
// msDS-ManagedPassword (a search, Directory.ManagedPassword, or the KDC's AccountAt) found the
// stored password id expired and wrote the new one.
type Rotation struct {
	At             time.Time // when the DC wrote it (the read's time)
	DN             string
	SAMAccountName string
	NextRotation   time.Time // when the new password id expires
}

// DrainRotations returns the rotations performed since the last call, oldest first, and forgets
// them: the world drains them after every step to trace them. A replica that is never drained
// keeps them (one small record per rotation).
func (d *Directory) DrainRotations() []Rotation {
	out := d.rotations
	d.rotations = nil
	return out
}

// writeRotation stores a rotation as SYSTEM: new ids, keys from the new stored password
// (pwdLastSet, and msDS-KeyVersionNumber through unicodePwd's version), whenChanged/uSNChanged.
func (d *Directory) writeRotation(now time.Time, e *entry, res *fakekds.ManagedPasswordResult) error {
	k, err := d.gmsaKeys(e, res.StoredPassword)
	if err != nil {
		return err
	}
	usn := d.nextUSN()
	d.put(e, d.schema.Attr(ad.AttrManagedPasswordID), now, usn, res.NewCurrentID)
	if res.NewPreviousID != nil {
		d.put(e, d.schema.Attr(ad.AttrManagedPasswordPreviousID), now, usn, res.NewPreviousID)
	}
	d.storeKeys(e, k, now, usn)
	d.touch(e, now, usn)
	return nil
}

// ManagedPassword reads a gMSA's msDS-ManagedPassword as this DC computes it at now (with the
// lazy rotation write), without the access and encryption rules of a search: for the world and
// the KDC, which act as the system. Errors: noSuchObject, unwillingToPerform for an object that is
// not a gMSA, the "Key does not exist" error when the DC has no usable root key.
func (d *Directory) ManagedPassword(now time.Time, dnStr string) (*fakekds.ManagedPasswordResult, error) {
	const op = "search"
	e, err := d.gmsaEntry(op, dnStr)
	if err != nil {
		return nil, err
	}
	res, err := d.managedPassword(now, e)
	if err != nil {
		if isKeyError(err) {
			return nil, d.noKeyError(op, dnStr, err)
		}
		if errors.Is(err, ErrNoKDS) {
			return nil, &Error{Code: UnwillingToPerform, Op: op, DN: dnStr, Err: err}
		}
		return nil, &Error{Code: OperationsError, Op: op, DN: dnStr, Err: err}
	}
	return res, nil
}

// CheckManagedPassword says whether this DC can compute a gMSA's msDS-ManagedPassword at now,
// without the lazy rotation write (a look, not a read): nil when it can; the errors of
// ManagedPassword otherwise. For diagnostics that must not change the replica.
func (d *Directory) CheckManagedPassword(now time.Time, dnStr string) error {
	const op = "search"
	e, err := d.gmsaEntry(op, dnStr)
	if err != nil {
		return err
	}
	if !d.HasKDS() {
		return &Error{Code: UnwillingToPerform, Op: op, DN: dnStr, Err: ErrNoKDS}
	}
	acct, err := d.kdsAccount(e)
	if err == nil {
		_, err = d.kdsState().deriver.ManagedPassword(d.KDSRootKeys(), acct, ad.FileTimeFromTime(now))
	}
	if err != nil {
		if isKeyError(err) {
			return d.noKeyError(op, dnStr, err)
		}
		return &Error{Code: OperationsError, Op: op, DN: dnStr, Err: err}
	}
	return nil
}

// MayReadManagedPassword says whether c's token is granted the read of a gMSA's
// msDS-ManagedPassword by its msDS-GroupMSAMembership (the encryption rule aside), without
// computing the password. Errors: noSuchObject, unwillingToPerform for an object that is not a
// gMSA.
func (d *Directory) MayReadManagedPassword(c Caller, dnStr string) (bool, error) {
	e, err := d.gmsaEntry("search", dnStr)
	if err != nil {
		return false, err
	}
	return d.mayReadManagedPassword(c, e), nil
}

// gmsaEntry finds a live gMSA by DN.
func (d *Directory) gmsaEntry(op, dnStr string) (*entry, error) {
	dn, err := ParseDN(dnStr)
	if err != nil {
		return nil, errInvalidDN(op, dnStr)
	}
	e := d.lookup(dn)
	if e == nil || e.deleted {
		return nil, errNoSuchObject(op, dnStr, d.bestMatch(dn))
	}
	if !d.isClass(e, ad.ClassGroupManagedServiceAccount) {
		return nil, errUnwilling(op, dnStr, "not a group managed service account")
	}
	return e, nil
}

// GMSAAccount is the gMSA part of an Account.
type GMSAAccount struct {
	// PreviousKeys are the keys of the previous managed password, when the account has one
	// (the blob's previous password, else msDS-ManagedPasswordPreviousId); nil otherwise. Set
	// by AccountAt only.
	PreviousKeys *Keys
	// Blob is msDS-ManagedPassword as this DC returns it at the time of AccountAt.
	Blob []byte
	// NextRotation is when the stored password id expires.
	NextRotation time.Time
	// StableUntil bounds how long this result holds: AccountAt on the same replica state (no
	// write since, HighestUSN unchanged) returns the same Keys, KVNO and PreviousKeys at every
	// time from now until StableUntil. It is the earliest of the next rotation, the start of the
	// 5-minute window before it (where the previous password a read returns changes) and the end
	// of the account's first period (from when a read returns a previous password). Set by
	// AccountAt only; zero when the blob could not be computed.
	StableUntil time.Time
}

// AccountAt is Account for a time: for a gMSA it performs the lazy rotation first (as a read of
// msDS-ManagedPassword would), so Keys and KVNO are those of the current managed password, and
// fills GMSA with the previous keys and the blob. For other principals it is Account plus
// nothing more. A gMSA on a DC without a usable root key is returned with its
// stored keys and GMSA.Blob nil.
func (d *Directory) AccountAt(now time.Time, name string) (*Account, bool) {
	a, ok := d.Account(name)
	if !ok || a.GMSA == nil {
		return a, ok
	}
	dn, err := ParseDN(a.DN)
	if err != nil {
		return a, true
	}
	e := d.lookup(dn)
	res, err := d.managedPassword(now, e)
	if err != nil {
		return a, true
	}
	a = d.accountOf(e)
	a.GMSA.Blob = res.Blob
	a.GMSA.NextRotation = res.NextRotation.Time()
	a.GMSA.StableUntil = d.stableUntil(now, e, res)
	// The previous keys: the blob's previous password, or, when the blob has none (a young
	// account) or carries the current one as previous (the last-5-minutes window), the password
	// msDS-ManagedPasswordPreviousId names.
	prev := res.Parsed.Previous
	if res.View.NextPasswordWindow || res.View.Previous == nil {
		prev = d.storedPreviousPassword(e)
	}
	if prev != nil {
		if k, err := d.gmsaKeys(e, prev); err == nil {
			a.GMSA.PreviousKeys = &k
		}
	}
	return a, true
}

// stableUntil is GMSAAccount.StableUntil for a read at now: the first time after now at which
// the read view of msDS-ManagedPassword (fakekds.Schedule.View) can change without a write.
func (d *Directory) stableUntil(now time.Time, e *entry, res *fakekds.ManagedPasswordResult) time.Time {
	until := res.NextRotation.Time()
	if w := until.Add(-fakekds.MaxClockSkew.Duration()); now.Before(w) {
		until = w
	}
	acct, err := d.kdsAccount(e)
	if err != nil {
		return now // nothing is known to hold: don't memoise
	}
	days := acct.IntervalDays
	if days == 0 {
		days = fakekds.DefaultPasswordIntervalDays
	}
	r, err := fakekds.RolloverInterval(days)
	if err != nil {
		return now
	}
	if grown := (acct.Created + r).Time(); now.Before(grown) && grown.Before(until) {
		until = grown
	}
	return until
}

// storedPreviousPassword derives the password msDS-ManagedPasswordPreviousId names (nil when
// absent or underivable).
func (d *Directory) storedPreviousPassword(e *entry) []byte {
	raw := e.first(d.schema.Attr(ad.AttrManagedPasswordPreviousID))
	if raw == nil {
		return nil
	}
	id, err := fakekds.ParsePasswordID(raw)
	if err != nil {
		return nil
	}
	rk, err := fakekds.RootKeyForID(d.KDSRootKeys(), id.RootKeyID, id.GKID)
	if err != nil {
		return nil
	}
	acct, err := d.kdsAccount(e)
	if err != nil {
		return nil
	}
	pw, err := d.kdsState().deriver.Password(rk, id.GKID, acct.SID)
	if err != nil {
		return nil
	}
	return pw
}

// gmsaOf fills the gMSA part of an account from the entry (nil for other principals).
func (d *Directory) gmsaOf(e *entry) *GMSAAccount {
	if !d.isClass(e, ad.ClassGroupManagedServiceAccount) {
		return nil
	}
	return &GMSAAccount{}
}

// Reset-ADServiceAccountPassword is not modelled for gMSAs: its documentation says "Reset is not
// supported for group managed service accounts" (their passwords are a function of the root key,
// the SID and the interval; there is nothing to reset).
