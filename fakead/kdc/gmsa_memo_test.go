package kdc_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
)

// A gMSA's Principal is memoised until its managed password's read view can change
// (GMSAAccount.StableUntil): up to then a lookup returns the memoised Principal, equal to a
// fresh one; from then on, and past the rotation (whose lazy write the lookup performs), it is
// what a fresh lookup computes, with the new kvno.
func TestGMSAMemoFollowsRotation(t *testing.T) {
	p := newInproc(t)
	spn := []string{"http", "ITFarm1.contoso.com"}
	var x *kdc.Directory
	type look struct {
		memo, fresh *kdc.Principal
		usn         uint64
		acct        *fakead.Account
	}
	lookup := func() look {
		t.Helper()
		var l look
		err := p.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
			if x == nil {
				x = kdc.NewDirectory(d)
			}
			var err error
			if l.memo, err = x.Service(now, spn); err != nil {
				return err
			}
			l.usn = d.HighestUSN()
			if l.fresh, err = kdc.NewDirectory(d).Service(now, spn); err != nil {
				return err
			}
			l.acct, _ = d.AccountAt(now, "ITFarm1$")
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(l.memo, l.fresh) {
			t.Fatalf("memoised principal %+v, fresh %+v", l.memo, l.fresh)
		}
		return l
	}
	first := lookup()
	g := first.acct.GMSA
	if g == nil || g.StableUntil.IsZero() || g.StableUntil.After(g.NextRotation) || !g.StableUntil.After(p.w.Now()) {
		t.Fatalf("StableUntil %v, NextRotation %v, now %v", g.StableUntil, g.NextRotation, p.w.Now())
	}
	if err := p.w.AdvanceTo(g.StableUntil.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if l := lookup(); l.usn == first.usn && l.memo != first.memo {
		t.Errorf("a lookup before StableUntil, with no write since, did not return the memoised principal")
	}
	if err := p.w.AdvanceTo(g.StableUntil); err != nil {
		t.Fatal(err)
	}
	lookup()
	if err := p.w.AdvanceTo(g.NextRotation.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if l := lookup(); l.memo.KVNO == first.memo.KVNO || reflect.DeepEqual(l.memo.Keys, first.memo.Keys) {
		t.Errorf("after the rotation: kvno %d (was %d), keys changed %v", l.memo.KVNO, first.memo.KVNO,
			!reflect.DeepEqual(l.memo.Keys, first.memo.Keys))
	}
}
