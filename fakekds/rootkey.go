package fakekds

import (
	"encoding/hex"
	"io"
	"strconv"
	"strings"

	"github.com/gmsasim/gmsasim/ad"
)

// The names of the msKds-ProvRootKey class and its attributes are in package ad (ad.ClassKdsProvRootKey,
// ad.AttrKds...).
const (
	// RootKeyContainerRDNs is the container of root keys below the forest root DN:
	// CN=<guid>,CN=Master Root Keys,CN=Group Key Distribution Service,CN=Services,CN=Configuration,<forest>.
	RootKeyContainerRDNs = "CN=Master Root Keys,CN=Group Key Distribution Service,CN=Services,CN=Configuration"
)

// Values Windows writes into a new root key.
const (
	RootKeyVersion             = 1
	RootKeyDataLength          = 64
	SecretAgreementAlgorithmDH = "DH"
	DefaultPublicKeyLength     = 2048
	// DefaultPrivateKeyLength is what real Windows keys carry (GoldenGMSA lab key); [MS-GKDI]
	// mentions 256.
	DefaultPrivateKeyLength = 512
)

// DHParameters is the msKds-SecretAgreementParam Windows writes: FfcDhParameters (u32 length
// 524, "DHPM", u32 key length 256, p, g) for the RFC 5114 §2.3 2048-bit group. Not used by
// gMSA derivation; stored so the object looks like Windows'.
var DHParameters = mustHex("0c0200004448504d0001000087a8e61db4b6663cffbbd19c651959998ceef608660dd0f25d2ceed4435e3b00e00df8f1d61957d4faf7df4561b2aa3016c3d91134096faa3bf4296d830e9a7c209e0c6497517abd5a8a9d306bcf67ed91f9e6725b4758c022e0b1ef4275bf7b6c5bfc11d45f9088b941f54eb1e59bb8bc39a0bf12307f5c4fdb70c581b23f76b63acae1caa6b7902d52526735488a0ef13c6d9a51bfa4ab3ad8347796524d8ef6a167b5a41825d967e144e5140564251ccacb83e6b486f6b3ca3f7971506026c0b857f689962856ded4010abd0be621c3a3960a54e710c375f26375d7014103a4b54330c198af126116d2276e11715f693877fad7ef09cadb094ae91e1a15973fb32c9b73134d0b2e77506660edbd484ca7b18f21ef205407f4793a1a0ba12510dbc15077be463fff4fed4aac0bb555be3a6c1b0c6b47b1bc3773bf7e8c6f62901228f8c28cbb18a55ae31341000a650196f931c77a57f2ddf463e5e9ec144b777de62aaab8a8628ac376d282d6ed3864e67982428ebc831d14348f6f2f9193b5045af2767164e1dfc967c1fb3f2e55a4bd1bffe83b9c80d052b985d182ea0adb2a3b7313d3fe14c8484b1e052588b9b7d2bbd2df016199ecd06e1557cd0915b3353bbb64e0ec377fd028370df92b52c7891428cdc67eb6184b523d1db246c32f63078490f00ef8d647d148d47954515e2327cfef98c582664b4c0f6cc41659")

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic("fakekds: bad built-in hex constant: " + err.Error()) // programming error, not input
	}
	return b
}

// RootKey is one msKds-ProvRootKey object, every attribute as Windows writes it.
type RootKey struct {
	ID                         ad.GUID     // cn
	Version                    int         // msKds-Version, 1
	Data                       []byte      // msKds-RootKeyData, 64 bytes
	KDFAlgorithmID             string      // msKds-KDFAlgorithmID, "SP800_108_CTR_HMAC"
	KDFParam                   []byte      // msKds-KDFParam; nil = absent (SHA256)
	SecretAgreementAlgorithmID string      // msKds-SecretAgreementAlgorithmID, "DH"
	SecretAgreementParam       []byte      // msKds-SecretAgreementParam (DHParameters)
	PublicKeyLength            int         // msKds-PublicKeyLength, 2048
	PrivateKeyLength           int         // msKds-PrivateKeyLength, 512
	DomainID                   string      // msKds-DomainID: DN of the DC's computer object
	CreateTime                 ad.FileTime // msKds-CreateTime
	UseStartTime               ad.FileTime // msKds-UseStartTime

	// LocalTestOnly records Add-KdsRootKey -LocalTestOnly: the key was generated but must not
	// be written to the directory. Not an attribute.
	LocalTestOnly bool
}

// HashAlg returns the KDF hash named by KDFParam (SHA256 when absent).
func (rk *RootKey) HashAlg() (HashAlg, error) { return ParseKdfParameters(rk.KDFParam) }

// Validate checks what GetKey checks before using a key: version 1, 64 bytes of data, the
// SP800_108_CTR_HMAC KDF with a known hash, and a non-zero use-start time.
func (rk *RootKey) Validate() error {
	const op = "RootKey.Validate"
	if rk == nil {
		return errorf(op, ErrBadRootKey, "nil root key")
	}
	if rk.Version != RootKeyVersion {
		return errorf(op, ErrBadRootKey, "root key %s has msKds-Version %d, only 1 is supported", rk.ID, rk.Version)
	}
	if len(rk.Data) != RootKeyDataLength {
		return errorf(op, ErrBadRootKey, "root key %s has %d bytes of msKds-RootKeyData, want 64", rk.ID, len(rk.Data))
	}
	if rk.KDFAlgorithmID != KDFAlgorithmID {
		return errorf(op, ErrBadRootKey, "root key %s has msKds-KDFAlgorithmID %q, want %q", rk.ID, rk.KDFAlgorithmID, KDFAlgorithmID)
	}
	if _, err := rk.HashAlg(); err != nil {
		return errorf(op, ErrBadRootKey, "root key %s: msKds-KDFParam: %v", rk.ID, err)
	}
	return nil
}

// DN returns the key's distinguished name below forestDN ("DC=contoso,DC=com").
func (rk *RootKey) DN(forestDN string) string {
	return "CN=" + rk.ID.String() + "," + RootKeyContainerRDNs + "," + forestDN
}

// Attr is one LDAP attribute with its values in LDAP string encoding (integers and
// LargeIntegers as decimal text, octet strings raw).
type Attr struct {
	Name   string
	Values [][]byte
}

// Attributes returns the object's attributes as Windows writes them, objectClass first.
// Attributes the directory maintains itself (objectGUID, whenCreated, ...) are not included.
func (rk *RootKey) Attributes() []Attr {
	s := func(v string) [][]byte { return [][]byte{[]byte(v)} }
	d := func(v int64) [][]byte { return s(strconv.FormatInt(v, 10)) }
	u := func(v ad.FileTime) [][]byte { return s(strconv.FormatUint(uint64(v), 10)) }
	b := func(v []byte) [][]byte { return [][]byte{append([]byte(nil), v...)} }
	attrs := []Attr{
		{ad.AttrObjectClass, [][]byte{[]byte("top"), []byte(ad.ClassKdsProvRootKey)}},
		{ad.AttrCN, s(rk.ID.String())},
		{ad.AttrKdsVersion, d(int64(rk.Version))},
		{ad.AttrKdsRootKeyData, b(rk.Data)},
		{ad.AttrKdsKDFAlgorithmID, s(rk.KDFAlgorithmID)},
	}
	if rk.KDFParam != nil {
		attrs = append(attrs, Attr{ad.AttrKdsKDFParam, b(rk.KDFParam)})
	}
	attrs = append(attrs, Attr{ad.AttrKdsSecretAgreementAlgorithmID, s(rk.SecretAgreementAlgorithmID)})
	if rk.SecretAgreementParam != nil {
		attrs = append(attrs, Attr{ad.AttrKdsSecretAgreementParam, b(rk.SecretAgreementParam)})
	}
	return append(attrs,
		Attr{ad.AttrKdsPublicKeyLength, d(int64(rk.PublicKeyLength))},
		Attr{ad.AttrKdsPrivateKeyLength, d(int64(rk.PrivateKeyLength))},
		Attr{ad.AttrKdsDomainID, s(rk.DomainID)},
		Attr{ad.AttrKdsCreateTime, u(rk.CreateTime)},
		Attr{ad.AttrKdsUseStartTime, u(rk.UseStartTime)},
	)
}

// ParseRootKey builds a RootKey from directory attributes (names case-insensitive; extra
// attributes ignored) and validates it. Every must-contain attribute of msKds-ProvRootKey has
// to be present and single-valued; the cn must be a GUID (Samba skips other keys).
func ParseRootKey(attrs []Attr) (*RootKey, error) {
	const op = "ParseRootKey"
	get := map[string][][]byte{}
	for _, a := range attrs {
		get[strings.ToLower(a.Name)] = a.Values
	}
	one := func(name string, required bool) ([]byte, bool, error) {
		v, ok := get[strings.ToLower(name)]
		switch {
		case !ok || len(v) == 0:
			if required {
				return nil, false, errorf(op, ErrBadRootKey, "attribute %s is missing", name)
			}
			return nil, false, nil
		case len(v) > 1:
			return nil, false, errorf(op, ErrBadRootKey, "attribute %s has %d values, it is single-valued", name, len(v))
		}
		return v[0], true, nil
	}
	integer := func(name string) (int64, error) {
		v, _, err := one(name, true)
		if err != nil {
			return 0, err
		}
		n, perr := strconv.ParseInt(string(v), 10, 64)
		if perr != nil {
			return 0, errorf(op, ErrBadRootKey, "attribute %s = %q is not an integer", name, v)
		}
		return n, nil
	}
	rk := &RootKey{}
	cn, _, err := one(ad.AttrCN, true)
	if err != nil {
		return nil, err
	}
	if rk.ID, err = ad.ParseGUID(string(cn)); err != nil {
		return nil, errorf(op, ErrBadRootKey, "cn %q is not a GUID", cn)
	}
	var n int64
	for _, f := range []struct {
		name string
		dst  func(int64)
	}{
		{ad.AttrKdsVersion, func(v int64) { rk.Version = int(v) }},
		{ad.AttrKdsPublicKeyLength, func(v int64) { rk.PublicKeyLength = int(v) }},
		{ad.AttrKdsPrivateKeyLength, func(v int64) { rk.PrivateKeyLength = int(v) }},
		{ad.AttrKdsCreateTime, func(v int64) { rk.CreateTime = ad.FileTime(v) }},
		{ad.AttrKdsUseStartTime, func(v int64) { rk.UseStartTime = ad.FileTime(v) }},
	} {
		if n, err = integer(f.name); err != nil {
			return nil, err
		}
		if n < 0 || n > 1<<62 {
			return nil, errorf(op, ErrBadRootKey, "attribute %s = %d is out of range", f.name, n)
		}
		f.dst(n)
	}
	for _, f := range []struct {
		name     string
		required bool
		dst      func([]byte)
	}{
		{ad.AttrKdsRootKeyData, true, func(v []byte) { rk.Data = append([]byte(nil), v...) }},
		{ad.AttrKdsKDFAlgorithmID, true, func(v []byte) { rk.KDFAlgorithmID = string(v) }},
		{ad.AttrKdsKDFParam, false, func(v []byte) { rk.KDFParam = append([]byte(nil), v...) }},
		{ad.AttrKdsSecretAgreementAlgorithmID, true, func(v []byte) { rk.SecretAgreementAlgorithmID = string(v) }},
		{ad.AttrKdsSecretAgreementParam, false, func(v []byte) { rk.SecretAgreementParam = append([]byte(nil), v...) }},
		{ad.AttrKdsDomainID, true, func(v []byte) { rk.DomainID = string(v) }},
	} {
		v, ok, err := one(f.name, f.required)
		if err != nil {
			return nil, err
		}
		if ok {
			f.dst(v)
		}
	}
	if err := rk.Validate(); err != nil {
		return nil, err
	}
	return rk, nil
}

// AddOptions are the parameters of Add-KdsRootKey.
type AddOptions struct {
	// EffectiveImmediately: UseStartTime = now.
	EffectiveImmediately bool
	// EffectiveTime, when non-nil: UseStartTime = *EffectiveTime (may lie in the past).
	EffectiveTime *ad.FileTime
	// LocalTestOnly: the key is generated but not meant to be written (recorded on the key).
	LocalTestOnly bool
}

// EffectiveDelay is the delay Add-KdsRootKey applies without -EffectiveImmediately or
// -EffectiveTime: the key becomes effective 10 days after creation.
const EffectiveDelay = 10 * Day

// AddKdsRootKey creates a root key with the semantics of the Add-KdsRootKey cmdlet at time now
// on the DC whose computer-object DN is domainID. The key id (16 bytes, first) and then the key
// data (64 bytes) are read from rnd, the world's seeded stream. CreateTime = now; UseStartTime
// = now + 10 days by default, now with EffectiveImmediately, *EffectiveTime with EffectiveTime.
// The key uses SHA512, the DH parameters and the key lengths Windows writes.
func AddKdsRootKey(rnd io.Reader, now ad.FileTime, domainID string, opt AddOptions) (*RootKey, error) {
	const op = "AddKdsRootKey"
	if opt.EffectiveImmediately && opt.EffectiveTime != nil {
		return nil, errorf(op, ErrInvalidArgument, "-EffectiveImmediately and -EffectiveTime are mutually exclusive")
	}
	// Windows root-key ids are 16 random bytes with no RFC 4122 version bits (the GoldenGMSA
	// lab key is 46e5b8b9-ca57-01e6-...); they are read as the MS-DTYP wire form.
	raw := make([]byte, 16)
	if _, err := io.ReadFull(rnd, raw); err != nil {
		return nil, errorf(op, ErrInvalidArgument, "reading 16 bytes for the key id: %v", err)
	}
	id, _ := ad.GUIDFromWire(raw)
	data := make([]byte, RootKeyDataLength)
	if _, err := io.ReadFull(rnd, data); err != nil {
		return nil, errorf(op, ErrInvalidArgument, "reading 64 bytes of key data: %v", err)
	}
	start := now + EffectiveDelay
	switch {
	case opt.EffectiveImmediately:
		start = now
	case opt.EffectiveTime != nil:
		start = *opt.EffectiveTime
	}
	return &RootKey{
		ID:                         id,
		Version:                    RootKeyVersion,
		Data:                       data,
		KDFAlgorithmID:             KDFAlgorithmID,
		KDFParam:                   MarshalKdfParameters(SHA512),
		SecretAgreementAlgorithmID: SecretAgreementAlgorithmDH,
		SecretAgreementParam:       append([]byte(nil), DHParameters...),
		PublicKeyLength:            DefaultPublicKeyLength,
		PrivateKeyLength:           DefaultPrivateKeyLength,
		DomainID:                   domainID,
		CreateTime:                 now,
		UseStartTime:               start,
		LocalTestOnly:              opt.LocalTestOnly,
	}, nil
}
