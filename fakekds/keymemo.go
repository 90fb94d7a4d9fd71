package fakekds

import (
	"bytes"
	"crypto/sha256"
	"sync"
)

// KeyMemo remembers derived keys: string-to-key runs PBKDF2 (4096 rounds, twice) and costs
// milliseconds, while a world derives the same keys again and again (every host refreshing the
// same gMSA password, a saved world loaded back), and so do the worlds of one run built from the
// same seed. The keys are a pure function of the password and the salt, so a memo cannot change
// a result; it is bounded (cleared when full) and keyed by a digest, so it holds no password.
//
// Its owner decides how far it is shared: a world makes its own unless given one, and a scenario
// run hands one to all its worlds. A nil *KeyMemo derives every time. Safe for concurrent use.
type KeyMemo struct {
	mu sync.Mutex
	m  map[[32]byte]Keys
}

const keyMemoMax = 4096

// NewKeyMemo returns an empty memo.
func NewKeyMemo() *KeyMemo { return &KeyMemo{} }

// Keys is KeysFromUTF16 through the memo. The slices returned are the caller's own.
func (km *KeyMemo) Keys(password []byte, salt string) (Keys, error) {
	if km == nil {
		return KeysFromUTF16(password, salt)
	}
	h := sha256.New()
	h.Write([]byte(salt))
	h.Write([]byte{0})
	h.Write(password)
	var id [32]byte
	h.Sum(id[:0])
	km.mu.Lock()
	k, ok := km.m[id]
	km.mu.Unlock()
	if ok {
		return k.clone(), nil
	}
	k, err := KeysFromUTF16(password, salt)
	if err != nil {
		return k, err
	}
	km.mu.Lock()
	if km.m == nil || len(km.m) >= keyMemoMax {
		km.m = map[[32]byte]Keys{}
	}
	km.m[id] = k.clone()
	km.mu.Unlock()
	return k, nil
}

// KeysFromString is KeysFromString through the memo.
func (km *KeyMemo) KeysFromString(password, salt string) (Keys, error) {
	return km.Keys(UTF16LE(password), salt)
}

func (k Keys) clone() Keys {
	return Keys{NTHash: bytes.Clone(k.NTHash), AES128: bytes.Clone(k.AES128), AES256: bytes.Clone(k.AES256)}
}
