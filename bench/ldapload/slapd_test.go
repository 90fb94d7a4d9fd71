package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/bench/loadkit"
)

// The end-to-end tests drive a real OpenLDAP slapd (Debian's package) on 127.0.0.1 through run(),
// exactly as bench/run.sh does. They skip when slapd is not installed.

const (
	slapdBin   = "/usr/sbin/slapd"
	slapaddBin = "/usr/sbin/slapadd"
)

// startSlapd runs slapd in the foreground on a throwaway mdb database and returns its URL; the
// test's cleanup stops it.
func startSlapd(t *testing.T) (url string, pid int) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: no slapd")
	}
	if _, err := os.Stat(slapdBin); err != nil {
		t.Skipf("slapd not installed (%v): apt-get install slapd", err)
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "db")
	if err := os.Mkdir(db, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "slapd.conf")
	writeFile(t, conf, fmt.Sprintf(`include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile %[1]s/slapd.pid
database mdb
maxsize 104857600
suffix "dc=contoso,dc=com"
rootdn "cn=admin,dc=contoso,dc=com"
rootpw secret
directory %[1]s/db
dbnosync
index uid eq
`, dir))
	ldif := filepath.Join(dir, "base.ldif")
	writeFile(t, ldif, "dn: dc=contoso,dc=com\nobjectClass: dcObject\nobjectClass: organization\ndc: contoso\no: contoso\n\n"+
		"dn: ou=people,dc=contoso,dc=com\nobjectClass: organizationalUnit\nou: people\n")
	if out, err := exec.Command(slapaddBin, "-q", "-f", conf, "-l", ldif).CombinedOutput(); err != nil {
		t.Fatalf("slapadd: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var logs bytes.Buffer
	cmd := exec.Command(slapdBin, "-d", "0", "-f", conf, "-h", "ldap://"+addr+"/")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start slapd: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	// slapd opens its listener after it has read the config: wait for it, bounded.
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if i == 200 {
			t.Fatalf("slapd never accepted on %s: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
	return "ldap://" + addr, cmd.Process.Pid
}

func writeFile(t *testing.T, name, text string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// runLine runs the client and returns its exit status, its parsed result line and its stderr.
func runLine(t *testing.T, args ...string) (int, map[string]string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	if out.Len() == 0 {
		return code, nil, errOut.String()
	}
	kv, err := loadkit.ParseLine(strings.TrimSpace(out.String()))
	if err != nil {
		t.Fatalf("run(%q) printed %q: %v", args, out.String(), err)
	}
	return code, kv, errOut.String()
}

func TestAgainstSlapd(t *testing.T) {
	url, pid := startSlapd(t)
	common := []string{"-server", "slapd", "-url", url, "-bind-dn", "cn=admin,dc=contoso,dc=com", "-bind-pw", "secret",
		"-base", "dc=contoso,dc=com", "-profile", "inetorgperson", "-conc", "4", "-users", "50",
		"-server-pid", strconv.Itoa(pid)}

	code, kv, stderr := runLine(t, append([]string{"-mode", "load"}, common...)...)
	if code != 0 || kv["op"] != "load" || kv["ops"] != "50" || kv["errors"] != "0" || kv["exists"] != "0" {
		t.Fatalf("load: exit %d, %v, stderr %q; want 50 added", code, kv, stderr)
	}
	// A second load finds every user there already: counted, not failed.
	code, kv, stderr = runLine(t, append([]string{"-mode", "load"}, common...)...)
	if code != 0 || kv["ops"] != "0" || kv["exists"] != "50" || kv["errors"] != "0" {
		t.Fatalf("reload: exit %d, %v, stderr %q; want 50 already there", code, kv, stderr)
	}

	// Bounded by -max-ops so the count is exact; -duration is only a backstop.
	for _, op := range []string{"base", "eq", "bind"} {
		code, kv, stderr := runLine(t, append([]string{"-op", op, "-max-ops", "300", "-warmup", "0s", "-duration", "1m"}, common...)...)
		if code != 0 || kv["op"] != op || kv["conc"] != "4" || kv["ops"] != "300" || kv["errors"] != "0" {
			t.Errorf("%s: exit %d, %v, stderr %q; want 300 ops, no errors", op, code, kv, stderr)
		}
		// slapd's CPU time over the phase, at 10 ms resolution: present, and not negative.
		if cpu, err := strconv.ParseFloat(kv["server_cpu_secs"], 64); err != nil || cpu < 0 || kv["cpu_us_per_op"] == "" {
			t.Errorf("%s: server_cpu_secs=%q cpu_us_per_op=%q; want both, ≥ 0", op, kv["server_cpu_secs"], kv["cpu_us_per_op"])
		}
	}
}

func TestAgainstSlapdCountsWrongAnswers(t *testing.T) {
	url, _ := startSlapd(t)
	common := []string{"-server", "slapd", "-url", url, "-bind-dn", "cn=admin,dc=contoso,dc=com", "-bind-pw", "secret",
		"-base", "dc=contoso,dc=com", "-profile", "inetorgperson", "-conc", "2", "-warmup", "0s", "-duration", "1m", "-max-ops", "100"}
	if code, kv, stderr := runLine(t, append(common, "-mode", "load", "-users", "10")...); code != 0 || kv["ops"] != "10" {
		t.Fatalf("load: exit %d, %v, stderr %q", code, kv, stderr)
	}
	// Picking among 1000 users when 10 exist: nearly every search finds nothing and every such
	// search must count as an error, with exit status 1.
	for _, op := range []string{"base", "eq", "bind"} {
		code, kv, stderr := runLine(t, append(common, "-op", op, "-users", "1000")...)
		if code != 1 || kv == nil || kv["errors"] == "0" || !strings.Contains(stderr, "operations failed") {
			t.Errorf("%s over missing users: exit %d, %v, stderr %q; want errors and exit 1", op, code, kv, stderr)
		}
	}
	// A wrong user password fails every bind.
	code, kv, _ := runLine(t, append(common, "-op", "bind", "-users", "10", "-user-pw", "wrong")...)
	if code != 1 || kv["ops"] != "0" || kv["errors"] != "100" {
		t.Errorf("bind with a wrong password: exit %d, %v; want 0 ok, 100 errors", code, kv)
	}
	// A wrong admin password stops the run before it starts.
	bad := append(append([]string{}, common...), "-bind-pw", "nope", "-op", "base", "-users", "10")
	if code, kv, stderr := runLine(t, bad...); code != 1 || kv != nil || !strings.Contains(stderr, "bind as") {
		t.Errorf("wrong admin password: exit %d, %v, stderr %q; want exit 1, no result line", code, kv, stderr)
	}
}
