package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Profile says how users look in one kind of directory: where they live, how they are named, which
// attribute the equality search filters on and which entry an add sends.
type Profile struct {
	Name       string
	RDNAttr    string // attribute of the user's RDN
	Parent     string // container of the users, with "{base}" standing for -base
	FilterAttr string // attribute of the equality search
}

// Profiles are the two user shapes the bench compares.
var Profiles = map[string]Profile{
	"ad":            {Name: "ad", RDNAttr: "CN", Parent: "CN=Users,{base}", FilterAttr: "sAMAccountName"},
	"inetorgperson": {Name: "inetorgperson", RDNAttr: "uid", Parent: "ou=people,{base}", FilterAttr: "uid"},
}

// Config is everything one invocation does, after flag parsing and validation.
type Config struct {
	Mode       string // "load" or "bench"
	Op         string // "base", "eq", "bind", "connbind" or "gssapi" (bench mode)
	Server     string // label printed in the result line
	URL        string
	CAFile     string // PEM bundle trusted for ldaps:// URLs
	BindDN     string // account each connection binds as before working (empty: anonymous)
	BindPW     string
	Base       string
	Profile    Profile
	FilterAttr string
	Attrs      []string // attributes asked for by searches
	Conc       int
	Users      int
	Seed       uint64
	Duration   time.Duration
	Warmup     time.Duration
	MaxOps     int64
	UserPW     string // password of the loaded users (empty: none set on load)
	CredsFile  string // JSON object account → password (gmsasim's credentials.json)
	CredsKey   string // account in CredsFile whose password becomes BindPW
	Timeout    time.Duration
	ServerPID  int // when > 0: report the server's CPU time over the measured phase (Linux /proc)
	// The gssapi operation: every worker logs on once as user<worker> with UserPW through the
	// KDC of Krb5Conf and binds each new connection with a service ticket for SPN.
	Krb5Conf string
	Realm    string
	SPN      string
}

// Limits keep every run bounded, whatever the flags say.
const (
	maxConc     = 512
	maxUsers    = 1_000_000
	maxDuration = 10 * time.Minute
	maxOpsLimit = 1_000_000_000
)

var errUsage = errors.New("usage")

// parseConfig reads args (without the program name). Flag errors and -h print to out.
func parseConfig(args []string, out io.Writer) (*Config, error) {
	fs := flag.NewFlagSet("ldapload", flag.ContinueOnError)
	fs.SetOutput(out)
	c := &Config{}
	var profile, filterAttr, attrs string
	var seed int64
	fs.StringVar(&c.Mode, "mode", "bench", "load | bench")
	fs.StringVar(&c.Op, "op", "base", "bench operation: base | eq | bind | connbind (new connection, simple bind, base search) | gssapi (new connection, SASL GSSAPI bind, base search)")
	fs.StringVar(&c.Server, "server", "ldap", "label for the result line (gmsasim, slapd)")
	fs.StringVar(&c.URL, "url", "ldap://127.0.0.1:389", "server URL (ldap:// or ldaps://)")
	fs.StringVar(&c.CAFile, "ca", "", "PEM CA bundle for ldaps:// (e.g. gmsasim's ca.pem)")
	fs.StringVar(&c.BindDN, "bind-dn", "", "DN (or UPN) every connection binds as first; empty = anonymous")
	fs.StringVar(&c.BindPW, "bind-pw", "", "password for -bind-dn")
	fs.StringVar(&c.Base, "base", "DC=contoso,DC=com", "base DN of the directory")
	fs.StringVar(&profile, "profile", "ad", "user shape: ad | inetorgperson")
	fs.StringVar(&filterAttr, "filter-attr", "", "attribute of the eq search (default: the profile's, sAMAccountName or uid)")
	fs.StringVar(&attrs, "attrs", "cn", "comma-separated attributes the searches ask for (empty: all user attributes)")
	fs.IntVar(&c.Conc, "conc", 8, "number of connections, one goroutine each")
	fs.IntVar(&c.Users, "users", 10000, "number of users (load adds user0…userN-1; bench picks among them)")
	fs.Int64Var(&seed, "seed", 1, "seed of the user choice (math/rand/v2 PCG per connection)")
	fs.DurationVar(&c.Duration, "duration", 5*time.Second, "measured time of a bench run (bounded by -max-ops too)")
	fs.DurationVar(&c.Warmup, "warmup", time.Second, "unmeasured warm-up on the same connections before measuring")
	fs.Int64Var(&c.MaxOps, "max-ops", 0, "stop after this many measured operations (0: only -duration bounds the run)")
	fs.StringVar(&c.UserPW, "user-pw", "Bench-Passw0rd!", "password of the loaded users (load sets it, bind uses it)")
	fs.StringVar(&c.CredsFile, "creds", "", "JSON file mapping account → password (gmsasim's credentials.json); sets -bind-pw from -creds-key")
	fs.StringVar(&c.CredsKey, "creds-key", "Administrator", "account whose password -creds supplies")
	fs.IntVar(&c.ServerPID, "server-pid", 0, "PID of the server on this machine: report its CPU time per operation (from /proc)")
	fs.DurationVar(&c.Timeout, "timeout", 10*time.Second, "per-request timeout")
	fs.StringVar(&c.Krb5Conf, "krb5conf", "", "krb5.conf naming the KDC (gmsasim's STATE/krb5.conf), for -op gssapi")
	fs.StringVar(&c.Realm, "realm", "CONTOSO.COM", "Kerberos realm of the users, for -op gssapi")
	fs.StringVar(&c.SPN, "spn", "ldap/dc1.contoso.com", "the LDAP server's service principal, for -op gssapi")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 0 {
		return nil, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	p, ok := Profiles[profile]
	if !ok {
		return nil, fmt.Errorf("%w: -profile %q: want ad or inetorgperson", errUsage, profile)
	}
	p.Parent = strings.ReplaceAll(p.Parent, "{base}", c.Base)
	c.Profile = p
	c.FilterAttr = p.FilterAttr
	if filterAttr != "" {
		c.FilterAttr = filterAttr
	}
	c.Attrs = splitAttrs(attrs)
	c.Seed = uint64(seed)
	if err := c.validate(); err != nil {
		return nil, err
	}
	if c.CredsFile != "" {
		pw, err := readCreds(c.CredsFile, c.CredsKey)
		if err != nil {
			return nil, err
		}
		c.BindPW = pw
	}
	return c, nil
}

// readCreds returns key's password from a JSON object file such as gmsasim's credentials.json.
func readCreds(file, key string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("-creds: %w", err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return "", fmt.Errorf("-creds %s: want a JSON object of account → password: %w", file, err)
	}
	pw, ok := m[key]
	if !ok {
		return "", fmt.Errorf("-creds %s: no account %q in it", file, key)
	}
	return pw, nil
}

func splitAttrs(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

func (c *Config) validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{errUsage}, a...)...)
	}
	switch c.Mode {
	case "load", "bench":
	default:
		return bad("-mode %q: want load or bench", c.Mode)
	}
	switch c.Op {
	case "base", "eq", "bind", "connbind", "gssapi":
	default:
		return bad("-op %q: want base, eq, bind, connbind or gssapi", c.Op)
	}
	if c.Mode == "bench" && (c.Op == "bind" || c.Op == "connbind" || c.Op == "gssapi") && c.UserPW == "" {
		return bad("-op %s needs -user-pw", c.Op)
	}
	if c.Mode == "bench" && c.Op == "gssapi" && c.Krb5Conf == "" {
		return bad("-op gssapi needs -krb5conf")
	}
	if !strings.HasPrefix(c.URL, "ldap://") && !strings.HasPrefix(c.URL, "ldaps://") {
		return bad("-url %q: want ldap://host:port or ldaps://host:port", c.URL)
	}
	if c.Conc < 1 || c.Conc > maxConc {
		return bad("-conc %d: want 1…%d", c.Conc, maxConc)
	}
	if c.Users < 1 || c.Users > maxUsers {
		return bad("-users %d: want 1…%d", c.Users, maxUsers)
	}
	if c.Duration <= 0 || c.Duration > maxDuration {
		return bad("-duration %v: want > 0 and ≤ %v", c.Duration, maxDuration)
	}
	if c.Warmup < 0 || c.Warmup > maxDuration {
		return bad("-warmup %v: want 0…%v", c.Warmup, maxDuration)
	}
	if c.MaxOps < 0 || c.MaxOps > maxOpsLimit {
		return bad("-max-ops %d: want 0…%d", c.MaxOps, maxOpsLimit)
	}
	if c.ServerPID < 0 {
		return bad("-server-pid %d: want a process id", c.ServerPID)
	}
	if c.Timeout <= 0 {
		return bad("-timeout %v: want > 0", c.Timeout)
	}
	if c.Base == "" {
		return bad("-base is empty")
	}
	return nil
}

// UserName is the naming attribute value of user i: user0, user1, …
func UserName(i int) string { return fmt.Sprintf("user%d", i) }

// UserDN is the DN of user i under the profile.
func (c *Config) UserDN(i int) string {
	return fmt.Sprintf("%s=%s,%s", c.Profile.RDNAttr, UserName(i), c.Profile.Parent)
}
