package mim

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/sim"
	"github.com/gmsasim/gmsasim/sim/host"
)

// The MIM installers' change mode, the Synchronization Service Key Management tool (export,
// restore), and service control that knows the sync service needs its key set.

// ChangeModeRequest is one run of a MIM installer in change (Configure) mode for one component.
type ChangeModeRequest struct {
	Component Component
	Account   string // DOMAIN\name; a gMSA with its trailing $
	Password  string // empty for a gMSA
	// Exchange (MIM Service only): "Use different user for Exchange (for managed accounts)" with
	// Exchange Online or on-premises; ExchangeNone keeps the current setting.
	Exchange ExchangeMode
	// MailAccount / MailPassword (MIM Service with a managed account and Exchange): the Service
	// Email Account and its password, which the installer asks for ("Also enter a password in the
	// Service Email Account Password box").
	MailAccount, MailPassword string
}

// ChangeModeResult is what the installer showed.
type ChangeModeResult struct {
	Account  string
	Warnings []string
}

// ChangeMode runs the installer in change mode for one component: ChangeModeRun with one page.
func (mh *Host) ChangeMode(req ChangeModeRequest) (ChangeModeResult, error) {
	return mh.ChangeModeRun([]ChangeModeRequest{req})
}

// ChangeModeRun is one run of an installer in change mode whose account pages are reqs, in page
// order (the MIM Service MSI shows a page per installed feature: MIM Service, PAM REST API, PAM
// Component, PAM Monitoring, SSPR registration, SSPR reset). For each page it checks the account as
// the installer does (a gMSA needs MinGMSAVersion, its trailing $, and no password; a user needs
// its password); a refused page fails the run and nothing changes, as an MSI rolls back. Then it
// stops each component, shows the LogonUser warning for a gMSA (recorded in Warnings and the event
// log), reconfigures the service or application pool and, except for the Synchronization Service,
// starts it again. The Synchronization Service is left stopped with no key set loaded: restore the
// key set (RestoreKeySet) before starting it. Result.Account is the first page's account.
func (mh *Host) ChangeModeRun(reqs []ChangeModeRequest) (ChangeModeResult, error) {
	var res ChangeModeResult
	h := mh.h
	err := h.Exec(func(now time.Time, dc *sim.DC) error {
		gmsas := make([]string, len(reqs))
		for i, req := range reqs {
			gmsa, err := mh.checkPageLocked(now, dc, req)
			if err != nil {
				return err
			}
			gmsas[i] = gmsa
		}
		for i, req := range reqs {
			mh.applyPageLocked(now, dc, req, gmsas[i], &res)
		}
		if len(reqs) > 0 {
			res.Account = reqs[0].Account
		}
		return nil
	})
	return res, err
}

// checkPageLocked is the installer's check of one account page; the gMSA's sAMAccountName when
// the account is one. Inside the loop.
func (mh *Host) checkPageLocked(now time.Time, dc *sim.DC, req ChangeModeRequest) (string, error) {
	h := mh.h
	op := "change mode " + string(req.Component)
	fail := func(reason error, err error) error {
		mh.m.w.Loop().Logf("host %s MIM %s as %s: refused: %v", h.Name(), op, req.Account, reason)
		mh.events = append(mh.events, fmt.Sprintf("MsiInstaller: %s failed: %v", op, reason))
		return &host.Error{Host: h.Name(), Op: op, Reason: reason, Err: err}
	}
	if _, _, ok := Workload(req.Component); !ok || !mh.comps[req.Component] {
		return "", fail(ErrNotInstalled, nil)
	}
	gmsa, err := mh.checkAccountLocked(now, dc, req.Account, req.Password)
	if err != nil {
		return "", fail(host.ReasonOf(err), nil)
	}
	mode := req.Exchange
	if mode == ExchangeNone {
		mode = mh.exchange
	}
	if req.Component == CompService && gmsa != "" && mode != ExchangeNone {
		if req.MailPassword == "" {
			return "", fail(ErrMailPassword, nil)
		}
		if mode == ExchangeOnPremise && req.MailAccount != "" {
			if _, err := dc.Directory().Bind(now, req.MailAccount, req.MailPassword, true); err != nil {
				return "", fail(ErrCredentials, err)
			}
		}
	}
	return gmsa, nil
}

// applyPageLocked reconfigures one checked page's component. Inside the loop.
func (mh *Host) applyPageLocked(now time.Time, dc *sim.DC, req ChangeModeRequest, gmsa string, res *ChangeModeResult) {
	h := mh.h
	op := "change mode " + string(req.Component)
	kind, name, _ := Workload(req.Component)
	wl := h.WorkloadLocked(kind, name)
	if gmsa != "" {
		// LogonUser does not work for managed accounts: the next page warns.
		res.Warnings = append(res.Warnings, LogonUserWarning)
		mh.warnings = append(mh.warnings, LogonUserWarning)
		mh.events = append(mh.events, fmt.Sprintf("MIM installer: %s: %s (%s)", name, LogonUserWarning, req.Account))
	}
	wl.State, wl.LastError = host.StateStopped, nil
	wl.SetLogon(req.Account, req.Password, gmsa)
	if gmsa == "" && req.Password != "" {
		mh.m.known[req.Account] = req.Password
	}
	if req.Component == CompService && req.Exchange != ExchangeNone {
		mh.setExchangeLocked(req.Exchange)
		// The installer encrypts the Exchange password with a helper service run under the
		// managed account; it logs that in the Application log.
		mh.events = append(mh.events, "MIM installer: Exchange password encrypted under "+req.Account)
	}
	mh.m.w.Loop().Logf("host %s MIM %s: %s %s runs as %s", h.Name(), op, kind, name, req.Account)
	if req.Component == CompSync {
		// Divergence: while no key set is loaded the simulator keeps the sync service from
		// starting at boot by setting it to Manual (RestoreKeySet of the right key set sets the
		// configured start type back); Windows would try to start it and log the failure.
		mh.keyRun = "" // the installer asks for the key set: restore it before starting
		wl.StartType = host.StartManual
		mh.events = append(mh.events, "FIMSynchronizationService: the encryption key set must be restored")
		return
	}
	h.StartLocked(now, dc, wl)
}

// checkAccountLocked checks a logon account as the installer's account page does and returns the
// gMSA's sAMAccountName when it is one. Inside the loop.
// Divergence: the installers' exact refusal texts are not documented; the simulator's say what
// was wrong.
func (mh *Host) checkAccountLocked(now time.Time, dc *sim.DC, account, password string) (string, error) {
	h := mh.h
	bad := func(reason error) (string, error) {
		return "", &host.Error{Host: h.Name(), Op: "account " + account, Reason: reason}
	}
	switch strings.ToLower(account) {
	case "localsystem", "nt authority\\system", "nt authority\\networkservice":
		return "", nil
	}
	if !dc.Running() {
		return bad(host.ErrDCUnavailable)
	}
	d := dc.Directory()
	dom, name, ok := strings.Cut(account, `\`)
	if !ok {
		dom, name = d.NetBIOSName(), account
	}
	if !strings.EqualFold(dom, d.NetBIOSName()) && !strings.EqualFold(dom, d.DNSName()) {
		return bad(host.ErrInvalidAccount)
	}
	a, found := d.Account(name)
	if !found || !strings.EqualFold(a.SAMAccountName, name) {
		if g, ok := d.Account(name + "$"); ok && g.GMSA != nil {
			return bad(ErrNoDollar)
		}
		return bad(host.ErrInvalidAccount)
	}
	if a.GMSA == nil {
		if _, err := d.Bind(now, dom+`\`+name, password, true); err != nil || password == "" {
			return bad(ErrCredentials)
		}
		return "", nil
	}
	if !VersionAtLeast(mh.version, MinGMSAVersion) {
		return bad(ErrVersion)
	}
	if password != "" {
		return bad(ErrGMSAPassword)
	}
	return a.SAMAccountName, nil
}

// KeySetFile describes a key set export on a host.
type KeySetFile struct {
	Path   string
	KeyID  string // the key set's id
	Size   int
	SHA256 string
	Writes int // how many times the file was written (an export overwritten shows 2)
}

// ExportKeySet is the Synchronization Service Key Management tool's "Export key set": it needs the
// current sync service account's name, password and domain, and writes the key set to path
// (DefaultKeySetPath when empty), overwriting a file there.
// Divergence: for a sync service already running as a gMSA the tool is given an empty password;
// how the real tool authenticates then is not documented.
func (mh *Host) ExportKeySet(account, password, domain, path string) (KeySetFile, error) {
	var out KeySetFile
	if path == "" {
		path = DefaultKeySetPath
	}
	h := mh.h
	err := h.Exec(func(now time.Time, dc *sim.DC) error {
		op := "export key set to " + path
		fail := func(reason error) error {
			mh.m.w.Loop().Logf("host %s MIM %s: refused: %v", h.Name(), op, reason)
			return &host.Error{Host: h.Name(), Op: op, Reason: reason}
		}
		if !mh.comps[CompSync] {
			return fail(ErrNotInstalled)
		}
		kind, name, _ := Workload(CompSync)
		wl := h.WorkloadLocked(kind, name)
		dom, acct, ok := strings.Cut(wl.Account, `\`)
		if !ok || !strings.EqualFold(acct, account) || (!strings.EqualFold(dom, domain) && !strings.EqualFold(dc.Directory().DNSName(), domain)) {
			return fail(ErrWrongAccount)
		}
		if wl.GMSA() == "" && (password == "" || password != wl.Password()) {
			return fail(ErrCredentials)
		}
		if wl.GMSA() != "" && password != "" {
			return fail(ErrGMSAPassword)
		}
		key := strings.ToLower(path)
		mh.files[key] = []byte(fmt.Sprintf("MIISKMU keyset v1\nserver=%s\nkeyset=%s\n", strings.ToUpper(h.Name()), mh.keyDB))
		mh.writes[key]++
		out = mh.fileLocked(path)
		mh.m.w.Loop().Logf("host %s MIM key set %s exported to %s", h.Name(), mh.keyDB, path)
		return nil
	})
	return out, err
}

// fileLocked describes a key set file. Inside the loop.
func (mh *Host) fileLocked(path string) KeySetFile {
	b := mh.files[strings.ToLower(path)]
	sum := sha256.Sum256(b)
	f := KeySetFile{Path: path, Size: len(b), SHA256: hex.EncodeToString(sum[:]), Writes: mh.writes[strings.ToLower(path)]}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "keyset="); ok {
			f.KeyID = v
		}
	}
	return f
}

// KeySet reads a key set file (ok false when there is none).
func (mh *Host) KeySet(path string) (f KeySetFile, ok bool) {
	mh.m.w.Locked(func() {
		if _, ok = mh.files[strings.ToLower(path)]; ok {
			f = mh.fileLocked(path)
		}
	})
	return f, ok
}

// WriteFile puts a file on the host (a scenario planting a wrong or foreign key set).
func (mh *Host) WriteFile(path string, content []byte) {
	_ = mh.h.Exec(func(now time.Time, dc *sim.DC) error {
		mh.files[strings.ToLower(path)] = append([]byte(nil), content...)
		mh.writes[strings.ToLower(path)]++
		mh.m.w.Loop().Logf("host %s file %s written (%d bytes)", mh.h.Name(), path, len(content))
		return nil
	})
}

// DeleteFile removes a file from the host (an operator's mistake; the engine never does this).
func (mh *Host) DeleteFile(path string) {
	_ = mh.h.Exec(func(now time.Time, dc *sim.DC) error {
		delete(mh.files, strings.ToLower(path))
		mh.m.w.Loop().Logf("host %s file %s deleted", mh.h.Name(), path)
		return nil
	})
}

// DatabaseKeyID is the id of the key set the sync database is encrypted with ("" without sync).
func (mh *Host) DatabaseKeyID() string {
	return sim.LockedValue(mh.m.w, func() string {
		return mh.keyDB
	})
}

// KeysLoaded reports whether the sync service holds the key set its database needs.
func (mh *Host) KeysLoaded() bool {
	return sim.LockedValue(mh.m.w, func() bool {
		return mh.keyDB != "" && mh.keyRun == mh.keyDB
	})
}

// RestoreKeySet is the Key Management tool's restore from a key set file. A missing file is
// ErrNoKeyFile; a file that holds another key set is loaded all the same, and the service then
// cannot run (ErrKeySet at start), as with the real tool.
func (mh *Host) RestoreKeySet(path string) error {
	h := mh.h
	return h.Exec(func(now time.Time, dc *sim.DC) error {
		op := "restore key set from " + path
		if !mh.comps[CompSync] {
			return &host.Error{Host: h.Name(), Op: op, Reason: ErrNotInstalled}
		}
		if _, ok := mh.files[strings.ToLower(path)]; !ok {
			mh.m.w.Loop().Logf("host %s MIM %s: no such file", h.Name(), op)
			return &host.Error{Host: h.Name(), Op: op, Reason: ErrNoKeyFile}
		}
		f := mh.fileLocked(path)
		mh.keyRun = f.KeyID
		if mh.keyRun == mh.keyDB {
			kind, name, _ := Workload(CompSync)
			h.WorkloadLocked(kind, name).StartType = mh.syncAuto
		}
		mh.m.w.Loop().Logf("host %s MIM key set %q restored from %s (database needs %s)", h.Name(), f.KeyID, path, mh.keyDB)
		return nil
	})
}

// Start starts a component's service or application pool. The Synchronization Service does not
// run without the key set its database is encrypted with (ErrKeySet).
func (mh *Host) Start(c Component) (host.ServiceState, error) {
	kind, name, ok := Workload(c)
	if !ok || !mh.Has(c) {
		return "", &host.Error{Host: mh.h.Name(), Op: "start " + string(c), Reason: ErrNotInstalled}
	}
	if c == CompSync {
		var st host.ServiceState
		err := mh.h.Exec(func(now time.Time, dc *sim.DC) error {
			wl := mh.h.WorkloadLocked(kind, name)
			if mh.keyRun != mh.keyDB {
				wl.State = host.StateStopped
				wl.LastError = &host.Error{Host: mh.h.Name(), Op: "start " + name, Reason: ErrKeySet}
				mh.events = append(mh.events, "FIMSynchronizationService: the service was unable to load its encryption keys (6323)")
				mh.m.w.Loop().Logf("host %s service %s failed to start: %v", mh.h.Name(), name, ErrKeySet)
				st = host.StateStopped
				return wl.LastError
			}
			if wl.State != host.StateRunning {
				mh.h.StartLocked(now, dc, wl)
			}
			st = wl.State
			if st == host.StateStopped {
				return wl.LastError
			}
			return nil
		})
		return st, err
	}
	return mh.h.Start(kind, name)
}

// Stop stops a component's service or application pool.
func (mh *Host) Stop(c Component) error {
	kind, name, ok := Workload(c)
	if !ok || !mh.Has(c) {
		return &host.Error{Host: mh.h.Name(), Op: "stop " + string(c), Reason: ErrNotInstalled}
	}
	return mh.h.Stop(kind, name)
}

// SetServiceLogon is the document's password-update script for one component: the service's (or
// application pool's) logon account set without the installer (Win32_Service.Change, or the app
// pool's processModel identity), the account checked as the service control manager does (it must
// exist; a gMSA takes no password, a user account its password), the component stopped and left
// stopped. The Synchronization Service is refused: its encryption keys are bound to its account,
// so only change mode with the key set changes it.
func (mh *Host) SetServiceLogon(c Component, account, password string) error {
	h := mh.h
	return h.Exec(func(now time.Time, dc *sim.DC) error {
		op := "set logon " + string(c)
		kind, name, ok := Workload(c)
		if !ok || !mh.comps[c] {
			return &host.Error{Host: h.Name(), Op: op, Reason: ErrNotInstalled}
		}
		if c == CompSync {
			return &host.Error{Host: h.Name(), Op: op, Reason: ErrScriptSync}
		}
		gmsa, err := mh.checkAccountLocked(now, dc, account, password)
		if err != nil {
			return &host.Error{Host: h.Name(), Op: op, Reason: host.ReasonOf(err)}
		}
		wl := h.WorkloadLocked(kind, name)
		wl.State, wl.LastError = host.StateStopped, nil
		wl.SetLogon(account, password, gmsa)
		if gmsa == "" && password != "" {
			mh.m.known[account] = password
		}
		mh.events = append(mh.events, fmt.Sprintf("gMSA script: %s %s logon set to %s", kind, name, account))
		mh.m.w.Loop().Logf("host %s %s %s logon set to %s (script, no installer)", h.Name(), kind, name, account)
		return nil
	})
}

// IsError reports whether err carries one of the MIM sentinels.
func IsError(err error) bool {
	for _, s := range []error{ErrMailPassword, ErrScriptSync, ErrNotInstalled, ErrVersion, ErrNoDollar, ErrGMSAPassword,
		ErrCredentials, ErrKeySet, ErrNoKeyFile, ErrWrongAccount} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
