package kdc

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"sync"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/crypto/common"
	"github.com/jcmturner/gokrb5/v8/crypto/etype"
	"github.com/jcmturner/gokrb5/v8/crypto/rfc4757"
	"github.com/jcmturner/gokrb5/v8/types"
)

// usageKeys are the RFC 3961 keys derived from a protocol key for one key usage: Ke encrypts
// (its AES key schedule made once), Ki protects integrity (HMACs keyed with it kept for reuse).
type usageKeys struct {
	ke cipher.Block
	ki *macPool
}

// macPool hands out HMACs keyed with one key, reset: hmac.New hashes the key and allocates its
// state on every call, a twentieth of a request.
type macPool struct {
	p sync.Pool
}

func newMACPool(h func() hash.Hash, key []byte) *macPool {
	m := &macPool{}
	m.p.New = func() any { return hmac.New(h, key) }
	return m
}

// sum is the HMAC of data, cut to n bytes, appended to dst.
func (m *macPool) sum(dst, data []byte, n int) []byte {
	h := m.p.Get().(hash.Hash)
	h.Write(data)
	var buf [64]byte
	d := h.Sum(buf[:0])
	h.Reset()
	m.p.Put(h)
	return append(dst, d[:n]...)
}

// keyCache memoises usageKeys of long-term keys (krbtgt, services, clients) and of TGT session keys,
// which a client uses for every TGS request it makes: deriving them is a fifth of a request's cost.
// Bounded; cleared when full.
type keyCache struct {
	mu sync.Mutex
	m  map[string]*usageKeys
}

const keyCacheMax = 4096

func cacheKey(prefix string, e etype.EType, key []byte, usage uint32) string {
	var b [64]byte
	k := append(b[:0], prefix...)
	k = binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(k, uint32(e.GetETypeID())), usage)
	return string(append(k, key...))
}

func (c *keyCache) lookup(ck string) *usageKeys {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[ck]
}

func (c *keyCache) store(ck string, u *usageKeys) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= keyCacheMax {
		c.m = map[string]*usageKeys{}
	}
	c.m[ck] = u
}

// derive returns the usage keys of an AES key.
func (c *keyCache) derive(e etype.EType, key []byte, usage uint32, cache bool) (*usageKeys, error) {
	var ck string
	if cache {
		ck = cacheKey("", e, key, usage)
		if u := c.lookup(ck); u != nil {
			return u, nil
		}
	}
	ke, err := e.DeriveKey(key, common.GetUsageKe(usage))
	if err != nil {
		return nil, err
	}
	ki, err := e.DeriveKey(key, common.GetUsageKi(usage))
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(ke)
	if err != nil {
		return nil, err
	}
	u := &usageKeys{ke: block, ki: newMACPool(e.GetHashFunc(), ki)}
	if cache {
		c.store(ck, u)
	}
	return u, nil
}

// kc returns the HMACs of the RFC 3961 checksum key Kc of key for usage, memoised like the usage
// keys (its map key is marked so it never meets a usageKeys entry).
func (c *keyCache) kc(e etype.EType, key []byte, usage uint32) (*macPool, error) {
	ck := cacheKey("kc", e, key, usage)
	if u := c.lookup(ck); u != nil {
		return u.ki, nil
	}
	kc, err := e.DeriveKey(key, common.GetUsageKc(usage))
	if err != nil {
		return nil, err
	}
	u := &usageKeys{ki: newMACPool(e.GetHashFunc(), kc)}
	c.store(ck, u)
	return u.ki, nil
}

func isAES(et int32) bool { return et == EtypeAES128 || et == EtypeAES256 }

// seal encrypts plain for key with the key usage, drawing the confounder from rnd (the world's
// seeded stream) instead of crypto/rand as gokrb5's own EncryptMessage does; the result is the same
// RFC 3961/3962 (AES) or RFC 4757 (RC4-HMAC) message, decryptable by any Kerberos implementation.
// longTerm says whether key is used many times (a long-term key, a TGT session key), so that its
// derived keys are worth caching.
func (c *keyCache) seal(rnd io.Reader, key types.EncryptionKey, plain []byte, usage uint32, kvno int, longTerm bool) (types.EncryptedData, error) {
	e, err := crypto.GetEtype(key.KeyType)
	if err != nil {
		return types.EncryptedData{}, err
	}
	if len(key.KeyValue) != e.GetKeyByteSize() {
		return types.EncryptedData{}, fmt.Errorf("kdc: key of etype %d has %d bytes, want %d", key.KeyType, len(key.KeyValue), e.GetKeyByteSize())
	}
	conf := make([]byte, e.GetConfounderByteSize(), e.GetConfounderByteSize()+len(plain))
	if _, err := io.ReadFull(rnd, conf); err != nil {
		return types.EncryptedData{}, fmt.Errorf("kdc: confounder: %w", err)
	}
	msg := append(conf, plain...)
	var ct []byte
	switch {
	case isAES(key.KeyType):
		u, err := c.derive(e, key.KeyValue, usage, longTerm)
		if err != nil {
			return types.EncryptedData{}, err
		}
		h := e.GetHMACBitLength() / 8
		ct = ctsEncrypt(u.ke, msg)
		ct = u.ki.sum(slices.Grow(ct, h), msg, h)
	case key.KeyType == EtypeRC4:
		k2 := rfc4757.HMAC(key.KeyValue, rfc4757.UsageToMSMsgType(usage))
		sum := rfc4757.HMAC(k2, msg)
		k3 := rfc4757.HMAC(k2, sum)
		enc, err := rfc4757.EncryptData(k3, msg, e)
		if err != nil {
			return types.EncryptedData{}, err
		}
		ct = append(sum, enc...)
	default:
		return types.EncryptedData{}, fmt.Errorf("kdc: etype %d not issued", key.KeyType)
	}
	return types.EncryptedData{EType: key.KeyType, KVNO: kvno, Cipher: ct}, nil
}

var errIntegrity = errors.New("kdc: integrity check failed")

// open decrypts ed with key for the key usage and checks its integrity (RFC 3961 5.3 for AES; RC4
// goes through gokrb5).
func (c *keyCache) open(key types.EncryptionKey, ed types.EncryptedData, usage uint32, longTerm bool) ([]byte, error) {
	if ed.EType != key.KeyType {
		return nil, fmt.Errorf("kdc: data of etype %d, key of etype %d", ed.EType, key.KeyType)
	}
	if !isAES(key.KeyType) {
		return crypto.DecryptEncPart(ed, key, usage)
	}
	e, err := crypto.GetEtype(key.KeyType)
	if err != nil {
		return nil, err
	}
	h, conf := e.GetHMACBitLength()/8, e.GetConfounderByteSize()
	if len(key.KeyValue) != e.GetKeyByteSize() || len(ed.Cipher) < conf+h {
		return nil, errIntegrity
	}
	u, err := c.derive(e, key.KeyValue, usage, longTerm)
	if err != nil {
		return nil, err
	}
	body, sum := ed.Cipher[:len(ed.Cipher)-h], ed.Cipher[len(ed.Cipher)-h:]
	plain, err := ctsDecrypt(u.ke, body)
	if err != nil {
		return nil, errIntegrity
	}
	var mac [64]byte
	if !hmac.Equal(u.ki.sum(mac[:0], plain, h), sum) || len(plain) < conf {
		return nil, errIntegrity
	}
	return plain[conf:], nil
}

// newSessionKey draws a session key of etype et from rnd.
func newSessionKey(rnd io.Reader, et int32) (types.EncryptionKey, error) {
	e, err := crypto.GetEtype(et)
	if err != nil {
		return types.EncryptionKey{}, err
	}
	b := make([]byte, e.GetKeyByteSize())
	if _, err := io.ReadFull(rnd, b); err != nil {
		return types.EncryptionKey{}, fmt.Errorf("kdc: session key: %w", err)
	}
	return types.EncryptionKey{KeyType: et, KeyValue: e.RandomToKey(b)}, nil
}

// longTermKey is p's key of etype et.
func longTermKey(p *Principal, et int32) (types.EncryptionKey, bool) {
	k, ok := p.Keys[et]
	if !ok || !p.supports(et) {
		return types.EncryptionKey{}, false
	}
	return types.EncryptionKey{KeyType: et, KeyValue: k}, true
}
