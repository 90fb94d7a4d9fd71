package sim

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/ldapsrv"
	"github.com/gmsasim/gmsasim/ntlm"
)

// The DC's NTLM acceptor for Sicily and GSS-SPNEGO NTLM binds: the accounts' NT hashes from the
// DC's replica, the world's clock and the world's stream "ldap/<DC>/ntlm" for server challenges.

var _ ldapsrv.NTLMAcceptor = (*backend)(nil)

// NTLMConfig names the DC as its CHALLENGE_MESSAGEs do (CONTOSO, DC1, contoso.com,
// dc1.contoso.com). Now reads the wire's clock (Clock.Wire: the CHALLENGE's timestamp is for
// the client, whose clock is the wall's) and Rand draws from the world's stream, each
// inside the world loop, so both are safe from a connection goroutine. MaxClockSkew stays 0:
// python ldap3 stamps its NTLMv2 response with the wall clock, which the virtual clock is not.
func (b *backend) NTLMConfig() (ntlm.ServerConfig, error) {
	var cfg ntlm.ServerConfig
	err := b.w.ExecOn(b.dc, func(now time.Time, d *fakead.Directory) error {
		name := strings.ToUpper(b.dc)
		cfg.NetBIOSDomain, cfg.DNSDomain = d.NetBIOSName(), d.DNSName()
		cfg.NetBIOSComputer = name
		cfg.DNSComputer = strings.ToLower(name) + "." + d.DNSName()
		if a, ok := d.DCAccount(); ok && a.DNSHostName != "" {
			cfg.DNSComputer = a.DNSHostName
		}
		return nil
	})
	if err != nil {
		return ntlm.ServerConfig{}, asModelError("bind", "", err)
	}
	cfg.Now = func() time.Time {
		t := b.w.Now()
		_ = b.w.ExecOn(b.dc, func(time.Time, *fakead.Directory) error { t = b.w.clock.Wire(); return nil })
		return t
	}
	cfg.Rand = &loopReader{b: b, stream: "ldap/" + strings.ToUpper(b.dc) + "/ntlm"}
	return cfg, nil
}

// loopReader draws from a named stream of the world inside the world loop (a stream is not safe
// for concurrent use).
type loopReader struct {
	b      *backend
	stream string
}

func (l *loopReader) Read(p []byte) (int, error) {
	rnd := l.b.w.Rand(l.stream)
	var n int
	err := l.b.w.ExecOn(l.b.dc, func(time.Time, *fakead.Directory) error {
		var err error
		n, err = io.ReadFull(rnd, p)
		return err
	})
	return n, err
}

// NTLMAccount finds the account an AUTHENTICATE_MESSAGE names, as the DC's MSV1_0 does: the
// domain empty (go-ldap's NTLMBind sends none), the NetBIOS or the DNS name, in any case; the user
// a sAMAccountName or a UPN. Another domain is an unknown user (this DC trusts none). The caller
// carries the account's groups as the replica has them now.
func (b *backend) NTLMAccount(domain, user string) ([]byte, fakead.Caller, error) {
	var hash []byte
	var c fakead.Caller
	var result error
	err := b.w.ExecOn(b.dc, func(now time.Time, d *fakead.Directory) error {
		unknown := func() error {
			return fmt.Errorf("no account %s\\%s on %s: %w", domain, user, b.dc, ntlm.ErrUnknownUser)
		}
		if domain != "" && !strings.EqualFold(domain, d.NetBIOSName()) && !strings.EqualFold(domain, d.DNSName()) {
			result = unknown()
			return nil
		}
		if user == "" || strings.ContainsAny(user, `=/\`) { // not a DN, an SPN or a second domain
			result = unknown()
			return nil
		}
		name := user
		if !strings.Contains(user, "@") {
			name = d.NetBIOSName() + `\` + user
		}
		a, ok := d.AccountAt(now, name)
		if !ok || !slices.Contains(a.Classes, "user") || !a.HasPassword || len(a.Keys.NTHash) != 16 {
			result = unknown()
			return nil
		}
		var err error
		if c, err = d.CallerFor(a.DN, false); err != nil {
			return err
		}
		hash = a.Keys.NTHash
		if a.UserAccountControl&fakead.UACAccountDisable != 0 {
			result = fmt.Errorf("%s is disabled: %w", a.DN, ldapsrv.ErrAccountDisabled)
		}
		return nil
	})
	if err != nil {
		return nil, fakead.Caller{}, asModelError("bind", user, err)
	}
	return hash, c, result
}
