package conform

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	gokeytab "github.com/jcmturner/gokrb5/v8/keytab"
)

// Adapter describes the product under test: how to make it refresh its keys, and where to find
// the keys it holds. It is a JSON document (see doc.go).
type Adapter struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Refresh is the command run at every moment the product would wake up and fetch its keys.
	// Exit 0: the product says it holds good keys; non-zero: it reports a failure (stderr is kept).
	Refresh []string `json:"refresh"`
	// Keytab is the keytab file the product maintains; or Keys, a command printing its keys as
	// JSON. Exactly one.
	Keytab string   `json:"keytab,omitempty"`
	Keys   []string `json:"keys,omitempty"`
	// Env are more variables for the product (values expand ${VAR} too).
	Env map[string]string `json:"env,omitempty"`
	// Timeout bounds one run of a command (a Go duration; default 60s).
	Timeout string `json:"timeout,omitempty"`

	dir     string // the adapter file's directory: ${GMSASIM_ADAPTER_DIR}
	timeout time.Duration
}

// LoadAdapter reads and checks an adapter file.
func LoadAdapter(path string) (*Adapter, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("adapter: %w", err)
	}
	a, err := ParseAdapter(b)
	if err != nil {
		return nil, fmt.Errorf("adapter %s: %w", path, err)
	}
	if a.dir, err = filepath.Abs(filepath.Dir(path)); err != nil {
		return nil, err
	}
	return a, nil
}

// ParseAdapter parses an adapter document; unknown fields are an error (a typo would otherwise
// silently test less).
func ParseAdapter(b []byte) (*Adapter, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var a Adapter
	if err := dec.Decode(&a); err != nil {
		return nil, err
	}
	switch {
	case a.Name == "":
		return nil, errors.New(`"name" is missing`)
	case len(a.Refresh) == 0:
		return nil, errors.New(`"refresh" is missing: the command that makes the product fetch its keys`)
	case (a.Keytab == "") == (len(a.Keys) == 0):
		return nil, errors.New(`give exactly one of "keytab" (the file the product writes) and "keys" (a command printing its keys)`)
	}
	a.timeout = 60 * time.Second
	if a.Timeout != "" {
		d, err := time.ParseDuration(a.Timeout)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf(`"timeout" %q: want a Go duration such as "30s"`, a.Timeout)
		}
		a.timeout = d
	}
	return &a, nil
}

// expand replaces ${VAR} and $VAR in s with env's value (else the process environment's).
func expand(s string, env map[string]string) string {
	return os.Expand(s, func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return os.Getenv(k)
	})
}

// ProductRun is one run of a product command, as the report shows it.
type ProductRun struct {
	Args     []string // expanded, secrets masked
	Exit     int      // -1: did not start or timed out
	Stdout   string
	Stderr   string
	Duration time.Duration
}

// MaxProductOutput is how much of a product run's standard output and of its standard error the
// suite keeps: a product that prints without end costs the suite this much memory, not more.
const MaxProductOutput = 1 << 20

// cappedBuffer keeps the first max bytes written to it and counts the rest.
type cappedBuffer struct {
	b       bytes.Buffer
	max     int
	dropped int
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	keep := min(len(p), max(c.max-c.b.Len(), 0))
	c.b.Write(p[:keep])
	c.dropped += len(p) - keep
	return len(p), nil
}

func (c *cappedBuffer) String() string {
	if c.dropped == 0 {
		return c.b.String()
	}
	return fmt.Sprintf("%s\n... (%d more bytes not kept)\n", c.b.String(), c.dropped)
}

// run runs words with env (the process environment plus env), secrets masked in what it keeps.
func (a *Adapter) run(ctx context.Context, words []string, env map[string]string, secrets []string) ProductRun {
	args := make([]string, len(words))
	for i, w := range words {
		args[i] = expand(w, env)
	}
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Dir = env["GMSASIM_OUT"]
	out, errb := &cappedBuffer{max: MaxProductOutput}, &cappedBuffer{max: MaxProductOutput}
	cmd.Stdout, cmd.Stderr = out, errb
	began := time.Now() // wallclock: how long the product took, for the report
	err := cmd.Run()
	r := ProductRun{Args: args, Exit: cmd.ProcessState.ExitCode(), Duration: time.Since(began), Stdout: out.String(), Stderr: errb.String()} // wallclock
	if err != nil && cmd.ProcessState == nil {
		r.Exit, r.Stderr = -1, err.Error()
	}
	if ctx.Err() != nil {
		r.Exit, r.Stderr = -1, fmt.Sprintf("timed out after %s\n%s", a.timeout, r.Stderr)
	}
	mask := func(s string) string {
		for _, sec := range secrets {
			if sec != "" {
				s = strings.ReplaceAll(s, sec, "********")
			}
		}
		return s
	}
	for i := range r.Args {
		r.Args[i] = mask(r.Args[i])
	}
	r.Stdout, r.Stderr = mask(r.Stdout), mask(r.Stderr)
	return r
}

// HeldKey is one key the product holds.
type HeldKey struct {
	Principal string // "http/ITFarm1.contoso.com@CONTOSO.COM"; "" from a keys command: any
	KVNO      uint32
	EType     int32
	Value     []byte
}

// keysOutput is what a "keys" command prints: {"keys": [{"kvno": 2, "etype": 18, "key": "hex"}]}
// (etype 23 is RC4-HMAC: the key is the NT hash).
type keysOutput struct {
	Keys []struct {
		Principal string `json:"principal,omitempty"`
		KVNO      uint32 `json:"kvno"`
		EType     int32  `json:"etype"`
		Key       string `json:"key"`
	} `json:"keys"`
}

// errNoKeys is a product that holds no keys at all (no keytab file).
var errNoKeys = errors.New("no keys")

// held reads the keys the product holds now. A missing keytab is errNoKeys.
func (a *Adapter) held(ctx context.Context, env map[string]string, secrets []string) ([]HeldKey, *ProductRun, error) {
	if a.Keytab != "" {
		path := expand(a.Keytab, env)
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("%w: the product wrote no keytab at %s", errNoKeys, path)
		}
		kt, err := gokeytab.Load(path)
		if err != nil {
			return nil, nil, fmt.Errorf("the product's keytab %s does not parse: %v", path, err)
		}
		var out []HeldKey
		for _, e := range kt.Entries {
			out = append(out, HeldKey{Principal: strings.Join(e.Principal.Components, "/") + "@" + e.Principal.Realm,
				KVNO: e.KVNO, EType: e.Key.KeyType, Value: e.Key.KeyValue})
		}
		if len(out) == 0 {
			return nil, nil, fmt.Errorf("%w: the product's keytab %s is empty", errNoKeys, path)
		}
		return out, nil, nil
	}
	r := a.run(ctx, a.Keys, env, secrets)
	if r.Exit != 0 {
		return nil, &r, fmt.Errorf("the keys command exited %d: %s", r.Exit, firstLine(r.Stderr))
	}
	var ko keysOutput
	if err := json.Unmarshal([]byte(r.Stdout), &ko); err != nil {
		return nil, &r, fmt.Errorf("the keys command's output is not {\"keys\": [...]}: %v", err)
	}
	var out []HeldKey
	for _, k := range ko.Keys {
		v, err := hex.DecodeString(k.Key)
		if err != nil {
			return nil, &r, fmt.Errorf("the keys command printed key %q: not hex", k.Key)
		}
		out = append(out, HeldKey{Principal: k.Principal, KVNO: k.KVNO, EType: k.EType, Value: v})
	}
	if len(out) == 0 {
		return nil, &r, fmt.Errorf("%w: the keys command printed no key", errNoKeys)
	}
	return out, &r, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
