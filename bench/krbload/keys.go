package main

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jcmturner/gokrb5/v8/crypto"
	"github.com/jcmturner/gokrb5/v8/types"
)

// keyring holds the users' long-term keys of one etype by salt, derived from the one password:
// read from a -keys file, or derived (PBKDF2) on the first use of a salt and kept.
type keyring struct {
	etype int32
	pw    string
	mu    sync.RWMutex
	keys  map[string][]byte // salt + "\x00" + s2kparams (hex, "" for the default) → key
}

func newKeyring(etype int32, pw string) *keyring {
	return &keyring{etype: etype, pw: pw, keys: map[string][]byte{}}
}

func ringKey(salt, params string) string { return salt + "\x00" + params }

// get returns the key for salt and s2kparams, deriving it on a miss.
func (k *keyring) get(salt, params string) (types.EncryptionKey, error) {
	if et, err := crypto.GetEtype(k.etype); err == nil && strings.EqualFold(params, et.GetDefaultStringToKeyParams()) {
		params = "" // the default, as in the keys file
	}
	id := ringKey(salt, params)
	k.mu.RLock()
	v, ok := k.keys[id]
	k.mu.RUnlock()
	if !ok {
		var err error
		if v, err = derive(k.etype, k.pw, salt, params); err != nil {
			return types.EncryptionKey{}, err
		}
		k.mu.Lock()
		k.keys[id] = v
		k.mu.Unlock()
	}
	return types.EncryptionKey{KeyType: k.etype, KeyValue: v}, nil
}

func derive(etype int32, pw, salt, params string) ([]byte, error) {
	et, err := crypto.GetEtype(etype)
	if err != nil {
		return nil, err
	}
	if params == "" {
		params = et.GetDefaultStringToKeyParams()
	}
	v, err := et.StringToKey(pw, salt, params)
	if err != nil {
		return nil, fmt.Errorf("deriving the etype %d key for salt %q: %w", etype, salt, err)
	}
	return v, nil
}

// Keys file: one line per key, "etype salt hexkey" (salts of user keys have no spaces); keys of
// the default string-to-key parameters only.

// writeTo writes the ring's default-parameter keys.
func (k *keyring) writeTo(w io.Writer) (int, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	n := 0
	for id, v := range k.keys {
		salt, params, _ := strings.Cut(id, "\x00")
		if params != "" {
			continue
		}
		if _, err := fmt.Fprintf(w, "%d %s %s\n", k.etype, salt, hex.EncodeToString(v)); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// readFrom adds the keys of the ring's etype in r; lines of other etypes are skipped.
func (k *keyring) readFrom(r io.Reader) (int, error) {
	sc := bufio.NewScanner(r)
	n, line := 0, 0
	k.mu.Lock()
	defer k.mu.Unlock()
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return n, fmt.Errorf("keys line %d: want \"etype salt hexkey\"", line)
		}
		et, err := strconv.ParseInt(f[0], 10, 32)
		if err != nil {
			return n, fmt.Errorf("keys line %d: etype %q: %w", line, f[0], err)
		}
		v, err := hex.DecodeString(f[2])
		if err != nil || len(v) == 0 {
			return n, fmt.Errorf("keys line %d: key is not hex", line)
		}
		if int32(et) != k.etype {
			continue
		}
		k.keys[ringKey(f[1], "")] = v
		n++
	}
	return n, sc.Err()
}

// loadKeys returns a keyring with the keys of c.KeysFile when there is one.
func loadKeys(c *Config) (*keyring, error) {
	k := newKeyring(c.Etype, c.UserPW)
	if c.KeysFile == "" {
		return k, nil
	}
	f, err := os.Open(c.KeysFile)
	if err != nil {
		return nil, fmt.Errorf("-keys: %w", err)
	}
	defer f.Close()
	if _, err := k.readFrom(f); err != nil {
		return nil, fmt.Errorf("-keys %s: %w", c.KeysFile, err)
	}
	return k, nil
}

// WriteKeys derives the keys of users 0…c.Users-1 with their default salts on c.Conc goroutines
// and writes them to c.KeysFile. Keys already in the file are kept, not derived again.
func WriteKeys(c *Config) (int, error) {
	k := newKeyring(c.Etype, c.UserPW)
	if f, err := os.Open(c.KeysFile); err == nil {
		_, rerr := k.readFrom(f)
		f.Close()
		if rerr != nil {
			return 0, rerr
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, c.Conc)
	for w := range c.Conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= c.Users {
					return
				}
				if _, err := k.get(c.DefaultSalt(i), ""); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return 0, err
		}
	}
	tmp := c.KeysFile + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriter(f)
	n, err := k.writeTo(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	return n, os.Rename(tmp, c.KeysFile)
}
