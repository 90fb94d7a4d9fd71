package host

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/gmsasim/gmsasim/fakekds"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/jcmturner/gokrb5/v8/types"
)

// The host's local gMSA cache: what Install-ADServiceAccount and service starts put there, how it
// is refreshed ahead of each rotation, and the harness's invariant over it.

// cachedGMSA is one gMSA in the host's local cache (the LSA secret Install-ADServiceAccount and
// service starts fill in).
type cachedGMSA struct {
	sam, dn       string
	installed     bool
	standalone    bool // an sMSA: the password is the host's own (smsa.go), never refreshed
	current, prev []byte
	cur, prevKeys []types.EncryptionKey
	retrieved     time.Time
	validUntil    time.Time // the cached current password stops being current
	refresh       sim.EventID
	hasRefresh    bool
	failures      int
	lastFailure   error
}

// gmsaKeys derives a gMSA's keys (AES256, AES128, RC4) from a 256-byte managed password, through
// the world's memo (every host of a farm derives the same keys).
func (f *Fleet) gmsaKeys(password []byte, salt string) ([]types.EncryptionKey, error) {
	if password == nil {
		return nil, nil
	}
	k, err := f.w.Keys().Keys(password, salt)
	if err != nil {
		return nil, err
	}
	return []types.EncryptionKey{{KeyType: kdc.EtypeAES256, KeyValue: k.AES256},
		{KeyType: kdc.EtypeAES128, KeyValue: k.AES128}, {KeyType: kdc.EtypeRC4, KeyValue: k.NTHash}}, nil
}

// store puts a read into the cache and schedules the refresh: the host asks again when the
// blob's UnchangedPasswordInterval has passed (5 minutes before the password changes, when the
// DC starts handing out the next one), as the LSA does. Inside the loop.
func (h *Host) store(now time.Time, r *gmsaRead) (*cachedGMSA, error) {
	key := strings.ToLower(r.sam)
	c := h.gmsa[key]
	if c == nil {
		c = &cachedGMSA{sam: r.sam, dn: r.dn}
		h.gmsa[key] = c
	}
	salt := fakekds.MachineSalt(h.f.domain, r.sam)
	cur, err := h.f.gmsaKeys(r.blob.Current, salt)
	if err != nil {
		return nil, err
	}
	prev, err := h.f.gmsaKeys(r.blob.Previous, salt)
	if err != nil {
		return nil, err
	}
	changed := !bytes.Equal(c.current, r.blob.Current)
	c.current, c.prev = r.blob.Current, r.blob.Previous
	c.cur, c.prevKeys = cur, prev
	c.retrieved = now
	unchanged := r.blob.UnchangedInterval.Duration()
	c.validUntil = now.Add(unchanged + 5*time.Minute)
	c.failures, c.lastFailure = 0, nil
	if changed {
		h.w.Loop().Logf("host %s cached %s password (current until %s)", h.name, r.sam, sim.FormatOffset(c.validUntil.Sub(h.w.Start())))
	}
	next := unchanged
	if next < time.Minute {
		next = time.Minute
	}
	h.scheduleRefresh(now.Add(next), c)
	return c, nil
}

func (h *Host) scheduleRefresh(at time.Time, c *cachedGMSA) {
	if c.hasRefresh {
		h.w.Loop().Cancel(c.refresh)
	}
	sam := c.sam
	c.refresh = h.w.Loop().At(at, "host "+h.name+" refresh "+sam, func(now time.Time) error {
		h.refreshEvent(now, sam)
		return nil
	})
	c.hasRefresh = true
}

// refreshEvent re-reads a cached gMSA's password. A failure keeps what is cached and retries
// with a backoff (1 h doubling to 24 h).
// Divergence: the LSA's retry schedule after a failed refresh is not documented.
func (h *Host) refreshEvent(now time.Time, sam string) {
	c := h.gmsa[strings.ToLower(sam)]
	if c == nil {
		return
	}
	c.hasRefresh = false
	r, err := h.retrieve(now, h.w.DC(h.dc), c.dn)
	if err == nil {
		_, err = h.store(now, r)
	}
	if err == nil {
		return
	}
	if c.failures == 0 {
		h.w.Loop().Logf("host %s refresh of %s failed, keeping the cached password: %v", h.name, sam, err)
	}
	c.failures++
	c.lastFailure = err
	backoff := time.Hour << min(c.failures-1, 5)
	if backoff > 24*time.Hour {
		backoff = 24 * time.Hour
	}
	h.scheduleRefresh(now.Add(backoff), c)
}

// CachedPassword returns the current and previous managed passwords the host holds for the gMSA
// (nil when it holds none).
func (h *Host) CachedPassword(identity string) (current, previous []byte) {
	h.w.Locked(func() {
		if c := h.gmsa[strings.ToLower(samOf(identity))]; c != nil {
			current, previous = append([]byte(nil), c.current...), append([]byte(nil), c.prev...)
		}
	})
	return current, previous
}

// CachedAccount is one gMSA in a host's local cache, as a probe sees it.
type CachedAccount struct {
	SAMAccountName string
	Installed      bool      // by Install-ADServiceAccount (a service start caches without installing)
	Retrieved      time.Time // the last successful retrieval
	ValidUntil     time.Time // the cached current password stops being current
	HasPrevious    bool
	Failures       int   // refreshes failed since the last success
	LastFailure    error // why the last refresh failed
}

// Cache lists the gMSAs the host holds, by sAMAccountName.
func (h *Host) Cache() []CachedAccount {
	return sim.LockedValue(h.w, func() []CachedAccount {
		var out []CachedAccount
		for _, k := range slices.Sorted(maps.Keys(h.gmsa)) {
			c := h.gmsa[k]
			out = append(out, CachedAccount{SAMAccountName: c.sam, Installed: c.installed, Retrieved: c.retrieved,
				ValidUntil: c.validUntil, HasPrevious: c.prev != nil, Failures: c.failures, LastFailure: c.lastFailure})
		}
		return out
	})
}

// CheckCaches is the harness's invariant: every password a host holds for a gMSA is the
// account's current or previous one as its DC computes it now — unless the host may no longer
// retrieve it or its DC is unreachable, where a stale cache is what Windows has too. It reports
// every violation at once.
func (f *Fleet) CheckCaches() error {
	w := f.w
	var bad []string
	err := w.Exec(func(now time.Time) error {
		for _, h := range f.order {
			dc := w.DC(h.dc)
			for _, k := range slices.Sorted(maps.Keys(h.gmsa)) {
				c := h.gmsa[k]
				if !dc.Running() || c.failures > 0 {
					continue
				}
				r, err := readGMSA(now, dc.Directory(), fakead.SystemCaller, c.dn)
				if err != nil || r.blob == nil {
					continue // the DC cannot compute it either
				}
				if !bytes.Equal(c.current, r.blob.Current) && !bytes.Equal(c.current, r.blob.Previous) {
					bad = append(bad, fmt.Sprintf("host %s holds a password for %s that is neither its current nor its previous one (cached at %s)",
						h.name, c.sam, sim.FormatOffset(c.retrieved.Sub(w.Start()))))
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(bad) > 0 {
		return w.Fail(errors.New("sim: host caches: " + strings.Join(bad, "; ")))
	}
	return nil
}
