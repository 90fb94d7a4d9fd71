package ntlm

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// Chromium's net/ntlm/ntlm_test_data.h extends [MS-NLMP] 4.2.4 with a MIC: a NEGOTIATE_MESSAGE
// (kExpectedNegotiateMsg, flags 0x00088207), the spec's 4.2.4.3 CHALLENGE_MESSAGE
// (kChallengeMsgFromSpecV2) and an AUTHENTICATE_MESSAGE (kExpectedAuthenticateMsgSpecResponseV2)
// whose TargetInfo adds MsvAvFlags=2 (MIC present), channel bindings and an SPN, with client time
// 131400439870000000 (2017-05-23 20:13:07 UTC). Its MIC is f7361633..., its NTProofStr
// 8c0260db... and its session base key 623dbd07... .
const (
	chromiumNegotiate = `4e544c4d53535000010000000782080000000000200000000000000020000000`
	chromiumChallenge = `
	4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef
	00000000000000002400240044000000060070170000000f5300650072007600
	6500720002000c0044006f006d00610069006e0001000c005300650072007600
	6500720000000000`
	chromiumAuthenticate = `
	4e544c4d535350000300000018001800580000008a008a00700000000c000c00
	fa0000000800080006010000100010000e010000000000005800000003820800
	0000000000000000f7361633f0ad9bdf4a7c421bc6b824a30000000000000000
	000000000000000000000000000000008c0260dbef690662af9c42d50782d2ed
	0101000000000000800bc8fd00d4d201aaaaaaaaaaaaaaaa0000000002000c00
	44006f006d00610069006e0001000c0053006500720076006500720006000400
	020000000a0010006586e99d81c2fc984e47172fd4dd03100900160048005400
	540050002f00530065007200760065007200000000000000000044006f006d00
	610069006e00550073006500720043004f004d0050005500540045005200`
)

// chromiumServer is a Server that has "sent" the spec's CHALLENGE_MESSAGE: the MIC covers the
// challenge bytes, which this package would lay out differently.
func chromiumServer(t testing.TB) *Server {
	t.Helper()
	s := NewServer(ServerConfig{
		Now:          func() time.Time { return time.Date(2017, 5, 23, 20, 13, 7, 0, time.UTC) },
		Rand:         bytes.NewReader(nil),
		MaxClockSkew: time.Minute,
	})
	s.state = stateChallenged
	s.negotiate = unhex(t, chromiumNegotiate)
	s.challenge = unhex(t, chromiumChallenge)
	copy(s.serverChallenge[:], unhex(t, "0123456789abcdef"))
	s.flags = 0xe28a8233
	return s
}

func TestChromiumMIC(t *testing.T) {
	sess, err := chromiumServer(t).Authenticate(unhex(t, chromiumAuthenticate), specLookup(t))
	if err != nil {
		t.Fatal(err)
	}
	// No KEY_EXCH: the ExportedSessionKey is the KeyExchangeKey, which for NTLMv2 is the
	// session base key.
	if got, want := sess.SessionKey(), unhex(t, "623dbd071be7a530b6a95c2eb4982470"); !bytes.Equal(got, want) {
		t.Errorf("session key = %x, want %x", got, want)
	}
	if sess.Flags != 0x00088203 || sess.Signing() || sess.Sealing() {
		t.Errorf("Flags = %v, Signing %v, Sealing %v; want 0x00088203 without session security", sess.Flags, sess.Signing(), sess.Sealing())
	}
}

func TestChromiumMICRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(s *Server, auth []byte)
		want   error
	}{
		// One bit of the MIC itself.
		{"MIC bit", func(_ *Server, a []byte) { a[72] ^= 0x80 }, ErrMIC},
		// The Workstation name is outside the NTLMv2 proof: only the MIC protects it.
		{"workstation renamed", func(_ *Server, a []byte) { a[len(a)-2] = 'S' }, ErrMIC},
		// A different CHALLENGE_MESSAGE than the one the MIC was made over (one reserved byte).
		{"challenge differs", func(s *Server, _ []byte) { s.challenge[32] = 1 }, ErrMIC},
		// The client's clock two hours off against a one-minute allowance.
		{"time skew", func(s *Server, _ []byte) {
			s.cfg.Now = func() time.Time { return time.Date(2017, 5, 23, 22, 13, 7, 0, time.UTC) }
		}, ErrTimeSkew},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := chromiumServer(t)
			auth := unhex(t, chromiumAuthenticate)
			tc.mutate(s, auth)
			if _, err := s.Authenticate(auth, specLookup(t)); !errors.Is(err, tc.want) {
				t.Fatalf("Authenticate = %v, want %v", err, tc.want)
			}
		})
	}
}
