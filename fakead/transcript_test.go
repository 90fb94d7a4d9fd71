package fakead

import (
	"encoding/hex"
	"flag"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/internal/transcript"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata/*.txt transcripts (review the diff!)")

// TestTranscripts runs testdata/*.txt: blocks of one command, "----", and the output it gives.
// Run with -rewrite to regenerate, then review the diff. Commands (parts separated by " | "):
//
//	domain [schema=N]
//	bind NAME | PASSWORD [| tls]             the caller for the next commands ("bind system" for SystemCaller)
//	add DN | attr: value | attr: value ...
//	modify DN | add|delete|replace attr: value ...
//	delete DN
//	modrdn DN | NEWRDN [| NEWSUPERIOR]
//	compare DN | attr: value
//	search BASE | base|one|sub | FILTER [| attr attr ...]
//	rootkey immediately|backdated|default    Add-KdsRootKey at t0 as the caller (gmsa_transcript_test.go)
//
// msDS-GroupMSAMembership values are written "allow NAME, NAME..." and shown in SDDL form;
// msDS-ManagedPassword and msDS-ManagedPasswordId are shown decoded.
func TestTranscripts(t *testing.T) {
	transcript.RunFiles(t, "testdata/*.txt", *rewrite, func(t *testing.T) func(string) string {
		return (&tstate{t: t}).run
	})
}

type tstate struct {
	t *testing.T
	d *Directory
	c Caller
}

func parseAV(s string) (string, []byte) {
	name, v, _ := strings.Cut(s, ":")
	return strings.TrimSpace(name), []byte(strings.TrimSpace(v))
}

func errText(err error) string {
	if err == nil {
		return "ok\n"
	}
	if e, ok := err.(*Error); ok {
		s := fmt.Sprintf("error: %s (%d)", e.Code, int(e.Code))
		if e.Diag != "" {
			s += ": " + strings.ReplaceAll(strings.TrimRight(e.Diag, "\n"), "\n", `\n`)
		}
		if e.MatchedDN != "" {
			s += "\nmatched: " + e.MatchedDN
		}
		return s + "\n"
	}
	return "error: " + err.Error() + "\n"
}

func showValue(name string, v []byte) string {
	if s, ok := showGMSAValue(name, v); ok {
		return s
	}
	if sid, err := ad.SIDFromBytes(v); err == nil && (strings.EqualFold(name, "objectSid") || strings.EqualFold(name, "tokenGroups")) {
		return sid.String()
	}
	if g, err := ad.GUIDFromWire(v); err == nil && strings.EqualFold(name, "objectGUID") {
		return g.String()
	}
	if !utf8.Valid(v) || strings.ContainsAny(string(v), "\x00") {
		return "0x" + hex.EncodeToString(v)
	}
	return strings.ReplaceAll(string(v), "\n", `\n`)
}

func (s *tstate) run(cmd string) string {
	parts := strings.Split(cmd, " | ")
	verb, arg, _ := strings.Cut(parts[0], " ")
	if s.d == nil && verb != "domain" {
		s.t.Fatalf("%q before domain", cmd)
	}
	switch verb {
	case "domain":
		cfg := testConfig()
		if v, ok := strings.CutPrefix(arg, "schema="); ok {
			fmt.Sscan(v, &cfg.SchemaVersion)
		}
		ds, err := NewDomain(cfg, &seqIDs{}, t0)
		if err != nil {
			return errText(err)
		}
		s.d, s.c = ds[0], SystemCaller
		return fmt.Sprintf("domain %s sid=%s schema=%d usn=%d\n", cfg.DNSName, cfg.DomainSID, cfg.SchemaVersion, s.d.HighestUSN())
	case "bind":
		if arg == "system" {
			s.c = SystemCaller
			return "system\n"
		}
		pw := ""
		if len(parts) > 1 {
			pw = parts[1]
		}
		c, err := s.d.Bind(t0, arg, pw, len(parts) > 2 && parts[2] == "tls")
		if err != nil {
			return errText(err)
		}
		s.c = c
		if c.Anonymous() {
			return "anonymous\n"
		}
		return fmt.Sprintf("bound %s sid=%s token=%d\n", c.DN, c.SID, len(c.Token))
	case "add":
		var attrs []Attribute
		for _, p := range parts[1:] {
			n, v := parseAV(p)
			if len(attrs) > 0 && strings.EqualFold(attrs[len(attrs)-1].Name, n) {
				attrs[len(attrs)-1].Values = append(attrs[len(attrs)-1].Values, v)
				continue
			}
			if n == "unicodePwd" {
				v = utf16Quoted(string(v))
			}
			v = s.gmsaValue(n, v)
			attrs = append(attrs, Attribute{Name: n, Values: [][]byte{v}})
		}
		return errText(s.d.Add(t0, s.c, arg, attrs))
	case "modify":
		var mods []Modification
		for _, p := range parts[1:] {
			op, av, _ := strings.Cut(p, " ")
			n, v := parseAV(av)
			if n == "unicodePwd" {
				v = utf16Quoted(string(v))
			}
			v = s.gmsaValue(n, v)
			m := Modification{Op: map[string]ModOp{"add": ModAdd, "delete": ModDelete, "replace": ModReplace}[op], Attr: Attribute{Name: n}}
			if len(v) > 0 {
				m.Attr.Values = [][]byte{v}
			}
			mods = append(mods, m)
		}
		return errText(s.d.Modify(t0, s.c, arg, mods))
	case "delete":
		return errText(s.d.Delete(t0, s.c, arg))
	case "rootkey":
		return s.rootKey(arg)
	case "modrdn":
		sup := ""
		if len(parts) > 2 {
			sup = parts[2]
		}
		return errText(s.d.ModifyDN(t0, s.c, arg, parts[1], true, sup))
	case "compare":
		n, v := parseAV(parts[1])
		ok, err := s.d.Compare(t0, s.c, arg, n, v)
		if err != nil {
			return errText(err)
		}
		return fmt.Sprintf("%v\n", ok)
	case "search":
		f, err := ParseFilter(parts[2])
		if err != nil {
			return "bad filter: " + err.Error() + "\n"
		}
		req := &SearchRequest{BaseDN: arg, Scope: map[string]Scope{"base": ScopeBase, "one": ScopeOne, "sub": ScopeSub}[parts[1]], Filter: f, SDFlags: -1}
		if len(parts) > 3 {
			req.Attributes = strings.Fields(parts[3])
		}
		res, err := s.d.Search(t0, s.c, req)
		var b strings.Builder
		for _, e := range res {
			b.WriteString("dn: " + showValue("", []byte(e.DN)) + "\n")
			for _, a := range e.Attributes {
				for _, v := range a.Values {
					b.WriteString("  " + a.Name + ": " + showValue(a.Name, v) + "\n")
				}
			}
		}
		if err != nil || len(res) == 0 {
			b.WriteString(errText(err))
		}
		return b.String()
	}
	s.t.Fatalf("unknown command %q", cmd)
	return ""
}
