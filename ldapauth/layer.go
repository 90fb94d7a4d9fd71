package ldapauth

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/gmsasim/gmsasim/gss"
)

// maxFrame bounds one incoming SASL buffer when the server announced no smaller size.
const maxFrame = 16 << 20

// layerConn is the net.Conn go-ldap sees. Until the bind has negotiated a layer it passes bytes
// through; then each Write becomes one SASL buffer (4-octet big-endian length, wrap token) and
// Read returns the unwrapped payloads of the buffers received. go-ldap's reader goroutine may be
// blocked in Read when the layer starts: whatever that read returns is kept and parsed as
// framed data.
type layerConn struct {
	net.Conn

	mu      sync.Mutex
	recv    *gss.Context // nil while no layer
	rbuf    []byte       // unwrapped payload not yet returned
	pending []byte       // raw bytes read before the layer started

	wmu  sync.Mutex
	send *gss.Context
	seal bool
	max  int // largest wrap token the server takes
}

// start turns the layer on: send and recv are the two directions' contexts (one goroutine
// each), seal says whether outgoing tokens are sealed, maxSend the server's buffer size.
func (c *layerConn) start(send, recv *gss.Context, seal bool, maxSend int) {
	c.wmu.Lock()
	c.send, c.seal, c.max = send, seal, maxSend
	c.wmu.Unlock()
	c.mu.Lock()
	c.recv = recv
	c.mu.Unlock()
}

func (c *layerConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.send == nil {
		return c.Conn.Write(p)
	}
	tok, err := c.send.Wrap(p, c.seal)
	if err != nil {
		return 0, err
	}
	if c.max > 0 && len(tok) > c.max {
		return 0, fmt.Errorf("ldapauth: a %d-byte message exceeds the server's SASL buffer size %d", len(tok), c.max)
	}
	frame := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(tok)), uint32(len(tok)))
	if _, err := c.Conn.Write(append(frame, tok...)); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *layerConn) Read(p []byte) (int, error) {
	for {
		c.mu.Lock()
		if len(c.rbuf) > 0 {
			n := copy(p, c.rbuf)
			c.rbuf = c.rbuf[n:]
			c.mu.Unlock()
			return n, nil
		}
		on := c.recv != nil
		c.mu.Unlock()
		if !on {
			n, err := c.Conn.Read(p)
			c.mu.Lock()
			if c.recv == nil {
				c.mu.Unlock()
				return n, err
			}
			// The layer started while this read waited: these bytes are framed.
			c.pending = append(c.pending, p[:n]...)
			c.mu.Unlock()
			if err != nil && n == 0 {
				return 0, err
			}
			continue
		}
		payload, err := c.readBuffer()
		if err != nil {
			return 0, err
		}
		c.mu.Lock()
		c.rbuf = payload
		c.mu.Unlock()
	}
}

// readBuffer reads and unwraps one SASL buffer. Only the reading goroutine calls it.
func (c *layerConn) readBuffer() ([]byte, error) {
	src := io.MultiReader(&pendingReader{c}, c.Conn)
	var hdr [4]byte
	if _, err := io.ReadFull(src, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > maxFrame {
		return nil, fmt.Errorf("ldapauth: SASL buffer of %d bytes exceeds %d", n, maxFrame)
	}
	tok := make([]byte, n)
	if _, err := io.ReadFull(src, tok); err != nil {
		return nil, err
	}
	payload, _, err := c.recv.Unwrap(tok)
	return payload, err
}

// pendingReader drains layerConn.pending.
type pendingReader struct{ c *layerConn }

func (r *pendingReader) Read(p []byte) (int, error) {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	if len(r.c.pending) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.c.pending)
	r.c.pending = r.c.pending[n:]
	return n, nil
}
