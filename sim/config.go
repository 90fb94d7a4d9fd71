package sim

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/fakekds"
)

// DefaultStart is where simulated time starts unless Config.Start says otherwise: a fixed
// instant, never the wall clock.
func DefaultStart() time.Time { return time.Date(2026, time.November, 23, 10, 30, 0, 0, time.UTC) }

// Defaults of a Config.
const (
	DefaultDomain        = "contoso.com"
	DefaultNetBIOS       = "CONTOSO"
	DefaultSchemaVersion = 88
	DefaultDCName        = "DC1"
	DefaultDCOS          = "2022"
	// DefaultLinkDelay is the replication delay of a link nobody configured. It is AD's intra-site
	// change-notification delay: a DC (2003 and later) notifies its partners 15 s after an
	// originating write, and they pull the change then.
	// Divergence: AD notifies subsequent partners 3 s apart and batches writes made within the
	// 15 s window; here every link has its own fixed delay and each write travels on its own.
	DefaultLinkDelay = 15 * time.Second
	// DefaultMaxEvents bounds the events one world may run (replication deliveries, timers).
	DefaultMaxEvents = 10_000_000
	// DefaultMaxSimTime bounds how far a world's clock may go: 20 years of simulated time, enough
	// for any rotation scenario, short enough that a runaway timer stops.
	DefaultMaxSimTime = 20 * 365 * 24 * time.Hour
)

// SchemaVersions are the CN=Schema objectVersion values a world accepts: 47 (2008 R2), 52 (2012
// beta), 56 (2012), 69 (2012 R2), 87 (2016), 88 (2019 and 2022), 91 (2025). A new slice each call.
func SchemaVersions() []int { return []int{47, 52, 56, 69, 87, 88, 91} }

// DCOSVersions are the operating systems a DC may run. A new slice each call.
func DCOSVersions() []string {
	return []string{"2008R2", "2012", "2012R2", "2016", "2019", "2022", "2025"}
}

// MinSchemaVersion is the lowest CN=Schema objectVersion a forest can have while a DC runs os:
// a DC is promoted only into a forest whose schema its own adprep /forestprep has raised to its
// version (the objectVersion table of SchemaVersions; Learn, "Windows Server 2012 / 2016 ...
// schema updates", "Verify the schema version": 47 Windows Server 2008 R2, 56 2012, 69 2012 R2,
// 87 2016, 88 2019 and 2022, 91 2025). 0 for an OS it does not know.
// Divergence: a 2012 DC is accepted from 52 on, the objectVersion seed 001 names for the Windows
// Server 2012 schema ("must be 52"; 52 was the pre-release schema, 56 the released one).
func MinSchemaVersion(os string) int {
	switch os {
	case "2008R2":
		return 47
	case "2012":
		return 52
	case "2012R2":
		return 69
	case "2016":
		return 87
	case "2019", "2022":
		return 88
	case "2025":
		return 91
	}
	return 0
}

// DCSpec describes one domain controller.
type DCSpec struct {
	Name string // NetBIOS name, "DC1": 1-15 letters, digits or '-'; unique, case-insensitively
	OS   string // one of DCOSVersions; "" means DefaultDCOS
}

// LinkSpec is one replication link between two DCs, used in both directions.
type LinkSpec struct {
	A, B  string
	Delay time.Duration // 0 means Config.LinkDelay; an instant link is SetLinkDelay(a, b, 0)
}

// Config is what a world is made from. The zero Config is a valid world: contoso.com with one DC.
type Config struct {
	Seed          uint64
	Start         time.Time // zero: DefaultStart
	Domain        string    // DNS name; "": DefaultDomain
	NetBIOS       string    // "": DefaultNetBIOS for the default domain, else the first label upper-cased
	SchemaVersion int       // 0: DefaultSchemaVersion; else one of SchemaVersions
	DCs           []DCSpec  // nil: one DC, DefaultDCName running DefaultDCOS
	// Links: nil links every pair of DCs with LinkDelay; non-nil links exactly the listed pairs (a
	// chain DC1-DC2-DC3 lists two).
	Links     []LinkSpec
	LinkDelay time.Duration // 0: DefaultLinkDelay
	// AdminPassword is Administrator's password; "" draws one from the seed (stream "passwords").
	// World.Config() returns the password in use.
	AdminPassword string
	// RequireSigning is carried for the LDAP server (simple binds over plain LDAP are refused
	// there); the world itself does nothing with it.
	RequireSigning bool
	MaxEvents      int           // 0: DefaultMaxEvents; < 0: unbounded
	MaxSimTime     time.Duration // 0: DefaultMaxSimTime; < 0: unbounded
	// Realtime makes simulated time follow the wall clock (serve --realtime).
	Realtime    bool
	TraceWriter io.Writer // receives every trace line as it is written (--trace FILE)
	TraceLines  int       // lines kept in memory; 0: DefaultTraceLines
	// Keys memoises key derivations (PBKDF2); nil gives the world its own. A run of many worlds
	// built from the same seeds (a scenario library) shares one.
	Keys *fakekds.KeyMemo
}

// ConfigError says which Config field was wrong, with what value, and what is accepted.
type ConfigError struct {
	Field  string
	Value  any
	Reason string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("sim: config %s=%v: %s", e.Field, e.Value, e.Reason)
}

// normalise fills the defaults in and validates; it returns a copy.
func (cfg Config) normalise() (Config, error) {
	if cfg.Start.IsZero() {
		cfg.Start = DefaultStart()
	}
	cfg.Start = cfg.Start.UTC()
	if cfg.Domain == "" {
		cfg.Domain = DefaultDomain
	}
	cfg.Domain = strings.ToLower(strings.TrimSuffix(cfg.Domain, "."))
	if err := checkDNSName(cfg.Domain); err != nil {
		return cfg, &ConfigError{"Domain", cfg.Domain, err.Error()}
	}
	if cfg.NetBIOS == "" {
		cfg.NetBIOS = strings.ToUpper(strings.SplitN(cfg.Domain, ".", 2)[0])
	}
	cfg.NetBIOS = strings.ToUpper(cfg.NetBIOS)
	if !ValidNetBIOS(cfg.NetBIOS) {
		return cfg, &ConfigError{"NetBIOS", cfg.NetBIOS, "want 1-15 letters, digits or '-'"}
	}
	if cfg.SchemaVersion == 0 {
		cfg.SchemaVersion = DefaultSchemaVersion
	}
	if !containsInt(SchemaVersions(), cfg.SchemaVersion) {
		return cfg, &ConfigError{"SchemaVersion", cfg.SchemaVersion, fmt.Sprintf("want one of %v", SchemaVersions())}
	}
	if len(cfg.DCs) == 0 {
		cfg.DCs = []DCSpec{{Name: DefaultDCName}}
	}
	cfg.DCs = append([]DCSpec(nil), cfg.DCs...)
	seen := map[string]bool{}
	for i := range cfg.DCs {
		d := &cfg.DCs[i]
		d.Name = strings.ToUpper(d.Name)
		if !ValidNetBIOS(d.Name) {
			return cfg, &ConfigError{fmt.Sprintf("DCs[%d].Name", i), d.Name, "want 1-15 letters, digits or '-'"}
		}
		if seen[d.Name] {
			return cfg, &ConfigError{fmt.Sprintf("DCs[%d].Name", i), d.Name, "duplicate DC name"}
		}
		seen[d.Name] = true
		if d.OS == "" {
			d.OS = DefaultDCOS
		}
		if !containsString(DCOSVersions(), d.OS) {
			return cfg, &ConfigError{fmt.Sprintf("DCs[%d].OS", i), d.OS, fmt.Sprintf("want one of %v", DCOSVersions())}
		}
		if min := MinSchemaVersion(d.OS); cfg.SchemaVersion < min {
			return cfg, &ConfigError{fmt.Sprintf("DCs[%d].OS", i), d.OS, fmt.Sprintf(
				"a Windows Server %s DC needs a forest schema of objectVersion %d or later (its adprep /forestprep); the schema is %d: raise SchemaVersion or run an older DC",
				d.OS, min, cfg.SchemaVersion)}
		}
	}
	if cfg.LinkDelay == 0 {
		cfg.LinkDelay = DefaultLinkDelay
	}
	if cfg.LinkDelay < 0 {
		return cfg, &ConfigError{"LinkDelay", cfg.LinkDelay, "a delay cannot be negative"}
	}
	if cfg.Links == nil {
		for i := range cfg.DCs {
			for j := i + 1; j < len(cfg.DCs); j++ {
				cfg.Links = append(cfg.Links, LinkSpec{A: cfg.DCs[i].Name, B: cfg.DCs[j].Name})
			}
		}
	} else {
		cfg.Links = append([]LinkSpec(nil), cfg.Links...)
	}
	pairs := map[[2]string]bool{}
	for i := range cfg.Links {
		l := &cfg.Links[i]
		l.A, l.B = strings.ToUpper(l.A), strings.ToUpper(l.B)
		field := fmt.Sprintf("Links[%d]", i)
		switch {
		case !seen[l.A]:
			return cfg, &ConfigError{field + ".A", l.A, "no DC of that name"}
		case !seen[l.B]:
			return cfg, &ConfigError{field + ".B", l.B, "no DC of that name"}
		case l.A == l.B:
			return cfg, &ConfigError{field, l.A + "-" + l.B, "a link joins two different DCs"}
		case l.Delay < 0:
			return cfg, &ConfigError{field + ".Delay", l.Delay, "a delay cannot be negative"}
		}
		if l.Delay == 0 {
			l.Delay = cfg.LinkDelay
		}
		key := pairOf(l.A, l.B)
		if pairs[key] {
			return cfg, &ConfigError{field, l.A + "-" + l.B, "link listed twice"}
		}
		pairs[key] = true
	}
	if cfg.MaxEvents == 0 {
		cfg.MaxEvents = DefaultMaxEvents
	}
	if cfg.MaxSimTime == 0 {
		cfg.MaxSimTime = DefaultMaxSimTime
	}
	return cfg, nil
}

func (cfg Config) bounds() Bounds {
	b := Bounds{MaxEvents: cfg.MaxEvents, MaxSimTime: cfg.MaxSimTime}
	if b.MaxEvents < 0 {
		b.MaxEvents = 0
	}
	if b.MaxSimTime < 0 {
		b.MaxSimTime = 0
	}
	return b
}

// pairOf orders two DC names so a link has one key whichever end names it first.
func pairOf(a, b string) [2]string {
	if b < a {
		a, b = b, a
	}
	return [2]string{a, b}
}

// ValidNetBIOS reports whether s is a NetBIOS computer name as the world accepts it: 1-15 letters,
// digits or '-'.
func ValidNetBIOS(s string) bool {
	if len(s) == 0 || len(s) > 15 {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

func checkDNSName(s string) error {
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return fmt.Errorf("want a DNS name with at least two labels, like contoso.com")
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("label %q is not a valid DNS label", l)
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Errorf("label %q has %q: want letters, digits or '-'", l, r)
			}
		}
	}
	return nil
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func containsString(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// domainDN turns contoso.com into DC=contoso,DC=com.
func domainDN(dns string) string {
	parts := strings.Split(dns, ".")
	for i, p := range parts {
		parts[i] = "DC=" + p
	}
	return strings.Join(parts, ",")
}
