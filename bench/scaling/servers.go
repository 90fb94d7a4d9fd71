//go:build unix

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The two LDAP servers of the LDAP sweep, started as bench/run.sh starts them (same flags, same
// slapd.conf): gmsasim serve on 127.0.0.1 with ephemeral ports and its own state directory, slapd
// with the mdb backend, dbnosync and an equality index on uid.

const readyLimit = 60 * time.Second // bound on a server becoming ready

// server is one running LDAP server.
type server struct {
	name string
	pid  int
	ldap string   // host:port of plain LDAP
	args []string // ldapload's flags to reach it as its administrator
	// pwArgs are added to args for loading users with a password (gmsasim: LDAPS with its CA).
	pwArgs []string
	stop   func()
}

// startServe starts `gmsasim serve` and waits (bounded) for its ready line.
func startServe(bin, dir string, seed uint64) (*server, error) {
	state := filepath.Join(dir, "gm", "state")
	if err := os.MkdirAll(filepath.Dir(state), 0o700); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--ldap", "127.0.0.1:0", "--ldaps", "127.0.0.1:0", "--kdc", "127.0.0.1:0",
		"--state-dir", state, "--seed", strconv.FormatUint(seed, 10))
	stderr, err := os.Create(filepath.Join(dir, "gm", "stderr.log"))
	if err != nil {
		return nil, err
	}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("gmsasim serve: %w", err)
	}
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		stderr.Close()
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "ready ") {
				ready <- line
				break
			}
		}
		io.Copy(io.Discard, out) // keep draining: serve must never block on a full pipe
	}()
	var line string
	select {
	case line = <-ready:
	case <-time.After(readyLimit):
		stop()
		return nil, fmt.Errorf("gmsasim serve printed no ready line in %v (see %s)", readyLimit, stderr.Name())
	}
	m := regexp.MustCompile(` ldap=(127\.0\.0\.1:\d+) ldaps=(127\.0\.0\.1:\d+)`).FindStringSubmatch(line)
	if m == nil {
		stop()
		return nil, fmt.Errorf("gmsasim serve: no ldap= and ldaps= addresses on its ready line %q", line)
	}
	s := &server{name: "gmsasim", pid: cmd.Process.Pid, ldap: m[1], stop: stop}
	s.args = []string{"-url", "ldap://" + m[1], "-bind-dn", "CN=Administrator,CN=Users,DC=contoso,DC=com",
		"-creds", filepath.Join(state, "credentials.json"), "-creds-key", "Administrator",
		"-base", "DC=contoso,DC=com", "-profile", "ad"}
	// AD takes unicodePwd only over an encrypted connection: users with a password are added over LDAPS.
	s.pwArgs = []string{"-url", "ldaps://" + m[2], "-ca", filepath.Join(state, "ca.pem")}
	return s, nil
}

// Paths of OpenLDAP's binaries (Debian's slapd package; bench/run.sh installs it when missing).
var (
	slapdBin   = "/usr/sbin/slapd"
	slapaddBin = "/usr/sbin/slapadd"
)

// errNoSlapd means slapd is not installed: the LDAP sweep draws gmsasim alone.
var errNoSlapd = errors.New("slapd is not installed (bench/run.sh installs it as root with apt-get)")

// startSlapd writes run.sh's slapd.conf, creates the suffix and ou=people with slapadd, and starts
// slapd on a free loopback port.
func startSlapd(dir string, seed uint64) (*server, error) {
	for _, b := range []string{slapdBin, slapaddBin} {
		if _, err := os.Stat(b); err != nil {
			return nil, errNoSlapd
		}
	}
	d := filepath.Join(dir, "slapd")
	if err := os.MkdirAll(filepath.Join(d, "db"), 0o700); err != nil {
		return nil, err
	}
	const base = "dc=contoso,dc=com"
	rootDN, rootPW := "cn=admin,"+base, fmt.Sprintf("bench-%d-secret", seed)
	pidfile := filepath.Join(d, "slapd.pid")
	conf := fmt.Sprintf(`include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile %s
argsfile %s
loglevel 0
database mdb
maxsize 1073741824
suffix "%s"
rootdn "%s"
rootpw %s
directory %s
# gmsasim keeps its directory in memory: do not make slapd pay an fsync per add either.
dbnosync
index objectClass eq
index uid eq
`, pidfile, filepath.Join(d, "slapd.args"), base, rootDN, rootPW, filepath.Join(d, "db"))
	ldif := fmt.Sprintf("dn: %s\nobjectClass: dcObject\nobjectClass: organization\ndc: contoso\no: contoso\n\n"+
		"dn: ou=people,%s\nobjectClass: organizationalUnit\nou: people\n", base, base)
	cf, lf := filepath.Join(d, "slapd.conf"), filepath.Join(d, "base.ldif")
	if err := os.WriteFile(cf, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(lf, []byte(ldif), 0o600); err != nil {
		return nil, err
	}
	if out, err := exec.Command(slapaddBin, "-q", "-f", cf, "-l", lf).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("slapadd of the suffix: %v: %s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	if out, err := exec.Command(slapdBin, "-f", cf, "-h", "ldap://"+addr+"/").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("slapd did not start: %v: %s", err, out)
	}
	var pid int
	for t := time.Now(); time.Since(t) < readyLimit; time.Sleep(50 * time.Millisecond) { // wallclock: waiting for a process
		if b, err := os.ReadFile(pidfile); err == nil {
			if pid, err = strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
					c.Close()
					break
				}
			}
		}
	}
	if pid == 0 {
		return nil, fmt.Errorf("slapd wrote no pid file %s in %v", pidfile, readyLimit)
	}
	stop := func() {
		// slapd daemonised itself: not our child. Ask it to stop and wait (bounded) for it to go.
		syscall.Kill(pid, syscall.SIGTERM)
		for i := 0; i < 200 && syscall.Kill(pid, 0) == nil; i++ {
			time.Sleep(50 * time.Millisecond)
		}
	}
	s := &server{name: "slapd", pid: pid, ldap: addr, stop: stop}
	s.args = []string{"-url", "ldap://" + addr, "-bind-dn", rootDN, "-bind-pw", rootPW, "-base", base, "-profile", "inetorgperson"}
	return s, nil
}

// freePort is a TCP port on 127.0.0.1 free at the moment of asking.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// rssBytes is a process' resident set size, VmRSS of /proc/PID/status (proc(5)).
func rssBytes(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseVmRSS(string(b))
}

// parseVmRSS reads the "VmRSS:  123456 kB" line of a /proc/PID/status text.
func parseVmRSS(status string) (uint64, error) {
	for _, l := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) != 2 || f[1] != "kB" {
				return 0, fmt.Errorf("/proc status: VmRSS line %q: want N kB", l)
			}
			kb, err := strconv.ParseUint(f[0], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc status: VmRSS %q: %w", f[0], err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("/proc status: no VmRSS line")
}
