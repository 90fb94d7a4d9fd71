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
	// replicated, moves it and empties the memo. gMSAs are not memoised (their keys follow the
	// clock through msDS-ManagedPassword).
	usn  uint64
	memo map[string]memoEntry
}

type memoEntry struct {
	p      *Principal
	groups []string
	err    error
}

// remember returns the memoised result for key, or runs f and memoises it.
func (x *Directory) remember(key string, f func() memoEntry) memoEntry {
	if u := x.d.HighestUSN(); u != x.usn || x.memo == nil || len(x.memo) > 4096 {
		x.usn, x.memo = u, map[string]memoEntry{}
	}
	if m, ok := x.memo[key]; ok {
		return m
	}
	m := f()
	// Only what the replica's state decides is kept: not a gMSA (its keys follow the clock) and
	// no error but "no such principal" (a gMSA's password may become computable later).
	if (m.p != nil && m.p.Kind != KindGMSA) || (m.p == nil && (m.err == nil || errors.Is(m.err, ErrNoPrincipal))) {
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
	m := x.remember("c\x00"+strings.ToLower(name), func() memoEntry {
		p, err := x.client(now, name)
		return memoEntry{p: p, err: err}
	})
	return m.p, m.err
}

func (x *Directory) client(now time.Time, name string) (*Principal, error) {
	if name == "" || strings.ContainsAny(name, "=\\/") {
		return nil, ErrNoPrincipal // DNs and DOMAIN\name are LDAP names, not Kerberos ones
	}
	a, ok := x.d.Account(name)
	if !ok {
		return nil, ErrNoPrincipal
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
	m := x.remember("s\x00"+strings.ToLower(strings.Join(name, "\x00")), func() memoEntry {
		p, err := x.service(now, name)
		return memoEntry{p: p, err: err}
	})
	return m.p, m.err
}

func (x *Directory) service(now time.Time, name []string) (*Principal, error) {
	if len(name) == 0 {
		return nil, ErrNoPrincipal
	}
	for _, c := range name {
		if c == "" || strings.ContainsAny(c, "=\\@") {
			return nil, ErrNoPrincipal
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
		return nil, ErrNoPrincipal
	}
	p, err := x.principal(now, a)
	if err != nil {
		return nil, err
	}
	// A service needs a name clients can ask for: an SPN, or a computer's implicit host/ names.
	// A gMSA created -RestrictToOutboundAuthenticationOnly has no SPN and is no service.
	if len(p.SPNs) == 0 && p.Kind != KindComputer {
		return nil, ErrNoPrincipal
	}
	if p.Kind == KindKRBTGT {
		return nil, ErrNoPrincipal
	}
	return p, nil
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
	m := x.remember("k", func() memoEntry {
		a, ok := x.d.Account("krbtgt")
		if !ok {
			return memoEntry{err: ErrNoPrincipal}
		}
		p, err := x.principal(now, a)
		return memoEntry{p: p, err: err}
	})
	return m.p, m.err
}

// Groups implements Principals.
func (x *Directory) Groups(now time.Time, p *Principal) ([]string, error) {
	m := x.remember("g\x00"+strings.ToLower(p.DN), func() memoEntry {
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
// would, so its keys and kvno are those of the current managed password.
func (x *Directory) principal(now time.Time, a *fakead.Account) (*Principal, error) {
	k := kindOf(a)
	if k < 0 {
		return nil, ErrNoPrincipal // a group, a contact: not a security principal that logs on
	}
	if k == KindGMSA {
		if at, ok := x.d.AccountAt(now, a.DN); ok {
			a = at
		}
	}
	p := &Principal{Name: a.SAMAccountName, DN: a.DN, SID: a.SID.String(), Kind: k,
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
		return nil, fmt.Errorf("kdc: reading %s: %w", a.DN, err)
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
	return p, nil
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
