package fakekds

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"github.com/gmsasim/gmsasim/ad"
)

// SeedKeyLength is the size of every L0, L1 and L2 seed key.
const SeedKeyLength = 64

// GMSASecurityDescriptor is GmsaSD() of [MS-ADTS] 3.1.1.4.5.39, O:SYD:(A;;FRFW;;;S-1-5-9) in
// self-relative form, byte for byte as Windows uses it in the L1(31) step of every gMSA
// derivation. Any other encoding of the same SDDL changes every key.
var GMSASecurityDescriptor = mustHex("010004803000000000000000000000001400000002001c0001000000000014009f011200010100000000000509000000010100000000000512000000")

// kdsServiceLabel is "KDS service" as UTF-16LE including its U+0000 (24 bytes).
var kdsServiceLabel = UTF16Z("KDS service")

// seedContext is RootKeyId (MS-DTYP) || L0 || L1 || L2 (int32 LE) [|| sd].
func seedContext(id ad.GUID, l0, l1, l2 int32, sd []byte) []byte {
	b := make([]byte, 0, 28+len(sd))
	b = append(b, id.Wire()...)
	b = binary.LittleEndian.AppendUint32(b, uint32(l0))
	b = binary.LittleEndian.AppendUint32(b, uint32(l1))
	b = binary.LittleEndian.AppendUint32(b, uint32(l2))
	return append(b, sd...)
}

// maxCacheEntries bounds the Deriver's cache; when full it starts over (the cache only saves
// work, it never changes a result).
const maxCacheEntries = 1 << 14

// Deriver derives seed keys and gMSA passwords and caches L1 and L2 seed keys, so that deriving
// the passwords of many gMSAs in one 10-hour interval costs one KDF run each once the chain is
// warm. It is safe for concurrent use. A nil *Deriver works and caches nothing.
//
// Every seed key on the way down from index 31 is kept, so the next interval's key (a higher
// index, derived earlier on the way) is found without walking the chain again.
type Deriver struct {
	mu    sync.Mutex
	cache map[chainKey][]byte
	runs  atomic.Uint64
}

// NewDeriver returns an empty Deriver.
func NewDeriver() *Deriver { return &Deriver{cache: map[chainKey][]byte{}} }

// chainKey identifies one cached seed key. rootData keeps two keys with the same GUID but
// different data (a test, a re-created key) apart.
type chainKey struct {
	rootID   ad.GUID
	rootData string
	hash     HashAlg
	sd       string
	l0       int32
	l1, l2   int32 // l2 == -1: an L1 key
}

// KDFRuns returns how many KDF runs this Deriver has performed (for benchmarks and tests).
func (d *Deriver) KDFRuns() uint64 {
	if d == nil {
		return 0
	}
	return d.runs.Load()
}

func (d *Deriver) kdf(h HashAlg, key, label, ctx []byte, n int) ([]byte, error) {
	if d != nil {
		d.runs.Add(1)
	}
	return KDF(h, key, label, ctx, n)
}

func (d *Deriver) get(k chainKey) []byte {
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cache[k]
}

func (d *Deriver) put(k chainKey, v []byte) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cache == nil || len(d.cache) >= maxCacheEntries {
		d.cache = map[chainKey][]byte{}
	}
	d.cache[k] = v
}

// L0Key derives the L0 seed key KDF(RootKeyData, ctx(L0,−1,−1)).
func (d *Deriver) L0Key(rk *RootKey, l0 int32) ([]byte, error) {
	if err := rk.Validate(); err != nil {
		return nil, err
	}
	if l0 < 0 {
		return nil, errorf("L0Key", ErrInvalidGKID, "L0 index %d is negative", l0)
	}
	h, _ := rk.HashAlg()
	return d.kdf(h, rk.Data, kdsServiceLabel, seedContext(rk.ID, l0, -1, -1, nil), SeedKeyLength)
}

// SeedKey derives the L1 seed key (L0,L1,−1) or the L2 seed key (L0,L1,L2) of rk for the
// target security descriptor sd (GMSASecurityDescriptor for gMSAs). As in [MS-GKDI] GetKey, an
// L0 key cannot be requested this way (use L0Key). The result is the caller's to keep.
func (d *Deriver) SeedKey(rk *RootKey, sd []byte, g GKID) ([]byte, error) {
	k, err := d.seedKey(rk, sd, g)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), k...), nil
}

// seedKey is SeedKey without the copy: the result may be shared with the cache and must not be
// modified.
func (d *Deriver) seedKey(rk *RootKey, sd []byte, g GKID) ([]byte, error) {
	if err := rk.Validate(); err != nil {
		return nil, err
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	if g.L1 == -1 {
		return nil, errorf("SeedKey", ErrInvalidGKID, "%v names an L0 key; only L1 and L2 seed keys are derived here", g)
	}
	h, _ := rk.HashAlg()
	base := chainKey{rootID: rk.ID, rootData: string(rk.Data), hash: h, sd: string(sd), l0: g.L0}
	l1, err := d.l1Key(rk, h, sd, base, g.L1)
	if err != nil || g.L2 == -1 {
		return l1, err
	}
	return d.l2Key(rk, h, base, l1, g.L1, g.L2)
}

// l1Key walks L0 → L1(31) (with sd in the context) → L1(30) → … → L1(target), starting from
// the lowest cached L1 key at or above target.
func (d *Deriver) l1Key(rk *RootKey, h HashAlg, sd []byte, base chainKey, target int32) ([]byte, error) {
	k := base
	k.l2 = -1
	var key []byte
	n := target
	for ; n < L1KeyIteration; n++ {
		k.l1 = n
		if key = d.get(k); key != nil {
			break
		}
	}
	var err error
	if key == nil {
		l0, err := d.L0Key(rk, base.l0)
		if err != nil {
			return nil, err
		}
		n = L1KeyIteration - 1
		if key, err = d.kdf(h, l0, kdsServiceLabel, seedContext(rk.ID, base.l0, n, -1, sd), SeedKeyLength); err != nil {
			return nil, err
		}
		k.l1 = n
		d.put(k, key)
	}
	for n > target {
		n--
		if key, err = d.kdf(h, key, kdsServiceLabel, seedContext(rk.ID, base.l0, n, -1, nil), SeedKeyLength); err != nil {
			return nil, err
		}
		k.l1 = n
		d.put(k, key)
	}
	return key, nil
}

// l2Key walks L1(l1) → L2(31) → … → L2(target), starting from the lowest cached L2 key at or
// above target.
func (d *Deriver) l2Key(rk *RootKey, h HashAlg, base chainKey, l1key []byte, l1, target int32) ([]byte, error) {
	k := base
	k.l1 = l1
	var key []byte
	m := target
	for ; m < L2KeyIteration; m++ {
		k.l2 = m
		if key = d.get(k); key != nil {
			break
		}
	}
	var err error
	if key == nil {
		m = L2KeyIteration
		key = l1key
	}
	for m > target {
		m--
		if key, err = d.kdf(h, key, kdsServiceLabel, seedContext(rk.ID, base.l0, l1, m, nil), SeedKeyLength); err != nil {
			return nil, err
		}
		k.l2 = m
		d.put(k, key)
	}
	return key, nil
}

// ComputeSeedKey derives an L1 or L2 seed key without a cache (see Deriver.SeedKey).
func ComputeSeedKey(rk *RootKey, sd []byte, g GKID) ([]byte, error) {
	return (*Deriver)(nil).SeedKey(rk, sd, g)
}

// ComputeL0Key derives an L0 seed key (see Deriver.L0Key).
func ComputeL0Key(rk *RootKey, l0 int32) ([]byte, error) { return (*Deriver)(nil).L0Key(rk, l0) }

// NextSeedKeyDown derives, without the root key, the seed key one index lower: from an L1 key
// (L0,L1,−1) the L1 key (L0,L1−1,−1) when from.L2 == −1 and toL2 is false; from an L1 key
// (L0,L1,−1) the L2 key (L0,L1,31) when toL2 is true; from an L2 key (L0,L1,L2) the L2 key
// (L0,L1,L2−1). This is how a GKDI client walks from the keys GetKey returned.
func NextSeedKeyDown(h HashAlg, rootID ad.GUID, from GKID, key []byte, toL2 bool) (GKID, []byte, error) {
	if err := from.Validate(); err != nil {
		return GKID{}, nil, err
	}
	var to GKID
	switch {
	case from.L1 == -1:
		return GKID{}, nil, errorf("NextSeedKeyDown", ErrInvalidGKID, "%v is an L0 key", from)
	case from.L2 == -1 && toL2:
		to = GKID{from.L0, from.L1, L2KeyIteration - 1}
	case from.L2 == -1 && from.L1 > 0:
		to = GKID{from.L0, from.L1 - 1, -1}
	case from.L2 > 0 && !toL2:
		to = GKID{from.L0, from.L1, from.L2 - 1}
	default:
		return GKID{}, nil, errorf("NextSeedKeyDown", ErrInvalidGKID, "no key below %v", from)
	}
	out, err := KDF(h, key, kdsServiceLabel, seedContext(rootID, to.L0, to.L1, to.L2, nil), SeedKeyLength)
	return to, out, err
}
