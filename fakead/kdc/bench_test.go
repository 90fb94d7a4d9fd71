package kdc_test

import (
	"encoding/binary"
	"io"
	"net"
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

// BenchmarkASReqTCP: the pre-authenticated AS-REQ over a loopback TCP connection to the server,
// through the world's executor (one connection, requests in sequence).
func BenchmarkASReqTCP(b *testing.B) {
	p := newInproc(b)
	srv, err := kdc.NewServer(kdc.ServerConfig{KDC: p.k, Exec: worldExec(p.w)})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.ListenTCP("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	key := *aliceAES(b)
	req := frame(marshalAS(b, asReq(b, "alice", []int32{kdc.EtypeAES256}, &key, p.w.Now())))
	c, err := net.Dial("tcp", srv.TCPAddr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ReportAllocs()
	b.ResetTimer()
	var hdr [4]byte
	buf := make([]byte, 64<<10)
	for i := 0; i < b.N; i++ {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			b.Fatal(err)
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if _, err := io.ReadFull(c, buf[:n]); err != nil || buf[0] != 0x6b {
			b.Fatalf("reply %x: %v", buf[:1], err)
		}
	}
}
