package ldapsrv

import (
	"crypto/tls"
	"errors"
	"net"
	"time"

	"github.com/gmsasim/gmsasim/fakead"
)

// The socket limits: InitRecvTimeout, MaxConnIdleTime and TLSHandshakeTimeout. They are real
// time (a client's socket does not run on the world's clock), kept with read deadlines on the
// TCP connection that are re-armed on expiry while the connection is still busy, so a timeout
// never cuts a PDU in half: deadlineReader sits under the framing layer's bufio.Reader, and a
// read that times out is simply retried (TCP and TLS reads both survive a deadline).

// errConnIdle closes a connection past MaxConnIdleTime or InitRecvTimeout. Past MaxConnIdleTime
// the client gets a Notice of Disconnection first, as a DC sends one (KB 315071: "the LDAP server
// returns an LDAP disconnection notification"); a connection that never sent a whole request is
// closed without a word.
var errConnIdle = errors.New("ldapsrv: connection idle past its limit")

// deadlineReader reads the transport (TCP, or TLS over it) for the framing layer.
type deadlineReader struct {
	fc        *framedConn
	r         net.Conn
	handshook bool // r is not TLS, or its handshake is done
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	fc := d.fc
	if tc, ok := d.r.(*tls.Conn); ok && !d.handshook && !tc.ConnectionState().HandshakeComplete {
		// LDAPS: the handshake, bounded from the accept on. (After StartTLS it is already done.)
		_ = fc.Conn.SetDeadline(fc.start.Add(fc.lim.TLSHandshakeTimeout))
		if err := tc.Handshake(); err != nil {
			return 0, err
		}
		_ = fc.Conn.SetWriteDeadline(time.Time{})
	}
	d.handshook = true
	for {
		if fc.aborted.Load() {
			return 0, errFraming
		}
		deadline, expired := fc.readDeadline()
		if expired {
			if fc.gotFirst.Load() {
				fc.setNotice(fakead.Unavailable, "the connection was idle for longer than MaxConnIdleTime")
			}
			return 0, errConnIdle
		}
		_ = fc.Conn.SetReadDeadline(deadline)
		var n int
		var err error
		if tc, rc := fc.rawTCP(d.r); rc != nil {
			n, err = readTCP(tc, rc, p)
		} else {
			n, err = d.r.Read(p)
		}
		if n > 0 {
			fc.touch()
		}
		var ne net.Error
		if n > 0 || err == nil || !errors.As(err, &ne) || !ne.Timeout() {
			return n, err
		}
		// A deadline passed: re-evaluate (an abort also lands here, through a past deadline).
	}
}

// readDeadline is when the next read must give up, or expired if the connection is past a
// limit now: InitRecvTimeout from the accept until a first whole request, and MaxConnIdleTime
// from the last traffic while no request is outstanding (while one is, the deadline is only a
// point to look again).
func (fc *framedConn) readDeadline() (deadline time.Time, expired bool) {
	now := time.Now() // wallclock: socket limits
	if !fc.gotFirst.Load() {
		deadline = fc.start.Add(fc.lim.InitRecvTimeout)
		if !now.Before(deadline) {
			return time.Time{}, true
		}
	}
	idle := now.Add(fc.lim.MaxConnIdleTime)
	if fc.st.idle() {
		idle = fc.start.Add(time.Duration(fc.lastActive.Load()) + fc.lim.MaxConnIdleTime)
		if !now.Before(idle) {
			return time.Time{}, true
		}
	}
	if deadline.IsZero() || idle.Before(deadline) {
		deadline = idle
	}
	return deadline, false
}

// touch records traffic (MaxConnIdleTime counts from the last).
func (fc *framedConn) touch() {
	fc.lastActive.Store(int64(time.Since(fc.start))) // wallclock: socket limits
}
