package ntlm

import (
	"bytes"
	"errors"
	"sync"
	"testing"
)

// TestDirectionsConcurrently: a connection's reader unwraps while its writer wraps; the two
// directions share no state (run under -race).
func TestDirectionsConcurrently(t *testing.T) {
	key := bytes.Repeat([]byte{0x55}, 16)
	server, client := newSession(key, 0xe2888235, &Authenticate{}), clientView(key, 0xe2888235)
	const n = 200
	up, down := make([][]byte, n), make([][]byte, n)
	for i := range n {
		var err error
		if up[i], err = client.Wrap([]byte{byte(i), 'u', 'p'}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := range n {
			got, err := server.Unwrap(up[i])
			if err != nil || !bytes.Equal(got, []byte{byte(i), 'u', 'p'}) {
				t.Errorf("Unwrap #%d: %x %v", i, got, err)
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := range n {
			var err error
			if down[i], err = server.Wrap([]byte{byte(i), 'd', 'n'}); err != nil {
				t.Errorf("Wrap #%d: %v", i, err)
				return
			}
		}
	}()
	wg.Wait()
	for i := range n {
		if got, err := client.Unwrap(down[i]); err != nil || !bytes.Equal(got, []byte{byte(i), 'd', 'n'}) {
			t.Fatalf("client Unwrap #%d: %x %v", i, got, err)
		}
	}
}

func TestNotNegotiated(t *testing.T) {
	key := bytes.Repeat([]byte{0x55}, 16)
	signOnly := newSession(key, 0xa2888215, &Authenticate{})
	if _, _, err := signOnly.Seal([]byte("x")); !errors.Is(err, ErrNotNegotiated) {
		t.Errorf("Seal on a sign-only session = %v, want ErrNotNegotiated", err)
	}
	if _, err := signOnly.Unseal([]byte("x"), make([]byte, 16)); !errors.Is(err, ErrNotNegotiated) {
		t.Errorf("Unseal on a sign-only session = %v, want ErrNotNegotiated", err)
	}
	// Sign-only: Wrap is signature || message in the clear.
	w, err := signOnly.Wrap([]byte("hello"))
	if err != nil || !bytes.Equal(w[SignatureSize:], []byte("hello")) || len(w) != SignatureSize+5 {
		t.Errorf("sign-only Wrap = %x, %v", w, err)
	}
	none := newSession(key, 0x00088205, &Authenticate{})
	if _, err := none.Sign([]byte("x")); !errors.Is(err, ErrNotNegotiated) {
		t.Errorf("Sign without SIGN = %v, want ErrNotNegotiated", err)
	}
	if err := none.Verify([]byte("x"), make([]byte, 16)); !errors.Is(err, ErrNotNegotiated) {
		t.Errorf("Verify without SIGN = %v, want ErrNotNegotiated", err)
	}
	if _, err := none.Unwrap(make([]byte, 3)); !errors.Is(err, ErrNotNegotiated) {
		t.Errorf("Unwrap without SIGN = %v, want ErrNotNegotiated", err)
	}
}

// TestResetRC4: after the mechListMIC (sequence 0) and a reset, the next sealed message is
// encrypted with the RC4 stream from its start, as a fresh session's first message is, while its
// signature carries sequence number 1.
func TestResetRC4(t *testing.T) {
	key := bytes.Repeat([]byte{0x55}, 16)
	msg := []byte("first LDAP message after the bind")
	fresh := newSession(key, 0xe2888235, &Authenticate{})
	freshSealed, _, err := fresh.Seal(msg)
	if err != nil {
		t.Fatal(err)
	}
	s := newSession(key, 0xe2888235, &Authenticate{})
	if _, err := s.Sign([]byte("mechTypes DER")); err != nil {
		t.Fatal(err)
	}
	s.ResetOutboundRC4()
	sealed, sig, err := s.Seal(msg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sealed, freshSealed) {
		t.Errorf("sealed after reset %x, want the stream's start %x", sealed, freshSealed)
	}
	if seq := sig[12:]; !bytes.Equal(seq, []byte{1, 0, 0, 0}) {
		t.Errorf("sequence number %x, want 1", seq)
	}

	// The inbound side mirrors it.
	c := clientView(key, 0xe2888235)
	mic, _ := c.Sign([]byte("mechTypes DER"))
	if err := s.Verify([]byte("mechTypes DER"), mic); err != nil {
		t.Fatal(err)
	}
	c.ResetOutboundRC4()
	s.ResetInboundRC4()
	up, _ := c.Wrap(msg)
	if got, err := s.Unwrap(up); err != nil || !bytes.Equal(got, msg) {
		t.Errorf("Unwrap after both resets: %q, %v", got, err)
	}
}
