package sim

import (
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
)

// KDCServer builds a network KDC for dc: a kdc.Server over the same in-process KDC the member
// hosts use, whose every request runs inside the world loop on dc's replica at simulated time, as
// LDAP requests do through Backend. Call Listen/ListenTCP/ListenUDP on it, and Close when done.
// A stopped DC's KDC does not answer. The wire carries the wire's clock (Clock.Wire), the
// directory is read at the world's time: see KDC.ExchangeAt.
func (w *World) KDCServer(dc string) (*kdc.Server, error) {
	d, err := w.lookup(dc)
	if err != nil {
		return nil, err
	}
	var k *kdc.KDC
	if err := w.enter(func() error {
		var err error
		k, err = w.kdcLocked(d)
		return err
	}); err != nil {
		return nil, err
	}
	return kdc.NewServer(kdc.ServerConfig{
		KDC: k,
		Exec: func(fn func(now time.Time) error) error {
			return w.ExecOn(d.name, func(now time.Time, _ *fakead.Directory) error { return fn(now) })
		},
		Wire: func() time.Time { return w.clock.Wire() }, // called inside Exec: the loop is held
		OnExchange: func(now time.Time, o kdc.Outcome) {
			w.Loop().Logf("%s KDC %s", d.name, o)
		},
	})
}

// kdcLocked is the in-process KDC of dc over its replica (stream "kdc/<DC>"). Inside the loop.
func (w *World) kdcLocked(dc *DC) (*kdc.KDC, error) {
	if k := w.kdcs[dc.name]; k != nil {
		return k, nil
	}
	k, err := kdc.ForDirectory(dc.dir, w.streams.Get("kdc/"+dc.name))
	if err != nil {
		return nil, err
	}
	w.kdcs[dc.name] = k
	return k, nil
}
