package sim

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakekds"
)

// The guides' actions as Go methods on the world: create, change and remove a gMSA, change a
// group's members, add a KDS root key, read what a principal reads. Each runs on one DC (the
// change replicates from there), as Administrator would through the AD module, and returns typed
// results and the directory's own errors (*ADError: AD's result code and its diagnostic text,
// "0000202D: ..."). A Go test needs neither fakead nor fakekds nor attribute names.
//
// Member hosts (Install-/Test-/Uninstall-ADServiceAccount) are package sim/host's; the same steps
// as PowerShell lines run through scenarios.Attach.

// ADError is the directory's error: an LDAP result code, AD's diagnostic text, the operation and
// DN. errors.As(err, new(*sim.ADError)) finds it in the errors the methods below return.
type ADError = fakead.Error

// Encryption types of a gMSA (msDS-SupportedEncryptionTypes bits; KerberosEncryptionType).
const (
	EncDES    = 0x3
	EncRC4    = 0x4
	EncAES128 = 0x8
	EncAES256 = 0x10
	// EncDefault is what New-ADServiceAccount sets without -KerberosEncryptionType: RC4, AES128, AES256.
	EncDefault = EncRC4 | EncAES128 | EncAES256
	// EncNone is -KerberosEncryptionType None: msDS-SupportedEncryptionTypes 0 (a GMSASpec's 0 is
	// EncDefault).
	EncNone = -1
)

// GMSASpec is New-ADServiceAccount's part for a gMSA.
type GMSASpec struct {
	Name string // the account's name ("ITFarm1"); its sAMAccountName gets the "$"
	// SAMAccountName is -SamAccountName ("": Name with "$"); a trailing "$" is added when missing.
	SAMAccountName string
	DNSHostName    string // -DNSHostName (required by the cmdlet; empty: none)
	// PrincipalsAllowedToRetrieve are the accounts or groups that may read the password
	// (-PrincipalsAllowedToRetrieveManagedPassword): sAMAccountNames ("WEB1$", "ITFarmHosts") or DNs.
	PrincipalsAllowedToRetrieve []string
	SPNs                        []string // -ServicePrincipalNames
	IntervalDays                int      // -ManagedPasswordIntervalInDays; 0: 30, fixed at creation
	EncryptionTypes             int      // Enc* bits; 0: EncDefault; EncNone: none
	// OutboundOnly is -RestrictToOutboundAuthenticationOnly: the account only authenticates to
	// others, so it needs no DNS host name; without it NewGMSA wants DNSHostName, as the cmdlet does.
	OutboundOnly bool
	Path         string // the container's DN; "": CN=Managed Service Accounts
}

func (s GMSASpec) sam() string {
	if s.SAMAccountName != "" {
		return strings.TrimSuffix(s.SAMAccountName, "$") + "$"
	}
	return strings.TrimSuffix(s.Name, "$") + "$"
}

// ServiceAccountAttributes are the attributes New-ADServiceAccount writes for s: objectClass
// (msDS-GroupManagedServiceAccount, or msDS-ManagedServiceAccount for a standalone MSA,
// -RestrictToSingleComputer), sAMAccountName, userAccountControl, the password interval (a gMSA's;
// 30 days unless given — Divergence: the DC fills it in when absent, the module does it here), the
// encryption types (EncDefault unless given), the DNS host name and SPNs when given, and
// membershipSD (msDS-GroupMSAMembership) when not nil. NewGMSA and the scenario language's cmdlet
// both build the account from it.
func ServiceAccountAttributes(s GMSASpec, standalone bool, membershipSD []byte) []fakead.Attribute {
	class := "msDS-GroupManagedServiceAccount"
	if standalone {
		class = "msDS-ManagedServiceAccount"
	}
	enc := s.EncryptionTypes
	switch enc {
	case 0:
		enc = EncDefault
	case EncNone:
		enc = 0
	}
	attrs := []fakead.Attribute{
		attrOf(ad.AttrObjectClass, class),
		attrOf("sAMAccountName", s.sam()),
		attrOf("userAccountControl", strconv.Itoa(fakead.UACWorkstationTrust)),
	}
	if s.DNSHostName != "" {
		attrs = append(attrs, attrOf("dNSHostName", s.DNSHostName))
	}
	if !standalone {
		interval := s.IntervalDays
		if interval == 0 {
			interval = 30
		}
		attrs = append(attrs, attrOf("msDS-ManagedPasswordInterval", strconv.Itoa(interval)))
	}
	attrs = append(attrs, attrOf("msDS-SupportedEncryptionTypes", strconv.Itoa(enc)))
	if membershipSD != nil {
		attrs = append(attrs, fakead.Attribute{Name: "msDS-GroupMSAMembership", Values: [][]byte{membershipSD}})
	}
	if len(s.SPNs) > 0 {
		attrs = append(attrs, attrOf("servicePrincipalName", s.SPNs...))
	}
	return attrs
}

// GMSA is a gMSA as created.
type GMSA struct {
	Name, SAMAccountName, DN, SID string
}

// NewGMSA creates a gMSA on dc, as Administrator. A forest whose schema predates 2012 (objectVersion
// below 52), a domain without a KDS root key the DC may use, a duplicate name or SPN fail with the
// directory's error.
func (w *World) NewGMSA(dc string, s GMSASpec) (*GMSA, error) {
	if s.Name == "" {
		return nil, errors.New("sim: NewGMSA: no name")
	}
	if s.DNSHostName == "" && !s.OutboundOnly {
		return nil, fmt.Errorf("sim: New-ADServiceAccount %s: no DNSHostName: give the account's DNS host name, or set OutboundOnly (-RestrictToOutboundAuthenticationOnly) for an account that only authenticates to others", s.Name)
	}
	sam := s.sam()
	var g *GMSA
	err := w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		admin, err := adminCaller(d)
		if err != nil {
			return err
		}
		path := s.Path
		if path == "" {
			path = "CN=Managed Service Accounts," + d.DomainDN()
		}
		dn := "CN=" + strings.TrimSuffix(s.Name, "$") + "," + path
		var sd []byte
		if len(s.PrincipalsAllowedToRetrieve) > 0 {
			if sd, err = membershipSD(d, s.PrincipalsAllowedToRetrieve); err != nil {
				return err
			}
		}
		attrs := ServiceAccountAttributes(s, false, sd)
		if err := d.Add(now, admin, dn, attrs); err != nil {
			return err
		}
		a, ok := d.Account(dn)
		if !ok {
			return fmt.Errorf("sim: NewGMSA: %s not found after its creation", dn)
		}
		g = &GMSA{Name: strings.TrimSuffix(s.Name, "$"), SAMAccountName: sam, DN: dn, SID: a.SID.String()}
		w.trace.Logf(now, "%s gMSA %s created", d.DC().Name, sam)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sim: New-ADServiceAccount %s on %s: %w", s.Name, dc, err)
	}
	return g, nil
}

// GMSAChange is Set-ADServiceAccount's part: nil fields stay as they are; a set field replaces.
type GMSAChange struct {
	PrincipalsAllowedToRetrieve *[]string // replaces the list (Set-ADServiceAccount replaces, never adds)
	SPNs                        *[]string
	DNSHostName                 *string
	EncryptionTypes             *int
	Enabled                     *bool
}

// SetGMSA changes a gMSA (its name with or without "$", or its DN) on dc, as Administrator.
func (w *World) SetGMSA(dc, name string, c GMSAChange) error {
	err := w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		admin, a, err := adminAndAccount(d, name, true)
		if err != nil {
			return err
		}
		var mods []fakead.Modification
		replace := func(attr string, vals ...string) {
			mods = append(mods, fakead.Modification{Op: fakead.ModReplace, Attr: attrOf(attr, vals...)})
		}
		if c.PrincipalsAllowedToRetrieve != nil {
			sd, err := membershipSD(d, *c.PrincipalsAllowedToRetrieve)
			if err != nil {
				return err
			}
			mods = append(mods, fakead.Modification{Op: fakead.ModReplace, Attr: fakead.Attribute{Name: "msDS-GroupMSAMembership", Values: [][]byte{sd}}})
		}
		if c.SPNs != nil {
			replace("servicePrincipalName", *c.SPNs...)
		}
		if c.DNSHostName != nil {
			replace("dNSHostName", *c.DNSHostName)
		}
		if c.EncryptionTypes != nil {
			replace("msDS-SupportedEncryptionTypes", strconv.Itoa(*c.EncryptionTypes))
		}
		if c.Enabled != nil {
			uac := a.UserAccountControl &^ fakead.UACAccountDisable
			if !*c.Enabled {
				uac |= fakead.UACAccountDisable
			}
			replace("userAccountControl", strconv.FormatInt(uac, 10))
		}
		if len(mods) == 0 {
			return nil
		}
		if err := d.Modify(now, admin, a.DN, mods); err != nil {
			return err
		}
		w.trace.Logf(now, "%s gMSA %s changed", d.DC().Name, a.SAMAccountName)
		return nil
	})
	if err != nil {
		return fmt.Errorf("sim: Set-ADServiceAccount %s on %s: %w", name, dc, err)
	}
	return nil
}

// RemoveGMSA deletes a gMSA on dc, as Administrator.
func (w *World) RemoveGMSA(dc, name string) error {
	err := w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		admin, a, err := adminAndAccount(d, name, true)
		if err != nil {
			return err
		}
		if err := d.Delete(now, admin, a.DN); err != nil {
			return err
		}
		w.trace.Logf(now, "%s gMSA %s removed", d.DC().Name, a.SAMAccountName)
		return nil
	})
	if err != nil {
		return fmt.Errorf("sim: Remove-ADServiceAccount %s on %s: %w", name, dc, err)
	}
	return nil
}

// NewGroup creates a global security group CN=name,CN=Users on dc (New-ADGroup name Global).
func (w *World) NewGroup(dc, name string) error { return AddDomainGroup(w, dc, name) }

// NewUser creates an enabled user CN=name,CN=Users with a password on dc (New-ADUser ... -Enabled).
func (w *World) NewUser(dc, name, password string) error { return AddDomainUser(w, dc, name, password) }

// AddGroupMembers adds accounts (sAMAccountNames or DNs) to a group on dc, as Administrator
// (Add-ADGroupMember). A host's new membership takes effect at its next logon (reboot or ticket
// purge), as on Windows.
func (w *World) AddGroupMembers(dc, group string, members ...string) error {
	return w.changeMembers(dc, group, members, fakead.ModAdd, "Add-ADGroupMember")
}

// RemoveGroupMembers removes accounts from a group on dc, as Administrator (Remove-ADGroupMember).
func (w *World) RemoveGroupMembers(dc, group string, members ...string) error {
	return w.changeMembers(dc, group, members, fakead.ModDelete, "Remove-ADGroupMember")
}

func (w *World) changeMembers(dc, group string, members []string, op fakead.ModOp, cmdlet string) error {
	err := w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		admin, g, err := adminAndAccount(d, group, false)
		if err != nil {
			return err
		}
		var dns []string
		for _, m := range members {
			a, ok := d.Account(m)
			if !ok {
				a, ok = d.Account(m + "$")
			}
			if !ok {
				return fmt.Errorf("no account %q", m)
			}
			dns = append(dns, a.DN)
		}
		if err := d.Modify(now, admin, g.DN, []fakead.Modification{{Op: op, Attr: attrOf("member", dns...)}}); err != nil {
			return err
		}
		w.trace.Logf(now, "%s %s %s %s", d.DC().Name, cmdlet, g.SAMAccountName, strings.Join(members, ","))
		return nil
	})
	if err != nil {
		return fmt.Errorf("sim: %s %s on %s: %w", cmdlet, group, dc, err)
	}
	return nil
}

// RootKeyOptions are Add-KdsRootKey's options. The zero value is the cmdlet without options: the key
// becomes effective 10 days after its creation.
type RootKeyOptions struct {
	EffectiveImmediately bool      // usable from now (each DC still waits until the next 10-hour boundary: see DESIGN.md)
	EffectiveTime        time.Time // usable from this time (may lie in the past: the lab shortcut)
	LocalTestOnly        bool      // generated, not written
}

// RootKey is a KDS root key as created.
type RootKey struct {
	ID        string    // the key's GUID
	Created   time.Time // CreateTime
	UsableAt  time.Time // UseStartTime
	LocalOnly bool
}

// AddRootKey adds a KDS root key on dc (Add-KdsRootKey); it replicates to the other DCs like any
// object.
func (w *World) AddRootKey(dc string, o RootKeyOptions) (*RootKey, error) {
	opt := fakekds.AddOptions{EffectiveImmediately: o.EffectiveImmediately, LocalTestOnly: o.LocalTestOnly}
	if !o.EffectiveTime.IsZero() {
		ft := ad.FileTimeFromTime(o.EffectiveTime)
		opt.EffectiveTime = &ft
	}
	rk, err := w.AddKdsRootKey(dc, opt)
	if err != nil {
		return nil, fmt.Errorf("sim: Add-KdsRootKey on %s: %w", dc, err)
	}
	return &RootKey{ID: rk.ID.String(), Created: rk.CreateTime.Time(), UsableAt: rk.UseStartTime.Time(), LocalOnly: o.LocalTestOnly}, nil
}

// ManagedPassword is msDS-ManagedPassword as a DC returns it to a principal, decoded.
type ManagedPassword struct {
	Current  []byte // the 256-byte password (UTF-16LE, without its terminator)
	Previous []byte // nil when the DC returns none
	// QueryInterval is the time until the current password expires; UnchangedInterval the time
	// during which it will not change (0 inside the last 5 minutes, when Current is the next one).
	QueryInterval, UnchangedInterval time.Duration
	KVNO                             int // msDS-KeyVersionNumber read with it
}

// NTHash is the current password's NT hash (the RC4 key).
func (p *ManagedPassword) NTHash() []byte { return fakekds.NTHash(p.Current) }

// ErrPasswordNotReturned is a read that returned the gMSA without msDS-ManagedPassword: the
// principal is not in PrincipalsAllowedToRetrieveManagedPassword (or the DC computes no password).
var ErrPasswordNotReturned = errors.New("the DC returned the account without msDS-ManagedPassword")

// ReadManagedPassword reads a gMSA's msDS-ManagedPassword on dc as principal (a sAMAccountName:
// "WEB1$") over an encrypted connection, through the directory's search — the path an LDAP search
// takes, with the principal's groups as the directory has them now. A read may make the DC rotate
// a stale password (as on Windows). A principal the gMSA does not allow gets
// ErrPasswordNotReturned; an unencrypted read is not offered (it always fails with 0000202D).
func (w *World) ReadManagedPassword(dc, principal, gmsa string) (*ManagedPassword, error) {
	var mp *ManagedPassword
	err := w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		p, ok := d.Account(principal)
		if !ok {
			return fmt.Errorf("no principal %q", principal)
		}
		c, err := d.CallerFor(p.DN, true)
		if err != nil {
			return err
		}
		a, ok := d.Account(gmsa)
		if !ok {
			if a, ok = d.Account(gmsa + "$"); !ok {
				return fmt.Errorf("no gMSA %q", gmsa)
			}
		}
		res, err := d.Search(now, c, &fakead.SearchRequest{BaseDN: a.DN, Scope: fakead.ScopeBase,
			Filter: fakead.FilterPresent{Attr: "objectClass"}, Attributes: []string{"msDS-ManagedPassword", "msDS-KeyVersionNumber"}, SDFlags: -1})
		if err != nil {
			return err
		}
		var blob []byte
		kvno := 0
		for _, e := range res {
			for _, at := range e.Attributes {
				switch {
				case strings.EqualFold(at.Name, "msDS-ManagedPassword") && len(at.Values) > 0:
					blob = at.Values[0]
				case strings.EqualFold(at.Name, "msDS-KeyVersionNumber") && len(at.Values) > 0:
					kvno, _ = strconv.Atoi(string(at.Values[0]))
				}
			}
		}
		if blob == nil {
			return ErrPasswordNotReturned
		}
		b, err := fakekds.ParseManagedPasswordBlob(blob)
		if err != nil {
			return err
		}
		mp = &ManagedPassword{Current: b.Current, Previous: b.Previous, KVNO: kvno,
			QueryInterval: time.Duration(b.QueryInterval) * 100, UnchangedInterval: time.Duration(b.UnchangedInterval) * 100}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sim: read msDS-ManagedPassword of %s on %s as %s: %w", gmsa, dc, principal, err)
	}
	return mp, nil
}

// StoredKVNO is a gMSA's msDS-KeyVersionNumber as dc stores it now, without the read of its
// password that would make the DC rotate a stale one.
func (w *World) StoredKVNO(dc, gmsa string) (int, error) {
	kv := 0
	err := w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		a, ok := d.Account(gmsa)
		if !ok {
			if a, ok = d.Account(gmsa + "$"); !ok {
				return fmt.Errorf("no account %q", gmsa)
			}
		}
		kv = int(a.KVNO)
		return nil
	})
	return kv, err
}

// Exists reports whether dc's replica has an account of that name (sAMAccountName, with or
// without "$", or DN): whether a change has replicated there.
func (w *World) Exists(dc, name string) (bool, error) {
	ok, err := w.has(dc, name)
	if !ok && err == nil && !strings.HasSuffix(name, "$") {
		ok, err = w.has(dc, name+"$")
	}
	return ok, err
}

// has reports whether dc's replica has an account of exactly that name (sAMAccountName, UPN or DN).
func (w *World) has(dc, name string) (bool, error) {
	found := false
	err := w.ExecOn(dc, func(now time.Time, d *fakead.Directory) error {
		_, found = d.Account(name)
		return nil
	})
	return found, err
}

func attrOf(name string, vals ...string) fakead.Attribute {
	a := fakead.Attribute{Name: name}
	for _, v := range vals {
		a.Values = append(a.Values, []byte(v))
	}
	return a
}

// adminCaller is Administrator's caller on d (encrypted: the AD module talks to ADWS over TLS).
func adminCaller(d *fakead.Directory) (fakead.Caller, error) {
	a, ok := d.Account("Administrator")
	if !ok {
		return fakead.Caller{}, errors.New("no Administrator account")
	}
	return d.CallerFor(a.DN, true)
}

// adminAndAccount is Administrator's caller and the account name (with the "$" tried too when
// dollar) on d.
func adminAndAccount(d *fakead.Directory, name string, dollar bool) (fakead.Caller, *fakead.Account, error) {
	admin, err := adminCaller(d)
	if err != nil {
		return fakead.Caller{}, nil, err
	}
	a, ok := d.Account(name)
	if !ok && dollar {
		a, ok = d.Account(name + "$")
	}
	if !ok {
		return fakead.Caller{}, nil, &fakead.Error{Code: fakead.NoSuchObject, Op: "search",
			Diag: fmt.Sprintf("Cannot find an object with identity: '%s' under: '%s'.", name, d.DomainDN())}
	}
	return admin, a, nil
}

// membershipSD is msDS-GroupMSAMembership granting the principals (names or DNs) read.
func membershipSD(d *fakead.Directory, principals []string) ([]byte, error) {
	var sids []string
	for _, p := range principals {
		a, ok := d.Account(p)
		if !ok {
			a, ok = d.Account(p + "$")
		}
		if !ok {
			return nil, fmt.Errorf("no principal %q", p)
		}
		sids = append(sids, a.SID.String())
	}
	return ad.GMSAMembershipSD(sids...)
}
