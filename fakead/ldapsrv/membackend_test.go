package ldapsrv_test

import (
	"bytes"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
)

// memBackend is a small in-memory directory for the wire tests: enough semantics to check that
// the server translates faithfully (the real model is fakead.Directory behind the world).
type memBackend struct {
	mu       sync.Mutex
	entries  map[string]*memEntry // lower-cased DN → entry
	users    map[string]string    // lower-cased bind name (DN, CONTOSO\sam, UPN) → DN
	pw       map[string]string    // DN → password
	sam      map[string]string    // DN → sAMAccountName
	searches []fakead.SearchRequest
	callers  []fakead.Caller
	panicDN  string // any operation on this DN panics
}

type memEntry struct {
	dn    string
	attrs []fakead.Attribute
}

const (
	baseDN    = "DC=contoso,DC=com"
	adminDN   = "CN=Administrator,CN=Users,DC=contoso,DC=com"
	adminPW   = "Passw0rd!"
	diagBadPW = "80090308: LdapErr: DSID-0C09041C, comment: AcceptSecurityContext error, data 52e, v4563"
	diag202D  = "0000202D: LdapErr: confidentiality required"
)

func newMemBackend() *memBackend {
	b := &memBackend{entries: map[string]*memEntry{}, users: map[string]string{}, pw: map[string]string{}, sam: map[string]string{}}
	b.put(baseDN, "objectClass", "top", "objectClass", "domain", "dc", "contoso")
	b.put("CN=Users,"+baseDN, "objectClass", "container", "cn", "Users")
	b.put("CN=Computers,"+baseDN, "objectClass", "container", "cn", "Computers")
	b.addUser("Administrator", adminPW, 512)
	b.addUser("alice", "alice-pw", 512)
	b.addUser("bob", "bob-pw", 514) // disabled
	for i := 0; i < 7; i++ {
		b.put("CN=WEB"+strconv.Itoa(i)+",CN=Computers,"+baseDN, "objectClass", "computer",
			"cn", "WEB"+strconv.Itoa(i), "userAccountControl", "4096",
			"objectSid", string([]byte{1, 5, 0, 0, 0, 0, 0, 5, 0x15, 0, 0, 0, 0xff, 0x00, byte(i)}))
	}
	return b
}

func (b *memBackend) addUser(sam, pw string, uac int) {
	dn := "CN=" + sam + ",CN=Users," + baseDN
	b.put(dn, "objectClass", "user", "cn", sam, "sAMAccountName", sam,
		"userAccountControl", strconv.Itoa(uac), "msDS-ManagedPassword", "secret-"+sam)
	b.users[strings.ToLower(dn)] = dn
	b.users[strings.ToLower("CONTOSO\\"+sam)] = dn
	b.users[strings.ToLower(sam+"@contoso.com")] = dn
	b.pw[dn] = pw
	b.sam[dn] = sam
}

func (b *memBackend) put(dn string, kv ...string) {
	e := &memEntry{dn: dn}
	for i := 0; i < len(kv); i += 2 {
		e.add(kv[i], []byte(kv[i+1]))
	}
	b.entries[strings.ToLower(dn)] = e
}

func (e *memEntry) add(name string, v []byte) {
	for i := range e.attrs {
		if strings.EqualFold(e.attrs[i].Name, name) {
			e.attrs[i].Values = append(e.attrs[i].Values, v)
			return
		}
	}
	e.attrs = append(e.attrs, fakead.Attribute{Name: name, Values: [][]byte{v}})
}

func (e *memEntry) get(name string) [][]byte {
	for _, a := range e.attrs {
		if strings.EqualFold(a.Name, name) {
			return a.Values
		}
	}
	return nil
}

func mErr(code fakead.ResultCode, op, dn, diag string) error {
	return &fakead.Error{Code: code, Op: op, DN: dn, Diag: diag}
}

func (b *memBackend) checkPanic(dn string) {
	if b.panicDN != "" && strings.EqualFold(dn, b.panicDN) {
		panic("memBackend: asked to panic on " + dn)
	}
}

func (b *memBackend) Bind(encrypted bool, name, password string) (fakead.Caller, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.checkPanic(name)
	if password == "" {
		return fakead.Caller{Encrypted: encrypted}, nil
	}
	dn, ok := b.users[strings.ToLower(name)]
	if !ok || b.pw[dn] != password {
		return fakead.Caller{}, mErr(fakead.InvalidCredentials, "bind", name, diagBadPW)
	}
	return fakead.Caller{DN: dn, SID: "S-1-5-21-1-2-3-500", Encrypted: encrypted}, nil
}

func (b *memBackend) WhoAmI(c fakead.Caller) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c.DN == "" {
		return ""
	}
	return `u:CONTOSO\` + b.sam[c.DN]
}

func inScope(dn, base string, scope fakead.Scope) bool {
	dn, base = strings.ToLower(dn), strings.ToLower(base)
	switch scope {
	case fakead.ScopeBase:
		return dn == base
	case fakead.ScopeOne:
		i := strings.Index(dn, ",")
		return i >= 0 && dn[i+1:] == base
	default:
		return dn == base || strings.HasSuffix(dn, ","+base)
	}
}

func (b *memBackend) Search(c fakead.Caller, req *fakead.SearchRequest) ([]fakead.SearchEntry, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.checkPanic(req.BaseDN)
	b.searches = append(b.searches, *req)
	b.callers = append(b.callers, c)
	if req.BaseDN == "" && req.Scope == fakead.ScopeBase {
		return []fakead.SearchEntry{{DN: "", Attributes: []fakead.Attribute{
			{Name: "defaultNamingContext", Values: [][]byte{[]byte(baseDN)}},
			{Name: "supportedLDAPVersion", Values: [][]byte{[]byte("3"), []byte("2")}},
		}}}, nil
	}
	if _, ok := b.entries[strings.ToLower(req.BaseDN)]; !ok {
		return nil, &fakead.Error{Code: fakead.NoSuchObject, Op: "search", DN: req.BaseDN, MatchedDN: baseDN,
			Diag: "0000208D: NameErr: DSID-03100241, problem 2001 (NO_OBJECT), data 0, best match of:\n\t'" + baseDN + "'\n"}
	}
	var keys []string
	for k := range b.entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []fakead.SearchEntry
	for _, k := range keys {
		e := b.entries[k]
		if !inScope(e.dn, req.BaseDN, req.Scope) || !match(e, req.Filter) {
			continue
		}
		if req.SizeLimit > 0 && len(out) == req.SizeLimit {
			return out, mErr(fakead.SizeLimitExceeded, "search", req.BaseDN, "")
		}
		se := fakead.SearchEntry{DN: e.dn}
		for _, a := range e.attrs {
			if !selected(a.Name, req.Attributes) {
				continue
			}
			if strings.EqualFold(a.Name, "msDS-ManagedPassword") && !c.Encrypted {
				return nil, mErr(fakead.OperationsError, "search", e.dn, diag202D)
			}
			se.Attributes = append(se.Attributes, a)
		}
		out = append(out, se)
	}
	return out, nil
}

func selected(name string, attrs []string) bool {
	if len(attrs) == 0 {
		return !strings.EqualFold(name, "msDS-ManagedPassword")
	}
	for _, a := range attrs {
		if a == "*" && !strings.EqualFold(name, "msDS-ManagedPassword") || strings.EqualFold(a, name) {
			return true
		}
	}
	return false
}

func match(e *memEntry, f fakead.Filter) bool {
	switch f := f.(type) {
	case fakead.FilterAnd:
		for _, c := range f {
			if !match(e, c) {
				return false
			}
		}
		return true
	case fakead.FilterOr:
		for _, c := range f {
			if match(e, c) {
				return true
			}
		}
		return false
	case fakead.FilterNot:
		return !match(e, f.F)
	case fakead.FilterPresent:
		return strings.EqualFold(f.Attr, "objectClass") || e.get(f.Attr) != nil
	case fakead.FilterEquality:
		for _, v := range e.get(f.Attr) {
			if bytes.EqualFold(v, f.Value) {
				return true
			}
		}
	case fakead.FilterExtensible:
		want, err := strconv.ParseInt(string(f.Value), 10, 64)
		if err != nil {
			return false
		}
		for _, v := range e.get(f.Attr) {
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				continue
			}
			if (f.Rule == fakead.MatchBitAnd && n&want == want) || (f.Rule == fakead.MatchBitOr && n&want != 0) {
				return true
			}
		}
	case fakead.FilterSubstrings:
		for _, v := range e.get(f.Attr) {
			s := strings.ToLower(string(v))
			if bytes.HasPrefix([]byte(s), bytes.ToLower(f.Initial)) && strings.HasSuffix(s, strings.ToLower(string(f.Final))) {
				return true
			}
		}
	}
	return false
}

func (b *memBackend) Add(c fakead.Caller, dn string, attrs []fakead.Attribute) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.checkPanic(dn)
	if c.DN == "" {
		return mErr(fakead.OperationsError, "add", dn, "000004DC: LdapErr: DSID-0C0910B5, comment: In order to perform this operation a successful bind must be completed on the connection., data 0, v4563")
	}
	if _, ok := b.entries[strings.ToLower(dn)]; ok {
		return mErr(fakead.EntryAlreadyExists, "add", dn, "00000524: UpdErr: DSID-031A11E0, problem 6005 (ENTRY_EXISTS), data 0")
	}
	e := &memEntry{dn: dn}
	for _, a := range attrs {
		e.attrs = append(e.attrs, fakead.Attribute{Name: a.Name, Values: a.Values})
	}
	b.entries[strings.ToLower(dn)] = e
	return nil
}

func (b *memBackend) Modify(c fakead.Caller, dn string, mods []fakead.Modification) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.checkPanic(dn)
	e, ok := b.entries[strings.ToLower(dn)]
	if !ok {
		return &fakead.Error{Code: fakead.NoSuchObject, Op: "modify", DN: dn, MatchedDN: baseDN}
	}
	for _, m := range mods {
		switch m.Op {
		case fakead.ModAdd:
			for _, v := range m.Attr.Values {
				e.add(m.Attr.Name, v)
			}
		case fakead.ModReplace, fakead.ModDelete:
			kept := e.attrs[:0]
			for _, a := range e.attrs {
				if !strings.EqualFold(a.Name, m.Attr.Name) {
					kept = append(kept, a)
				}
			}
			e.attrs = kept
			if m.Op == fakead.ModReplace && len(m.Attr.Values) > 0 {
				e.attrs = append(e.attrs, m.Attr)
			}
		}
	}
	return nil
}

func (b *memBackend) Delete(c fakead.Caller, dn string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.checkPanic(dn)
	if _, ok := b.entries[strings.ToLower(dn)]; !ok {
		return &fakead.Error{Code: fakead.NoSuchObject, Op: "delete", DN: dn, MatchedDN: baseDN}
	}
	delete(b.entries, strings.ToLower(dn))
	return nil
}

func (b *memBackend) ModifyDN(c fakead.Caller, dn, newRDN string, deleteOld bool, newSuperior string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.checkPanic(dn)
	e, ok := b.entries[strings.ToLower(dn)]
	if !ok {
		return &fakead.Error{Code: fakead.NoSuchObject, Op: "modifyDN", DN: dn, MatchedDN: baseDN}
	}
	parent := dn[strings.Index(dn, ",")+1:]
	if newSuperior != "" {
		parent = newSuperior
	}
	delete(b.entries, strings.ToLower(dn))
	e.dn = newRDN + "," + parent
	if deleteOld {
		e.add("deleteOldRDN", []byte("TRUE"))
	}
	b.entries[strings.ToLower(e.dn)] = e
	return nil
}

func (b *memBackend) Compare(c fakead.Caller, dn, attr string, value []byte) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.checkPanic(dn)
	e, ok := b.entries[strings.ToLower(dn)]
	if !ok {
		return false, &fakead.Error{Code: fakead.NoSuchObject, Op: "compare", DN: dn, MatchedDN: baseDN}
	}
	for _, v := range e.get(attr) {
		if bytes.EqualFold(v, value) {
			return true, nil
		}
	}
	return false, nil
}

func (b *memBackend) lastSearch() (fakead.SearchRequest, fakead.Caller) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.searches) == 0 {
		return fakead.SearchRequest{}, fakead.Caller{}
	}
	return b.searches[len(b.searches)-1], b.callers[len(b.callers)-1]
}

func (b *memBackend) searchCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.searches)
}

// noWhoAmI hides the WhoAmIer extension.
type noWhoAmI struct{ ldapsrv.Backend }

var (
	_ ldapsrv.Backend  = (*memBackend)(nil)
	_ ldapsrv.WhoAmIer = (*memBackend)(nil)
)
