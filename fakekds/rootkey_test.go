package fakekds

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/gmsasim/gmsasim/ad"
)

// counter is a deterministic byte stream 0, 1, 2, ... standing in for the world's seeded stream.
type counter struct{ n byte }

func (c *counter) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.n
		c.n++
	}
	return len(p), nil
}

func TestAddKdsRootKey(t *testing.T) {
	now := ad.FileTime(133500000000000000)
	past := now - KeyCycleDuration
	for _, tc := range []struct {
		name  string
		opt   AddOptions
		start ad.FileTime
	}{
		{"no parameter: 10 days later", AddOptions{}, now + 10*Day},
		{"-EffectiveImmediately", AddOptions{EffectiveImmediately: true}, now},
		{"-EffectiveTime (now-10h)", AddOptions{EffectiveTime: &past}, past},
		{"-LocalTestOnly", AddOptions{LocalTestOnly: true}, now + 10*Day},
	} {
		rk, err := AddKdsRootKey(&counter{}, now, "CN=DC1,OU=Domain Controllers,DC=contoso,DC=com", tc.opt)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if rk.UseStartTime != tc.start || rk.CreateTime != now || rk.LocalTestOnly != tc.opt.LocalTestOnly {
			t.Errorf("%s: start %d create %d", tc.name, rk.UseStartTime, rk.CreateTime)
		}
		// id = the first 16 bytes in MS-DTYP order; data = the next 64 bytes.
		if rk.ID.String() != "03020100-0504-0706-0809-0a0b0c0d0e0f" || rk.Data[0] != 16 || rk.Data[63] != 79 || len(rk.Data) != 64 {
			t.Errorf("%s: id %s data %x", tc.name, rk.ID, rk.Data)
		}
	}
	if _, err := AddKdsRootKey(&counter{}, now, "", AddOptions{EffectiveImmediately: true, EffectiveTime: &past}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("both flags: %v", err)
	}
	if _, err := AddKdsRootKey(bytes.NewReader(make([]byte, 20)), now, "", AddOptions{}); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("short random stream: %v", err)
	}
}

// The attributes as Windows writes them (GoldenGMSA lab key values; gkdi.md table).
func TestRootKeyAttributes(t *testing.T) {
	rk, err := AddKdsRootKey(&counter{}, 132895801920510000, "CN=DC1,OU=Domain Controllers,DC=shenanigans,DC=labs", AddOptions{EffectiveImmediately: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"objectClass":                      "top|msKds-ProvRootKey",
		"cn":                               "03020100-0504-0706-0809-0a0b0c0d0e0f",
		"msKds-Version":                    "1",
		"msKds-KDFAlgorithmID":             "SP800_108_CTR_HMAC",
		"msKds-KDFParam":                   string(unhex(t, "00000000010000000e000000000000005300480041003500310032000000")),
		"msKds-SecretAgreementAlgorithmID": "DH",
		"msKds-PublicKeyLength":            "2048",
		"msKds-PrivateKeyLength":           "512",
		"msKds-DomainID":                   "CN=DC1,OU=Domain Controllers,DC=shenanigans,DC=labs",
		"msKds-CreateTime":                 "132895801920510000",
		"msKds-UseStartTime":               "132895801920510000",
	}
	attrs := rk.Attributes()
	seen := map[string]bool{}
	for _, a := range attrs {
		seen[a.Name] = true
		var vals []string
		for _, v := range a.Values {
			vals = append(vals, string(v))
		}
		if w, ok := want[a.Name]; ok && strings.Join(vals, "|") != w {
			t.Errorf("%s = %q, want %q", a.Name, vals, w)
		}
	}
	for _, name := range []string{"msKds-RootKeyData", "msKds-SecretAgreementParam"} {
		if !seen[name] {
			t.Errorf("%s missing", name)
		}
	}
	if len(attrs) != 13 {
		t.Errorf("%d attributes, want 13", len(attrs))
	}
	back, err := ParseRootKey(attrs)
	if err != nil {
		t.Fatal(err)
	}
	if back.ID != rk.ID || !bytes.Equal(back.Data, rk.Data) || back.UseStartTime != rk.UseStartTime || back.DomainID != rk.DomainID || len(back.SecretAgreementParam) != 524 {
		t.Errorf("round trip: %+v", back)
	}
	if rk.DN("DC=shenanigans,DC=labs") != "CN=03020100-0504-0706-0809-0a0b0c0d0e0f,CN=Master Root Keys,CN=Group Key Distribution Service,CN=Services,CN=Configuration,DC=shenanigans,DC=labs" {
		t.Errorf("DN %s", rk.DN("DC=shenanigans,DC=labs"))
	}
	// Validation on parse: version 1 only, 64-byte data, the known KDF; missing must-haves.
	edit := func(name string, v []byte) []Attr {
		var out []Attr
		for _, a := range attrs {
			if strings.EqualFold(a.Name, name) {
				if v == nil {
					continue
				}
				a = Attr{a.Name, [][]byte{v}}
			}
			out = append(out, a)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		v    []byte
	}{
		{"msKds-Version", []byte("2")},
		{"msKds-Version", []byte("x")},
		{"msKds-RootKeyData", make([]byte, 32)},
		{"msKds-KDFAlgorithmID", []byte("sp800_108_ctr_hmac")},
		{"msKds-KDFParam", MarshalKdfParameters(SHA512)[:20]},
		{"cn", []byte("not-a-guid")},
		{"msKds-DomainID", nil},
		{"msKds-UseStartTime", []byte("-5")},
	} {
		if _, err := ParseRootKey(edit(tc.name, tc.v)); !errors.Is(err, ErrBadRootKey) {
			t.Errorf("%s=%q: err %v, want ErrBadRootKey", tc.name, tc.v, err)
		}
	}
	// An absent msKds-KDFParam means SHA256.
	k, err := ParseRootKey(edit("msKds-KDFParam", nil))
	if h, _ := k.HashAlg(); err != nil || h != SHA256 {
		t.Errorf("absent KDFParam: %v %v", h, err)
	}
}

// The cold chain costs 1 + (32−L1) + (32−L2) seed-key runs plus one password run; a warm chain
// one run per password; the next interval's key was kept on the way down.
func TestDeriverCacheCost(t *testing.T) {
	rk := goldenLabKey(t)
	sid, _ := ad.ParseSID("S-1-5-21-1437000690-1664695696-1586295871-1112")
	g := GKID{360, 16, 3}
	d := NewDeriver()
	want, _ := GMSAPassword(rk, g, sid)
	got, err := d.Password(rk, g, sid)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatal("cached password differs from uncached", err)
	}
	if n := d.KDFRuns(); n != 1+(32-16)+(32-3)+1 {
		t.Errorf("cold password: %d KDF runs, want %d", n, 1+(32-16)+(32-3)+1)
	}
	other, _ := ad.ParseSID("S-1-5-21-1437000690-1664695696-1586295871-1113")
	d.Password(rk, g, other)
	if n := d.KDFRuns(); n != 48 {
		t.Errorf("warm password: %d runs in total, want 48", n)
	}
	d.Password(rk, GKID{360, 16, 4}, sid)
	if n := d.KDFRuns(); n != 49 {
		t.Errorf("next interval: %d runs in total, want 49", n)
	}
	d.Password(rk, GKID{360, 16, 2}, sid)
	if n := d.KDFRuns(); n != 51 {
		t.Errorf("previous interval: %d runs in total, want 51", n)
	}
}

func TestDeriverConcurrent(t *testing.T) {
	rk := goldenLabKey(t)
	d := NewDeriver()
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sid := ad.SID{Authority: 5, SubAuthority: []uint32{21, 1, 2, 3, uint32(1000 + i%4)}}
			g := GKID{360, int32(10 + i%3), int32(i % 32)}
			want, _ := GMSAPassword(rk, g, sid)
			got, err := d.Password(rk, g, sid)
			if err != nil || !bytes.Equal(got, want) {
				errs[i] = errors.New("concurrent cached derivation differs")
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestPostProcessAndUTF16(t *testing.T) {
	// PostProcessPasswordBuffer: aligned 00 00 units become 01 00; nothing else changes.
	in := []byte{0x00, 0x00, 0x41, 0x00, 0x00, 0x41, 0x00, 0x00}
	if got := PostProcessPassword(in); !bytes.Equal(got, []byte{0x01, 0x00, 0x41, 0x00, 0x00, 0x41, 0x01, 0x00}) || in[0] != 0 {
		t.Errorf("post-processed %x (input must be untouched: %x)", got, in)
	}
	// Unpaired surrogates become U+FFFD; pairs become 4-byte UTF-8.
	for _, tc := range []struct{ in, want string }{
		{"00d8", "\xef\xbf\xbd"},                 // lone high surrogate
		{"00dc4100", "\xef\xbf\xbdA"},            // lone low surrogate
		{"3dd800de", "\xf0\x9f\x98\x80"},         // U+1F600
		{"00d800d8", "\xef\xbf\xbd\xef\xbf\xbd"}, // two highs
		{"410042", "A\xef\xbf\xbd"},              // odd trailing byte
	} {
		if got := UTF16ToUTF8(unhex(t, tc.in)); got != tc.want {
			t.Errorf("UTF16ToUTF8(%s) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// MS-NLMP: NT hash of "Password" is a4f49c406510bdcab6824ee7c30fd852.
	if got := NTHashString("Password"); !bytes.Equal(got, unhex(t, "a4f49c406510bdcab6824ee7c30fd852")) {
		t.Errorf("NTHash(Password) = %x", got)
	}
}

// Keys handed out by SeedKey/GetKey are the caller's: changing them must not poison the cache.
func TestDeriverResultsAreCopies(t *testing.T) {
	rk := goldenLabKey(t)
	d := NewDeriver()
	g := GKID{360, 16, 3}
	k1, _ := d.SeedKey(rk, GMSASecurityDescriptor, g)
	want := append([]byte(nil), k1...)
	for i := range k1 {
		k1[i] = 0
	}
	k2, _ := d.SeedKey(rk, GMSASecurityDescriptor, g)
	ref, _ := ComputeSeedKey(rk, GMSASecurityDescriptor, g)
	if !bytes.Equal(k2, want) || !bytes.Equal(k2, ref) {
		t.Fatal("cache was modified through a returned key")
	}
}
