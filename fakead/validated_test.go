package fakead

import "testing"

// TestComputerValidatedWrites is issue 9's acceptance 2: a computer writes, on its own object,
// only SPNs for its own names and a DNS name built from its own sAMAccountName and an allowed
// suffix; administrators are unaffected.
func TestComputerValidatedWrites(t *testing.T) {
	f := newFarm(t)
	web3 := "CN=WEB3,CN=Computers,DC=contoso,DC=com"
	mod := func(who string, op ModOp, attr string, vals ...string) error {
		a := Attribute{Name: attr}
		for _, v := range vals {
			a.Values = append(a.Values, []byte(v))
		}
		return f.d.Modify(t0, f.callers[who], web3, []Modification{{Op: op, Attr: a}})
	}
	refused := []struct{ attr, val string }{
		{"servicePrincipalName", "cifs/dc1.contoso.com"},
		{"servicePrincipalName", "krbtgt/CONTOSO.COM"},
		{"servicePrincipalName", "http/ITFarm1.contoso.com"},
		{"servicePrincipalName", "HOST/WEB1"},
		{"servicePrincipalName", "HOST/web3.contoso.com/contoso.com"}, // three-part: DCs only
		{"servicePrincipalName", "MSSQLSvc/web3.contoso.com:inst"},    // no instance names
		{"dNSHostName", "ITFarm1.contoso.com"},
		{"dNSHostName", "web3.fabrikam.com"},
		{"dNSHostName", "web1.contoso.com"},
		{"msDS-AdditionalDnsHostName", "itfarm1.contoso.com"},
	}
	for _, r := range refused {
		if err := mod("WEB3", ModAdd, r.attr, r.val); CodeOf(err) != InsufficientAccessRights {
			t.Errorf("WEB3$ adds %s %s: %v, want insufficientAccessRights", r.attr, r.val, err)
		}
	}
	if err := mod("WEB3", ModReplace, "dNSHostName", "WEB3.contoso.com"); err != nil {
		t.Fatalf("WEB3$ sets its own dNSHostName: %v", err)
	}
	for _, spn := range []string{"HOST/WEB3", "HOST/web3.contoso.com", "MSSQLSvc/web3.contoso.com:1433"} {
		if err := mod("WEB3", ModAdd, "servicePrincipalName", spn); err != nil {
			t.Errorf("WEB3$ adds its own SPN %s: %v", spn, err)
		}
	}
	// Replacing the whole list is checked value by value too.
	if err := mod("WEB3", ModReplace, "servicePrincipalName", "HOST/WEB3", "cifs/dc1.contoso.com"); CodeOf(err) != InsufficientAccessRights {
		t.Errorf("WEB3$ replaces its SPNs with a foreign one: %v, want insufficientAccessRights", err)
	}
	if err := mod("WEB3", ModDelete, "servicePrincipalName", "HOST/WEB3"); err != nil {
		t.Errorf("WEB3$ removes its own SPN: %v", err)
	}
	// Another computer's object: no right at all.
	if err := f.d.Modify(t0, f.callers["WEB3"], "CN=WEB1,CN=Computers,DC=contoso,DC=com", []Modification{{Op: ModAdd,
		Attr: sattr("servicePrincipalName", "HOST/WEB1")}}); CodeOf(err) != InsufficientAccessRights {
		t.Errorf("WEB3$ writes WEB1's SPN: %v, want insufficientAccessRights", err)
	}
	// Administrators write any value.
	if err := mod("admin", ModAdd, "servicePrincipalName", "http/anything.example"); err != nil {
		t.Errorf("admin adds any SPN: %v", err)
	}
	if got := readAttr(t, f.d, t0, web3, "dNSHostName"); got != "WEB3.contoso.com" {
		t.Errorf("dNSHostName = %q", got)
	}
}
