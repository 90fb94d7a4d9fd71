package control

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// documented reads the paths section of openapi.yaml: method and path → the statuses listed. It
// is a reader of this one hand-written file's layout (two spaces a level), not a YAML parser.
func documented(t *testing.T, doc string) map[string][]int {
	t.Helper()
	pathRe := regexp.MustCompile(`^  (/\S*):$`)
	methodRe := regexp.MustCompile(`^    (get|post|put|patch|delete|head|options):$`)
	statusRe := regexp.MustCompile(`^        '(\d{3})':$`)
	out := map[string][]int{}
	inPaths := false
	path, op := "", ""
	for _, l := range strings.Split(doc, "\n") {
		if l == "paths:" {
			inPaths = true
			continue
		}
		if inPaths && l != "" && !strings.HasPrefix(l, " ") {
			break // the next top-level key
		}
		if !inPaths {
			continue
		}
		if m := pathRe.FindStringSubmatch(l); m != nil {
			path, op = m[1], ""
		} else if m := methodRe.FindStringSubmatch(l); m != nil {
			op = strings.ToUpper(m[1]) + " " + path
			out[op] = []int{}
		} else if m := statusRe.FindStringSubmatch(l); m != nil && op != "" {
			n, _ := strconv.Atoi(m[1])
			out[op] = append(out[op], n)
		}
	}
	return out
}

func TestCtlOpenAPIDocumentsEveryRoute(t *testing.T) {
	doc := documented(t, string(OpenAPI()))
	registered := map[string]bool{}
	for _, rt := range routes {
		key := rt.Method + " " + rt.Path
		registered[key] = true
		got, ok := doc[key]
		if !ok {
			t.Errorf("%s is served but not in openapi.yaml", key)
			continue
		}
		want := slices.Clone(rt.Statuses)
		if !rt.Public {
			want = append(want, 401)
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: openapi.yaml lists statuses %v, the route answers %v", key, got, want)
		}
	}
	for key := range doc {
		if !registered[key] {
			t.Errorf("%s is in openapi.yaml but not served", key)
		}
	}
	if len(doc) != 7 {
		t.Errorf("openapi.yaml documents %d operations, want 7: %v", len(doc), doc)
	}
	text := string(OpenAPI())
	// The parameters the handlers read are documented.
	for _, p := range []string{"format", "from", "follow", "dc"} {
		if !strings.Contains(text, fmt.Sprintf("- name: %s\n", p)) {
			t.Errorf("openapi.yaml does not document the parameter %s", p)
		}
	}
	// Every State field has its property.
	for _, f := range []string{"now", "wire", "offset", "elapsed", "seed", "domain", "realm", "dcs", "links", "hosts", "gmsas", "pending",
		"dnsName", "ldaps", "kdc", "delay", "cut", "arch", "installedAccounts", "kvno", "passwordLastSet", "nextRotation",
		"intervalDays", "principalsAllowedToRetrieve"} {
		if !strings.Contains(text, "        "+f+":\n") {
			t.Errorf("openapi.yaml has no property %s", f)
		}
	}
	// What a hand-written YAML file gets wrong: a plain scalar holding ": " or " #" is not the
	// text it looks like (a YAML reader refuses the first and cuts the second). Quote those.
	for i, l := range strings.Split(text, "\n") {
		_, v, ok := strings.Cut(strings.TrimLeft(l, " -"), ": ")
		if !ok || v == "" || strings.ContainsAny(v[:1], "'\"|>[{") {
			continue
		}
		if strings.Contains(v, ": ") || strings.Contains(v, " #") {
			t.Errorf("openapi.yaml:%d: quote the value %q", i+1, v)
		}
	}
}
