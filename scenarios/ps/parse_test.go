package ps

import (
	"strings"
	"testing"
)

func TestPowerShellTokenizer(t *testing.T) {
	cases := []struct{ in, want string }{
		{`New-ADServiceAccount ITFarm1 -DNSHostName ITFarm1.contoso.com -PrincipalsAllowedToRetrieveManagedPassword Host1$,Host2$`,
			`New-ADServiceAccount [ITFarm1] -DNSHostName [ITFarm1.contoso.com] -PrincipalsAllowedToRetrieveManagedPassword [[Host1$ Host2$]]`},
		{`Add-KdsRootKey -EffectiveTime ((Get-Date).AddHours(-10))`, `Add-KdsRootKey -EffectiveTime [(sub)]`},
		{`Set-ADServiceAccount -Identity x -ServicePrincipalNames @{Add='a','b'; Remove="c"}`, `Set-ADServiceAccount -Identity [x] -ServicePrincipalNames [@{Add Remove}]`},
		{`Remove-ADServiceAccount ITFarm1 -Confirm:$false`, `Remove-ADServiceAccount [ITFarm1] -Confirm:`},
		{`Add-KDSRootKey –EffectiveImmediately`, `Add-KDSRootKey -EffectiveImmediately`},
		{`sc.exe config WebSvc obj= CONTOSO\ITFarm1$ password= ""`, `sc.exe [config] [WebSvc] [obj=] [CONTOSO\ITFarm1$] [password=] [""]`},
	}
	for _, c := range cases {
		stmts, err := Parse(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if got := describe(stmts[0].Cmd); got != c.want {
			t.Errorf("%s:\n got  %s\n want %s", c.in, got, c.want)
		}
	}
}

func describe(c *Command) string {
	parts := []string{c.Name}
	for _, el := range c.Elems {
		switch {
		case el.IsParam && el.Colon:
			parts = append(parts, "-"+el.Param+":")
		case el.IsParam:
			parts = append(parts, "-"+el.Param)
		default:
			parts = append(parts, "["+descExpr(el.Value)+"]")
		}
	}
	return strings.Join(parts, " ")
}

func descExpr(e Expr) string {
	switch x := e.(type) {
	case Lit:
		return x.V.(string)
	case Expand:
		return `"` + x.S + `"`
	case Array:
		var p []string
		for _, it := range x.Items {
			p = append(p, descExpr(it))
		}
		return "[" + strings.Join(p, " ") + "]"
	case HashLit:
		return "@{" + strings.Join(x.Keys, " ") + "}"
	case Sub, Member:
		return "(sub)"
	}
	return "?"
}

// FuzzParse: the tokenizer and parser never panic, and neither does evaluating what parses
// (commands output nothing) nor printing the values.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`New-ADServiceAccount ITFarm1 -DNSHostName ITFarm1.contoso.com -PrincipalsAllowedToRetrieveManagedPassword Host1$,Host2$`,
		`$d = (Get-Date).AddHours(-10); "at $d"`, `@{Add='a','b'; Remove="c"}`, `"name is $($x.Name) ` + "`n" + `"`,
		`@(1,2,(3))`, `$a = 'x', 'y'; $a.Length`, `(Get-X -Filter *).'Name'`,
	} {
		f.Add(s)
	}
	none := func(*Command) ([]any, error) { return nil, nil }
	f.Fuzz(func(t *testing.T, text string) {
		lines, serr := SplitLines(strings.Split(text, "\n"))
		if serr != nil {
			return
		}
		s := NewSession()
		var out strings.Builder
		for _, l := range lines {
			if err := s.RunLine(l, none, &out); err != nil {
				t.Fatalf("RunLine returned %v; only a Halt is returned", err)
			}
		}
	})
}
