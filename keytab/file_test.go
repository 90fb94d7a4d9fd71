package keytab

import (
	"bytes"
	"testing"
	"time"

	gokeytab "github.com/jcmturner/gokrb5/v8/keytab"
	"github.com/jcmturner/gokrb5/v8/types"
)

// The keytab writer is checked by an independent reader: gokrb5's keytab parser.
func TestMarshalReadByGokrb5(t *testing.T) {
	ts := time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC)
	aes := bytes.Repeat([]byte{0xab}, 32)
	rc4 := bytes.Repeat([]byte{0x11}, 16)
	entries := []Entry{
		{Components: []string{"ITFarm1$"}, Realm: "CONTOSO.COM", NameType: 1, Timestamp: ts, KVNO: 300, EType: 18, Key: aes},
		{Components: []string{"http", "ITFarm1.contoso.com"}, Realm: "CONTOSO.COM", NameType: 2, Timestamp: ts, KVNO: 2, EType: 23, Key: rc4},
	}
	raw, err := Marshal(entries)
	if err != nil {
		t.Fatal(err)
	}
	kt := gokeytab.New()
	if err := kt.Unmarshal(raw); err != nil {
		t.Fatalf("gokrb5 cannot read the keytab: %v", err)
	}
	if len(kt.Entries) != 2 {
		t.Fatalf("gokrb5 read %d entries, want 2", len(kt.Entries))
	}
	key, kvno, err := kt.GetEncryptionKey(types.NewPrincipalName(1, "ITFarm1$"), "CONTOSO.COM", 0, 18)
	if err != nil || kvno != 300 || !bytes.Equal(key.KeyValue, aes) {
		t.Errorf("account entry: kvno %d key %x err %v", kvno, key.KeyValue, err)
	}
	key, kvno, err = kt.GetEncryptionKey(types.NewPrincipalName(2, "http/ITFarm1.contoso.com"), "CONTOSO.COM", 2, 23)
	if err != nil || kvno != 2 || !bytes.Equal(key.KeyValue, rc4) {
		t.Errorf("SPN entry: kvno %d key %x err %v", kvno, key.KeyValue, err)
	}
	if !kt.Entries[0].Timestamp.Equal(ts) {
		t.Errorf("timestamp %v, want %v", kt.Entries[0].Timestamp, ts)
	}
}

func TestDNSOfDN(t *testing.T) {
	for in, want := range map[string]string{"DC=contoso,DC=com": "contoso.com", "dc=Corp,DC=Fabrikam,dc=local": "corp.fabrikam.local"} {
		if got, err := dnsOfDN(in); err != nil || got != want {
			t.Errorf("dnsOfDN(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := dnsOfDN("CN=Users"); err == nil {
		t.Error("dnsOfDN without DC= should fail")
	}
}
