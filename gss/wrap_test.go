package gss

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/gssapi"
	"github.com/jcmturner/gokrb5/v8/iana/etypeID"
	"github.com/jcmturner/gokrb5/v8/iana/keyusage"
	"github.com/jcmturner/gokrb5/v8/types"
)

// seeded is a deterministic confounder source.
type seeded struct{ r *rand.ChaCha8 }

func (s seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

func newSeeded(n byte) seeded { return seeded{rand.NewChaCha8([32]byte{n})} }

func aesKey(t byte) types.EncryptionKey {
	if t == 128 {
		return types.EncryptionKey{KeyType: etypeID.AES128_CTS_HMAC_SHA1_96, KeyValue: bytes.Repeat([]byte{0x11}, 16)}
	}
	return types.EncryptionKey{KeyType: etypeID.AES256_CTS_HMAC_SHA1_96, KeyValue: bytes.Repeat([]byte{0x22}, 32)}
}

// pair is the two sides of a context whose tokens are protected with key: the acceptor's subkey
// when subkey is true (the initiator's key then another one), else the initiator's key.
func pair(key types.EncryptionKey, subkey bool) (initiator, acceptor *Context) {
	ini, acc := Context{InitiatorKey: key, Rand: newSeeded(1), SendSeq: 7, RecvSeq: 9},
		Context{InitiatorKey: key, Acceptor: true, Rand: newSeeded(2), SendSeq: 9, RecvSeq: 7}
	if subkey {
		other := types.EncryptionKey{KeyType: key.KeyType, KeyValue: bytes.Repeat([]byte{0x33}, len(key.KeyValue))}
		ini.AcceptorSubkey, ini.InitiatorKey = key, other
		acc.AcceptorSubkey, acc.InitiatorKey = key, other
	}
	return &ini, &acc
}

// An integrity-only token is the one gokrb5's independent implementation builds and checks.
func TestIntegrityTokenMatchesGokrb5(t *testing.T) {
	for _, bits := range []byte{128, 0} {
		key := aesKey(bits)
		ini, acc := pair(key, false)
		payload := []byte("0\x0c\x02\x01\x02`\x07\x02\x01\x03\x04\x00\x80\x00")
		tok, err := ini.Wrap(payload, false)
		if err != nil {
			t.Fatal(err)
		}
		var wt gssapi.WrapToken
		if err := wt.Unmarshal(tok, false); err != nil {
			t.Fatalf("gokrb5 cannot parse our token: %v", err)
		}
		if ok, err := wt.Verify(key, keyusage.GSSAPI_INITIATOR_SEAL); !ok {
			t.Fatalf("gokrb5 rejects our checksum: %v", err)
		}
		if wt.SndSeqNum != 7 || !bytes.Equal(wt.Payload, payload) {
			t.Fatalf("seq %d payload %x", wt.SndSeqNum, wt.Payload)
		}
		// And the other way: gokrb5's initiator token, checked by our acceptor.
		theirs, err := gssapi.NewInitiatorWrapToken(payload, key)
		if err != nil {
			t.Fatal(err)
		}
		b, err := theirs.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		got, sealed, err := acc.Unwrap(b)
		if err != nil || sealed || !bytes.Equal(got, payload) {
			t.Fatalf("Unwrap(gokrb5 token) = %x, %v, %v", got, sealed, err)
		}
	}
}

func TestSealedRoundTripBothWays(t *testing.T) {
	for _, bits := range []byte{128, 0} {
		for _, subkey := range []bool{false, true} {
			ini, acc := pair(aesKey(bits), subkey)
			for i, msg := range [][]byte{{}, []byte("x"), bytes.Repeat([]byte("search request "), 200)} {
				tok, err := ini.Wrap(msg, true)
				if err != nil {
					t.Fatal(err)
				}
				if bytes.Contains(tok, []byte("search request")) {
					t.Fatal("sealed token carries the plaintext")
				}
				got, sealed, err := acc.Unwrap(tok)
				if err != nil || !sealed || !bytes.Equal(got, msg) {
					t.Fatalf("msg %d: Unwrap = %q, %v, %v", i, got, sealed, err)
				}
				back, err := acc.Wrap(msg, true)
				if err != nil {
					t.Fatal(err)
				}
				got, sealed, err = ini.Unwrap(back)
				if err != nil || !sealed || !bytes.Equal(got, msg) {
					t.Fatalf("msg %d back: Unwrap = %q, %v, %v", i, got, sealed, err)
				}
			}
			if ini.SendSeq != 10 || acc.RecvSeq != 10 || acc.SendSeq != 12 || ini.RecvSeq != 12 {
				t.Fatalf("sequence numbers: ini send %d recv %d, acc send %d recv %d", ini.SendSeq, ini.RecvSeq, acc.SendSeq, acc.RecvSeq)
			}
		}
	}
}

// Windows sends sealed tokens rotated (RRC 28) with filler: both are undone on receipt.
func TestSealedRotatedTokenAccepted(t *testing.T) {
	ini, acc := pair(aesKey(0), true)
	tok, err := ini.Wrap([]byte("rotated"), true)
	if err != nil {
		t.Fatal(err)
	}
	body := tok[HeaderLen:]
	const rrc = 28
	rot := append(append([]byte(nil), body[len(body)-rrc:]...), body[:len(body)-rrc]...)
	binary.BigEndian.PutUint16(tok[6:], rrc)
	tok = append(tok[:HeaderLen], rot...)
	got, sealed, err := acc.Unwrap(tok)
	if err != nil || !sealed || string(got) != "rotated" {
		t.Fatalf("Unwrap(RRC %d) = %q, %v, %v", rrc, got, sealed, err)
	}
}

func TestUnwrapRefuses(t *testing.T) {
	ini, acc := pair(aesKey(0), false)
	tok, _ := ini.Wrap([]byte("payload"), true)
	flip := append([]byte(nil), tok...)
	flip[len(flip)-20] ^= 1
	if _, _, err := acc.Unwrap(flip); !errors.Is(err, ErrIntegrity) {
		t.Errorf("tampered sealed token: %v, want ErrIntegrity", err)
	}
	if _, _, err := ini.Unwrap(tok); !errors.Is(err, ErrDirection) {
		t.Errorf("own token reflected back: %v, want ErrDirection", err)
	}
	plain, _ := ini.Wrap([]byte("payload"), false)
	plain[HeaderLen] ^= 1
	if _, _, err := acc.Unwrap(plain); !errors.Is(err, ErrIntegrity) {
		t.Errorf("tampered integrity token: %v, want ErrIntegrity", err)
	}
	other := &Context{InitiatorKey: aesKey(128), Acceptor: true}
	if _, _, err := other.Unwrap(tok); !errors.Is(err, ErrToken) {
		t.Errorf("token under another key: %v, want ErrToken", err)
	}
	subIni, _ := pair(aesKey(0), true)
	flagged, _ := subIni.Wrap([]byte("payload"), true)
	if _, _, err := acc.Unwrap(flagged); !errors.Is(err, ErrToken) {
		t.Errorf("a token flagged with an acceptor subkey the context never had: %v, want ErrToken", err)
	}
	rc4 := &Context{InitiatorKey: types.EncryptionKey{KeyType: etypeID.RC4_HMAC, KeyValue: make([]byte, 16)}}
	if _, err := rc4.Wrap([]byte("x"), true); !errors.Is(err, ErrEtype) {
		t.Errorf("RC4 session key: %v, want ErrEtype", err)
	}
}

// The confounder comes from the context's Rand: the same seed gives the same bytes.
func TestSealedTokenDeterministic(t *testing.T) {
	a, _ := pair(aesKey(0), false)
	b, _ := pair(aesKey(0), false)
	ta, _ := a.Wrap([]byte("same"), true)
	tb, _ := b.Wrap([]byte("same"), true)
	if !bytes.Equal(ta, tb) {
		t.Fatal("same seed, different tokens")
	}
}

func TestLayerMessage(t *testing.T) {
	m := LayerMessage{Layers: LayerNone | LayerIntegrity | LayerConfidentiality, MaxSize: 0x989680}
	if got := m.Marshal(); !bytes.Equal(got, []byte{0x07, 0x98, 0x96, 0x80}) {
		t.Fatalf("Marshal = %x", got)
	}
	back, err := ParseLayerMessage([]byte{0x04, 0x00, 0x10, 0x00, 'u', ':', 'x'})
	if err != nil || back.Layers != LayerConfidentiality || back.MaxSize != 4096 || back.AuthzID != "u:x" {
		t.Fatalf("Parse = %+v, %v", back, err)
	}
	if _, err := ParseLayerMessage([]byte{1, 2, 3}); err == nil {
		t.Fatal("3-byte message accepted")
	}
}

// FuzzUnwrap: unwrapping and MIC checking never panic and accept only what the keys protected; a
// payload wrapped by either side, sealed or not, rotated or not, opens to itself on the other.
func FuzzUnwrap(f *testing.F) {
	ini, _ := pair(aesKey(0), true)
	sealed, _ := ini.Wrap([]byte("seed"), true)
	plain, _ := ini.Wrap([]byte("seed"), false)
	mic, _ := ini.GetMIC([]byte("mechTypes"))
	f.Add(sealed, false)
	f.Add(plain, false)
	f.Add(mic, false)
	f.Add([]byte{0x05, 0x04, 0x06, 0xff, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0}, false)
	f.Add([]byte("0\x05\x02\x01\x01B\x00"), true)
	f.Fuzz(func(t *testing.T, b []byte, asPayload bool) {
		if asPayload {
			for _, seal := range []bool{false, true} {
				for _, rotate := range []bool{false, true} {
					ini, acc := pair(aesKey(0), true)
					acc.WindowsRotation, ini.WindowsRotation = rotate, rotate
					tok, err := acc.Wrap(b, seal)
					if err != nil {
						t.Fatal(err)
					}
					got, gotSealed, err := ini.Unwrap(tok)
					if err != nil || !bytes.Equal(got, b) || gotSealed != seal {
						t.Fatalf("wrap/unwrap of %x sealed=%v rotated=%v: %x %v %v", b, seal, rotate, got, gotSealed, err)
					}
				}
			}
			return
		}
		_, acc := pair(aesKey(0), true)
		if payload, _, err := acc.Unwrap(b); err == nil && len(payload) > len(b) {
			t.Fatalf("payload longer than the token")
		}
		if acc.VerifyMIC(b, []byte("mechTypes")) == nil && !bytes.Equal(b, mic) {
			t.Fatalf("a forged MIC %x verified", b)
		}
	})
}

// Encrypt's output is what gokrb5's independent decryption takes (RFC 3961 message format).
func TestEncryptDecryptsWithGokrb5(t *testing.T) {
	for _, bits := range []byte{128, 0} {
		key := aesKey(bits)
		ct, err := Encrypt(newSeeded(3), key, 11, []byte("authenticator"))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := crypto.DecryptMessage(ct, key, 11)
		if err != nil || string(plain) != "authenticator" {
			t.Fatalf("gokrb5 DecryptMessage = %q, %v", plain, err)
		}
	}
}

// Windows rotates what it sends; the other side undoes any rotation, and go-ldap's expectation
// (a signed token's checksum right after the header) holds.
func TestWindowsRotation(t *testing.T) {
	ini, acc := pair(aesKey(0), true)
	acc.WindowsRotation = true
	signed, err := acc.Wrap([]byte("payload"), false)
	if err != nil {
		t.Fatal(err)
	}
	if rrc := binary.BigEndian.Uint16(signed[6:]); rrc != 12 || string(signed[HeaderLen+12:]) != "payload" {
		t.Fatalf("signed token: RRC %d, data after the checksum %q", rrc, signed[HeaderLen+12:])
	}
	sealed, _ := acc.Wrap([]byte("payload"), true)
	if rrc := binary.BigEndian.Uint16(sealed[6:]); rrc != 28 {
		t.Fatalf("sealed token: RRC %d, want 28", rrc)
	}
	for _, tok := range [][]byte{signed, sealed} {
		if got, _, err := ini.Unwrap(tok); err != nil || string(got) != "payload" {
			t.Fatalf("Unwrap = %q, %v", got, err)
		}
	}
}

func TestMIC(t *testing.T) {
	ini, acc := pair(aesKey(128), true)
	mic, err := ini.GetMIC([]byte("mechTypes"))
	if err != nil {
		t.Fatal(err)
	}
	if err := acc.VerifyMIC(mic, []byte("mechTypes")); err != nil {
		t.Fatalf("VerifyMIC: %v", err)
	}
	if err := acc.VerifyMIC(mic, []byte("mechtypes")); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("MIC over other data: %v, want ErrIntegrity", err)
	}
	if err := ini.VerifyMIC(mic, []byte("mechTypes")); !errors.Is(err, ErrToken) {
		t.Fatalf("own MIC reflected: %v, want ErrToken", err)
	}
}

func TestContextToken(t *testing.T) {
	oid := []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02}
	for _, inner := range [][]byte{{1, 0}, bytes.Repeat([]byte{7}, 300), bytes.Repeat([]byte{9}, 70000)} {
		tok := ContextToken(oid, inner)
		gotOID, gotInner, err := ParseContextToken(tok)
		if err != nil || !bytes.Equal(gotOID, oid) || !bytes.Equal(gotInner, inner) {
			t.Fatalf("%d-byte inner token: %x %d %v", len(inner), gotOID, len(gotInner), err)
		}
	}
	// The framing is RFC 2743's: 60 len 06 len oid inner.
	if tok := ContextToken([]byte{0x2b}, []byte{1, 0}); !bytes.Equal(tok, []byte{0x60, 0x05, 0x06, 0x01, 0x2b, 0x01, 0x00}) {
		t.Fatalf("ContextToken = %x", tok)
	}
	for _, bad := range [][]byte{nil, {0x60}, {0x60, 0x05, 0x06, 0x01}, {0x61, 0x00}, {0x60, 0x02, 0x04, 0x00}, {0x60, 0x02, 0x06, 0x00}, {0x60, 0x85, 1, 1, 1, 1, 1}} {
		if _, _, err := ParseContextToken(bad); !errors.Is(err, ErrContextToken) {
			t.Errorf("ParseContextToken(%x): %v, want ErrContextToken", bad, err)
		}
	}
}
