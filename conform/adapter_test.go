package conform

import (
	"strings"
	"testing"
)

// An adapter must name itself, give a refresh command and exactly one of keytab and keys; unknown
// fields and bad timeouts are refused with a message saying which.
func TestParseAdapter(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{`{"refresh":["x"],"keytab":"k"}`, `"name" is missing`},
		{`{"name":"a","keytab":"k"}`, `"refresh" is missing`},
		{`{"name":"a","refresh":["x"]}`, `exactly one of "keytab"`},
		{`{"name":"a","refresh":["x"],"keytab":"k","keys":["y"]}`, `exactly one of "keytab"`},
		{`{"name":"a","refresh":["x"],"keytab":"k","timeout":"soon"}`, `"timeout" "soon"`},
		{`{"name":"a","refresh":["x"],"keytab":"k","refersh":1}`, `unknown field "refersh"`},
	} {
		if _, err := ParseAdapter([]byte(tc.doc)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.doc, err, tc.want)
		}
	}
	a, err := ParseAdapter([]byte(`{"name":"a","refresh":["x"],"keytab":"${GMSASIM_OUT}/k","timeout":"5s"}`))
	if err != nil || a.timeout.String() != "5s" {
		t.Fatalf("%+v, %v", a, err)
	}
	if got := expand(a.Keytab, map[string]string{"GMSASIM_OUT": "/o"}); got != "/o/k" {
		t.Errorf("expand = %q", got)
	}
	if got := expand("${GMSASIM_HOST}@${GMSASIM_DOMAIN}", map[string]string{"GMSASIM_HOST": "WEB1$", "GMSASIM_DOMAIN": "contoso.com"}); got != "WEB1$@contoso.com" {
		t.Errorf("expand = %q", got)
	}
}

// A product's output is kept up to MaxProductOutput; the rest is counted, not stored.
func TestCappedBuffer(t *testing.T) {
	c := &cappedBuffer{max: 10}
	for _, p := range []string{"0123456", "789abc", "def"} {
		if n, err := c.Write([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("Write %q: %d, %v", p, n, err)
		}
	}
	if got, want := c.String(), "0123456789\n... (6 more bytes not kept)\n"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
