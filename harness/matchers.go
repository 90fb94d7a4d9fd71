package harness

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/onsi/gomega/types"

	"github.com/gmsasim/gmsasim/sim"
	"github.com/gmsasim/gmsasim/sim/host"
)

// Matchers for what Go specs assert about a world, each reading it the way a product or a host
// would (package sim's API), none needing fakead or attribute names.

// matcher is a Gomega matcher from a check function: ok, and the message for either outcome.
type matcher struct {
	check        func(actual any) (ok bool, why string, err error)
	want, negate string
	why          string
}

func (m *matcher) Match(actual any) (bool, error) {
	ok, why, err := m.check(actual)
	m.why = why
	return ok, err
}

func (m *matcher) FailureMessage(any) string { return m.want + ": " + m.why }

func (m *matcher) NegatedFailureMessage(any) string { return m.negate + ": " + m.why }

func world(actual any, name string) (*sim.World, error) {
	w, ok := actual.(*sim.World)
	if !ok || w == nil {
		return nil, fmt.Errorf("%s expects a *sim.World, got %T", name, actual)
	}
	return w, nil
}

// HaveObjectOn succeeds when dc's replica of the actual *sim.World has an account of that name
// (sAMAccountName with or without "$", or DN): a change has replicated there.
func HaveObjectOn(dc, name string) types.GomegaMatcher {
	return &matcher{want: fmt.Sprintf("expected %s on %s", name, dc), negate: fmt.Sprintf("expected %s not on %s", name, dc),
		check: func(actual any) (bool, string, error) {
			w, err := world(actual, "HaveObjectOn")
			if err != nil {
				return false, "", err
			}
			ok, err := w.Exists(dc, name)
			return ok, map[bool]string{true: "it is there", false: "it is not there (yet)"}[ok], err
		}}
}

// HaveStoredKVNO succeeds when dc stores that msDS-KeyVersionNumber for the gMSA (without the read
// of its password that would make the DC rotate a stale one).
func HaveStoredKVNO(dc, gmsa string, kvno int) types.GomegaMatcher {
	return &matcher{want: fmt.Sprintf("expected %s to store kvno %d for %s", dc, kvno, gmsa), negate: fmt.Sprintf("expected %s not to store kvno %d for %s", dc, kvno, gmsa),
		check: func(actual any) (bool, string, error) {
			w, err := world(actual, "HaveStoredKVNO")
			if err != nil {
				return false, "", err
			}
			got, err := w.StoredKVNO(dc, gmsa)
			return got == kvno, fmt.Sprintf("it stores kvno %d", got), err
		}}
}

// AllowPasswordRead succeeds when principal, reading over an encrypted connection on dc, gets the
// gMSA's msDS-ManagedPassword; it fails (and NotTo succeeds) when the DC returns the account
// without it. Any other error is the matcher's error.
func AllowPasswordRead(dc, principal, gmsa string) types.GomegaMatcher {
	return &matcher{want: fmt.Sprintf("expected %s to read the password of %s on %s", principal, gmsa, dc),
		negate: fmt.Sprintf("expected %s to be refused the password of %s on %s", principal, gmsa, dc),
		check: func(actual any) (bool, string, error) {
			w, err := world(actual, "AllowPasswordRead")
			if err != nil {
				return false, "", err
			}
			p, err := w.ReadManagedPassword(dc, principal, gmsa)
			if errors.Is(err, sim.ErrPasswordNotReturned) {
				return false, "the DC returned the account without msDS-ManagedPassword", nil
			}
			if err != nil {
				return false, "", err
			}
			return true, fmt.Sprintf("it read kvno %d", p.KVNO), nil
		}}
}

// HaveCachedPassword succeeds when the actual *host.Host holds current as the gMSA's current
// password and previous as its previous one (nil previous: no previous password); passwords as
// sim.ManagedPassword's Current and Previous.
func HaveCachedPassword(gmsa string, current, previous []byte) types.GomegaMatcher {
	return &matcher{want: fmt.Sprintf("expected the host to hold these passwords of %s", gmsa), negate: fmt.Sprintf("expected the host not to hold these passwords of %s", gmsa),
		check: func(actual any) (bool, string, error) {
			h, ok := actual.(*host.Host)
			if !ok || h == nil {
				return false, "", fmt.Errorf("HaveCachedPassword expects a *host.Host, got %T", actual)
			}
			cur, prev := h.CachedPassword(gmsa)
			switch {
			case cur == nil:
				return false, "it holds none", nil
			case !bytes.Equal(cur, current):
				return false, "its current password differs", nil
			case !bytes.Equal(prev, previous):
				return false, fmt.Sprintf("its previous password differs (it holds one: %v)", prev != nil), nil
			}
			return true, "it holds them", nil
		}}
}

// DecryptOn succeeds when the actual *host.Ticket decrypts on the host with the keys it holds
// (its cached gMSA passwords, current and previous, and its own), within the ticket's lifetime.
func DecryptOn(h *host.Host) types.GomegaMatcher {
	return &matcher{want: "expected the ticket to decrypt on " + h.Name(), negate: "expected the ticket not to decrypt on " + h.Name(),
		check: func(actual any) (bool, string, error) {
			t, ok := actual.(*host.Ticket)
			if !ok || t == nil {
				return false, "", fmt.Errorf("DecryptOn expects a *host.Ticket, got %T", actual)
			}
			d, err := h.DecryptTicket(t)
			var he *host.Error
			if errors.As(err, &he) {
				return false, err.Error(), nil
			}
			if err != nil {
				return false, "", err
			}
			return true, "it decrypts with " + d.String(), nil
		}}
}
