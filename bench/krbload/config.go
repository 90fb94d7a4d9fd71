package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jcmturner/gokrb5/v8/crypto"
)

// Config is everything one invocation does, after flag parsing and validation.
type Config struct {
	Op        string // "as", "tgs" or "keys"
	Server    string // label printed in the result line
	KDC       string // host:port of the KDC (TCP)
	Realm     string
	Service   string // service principal of the tgs op, e.g. http/ITFarm1.contoso.com
	UserPW    string // password of every user
	Etype     int32  // the one etype asked for and keyed (18: AES256-CTS-HMAC-SHA1-96)
	KeysFile  string // derived user keys: written by -op keys, read by as and tgs
	Conc      int
	Users     int
	Seed      uint64
	Duration  time.Duration
	Warmup    time.Duration
	MaxOps    int64
	Timeout   time.Duration
	ServerPID int // when > 0: report the server's CPU time over the measured phase (Linux /proc)
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
	fs := flag.NewFlagSet("krbload", flag.ContinueOnError)
	fs.SetOutput(out)
	c := &Config{}
	var seed int64
	var etype int
	fs.StringVar(&c.Op, "op", "as", "as | tgs | keys (derive the users' keys into -keys)")
	fs.StringVar(&c.Server, "server", "kdc", "label for the result line (gmsasim, krb5kdc)")
	fs.StringVar(&c.KDC, "kdc", "127.0.0.1:88", "KDC address host:port (TCP)")
	fs.StringVar(&c.Realm, "realm", "CONTOSO.COM", "Kerberos realm")
	fs.StringVar(&c.Service, "service", "http/ITFarm1.contoso.com", "service principal of -op tgs")
	fs.StringVar(&c.UserPW, "user-pw", "Bench-Passw0rd!", "password of every user (user0 … userN-1)")
	fs.IntVar(&etype, "etype", 18, "the etype asked for and keyed: 18 (AES256) or 17 (AES128)")
	fs.StringVar(&c.KeysFile, "keys", "", "file of derived user keys (written by -op keys; read by as and tgs, keys missing from it are derived on the fly)")
	fs.IntVar(&c.Conc, "conc", 8, "number of workers, one exchange in flight each")
	fs.IntVar(&c.Users, "users", 10000, "number of users (as picks among user0…userN-1)")
	fs.Int64Var(&seed, "seed", 1, "seed of the user choice and the nonces (math/rand/v2 PCG per worker)")
	fs.DurationVar(&c.Duration, "duration", 5*time.Second, "measured time of a run (bounded by -max-ops too)")
	fs.DurationVar(&c.Warmup, "warmup", time.Second, "unmeasured warm-up before measuring")
	fs.Int64Var(&c.MaxOps, "max-ops", 0, "stop after this many measured operations (0: only -duration bounds the run)")
	fs.IntVar(&c.ServerPID, "server-pid", 0, "PID of the KDC on this machine: report its CPU time per operation (from /proc)")
	fs.DurationVar(&c.Timeout, "timeout", 10*time.Second, "per-exchange timeout")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 0 {
		return nil, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	c.Seed = uint64(seed)
	c.Etype = int32(etype)
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{errUsage}, a...)...)
	}
	switch c.Op {
	case "as", "tgs":
	case "keys":
		if c.KeysFile == "" {
			return bad("-op keys needs -keys FILE")
		}
	default:
		return bad("-op %q: want as, tgs or keys", c.Op)
	}
	if _, _, err := net.SplitHostPort(c.KDC); err != nil {
		return bad("-kdc %q: want host:port", c.KDC)
	}
	if c.Realm == "" || strings.ContainsAny(c.Realm, "/@ ") {
		return bad("-realm %q: want a realm name such as CONTOSO.COM", c.Realm)
	}
	if _, err := servicePrincipal(c.Service); err != nil {
		return bad("-service: %v", err)
	}
	if c.UserPW == "" {
		return bad("-user-pw is empty")
	}
	if c.Etype != 17 && c.Etype != 18 {
		return bad("-etype %d: want 17 or 18", c.Etype)
	}
	if _, err := crypto.GetEtype(c.Etype); err != nil {
		return bad("-etype %d: %v", c.Etype, err)
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
	return nil
}

// UserName is the principal name of user i: user0, user1, …
func UserName(i int) string { return fmt.Sprintf("user%d", i) }

// DefaultSalt is the salt of user i's keys in the realm: REALM + name, MIT's default salt for a
// one-component principal and AD's salt for a user account ([MS-KILE] 3.1.1.2).
func (c *Config) DefaultSalt(i int) string { return c.Realm + UserName(i) }
