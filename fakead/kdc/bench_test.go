package kdc_test

import (
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
)

// benchHandle runs Handle on req b.N times inside the world loop (one Exec per request, as the
// server does) and checks the reply once.
func benchHandle(b *testing.B, p *inproc, req []byte, wantTag byte) {
	b.ReportAllocs()
	b.ResetTimer()
	var reply []byte
	for i := 0; i < b.N; i++ {
		p.w.ExecOn("DC1", func(now time.Time, _ *fakead.Directory) error {
			reply = p.k.Handle(now, req)
			return nil
		})
	}
	b.StopTimer()
	if len(reply) == 0 || reply[0] != wantTag {
		b.Fatalf("reply %x, want tag %x", reply, wantTag)
	}
}

// BenchmarkASReq: a pre-authenticated AS-REQ for alice (AES256) to an AS-REP.
func BenchmarkASReq(b *testing.B) {
	p := newInproc(b)
	key := *aliceAES(b)
	benchHandle(b, p, marshalAS(b, asReq(b, "alice", []int32{kdc.EtypeAES256}, &key, p.w.Now())), 0x6b)
}

// BenchmarkASReqPreauthRequired: the first AS-REQ of every login, answered with
// KDC_ERR_PREAUTH_REQUIRED.
func BenchmarkASReqPreauthRequired(b *testing.B) {
	p := newInproc(b)
	benchHandle(b, p, marshalAS(b, asReq(b, "alice", []int32{kdc.EtypeAES256}, nil, time.Time{})), 0x7e)
}

// BenchmarkTGSReq: a TGS-REQ with alice's TGT for the gMSA's SPN to a TGS-REP.
func BenchmarkTGSReq(b *testing.B) {
	p := newInproc(b)
	key := *aliceAES(b)
	rep := p.login("alice", key)
	req := restamp(b, tgsReq(b, rep, key, "http/ITFarm1.contoso.com"), rep, key, p.w.Now())
	benchHandle(b, p, mustMarshalTGS(b, req), 0x6d)
}
