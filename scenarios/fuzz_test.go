package scenarios

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gmsasim/gmsasim/scenarios/ps"
)

// FuzzParse: no input makes the scenario parser panic; an error is a *ParseError.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("library/*.scn")
	more, _ := filepath.Glob("testdata/malformed/*.scn")
	for _, p := range append(files, more...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		sc, err := Parse("fuzz.scn", text)
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("error %T, want *ParseError: %v", err, err)
			}
			return
		}
		if len(sc.Steps) == 0 || sc.Steps[0].Cmd != "world" {
			t.Fatalf("parsed without a world step")
		}
	})
}

// FuzzPowerShell: the tokenizer and the binder never panic, and evaluation of what parses does
// not either (no world is needed to bind).
func FuzzPowerShell(f *testing.F) {
	for _, s := range []string{
		`New-ADServiceAccount ITFarm1 -DNSHostName ITFarm1.contoso.com -PrincipalsAllowedToRetrieveManagedPassword Host1$,Host2$`,
		`Add-KdsRootKey -EffectiveTime ((Get-Date).AddHours(-10))`,
		`Set-ADServiceAccount -Identity x -ServicePrincipalNames @{Add='a','b'; Remove="c"}`,
		`$delspns = 'http/mim', 'http/mim.contoso.com'`, `"name is $($x.Name) ` + "`n" + `"`, `@(1,2,(3))`, `-Confirm:$false`,
		`sc.exe config WebSvc obj= CONTOSO\ITFarm1$ password= ""`, `(Get-ADServiceAccount -Filter *).'Name'`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		stmts, err := ps.Parse(text)
		if err != nil {
			return
		}
		cmdlets := newCmdletTable()
		s := ps.NewSession()
		// Commands in subexpressions and "$(...)" need a world: they output nothing here.
		none := func(*ps.Command) ([]any, error) { return nil, nil }
		for _, st := range stmts {
			if st.Cmd == nil {
				continue
			}
			if def := cmdlets.lookup(st.Cmd.Name); def != nil {
				_, _ = ps.Bind(&def.Cmdlet, st.Cmd.Elems, func(e ps.Expr) (any, error) { return s.Eval(e, none) })
			}
		}
	})
}
