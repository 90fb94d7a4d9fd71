package fakead

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// The read paths of issue 9: a caller who may not read an attribute learns nothing about its
// values through search filters or Compare ([MS-ADTS] 3.1.1.4.4: the value is treated as "does
// not exist" in the returned attributes and the LDAP filter).

// secretAttrs are the attributes the property test probes: never readable (unicodePwd,
// supplementalCredentials) and confidential (the KDS root key's).
var secretAttrs = []string{"unicodePwd", "supplementalCredentials", "msKds-RootKeyData", "msKds-KDFParam",
	"msKds-CreateTime", "msKds-DomainID", "msKds-UseStartTime", "msKds-Version"}

// absentTwin finds, for attribute name, a readable attribute of the same syntax that no entry in
// d has: the stand-in the property compares against.
func absentTwin(t testing.TB, d *Directory, name string) string {
	t.Helper()
	st := d.schema.Attr(name)
	for _, x := range d.schema.Attrs() {
		if x.Syntax != st.Syntax || x == st || hiddenAttr(x) || x.SearchFlags&searchFlagConfidential != 0 ||
			x.Constructed() || x.IsBackLink() || x == d.at.memberOf {
			continue
		}
		used := false
		for _, e := range d.all {
			if e != nil && e.get(x) != nil {
				used = true
				break
			}
		}
		if !used {
			return x.Name
		}
	}
	t.Fatalf("no unused attribute with the syntax of %s", name)
	return ""
}

// storedValues returns the raw values of attribute name across d (what an attacker would like to
// learn), so that generated assertions sit right at and around real values.
func storedValues(d *Directory, name string) [][]byte {
	t := d.schema.Attr(name)
	var out [][]byte
	for _, e := range d.all {
		if e == nil {
			continue
		}
		if a := e.get(t); a != nil {
			for _, v := range a.vals {
				out = append(out, v.raw)
			}
		}
	}
	return out
}

// renameAttr returns f with every item on attribute from rewritten to attribute to.
func renameAttr(f Filter, from, to string) Filter {
	re := func(a string) string {
		if strings.EqualFold(a, from) {
			return to
		}
		return a
	}
	switch f := f.(type) {
	case FilterAnd:
		out := FilterAnd{}
		for _, k := range f {
			out = append(out, renameAttr(k, from, to))
		}
		return out
	case FilterOr:
		out := FilterOr{}
		for _, k := range f {
			out = append(out, renameAttr(k, from, to))
		}
		return out
	case FilterNot:
		return FilterNot{F: renameAttr(f.F, from, to)}
	case FilterEquality:
		f.Attr = re(f.Attr)
		return f
	case FilterApprox:
		f.Attr = re(f.Attr)
		return f
	case FilterGreaterOrEqual:
		f.Attr = re(f.Attr)
		return f
	case FilterLessOrEqual:
		f.Attr = re(f.Attr)
		return f
	case FilterPresent:
		f.Attr = re(f.Attr)
		return f
	case FilterSubstrings:
		f.Attr = re(f.Attr)
		return f
	case FilterExtensible:
		f.Attr = re(f.Attr)
		return f
	}
	return f
}

// filterGen draws random filters mixing items on one secret attribute with ordinary ones.
type filterGen struct {
	r      *rand.Rand
	secret string
	vals   [][]byte
}

func (g *filterGen) value() []byte {
	if len(g.vals) == 0 || g.r.IntN(5) == 0 {
		b := make([]byte, 1+g.r.IntN(8))
		for i := range b {
			b[i] = byte(g.r.UintN(256))
		}
		return b
	}
	v := g.vals[g.r.IntN(len(g.vals))]
	switch g.r.IntN(4) {
	case 0:
		return v
	case 1: // a prefix, as a byte-wise binary search sends
		return v[:g.r.IntN(len(v)+1)]
	case 2: // a prefix with its last byte moved by one
		p := bytes.Clone(v[:1+g.r.IntN(len(v))])
		p[len(p)-1] += byte(g.r.IntN(3)) - 1
		return p
	}
	return append(bytes.Clone(v), 0)
}

func (g *filterGen) leaf() Filter {
	if g.r.IntN(3) == 0 {
		switch g.r.IntN(3) {
		case 0:
			return FilterEquality{Attr: "objectClass", Value: []byte([]string{"user", "computer", "msKds-ProvRootKey", "group"}[g.r.IntN(4)])}
		case 1:
			return FilterPresent{Attr: "sAMAccountName"}
		default:
			return FilterSubstrings{Attr: "cn", Initial: []byte{byte('A' + g.r.IntN(26))}}
		}
	}
	a := g.secret
	switch g.r.IntN(8) {
	case 0:
		return FilterEquality{Attr: a, Value: g.value()}
	case 1:
		return FilterGreaterOrEqual{Attr: a, Value: g.value()}
	case 2:
		return FilterLessOrEqual{Attr: a, Value: g.value()}
	case 3:
		return FilterPresent{Attr: a}
	case 4:
		return FilterApprox{Attr: a, Value: g.value()}
	case 5:
		v := g.value()
		cut := g.r.IntN(len(v) + 1)
		return FilterSubstrings{Attr: a, Initial: v[:cut], Final: v[cut:]}
	case 6:
		return FilterExtensible{Rule: []string{MatchBitAnd, MatchBitOr}[g.r.IntN(2)], Attr: a, Value: []byte(fmt.Sprint(g.r.IntN(1 << 20)))}
	}
	return FilterExtensible{Attr: a, Value: g.value()}
}

func (g *filterGen) filter(depth int) Filter {
	if depth == 0 || g.r.IntN(3) == 0 {
		return g.leaf()
	}
	switch g.r.IntN(3) {
	case 0:
		return FilterNot{F: g.filter(depth - 1)}
	case 1:
		return FilterAnd{g.filter(depth - 1), g.filter(depth - 1)}
	}
	return FilterOr{g.filter(depth - 1), g.filter(depth - 1)}
}

// matchingDNs searches the domain and configuration naming contexts (the root keys live in the
// latter) and returns the DNs found.
func matchingDNs(t testing.TB, d *Directory, c Caller, f Filter) []string {
	t.Helper()
	var out []string
	for _, base := range []string{d.DomainDN(), d.ConfigDN()} {
		res, err := d.Search(t0, c, &SearchRequest{BaseDN: base, Scope: ScopeSub, Filter: f,
			Attributes: []string{"1.1"}, SDFlags: -1})
		if err != nil {
			t.Fatalf("search %s %v: %v", base, f, err)
		}
		out = append(out, dns(res)...)
	}
	return out
}

// TestUnreadableAttributeActsAbsent is acceptance 1's property: for a caller who may not read
// attribute A, any filter using A returns the same entries as the same filter with A replaced by
// an attribute no entry has. Filters are drawn at random (the seed is in every failure) around
// the real stored values, so a filter that peeks at a value would differ.
func TestUnreadableAttributeActsAbsent(t *testing.T) {
	f := newFarm(t)
	const seed = 9
	r := rand.New(rand.NewPCG(seed, 0))
	leakedForAdmin := 0
	for _, secret := range secretAttrs {
		twin := absentTwin(t, f.d, secret)
		vals := storedValues(f.d, secret)
		if len(vals) == 0 {
			t.Fatalf("no entry holds %s: the property would be vacuous", secret)
		}
		g := &filterGen{r: r, secret: secret, vals: vals}
		for i := 0; i < 150; i++ {
			flt := g.filter(3)
			want := matchingDNs(t, f.d, f.callers["alice"], renameAttr(flt, secret, twin))
			for _, who := range []string{"alice", "WEB1", "WEB3"} {
				if got := matchingDNs(t, f.d, f.callers[who], flt); !slices.Equal(got, want) {
					t.Fatalf("seed=%d %s as %s: filter %#v returns %v, with %s (absent everywhere) %v",
						seed, secret, who, flt, got, twin, want)
				}
			}
			// The generator can see a leak: for the one principal allowed to read the root key's
			// attributes, some filters must answer differently.
			if !slices.Equal(matchingDNs(t, f.d, f.callers["admin"], flt), want) {
				leakedForAdmin++
			}
		}
	}
	if leakedForAdmin == 0 {
		t.Fatalf("seed=%d: no filter told a readable secret from an absent one; the property test cannot fail", seed)
	}
}

// TestBinarySearchLearnsNothing replays the attack of issue 9: a byte-wise binary search with >=
// filters over Administrator's unicodePwd and the root key's msKds-RootKeyData. Every probe must
// give the same answer, whatever its value.
func TestBinarySearchLearnsNothing(t *testing.T) {
	f := newFarm(t)
	targets := []struct{ attr, base string }{
		{"unicodePwd", "(cn=Administrator)"},
		{"unicodePwd", "(cn=ITFarm1)"},
		{"supplementalCredentials", "(cn=krbtgt)"},
		{"msKds-RootKeyData", "(objectClass=msKds-ProvRootKey)"},
	}
	for _, who := range []string{"alice", "WEB1", "WEB3"} {
		for _, tg := range targets {
			answers := map[string]int{}
			for b := 0; b < 256; b += 5 {
				for _, tmpl := range []string{"(&%s(%s>=%s))", "(&%s(!(%s>=%s)))", "(&%s(%s<=%s))"} {
					flt, err := ParseFilter(fmt.Sprintf(tmpl, tg.base, tg.attr, fmt.Sprintf("\\%02x", b)))
					if err != nil {
						t.Fatal(err)
					}
					answers[fmt.Sprintf("%s%v", tmpl, matchingDNs(t, f.d, f.callers[who], flt))]++
				}
			}
			if len(answers) != 3 {
				t.Errorf("%s probing %s of %s: answers vary with the probed value: %v", who, tg.attr, tg.base, answers)
			}
		}
	}
	// Domain Admins read the root key: the same search must then see the value (the probe works).
	flt, _ := ParseFilter(`(&(objectClass=msKds-ProvRootKey)(msKds-RootKeyData>=\00))`)
	if got := matchingDNs(t, f.d, f.callers["admin"], flt); len(got) != 1 {
		t.Errorf("admin's probe of the root key found %v, want the key", got)
	}
}

// TestCompareUnreadable: Compare on an attribute the caller may not read answers noSuchAttribute
// for the right value and a wrong one alike; a Domain Admin gets the real answers.
func TestCompareUnreadable(t *testing.T) {
	f := newFarm(t)
	rkDN := f.rk.DN(f.d.DomainDN())
	real := storedValues(f.d, "msKds-RootKeyData")[0]
	wrong := append(bytes.Clone(real[:len(real)-1]), real[len(real)-1]^1)
	for _, who := range []string{"alice", "WEB1", "WEB3"} {
		for _, v := range [][]byte{real, wrong} {
			ok, err := f.d.Compare(t0, f.callers[who], rkDN, "msKds-RootKeyData", v)
			if ok || CodeOf(err) != NoSuchAttribute {
				t.Errorf("%s compares msKds-RootKeyData: %v %v, want noSuchAttribute", who, ok, err)
			}
		}
		admDN := "CN=Administrator,CN=Users,DC=contoso,DC=com"
		if ok, err := f.d.Compare(t0, f.callers[who], admDN, "unicodePwd", utf16Quoted("P@ssw0rd!")); ok || CodeOf(err) != NoSuchAttribute {
			t.Errorf("%s compares unicodePwd: %v %v, want noSuchAttribute", who, ok, err)
		}
	}
	if ok, err := f.d.Compare(t0, f.callers["admin"], rkDN, "msKds-RootKeyData", real); !ok || err != nil {
		t.Errorf("admin compares the right root key data: %v %v, want true", ok, err)
	}
	if ok, err := f.d.Compare(t0, f.callers["admin"], rkDN, "msKds-RootKeyData", wrong); ok || err != nil {
		t.Errorf("admin compares a wrong root key data: %v %v, want false", ok, err)
	}
}

// TestModifyIsNoValueOracle: deleting or adding a guessed value of an attribute the caller may
// not write fails with insufficientAccessRights whether the guess is right or not.
func TestModifyIsNoValueOracle(t *testing.T) {
	f := newFarm(t)
	rkDN := f.rk.DN(f.d.DomainDN())
	real := storedValues(f.d, "msKds-RootKeyData")[0]
	for _, v := range [][]byte{real, []byte("wrong")} {
		for _, op := range []ModOp{ModDelete, ModAdd} {
			err := f.d.Modify(t0, f.callers["alice"], rkDN, []Modification{{Op: op, Attr: Attribute{Name: "msKds-RootKeyData", Values: [][]byte{v}}}})
			if CodeOf(err) != InsufficientAccessRights {
				t.Errorf("alice modify op %d of msKds-RootKeyData: %v, want insufficientAccessRights", op, err)
			}
		}
	}
}

// TestHugeDNRefused: a base DN of 50,000 RDNs is refused by the parser (invalidDNSyntax) and a DN
// just under the bound is answered with noSuchObject and the real best match.
func TestHugeDNRefused(t *testing.T) {
	f := newFarm(t)
	huge := strings.Repeat("CN=x,", 50000) + "DC=contoso,DC=com"
	_, err := f.d.Search(t0, f.callers["alice"], &SearchRequest{BaseDN: huge, Scope: ScopeBase, SDFlags: -1})
	if CodeOf(err) != InvalidDNSyntax {
		t.Fatalf("50,000-RDN base: %v, want invalidDNSyntax", err)
	}
	deep := strings.Repeat("CN=x,", MaxDNRDNs-4) + "CN=Users,DC=contoso,DC=com"
	_, err = f.d.Search(t0, f.callers["alice"], &SearchRequest{BaseDN: deep, Scope: ScopeBase, SDFlags: -1})
	var ae *Error
	if CodeOf(err) != NoSuchObject || !errors.As(err, &ae) || !strings.Contains(ae.Diag, "'CN=Users,DC=contoso,DC=com'") {
		t.Fatalf("deep base: %v, want noSuchObject with best match CN=Users", err)
	}
	long := "CN=" + strings.Repeat("a", MaxRDNLength) + ",CN=Users,DC=contoso,DC=com"
	err = f.d.Add(t0, f.callers["admin"], long, []Attribute{sattr("objectClass", "container")})
	if CodeOf(err) != NamingViolation {
		t.Fatalf("255-character RDN: %v, want namingViolation", err)
	}
}

// FuzzSecretFilter checks the read-access invariant on arbitrary filters: as alice and as WEB3$,
// a filter returns the same entries as the same filter with each secret attribute replaced by an
// attribute no entry has, and no returned entry carries a secret value.
func FuzzSecretFilter(f *testing.F) {
	for _, s := range []string{`(unicodePwd>=\80)`, `(!(msKds-RootKeyData<=\10))`, `(|(cn=a*)(supplementalCredentials=*))`,
		`(&(objectClass=msKds-ProvRootKey)(msKds-Version:1.2.840.113556.1.4.803:=1))`, `(msKds-KDFParam=*\00*)`,
		`(1.2.840.113556.1.4.90>=\00)`, `(!(UNICODEPWD~=x))`} {
		f.Add(s)
	}
	fx := newFarmB(f)
	twins := map[string]string{}
	for _, name := range secretAttrs {
		twins[name] = absentTwin(f, fx.d, name)
	}
	secrets := map[string][][]byte{} // values that are secret in themselves (timestamps recur elsewhere)
	for _, name := range []string{"unicodePwd", "supplementalCredentials", "msKds-RootKeyData"} {
		secrets[name] = storedValues(fx.d, name)
	}
	f.Fuzz(func(t *testing.T, filter string) {
		flt, err := ParseFilter(filter)
		if err != nil {
			return
		}
		for _, who := range []string{"alice", "WEB3"} {
			c := fx.callers[who]
			twin := flt
			for _, name := range secretAttrs {
				twin = renameAttr(twin, name, twins[name])
				if st := fx.d.schema.Attr(name); st != nil {
					twin = renameAttr(twin, st.OID, twins[name])
				}
			}
			if got, want := matchingDNs(t, fx.d, c, flt), matchingDNs(t, fx.d, c, twin); !slices.Equal(got, want) {
				t.Fatalf("%s: %s returns %v, with the secrets replaced by absent attributes %v", who, filter, got, want)
			}
			for _, base := range []string{fx.d.DomainDN(), fx.d.ConfigDN()} {
				res, err := fx.d.Search(t0, c, &SearchRequest{BaseDN: base, Scope: ScopeSub, Filter: flt,
					Attributes: append([]string{"*", "+"}, secretAttrs...), SDFlags: -1})
				if err != nil {
					t.Fatalf("%s: %s: %v", who, filter, err)
				}
				for _, e := range res {
					for _, a := range e.Attributes {
						if slices.ContainsFunc(secretAttrs, func(n string) bool { return strings.EqualFold(n, a.Name) }) {
							t.Fatalf("%s: %s returns %s of %s", who, filter, a.Name, e.DN)
						}
						for _, v := range a.Values {
							for name, vals := range secrets {
								if slices.ContainsFunc(vals, func(s []byte) bool { return len(s) > 4 && bytes.Equal(s, v) }) {
									t.Fatalf("%s: %s returns %s's value in %s of %s", who, filter, name, a.Name, e.DN)
								}
							}
						}
					}
				}
			}
		}
	})
}
