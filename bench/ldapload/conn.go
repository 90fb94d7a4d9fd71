package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// dial opens one connection to c.URL and, when c.BindDN is set, binds it as that account.
func dial(c *Config) (*ldap.Conn, error) {
	conn, err := dialOnly(c)
	if err != nil {
		return nil, err
	}
	if c.BindDN != "" {
		if err := conn.Bind(c.BindDN, c.BindPW); err != nil {
			conn.Close()
			return nil, fmt.Errorf("bind as %q on %s: %w", c.BindDN, c.URL, err)
		}
	}
	return conn, nil
}

// dialOnly opens one connection to c.URL, unbound.
func dialOnly(c *Config) (*ldap.Conn, error) {
	opts := []ldap.DialOpt{ldap.DialWithDialer(&net.Dialer{Timeout: c.Timeout})}
	if strings.HasPrefix(c.URL, "ldaps://") {
		tc, err := tlsConfig(c.CAFile)
		if err != nil {
			return nil, err
		}
		opts = append(opts, ldap.DialWithTLSConfig(tc))
	}
	conn, err := ldap.DialURL(c.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", c.URL, err)
	}
	conn.SetTimeout(c.Timeout)
	return conn, nil
}

// tlsConfig trusts the CAs in caFile (the system pool when it is empty).
func tlsConfig(caFile string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return tc, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read -ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("-ca %s: no PEM certificate in it", caFile)
	}
	tc.RootCAs = pool
	return tc, nil
}

// dialAll opens c.Conc connections; on any failure it closes the ones already open.
func dialAll(c *Config) ([]*ldap.Conn, error) {
	conns := make([]*ldap.Conn, 0, c.Conc)
	for range c.Conc {
		conn, err := dial(c)
		if err != nil {
			closeAll(conns)
			return nil, err
		}
		conns = append(conns, conn)
	}
	return conns, nil
}

func closeAll(conns []*ldap.Conn) {
	for _, conn := range conns {
		conn.Close()
	}
}

// errWrongCount is an operation that worked on the wire but returned the wrong number of entries.
var errWrongCount = errors.New("wrong number of entries")
