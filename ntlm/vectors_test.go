package ntlm

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

// unhex decodes hex with whitespace allowed, for vectors copied in blocks.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex in test vector: %v", err)
	}
	return b
}

// The [MS-NLMP] 4.2 inputs: user "User", domain "Domain", password "Password", server challenge
// 0123456789abcdef, client challenge aaaaaaaaaaaaaaaa, time 0.
const (
	specUser     = "User"
	specDomain   = "Domain"
	specPassword = "Password"
)

// specAuthenticateV2 is the AUTHENTICATE_MESSAGE of [MS-NLMP] 4.2.4.3 (NTLMv2, flags 0xe2888235:
// KEY_EXCH, 56, 128, VERSION, TARGET_INFO, EXTENDED_SESSIONSECURITY, ALWAYS_SIGN, NTLM, SEAL, SIGN,
// REQUEST_TARGET, UNICODE; EncryptedRandomSessionKey c5dad254...; no MIC). Bytes as the spec
// prints them (also in ThomsonReutersEikon/go-ntlm's ntlmv2_test.go).
const specAuthenticateV2 = `
	4e544c4d535350000300000018001800 6c00000054005400840000000c000c00
	48000000080008005400000010001000 5c00000010001000d8000000358288e2
	0501280a0000000f44006f006d006100 69006e00550073006500720043004f00
	4d005000550054004500520086c35097 ac9cec102554764a57cccc19aaaaaaaa
	aaaaaaaa68cd0ab851e51c96aabc927b ebef6a1c010100000000000000000000
	00000000aaaaaaaaaaaaaaaa00000000 02000c0044006f006d00610069006e00
	01000c00530065007200760065007200 0000000000000000c5dad2544fc97990
	94ce1ce90bc9d03e`

// negotiateWith builds a 32-byte NEGOTIATE_MESSAGE with the given flags and empty fields.
func negotiateWith(flags Flags) []byte {
	b := append([]byte("NTLMSSP\x00"), 1, 0, 0, 0)
	b = append(b, byte(flags), byte(flags>>8), byte(flags>>16), byte(flags>>24))
	b = append(b, 0, 0, 0, 0, 32, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0, 0)
	return b
}

var fileTimeZero = time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC)

func specServer(t testing.TB, skew time.Duration) *Server {
	t.Helper()
	return NewServer(ServerConfig{
		NetBIOSDomain: "Domain", NetBIOSComputer: "Server", DNSDomain: "domain.test", DNSComputer: "server.domain.test",
		Now:          func() time.Time { return fileTimeZero },
		Rand:         bytes.NewReader(unhex(t, "0123456789abcdef")),
		MaxClockSkew: skew,
	})
}

func specLookup(t testing.TB) LookupFunc {
	return func(domain, user string) ([]byte, error) {
		if domain == specDomain && user == specUser {
			return NTHash(specPassword), nil
		}
		return nil, ErrUnknownUser
	}
}

func TestNTHashVector(t *testing.T) {
	// [MS-NLMP] 4.2.2.1.2 NTOWFv1("Password").
	if got, want := NTHash(specPassword), unhex(t, "a4f49c406510bdcab6824ee7c30fd852"); !bytes.Equal(got, want) {
		t.Errorf("NTHash = %x, want %x", got, want)
	}
	// [MS-NLMP] 4.2.4.1.1 NTOWFv2.
	if got, want := NTOWFv2(NTHash(specPassword), specUser, specDomain), unhex(t, "0c868a403bfd7a93a3001ef22ef02e3f"); !bytes.Equal(got, want) {
		t.Errorf("NTOWFv2 = %x, want %x", got, want)
	}
}

// TestSpecNTLMv2 runs [MS-NLMP] 4.2.4 through the public API: the server's challenge comes from the
// injected reader, the spec's AUTHENTICATE_MESSAGE answers it, and every key the section prints is
// checked, then the 4.2.4.4 sealed message is unsealed.
func TestSpecNTLMv2(t *testing.T) {
	srv := specServer(t, time.Minute) // the spec's blob time is 0, the clock says 1601-01-01
	if _, err := srv.Challenge(negotiateWith(0xe2888235)); err != nil {
		t.Fatal(err)
	}
	sess, err := srv.Authenticate(unhex(t, specAuthenticateV2), specLookup(t))
	if err != nil {
		t.Fatal(err)
	}
	if sess.User != specUser || sess.Domain != specDomain || sess.Workstation != "COMPUTER" || sess.Anonymous {
		t.Errorf("session names %q %q %q anonymous=%v", sess.User, sess.Domain, sess.Workstation, sess.Anonymous)
	}
	if sess.Flags != 0xe2888235 {
		t.Errorf("Flags = %v (%#x), want 0xe2888235", sess.Flags, uint32(sess.Flags))
	}
	if !sess.Signing() || !sess.Sealing() {
		t.Errorf("Signing() = %v, Sealing() = %v, want both", sess.Signing(), sess.Sealing())
	}
	// 4.2.4.2.3 / 4.2.4.3: the RandomSessionKey 55 x16 that EncryptedRandomSessionKey carries.
	if got, want := sess.SessionKey(), bytes.Repeat([]byte{0x55}, 16); !bytes.Equal(got, want) {
		t.Errorf("ExportedSessionKey = %x, want %x", got, want)
	}
	// 4.2.4.4: client-to-server signing and sealing keys.
	if got, want := sess.in.signKey, unhex(t, "4788dc861b4782f35d43fd98fe1a2d39"); !bytes.Equal(got, want) {
		t.Errorf("client signing key = %x, want %x", got, want)
	}
	if got, want := sess.in.sealKey, unhex(t, "59f600973cc4960a25480a7c196e4c58"); !bytes.Equal(got, want) {
		t.Errorf("client sealing key = %x, want %x", got, want)
	}
	// 4.2.4.4 GSS_WrapEx: "Plaintext" sealed by the client with sequence number 0.
	plain := unhex(t, "50006c00610069006e007400650078007400")
	got, err := sess.Unseal(unhex(t, "54e50165bf1936dc996020c1811b0f06fb5f"), unhex(t, "01000000 7fb38ec5c55d4976 00000000"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, plain) {
		t.Errorf("Unseal = %x, want %x", got, plain)
	}
	// The spec prints no server-to-client example. These were computed with impacket 0.10.0's
	// ntlm.SIGNKEY/SEALKEY/SEAL (Debian python3-impacket), an independent implementation, for
	// the same key and flags; python ntlm-auth's tests carry the same sealed bytes and signature.
	if got, want := sess.out.signKey, unhex(t, "d04d6f10741041d1d246d64188d7a8ad"); !bytes.Equal(got, want) {
		t.Errorf("server signing key = %x, want %x", got, want)
	}
	if got, want := sess.out.sealKey, unhex(t, "9355f3a957c1583d25c4c2f11e40390e"); !bytes.Equal(got, want) {
		t.Errorf("server sealing key = %x, want %x", got, want)
	}
	wrapped, err := sess.Wrap(plain)
	if err != nil {
		t.Fatal(err)
	}
	if want := unhex(t, "01000000b298b847ce7c580700000000 160871b730ba74e946c453d7465b54278dd0"); !bytes.Equal(wrapped, want) {
		t.Errorf("Wrap = %x, want %x (signature || sealed)", wrapped, want)
	}
	// impacket again: the client's second sealed message continues the RC4 stream, sequence 1.
	got, err = sess.Unwrap(unhex(t, "01000000255405955d31d8c401000000 64c308e09ea236e7f4232553c94a01e700fa"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, plain) {
		t.Errorf("second Unwrap = %x, want %x", got, plain)
	}
}

func TestSpecNTLMv2Refusals(t *testing.T) {
	auth := unhex(t, specAuthenticateV2)
	for _, tc := range []struct {
		name   string
		skew   time.Duration
		now    time.Time
		lookup LookupFunc
		mutate func([]byte)
		want   error
	}{
		{name: "wrong password", lookup: func(string, string) ([]byte, error) { return NTHash("Passw0rd"), nil }, want: ErrWrongPassword},
		{name: "unknown user", lookup: func(string, string) ([]byte, error) { return nil, ErrUnknownUser }, want: ErrUnknownUser},
		{name: "flipped proof bit", mutate: func(b []byte) { b[0x84] ^= 1 }, want: ErrWrongPassword},
		{name: "flipped blob byte", mutate: func(b []byte) { b[0x84+20] ^= 1 }, want: ErrWrongPassword},
		{name: "time skew", skew: time.Hour, now: fileTimeZero.Add(2 * time.Hour), want: ErrTimeSkew},
		{name: "NT response past the end", mutate: func(b []byte) { b[20] = 0xff }, want: ErrMalformed},
		{name: "RespType 2", mutate: func(b []byte) { b[0x84+16] = 2 }, want: ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := fileTimeZero
			if !tc.now.IsZero() {
				now = tc.now
			}
			srv := NewServer(ServerConfig{NetBIOSDomain: "Domain", Now: func() time.Time { return now },
				Rand: bytes.NewReader(unhex(t, "0123456789abcdef")), MaxClockSkew: tc.skew})
			if _, err := srv.Challenge(negotiateWith(0xe2888235)); err != nil {
				t.Fatal(err)
			}
			msg := bytes.Clone(auth)
			if tc.mutate != nil {
				tc.mutate(msg)
			}
			lookup := tc.lookup
			if lookup == nil {
				lookup = specLookup(t)
			}
			sess, err := srv.Authenticate(msg, lookup)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Authenticate = %v, %v; want %v", sess, err, tc.want)
			}
		})
	}
}

// The [MS-NLMP] 4.2.2.3 NTLMv1 AUTHENTICATE_MESSAGE as Chromium's net/ntlm/ntlm_test_data.h
// (kExpectedAuthenticateMsgSpecResponseV1) reproduces it: 24-byte LM and NT responses.
const specAuthenticateV1 = `
	4e544c4d53535000 03000000
	1800 1800 40000000  1800 1800 58000000  0c00 0c00 70000000
	0800 0800 7c000000  1000 1000 84000000  0000 0000 40000000
	03820800
	aaaaaaaaaaaaaaaa 00000000000000000000000000000000
	7537f803ae367128ca458204bde7caf81e97ed2683267232
	44006f006d00610069006e00 5500730065007200 43004f004d0050005500540045005200`

func TestNTLMv1Refused(t *testing.T) {
	srv := specServer(t, 0)
	if _, err := srv.Challenge(negotiateWith(0x00088207)); err != nil {
		t.Fatal(err)
	}
	called := false
	_, err := srv.Authenticate(unhex(t, specAuthenticateV1), func(string, string) ([]byte, error) {
		called = true
		return NTHash(specPassword), nil
	})
	if !errors.Is(err, ErrNTLMv1Refused) {
		t.Fatalf("Authenticate(NTLMv1) = %v, want ErrNTLMv1Refused", err)
	}
	if called {
		t.Error("lookup was called for a refused NTLMv1 response")
	}
}
