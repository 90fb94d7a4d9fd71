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
	srv   *kdc.Server // not listening: its datagram handler is called directly
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
		srv, err := kdc.NewServer(kdc.ServerConfig{KDC: p.k, Exec: worldExec(p.w)})
		if err != nil {
			t.Fatal(err)
		}
		fuzzWorld.srv = srv
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
		// Over UDP exactly the requests that decode are answered, within a datagram: anything
		// else is dropped, so a forged source address gets no amplified reply.
		udp := fuzzWorld.srv.Datagram(req)
		if dec := decodes(req); dec != (udp != nil) {
			t.Fatalf("request decodes: %v, but UDP reply of %d bytes", dec, len(udp))
		}
		if len(udp) > kdc.MaxUDPReply {
			t.Fatalf("UDP reply of %d bytes, past MaxUDPReply", len(udp))
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

// decodes says whether gokrb5 decodes req as an AS-REQ or TGS-REQ within MaxMessageSize.
func decodes(req []byte) bool {
	if len(req) > kdc.MaxMessageSize {
		return false
	}
	var as messages.ASReq
	var tgs messages.TGSReq
	return as.Unmarshal(req) == nil || tgs.Unmarshal(req) == nil
}
