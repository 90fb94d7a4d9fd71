package fakead

import "testing"

func TestDNKeyMatchesDNKey(t *testing.T) {
	for _, s := range []string{"", "DC=contoso,DC=com", "CN=A\\,B,OU=Ünïcode,DC=x", "CN=bob\\0ADEL:1234,CN=Deleted Objects,DC=x", "cn=#41,dc=Y"} {
		dn, err := ParseDN(s)
		if err != nil {
			t.Fatal(err)
		}
		if dnKey(dn) != dn.Key() {
			t.Errorf("%q: %q vs %q", s, dnKey(dn), dn.Key())
		}
	}
}
