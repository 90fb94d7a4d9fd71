package ntlm_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/ntlm"
)

// Captured exchanges with the two Python clients the interop suite runs, against a Server
// configured as contosoServer (challenge 0102030405060708, clock 2026-03-01T09:30:00Z), recorded
// once with the Debian packages python3-ldap3 2.9.1 and python3-impacket 0.10.0:
//
//   - ldap3: ldap3.utils.ntlm.NtlmClient, the client Connection(authentication=NTLM) uses, for
//     CONTOSO\alice. ldap3 asks for neither signing nor sealing and stamps the NTLMv2 blob with its
//     own wall-clock time (2026-12-03), ignoring MsvAvTimestamp. (On OpenSSL 3 hashlib has no MD4,
//     so ldap3 needs the password as "LMHASH:NTHASH"; the hash form was used here.)
//   - impacket: ntlm.getNTLMSSPType1(signingRequired=True) and getNTLMSSPType3 for
//     CONTOSO\alice, which negotiate KEY_EXCH|SIGN|SEAL; then impacket's ntlm.SEAL sealing an LDAP
//     search request twice client-to-server and a bind response once server-to-client.
const (
	ldap3Negotiate    = `4e544c4d5353500001000000078208a00000000028000000000000000000000f`
	ldap3Authenticate = `4e544c4d53535000030000000000000058000000b200b200580000000e000e000a0100000a000a001801000004000400220100000000000026010000058289a20501280a0000000f00000000000000000000000000000000cfa44e044a9a62a1e4f3335a67a647eb01010000000000008042a02b2383dd01543fdbb45a6c853f0000000002000e0043004f004e0054004f0053004f00010006004400430031000400160063006f006e0074006f0073006f002e0063006f006d0003001e004400430031002e0063006f006e0074006f0073006f002e0063006f006d000500160063006f006e0074006f0073006f002e0063006f006d0007000800001caaf95da9dc01000000000000000043004f004e0054004f0053004f0061006c0069006300650076006d00`

	impacketNegotiate    = `4e544c4d5353500001000000358288e000000000000000000000000000000000`
	impacketAuthenticate = `4e544c4d5353500003000000180018005e000000c600c600760000000e000e00400000000a000a004e0000000600060058000000100010003c010000358288e043004f004e0054004f0053004f0061006c0069006300650057005300310055a15628ff60ffd96025dbbdae650a0a45707a426f4d4f32f38c4e48b71a15c2d6b52d5aad9cb57f0101000000000000001caaf95da9dc0145707a426f4d4f320000000002000e0043004f004e0054004f0053004f00010006004400430031000400160063006f006e0074006f0073006f002e0063006f006d0003001e004400430031002e0063006f006e0074006f0073006f002e0063006f006d000500160063006f006e0074006f0073006f002e0063006f006d0007000800001caaf95da9dc010900100063006900660073002f00440043003100000000000000000056ffab896741032d1cc5a9a751f28581`
	impacketSessionKey   = `32786b6579317a343042337a4e317774`
	impacketClientSeal0  = `01000000842fb0a6bf31752c000000003350cc19e71262ff2ed010227f5a53f951cede416e6fd7eb606e5e417c8c743309ded0cb4c9246`
	impacketClientSeal1  = `010000003019543b6ae2c8a001000000daa82d8ca02f26b9782e2d7ea27852d8d367dea7a57031fa7c7574f8bcf0701dfedbc0e64a5161`
	impacketServerSeal0  = `01000000544db0f2a59d64e900000000c4de8f1e74a9d20dc6e3cd06a747`

	ldapSearchRequest = "3025020102632004000a01000a0100020100020100010100870b6f626a656374436c6173733000"
	ldapBindResponse  = "300c02010265070a010004000400"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func handshake(t *testing.T, srv *ntlm.Server, negotiate, authenticate string, lookup ntlm.LookupFunc) (*ntlm.Session, error) {
	t.Helper()
	if _, err := srv.Challenge(mustHex(t, negotiate)); err != nil {
		t.Fatal(err)
	}
	return srv.Authenticate(mustHex(t, authenticate), lookup)
}

func contosoServerSkew(skew time.Duration) *ntlm.Server {
	return ntlm.NewServer(ntlm.ServerConfig{
		NetBIOSDomain: "CONTOSO", NetBIOSComputer: "DC1", DNSDomain: "contoso.com", DNSComputer: "DC1.contoso.com",
		Now:          func() time.Time { return contosoNow },
		Rand:         bytes.NewReader([]byte{1, 2, 3, 4, 5, 6, 7, 8}),
		MaxClockSkew: skew,
	})
}

func TestLdap3Client(t *testing.T) {
	sess, err := handshake(t, contosoServerSkew(0), ldap3Negotiate, ldap3Authenticate, contosoLookup)
	if err != nil {
		t.Fatal(err)
	}
	if sess.Domain != "CONTOSO" || sess.User != "alice" || sess.Signing() {
		t.Errorf("session %q\\%q signing %v, want CONTOSO\\alice without signing", sess.Domain, sess.User, sess.Signing())
	}
	_, err = handshake(t, contosoServerSkew(0), ldap3Negotiate, ldap3Authenticate,
		func(string, string) ([]byte, error) { return ntlm.NTHash("Secret124!"), nil })
	if !errors.Is(err, ntlm.ErrWrongPassword) {
		t.Errorf("wrong password = %v, want ErrWrongPassword", err)
	}
	// ldap3's timestamp is its own clock's, nine months from the simulated one: a skew check
	// refuses it. This is why MaxClockSkew defaults to off.
	_, err = handshake(t, contosoServerSkew(5*time.Minute), ldap3Negotiate, ldap3Authenticate, contosoLookup)
	if !errors.Is(err, ntlm.ErrTimeSkew) {
		t.Errorf("with a 5-minute skew = %v, want ErrTimeSkew", err)
	}
}

func TestImpacketClientSealing(t *testing.T) {
	sess, err := handshake(t, contosoServerSkew(5*time.Minute), impacketNegotiate, impacketAuthenticate, contosoLookup)
	if err != nil {
		t.Fatal(err)
	}
	if sess.Domain != "CONTOSO" || sess.User != "alice" || sess.Workstation != "WS1" {
		t.Errorf("session %q\\%q from %q", sess.Domain, sess.User, sess.Workstation)
	}
	if sess.Flags != 0xe0888235 || !sess.Sealing() {
		t.Errorf("Flags = %v, want 0xe0888235 with sealing", sess.Flags)
	}
	if got, want := sess.SessionKey(), mustHex(t, impacketSessionKey); !bytes.Equal(got, want) {
		t.Errorf("ExportedSessionKey = %x, want impacket's %x", got, want)
	}
	for i, wrapped := range []string{impacketClientSeal0, impacketClientSeal1} {
		got, err := sess.Unwrap(mustHex(t, wrapped))
		if err != nil {
			t.Fatalf("Unwrap #%d: %v", i, err)
		}
		if want := mustHex(t, ldapSearchRequest); !bytes.Equal(got, want) {
			t.Errorf("Unwrap #%d = %x, want %x", i, got, want)
		}
	}
	got, err := sess.Wrap(mustHex(t, ldapBindResponse))
	if err != nil {
		t.Fatal(err)
	}
	if want := mustHex(t, impacketServerSeal0); !bytes.Equal(got, want) {
		t.Errorf("Wrap = %x, want impacket's %x", got, want)
	}
	// A replayed buffer carries sequence number 0 where 2 is due.
	if _, err := sess.Unwrap(mustHex(t, impacketClientSeal0)); !errors.Is(err, ntlm.ErrBadSignature) {
		t.Errorf("replayed buffer = %v, want ErrBadSignature", err)
	}
	// The inbound direction stays failed.
	if _, err := sess.Unwrap(make([]byte, 40)); !errors.Is(err, ntlm.ErrBadSignature) {
		t.Errorf("after a failure = %v, want ErrBadSignature", err)
	}
}
