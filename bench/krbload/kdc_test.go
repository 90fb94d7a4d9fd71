package main

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/gmsasim/gmsasim/sim"
)

const testPW = "Bench-Passw0rd!"

func attr(name string, vals ...string) fakead.Attribute {
	a := fakead.Attribute{Name: name}
	for _, v := range vals {
		a.Values = append(a.Values, []byte(v))
	}
	return a
}

// startKDC serves the KDC of a one-DC world holding user0…user(n-1) with testPW and a service
// account with SPN http/app.contoso.com, on TCP 127.0.0.1:0. The world's clock starts at the wall
// clock's now because the client stamps its requests with it (allowed in tests).
func startKDC(t *testing.T, n int) string {
	t.Helper()
	w, err := sim.New(sim.Config{Seed: 3, Start: time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	err = w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		add := func(name, pw string, extra ...fakead.Attribute) error {
			dn := "CN=" + name + ",CN=Users,DC=contoso,DC=com"
			attrs := append([]fakead.Attribute{attr("objectClass", "user"), attr("sAMAccountName", name),
				attr("userAccountControl", "512")}, extra...)
			if err := d.Add(now, fakead.SystemCaller, dn, attrs); err != nil {
				return err
			}
			return d.SetPassword(now, fakead.SystemCaller, dn, pw)
		}
		for i := range n {
			if err := add(UserName(i), testPW); err != nil {
				return err
			}
		}
		return add("svc_app", "Svc-Pa55word!", attr("servicePrincipalName", "http/app.contoso.com"))
	})
	if err != nil {
		t.Fatal(err)
	}
	k, err := kdc.ForDirectory(w.DC("DC1").Directory(), w.Rand("kdc"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := kdc.NewServer(kdc.ServerConfig{KDC: k, Exec: func(fn func(now time.Time) error) error {
		return w.ExecOn("DC1", func(now time.Time, _ *fakead.Directory) error { return fn(now) })
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.ListenTCP("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv.TCPAddr().String()
}

func TestBenchAgainstGmsasimKDC(t *testing.T) {
	addr := startKDC(t, 3)
	keys := filepath.Join(t.TempDir(), "keys")
	base := []string{"-kdc", addr, "-users", "3", "-conc", "2", "-keys", keys, "-service", "http/app.contoso.com",
		"-warmup", "0s", "-duration", "1m", "-max-ops", "6"}
	c, err := parseConfig(append([]string{"-op", "keys"}, base...), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := WriteKeys(c); err != nil || n != 3 {
		t.Fatalf("WriteKeys = %d, %v; want 3", n, err)
	}
	for _, op := range []string{"as", "tgs"} {
		c, err := parseConfig(append([]string{"-op", op, "-server", "gmsasim"}, base...), nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Bench(c)
		if err != nil {
			t.Fatalf("%s: Bench = %v", op, err)
		}
		if res.Ops != 6 || res.Errors != 0 || res.Op != op || res.Server != "gmsasim" {
			t.Errorf("%s: ops=%d errors=%d (first %v) op=%s server=%s; want 6 successful %s ops",
				op, res.Ops, res.Errors, res.FirstErr, res.Op, res.Server, op)
		}
	}
	// A wrong password: every login fails with PREAUTH_FAILED (24), counted as errors.
	c, err = parseConfig(append([]string{"-op", "as", "-user-pw", "wrong"}, base[:len(base)-6]...), nil)
	if err != nil {
		t.Fatal(err)
	}
	c.KeysFile, c.MaxOps, c.Warmup = "", 2, 0
	res, err := Bench(c)
	if err != nil {
		t.Fatalf("Bench(wrong password) = %v", err)
	}
	var ke *KRBError
	if res.Ops != 0 || res.Errors != 2 || !errors.As(res.FirstErr, &ke) || ke.Code != 24 {
		t.Errorf("wrong password: ops=%d errors=%d first=%v; want 0, 2 and KRB-ERROR 24", res.Ops, res.Errors, res.FirstErr)
	}
	// tgs for a service the KDC does not know: the logon works, every TGS-REQ gets S_PRINCIPAL_UNKNOWN (7).
	c, err = parseConfig(append(append([]string{"-op", "tgs"}, base[:len(base)-2]...), "-service", "http/nowhere.contoso.com"), nil)
	if err != nil {
		t.Fatal(err)
	}
	c.MaxOps = 2
	res, err = Bench(c)
	if err != nil {
		t.Fatalf("Bench(unknown service) = %v", err)
	}
	if res.Ops != 0 || res.Errors != 2 || !errors.As(res.FirstErr, &ke) || ke.Code != 7 {
		t.Errorf("unknown service: ops=%d errors=%d first=%v; want 0, 2 and KRB-ERROR 7", res.Ops, res.Errors, res.FirstErr)
	}
}
