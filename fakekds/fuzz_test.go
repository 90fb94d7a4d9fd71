package fakekds

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/gmsasim/gmsasim/ad"
)

// Seeds for the fuzz corpora: the public Windows structures (sources named in
// inline_vectors_test.go and vectors_test.go).
var (
	seedIDContoso, _   = hex.DecodeString("010000004b44534b02000000690100001a00000018000000965cc97d85fa3a18dff5f70696bf0b1100000000180000001800000063006f006e0074006f0073006f002e0063006f006d00000063006f006e0074006f0073006f002e0063006f006d000000")
	seedIDGolden, _    = base64.StdEncoding.DecodeString("AQAAAEtEU0sCAAAAaAEAABAAAAADAAAAubjlRlfK5gHoufuyZ+St6wAAAAAiAAAAIgAAAHMAaABlAG4AYQBuAGkAZwBhAG4AcwAuAGwAYQBiAHMAAABzAGgAZQBuAGEAbgBpAGcAYQBuAHMALgBsAGEAYgBzAAAA")
	seedBlobWindows, _ = hex.DecodeString("01000000220100001000000012011a018d41ed97980fadc8333efc1e2db4fe09948652765d83cfcbe52bee9a555e15927c2b854ba80fddf136267f8604e8b43670e02312b28cf135b14b2fb29411b2a34e33520fc575023973f3fb924bf91537e27d55709c552a27831129c6e9a32cab86915d865a5ff446fc894cc80f1405567deb0203a1f9041af5cd8a11f9218b96818e23177bbed9585380bb180345fa3889569ec59e7a8a6514fc6969761ceb18dcfb3a2c34e7424afad7cf60d93999190b050a51c6c6f2f5535b7aaf4a1efe1ada71c1f9bd5f7d97f9eb844245aaeb8f6b9b1a22a01ba64f2068f6643a4c9266f1690897a3141ae8218a9fb881bb1e7bb5119554b7f8d2fe2e62e10c31c4c0950000a9bf44846e170000a96174d16d170000")
)

func FuzzParsePasswordID(f *testing.F) {
	f.Add(seedIDContoso)
	f.Add(seedIDGolden)
	f.Add(seedIDContoso[:len(seedIDContoso)-1])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := ParsePasswordID(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if !bytes.Equal(id.Marshal(), b) {
			t.Fatalf("accepted input does not re-marshal to itself: %x", b)
		}
	})
}

func FuzzParseManagedPasswordBlob(f *testing.F) {
	f.Add(seedBlobWindows)
	withPrev := (&ManagedPasswordBlob{Current: []byte("a\x00b\x00"), Previous: []byte("c\x00"), QueryInterval: 5, UnchangedInterval: 1}).Marshal()
	f.Add(withPrev)
	f.Add(seedBlobWindows[:20])
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseManagedPasswordBlob(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if len(m.Current)%2 != 0 || len(m.Previous)%2 != 0 {
			t.Fatalf("odd password length")
		}
		// Re-marshalling normalises the layout; parsing that gives the same fields.
		again, err := ParseManagedPasswordBlob(m.Marshal())
		if err != nil || !bytes.Equal(again.Current, m.Current) || !bytes.Equal(again.Previous, m.Previous) ||
			(again.Previous == nil) != (m.Previous == nil) || again.QueryInterval != m.QueryInterval || again.UnchangedInterval != m.UnchangedInterval {
			t.Fatalf("marshal/parse round trip differs: %v", err)
		}
	})
}

func FuzzParseKdfParameters(f *testing.F) {
	for _, h := range []HashAlg{SHA1, SHA256, SHA384, SHA512} {
		f.Add(MarshalKdfParameters(h))
	}
	f.Add([]byte{0, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseKdfParameters(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if len(b) > 0 && !bytes.Equal(MarshalKdfParameters(h), b) {
			t.Fatalf("accepted %x but it is not the canonical blob for %v", b, h)
		}
	})
}

// FuzzParseRootKey mutates the key data, KDF parameters and version of a valid key.
func FuzzParseRootKey(f *testing.F) {
	f.Add(MarshalKdfParameters(SHA512), bytes.Repeat([]byte{7}, 64), "1", "132895441920205022")
	f.Add([]byte{}, []byte{1}, "2", "-1")
	f.Fuzz(func(t *testing.T, kdfParam, data []byte, version, start string) {
		rk, err := ParseRootKey([]Attr{
			{"cn", [][]byte{[]byte("46e5b8b9-ca57-01e6-e8b9-fbb267e4adeb")}},
			{"msKds-Version", [][]byte{[]byte(version)}},
			{"msKds-RootKeyData", [][]byte{data}},
			{"msKds-KDFAlgorithmID", [][]byte{[]byte(KDFAlgorithmID)}},
			{"msKds-KDFParam", [][]byte{kdfParam}},
			{"msKds-SecretAgreementAlgorithmID", [][]byte{[]byte("DH")}},
			{"msKds-PublicKeyLength", [][]byte{[]byte("2048")}},
			{"msKds-PrivateKeyLength", [][]byte{[]byte("512")}},
			{"msKds-DomainID", [][]byte{[]byte("CN=DC1")}},
			{"msKds-CreateTime", [][]byte{[]byte("1")}},
			{"msKds-UseStartTime", [][]byte{[]byte(start)}},
		})
		if err != nil {
			if !errors.Is(err, ErrBadRootKey) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if _, err := ComputeSeedKey(rk, GMSASecurityDescriptor, GKID{1, 31, 31}); err != nil {
			t.Fatalf("a key that parsed must derive: %v", err)
		}
	})
}

// FuzzManagedPassword feeds arbitrary stored ids and times to the read path.
func FuzzManagedPassword(f *testing.F) {
	f.Add(seedIDGolden, []byte{}, uint64(132895801920510000), uint64(132895801920510000+31*uint64(Day)), int64(30))
	f.Add([]byte{}, seedIDGolden, uint64(0), uint64(1), int64(0))
	f.Fuzz(func(t *testing.T, cur, prev []byte, created, now uint64, days int64) {
		rk := goldenLabKey(t)
		acct := Account{SID: ad.SID{Authority: 5, SubAuthority: []uint32{21, 1}}, Created: ad.FileTime(created), IntervalDays: days % 400, Domain: "x", Forest: "x"}
		if len(cur) > 0 {
			acct.CurrentID = cur
		}
		if len(prev) > 0 {
			acct.PreviousID = prev
		}
		res, err := NewDeriver().ManagedPassword([]*RootKey{rk}, acct, ad.FileTime(now))
		if err != nil {
			for _, kind := range []error{ErrMalformed, ErrNoRootKey, ErrRootKeyNotYetValid, ErrBadRootKey, ErrInvalidGKID, ErrInvalidArgument} {
				if errors.Is(err, kind) {
					return
				}
			}
			t.Fatalf("untyped error %v", err)
		}
		if _, err := ParseManagedPasswordBlob(res.Blob); err != nil {
			t.Fatalf("produced an unparsable blob: %v", err)
		}
	})
}
