package fakekds

import (
	"bytes"
	"crypto/sha256"
	"sync"
)

// keyMemo remembers derived keys across the process: string-to-key runs PBKDF2 (4096 rounds,
// twice) and costs milliseconds, while worlds built from one seed — every scenario, every
// saved world loaded back, every host refreshing the same gMSA password — derive the same keys
// again and again. The keys are a pure function of the password and the salt, so a memo cannot
// change a result; it is bounded (cleared when full) and keyed by a digest, so it holds no
// password. The one memo of derived keys in the project.
var keyMemo struct {
	sync.Mutex
	m map[[32]byte]Keys
}

const keyMemoMax = 4096

// CachedKeys is KeysFromUTF16 through the process-wide memo. The slices returned are the
// caller's own.
func CachedKeys(password []byte, salt string) (Keys, error) {
	h := sha256.New()
	h.Write([]byte(salt))
	h.Write([]byte{0})
	h.Write(password)
	var id [32]byte
	h.Sum(id[:0])
	keyMemo.Lock()
	k, ok := keyMemo.m[id]
	keyMemo.Unlock()
	if ok {
		return k.clone(), nil
	}
	k, err := KeysFromUTF16(password, salt)
	if err != nil {
		return k, err
	}
	keyMemo.Lock()
	if keyMemo.m == nil || len(keyMemo.m) >= keyMemoMax {
		keyMemo.m = map[[32]byte]Keys{}
	}
	keyMemo.m[id] = k.clone()
	keyMemo.Unlock()
	return k, nil
}

// CachedKeysFromString is KeysFromString through the process-wide memo.
func CachedKeysFromString(password, salt string) (Keys, error) {
	return CachedKeys(UTF16LE(password), salt)
}

func (k Keys) clone() Keys {
	return Keys{NTHash: bytes.Clone(k.NTHash), AES128: bytes.Clone(k.AES128), AES256: bytes.Clone(k.AES256)}
}
