package kdc

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
)

// Directory adapts one replica (*fakead.Directory) to Principals using only fakead's exported API.
// Use it only inside the world loop, as every access to a replica.
type Directory struct {
	d *fakead.Directory
	// memo holds lookups made at replica state usn (HighestUSN): any write, originating or
	// replicated, moves it and empties the memo, so an entry never outlives a write to its
	// account. A gMSA's entry is also bounded in time: its keys follow the clock through
	// msDS-ManagedPassword, so it holds only from the lookup's time until the next change of
	// the password's read view (fakead.GMSAAccount.StableUntil, at the latest the next
	// rotation, whose lazy write the lookup after it performs). At most maxMemo entries.
	usn  uint64
	memo map[string]memoEntry
}

// maxMemo bounds Directory.memo: past it the memo starts again empty.
const maxMemo = 4096

type memoEntry struct {
	p      *Principal
	groups []string
	err    error
	// from and until bound the times the entry holds for; until zero: any time.
	from, until time.Time
}

// holds reports whether m is valid at now.
func (m memoEntry) holds(now time.Time) bool {
	return m.until.IsZero() || (!now.Before(m.from) && now.Before(m.until))
}

// remember returns the result memoised for key at now, or runs f and memoises it.
func (x *Directory) remember(now time.Time, key string, f func() memoEntry) memoEntry {
	if u := x.d.HighestUSN(); u != x.usn || x.memo == nil || len(x.memo) >= maxMemo {
		x.usn, x.memo = u, map[string]memoEntry{}
	}
	if m, ok := x.memo[key]; ok && m.holds(now) {
		return m
	}
	m := f()
	// Only what the replica's state decides (within a gMSA's stable time) is kept: not a gMSA
	// whose managed password could not be computed, and no error but "no such principal" (a
	// gMSA's password may become computable later).
	switch {
	case m.p != nil && m.p.Kind == KindGMSA:
		if m.until.After(now) {
			m.from = now
			x.memo[key] = m
		}
	case m.p != nil, m.err == nil, errors.Is(m.err, ErrNoPrincipal):
		m.until = time.Time{}
		x.memo[key] = m
	}
	return m
}

// NewDirectory returns the principal database of a replica.
func NewDirectory(d *fakead.Directory) *Directory {
	return &Directory{d: d}
}

// Realm is the directory's Kerberos realm: its DNS name upper-cased.
func (x *Directory) Realm() string { return strings.ToUpper(x.d.DNSName()) }

var _ Principals = (*Directory)(nil)

// Client implements Principals. The Principal returned is shared: read it, don't change it.
func (x *Directory) Client(now time.Time, name string) (*Principal, error) {
	m := x.remember(now, "c\x00"+strings.ToLower(name), func() memoEntry {
		p, until, err := x.client(now, name)
		return memoEntry{p: p, err: err, until: until}
	})
	return m.p, m.err
}

func (x *Directory) client(now time.Time, name string) (*Principal, time.Time, error) {
	if name == "" || strings.ContainsAny(name, "=\\/") {
		return nil, time.Time{}, ErrNoPrincipal // DNs and DOMAIN\name are LDAP names, not Kerberos ones
	}
	a, ok := x.d.Account(name)
	if !ok {
		return nil, time.Time{}, ErrNoPrincipal
	}
	return x.principal(now, a)
}

// isHostAlias reports whether class is host or a service class AD maps to host/ (the default
// sPNMappings value of CN=Directory Service,CN=Windows NT,CN=Services,CN=Configuration:
// "host=alerter,http,cifs,...").
func isHostAlias(class string) bool {
	switch strings.ToLower(class) {
	case "host", "alerter", "appmgmt", "cisvc", "clipsrv", "browser", "dhcp", "dnscache", "replicator", "eventlog",
		"eventsystem", "policyagent", "oakley", "dmserver", "dns", "mcsvc", "fax", "msiserver", "ias", "messenger",
		"netlogon", "netman", "netdde", "netddedsm", "nmagent", "plugplay", "protectedstorage", "rasman",
		"rpclocator", "rpc", "rpcss", "remoteaccess", "rsvp", "samss", "scardsvr", "scesrv", "seclogon", "scm",
		"dcom", "cifs", "spooler", "snmp", "schedule", "tapisrv", "trksvr", "trkwks", "ups", "time", "wins", "www",
		"http", "w3svc", "iisadmin", "msdtc":
		return true
	}
	return false
}

// Service implements Principals: an explicit servicePrincipalName first; then, for one component,
// the sAMAccountName; then, for host/ and the classes AD maps to it, the computer named by the
// host part (NAME or name.domain), which holds the name implicitly.
// Divergence: AD reads the sPNMappings attribute from the configuration partition; the mapping
// here is the default value, fixed.
func (x *Directory) Service(now time.Time, name []string) (*Principal, error) {
	m := x.remember(now, "s\x00"+strings.ToLower(strings.Join(name, "\x00")), func() memoEntry {
		p, until, err := x.service(now, name)
		return memoEntry{p: p, err: err, until: until}
	})
	return m.p, m.err
}

func (x *Directory) service(now time.Time, name []string) (*Principal, time.Time, error) {
	var none time.Time
	if len(name) == 0 {
		return nil, none, ErrNoPrincipal
	}
	for _, c := range name {
		if c == "" || strings.ContainsAny(c, "=\\@") {
			return nil, none, ErrNoPrincipal
		}
	}
	var a *fakead.Account
	if len(name) == 1 {
		if acc, ok := x.d.Account(name[0]); ok {
			a = acc
		}
	} else {
		spn := strings.Join(name, "/")
		if acc, ok := x.d.Account(spn); ok && hasSPN(acc, spn) {
			a = acc
		} else if len(name) == 2 && isHostAlias(name[0]) {
			a = x.hostComputer(name[1])
		}
	}
	if a == nil {
		return nil, none, ErrNoPrincipal
	}
	p, until, err := x.principal(now, a)
	if err != nil {
		return nil, none, err
	}
	// A service needs a name clients can ask for: an SPN, or a computer's implicit host/ names.
	// A gMSA created -RestrictToOutboundAuthenticationOnly has no SPN and is no service.
	if len(p.SPNs) == 0 && p.Kind != KindComputer {
		return nil, none, ErrNoPrincipal
	}
	if p.Kind == KindKRBTGT {
		return nil, none, ErrNoPrincipal
	}
	return p, until, nil
}

func hasSPN(a *fakead.Account, spn string) bool {
	for _, s := range a.SPNs {
		if strings.EqualFold(s, spn) {
			return true
		}
	}
	return false
}

// hostComputer finds the computer whose implicit host/ name is host: "WEB1" or "web1.contoso.com".
func (x *Directory) hostComputer(host string) *fakead.Account {
	label, rest, fqdn := strings.Cut(host, ".")
	if fqdn && !strings.EqualFold(rest, x.d.DNSName()) {
		return nil
	}
	a, ok := x.d.Account(label + "$")
	if !ok || kindOf(a) != KindComputer {
		return nil
	}
	if fqdn && a.DNSHostName != "" && !strings.EqualFold(a.DNSHostName, host) {
		return nil
	}
	return a
}

// KRBTGT implements Principals.
func (x *Directory) KRBTGT(now time.Time) (*Principal, error) {
	m := x.remember(now, "k", func() memoEntry {
		a, ok := x.d.Account("krbtgt")
		if !ok {
			return memoEntry{err: ErrNoPrincipal}
		}
		p, until, err := x.principal(now, a)
		return memoEntry{p: p, err: err, until: until}
	})
	return m.p, m.err
}

// Groups implements Principals.
func (x *Directory) Groups(now time.Time, p *Principal) ([]string, error) {
	m := x.remember(now, "g\x00"+strings.ToLower(p.DN), func() memoEntry {
		sids, err := x.d.TokenGroups(p.DN)
		if err != nil {
			return memoEntry{err: err}
		}
		out := make([]string, len(sids))
		for i, s := range sids {
			out[i] = s.String()
		}
		return memoEntry{groups: out}
	})
	return append([]string(nil), m.groups...), m.err
}

func kindOf(a *fakead.Account) Kind {
	var user, computer, gmsa bool
	for _, c := range a.Classes {
		switch strings.ToLower(c) {
		case "user":
			user = true
		case "computer":
			computer = true
		case "msds-groupmanagedserviceaccount":
			gmsa = true
		}
	}
	switch {
	case gmsa:
		return KindGMSA
	case computer:
		return KindComputer
	case strings.EqualFold(a.SAMAccountName, "krbtgt"):
		return KindKRBTGT
	case user:
		return KindUser
	}
	return -1
}

// principal turns a directory account into a Principal: keys, kvno, msDS-SupportedEncryptionTypes.
// A gMSA is read with AccountAt, which performs the lazy rotation a read of msDS-ManagedPassword
// would, so its keys and kvno are those of the current managed password; until is when that
// stops holding (fakead.GMSAAccount.StableUntil; zero for other accounts, whose Principal
// changes only with a write).
func (x *Directory) principal(now time.Time, a *fakead.Account) (p *Principal, until time.Time, err error) {
	k := kindOf(a)
	if k < 0 {
		return nil, until, ErrNoPrincipal // a group, a contact: not a security principal that logs on
	}
	if k == KindGMSA {
		if at, ok := x.d.AccountAt(now, a.DN); ok {
			a = at
		}
		if a.GMSA != nil {
			until = a.GMSA.StableUntil
		}
	}
	p = &Principal{Name: a.SAMAccountName, DN: a.DN, SID: a.SID.String(), Kind: k,
		UserAccountControl: a.UserAccountControl, SupportedEncTypes: a.SupportedEncTypes, KVNO: a.KVNO,
		Salt: a.Keys.Salt, SPNs: append([]string(nil), a.SPNs...), Keys: keyMap(a.Keys)}
	if p.Salt == "" {
		p.Salt = fakead.KerberosSalt(x.d.DNSName(), a.SAMAccountName, k == KindComputer || k == KindGMSA)
	}
	if a.GMSA != nil && a.GMSA.PreviousKeys != nil {
		p.PreviousKeys = keyMap(*a.GMSA.PreviousKeys)
	}
	res, err := x.d.Search(now, fakead.SystemCaller, &fakead.SearchRequest{BaseDN: a.DN, Scope: fakead.ScopeBase,
		Filter: fakead.FilterPresent{Attr: "objectClass"}, Attributes: []string{"primaryGroupID"}, SDFlags: -1})
	if err != nil {
		return nil, until, fmt.Errorf("kdc: reading %s: %w", a.DN, err)
	}
	for _, e := range res {
		for _, at := range e.Attributes {
			if strings.EqualFold(at.Name, "primaryGroupID") && len(at.Values) > 0 {
				if v, err := strconv.ParseUint(string(at.Values[0]), 10, 32); err == nil {
					p.PrimaryGroupID = uint32(v)
				}
			}
		}
	}
	return p, until, nil
}

// keyMap turns fakead.Keys into keys by etype, leaving out the missing ones.
func keyMap(k fakead.Keys) map[int32][]byte {
	m := map[int32][]byte{}
	for _, x := range []struct {
		et  int32
		key []byte
	}{{EtypeAES256, k.AES256}, {EtypeAES128, k.AES128}, {EtypeRC4, k.NTHash}} {
		if len(x.key) > 0 {
			m[x.et] = append([]byte(nil), x.key...)
		}
	}
	return m
}

// ForDirectory builds the KDC of one DC: realm from the replica's DNS name, principals from
// NewDirectory(d), session keys and confounders from rnd (the world's seeded stream).
func ForDirectory(d *fakead.Directory, rnd io.Reader) (*KDC, error) {
	x := NewDirectory(d)
	return New(Config{Realm: x.Realm(), Principals: x, Rand: rnd, NetBIOSName: d.NetBIOSName(), DCName: d.DC().Name})
}
