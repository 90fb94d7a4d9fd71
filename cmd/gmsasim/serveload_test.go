package main

import (
	"net"
	"regexp"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
)

// TestServeStopsUnderLoad is issue 9's "SIGTERM stops the server within a few seconds under any
// load": a client pipelines 200,000 searches on LDAP without reading a single answer, 300 idle
// TCP connections sit on the KDC and 100 unfinished TLS handshakes on LDAPS; SIGTERM must still
// end serve, exit 0, within 5 seconds (a failure bound, not a speed claim).
func TestServeStopsUnderLoad(t *testing.T) {
	r := startServe(t, "--state-dir", t.TempDir()+"/state", "--seed", "3")
	if r.Ready == "" {
		t.Fatalf("serve exited %d: %s", r.Code, r.Stderr.String())
	}
	m := regexp.MustCompile(`ldap=(\S+) ldaps=(\S+) kdc=(\S+)`).FindStringSubmatch(r.Ready)
	if m == nil {
		t.Fatalf("ready line %q", r.Ready)
	}
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	dial := func(addr string) net.Conn {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("dial %s: %v", addr, err)
		}
		conns = append(conns, c)
		return c
	}
	for range 300 {
		dial(m[3])
	}
	for range 100 {
		dial(m[2])
	}
	flood := dial(m[1])
	var batch []byte
	for i := 1; i <= 1000; i++ {
		batch = append(batch, rootDSESearch(int64(i))...)
	}
	written := make(chan int, 1)
	go func() {
		n := 0
		flood.SetWriteDeadline(time.Now().Add(20 * time.Second))
		for n < 200_000 {
			if _, err := flood.Write(batch); err != nil {
				break
			}
			n += 1000
		}
		written <- n
	}()
	time.Sleep(200 * time.Millisecond) // let the flood fill the server's buffers
	start := time.Now()
	stopped := make(chan int, 1)
	go func() { stopped <- r.Stop() }()
	select {
	case code := <-stopped:
		if code != 0 {
			t.Errorf("serve exited %d after SIGTERM: %s", code, r.Stderr.String())
		}
		t.Logf("serve stopped %v after SIGTERM under load", time.Since(start).Round(time.Millisecond))
	case <-time.After(5 * time.Second):
		t.Fatal("serve still running 5 s after SIGTERM under load")
	}
	flood.Close()
	t.Logf("the flooding client wrote %d requests before the server went away", <-written)
}

// rootDSESearch encodes a base search of the rootDSE with message ID id.
func rootDSESearch(id int64) []byte {
	msg := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	msg.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, ""))
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, 3, nil, "")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, 0, ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, 0, ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 0, ""))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 0, ""))
	op.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, false, ""))
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 7, "objectClass", ""))
	op.AppendChild(ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, ""))
	msg.AppendChild(op)
	return msg.Bytes()
}
