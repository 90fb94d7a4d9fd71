package kdc

import (
	"bytes"
	"crypto/aes"
	"math/rand/v2"
	"testing"

	"github.com/jcmturner/aescts/v2"
)

// sameAsAescts fails t unless ctsEncrypt and ctsDecrypt give aescts's output (and error) for key
// and data, with the zero IV RFC 3962 uses.
func sameAsAescts(t testing.TB, key, data []byte) {
	t.Helper()
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	iv := make([]byte, aes.BlockSize)
	if len(data) > 0 {
		_, want, err := aescts.Encrypt(key, iv, data)
		if err != nil {
			t.Fatalf("aescts.Encrypt(%d bytes): %v", len(data), err)
		}
		if got := ctsEncrypt(b, data); !bytes.Equal(got, want) {
			t.Fatalf("encrypt %x with %x:\n got %x\nwant %x", data, key, got, want)
		}
	}
	want, werr := aescts.Decrypt(key, iv, data)
	got, err := ctsDecrypt(b, data)
	if (err == nil) != (werr == nil) || (err == nil && !bytes.Equal(got, want)) {
		t.Fatalf("decrypt %x with %x:\n got %x (%v)\nwant %x (%v)", data, key, got, err, want, werr)
	}
	if err == nil && len(data) >= aes.BlockSize {
		if back := ctsEncrypt(b, got); !bytes.Equal(back, data) {
			t.Fatalf("encrypt(decrypt(%x)) = %x", data, back)
		}
	}
}

// AES-CTS matches aescts for AES128 and AES256 keys and every length from 0 to 300 bytes.
func TestCTSEqualsAescts(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, ks := range []int{16, 32} {
		for n := 0; n <= 300; n++ {
			for range 3 {
				key, data := make([]byte, ks), make([]byte, n)
				for i := range key {
					key[i] = byte(r.Uint32())
				}
				for i := range data {
					data[i] = byte(r.Uint32())
				}
				sameAsAescts(t, key, data)
			}
		}
	}
}

func FuzzCTS(f *testing.F) {
	f.Add(bytes.Repeat([]byte{1}, 32), []byte("0123456789abcdef0"))
	f.Add(bytes.Repeat([]byte{2}, 16), bytes.Repeat([]byte{3}, 48))
	f.Add(bytes.Repeat([]byte{4}, 32), []byte{5})
	f.Fuzz(func(t *testing.T, key, data []byte) {
		if len(key) != 16 && len(key) != 32 {
			return
		}
		sameAsAescts(t, key, data)
	})
}
