package host

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/gmsasim/gmsasim/fakekds"
	"github.com/gmsasim/gmsasim/ldapauth"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/jcmturner/gokrb5/v8/types"
)

// The host side of a gMSA: what the AD module's Install-/Test-/Uninstall-ADServiceAccount and
// the LSA's managed-password cache do on a member host. The password is read from the host's DC
// with msDS-ManagedPassword on an encrypted connection, as the host (its ticket's group
// snapshot), through the world loop.

// testWarning is what Test-ADServiceAccount prints when it returns False for a gMSA.
const testWarning = "WARNING: Test failed for Managed Service Account %s. If standalone Managed Service Account, " +
	"the account is linked to another computer object in the Active Directory. If group Managed Service Account, " +
	"either this computer does not have permission to use the group MSA or this computer does not support all the " +
	"Kerberos encryption types required for the gMSA. See the MSA operational log for more information."

// installFailed is what Install-ADServiceAccount prints when the host cannot get the password.
// Divergence: this is the text Windows gives for a host whose ticket predates its group membership
// (a published transcript: "Cannot install service account. Error Message: 'An unspecified error
// has occurred'", cured by a reboot); a host that is not allowed at all gets "'{Access Denied} A
// process has requested access to an object, but has not been granted those access rights.'" in
// published transcripts. The texts for a 2008 R2 host, a host whose DC is 2008 R2, a DC without
// the root key and a host whose clock is more than 5 minutes off are not documented (Learn,
// Microsoft Q&A, GitHub issues searched). The simulator prints this one line for all of them; the
// trace and errors.Is name the reason.
const installFailed = "Install-ADServiceAccount : Cannot install service account. Error Message: 'An unspecified error has occurred'."

// CmdletError is a terminating error of a host cmdlet: Text is what PowerShell prints, Reason
// why (a sentinel, or a *Error wrapping the sentinels: use errors.Is).
type CmdletError struct {
	Cmdlet string
	Text   string
	Reason error
}

func (e *CmdletError) Error() string { return e.Text }
func (e *CmdletError) Unwrap() error { return e.Reason }

// TestResult is what Test-ADServiceAccount returns: True, or False with the warning it prints.
type TestResult struct {
	OK      bool
	Warning string // "" when OK
	Reason  error  // why it failed (a sentinel), nil when OK
}

// String is what PowerShell prints: "True", or "False" and the warning on the next line.
func (r TestResult) String() string {
	if r.OK {
		return "True"
	}
	return "False\n" + r.Warning
}

// gmsaRead is one read of a gMSA by a host.
type gmsaRead struct {
	dn, sam, sid string
	enc          int64
	blob         *fakekds.ManagedPasswordBlob // nil: the attribute was not returned
	// standalone: the account is a standalone managed service account (msDS-ManagedServiceAccount,
	// New-ADServiceAccount -RestrictToSingleComputer), whose password the one host it is linked to
	// sets and keeps (smsa.go); it has no msDS-ManagedPassword.
	standalone bool
}

// readGMSA looks the account up (identity: name, name$, DOMAIN\name$ or DN) and reads its
// managed password as c.
func readGMSA(now time.Time, d *fakead.Directory, c fakead.Caller, identity string) (*gmsaRead, error) {
	req := &fakead.SearchRequest{BaseDN: d.DomainDN(), Scope: fakead.ScopeSub, SDFlags: -1,
		Attributes: []string{"objectClass", "sAMAccountName", "objectSid", "msDS-SupportedEncryptionTypes", "msDS-ManagedPassword"}}
	if strings.Contains(identity, "=") {
		req.BaseDN, req.Scope, req.Filter = identity, fakead.ScopeBase, fakead.FilterPresent{Attr: "objectClass"}
	} else {
		req.Filter = fakead.FilterEquality{Attr: "sAMAccountName", Value: []byte(samOf(identity))}
	}
	res, err := d.Search(now, c, req)
	if fakead.CodeOf(err) == fakead.NoSuchObject || err == nil && len(res) == 0 {
		return nil, ErrNoSuchAccount
	}
	if err != nil {
		return nil, err
	}
	r := &gmsaRead{dn: res[0].DN}
	gmsa := false
	for _, a := range res[0].Attributes {
		if len(a.Values) == 0 {
			continue
		}
		switch strings.ToLower(a.Name) {
		case "objectclass":
			for _, v := range a.Values {
				gmsa = gmsa || strings.EqualFold(string(v), "msDS-GroupManagedServiceAccount")
				r.standalone = r.standalone || strings.EqualFold(string(v), "msDS-ManagedServiceAccount")
			}
		case "samaccountname":
			r.sam = string(a.Values[0])
		case "objectsid":
			if s, err := ad.SIDFromBytes(a.Values[0]); err == nil {
				r.sid = s.String()
			}
		case "msds-supportedencryptiontypes":
			r.enc, _ = strconv.ParseInt(string(a.Values[0]), 10, 64)
		case "msds-managedpassword":
			b, err := fakekds.ParseManagedPasswordBlob(a.Values[0])
			if err != nil {
				return nil, fmt.Errorf("msDS-ManagedPassword of %s: %w", r.dn, err)
			}
			r.blob = b
		}
	}
	if !gmsa && !r.standalone {
		return nil, ErrNotGMSA
	}
	return r, nil
}

// samOf turns ITFarm1, ITFarm1$ or CONTOSO\ITFarm1$ into ITFarm1$.
func samOf(identity string) string {
	if i := strings.LastIndexByte(identity, '\\'); i >= 0 {
		identity = identity[i+1:]
	}
	if !strings.HasSuffix(identity, "$") {
		identity += "$"
	}
	return identity
}

// eligible says whether this host may use gMSAs at all: the seed's "Shared service member hosts:
// Windows Server 2012".
//
// A failover cluster node may: seed 001, "Failover clusters do not support gMSAs. However,
// services that run on top of the Cluster service can use a gMSA or a sMSA if they are a Windows
// service, an App pool, a scheduled task, or natively support gMSA or sMSA." What the cluster does
// not support is the Cluster service itself under a gMSA (SetAccount refuses it on ClusSvc);
// Install-/Test-ADServiceAccount, and services, application pools and tasks on the node, work as
// on any member host.
func (h *Host) eligible() error {
	if h.spec.OS == "2008R2" {
		return ErrOSTooOld
	}
	return nil
}

// retrieve reads the gMSA's password from the host's DC, as the host. Inside the loop.
func (h *Host) retrieve(now time.Time, dc *sim.DC, identity string) (*gmsaRead, error) {
	op := "retrieve " + identity
	if err := h.eligible(); err != nil && !h.isStandalone(now, dc, identity) {
		return nil, &Error{Host: h.name, Op: op, Reason: err}
	}
	if !dc.Running() {
		return nil, &Error{Host: h.name, Op: op, Reason: ErrDCUnavailable}
	}
	if err := h.ensureLogon(now, dc); err != nil {
		return nil, err
	}
	c, err := h.ldapBind(now, dc)
	if err != nil {
		reason := ErrNotLoggedOn
		if errors.Is(err, ErrClockSkew) {
			reason = ErrClockSkew
		}
		return nil, &Error{Host: h.name, Op: op, Reason: reason, Err: err}
	}
	d := dc.Directory()
	r, err := readGMSA(now, d, c, identity)
	switch {
	case errors.Is(err, ErrNoSuchAccount) || errors.Is(err, ErrNotGMSA):
		return nil, &Error{Host: h.name, Op: op, Reason: err}
	case err != nil:
		return nil, &Error{Host: h.name, Op: op, Reason: ErrDCNoPassword, Err: err}
	case r.blob != nil || r.standalone: // an sMSA's password is the host's own (smsa.go)
		return r, nil
	}
	return nil, &Error{Host: h.name, Op: op, Reason: h.whyRefused(now, d, r.dn)}
}

// ldapBind is the host's LDAP bind to its DC as Windows binds (LSA's
// NetQueryServiceAccount path): a service ticket for ldap/<DC's DNS name> from its logon's TGT,
// an AP-REQ stamped with the host's clock, accepted by the DC's LDAP service exactly as a SASL
// GSSAPI bind over a socket is (sim.Loop.KerberosBind: the DC's keys, the 5-minute skew, the
// groups of the PAC, so of the host's last logon), on a sealed connection.
// Divergence: the host runs inside the world's loop, so no socket is opened and no wrap token is
// exchanged; the bind's decisions are the LDAP server's.
func (h *Host) ldapBind(now time.Time, dc *sim.DC) (fakead.Caller, error) {
	k, err := h.w.Loop().KDC(dc)
	if err != nil {
		return fakead.Caller{}, err
	}
	// The host's ticket cache: one ldap/ ticket per DC for its logon, reused until it expires, as
	// Windows' LSA does (a new logon — boot, klist purge — starts the cache afresh).
	st := h.ldapTkt[dc.Name()]
	if st == nil || !now.Before(st.EndTime) {
		if st, err = k.ServiceTicketAt(now, h.clock(now), h.creds, "ldap/"+h.w.DCDNSName(dc.Name())); err != nil {
			return fakead.Caller{}, skewErr(err)
		}
		if h.ldapTkt == nil {
			h.ldapTkt = map[string]*kdc.ServiceTicket{}
		}
		h.ldapTkt[dc.Name()] = st
	}
	ap, err := ldapauth.NewAPReq(ldapauth.Kerberos{Realm: strings.ToUpper(h.f.domain), CName: types.NewPrincipalName(1, h.sam),
		Now: func() time.Time { return h.clock(now) }, Rand: h.w.Loop().Rand("host/" + h.name + "/ldap")}, st.Ticket, st.SessionKey)
	if err != nil {
		return fakead.Caller{}, err
	}
	c, err := h.w.Loop().KerberosBind(dc, now, ap.DER, true)
	return c, skewErr(err)
}

// whyRefused tells apart, for the trace and errors.Is, why a read came back without the
// password: the DC cannot compute it, the host's ticket is older than its membership, or the
// host is not allowed at all. It only looks: no read that would make the DC rotate the password.
func (h *Host) whyRefused(now time.Time, d *fakead.Directory, dn string) error {
	if !d.HasKDS() {
		// Seed 001: "Windows Server 2012 DCs available for host to retrieve the password". A 2008
		// R2 DC does not construct msDS-ManagedPassword (fakead.ErrNoKDS).
		// Divergence: Windows' LSA locates a DC of Windows Server 2012 or later for the retrieval
		// (a DS_BEHAVIOR_WIN2012 DC, as [MS-KILE] 3.2.5.3 locates one) and so would go past a 2008
		// R2 DC when the domain has a newer one; a simulated host asks only its own DC (Host.DC,
		// moved with `nltest /sc_reset`).
		return ErrDCNoKDS
	}
	if err := d.CheckManagedPassword(now, dn); err != nil {
		return ErrDCNoPassword
	}
	if c, err := d.CallerFor(h.dn, true); err == nil {
		if ok, err := d.MayReadManagedPassword(c, dn); err == nil && ok {
			return ErrStaleGroups
		}
	}
	return ErrNotAllowed
}

// unreachable is the AD module's answer when it cannot reach a DC (Active Directory Web Services).
func unreachable(cmdlet string) *CmdletError {
	return &CmdletError{Cmdlet: cmdlet, Reason: ErrDCUnavailable, Text: cmdlet + " : Unable to contact the server. This may be " +
		"because this server does not exist, it is currently down, or it does not have the Active Directory Web Services running."}
}

func (h *Host) notFound(cmdlet, identity string) *CmdletError {
	return &CmdletError{Cmdlet: cmdlet, Reason: ErrNoSuchAccount, Text: fmt.Sprintf(
		"%s : Cannot find an object with identity: '%s' under: '%s'.", cmdlet, identity, h.w.DomainDN())}
}

// InstallADServiceAccount is `Install-ADServiceAccount <identity>` on the host: it checks the host
// may retrieve the gMSA's password and caches it locally. Success prints nothing; a failure is a
// *CmdletError whose text is what PowerShell prints.
func (h *Host) InstallADServiceAccount(identity string) error {
	const cmdlet = "Install-ADServiceAccount"
	return h.Exec(func(now time.Time, dc *sim.DC) error {
		r, err := h.retrieve(now, dc, identity)
		if err != nil {
			h.w.Loop().Logf("host %s %s %s: refused: %v", h.name, cmdlet, identity, err)
			switch {
			case errors.Is(err, ErrNoSuchAccount) || errors.Is(err, ErrNotGMSA):
				return h.notFound(cmdlet, identity)
			case errors.Is(err, ErrDCUnavailable):
				return unreachable(cmdlet)
			}
			return &CmdletError{Cmdlet: cmdlet, Text: installFailed, Reason: err}
		}
		if r.standalone {
			return h.installStandalone(now, dc, r)
		}
		c, err := h.store(now, r)
		if err != nil {
			return err
		}
		c.installed = true
		h.w.Loop().Logf("host %s %s %s: installed", h.name, cmdlet, r.sam)
		return nil
	})
}

// ReasonOf is the sentinel a Error carries.
func ReasonOf(err error) error {
	var he *Error
	if errors.As(err, &he) {
		return he.Reason
	}
	return err
}

// TestADServiceAccount is `Test-ADServiceAccount <identity>`: True when the host can retrieve the
// password now and the gMSA can log on with a key of an encryption type both sides support; else
// False with the warning Windows prints. An unknown account is a *CmdletError.
func (h *Host) TestADServiceAccount(identity string) (TestResult, error) {
	const cmdlet = "Test-ADServiceAccount"
	var res TestResult
	err := h.Exec(func(now time.Time, dc *sim.DC) error {
		why := h.testLocked(now, dc, identity)
		switch {
		case errors.Is(why, ErrNoSuchAccount) || errors.Is(why, ErrNotGMSA):
			return h.notFound(cmdlet, identity)
		case errors.Is(why, ErrDCUnavailable):
			return unreachable(cmdlet)
		}
		if why == nil {
			res = TestResult{OK: true}
			h.w.Loop().Logf("host %s %s %s: True", h.name, cmdlet, identity)
			return nil
		}
		res = TestResult{Warning: fmt.Sprintf(testWarning, identity), Reason: ReasonOf(why)}
		h.w.Loop().Logf("host %s %s %s: False: %v", h.name, cmdlet, identity, why)
		return nil
	})
	return res, err
}

func (h *Host) testLocked(now time.Time, dc *sim.DC, identity string) error {
	r, err := h.retrieve(now, dc, identity)
	if err != nil {
		return err
	}
	if r.standalone {
		return h.standaloneUsable(now, dc, r)
	}
	enc := r.enc
	if enc == 0 {
		enc = DefaultEncryptionTypes
	}
	salt := fakekds.MachineSalt(dc.Directory().DNSName(), r.sam)
	keys, err := h.f.gmsaKeys(r.blob.Current, salt)
	if err != nil {
		return err
	}
	// Divergence: Windows' exact rule is not documented; the simulator fails the test when the
	// gMSA's msDS-SupportedEncryptionTypes and the host's allowed types share no etype, which is
	// when the gMSA could not log on from this host.
	var key *types.EncryptionKey
	for i, bit := range []int64{0x10, 0x8, 0x4} { // AES256, AES128, RC4: strongest first
		if enc&bit != 0 && h.encTypes&bit != 0 {
			key = &keys[i]
			break
		}
	}
	if key == nil {
		return &Error{Host: h.name, Op: "test " + identity, Reason: ErrEncTypes,
			Err: fmt.Errorf("gMSA msDS-SupportedEncryptionTypes 0x%x, host allows 0x%x", enc, h.encTypes)}
	}
	k, err := h.w.Loop().KDC(dc)
	if err != nil {
		return err
	}
	if _, err := k.LogonAt(now, h.clock(now), r.sam, *key); err != nil {
		return &Error{Host: h.name, Op: "test " + identity, Reason: ErrNotAllowed, Err: err}
	}
	return nil
}

// UninstallADServiceAccount is `Uninstall-ADServiceAccount <identity>`: the cached credentials are
// removed from the host. Prints nothing.
func (h *Host) UninstallADServiceAccount(identity string) error {
	const cmdlet = "Uninstall-ADServiceAccount"
	return h.Exec(func(now time.Time, dc *sim.DC) error {
		key := strings.ToLower(samOf(identity))
		if strings.Contains(identity, "=") {
			for k, c := range h.gmsa {
				if strings.EqualFold(c.dn, identity) {
					key = k
				}
			}
		}
		c := h.gmsa[key]
		if c == nil {
			if !dc.Running() {
				return unreachable(cmdlet)
			}
			if _, err := readGMSA(now, dc.Directory(), fakead.SystemCaller, identity); err != nil {
				return h.notFound(cmdlet, identity)
			}
			return nil
		}
		h.removeCached(key, c, cmdlet)
		return nil
	})
}

// removeCached drops a gMSA from the local cache (kept while a running workload uses it). Inside
// the loop.
func (h *Host) removeCached(key string, c *cachedGMSA, how string) {
	c.installed = false
	if !h.inUse(c.sam) {
		if c.hasRefresh {
			h.w.Loop().Cancel(c.refresh)
		}
		delete(h.gmsa, key)
	}
	h.w.Loop().Logf("host %s %s %s: removed from the local cache", h.name, how, c.sam)
}

// NetRemoveServiceAccount is the NetRemoveServiceAccount API (lmaccess.h) on the host, the seed's
// other way to "Remove the cached gMSA credentials from the member host using
// Uninstall-ADServiceAccount or the NetRemoveServiceAccount API on the host system". account is
// the gMSA's name (ITFarm1, ITFarm1$ or CONTOSO\ITFarm1$). flags is the API's Flags; for a gMSA
// none changes anything (SERVICE_ACCOUNT_FLAG_UNLINK_FROM_HOST, 0x1, unlinks a standalone MSA's
// computer object in AD). Unlike the cmdlet it does not ask a DC: an account not in the local
// cache is an *Error with ErrNoSuchAccount.
// Divergence: the NTSTATUS Windows returns for an account that is not installed is not
// documented; the simulator returns the sentinel.
func (h *Host) NetRemoveServiceAccount(account string, flags uint32) error {
	_ = flags
	return h.Exec(func(now time.Time, dc *sim.DC) error {
		key := strings.ToLower(samOf(account))
		c := h.gmsa[key]
		if c == nil {
			return &Error{Host: h.name, Op: "NetRemoveServiceAccount " + account, Reason: ErrNoSuchAccount}
		}
		h.removeCached(key, c, "NetRemoveServiceAccount")
		return nil
	})
}

// Installed reports whether the gMSA is installed (Install-ADServiceAccount) on the host.
func (h *Host) Installed(identity string) bool {
	return sim.LockedValue(h.w, func() bool {
		c := h.gmsa[strings.ToLower(samOf(identity))]
		return c != nil && c.installed
	})
}
