package kdc_test

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/gmsasim/gmsasim/fakead"
	"github.com/gmsasim/gmsasim/fakead/kdc"
	"github.com/gmsasim/gmsasim/fakekds"
	"github.com/jcmturner/gokrb5/v8/types"
	"golang.org/x/crypto/md4"
)

// managedPassword is a 256-byte gMSA password of valid UTF-16 (so the test can convert it to
// UTF-8 on its own), varied by seed.
func managedPassword(seed byte) []byte {
	b := make([]byte, 256)
	for i := 0; i < 128; i++ {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(0x4e00+int(seed)*131+i*7)) // CJK, no surrogates
	}
	return b
}

func utf16leToString(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// A gMSA whose directory constructs msDS-ManagedPassword: the KDC derives its keys from the
// current password (AES with the machine salt, RC4 = MD4 of the raw bytes) and follows a rotation.
func TestGMSAKeysFromManagedPassword(t *testing.T) {
	f := newFixture(t)
	const dn = "CN=Managed1,CN=Managed Service Accounts,DC=contoso,DC=com"
	current := managedPassword(1)
	err := f.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		d.RegisterConstructed(fakead.ConstructedAttr{Name: "msDS-ManagedPassword", RequiresEncryption: true,
			Compute: func(now time.Time, c fakead.Caller, d *fakead.Directory, at string) ([][]byte, error) {
				if !strings.EqualFold(at, dn) {
					return nil, nil
				}
				blob := &fakekds.ManagedPasswordBlob{Current: current}
				return [][]byte{blob.Marshal()}, nil
			}})
		return d.Add(now, fakead.SystemCaller, dn, []fakead.Attribute{
			attr("objectClass", "msDS-GroupManagedServiceAccount"), attr("msDS-ManagedPasswordInterval", "30"),
			attr("sAMAccountName", "Managed1$"), attr("dNSHostName", "managed1.contoso.com"),
			attr("servicePrincipalName", "http/managed1.contoso.com"),
			attr("msDS-SupportedEncryptionTypes", "28")})
	})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := f.login("alice", pwAlice, true)
	if err != nil {
		t.Fatal(err)
	}
	const salt = "CONTOSO.COMhostmanaged1.contoso.com"
	for round, pw := range [][]byte{managedPassword(1), managedPassword(2)} {
		// The directory now constructs this password (as after a rotation).
		f.w.ExecOn("DC1", func(time.Time, *fakead.Directory) error { current = pw; return nil })
		cl.Destroy()
		cl, err = f.login("alice", pwAlice, true)
		if err != nil {
			t.Fatal(err)
		}
		tkt, _, err := cl.GetServiceTicket("http/managed1.contoso.com")
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		aes := adKey(t, kdc.EtypeAES256, utf16leToString(pw), salt)
		if err := tkt.Decrypt(aes); err != nil {
			t.Errorf("round %d: the ticket does not decrypt with the current password's AES256 key: %v", round, err)
		}
		if round == 1 {
			old := adKey(t, kdc.EtypeAES256, utf16leToString(managedPassword(1)), salt)
			if err := tkt.Decrypt(old); err == nil {
				t.Errorf("after the rotation the ticket still decrypts with the previous key")
			}
		}
	}
	// The RC4 key is MD4 of the raw password bytes, not of a UTF-8 round trip.
	h := md4.New()
	h.Write(current)
	rc4 := types.EncryptionKey{KeyType: kdc.EtypeRC4, KeyValue: h.Sum(nil)}
	var p *kdc.Principal
	f.w.ExecOn("DC1", func(now time.Time, d *fakead.Directory) error {
		p, err = kdc.NewDirectory(d).Service(now, []string{"http", "managed1.contoso.com"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if string(p.Keys[kdc.EtypeRC4]) != string(rc4.KeyValue) || p.Kind != kdc.KindGMSA || p.Salt != salt {
		t.Errorf("principal: kind %s salt %q rc4 %x, want gMSA %q %x", p.Kind, p.Salt, p.Keys[kdc.EtypeRC4], salt, rc4.KeyValue)
	}
}
