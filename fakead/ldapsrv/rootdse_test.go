package ldapsrv_test

import (
	"crypto/tls"
	"slices"
	"strings"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
)

// TestRootDSETellsTheTruth: every SASL mechanism, extended operation and control the live
// model's rootDSE advertises is exercised here and works (the SASL mechanisms by the GSSAPI and
// SPNEGO tests, named below; GSS-SPNEGO with both of its mechanisms, Kerberos and NTLM); an OID this test does not know fails it, so nothing can be
// advertised without a test.
func TestRootDSETellsTheTruth(t *testing.T) {
	kw := newKrbWorld(t, ldapsrv.Options{})
	c := kw.f.dial(t)
	res, err := c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)",
		[]string{"supportedSASLMechanisms", "supportedExtension", "supportedControl"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("rootDSE: %v", err)
	}
	e := res.Entries[0]
	mechs := e.GetAttributeValues("supportedSASLMechanisms")
	if !slices.Equal(mechs, []string{ldapsrv.MechGSSAPI, ldapsrv.MechGSSSPNEGO}) {
		t.Errorf("supportedSASLMechanisms %v; GSSAPI: TestGSSAPISealedLayer, TestGoLDAPGSSAPIBind; GSS-SPNEGO: TestSPNEGOKerberosSealed (Kerberos), TestSPNEGONTLM (NTLM)", mechs)
	}
	exts := e.GetAttributeValues("supportedExtension")
	for _, oid := range exts {
		switch oid {
		case ldapsrv.OIDStartTLS:
			tc := kw.f.dial(t)
			if err := tc.StartTLS(&tls.Config{RootCAs: kw.f.pool, ServerName: "dc1.contoso.com"}); err != nil {
				t.Errorf("StartTLS: %v", err)
			}
		case ldapsrv.OIDWhoAmI:
			if err := c.Bind("CN=alice,CN=Users,DC=contoso,DC=com", kw.pop.Passwords["alice"]); err != nil {
				t.Fatal(err)
			}
			if who, err := c.WhoAmI(nil); err != nil || who.AuthzID != `u:CONTOSO\alice` {
				t.Errorf("WhoAmI: %+v %v", who, err)
			}
		default:
			t.Errorf("supportedExtension %s has no test", oid)
		}
	}
	if len(exts) != 2 {
		t.Errorf("supportedExtension %v, want StartTLS and WhoAmI", exts)
	}
	for _, oid := range e.GetAttributeValues("supportedControl") {
		var ctl ldap.Control
		switch oid {
		case ldapsrv.OIDPagedResults:
			v := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
			v.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 2, ""))
			v.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", ""))
			ctl = ldap.NewControlString(oid, true, string(v.Bytes()))
		case ldapsrv.OIDSDFlags:
			v := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
			v.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 7, ""))
			ctl = ldap.NewControlString(oid, true, string(v.Bytes()))
		case ldapsrv.OIDDomainScope:
			ctl = ldap.NewControlString(oid, true, "")
		case ldapsrv.OIDServerSort, ldapsrv.OIDSortResult: // the response control comes with the request's
			testServerSort(t, c)
			continue
		default:
			t.Errorf("supportedControl %s has no test", oid)
			continue
		}
		_, err := c.Search(ldap.NewSearchRequest("CN=Users,DC=contoso,DC=com", ldap.ScopeSingleLevel, 0, 0, 0, false,
			"(objectClass=user)", []string{"cn"}, []ldap.Control{ctl}))
		if err != nil {
			t.Errorf("critical control %s: %v", oid, err)
		}
	}
}

// testServerSort: a critical sort by sAMAccountName descending (not among the attributes asked
// for, so it is fetched and dropped again), also across pages, answered with sortResult success.
func testServerSort(t *testing.T, c *ldap.Conn) {
	t.Helper()
	// go-ldap's own sort control is never critical: encode it critical by hand.
	keys := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	key := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	key.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "sAMAccountName", ""))
	key.AppendChild(ber.NewBoolean(ber.ClassContext, ber.TypePrimitive, 1, true, ""))
	keys.AppendChild(key)
	sortCtl := ldap.NewControlString(ldapsrv.OIDServerSort, true, string(keys.Bytes()))
	req := func(ctls ...ldap.Control) *ldap.SearchRequest {
		return ldap.NewSearchRequest("CN=Computers,DC=contoso,DC=com", ldap.ScopeSingleLevel, 0, 0, 0, false,
			"(objectClass=computer)", []string{"cn"}, ctls)
	}
	res, err := c.Search(req(sortCtl))
	if err != nil {
		t.Fatalf("sorted search: %v", err)
	}
	var got []string
	for _, e := range res.Entries {
		got = append(got, e.GetAttributeValue("cn"))
		if e.GetAttributeValue("sAMAccountName") != "" {
			t.Errorf("%s carries the sort attribute it did not ask for", e.DN)
		}
	}
	if want := []string{"WEB3", "WEB2", "WEB1"}; !slices.Equal(got, want) {
		t.Errorf("sorted descending: %v, want %v", got, want)
	}
	rc := ldap.FindControl(res.Controls, ldapsrv.OIDSortResult)
	if sr, ok := rc.(*ldap.ControlServerSideSortingResult); !ok || sr.Result != 0 {
		t.Errorf("sortResult control %#v", rc)
	}
	paged, err := c.SearchWithPaging(req(sortCtl), 1)
	if err != nil {
		t.Fatalf("sorted paged search: %v", err)
	}
	got = got[:0]
	for _, e := range paged.Entries {
		got = append(got, e.GetAttributeValue("cn"))
	}
	if strings.Join(got, ",") != "WEB3,WEB2,WEB1" {
		t.Errorf("sorted across pages of 1: %v", got)
	}
}
