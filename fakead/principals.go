package fakead

import (
	"crypto/subtle"
	"encoding/binary"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/gmsasim/gmsasim/ad"
)

// hiddenAttr reports whether t holds secret material that is never returned on read.
func hiddenAttr(t *AttrType) bool {
	switch t.lower {
	case "unicodepwd", "supplementalcredentials", "dbcspwd", "ntpwdhistory", "lmpwdhistory",
		"userpassword", "currentvalue", "priorvalue", "initialauthincoming", "initialauthoutgoing",
		"trustauthincoming", "trustauthoutgoing":
		return true
	}
	return false
}

// decodePassword checks and decodes a unicodePwd value: only over an encrypted connection, as a
// quoted UTF-16LE string ([MS-ADTS] 3.1.1.3.1.5.1).
func (d *Directory) decodePassword(op, dnStr string, c Caller, vals [][]byte) (string, error) {
	if !c.Encrypted {
		return "", errUnwilling(op, dnStr, "unicodePwd may only be set over an encrypted connection")
	}
	if len(vals) != 1 {
		return "", errConstraint(op, dnStr, d.at.unicodePwd)
	}
	v := vals[0]
	if len(v)%2 != 0 || len(v) < 4 {
		return "", errConstraint(op, dnStr, d.at.unicodePwd)
	}
	u := make([]uint16, len(v)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(v[2*i:])
	}
	s := string(utf16.Decode(u))
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return "", errConstraint(op, dnStr, d.at.unicodePwd)
	}
	return s[1 : len(s)-1], nil
}

// passwordMatches reports whether password is e's current password.
func (d *Directory) passwordMatches(e *entry, password string) bool {
	pw := e.get(d.at.unicodePwd)
	return pw != nil && len(pw.vals) > 0 && subtle.ConstantTimeCompare(pw.vals[0].raw, NTHash(password)) == 1
}

// SetPassword sets a user's or computer's password (stored as NT hash and Kerberos keys only).
func (d *Directory) SetPassword(now time.Time, c Caller, dnStr, password string) error {
	const op = "modify"
	dn, err := ParseDN(dnStr)
	if err != nil {
		return errInvalidDN(op, dnStr)
	}
	e := d.lookup(dn)
	if e == nil || e.deleted {
		return errNoSuchObject(op, dnStr, d.bestMatch(dn))
	}
	if !d.isClass(e, "user") {
		return errUnwilling(op, dnStr, "only users and computers have passwords")
	}
	if err := d.checkModify(c, e, map[*AttrType]bool{d.at.unicodePwd: true}, true); err != nil {
		return err
	}
	usn := d.nextUSN()
	d.storePassword(e, password, now, usn)
	d.touch(e, now, usn)
	return nil
}

// storePassword derives and stores the secrets of password on e as an originating write.
func (d *Directory) storePassword(e *entry, password string, now time.Time, usn uint64) {
	sam := e.firstString(d.at.sAMAccountName)
	salt := KerberosSalt(d.dom.DNSName, sam, d.isClass(e, "computer"))
	k, err := d.deriveKeys(password, salt)
	if err != nil {
		k = Keys{NTHash: NTHash(password), Salt: salt}
	}
	d.storeKeys(e, k, now, usn)
}

// storeKeys stores an account's keys as an originating write.
func (d *Directory) storeKeys(e *entry, k Keys, now time.Time, usn uint64) {
	d.put(e, d.at.unicodePwd, now, usn, k.NTHash)
	d.put(e, d.at.supplementalCredentials, now, usn, encodeSupplemental(k))
	d.putString(e, d.at.pwdLastSet, now, usn, ad.FileTimeFromTime(now).String())
}

// Account is what the KDC and the world need to know about a security principal.
type Account struct {
	DN                 string
	SAMAccountName     string
	SID                ad.SID
	UserAccountControl int64
	Keys               Keys
	KVNO               uint32 // msDS-KeyVersionNumber: the version of unicodePwd's metadata
	SPNs               []string
	DNSHostName        string
	Classes            []string
	HasPassword        bool
	// SupportedEncTypes is msDS-SupportedEncryptionTypes (0 when absent).
	SupportedEncTypes int64
	// GMSA is set for group managed service accounts (managedpw.go): their Keys and KVNO are those
	// of the managed password the DC last stored; AccountAt brings them up to date first.
	GMSA *GMSAAccount
}

// Account finds a principal by sAMAccountName, userPrincipalName, DN, DOMAIN\name or SPN.
func (d *Directory) Account(name string) (*Account, bool) {
	e := d.resolveAccount(name)
	if e == nil {
		if set, _ := d.lookupSet(d.at.servicePrincipalName, foldCase(name)); len(set) == 1 {
			e = set[0]
		}
	}
	if e == nil || e.deleted {
		return nil, false
	}
	return d.accountOf(e), true
}

// DCAccount is the computer account of the DC this replica belongs to (sAMAccountName DC().Name+"$"):
// its current keys (AES256, AES128, the NT hash for RC4) and kvno are what a service on the DC
// (LDAP's SASL GSSAPI, host/) decrypts AP-REQs with. ok is false when the replica has no such
// account. Call it inside the world loop, as every access to a replica.
func (d *Directory) DCAccount() (*Account, bool) {
	if d.dc.Name == "" {
		return nil, false
	}
	return d.Account(strings.ToUpper(d.dc.Name) + "$")
}

func (d *Directory) accountOf(e *entry) *Account {
	a := &Account{DN: e.dnString(), SAMAccountName: e.firstString(d.at.sAMAccountName),
		DNSHostName: e.firstString(d.at.dNSHostName)}
	a.SID, _ = ad.SIDFromBytes(e.first(d.at.objectSid))
	a.UserAccountControl, _ = strconv.ParseInt(e.firstString(d.at.userAccountControl), 10, 64)
	if x := e.get(d.at.unicodePwd); x != nil && len(x.vals) > 0 {
		a.HasPassword = true
		a.Keys.NTHash = x.vals[0].raw
		a.KVNO = x.meta.Version
	}
	if x := e.first(d.at.supplementalCredentials); x != nil {
		_ = decodeSupplemental(x, &a.Keys)
	}
	if x := e.get(d.at.servicePrincipalName); x != nil {
		for _, v := range x.vals {
			a.SPNs = append(a.SPNs, string(v.raw))
		}
	}
	if x := e.get(d.at.objectClass); x != nil {
		for _, v := range x.vals {
			a.Classes = append(a.Classes, string(v.raw))
		}
	}
	if v := e.firstString(d.schema.Attr(ad.AttrSupportedEncryptionTypes)); v != "" {
		a.SupportedEncTypes, _ = strconv.ParseInt(v, 10, 64)
	}
	a.GMSA = d.gmsaOf(e)
	return a
}

// resolveAccount finds the entry named by a DN, a UPN (explicit, or the implicit
// sAMAccountName@dnsdomain), DOMAIN\sAMAccountName or a bare sAMAccountName.
func (d *Directory) resolveAccount(name string) *entry {
	if strings.Contains(name, "=") {
		if dn, err := ParseDN(name); err == nil {
			if e := d.lookup(dn); e != nil && !e.deleted {
				return e
			}
		}
		return nil
	}
	one := func(t *AttrType, v string) *entry {
		set, _ := d.lookupSet(t, foldCase(v))
		for _, e := range set {
			if !e.deleted {
				return e
			}
		}
		return nil
	}
	if i := strings.IndexByte(name, '\\'); i >= 0 {
		dom := name[:i]
		if !strings.EqualFold(dom, d.dom.NetBIOSName) && !strings.EqualFold(dom, d.dom.DNSName) {
			return nil
		}
		return one(d.at.sAMAccountName, name[i+1:])
	}
	if i := strings.LastIndexByte(name, '@'); i >= 0 {
		if e := one(d.at.userPrincipalName, name); e != nil {
			return e
		}
		if strings.EqualFold(name[i+1:], d.dom.DNSName) || strings.EqualFold(name[i+1:], d.dom.NetBIOSName) {
			return one(d.at.sAMAccountName, name[:i])
		}
		return nil
	}
	return one(d.at.sAMAccountName, name)
}

// Bind authenticates name (a DN, a UPN user@contoso.com, or CONTOSO\user) with password and returns
// the caller with its token. An empty password is an unauthenticated (anonymous) bind, as RFC 4513
// 5.1.2 says.
func (d *Directory) Bind(now time.Time, name, password string, encrypted bool) (Caller, error) {
	if password == "" {
		return Caller{Encrypted: encrypted}, nil
	}
	bad := &Error{Code: InvalidCredentials, Op: "bind", DN: name, Diag: diagBadCreds}
	e := d.resolveAccount(name)
	if e == nil || !d.isClass(e, "user") {
		return Caller{}, bad
	}
	if !d.passwordMatches(e, password) {
		return Caller{}, bad
	}
	uac, _ := strconv.ParseInt(e.firstString(d.at.userAccountControl), 10, 64)
	if uac&UACAccountDisable != 0 {
		return Caller{}, &Error{Code: InvalidCredentials, Op: "bind", DN: name, Diag: diagDisabled}
	}
	tok := d.tokenOf(e)
	c := Caller{DN: e.dnString(), Token: tok, Encrypted: encrypted}
	if len(tok) > 0 {
		c.SID = tok[0]
	}
	return c, nil
}

// CallerFor builds the caller of an account without a password check (the KDC and the world use it
// for principals that authenticated by other means).
func (d *Directory) CallerFor(dnStr string, encrypted bool) (Caller, error) {
	dn, err := ParseDN(dnStr)
	if err != nil {
		return Caller{}, errInvalidDN("bind", dnStr)
	}
	e := d.lookup(dn)
	if e == nil || e.deleted {
		return Caller{}, errNoSuchObject("bind", dnStr, d.bestMatch(dn))
	}
	tok := d.tokenOf(e)
	c := Caller{DN: e.dnString(), Token: tok, Encrypted: encrypted}
	if len(tok) > 0 {
		c.SID = tok[0]
	}
	return c, nil
}

// memberOfEntries lists the groups whose member attribute names e (direct membership).
func (d *Directory) memberOfEntries(e *entry) []*entry {
	set, _ := d.lookupSet(d.at.member, e.key)
	out := make([]*entry, 0, len(set))
	for _, g := range set {
		if !g.deleted {
			out = append(out, g)
		}
	}
	return out
}

// primaryGroup is the group named by e's primaryGroupID.
func (d *Directory) primaryGroup(e *entry) *entry {
	pg := e.firstString(d.at.primaryGroupID)
	if pg == "" {
		return nil
	}
	rid, err := strconv.ParseUint(pg, 10, 32)
	if err != nil {
		return nil
	}
	set, _ := d.lookupSet(d.at.objectSid, string(d.dom.DomainSID.WithRID(uint32(rid)).Bytes()))
	if len(set) == 0 {
		return nil
	}
	return set[0]
}

// groupClosure returns the groups e belongs to, transitively, including its primary group.
func (d *Directory) groupClosure(e *entry) []*entry {
	seen := map[*entry]bool{}
	var out []*entry
	queue := d.memberOfEntries(e)
	if pg := d.primaryGroup(e); pg != nil {
		queue = append(queue, pg)
	}
	for len(queue) > 0 {
		g := queue[0]
		queue = queue[1:]
		if seen[g] || g == e {
			continue
		}
		seen[g] = true
		out = append(out, g)
		queue = append(queue, d.memberOfEntries(g)...)
	}
	return out
}

// tokenGroupSIDs are the SIDs of e's security groups, transitively (tokenGroups), sorted.
func (d *Directory) tokenGroupSIDs(e *entry) []ad.SID {
	var out []ad.SID
	for _, g := range d.groupClosure(e) {
		gt, _ := strconv.ParseInt(g.firstString(d.at.groupType), 10, 64)
		if gt >= 0 { // distribution groups are not in tokens
			continue
		}
		if sid, err := ad.SIDFromBytes(g.first(d.at.objectSid)); err == nil {
			out = append(out, sid)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// tokenOf is the logon token: own SID first, then groups, then Everyone and Authenticated Users.
// Tokens are remembered until the next write to the replica (every write moves the USN).
func (d *Directory) tokenOf(e *entry) []string {
	if c, ok := d.tokens[e]; ok && c.usn == d.usn {
		return append([]string(nil), c.tok...)
	}
	tok := d.computeToken(e)
	if d.tokens == nil || len(d.tokens) > 4096 {
		d.tokens = map[*entry]cachedToken{}
	}
	d.tokens[e] = cachedToken{usn: d.usn, tok: tok}
	return append([]string(nil), tok...)
}

type cachedToken struct {
	usn uint64
	tok []string
}

func (d *Directory) computeToken(e *entry) []string {
	var tok []string
	if sid, err := ad.SIDFromBytes(e.first(d.at.objectSid)); err == nil {
		tok = append(tok, sid.String())
	}
	for _, s := range d.tokenGroupSIDs(e) {
		tok = append(tok, s.String())
	}
	return append(tok, sidEveryone, sidAuthUsers)
}

// TokenGroups returns the transitive security group SIDs of the principal dn.
func (d *Directory) TokenGroups(dnStr string) ([]ad.SID, error) {
	dn, err := ParseDN(dnStr)
	if err != nil {
		return nil, errInvalidDN("search", dnStr)
	}
	e := d.lookup(dn)
	if e == nil || e.deleted {
		return nil, errNoSuchObject("search", dnStr, d.bestMatch(dn))
	}
	return d.tokenGroupSIDs(e), nil
}

// IsMember reports whether principal is a member of group, directly, transitively or through its
// primary group.
func (d *Directory) IsMember(principalDN, groupDN string) (bool, error) {
	p, err := ParseDN(principalDN)
	if err != nil {
		return false, errInvalidDN("search", principalDN)
	}
	g, err := ParseDN(groupDN)
	if err != nil {
		return false, errInvalidDN("search", groupDN)
	}
	e := d.lookup(p)
	if e == nil {
		return false, errNoSuchObject("search", principalDN, d.bestMatch(p))
	}
	for _, x := range d.groupClosure(e) {
		if x.key == dnKey(g) {
			return true, nil
		}
	}
	return false, nil
}
