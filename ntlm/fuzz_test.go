package ntlm

import (
	"bytes"
	"crypto/rc4"
	"encoding/binary"
	"errors"
	"testing"
	"time"
)

// Seeds shared by the fuzz targets: the vectors the other tests check.
var (
	seedNegotiates = []string{
		chromiumNegotiate,
		"4e544c4d5353500001000000078208a00000000028000000000000000000000f",                  // python ldap3 2.9.1
		"4e544c4d5353500001000000358288e000000000000000000000000000000000",                  // impacket 0.10.0, signingRequired
		"4e544c4d53535000010000003582886200000000000000000000000000000000",                  // 0xe2888235 (the 4.2.4 flags)
		"4e544c4d5353500001000000b19288e2070007002000000000000000270000" + "434f4e544f534f", // OEM domain supplied: CONTOSO
	}
	seedAuthenticates = []string{specAuthenticateV2, specAuthenticateV1, chromiumAuthenticate}
)

// sentinels are the errors Authenticate may wrap; anything else is a bug.
var sentinels = []error{ErrMalformed, ErrWrongPassword, ErrUnknownUser, ErrNTLMv1Refused, ErrAnonymous,
	ErrMIC, ErrTimeSkew, ErrUnsupported}

func isSentinel(err error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// FuzzParseNegotiate: ParseNegotiate and Challenge never panic and return typed errors; an
// accepted NEGOTIATE_MESSAGE yields a CHALLENGE_MESSAGE whose header, flags and TargetInfo are
// well-formed, which offers nothing the client did not ask for beyond NTLM, TARGET_INFO, VERSION
// and TARGET_TYPE_DOMAIN, and which carries the injected server challenge.
func FuzzParseNegotiate(f *testing.F) {
	for _, s := range seedNegotiates {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		n, err := ParseNegotiate(msg)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseNegotiate: untyped error %v", err)
			}
			return
		}
		srv := specServer(t, 0)
		chal, err := srv.Challenge(msg)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("Challenge: untyped error %v", err)
			}
			return
		}
		if !bytes.Equal(chal[:8], signature) || binary.LittleEndian.Uint32(chal[8:]) != typeChallenge {
			t.Fatalf("challenge header %x", chal[:12])
		}
		flags := Flags(binary.LittleEndian.Uint32(chal[20:]))
		if extra := flags &^ n.Flags &^ (FlagNTLM | FlagTargetInfo | FlagVersion | FlagTargetTypeDomain); extra != 0 {
			t.Fatalf("challenge offers %v the client (%v) did not ask for", extra, n.Flags)
		}
		if !bytes.Equal(chal[24:32], unhex(t, "0123456789abcdef")) {
			t.Fatalf("server challenge %x, want the injected bytes", chal[24:32])
		}
		info, err := readField(chal, 40).bytesOf(chal, challengeHeaderLen, "TargetInfo")
		if err != nil {
			t.Fatal(err)
		}
		pairs, err := ParseAVPairs(info)
		if err != nil || len(pairs) != 6 || pairs[5].ID != AvTimestamp {
			t.Fatalf("TargetInfo %x: %d pairs, %v", info, len(pairs), err)
		}
	})
}

// FuzzAuthenticate feeds arbitrary AUTHENTICATE_MESSAGE bytes to a Server that has issued the
// [MS-NLMP] 4.2.4 challenge: it never panics, every error wraps one of the package's sentinels, and
// a success is either an allowed anonymous logon or the lookup's one account.
func FuzzAuthenticate(f *testing.F) {
	for _, s := range seedAuthenticates {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		srv := NewServer(ServerConfig{NetBIOSDomain: "Domain", Now: func() time.Time { return fileTimeZero },
			Rand: bytes.NewReader(unhex(t, "0123456789abcdef")), MaxClockSkew: time.Hour, AllowAnonymous: true})
		if _, err := srv.Challenge(negotiateWith(0xe2888235)); err != nil {
			t.Fatal(err)
		}
		sess, err := srv.Authenticate(msg, specLookup(t))
		if err != nil {
			if !isSentinel(err) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if !sess.Anonymous && (sess.User != specUser || sess.Domain != specDomain || len(sess.SessionKey()) != 16) {
			t.Fatalf("accepted %q\\%q with a %d-byte key", sess.Domain, sess.User, len(sess.SessionKey()))
		}
		if sess.Anonymous && (sess.Signing() || sess.SessionKey() != nil) {
			t.Fatalf("anonymous session with session security")
		}
	})
}

// clientView is the client's half of a Session: its outbound direction uses the client-to-server
// keys, its inbound the server-to-client ones. For the round-trip property only; the vectors anchor
// both directions to independent implementations.
func clientView(key []byte, flags Flags) *Session {
	s := newSession(key, flags, &Authenticate{})
	s.out.signKey, s.in.signKey = s.in.signKey, s.out.signKey
	s.out.sealKey, s.in.sealKey = s.in.sealKey, s.out.sealKey
	s.out.handle, _ = rc4.NewCipher(s.out.sealKey)
	s.in.handle, _ = rc4.NewCipher(s.in.sealKey)
	return s
}

// FuzzUnseal: for the [MS-NLMP] 4.2.4 keys, sealing and sign-only with and without KEY_EXCH, any
// message survives Wrap/Unwrap in both directions, and the same bytes offered as a wrapped buffer
// are refused with ErrBadSignature unless they verify (never a panic, never another error).
func FuzzUnseal(f *testing.F) {
	f.Add(unhex(f, "01000000 7fb38ec5c55d4976 00000000 54e50165bf1936dc996020c1811b0f06fb5f"), uint8(0))
	f.Add(unhex(f, "50006c00610069006e007400650078007400"), uint8(1))
	f.Add([]byte{}, uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		// seal+kx, sign, sign+kx, seal+kx 128-bit only, seal+kx 56-bit, seal+kx 40-bit
		flags := []Flags{0xe2888235, 0xa2888215, 0xe2888215, 0x62888235, 0xc0888235, 0x40888235}[int(mode)%6]
		key := bytes.Repeat([]byte{0x55}, 16)
		server, client := newSession(key, flags, &Authenticate{}), clientView(key, flags)
		for i := 0; i < 2; i++ {
			up, err := client.Wrap(data)
			if err != nil {
				t.Fatal(err)
			}
			got, err := server.Unwrap(up)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("client to server #%d: %x, %v; want %x", i, got, err, data)
			}
			down, err := server.Wrap(data)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := client.Unwrap(down); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("server to client #%d: %x, %v; want %x", i, got, err, data)
			}
		}
		fresh := newSession(key, flags, &Authenticate{})
		if _, err := fresh.Unwrap(data); err != nil && !errors.Is(err, ErrBadSignature) {
			t.Fatalf("Unwrap(raw): %v", err)
		}
	})
}
