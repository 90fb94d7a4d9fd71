package ntlm_test

import (
	"bytes"
	"encoding/asn1"
	"testing"
)

// TestNTLMMechTypeDER pins the doc's DER for NTLMSSP's SPNEGO mechType, 1.3.6.1.4.1.311.2.2.10.
func TestNTLMMechTypeDER(t *testing.T) {
	der, err := asn1.Marshal(asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 2, 10})
	if err != nil {
		t.Fatal(err)
	}
	if want := []byte{0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a}; !bytes.Equal(der, want) {
		t.Fatalf("DER %x, want %x", der, want)
	}
}
