package scenarios

import (
	"strings"
	"testing"
)

// Worlds that cannot exist are refused when the world is built, with the file and line of the
// world block: a 32-bit Windows Server host (none since 2008 R2), and a DC whose OS needs a newer
// schema than the forest has (a 2012 R2 DC in a 2008 R2 forest, objectVersion 47).
func TestWorldThatCannotExist(t *testing.T) {
	for _, tc := range []struct {
		name, world, want string
	}{
		{"x86 host", "domain contoso.com schema=88\ndc DC1 os=2016\nhost Web1 os=2012 arch=x86\n",
			"x86.scn:3: world: world line 3 (host Web1 os=2012 arch=x86): arch=x86: Windows Server 2012 has no x86 (32-bit) edition"},
		{"2012R2 DC in a 47 forest", "domain contoso.com schema=47\ndc DC1 os=2012R2\n",
			"scenario=dc.scn:3 t=+0h00m: world: sim: config DCs[0].OS=2012R2: a Windows Server 2012R2 DC needs a forest schema of objectVersion 69 or later"},
		{"default DC in a 2016 forest", "domain contoso.com schema=87\n",
			"DCs[0].OS=2022: a Windows Server 2022 DC needs a forest schema of objectVersion 88"},
	} {
		file := map[string]string{"x86 host": "x86.scn", "2012R2 DC in a 47 forest": "dc.scn"}[tc.name]
		if file == "" {
			file = "default.scn"
		}
		sc, err := Parse(file, "# "+tc.name+"\n# labels: requirements\nworld seed=1\n"+tc.world+"----\n")
		if err != nil {
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: parse error %v, want %q", tc.name, err, tc.want)
			}
			continue
		}
		res := Run(sc, Options{})
		if res.Failure == nil || !strings.Contains(res.Failure.Error(), tc.want) {
			t.Errorf("%s: %v, want a failure containing %q", tc.name, res.Failure, tc.want)
		}
	}
}
