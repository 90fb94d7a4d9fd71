package ldapauth

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"net"
	"testing"

	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gmsasim/gmsasim/gss"
)

type chacha struct{ r *rand.ChaCha8 }

func (c chacha) Read(p []byte) (int, error) { return c.r.Read(p) }

func testKey() types.EncryptionKey {
	return types.EncryptionKey{KeyType: etypeID.AES256_CTS_HMAC_SHA1_96, KeyValue: bytes.Repeat([]byte{7}, 32)}
}

// The layer starts while go-ldap's reader is already blocked in Read: the server's first wrapped
// answer still comes out unwrapped, and what the client writes goes out wrapped.
func TestLayerStartsUnderABlockedRead(t *testing.T) {
	cli, srv := net.Pipe()
	defer cli.Close()
	defer srv.Close()
	lc := &layerConn{Conn: cli}
	got := make(chan []byte, 1)
	go func() {
		b := make([]byte, 64)
		n, err := io.ReadAtLeast(lc, b, len("sealed answer"))
		if err != nil {
			t.Errorf("read: %v", err)
		}
		got <- b[:n]
	}()
	key := testKey()
	send := &gss.Context{AcceptorSubkey: key, InitiatorKey: key, Rand: chacha{rand.NewChaCha8([32]byte{1})}}
	recv := &gss.Context{AcceptorSubkey: key, InitiatorKey: key}
	lc.start(send, recv, true, 1<<20)
	acc := &gss.Context{AcceptorSubkey: key, InitiatorKey: key, Acceptor: true, Rand: chacha{rand.NewChaCha8([32]byte{2})}}
	tok, err := acc.Wrap([]byte("sealed answer"), true)
	if err != nil {
		t.Fatal(err)
	}
	// The frame arrives in two pieces, the first read by the blocked plain Read.
	go func() {
		srv.Write(binary.BigEndian.AppendUint32(nil, uint32(len(tok))))
		srv.Write(tok)
	}()
	if b := <-got; string(b) != "sealed answer" {
		t.Fatalf("read %q", b)
	}
	done := make(chan []byte, 1)
	go func() {
		var hdr [4]byte
		io.ReadFull(srv, hdr[:])
		tok := make([]byte, binary.BigEndian.Uint32(hdr[:]))
		io.ReadFull(srv, tok)
		p, sealed, err := acc.Unwrap(tok)
		if err != nil || !sealed {
			t.Errorf("server Unwrap: sealed=%v err=%v", sealed, err)
		}
		done <- p
	}()
	if _, err := lc.Write([]byte("request")); err != nil {
		t.Fatal(err)
	}
	if p := <-done; string(p) != "request" {
		t.Fatalf("server got %q", p)
	}
}
