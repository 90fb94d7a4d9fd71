package host

import (
	"fmt"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/gmsasim/gmsasim/fakekds"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/jcmturner/gokrb5/v8/types"
)

// Standalone managed service accounts (sMSA, Windows Server 2008 R2 / Windows 7): an
// msDS-ManagedServiceAccount (New-ADServiceAccount -RestrictToSingleComputer) serves one
// computer. Seed 001: "Windows 7 standalone Managed Service Account | Domain | Limited to one
// domain joined server | Computer manages", and "A Windows computer account, or a Windows 7
// standalone Managed Service Account (sMSA), or virtual accounts cannot be shared across
// multiple systems."
//
// The link is the computer's msDS-HostServiceAccount (linkID 2166, fakead/reference/schema.ldif),
// whose back link is the sMSA's msDS-HostServiceAccountBL (2167): what Add-ADComputerServiceAccount
// writes, and what Get-ADServiceAccount shows as HostComputers. Install-ADServiceAccount on the
// linked computer sets a new password for the account and keeps it in the computer's LSA
// (NetAddServiceAccount); the computer, not the DC, manages it. The same cmdlet on a second
// computer is refused: the account is linked elsewhere.
//
// Divergence: the sMSA's 30-day password change by its host (the machine-password mechanism,
// Netlogon's MaximumPasswordAge) is not modelled: the password set at install is kept.
// Uninstall-ADServiceAccount removes the local copy and leaves the link in the directory
// (NetRemoveServiceAccount with SERVICE_ACCOUNT_FLAG_UNLINK_FROM_HOST_ONLY is not modelled).

// attrHostServiceAccount is the computer's forward link to the sMSAs it hosts.
const attrHostServiceAccount = "msDS-HostServiceAccount"

// isStandalone says whether identity names an sMSA in dc's directory (a look-up as SYSTEM, for
// the eligibility check: an sMSA does not need Windows Server 2012 on the host). Inside the loop.
func (h *Host) isStandalone(now time.Time, dc *sim.DC, identity string) bool {
	if dc == nil || !dc.Running() {
		return false
	}
	r, err := readGMSA(now, dc.Directory(), fakead.SystemCaller, identity)
	return err == nil && r.standalone
}

// linkedHosts lists the DNs of the computers whose msDS-HostServiceAccount names the sMSA.
func linkedHosts(now time.Time, d *fakead.Directory, smsaDN string) ([]string, error) {
	res, err := d.Search(now, fakead.SystemCaller, &fakead.SearchRequest{BaseDN: d.DomainDN(), Scope: fakead.ScopeSub,
		Filter: fakead.FilterEquality{Attr: attrHostServiceAccount, Value: []byte(smsaDN)}, Attributes: []string{"1.1"}})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range res {
		out = append(out, e.DN)
	}
	return out, nil
}

// checkLink says whether the sMSA is linked to no computer (free), to this one, or to another
// (ErrLinkedElsewhere).
func (h *Host) checkLink(now time.Time, d *fakead.Directory, r *gmsaRead) (linkedHere bool, err error) {
	dns, err := linkedHosts(now, d, r.dn)
	if err != nil {
		return false, err
	}
	for _, dn := range dns {
		if strings.EqualFold(dn, h.dn) {
			return true, nil
		}
	}
	if len(dns) > 0 {
		return false, &Error{Host: h.name, Op: "install " + r.sam, Reason: ErrLinkedElsewhere,
			Err: fmt.Errorf("%s is linked to %s", r.dn, strings.Join(dns, "; "))}
	}
	return false, nil
}

// installStandalone is Install-ADServiceAccount for an sMSA: link it to this computer if it is
// linked to none, refuse it if it is linked to another, then set a password drawn from the seed
// and keep it (and its keys) in the host's cache. Inside the loop.
//
// Divergence: Windows' text for an sMSA linked to another computer is not documented (Learn,
// the AskDS MSA troubleshooting post and GitHub issues searched; Test-ADServiceAccount's
// documented warning says "If standalone Managed Service Account, the account is linked to
// another computer object in the Active Directory"). The simulator prints the module's generic
// "Cannot install service account" line with the NTSTATUS text of STATUS_ACCESS_DENIED; the trace
// and errors.Is (ErrLinkedElsewhere) name the reason. The link is written as SYSTEM, not as the
// administrator running the cmdlet.
func (h *Host) installStandalone(now time.Time, dc *sim.DC, r *gmsaRead) error {
	const cmdlet = "Install-ADServiceAccount"
	d := dc.Directory()
	here, err := h.checkLink(now, d, r)
	if err != nil {
		h.w.Loop().Logf("host %s %s %s: refused: %v", h.name, cmdlet, r.sam, err)
		return &CmdletError{Cmdlet: cmdlet, Reason: err, Text: cmdlet + " : Cannot install service account. Error Message: " +
			"'{Access Denied} A process has requested access to an object, but has not been granted those access rights.'."}
	}
	if !here {
		if err := d.Modify(now, fakead.SystemCaller, h.dn, []fakead.Modification{{Op: fakead.ModAdd,
			Attr: fakead.Attribute{Name: attrHostServiceAccount, Values: [][]byte{[]byte(r.dn)}}}}); err != nil {
			return fmt.Errorf("sim: host %s: linking %s: %w", h.name, r.dn, err)
		}
		h.w.Loop().Logf("host %s linked to sMSA %s (%s)", h.name, r.sam, attrHostServiceAccount)
	}
	pw := sim.GeneratePassword(h.w.Loop().Rand("host/" + h.name + "/smsa/" + strings.ToLower(r.sam)))
	if err := d.SetPassword(now, fakead.SystemCaller, r.dn, pw); err != nil {
		return fmt.Errorf("sim: host %s: setting the password of %s: %w", h.name, r.dn, err)
	}
	k, err := fakekds.KeysFromString(pw, fakead.KerberosSalt(d.DNSName(), r.sam, true))
	if err != nil {
		return err
	}
	key := strings.ToLower(r.sam)
	c := h.gmsa[key]
	if c == nil {
		c = &cachedGMSA{sam: r.sam, dn: r.dn}
		h.gmsa[key] = c
	}
	c.standalone, c.installed, c.retrieved = true, true, now
	c.current, c.prev, c.prevKeys = []byte(pw), nil, nil
	c.cur = []types.EncryptionKey{{KeyType: kdc.EtypeAES256, KeyValue: k.AES256},
		{KeyType: kdc.EtypeAES128, KeyValue: k.AES128}, {KeyType: kdc.EtypeRC4, KeyValue: k.NTHash}}
	c.validUntil = now.Add(100 * 365 * 24 * time.Hour) // the host keeps it (no change modelled)
	h.w.Loop().Logf("host %s %s %s: installed (standalone, password set by the host)", h.name, cmdlet, r.sam)
	return nil
}

// standaloneUsable is Test-ADServiceAccount's and a service start's check for an sMSA: it is
// linked to this computer, installed here, and logs on at the DC with the key the host holds.
// Inside the loop.
func (h *Host) standaloneUsable(now time.Time, dc *sim.DC, r *gmsaRead) error {
	here, err := h.checkLink(now, dc.Directory(), r)
	if err != nil {
		return err
	}
	c := h.gmsa[strings.ToLower(r.sam)]
	if !here || c == nil || !c.standalone {
		return &Error{Host: h.name, Op: "use " + r.sam, Reason: ErrNotInstalled}
	}
	k, err := h.w.Loop().KDC(dc)
	if err != nil {
		return err
	}
	if _, err := k.LogonAt(now, h.clock(now), c.sam, c.cur[0]); err != nil {
		return &Error{Host: h.name, Op: "use " + r.sam, Reason: ErrNotAllowed, Err: skewErr(err)}
	}
	return nil
}
