package kdc_test

import (
	"sync"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/gmsasim/gmsasim/sim"
	"github.com/jcmturner/gokrb5/v8/messages"
)

var fuzzWorld struct {
	once  sync.Once
	w     *sim.World
	k     *kdc.KDC
	seeds [][]byte
}

// fuzzSetup builds one world and KDC for the fuzz process and captures seed requests from
// gokrb5's encodings: an AS-REQ without and with PA-ENC-TIMESTAMP, and a TGS-REQ.
func fuzzSetup(t testing.TB) {
	fuzzWorld.once.Do(func() {
		p := newInproc(t)
		key := *aliceAES(t)
		now := p.w.Now()
		rep := p.login("alice", key)
		tgs := tgsReq(t, rep, key, "http/ITFarm1.contoso.com")
		fuzzWorld.w, fuzzWorld.k = p.w, p.k
		fuzzWorld.seeds = [][]byte{
			marshalAS(t, asReq(t, "alice", []int32{18, 17, 23}, nil, now)),
			marshalAS(t, asReq(t, "alice", []int32{18}, &key, now)),
			mustMarshalTGS(t, restamp(t, tgs, rep, key, now)),
			mustMarshalTGS(t, tgsReq(t, rep, key, "HOST/web1.contoso.com")),
		}
	})
}

func FuzzHandle(f *testing.F) {
	fuzzSetup(f)
	for _, s := range fuzzWorld.seeds {
		f.Add(s)
	}
	f.Add([]byte{0x6a, 0x00})
	f.Add([]byte{0x6c, 0x80})
	f.Fuzz(func(t *testing.T, req []byte) {
		var o kdc.Outcome
		fuzzWorld.w.ExecOn("DC1", func(now time.Time, _ *fakead.Directory) error {
			o = fuzzWorld.k.Exchange(now, req)
			return nil
		})
		if o.Panic != "" {
			t.Fatalf("handling panicked: %s", o.Panic)
		}
		if o.Reply == nil {
			return
		}
		switch o.Reply[0] {
		case 0x7e:
			var e messages.KRBError
			if err := e.Unmarshal(o.Reply); err != nil || e.ErrorCode != o.Code || o.Code == 0 {
				t.Fatalf("KRB-ERROR does not parse back (%v) or code %d != outcome %d", err, e.ErrorCode, o.Code)
			}
		case 0x6b:
			var r messages.ASRep
			if err := r.Unmarshal(o.Reply); err != nil || o.Code != 0 {
				t.Fatalf("AS-REP does not parse back: %v", err)
			}
		case 0x6d:
			var r messages.TGSRep
			if err := r.Unmarshal(o.Reply); err != nil || o.Code != 0 {
				t.Fatalf("TGS-REP does not parse back: %v", err)
			}
		default:
			t.Fatalf("reply of unknown type %x", o.Reply[0])
		}
	})
}
