package fakead

import (
	"sort"
	"strconv"
	"strings"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakekds"
)

// The Key Distribution Service of one DC. It sees only this replica: the msKds-ProvRootKey
// objects below CN=Master Root Keys that have replicated here. Like kdssvc it caches every root
// key it has loaded, so a key deleted from the directory keeps working on this DC until its KDS
// restarts (Learn, "Create the Key Distribution Services KDS Root Key": "the old key continues to
// be used after deletion due to caching of the key"). Key selection runs on this DC's clock (the
// now of each call) with fakekds's rules and the replica's Policy.

// kdsState is a DC's KDS: its root-key cache, policy and derivation caches.
type kdsState struct {
	policy  fakekds.Policy
	deriver *fakekds.Deriver
	cache   map[ad.GUID]*fakekds.RootKey
	// parsed remembers, per root-key object (objectGUID), the USN it was parsed at, so a
	// replica's keys are parsed once.
	parsed map[ad.GUID]uint64
	// container is the key of CN=Master Root Keys in this replica.
	container string
}

func (d *Directory) kdsState() *kdsState {
	if d.kds == nil {
		d.kds = &kdsState{deriver: fakekds.NewDeriver(), cache: map[ad.GUID]*fakekds.RootKey{},
			parsed: map[ad.GUID]uint64{}}
		if dn, err := ParseDN(d.RootKeyContainerDN()); err == nil {
			d.kds.container = dnKey(dn)
		}
	}
	return d.kds
}

// KDSPolicy is the reading of the 10-hour rule this DC's KDS applies when it gives a new gMSA its
// first password id (fakekds.RuleIntervalStart unless set).
func (d *Directory) KDSPolicy() fakekds.Policy { return d.kdsState().policy }

// SetKDSPolicy sets this DC's KDS policy. The world sets the same policy on every DC.
func (d *Directory) SetKDSPolicy(p fakekds.Policy) { d.kdsState().policy = p }

// SetKDSDeriver shares one derivation cache between replicas (they compute the same seed keys).
// The deriver is safe for concurrent use.
func (d *Directory) SetKDSDeriver(x *fakekds.Deriver) {
	if x != nil {
		d.kdsState().deriver = x
	}
}

// RestartKDS restarts this DC's Key Distribution Service: its root-key cache is dropped, and the
// next request loads the keys the replica holds now. It returns how many cached keys were dropped.
func (d *Directory) RestartKDS() int {
	s := d.kdsState()
	n := len(s.cache)
	s.cache = map[ad.GUID]*fakekds.RootKey{}
	s.parsed = map[ad.GUID]uint64{}
	return n
}

// RootKeyContainerDN is CN=Master Root Keys,CN=Group Key Distribution Service,CN=Services,
// CN=Configuration,<forest root>.
func (d *Directory) RootKeyContainerDN() string {
	return fakekds.RootKeyContainerRDNs + "," + d.dom.domainDN.String()
}

// KDSRootKeys returns the root keys this DC's KDS can use now: every valid key object of the
// replica, loaded into the cache, plus the keys cached earlier that have since been deleted.
// Keys that do not parse (bad cn, missing attributes, wrong version or length) are skipped, as
// Samba's KDS skips them. Sorted by creation time, then id.
func (d *Directory) KDSRootKeys() []*fakekds.RootKey {
	s := d.kdsState()
	if c := d.byKey[s.container]; c != nil {
		for ch := range c.children {
			if ch.deleted || !d.isClass(ch, ad.ClassKdsProvRootKey) {
				continue
			}
			usn, _ := parseUint(ch.firstString(d.at.uSNChanged))
			if got, ok := s.parsed[ch.guid]; ok && got == usn {
				continue
			}
			s.parsed[ch.guid] = usn
			var attrs []fakekds.Attr
			for _, a := range ch.attrs {
				attrs = append(attrs, fakekds.Attr{Name: a.t.Name, Values: a.rawValues()})
			}
			rk, err := fakekds.ParseRootKey(attrs)
			if err != nil {
				continue
			}
			s.cache[rk.ID] = rk
		}
	}
	out := make([]*fakekds.RootKey, 0, len(s.cache))
	for _, k := range s.cache {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].CreateTime != out[j].CreateTime {
			return out[i].CreateTime < out[j].CreateTime
		}
		return out[i].ID.Compare(out[j].ID) < 0
	})
	return out
}

// isDomainAdminOrEA reports whether c holds Domain Admins or Enterprise Admins (what creating a
// root key needs: msKds-ProvRootKey's defaultSecurityDescriptor grants only DA, EA and SYSTEM).
func (d *Directory) isDomainAdminOrEA(c Caller) bool {
	return c.System || d.hasSID(c, d.domRID(ridDomainAdmins)) || d.hasSID(c, d.domRID(ridEnterpriseAdmin))
}

// checkRootKeyAdd refuses the creation of a root key by anyone but Domain Admins and Enterprise
// Admins (Add-KdsRootKey run by a plain Administrators member fails the same way).
func (d *Directory) checkRootKeyAdd(c Caller, e *entry) error {
	if !d.isClass(e, ad.ClassKdsProvRootKey) || d.isDomainAdminOrEA(c) {
		return nil
	}
	return errAccess("add", e.dn.String(), "creating a KDS root key needs Domain Admins or Enterprise Admins")
}

// dcSupportsGMSA reports whether the replica knows a domain controller of Windows Server 2012 or
// later: a computer object in OU=Domain Controllers whose operatingSystemVersion is 6.2 or more.
func (d *Directory) dcSupportsGMSA() bool {
	ou := d.lookup(d.dom.domainDN.Child("OU", "Domain Controllers"))
	if ou == nil {
		return false
	}
	osv := d.schema.Attr("operatingSystemVersion")
	for ch := range ou.children {
		if ch.deleted || !d.isClass(ch, "computer") {
			continue
		}
		if osVersionAtLeast(ch.firstString(osv), 6, 2) {
			return true
		}
	}
	return false
}

// osVersionAtLeast parses "6.3 (9600)" / "10.0 (17763)".
func osVersionAtLeast(v string, major, minor uint64) bool {
	v, _, _ = strings.Cut(strings.TrimSpace(v), " ")
	maj, min, _ := strings.Cut(v, ".")
	a, err := parseUint(maj)
	if err != nil {
		return false
	}
	b, _ := parseUint(min)
	return a > major || a == major && b >= minor
}

func parseUint(s string) (uint64, error) { return strconv.ParseUint(strings.TrimSpace(s), 10, 64) }
