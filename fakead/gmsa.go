package fakead

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakekds"
)

// Group managed service accounts in the directory: creation rules (what a DC checks and writes
// when msDS-GroupManagedServiceAccount is added), the interval that cannot change, and the
// password id a DC gives a new account. Reading msDS-ManagedPassword is managedpw.go.

// Diagnostics of gMSA creation.
const (
	// diagNoKey is what a DC answers when its KDS has no usable root key: the AD module shows the
	// text of NTE_NO_KEY (0x8009000D), "Key does not exist".
	// Divergence: the exact LDAP result code and DSID of this failure are not published; the
	// model answers other (80) with NTE_NO_KEY as the extended error, which is what makes the AD
	// module print "Key does not exist".
	diagNoKey = "8009000D: SvcErr: DSID-031A1254, problem 5012 (DIR_ERROR), data 0"
	// ntesNoKeyText is FormatMessage(NTE_NO_KEY).
	ntesNoKeyText = "Key does not exist."
)

// ErrNoRootKey is wrapped by the errors of gMSA creation and password reads that fail for want of
// a usable KDS root key on the DC (errors.Is(err, fakekds.ErrNoRootKey) also holds).
var ErrNoRootKey = fakekds.ErrNoRootKey

// gmsaAdd marks an add that creates a gMSA: finishGMSAAdd picks its password id and keys once
// every other check has passed. keepID: the directory itself wrote msDS-ManagedPasswordId (an
// import or a test set-up); only the keys are derived, when the DC can.
type gmsaAdd struct{ keepID bool }

// checkGMSAAdd runs the rules a DC applies to an LDAP add of msDS-GroupManagedServiceAccount (and
// of a KDS root key) before anything is written. Callers other than SYSTEM only.
func (d *Directory) checkGMSAAdd(now time.Time, c Caller, e *entry) (*gmsaAdd, error) {
	const op = "add"
	if c.System {
		if d.isClass(e, ad.ClassGroupManagedServiceAccount) {
			// The directory creating a gMSA itself (world set-up) still needs an id and keys.
			return &gmsaAdd{keepID: e.get(d.schema.Attr(ad.AttrManagedPasswordID)) != nil}, nil
		}
		return nil, nil
	}
	if err := d.checkRootKeyAdd(c, e); err != nil {
		return nil, err
	}
	if !d.isClass(e, ad.ClassGroupManagedServiceAccount) {
		return nil, nil
	}
	dnStr := e.dn.String()
	for _, n := range []string{ad.AttrManagedPasswordID, ad.AttrManagedPasswordPreviousID} {
		if t := d.schema.Attr(n); e.get(t) != nil {
			return nil, errConstraint(op, dnStr, t) // systemOnly: only the DC writes them
		}
	}
	// Divergence: a gMSA add on a DC older than 2012 would not be served by the AD module (it
	// locates a 2012 DC through ADWS); the model only asks whether such a DC exists in the
	// replica, and lets this DC compute the id.
	if !d.dcSupportsGMSA() {
		return nil, &Error{Code: UnwillingToPerform, Op: op, DN: dnStr, Diag: diagWillNotPerform,
			Err: errors.New("no domain controller of Windows Server 2012 or later in the domain: group managed service accounts need one")}
	}
	// Divergence: the diagnostic texts of the attribute rules below are not confirmed from a
	// Windows DC; the result codes follow Samba's samldb, which mirrors Windows.
	sam := e.firstString(d.at.sAMAccountName)
	if sam != "" && !strings.HasSuffix(sam, "$") {
		ae := errConstraint(op, dnStr, d.at.sAMAccountName)
		ae.Err = fmt.Errorf("sAMAccountName %q of a group managed service account must end in $", sam)
		return nil, ae
	}
	if v := e.firstString(d.at.userAccountControl); v != "" {
		uac, err := strconv.ParseInt(v, 10, 64)
		if err != nil || uac&UACWorkstationTrust == 0 || uac&(UACNormalAccount|UACServerTrust) != 0 {
			return nil, &Error{Code: UnwillingToPerform, Op: op, DN: dnStr, Diag: diagWillNotPerform,
				Err: fmt.Errorf("userAccountControl %s of a group managed service account must be WORKSTATION_TRUST_ACCOUNT (0x1000)", v)}
		}
	}
	if t := d.schema.Attr(ad.AttrManagedPasswordInterval); e.get(t) != nil {
		days, err := strconv.ParseInt(e.firstString(t), 10, 64)
		if err != nil || days < 1 {
			return nil, errConstraint(op, dnStr, t)
		}
		if _, err := fakekds.RolloverInterval(days); err != nil {
			return nil, errConstraint(op, dnStr, t)
		}
	}
	if t := d.schema.Attr(ad.AttrGroupMSAMembership); e.get(t) != nil {
		if _, err := ad.ParseSecurityDescriptor(e.first(t)); err != nil {
			ae := errSyntaxValue(op, dnStr, t)
			ae.Err = err
			return nil, ae
		}
	}
	return &gmsaAdd{}, nil
}

// noKeyError is the DC's answer when its KDS cannot produce a key.
func (d *Directory) noKeyError(op, dn string, err error) *Error {
	return &Error{Code: Other, Op: op, DN: dn, Diag: diagNoKey, Err: fmt.Errorf("%s (%w)", ntesNoKeyText, err)}
}

// finishGMSAAdd writes what a DC adds to a new gMSA before it is inserted, once the schema and
// uniqueness checks have passed: msDS-ManagedPasswordId — the GKID of the creation interval with
// the root key this DC's KDS may use (Policy.NewAccountID), else "Key does not exist" — and the
// account's keys from the first managed password (which sets pwdLastSet and starts
// msDS-KeyVersionNumber at 1). e has its objectSid already.
func (d *Directory) finishGMSAAdd(now time.Time, e *entry, g *gmsaAdd, usn uint64) error {
	if !g.keepID {
		id, err := d.kdsState().policy.NewAccountID(d.KDSRootKeys(), ad.FileTimeFromTime(now), d.dom.DNSName, d.dom.DNSName)
		if err != nil {
			return d.noKeyError("add", e.dn.String(), err)
		}
		d.put(e, d.schema.Attr(ad.AttrManagedPasswordID), now, usn, id.Marshal())
	}
	acct, err := d.kdsAccount(e)
	if err != nil {
		return err
	}
	res, err := d.kdsState().deriver.ManagedPassword(d.KDSRootKeys(), acct, ad.FileTimeFromTime(now))
	if err != nil {
		if g.keepID {
			return nil // keys come with the first read the DC can compute
		}
		return d.noKeyError("add", e.dn.String(), err)
	}
	if g.keepID && res.Rotated {
		return nil // a stale imported id: the first read rotates it and writes the keys
	}
	k, err := d.gmsaKeys(e, res.StoredPassword)
	if err != nil {
		return &Error{Code: OperationsError, Op: "add", DN: e.dn.String(), Err: err}
	}
	d.storeKeys(e, k, now, usn)
	return nil
}

// checkGMSAModify refuses changes the DC does not allow on a gMSA: msDS-ManagedPasswordInterval is
// set at creation only, and the password ids are the DC's.
// Divergence: Windows' exact diagnostic is not confirmed; the model answers constraintViolation
// with ERROR_DS_CANT_MOD_SYSTEM_ONLY (0x20B1), the attribute being systemOnly in the schema.
func (d *Directory) checkGMSAModify(c Caller, e *entry, changed map[*AttrType]bool, work map[*AttrType][]value) error {
	if c.System {
		return nil
	}
	for t := range changed {
		switch t.lower {
		case "msds-managedpasswordinterval", "msds-managedpasswordid", "msds-managedpasswordpreviousid":
			return attErr(ConstraintViolation, "modify", e.dn.String(), 0x20B1, 1005, "CONSTRAINT_ATT_TYPE", t)
		case "msds-groupmsamembership":
			if vals := work[t]; len(vals) > 0 {
				if _, err := ad.ParseSecurityDescriptor(vals[0].raw); err != nil {
					ae := errSyntaxValue("modify", e.dn.String(), t)
					ae.Err = err
					return ae
				}
			}
		}
	}
	return nil
}

// kdsAccount is what fakekds needs to know about the gMSA e.
func (d *Directory) kdsAccount(e *entry) (fakekds.Account, error) {
	var a fakekds.Account
	var err error
	if a.SID, err = ad.SIDFromBytes(e.first(d.at.objectSid)); err != nil {
		return a, fmt.Errorf("gMSA %s has no objectSid: %w", e.dnString(), err)
	}
	if t, err := ad.ParseGeneralizedTime(e.firstString(d.at.whenCreated)); err == nil {
		a.Created = ad.FileTimeFromTime(t)
	}
	if v := e.firstString(d.schema.Attr(ad.AttrManagedPasswordInterval)); v != "" {
		a.IntervalDays, _ = strconv.ParseInt(v, 10, 64)
	}
	if v := e.first(d.schema.Attr(ad.AttrManagedPasswordID)); v != nil {
		a.CurrentID = v
	}
	if v := e.first(d.schema.Attr(ad.AttrManagedPasswordPreviousID)); v != nil {
		a.PreviousID = v
	}
	a.Domain, a.Forest = d.dom.DNSName, d.dom.DNSName
	return a, nil
}

// gmsaKeys derives the Kerberos keys of the gMSA e from a managed password (256 bytes of
// UTF-16LE) with the machine salt, cached per DC.
func (d *Directory) gmsaKeys(e *entry, password []byte) (Keys, error) {
	salt := fakekds.MachineSalt(d.dom.DNSName, e.firstString(d.at.sAMAccountName))
	fk, err := d.dom.keys.Keys(password, salt) // the domain's memo: every replica and host derives the same
	if err != nil {
		return Keys{}, err
	}
	return Keys{NTHash: fk.NTHash, AES128: fk.AES128, AES256: fk.AES256, Salt: salt}, nil
}
