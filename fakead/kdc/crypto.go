//go:build gmsasim_kdc

package kdc

import (
	"fmt"
	"io"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/crypto/common"
	"github.com/jcmturner/gokrb5/v8/crypto/rfc4757"
	"github.com/jcmturner/gokrb5/v8/types"
)

// seal encrypts plain for key with the key usage, drawing the confounder from rnd (the world's
// seeded stream) instead of crypto/rand as gokrb5's own EncryptMessage does; the result is the same
// RFC 3961/3962 (AES) or RFC 4757 (RC4-HMAC) message, decryptable by any Kerberos implementation.
func seal(rnd io.Reader, key types.EncryptionKey, plain []byte, usage uint32, kvno int) (types.EncryptedData, error) {
	e, err := crypto.GetEtype(key.KeyType)
	if err != nil {
		return types.EncryptedData{}, err
	}
	if len(key.KeyValue) != e.GetKeyByteSize() {
		return types.EncryptedData{}, fmt.Errorf("kdc: key of etype %d has %d bytes, want %d", key.KeyType, len(key.KeyValue), e.GetKeyByteSize())
	}
	conf := make([]byte, e.GetConfounderByteSize())
	if _, err := io.ReadFull(rnd, conf); err != nil {
		return types.EncryptedData{}, fmt.Errorf("kdc: confounder: %w", err)
	}
	msg := append(conf, plain...)
	var ct []byte
	switch key.KeyType {
	case EtypeAES128, EtypeAES256:
		ke, err := e.DeriveKey(key.KeyValue, common.GetUsageKe(usage))
		if err != nil {
			return types.EncryptedData{}, err
		}
		_, c, err := e.EncryptData(ke, msg)
		if err != nil {
			return types.EncryptedData{}, err
		}
		ih, err := common.GetIntegrityHash(msg, key.KeyValue, usage, e)
		if err != nil {
			return types.EncryptedData{}, err
		}
		ct = append(c, ih...)
	case EtypeRC4:
		k2 := rfc4757.HMAC(key.KeyValue, rfc4757.UsageToMSMsgType(usage))
		sum := rfc4757.HMAC(k2, msg)
		k3 := rfc4757.HMAC(k2, sum)
		c, err := rfc4757.EncryptData(k3, msg, e)
		if err != nil {
			return types.EncryptedData{}, err
		}
		ct = append(sum, c...)
	default:
		return types.EncryptedData{}, fmt.Errorf("kdc: etype %d not issued", key.KeyType)
	}
	return types.EncryptedData{EType: key.KeyType, KVNO: kvno, Cipher: ct}, nil
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
