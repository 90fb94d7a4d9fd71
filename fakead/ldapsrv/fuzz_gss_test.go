package ldapsrv

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/jcmturner/gokrb5/v8/types"

	"github.com/gmsasim/gmsasim/gss"
)

// Fuzz targets for the SASL/GSS decoders: every one takes bytes straight off the wire.

// The context the fuzz targets' tokens belong to: an acceptor subkey asserted, AES.
var (
	fuzzSubkey = types.EncryptionKey{KeyType: 18, KeyValue: bytes.Repeat([]byte{0xa5}, 32)}
	fuzzIniKey = types.EncryptionKey{KeyType: 17, KeyValue: bytes.Repeat([]byte{0x5a}, 16)}
)

func fuzzContext(acceptor bool) gss.Context {
	return gss.Context{AcceptorSubkey: fuzzSubkey, InitiatorKey: fuzzIniKey, Acceptor: acceptor,
		Rand: &confounders{key: []byte("fuzz seeds")}}
}

// initiatorWrap is a wrap token as a client sends it, protected with the acceptor subkey.
func initiatorWrap(t testing.TB, payload []byte, seal bool, seq uint64) []byte {
	c := fuzzContext(false)
	c.SendSeq = seq
	tok, err := c.Wrap(payload, seal)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// FuzzGSSTokens: the context-token framing, the Kerberos AP-REQ token and both SPNEGO messages
// never panic; a negTokenResp that decodes re-encodes to something that decodes to the same.
func FuzzGSSTokens(f *testing.F) {
	apreq := contextToken(oidKRB5, append([]byte{1, 0}, 0x6e, 0x00))
	f.Add(apreq)
	mt := berSeq(classUniversal, tagSequence, appendTLV(nil, classUniversal, false, 6, oidMSKRB5), appendTLV(nil, classUniversal, false, 6, oidKRB5))
	init := berSeq(classContext, 0, berSeq(classUniversal, tagSequence, berSeq(classContext, 0, mt),
		berSeq(classContext, 2, berOctets(classUniversal, tagOctetString, apreq)), berSeq(classContext, 3, berOctets(classUniversal, tagOctetString, []byte{4, 4}))))
	f.Add(contextToken(oidSPNEGO, init))
	f.Add((&negTokenResp{state: 1, supportedMech: oidKRB5, responseToken: []byte{1, 2}, mechListMIC: []byte{3}}).encode())
	f.Add([]byte{0x60, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = parseContextToken(b)
		_, _ = krb5APReq(b)
		if n, err := parseNegTokenInit(b); err == nil && len(n.mechTypes) == 0 {
			t.Fatal("negTokenInit accepted without mechTypes")
		}
		if r, err := parseNegTokenResp(b); err == nil {
			r2, err := parseNegTokenResp(r.encode())
			if err != nil || r2.state != r.state || !bytes.Equal(r2.supportedMech, r.supportedMech) ||
				!bytes.Equal(r2.responseToken, r.responseToken) || !bytes.Equal(r2.mechListMIC, r.mechListMIC) {
				t.Fatalf("negTokenResp round trip: %+v → %+v (%v)", r, r2, err)
			}
		}
	})
}

// FuzzLayerMessage: RFC 4752's 4-octet security layer message.
func FuzzLayerMessage(f *testing.F) {
	f.Add([]byte{4, 0, 0x40, 0})
	f.Add([]byte{0, 0, 0, 0, 'u', ':', 'x'})
	f.Add([]byte{7, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		layer, maxBuf, authz, err := parseLayerMessage(b)
		if err != nil {
			return
		}
		if layer != layerNone && layer != layerInteg && layer != layerConf || maxBuf > 0xffffff || len(authz) != len(b)-4 {
			t.Fatalf("%x → layer %d max %d authz %q", b, layer, maxBuf, authz)
		}
	})
}

// FuzzSASLBuffers feeds raw bytes to an installed sealed layer's reader: it never panics, never
// returns (0, nil), never buffers more than MaxReceiveBuffer per token, and only hands on what a
// good token carried.
func FuzzSASLBuffers(f *testing.F) {
	tok := initiatorWrap(f, []byte("0\x05\x02\x01\x01B\x00"), true, 3)
	good := append(binary.BigEndian.AppendUint32(nil, uint32(len(tok))), tok...)
	f.Add(good)
	f.Add(append(append([]byte(nil), good...), good...))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		fc := &framedConn{}
		l := &saslLayer{seal: true, maxOut: 4096, maxIn: 1 << 16, send: fuzzContext(true), recv: fuzzContext(true)}
		sr := &saslReader{fc: fc, src: bufio.NewReader(bytes.NewReader(b)), l: l}
		buf := make([]byte, 512)
		total := 0
		for {
			n, err := sr.Read(buf)
			if n == 0 && err == nil {
				t.Fatal("Read returned (0, nil)")
			}
			total += n
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, errFraming) {
					t.Fatalf("unexpected error %v", err)
				}
				break
			}
		}
		if total > len(b) {
			t.Fatalf("%d plaintext bytes out of %d input bytes", total, len(b))
		}
	})
}
