package host

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/gmsasim/gmsasim/fakekds"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/jcmturner/gokrb5/v8/types"
)

// OSVersions are the operating systems a member host may run (those of a DC). A new slice each
// call.
func OSVersions() []string { return sim.DCOSVersions() }

// DefaultEncryptionTypes is what a Windows Server 2012+ host allows when the policy "Network
// security: Configure encryption types allowed for Kerberos" is not configured: RC4-HMAC,
// AES128 and AES256 (msDS-SupportedEncryptionTypes bits 0x4 | 0x8 | 0x10).
const DefaultEncryptionTypes = 0x1C

// Sentinels for errors.Is on host errors (wrapped by *Error and *CmdletError).
var (
	ErrUnknown         = errors.New("no such host")
	ErrExists          = errors.New("a host of that name exists")
	ErrNotLoggedOn     = errors.New("the host has no Kerberos ticket (its logon failed)")
	ErrDCUnavailable   = errors.New("the host's domain controller is stopped")
	ErrNoSuchAccount   = errors.New("no such account")
	ErrNotGMSA         = errors.New("the account is not a group managed service account")
	ErrNotAllowed      = errors.New("the host may not retrieve the managed password")
	ErrStaleGroups     = errors.New("the host's Kerberos ticket predates its group membership: reboot it or purge its tickets (klist -li 0x3e7 purge)")
	ErrOSTooOld        = errors.New("gMSAs need a member host running Windows Server 2012 or later")
	ErrClusterNode     = errors.New("failover clusters do not support gMSAs: the Cluster service cannot run as one (services on top of it can)")
	ErrDCNoKDS         = errors.New("the host's domain controller runs Windows Server 2008 R2: it has no Key Distribution Service and returns no managed password (gMSAs need a Windows Server 2012 or later DC for the host to retrieve the password)")
	ErrDCNoPassword    = errors.New("the domain controller cannot compute the managed password (no usable KDS root key)")
	ErrEncTypes        = errors.New("the host does not support the Kerberos encryption types the gMSA requires")
	ErrNoKeyDecrypts   = errors.New("none of the host's keys decrypts the ticket")
	ErrTicketTime      = errors.New("the ticket is outside its lifetime (expired or not yet valid)")
	ErrUnknownService  = errors.New("the specified service does not exist as an installed service")
	ErrInvalidAccount  = errors.New("the account name is invalid or does not exist")
	ErrLogonFailure    = errors.New("the service did not start due to a logon failure")
	ErrServiceNotReady = errors.New("the service is not running")
	ErrLinkedElsewhere = errors.New("the standalone managed service account is linked to another computer (msDS-HostServiceAccount): an sMSA serves one computer")
	ErrNotInstalled    = errors.New("the standalone managed service account is not installed on this computer (Install-ADServiceAccount)")
	ErrClockSkew       = errors.New("the host's clock differs from its domain controller's by more than 5 minutes (KRB_AP_ERR_SKEW)")
)

// Error says what a host was doing, to what, and why it failed.
type Error struct {
	Host   string
	Op     string // "logon", "retrieve ITFarm1$", "decrypt", ...
	Reason error  // one of the sentinels above
	Err    error  // the underlying error (a *fakead.Error, a *kdc.Error), may be nil
}

func (e *Error) Error() string {
	s := fmt.Sprintf("sim: host %s: %s: %v", e.Host, e.Op, e.Reason)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap gives both the reason and the underlying error to errors.Is / errors.As.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Reason}
	}
	return []error{e.Reason, e.Err}
}

// Spec describes a member host.
type Spec struct {
	Name string // NetBIOS name, "WEB1": 1-15 letters, digits or '-'; unique among hosts
	OS   string // one of OSVersions; "" means sim.DefaultDCOS
	// X86 asks for a 32-bit host, which Fleet.Add refuses: every Windows Server from 2008 R2 on is
	// x64 only (see Fleet.Add). The zero value is an x64 host.
	X86     bool
	Cluster bool // a failover cluster node: it runs the Cluster service (ClusSvc, see clusterService)
	// KDSSvcTrigger: kdssvc has the trigger `sc triggerinfo kdssvc start/networkon` (matters on 2012 R2).
	KDSSvcTrigger bool
	DC            string   // the DC the host talks to (LDAP, Kerberos); "" means the first DC
	Groups        []string // groups (sAMAccountName or DN) the computer account is added to at creation
	// EncryptionTypes the host's Kerberos allows (msDS-SupportedEncryptionTypes bits); 0 means
	// DefaultEncryptionTypes.
	EncryptionTypes int64
}

// Host is a simulated domain member: its computer account and machine password, its logon
// (TGT and group snapshot), its local gMSA cache, its service control manager, IIS application
// pools and scheduled tasks. Its methods run through the world loop; they must not be called from
// inside it (an Exec closure or an event).
type Host struct {
	w        *sim.World
	f        *Fleet
	spec     Spec
	dc       string // the DC it talks to: spec.DC at first, moved by Nltest
	name     string // as given, "Web1"
	dn       string
	sam      string // "WEB1$"
	fqdn     string // "web1.contoso.com"
	password string
	keys     []types.EncryptionKey // machine keys, AES256 first
	creds    *kdc.Credentials
	ldapTkt  map[string]*kdc.ServiceTicket // ldap/<DC> tickets of the current logon, by DC (its ticket cache)
	snap     kdc.Snapshot
	encTypes int64
	boots    int
	gmsa     map[string]*cachedGMSA // by lower-case sAMAccountName
	work     map[string]*Workload   // services, app pools, tasks: by kind + lower-case name
	kdssvc   bool                   // kdssvc is running
	trigger  bool                   // kdssvc start/networkon trigger
	skew     time.Duration          // the host's clock minus the world's (SetClockSkew)
}

// Fleet is the member hosts of one world. Make it with NewFleet; the World does not know it (the
// world core stays below the hosts). Its state lives in the world loop, under the world's lock.
type Fleet struct {
	w      *sim.World
	domain string // the domain's DNS name, "contoso.com"
	byName map[string]*Host
	order  []*Host
}

// NewFleet starts an empty fleet of member hosts over w.
func NewFleet(w *sim.World) *Fleet {
	return &Fleet{w: w, domain: w.Config().Domain, byName: map[string]*Host{}}
}

// World is the world the hosts are members of.
func (f *Fleet) World() *sim.World { return f.w }

// Host returns the host called name (case-insensitive), or nil.
func (f *Fleet) Host(name string) *Host {
	var h *Host
	f.w.Locked(func() { h = f.byName[strings.ToUpper(name)] })
	return h
}

// Hosts returns the hosts in the order they were added.
func (f *Fleet) Hosts() []*Host {
	var out []*Host
	f.w.Locked(func() { out = append([]*Host(nil), f.order...) })
	return out
}

// Add joins a member host to the domain: it creates (or takes over) the computer account
// CN=<name>,CN=Computers on the host's DC as SYSTEM, sets a machine password drawn from the seed
// (stream "host/<NAME>"), adds the account to spec.Groups, and boots the host (logon: a TGT from
// its DC's KDC with the group snapshot of that moment).
func (f *Fleet) Add(spec Spec) (*Host, error) {
	w := f.w
	if !sim.ValidNetBIOS(spec.Name) {
		return nil, &sim.ConfigError{Field: "HostSpec.Name", Value: spec.Name, Reason: "want 1-15 letters, digits or '-'"}
	}
	if spec.OS == "" {
		spec.OS = sim.DefaultDCOS
	}
	if !slices.Contains(OSVersions(), spec.OS) {
		return nil, &sim.ConfigError{Field: "HostSpec.OS", Value: spec.OS, Reason: fmt.Sprintf("want one of %v", OSVersions())}
	}
	if spec.X86 {
		// The seed's "A 64-bit architecture is required to run the Windows PowerShell commands used
		// to administer group Managed Service Accounts" holds by construction: "all editions of the
		// next release of Windows Server [2008 R2] are x64/ia64 processor architecture only; there
		// are no more x86 Windows Server builds beyond Server 2008" (Microsoft, "W2K8 R2 Server is
		// 64-bit Only", blogs.msdn.microsoft.com/philpenn, 2009). A 32-bit host cannot exist here.
		return nil, &sim.ConfigError{Field: "HostSpec.X86", Value: true, Reason: fmt.Sprintf(
			"Windows Server %s has no x86 (32-bit) edition (none since 2008 R2): a host is x64", spec.OS)}
	}
	if spec.DC == "" {
		spec.DC = w.Config().DCs[0].Name
	}
	spec.DC = strings.ToUpper(spec.DC)
	if w.DC(spec.DC) == nil {
		return nil, &sim.ConfigError{Field: "HostSpec.DC", Value: spec.DC, Reason: "no DC of that name"}
	}
	if spec.EncryptionTypes == 0 {
		spec.EncryptionTypes = DefaultEncryptionTypes
	}
	spec.Groups = append([]string(nil), spec.Groups...)
	h := &Host{w: w, f: f, spec: spec, dc: spec.DC, name: spec.Name, sam: strings.ToUpper(spec.Name) + "$",
		fqdn: strings.ToLower(spec.Name) + "." + f.domain, encTypes: spec.EncryptionTypes,
		trigger: spec.KDSSvcTrigger, gmsa: map[string]*cachedGMSA{}, work: map[string]*Workload{}}
	err := w.ExecOn(spec.DC, func(now time.Time, d *fakead.Directory) error {
		key := strings.ToUpper(spec.Name)
		if f.byName[key] != nil {
			return fmt.Errorf("sim: AddHost %s: %w", spec.Name, ErrExists)
		}
		h.password = sim.GeneratePassword(w.Loop().Rand("host/" + key))
		if err := h.join(now, d); err != nil {
			return err
		}
		f.byName[key] = h
		f.order = append(f.order, h)
		if spec.Cluster {
			h.work[workKey(KindService, clusterService)] = &Workload{Kind: KindService, Name: clusterService,
				Account: "LocalSystem", StartType: StartAuto, State: StateStopped}
		}
		w.Loop().Logf("host %s joined: os=%s arch=x64 cluster=%t dc=%s account=%s", h.name, spec.OS, spec.Cluster, spec.DC, h.dn)
		h.boot(now, w.DC(spec.DC), true)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// join creates or takes over the computer account and sets the machine password and groups.
func (h *Host) join(now time.Time, d *fakead.Directory) error {
	if a, ok := d.Account(h.sam); ok {
		h.dn = a.DN
	} else {
		h.dn = "CN=" + h.name + ",CN=Computers," + d.DomainDN()
		attrs := []fakead.Attribute{
			{Name: "objectClass", Values: [][]byte{[]byte("computer")}},
			{Name: "sAMAccountName", Values: [][]byte{[]byte(h.sam)}},
			{Name: "dNSHostName", Values: [][]byte{[]byte(h.fqdn)}},
			{Name: "userAccountControl", Values: [][]byte{[]byte(fmt.Sprint(fakead.UACWorkstationTrust))}},
			{Name: "operatingSystem", Values: [][]byte{[]byte(hostOSName(h.spec.OS))}},
		}
		if h.spec.OS != "2008R2" {
			// Windows Server 2012 and later write their Kerberos encryption types at join.
			attrs = append(attrs, fakead.Attribute{Name: "msDS-SupportedEncryptionTypes",
				Values: [][]byte{[]byte(fmt.Sprint(h.spec.EncryptionTypes))}})
		}
		if err := d.Add(now, fakead.SystemCaller, h.dn, attrs); err != nil {
			return fmt.Errorf("sim: AddHost %s: creating %s: %w", h.name, h.dn, err)
		}
	}
	if err := d.SetPassword(now, fakead.SystemCaller, h.dn, h.password); err != nil {
		return fmt.Errorf("sim: AddHost %s: setting the machine password: %w", h.name, err)
	}
	salt := fakead.KerberosSalt(d.DNSName(), h.sam, true)
	k, err := fakekds.KeysFromString(h.password, salt)
	if err != nil {
		return fmt.Errorf("sim: AddHost %s: machine keys: %w", h.name, err)
	}
	h.keys = []types.EncryptionKey{{KeyType: kdc.EtypeAES256, KeyValue: k.AES256},
		{KeyType: kdc.EtypeAES128, KeyValue: k.AES128}, {KeyType: kdc.EtypeRC4, KeyValue: k.NTHash}}
	for _, g := range h.spec.Groups {
		gdn := g
		if !strings.Contains(g, "=") {
			a, ok := d.Account(g)
			if !ok {
				return fmt.Errorf("sim: AddHost %s: group %q: %w", h.name, g, ErrNoSuchAccount)
			}
			gdn = a.DN
		}
		err := d.Modify(now, fakead.SystemCaller, gdn, []fakead.Modification{{Op: fakead.ModAdd,
			Attr: fakead.Attribute{Name: "member", Values: [][]byte{[]byte(h.dn)}}}})
		if err != nil && fakead.CodeOf(err) != fakead.AttributeOrValueExists {
			return fmt.Errorf("sim: AddHost %s: adding it to %s: %w", h.name, gdn, err)
		}
	}
	return nil
}

func hostOSName(os string) string {
	switch os {
	case "2008R2":
		return "Windows Server 2008 R2 Datacenter"
	case "2012R2":
		return "Windows Server 2012 R2 Datacenter"
	}
	return "Windows Server " + os + " Datacenter"
}

// Name is the host's NetBIOS name as given.
func (h *Host) Name() string { return h.name }

// Spec is what the host was made from (defaults filled in); the DC it talks to now is DC.
func (h *Host) Spec() Spec { return h.spec }

// DC is the name of the DC the host talks to now: Spec.DC until `nltest /sc_reset` moves it.
func (h *Host) DC() string { return sim.LockedValue(h.w, func() string { return h.dc }) }

// FQDN is the host's DNS name, "web1.contoso.com".
func (h *Host) FQDN() string { return h.fqdn }

// DN is the computer account's DN.
func (h *Host) DN() string { return h.dn }

// SAMAccountName is the computer account's name, "WEB1$".
func (h *Host) SAMAccountName() string { return h.sam }

// MachinePassword is the computer account's password (from the seed).
// Divergence: Windows members change their machine password every 30 days; a simulated host keeps
// the one it joined with.
func (h *Host) MachinePassword() string { return h.password }

// Boots is how many times the host has started (1 after Fleet.Add).
func (h *Host) Boots() int {
	return sim.LockedValue(h.w, func() int {
		return h.boots
	})
}

// Exec runs fn in the world loop with the host's DC, which may be stopped (DC.Running): what
// needs it checks. Layers above (MIM) change the host's workloads there, with WorkloadLocked and
// StartLocked.
func (h *Host) Exec(fn func(now time.Time, dc *sim.DC) error) error {
	return h.w.Exec(func(now time.Time) error {
		return fn(now, h.w.DC(h.dc))
	})
}

// boot is a (re)start: the machine logs on (fresh group snapshot), kdssvc comes up as the OS
// and its trigger say, and services set to start automatically start. Inside the loop. joined
// is the host as it joins the world: up and running for a while, kdssvc started.
func (h *Host) boot(now time.Time, dc *sim.DC, joined bool) {
	h.boots++
	h.creds = nil
	_ = h.logon(now, dc, false) // a failed logon leaves the host without tickets; retrievals then fail
	// The 2012 R2 known issue: kdssvc is not started after a restart unless its network-on
	// trigger is set; elsewhere it starts on demand.
	h.kdssvc = joined || h.spec.OS != "2012R2" || h.trigger
	for _, k := range slices.Sorted(maps.Keys(h.work)) {
		wl := h.work[k]
		wl.State = StateStopped
		if wl.Kind != KindTask && wl.StartType == StartAuto { // services, and app pools (IIS autoStart)
			h.StartLocked(now, dc, wl)
		}
	}
}

// logon gets a TGT from the host's DC and reads the group snapshot it carries (through a
// ticket to the host itself, which the host can decrypt). Inside the loop.
// Divergence: Windows renews the machine TGT and the DC builds the LDAP token from the PAC of
// the ldap/DC ticket; here the host logs on again when its TGT expires, and the snapshot is read
// from a ticket to the host itself (the DCs' computer accounts hold no keys in the model). Both
// carry the groups of the logon.
// renewal is a logon because the TGT expired: traced only when the groups changed.
func (h *Host) logon(now time.Time, dc *sim.DC, renewal bool) error {
	fail := func(err error) error {
		h.w.Loop().Logf("host %s logon at %s failed: %v", h.name, dc.Name(), err)
		return &Error{Host: h.name, Op: "logon", Reason: ErrNotLoggedOn, Err: err}
	}
	if !dc.Running() {
		return fail(ErrDCUnavailable)
	}
	k, err := h.w.Loop().KDC(dc)
	if err != nil {
		return fail(err)
	}
	creds, err := k.LogonAt(now, h.clock(now), h.sam, h.keys[0])
	if err != nil {
		return fail(skewErr(err))
	}
	st, err := k.ServiceTicketAt(now, h.clock(now), creds, "host/"+h.fqdn)
	if err != nil {
		return fail(skewErr(err))
	}
	b, err := st.Bytes()
	if err != nil {
		return fail(err)
	}
	snap, err := kdc.TicketSnapshot(b, h.keyFor(st.Ticket.EncPart.EType))
	if err != nil {
		return fail(err)
	}
	same := renewal && strings.Join(h.snap.Groups, ",") == strings.Join(snap.Groups, ",")
	h.creds, h.snap = creds, snap
	h.ldapTkt = nil // a new logon: the service tickets of the old one are gone (klist purge, boot)
	if !same {
		h.w.Loop().Logf("host %s logon at %s: TGT until %s, %d groups", h.name, dc.Name(), sim.FormatOffset(creds.EndTime.Sub(h.w.Start())), len(snap.Groups))
	}
	return nil
}

// clock is the host's own clock when the world's reads now: what it stamps its Kerberos
// requests with.
func (h *Host) clock(now time.Time) time.Time { return now.Add(h.skew) }

// skewErr marks a KRB_AP_ERR_SKEW from the KDC with ErrClockSkew (errors.Is), keeping the
// *kdc.Error (errors.As).
func skewErr(err error) error {
	var ke *kdc.Error
	if errors.As(err, &ke) && ke.Code == 37 {
		return fmt.Errorf("%w: %w", ErrClockSkew, err)
	}
	return err
}

// SetClockSkew sets the host's clock to the world's plus d (negative: behind). Its Kerberos
// requests are stamped with its own time and its DC's KDC checks them against the DC's, with 5
// minutes' tolerance: beyond, its logon, its ticket requests (and so password retrieval,
// Install-/Test-ADServiceAccount and gMSA services) fail with KRB_AP_ERR_SKEW, and as a service
// it refuses AP-REQs from clients more than 5 minutes off its clock. Tickets it already holds
// stay. Traced.
// Divergence: Windows members keep their clocks in step with the domain (W32Time), which the
// simulator does not model; a skew lasts until it is set back.
func (h *Host) SetClockSkew(d time.Duration) error {
	return h.w.Exec(func(now time.Time) error {
		h.skew = d
		h.w.Loop().Logf("host %s clock skew %s", h.name, formatSkew(d))
		return nil
	})
}

// ClockSkew is the host's clock minus the world's.
func (h *Host) ClockSkew() time.Duration {
	return sim.LockedValue(h.w, func() time.Duration {
		return h.skew
	})
}

// formatSkew prints a skew with its sign: "+10m0s", "-5m0s", "0s".
func formatSkew(d time.Duration) string {
	if d > 0 {
		return "+" + d.String()
	}
	return d.String()
}

// keyFor is the machine key of an etype (AES256 when the etype is unknown).
func (h *Host) keyFor(etype int32) types.EncryptionKey {
	for _, k := range h.keys {
		if k.KeyType == etype {
			return k
		}
	}
	return h.keys[0]
}

// ensureLogon logs on again when the host has no TGT or it has expired. Inside the loop.
func (h *Host) ensureLogon(now time.Time, dc *sim.DC) error {
	if h.creds != nil && now.Before(h.creds.EndTime) {
		return nil
	}
	h.creds = nil
	return h.logon(now, dc, true)
}

// Reboot restarts the host: a new logon (fresh group snapshot), kdssvc per its trigger, automatic
// services started again. The gMSA cache survives (it is stored locally).
func (h *Host) Reboot() error {
	return h.Exec(func(now time.Time, dc *sim.DC) error {
		h.w.Loop().Logf("host %s reboot", h.name)
		h.boot(now, dc, false)
		return nil
	})
}

// PurgeTickets is `klist -li 0x3e7 purge` (or `klist purge` run as SYSTEM): the machine's tickets
// are dropped and it logs on again at once, with the group membership of now. The purge itself
// succeeds; a failed logon (a stopped DC, a clock more than 5 minutes off) leaves the host without
// tickets, as after a boot: traced, and its next Kerberos use tries again.
func (h *Host) PurgeTickets() error {
	return h.Exec(func(now time.Time, dc *sim.DC) error {
		h.w.Loop().Logf("host %s klist purge", h.name)
		h.creds = nil
		_ = h.logon(now, dc, false)
		return nil
	})
}

// GroupSnapshot returns the group SIDs the host's current TGT carries, sorted.
func (h *Host) GroupSnapshot() []string {
	return sim.LockedValue(h.w, func() []string {
		out := append([]string(nil), h.snap.Groups...)
		sort.Strings(out)
		return out
	})
}

// LoggedOn reports whether the host holds a TGT.
func (h *Host) LoggedOn() bool {
	return sim.LockedValue(h.w, func() bool {
		return h.creds != nil
	})
}

// SetEncryptionTypes sets the Kerberos encryption types the host allows (the "Configure
// encryption types allowed for Kerberos" policy), as msDS-SupportedEncryptionTypes bits.
func (h *Host) SetEncryptionTypes(mask int64) {
	h.w.Locked(func() {
		h.encTypes = mask
	})
}
