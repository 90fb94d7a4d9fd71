package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/gmsasim/gmsasim/sim/host"
)

// worldSpec is a parsed "world" block.
type worldSpec struct {
	cfg      sim.Config
	seedSet  bool
	objects  []objSpec // groups, users, computers, hosts' computer accounts, in creation order
	hosts    []hostSpec
	explicit bool // links were listed
}

type objSpec struct {
	kind     string // group, user, computer
	name     string
	memberOf []string
	scope    string
}

// hostSpec is a member host line: sim.AddHost joins it after the world's groups exist.
type hostSpec struct {
	Name, OS, Arch, DC, KdsSvc string
	Cluster                    bool
	MemberOf                   []string
	EncTypes                   int64
}

// parseWorld reads the world directive and its input lines.
func parseWorld(st *Step) (*worldSpec, error) {
	ws := &worldSpec{}
	for _, a := range st.Args {
		switch strings.ToLower(a.Key) {
		case "seed":
			n, err := strconv.ParseUint(a.Val, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("seed=%q: expected an unsigned integer", a.Val)
			}
			ws.cfg.Seed, ws.seedSet = n, true
		case "start":
			t, err := parseTime(a.Val)
			if err != nil {
				return nil, fmt.Errorf("start=%q: expected a time like 2026-11-23T10:30Z", a.Val)
			}
			ws.cfg.Start = t
		case "delay":
			d, err := parseDuration(a.Val)
			if err != nil {
				return nil, fmt.Errorf("delay=%q: %v", a.Val, err)
			}
			ws.cfg.LinkDelay = d
		default:
			return nil, fmt.Errorf("unknown world argument %q; expected seed=N, start=TIME, delay=DURATION", a.Key)
		}
	}
	for i, line := range st.Input {
		args, err := splitArgs(strings.TrimSpace(line))
		if err != nil {
			return nil, fmt.Errorf("world line %d: %v", i+1, err)
		}
		if err := ws.line(args); err != nil {
			return nil, fmt.Errorf("world line %d (%s): %v", i+1, strings.TrimSpace(line), err)
		}
	}
	return ws, nil
}

// worldLineArgs are the arguments each world line takes (key=value and flag words; its name is
// the one positional word, link's two): the parser refuses any other.
func worldLineArgs() map[string]argSpec {
	members := argSpec{keys: []string{"member-of"}}
	return map[string]argSpec{
		"domain":   {keys: []string{"schema", "netbios"}},
		"dc":       {keys: []string{"os", "link"}},
		"link":     {keys: []string{"delay"}},
		"group":    {keys: []string{"scope", "member-of"}},
		"user":     members,
		"computer": members,
		"host":     {keys: []string{"os", "arch", "dc", "kdssvc", "enctypes", "member-of"}, flags: []string{"cluster"}},
	}
}

func (ws *worldSpec) line(args []Arg) error {
	kind := strings.ToLower(args[0].Key)
	if spec, ok := worldLineArgs()[kind]; ok {
		usage := kind + " line"
		npos := map[bool]int{true: 2, false: 1}[kind == "link"]
		for _, a := range args[1:] {
			switch {
			case a.HasVal && !slices.ContainsFunc(spec.keys, func(k string) bool { return strings.EqualFold(k, a.Key) }):
				return fmt.Errorf("unknown argument %s=; %s", a.Key, spec.accepted(usage))
			case !a.HasVal && !spec.flag(a.Key):
				if npos--; npos < 0 {
					return fmt.Errorf("unknown word %q; %s", a.Key, spec.accepted(usage))
				}
			}
		}
	}
	pos := func(i int) string {
		n := 0
		for _, a := range args[1:] {
			if !a.HasVal {
				if n == i {
					return a.Key
				}
				n++
			}
		}
		return ""
	}
	kv := map[string]string{}
	flags := map[string]bool{}
	for _, a := range args[1:] {
		if a.HasVal {
			kv[strings.ToLower(a.Key)] = a.Val
		} else {
			flags[strings.ToLower(a.Key)] = true
		}
	}
	list := func(k string) []string {
		var out []string
		for _, x := range strings.Split(kv[k], ",") {
			if x = strings.TrimSpace(x); x != "" {
				out = append(out, x)
			}
		}
		return out
	}
	name := pos(0)
	switch kind {
	case "domain":
		ws.cfg.Domain = name
		if v, ok := kv["schema"]; ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("schema=%q: expected an objectVersion such as 47, 52, 56, 69, 87, 88", v)
			}
			ws.cfg.SchemaVersion = n
		}
		ws.cfg.NetBIOS = kv["netbios"]
	case "dc":
		if name == "" {
			return fmt.Errorf("expected a DC name: dc DC1 os=2016")
		}
		ws.cfg.DCs = append(ws.cfg.DCs, sim.DCSpec{Name: name, OS: kv["os"]})
		for _, l := range list("link") {
			peer, d, _ := strings.Cut(l, ":")
			delay, err := parseDuration(d)
			if d == "" || err != nil {
				return fmt.Errorf("link=%q: expected PEER:DELAY such as DC1:1h", l)
			}
			ws.cfg.Links = append(ws.cfg.Links, sim.LinkSpec{A: name, B: peer, Delay: delay})
			ws.explicit = true
		}
	case "link":
		d, err := parseDuration(kv["delay"])
		if pos(1) == "" || err != nil {
			return fmt.Errorf("expected: link DC1 DC2 delay=1h")
		}
		ws.cfg.Links = append(ws.cfg.Links, sim.LinkSpec{A: pos(0), B: pos(1), Delay: d})
		ws.explicit = true
	case "group", "user", "computer":
		if name == "" {
			return fmt.Errorf("expected a name: %s NAME", kind)
		}
		ws.objects = append(ws.objects, objSpec{kind: kind, name: name, memberOf: list("member-of"), scope: kv["scope"]})
	case "host":
		if name == "" {
			return fmt.Errorf("expected a name: host WEB1 os=2019")
		}
		h := hostSpec{Name: name, OS: kv["os"], Arch: kv["arch"], DC: kv["dc"], KdsSvc: kv["kdssvc"], Cluster: flags["cluster"], MemberOf: list("member-of")}
		if h.Arch == "" {
			h.Arch = "x64"
		}
		switch h.Arch {
		case "x64":
		case "x86":
			// Seed 001: "A 64-bit architecture is required to run the Windows PowerShell commands
			// used to administer group Managed Service Accounts" — and no Windows Server from 2008
			// R2 on has an x86 edition (sim/host Fleet.Add), so such a host cannot exist.
			return fmt.Errorf("arch=x86: Windows Server %s has no x86 (32-bit) edition (none since 2008 R2): a host is x64", orDefault(h.OS, sim.DefaultDCOS))
		default:
			return fmt.Errorf("arch=%q: expected x64 (Windows Server 2008 R2 and later are x64 only)", h.Arch)
		}
		if h.KdsSvc != "" && h.KdsSvc != "trigger" && h.KdsSvc != "default" {
			return fmt.Errorf("kdssvc=%q: expected trigger (sc triggerinfo kdssvc start/networkon) or default", h.KdsSvc)
		}
		if v, ok := kv["enctypes"]; ok {
			bits, err := encTypeBits(v)
			if err != nil {
				return err
			}
			h.EncTypes = bits
		}
		ws.hosts = append(ws.hosts, h)
	default:
		return fmt.Errorf("unknown world line %q; expected domain, dc, link, group, user, computer or host", args[0].Key)
	}
	return nil
}

// build creates the world's objects on the first DC as the directory itself, then replicates
// them everywhere at once, and returns the world block's output.
func (r *runner) buildObjects(ws *worldSpec) (string, error) {
	var out strings.Builder
	cfg := r.w.Config()
	fmt.Fprintf(&out, "domain %s (%s) schema=%d sid=%s\n", cfg.Domain, cfg.NetBIOS, cfg.SchemaVersion, r.w.DomainSID())
	for _, d := range cfg.DCs {
		fmt.Fprintf(&out, "dc %s os=%s\n", d.Name, d.OS)
	}
	for _, l := range cfg.Links {
		fmt.Fprintf(&out, "link %s-%s delay=%s\n", l.A, l.B, fmtDuration(l.Delay))
	}
	first := cfg.DCs[0].Name
	err := r.w.ExecOn(first, func(now time.Time, d *fakead.Directory) error {
		dom := d.DomainDN()
		dnOf := map[string]string{}
		for _, o := range ws.objects {
			var dn string
			var attrs []fakead.Attribute
			switch o.kind {
			case "group":
				dn = "CN=" + escapeRDN(o.name) + ",CN=Users," + dom
				gt := map[string]int64{"": 2, "global": 2, "domainlocal": 4, "universal": 8}[strings.ToLower(o.scope)]
				attrs = []fakead.Attribute{attr("objectClass", "group"), attr("sAMAccountName", o.name),
					attr("groupType", strconv.FormatInt(int64(int32(uint32(gt|0x80000000))), 10))}
			case "user":
				dn = "CN=" + escapeRDN(o.name) + ",CN=Users," + dom
				attrs = []fakead.Attribute{attr("objectClass", "user"), attr("sAMAccountName", o.name),
					attr("userPrincipalName", o.name+"@"+cfg.Domain), attr("userAccountControl", "512")}
			case "computer":
				dn = "CN=" + escapeRDN(o.name) + ",CN=Computers," + dom
				attrs = []fakead.Attribute{attr("objectClass", "computer"), attr("sAMAccountName", o.name+"$"),
					attr("dNSHostName", strings.ToLower(o.name)+"."+cfg.Domain)}
			}
			if err := d.Add(now, fakead.SystemCaller, dn, attrs); err != nil {
				return fmt.Errorf("world: creating %s %s: %w", o.kind, o.name, err)
			}
			if o.kind == "user" {
				// A password so that kerberos probes can log the user on (userPassword).
				if err := d.SetPassword(now, fakead.SystemCaller, dn, userPassword(o.name)); err != nil {
					return fmt.Errorf("world: password of user %s: %w", o.name, err)
				}
			}
			dnOf[strings.ToLower(o.name)] = dn
			line := fmt.Sprintf("%s %s %s", o.kind, o.name, dn)
			if len(o.memberOf) > 0 {
				line += " member-of=" + strings.Join(o.memberOf, ",")
			}
			out.WriteString(line + "\n")
		}
		for _, o := range ws.objects {
			for _, g := range o.memberOf {
				gdn, ok := dnOf[strings.ToLower(g)]
				if !ok {
					res, err := d.Search(now, fakead.SystemCaller, &fakead.SearchRequest{BaseDN: dom, Scope: fakead.ScopeSub,
						Filter: fakead.FilterAnd{eq("objectClass", "group"), eq("sAMAccountName", g)}, Attributes: []string{"1.1"}, SDFlags: -1})
					if err != nil || len(res) == 0 {
						return fmt.Errorf("world: %s %s member-of=%s: no such group", o.kind, o.name, g)
					}
					gdn = res[0].DN
				}
				if err := d.Modify(now, fakead.SystemCaller, gdn, []fakead.Modification{{Op: fakead.ModAdd, Attr: attr("member", dnOf[strings.ToLower(o.name)])}}); err != nil {
					return fmt.Errorf("world: adding %s to %s: %w", o.name, g, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if err := r.w.ReplicateNow(); err != nil {
		return "", err
	}
	for _, hs := range ws.hosts {
		h, err := r.hosts.Add(host.Spec{Name: hs.Name, OS: hs.OS, X86: hs.Arch == "x86", Cluster: hs.Cluster,
			KDSSvcTrigger: hs.KdsSvc == "trigger", DC: hs.DC, Groups: hs.MemberOf, EncryptionTypes: hs.EncTypes})
		if err != nil {
			return "", fmt.Errorf("world: host %s: %w", hs.Name, err)
		}
		out.WriteString(hostLine(h) + "\n")
	}
	if len(ws.hosts) > 0 {
		if err := r.w.ReplicateNow(); err != nil {
			return "", err
		}
	}
	return out.String(), nil
}

// parseDuration reads 90s, 5m, 10h, 30d, 1h30m, 2d12h.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration: expected e.g. 10h, 30d, 1h30m")
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	var total time.Duration
	rest := s
	if i := strings.Index(rest, "d"); i > 0 {
		n, err := strconv.Atoi(rest[:i])
		if err != nil {
			return 0, fmt.Errorf("duration %q: expected e.g. 10h, 30d, 1h30m", s)
		}
		total = time.Duration(n) * 24 * time.Hour
		rest = rest[i+1:]
	}
	if rest != "" {
		d, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("duration %q: expected e.g. 10h, 30d, 1h30m", s)
		}
		total += d
	}
	if neg {
		total = -total
	}
	return total, nil
}

// fmtDuration prints 30d, 10h, 1h30m, 15s.
func fmtDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var parts []string
	if days := d / (24 * time.Hour); days > 0 {
		parts = append(parts, fmt.Sprintf("%dd", days))
		d -= days * 24 * time.Hour
	}
	if h := d / time.Hour; h > 0 {
		parts = append(parts, fmt.Sprintf("%dh", h))
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		parts = append(parts, fmt.Sprintf("%dm", m))
		d -= m * time.Minute
	}
	if d > 0 {
		parts = append(parts, d.String())
	}
	return strings.Join(parts, "")
}

func parseTime(s string) (time.Time, error) {
	for _, f := range []string{time.RFC3339, "2006-01-02T15:04Z", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(f, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q", s)
}

// hasUser reports whether the world block declares user name (it then has userPassword(name)).
func (ws *worldSpec) hasUser(name string) bool {
	for _, o := range ws.objects {
		if o.kind == "user" && strings.EqualFold(o.name, name) {
			return true
		}
	}
	return false
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
