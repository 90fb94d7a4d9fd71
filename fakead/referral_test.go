package fakead

import (
	"errors"
	"slices"
	"testing"
)

// A search whose base lies outside every naming context the DC holds is a referral to the domain
// the base's DC components name; a missing base under a held naming context stays noSuchObject.
func TestSearchReferralOutsideNamingContexts(t *testing.T) {
	d := newTestDomain(t)[0]
	adm := adminCaller(t, d)
	f, _ := ParseFilter("(objectClass=*)")
	for _, tc := range []struct {
		base, diag, url string
	}{
		{"DC=other,DC=com", "0000202B: RefErr: DSID-0310082F, data 0, 1 access points\n\tref 1: 'other.com'\n", "ldap://other.com/DC=other,DC=com"},
		{"ou=People,dc=Example,dc=com", "0000202B: RefErr: DSID-0310082F, data 0, 1 access points\n\tref 1: 'example.com'\n", "ldap://example.com/ou=People,dc=Example,dc=com"},
		{"OU=x y,DC=com", "0000202B: RefErr: DSID-0310082F, data 0, 1 access points\n\tref 1: 'com'\n", "ldap://com/OU=x%20y,DC=com"},
	} {
		res, err := d.Search(t0, adm, &SearchRequest{BaseDN: tc.base, Scope: ScopeSub, Filter: f})
		var fe *Error
		if !errors.As(err, &fe) || fe.Code != Referral || len(res) != 0 {
			t.Errorf("%s: %d entries, %v; want referral", tc.base, len(res), err)
			continue
		}
		if fe.Diag != tc.diag || !slices.Equal(fe.Referrals, []string{tc.url}) || fe.MatchedDN != "" {
			t.Errorf("%s: diag %q referrals %q matched %q; want %q %q", tc.base, fe.Diag, fe.Referrals, fe.MatchedDN, tc.diag, tc.url)
		}
	}
	for _, base := range []string{"OU=Nope,DC=contoso,DC=com", "CN=Nope,CN=Configuration,DC=contoso,DC=com", "O=elsewhere"} {
		_, err := d.Search(t0, adm, &SearchRequest{BaseDN: base, Scope: ScopeSub, Filter: f})
		if CodeOf(err) != NoSuchObject {
			t.Errorf("%s: %v, want noSuchObject", base, err)
		}
	}
}
