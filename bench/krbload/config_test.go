package main

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/jcmturner/gokrb5/v8/iana/nametype"
)

func TestParseConfigDefaults(t *testing.T) {
	c, err := parseConfig(nil, io.Discard)
	if err != nil {
		t.Fatalf("parseConfig(nil) = %v", err)
	}
	if c.Op != "as" || c.Conc != 8 || c.Users != 10000 || c.Seed != 1 || c.Etype != 18 || c.Realm != "CONTOSO.COM" {
		t.Errorf("defaults op=%s conc=%d users=%d seed=%d etype=%d realm=%s; want as 8 10000 1 18 CONTOSO.COM",
			c.Op, c.Conc, c.Users, c.Seed, c.Etype, c.Realm)
	}
	if c.Duration != 5*time.Second || c.Warmup != time.Second || c.KDC != "127.0.0.1:88" {
		t.Errorf("defaults duration=%v warmup=%v kdc=%s; want 5s 1s 127.0.0.1:88", c.Duration, c.Warmup, c.KDC)
	}
	if got, want := c.DefaultSalt(42), "CONTOSO.COMuser42"; got != want {
		t.Errorf("DefaultSalt(42) = %q, want %q", got, want)
	}
}

func TestParseConfigFlags(t *testing.T) {
	c, err := parseConfig([]string{"-op", "tgs", "-kdc", "127.0.0.1:3088", "-service", "host/web1.contoso.com",
		"-conc", "4", "-users", "7", "-seed", "9", "-etype", "17", "-duration", "2s", "-warmup", "0s", "-server-pid", "12"}, io.Discard)
	if err != nil {
		t.Fatalf("parseConfig = %v", err)
	}
	if c.Op != "tgs" || c.KDC != "127.0.0.1:3088" || c.Conc != 4 || c.Users != 7 || c.Seed != 9 || c.Etype != 17 ||
		c.Duration != 2*time.Second || c.Warmup != 0 || c.ServerPID != 12 {
		t.Errorf("parsed %+v", c)
	}
	pn, err := servicePrincipal(c.Service)
	if err != nil || pn.NameType != nametype.KRB_NT_SRV_INST || len(pn.NameString) != 2 || pn.NameString[1] != "web1.contoso.com" {
		t.Errorf("servicePrincipal(%q) = %+v, %v", c.Service, pn, err)
	}
	if pn, err := servicePrincipal("ITFarm1$"); err != nil || pn.NameType != nametype.KRB_NT_PRINCIPAL {
		t.Errorf("servicePrincipal(ITFarm1$) = %+v, %v; want a one-component principal", pn, err)
	}
}

func TestParseConfigRejects(t *testing.T) {
	for _, args := range [][]string{
		{"-op", "bind"},
		{"-op", "keys"}, // needs -keys
		{"-kdc", "localhost"},
		{"-realm", ""},
		{"-realm", "CONTOSO.COM@X"},
		{"-service", "http//x"},
		{"-service", "http/x@CONTOSO.COM"},
		{"-user-pw", ""},
		{"-etype", "23"},
		{"-conc", "0"},
		{"-conc", "100000"},
		{"-users", "0"},
		{"-duration", "0s"},
		{"-duration", "11m"},
		{"-warmup", "-1s"},
		{"-max-ops", "-1"},
		{"-server-pid", "-3"},
		{"-timeout", "0s"},
		{"stray"},
	} {
		c, err := parseConfig(args, io.Discard)
		if !errors.Is(err, errUsage) {
			t.Errorf("parseConfig(%q) = %+v, %v; want a usage error", args, c, err)
		}
	}
	if _, err := parseConfig([]string{"-nosuchflag"}, io.Discard); err == nil {
		t.Errorf("parseConfig(-nosuchflag) = nil error")
	}
}

func TestRunExitStatus(t *testing.T) {
	if got := run([]string{"-conc", "0"}, io.Discard, io.Discard); got != 2 {
		t.Errorf("run(bad flags) = %d, want 2", got)
	}
	if got := run([]string{"-h"}, io.Discard, io.Discard); got != 0 {
		t.Errorf("run(-h) = %d, want 0", got)
	}
}
