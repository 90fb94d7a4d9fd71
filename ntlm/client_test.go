package ntlm_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/Azure/go-ntlmssp"

	"github.com/gmsasim/gmsasim/ntlm"
)

var contosoNow = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)

func contosoServer(allowAnonymous bool) *ntlm.Server {
	return ntlm.NewServer(ntlm.ServerConfig{
		NetBIOSDomain: "CONTOSO", NetBIOSComputer: "DC1", DNSDomain: "contoso.com", DNSComputer: "DC1.contoso.com",
		Now:            func() time.Time { return contosoNow },
		Rand:           bytes.NewReader([]byte{1, 2, 3, 4, 5, 6, 7, 8}),
		MaxClockSkew:   5 * time.Minute,
		AllowAnonymous: allowAnonymous,
	})
}

// contosoLookup knows alice, in whichever form a client names her domain.
func contosoLookup(domain, user string) ([]byte, error) {
	switch strings.ToLower(domain) {
	case "contoso", "contoso.com", "":
	default:
		return nil, ntlm.ErrUnknownUser
	}
	switch strings.ToLower(user) {
	case "alice", "alice@contoso.com":
		return ntlm.NTHash("Secret123!"), nil
	}
	return nil, ntlm.ErrUnknownUser
}

// TestGoNTLMSSPClient drives the handshake with github.com/Azure/go-ntlmssp, the client behind
// go-ldap's NTLMBind: NewNegotiateMessage, then NewAuthenticateMessage (NTLMv2) on our challenge.
func TestGoNTLMSSPClient(t *testing.T) {
	for _, tc := range []struct {
		name, negDomain, user, password string
		hashed                          bool
		wantDomain, wantUser            string
		wantErr                         error
	}{
		{name: "DOMAIN\\user", user: `CONTOSO\alice`, password: "Secret123!", wantDomain: "CONTOSO", wantUser: "alice"},
		// go-ldap's NTLMBind("CONTOSO", "alice", pw): the domain reaches only the NEGOTIATE_MESSAGE.
		{name: "NTLMBind form", negDomain: "CONTOSO", user: "alice", password: "Secret123!", wantDomain: "", wantUser: "alice"},
		{name: "UPN", user: "alice@contoso.com", password: "Secret123!", wantDomain: "", wantUser: "alice@contoso.com"},
		{name: "NT hash", user: `contoso.com\alice`, password: hex.EncodeToString(ntlm.NTHash("Secret123!")), hashed: true,
			wantDomain: "contoso.com", wantUser: "alice"},
		{name: "wrong password", user: `CONTOSO\alice`, password: "Secret124!", wantErr: ntlm.ErrWrongPassword},
		{name: "unknown user", user: `CONTOSO\bob`, password: "Secret123!", wantErr: ntlm.ErrUnknownUser},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := contosoServer(false)
			neg, err := ntlmssp.NewNegotiateMessage(tc.negDomain, "")
			if err != nil {
				t.Fatal(err)
			}
			chal, err := srv.Challenge(neg)
			if err != nil {
				t.Fatal(err)
			}
			var opts *ntlmssp.AuthenticateMessageOptions
			if tc.hashed {
				opts = &ntlmssp.AuthenticateMessageOptions{PasswordHashed: true}
			}
			auth, err := ntlmssp.NewAuthenticateMessage(chal, tc.user, tc.password, opts)
			if err != nil {
				t.Fatalf("go-ntlmssp refused our challenge: %v", err)
			}
			sess, err := srv.Authenticate(auth, contosoLookup)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Authenticate = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sess.Domain != tc.wantDomain || sess.User != tc.wantUser {
				t.Errorf("session %q\\%q, want %q\\%q", sess.Domain, sess.User, tc.wantDomain, tc.wantUser)
			}
			// go-ntlmssp asks for neither signing nor sealing, and refuses KEY_EXCH.
			if sess.Signing() || sess.Sealing() || sess.Flags.Has(ntlm.FlagKeyExch) {
				t.Errorf("session flags %v: want no session security", sess.Flags)
			}
			if _, err := sess.Wrap([]byte("x")); !errors.Is(err, ntlm.ErrNotNegotiated) {
				t.Errorf("Wrap without session security = %v, want ErrNotNegotiated", err)
			}
		})
	}
}

// TestChallengeLayout checks the CHALLENGE_MESSAGE answering go-ntlmssp's NEGOTIATE_MESSAGE
// (flags TARGET_INFO|56|128|UNICODE|EXTENDED_SESSIONSECURITY|NTLM|ALWAYS_SIGN) against
// [MS-NLMP] 2.2.1.2 and 3.2.5.1.1 byte by byte.
func TestChallengeLayout(t *testing.T) {
	neg, err := ntlmssp.NewNegotiateMessage("", "")
	if err != nil {
		t.Fatal(err)
	}
	chal, err := contosoServer(false).Challenge(neg)
	if err != nil {
		t.Fatal(err)
	}
	le16 := func(s string) string {
		var b []byte
		for _, r := range s {
			b = binary.LittleEndian.AppendUint16(b, uint16(r))
		}
		return hex.EncodeToString(b)
	}
	av := func(id uint16, v string) string {
		b := binary.LittleEndian.AppendUint16(nil, id)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(v)/2))
		return hex.EncodeToString(b) + v
	}
	// 2026-03-01T09:30:00Z as FILETIME: (1772357400 + 11644473600) * 10^7.
	ft := binary.LittleEndian.AppendUint64(nil, (1772357400+11644473600)*10_000_000)
	targetInfo := av(2, le16("CONTOSO")) + av(1, le16("DC1")) + av(4, le16("contoso.com")) +
		av(3, le16("DC1.contoso.com")) + av(5, le16("contoso.com")) + av(7, hex.EncodeToString(ft)) + "00000000"
	want := "4e544c4d53535000" + "02000000" +
		"0000000038000000" + // TargetName: empty (REQUEST_TARGET not asked), offset 56
		"018288a2" + // NTLM|UNICODE|ALWAYS_SIGN|ESS|TARGET_INFO|VERSION|128|56
		"0102030405060708" + "0000000000000000" +
		hex.EncodeToString(binary.LittleEndian.AppendUint16(binary.LittleEndian.AppendUint16(nil, uint16(len(targetInfo)/2)), uint16(len(targetInfo)/2))) + "38000000" +
		"0a0063450000000f" + // Version 10.0.17763, NTLM revision 15
		targetInfo
	if got := hex.EncodeToString(chal); got != want {
		t.Errorf("CHALLENGE_MESSAGE\n got %s\nwant %s", got, want)
	}
}

// TestAnonymous sends the AUTHENTICATE_MESSAGE an anonymous client sends (impacket's shape: empty
// NT response, LM response one zero byte, empty names) with AllowAnonymous off and on.
func TestAnonymous(t *testing.T) {
	anon := []byte("NTLMSSP\x00\x03\x00\x00\x00")
	// LM: 1 byte at 64; NT, domain, user, workstation, session key: empty at 65.
	anon = append(anon, 1, 0, 1, 0, 64, 0, 0, 0)
	for range 5 {
		anon = append(anon, 0, 0, 0, 0, 65, 0, 0, 0)
	}
	anon = append(anon, 0x05, 0x82, 0x88, 0xa0, 0) // UNICODE|REQUEST_TARGET|NTLM|ALWAYS_SIGN|ESS|TARGET_INFO|128, then LM
	negotiate, _ := ntlmssp.NewNegotiateMessage("", "")

	srv := contosoServer(false)
	if _, err := srv.Challenge(negotiate); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Authenticate(anon, contosoLookup); !errors.Is(err, ntlm.ErrAnonymous) {
		t.Errorf("anonymous with AllowAnonymous off = %v, want ErrAnonymous", err)
	}
	srv = contosoServer(true)
	if _, err := srv.Challenge(negotiate); err != nil {
		t.Fatal(err)
	}
	sess, err := srv.Authenticate(anon, func(string, string) ([]byte, error) {
		t.Error("lookup called for an anonymous logon")
		return nil, ntlm.ErrUnknownUser
	})
	if err != nil {
		t.Fatal(err)
	}
	if !sess.Anonymous || sess.User != "" || sess.Signing() || sess.SessionKey() != nil {
		t.Errorf("anonymous session: Anonymous %v User %q Signing %v key %x", sess.Anonymous, sess.User, sess.Signing(), sess.SessionKey())
	}
}

func TestOutOfOrder(t *testing.T) {
	srv := contosoServer(false)
	if _, err := srv.Authenticate([]byte("NTLMSSP\x00"), contosoLookup); !errors.Is(err, ntlm.ErrState) {
		t.Errorf("Authenticate before Challenge = %v, want ErrState", err)
	}
	neg, _ := ntlmssp.NewNegotiateMessage("", "")
	if _, err := srv.Challenge(neg); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Challenge(neg); !errors.Is(err, ntlm.ErrState) {
		t.Errorf("second Challenge = %v, want ErrState", err)
	}
	// A failed attempt uses up the challenge: a second AUTHENTICATE_MESSAGE is not looked at.
	srv = contosoServer(false)
	chal, _ := srv.Challenge(neg)
	if _, err := srv.Authenticate([]byte("garbage"), contosoLookup); !errors.Is(err, ntlm.ErrMalformed) {
		t.Errorf("garbage = %v, want ErrMalformed", err)
	}
	auth, _ := ntlmssp.NewAuthenticateMessage(chal, `CONTOSO\alice`, "Secret123!", nil)
	if _, err := srv.Authenticate(auth, contosoLookup); !errors.Is(err, ntlm.ErrState) {
		t.Errorf("retry after a failure = %v, want ErrState", err)
	}
}

// TestSignSealWithoutESSRefused: NTLMv1-style session security is not implemented; the
// CHALLENGE is refused rather than offering what cannot be delivered.
func TestSignSealWithoutESSRefused(t *testing.T) {
	neg := []byte("NTLMSSP\x00\x01\x00\x00\x00\x35\x82\x00\x00") // UNICODE|REQUEST_TARGET|SIGN|SEAL|NTLM|ALWAYS_SIGN, 16-byte form
	if _, err := contosoServer(false).Challenge(neg); !errors.Is(err, ntlm.ErrUnsupported) {
		t.Errorf("Challenge = %v, want ErrUnsupported", err)
	}
}
