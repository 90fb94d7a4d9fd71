package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestParseConfigDefaults(t *testing.T) {
	c, err := parseConfig(nil, io.Discard)
	if err != nil {
		t.Fatalf("parseConfig(nil) = %v", err)
	}
	if c.Mode != "bench" || c.Op != "base" || c.Conc != 8 || c.Users != 10000 || c.Seed != 1 {
		t.Errorf("defaults mode=%s op=%s conc=%d users=%d seed=%d; want bench base 8 10000 1", c.Mode, c.Op, c.Conc, c.Users, c.Seed)
	}
	if c.Duration != 5*time.Second || c.Warmup != time.Second {
		t.Errorf("defaults duration=%v warmup=%v; want 5s 1s", c.Duration, c.Warmup)
	}
	if got, want := c.UserDN(42), "CN=user42,CN=Users,DC=contoso,DC=com"; got != want {
		t.Errorf("UserDN(42) = %q, want %q", got, want)
	}
	if c.FilterAttr != "sAMAccountName" {
		t.Errorf("FilterAttr = %q, want sAMAccountName", c.FilterAttr)
	}
	if !reflect.DeepEqual(c.Attrs, []string{"cn"}) {
		t.Errorf("Attrs = %q, want [cn]", c.Attrs)
	}
}

func TestParseConfigProfiles(t *testing.T) {
	c, err := parseConfig([]string{"-profile", "inetorgperson", "-base", "dc=example,dc=org", "-attrs", " cn , uid ,,"}, io.Discard)
	if err != nil {
		t.Fatalf("parseConfig = %v", err)
	}
	if got, want := c.UserDN(0), "uid=user0,ou=people,dc=example,dc=org"; got != want {
		t.Errorf("UserDN(0) = %q, want %q", got, want)
	}
	if c.FilterAttr != "uid" {
		t.Errorf("FilterAttr = %q, want uid", c.FilterAttr)
	}
	if !reflect.DeepEqual(c.Attrs, []string{"cn", "uid"}) {
		t.Errorf("Attrs = %q, want [cn uid]", c.Attrs)
	}
	c, err = parseConfig([]string{"-filter-attr", "cn", "-attrs", ""}, io.Discard)
	if err != nil {
		t.Fatalf("parseConfig = %v", err)
	}
	if c.FilterAttr != "cn" || c.Attrs != nil {
		t.Errorf("FilterAttr=%q Attrs=%q, want cn and none", c.FilterAttr, c.Attrs)
	}
}

func TestParseConfigRejects(t *testing.T) {
	for _, args := range [][]string{
		{"-mode", "soak"},
		{"-op", "modify"},
		{"-profile", "openldap"},
		{"-url", "http://127.0.0.1:389"},
		{"-conc", "0"},
		{"-conc", "513"},
		{"-users", "0"},
		{"-duration", "0s"},
		{"-duration", "11m"},
		{"-warmup", "-1s"},
		{"-max-ops", "-1"},
		{"-timeout", "0s"},
		{"-base", ""},
		{"-op", "bind", "-user-pw", ""},
		{"stray"},
	} {
		_, err := parseConfig(args, io.Discard)
		if !errors.Is(err, errUsage) {
			t.Errorf("parseConfig(%q) = %v, want a usage error", args, err)
		}
	}
}

func TestParseConfigCreds(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "credentials.json")
	// Go's encoding/json escapes & as \u0026: the reader must unescape it.
	if err := os.WriteFile(file, []byte(`{"Administrator":"a\u0026b\"c","alice":"x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := parseConfig([]string{"-creds", file}, io.Discard)
	if err != nil {
		t.Fatalf("parseConfig -creds = %v", err)
	}
	if c.BindPW != `a&b"c` {
		t.Errorf("BindPW = %q, want %q", c.BindPW, `a&b"c`)
	}
	c, err = parseConfig([]string{"-creds", file, "-creds-key", "alice"}, io.Discard)
	if err != nil || c.BindPW != "x" {
		t.Errorf("parseConfig -creds-key alice = %v, BindPW %q; want x", err, c.BindPW)
	}
	if _, err := parseConfig([]string{"-creds", file, "-creds-key", "bob"}, io.Discard); err == nil {
		t.Errorf("parseConfig -creds-key bob = nil error, want: no account")
	}
	if _, err := parseConfig([]string{"-creds", filepath.Join(dir, "missing.json")}, io.Discard); err == nil {
		t.Errorf("parseConfig with a missing -creds file = nil error")
	}
}

func TestRunExitCodes(t *testing.T) {
	var out, errOut bufWriter
	if got := run([]string{"-conc", "0"}, &out, &errOut); got != 2 {
		t.Errorf("run(-conc 0) = %d, want 2; stderr %q", got, errOut.String())
	}
	if got := run([]string{"-h"}, &out, &errOut); got != 0 {
		t.Errorf("run(-h) = %d, want 0", got)
	}
	if out.Len() != 0 {
		t.Errorf("stdout = %q, want nothing on usage errors", out.String())
	}
}
