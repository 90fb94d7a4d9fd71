package fakekds

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"testing"

	"github.com/gmsasim/gmsasim/ad"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex in test table: %v", err)
	}
	return b
}

func testRootKey(t testing.TB, id, dataHex string, h HashAlg) *RootKey {
	t.Helper()
	g, err := ad.ParseGUID(id)
	if err != nil {
		t.Fatal(err)
	}
	return &RootKey{ID: g, Version: 1, Data: unhex(t, dataHex), KDFAlgorithmID: KDFAlgorithmID, KDFParam: MarshalKdfParameters(h)}
}

// Semperis/GoldenGMSA README.md @ c0a1a4ae3169db207083c84b0adf4219da4721c0: a real lab domain
// (shenanigans.labs), password computed by Windows kdscli.dll.
func TestGoldenGMSAEndToEnd(t *testing.T) {
	rk := testRootKey(t, "46e5b8b9-ca57-01e6-e8b9-fbb267e4adeb",
		"c9fae69689abe866d47d9a5e781ba98f474793d5c51e3d3d3cc61b45f288af32a8c00106b9c74438a07db5ed0f739e84636e5d5456484ef448cd11edd8c6dbf3", SHA512)
	idBlob, _ := base64.StdEncoding.DecodeString("AQAAAEtEU0sCAAAAaAEAABAAAAADAAAAubjlRlfK5gHoufuyZ+St6wAAAAAiAAAAIgAAAHMAaABlAG4AYQBuAGkAZwBhAG4AcwAuAGwAYQBiAHMAAABzAGgAZQBuAGEAbgBpAGcAYQBuAHMALgBsAGEAYgBzAAAA")
	id, err := ParsePasswordID(idBlob)
	if err != nil {
		t.Fatal(err)
	}
	if id.GKID != (GKID{360, 16, 3}) || id.RootKeyID != rk.ID || id.Domain != "shenanigans.labs" || id.Forest != "shenanigans.labs" || id.Version != 1 || id.Flags != 2 {
		t.Fatalf("parsed id = %+v", id)
	}
	if got := id.Marshal(); !bytes.Equal(got, idBlob) {
		t.Fatalf("re-marshalled id differs:\n got %x\nwant %x", got, idBlob)
	}
	sid, err := ad.ParseSID("S-1-5-21-1437000690-1664695696-1586295871-1112")
	if err != nil {
		t.Fatal(err)
	}
	pw, err := GMSAPassword(rk, id.GKID, sid)
	if err != nil {
		t.Fatal(err)
	}
	want := unhex(t, "652590233e662db11cc3a9a6f09e3d0d60800f10d3ef4dd43c52db45fb434ea13b5b301f99dee642def9a3566f2294ea1a8e68919c9c0f6ad9801755bbdc1b4f12102fa1f885b01c3835b8dd8bf4b57c68d0861a8e10a2cab27b56f721b3875652d0840ffd2939d4adc46d87edd4ab88b82837ad9826eb218d12241c642f2b8139ccfbeee5d4447a93820ee84013a1759a8df790ab69a3b7d6be536042060d22f098aadbf83e763336445962a6cc67086872390c445abd5b3039633619c23e7081e0668bb165d9b726ef5dfd00800866052cd5768c10f5e78e51468b31fcaf2f5bf623acbfa61a1d606d92d9b9102495707187a4b212564ed1ce7dad46f9637b")
	if !bytes.Equal(pw, want) {
		t.Fatalf("password:\n got %x\nwant %x", pw, want)
	}
}

// MichaelGrafnetter/DSInternals @ 894f5ed6: KdsRootKeyTester.GetGmsaPassword_Vector3 and
// ComputeL0Key_Vector1 (computed with Windows kdscli.dll).
func TestDSInternalsNTHashAndL0(t *testing.T) {
	rk := testRootKey(t, "7dc95c96-fa85-183a-dff5-f70696bf0b11",
		"814ad2f3928ff96d3650487967392feab3924f3d0dff8629d46a723640101cff8ca2cbd6aba40805cf03b380803b27837d80663eb4d18fd4cec414ebb2271fe2", SHA512)
	l0, err := ComputeL0Key(rk, 361)
	if err != nil {
		t.Fatal(err)
	}
	if want := "76d7341bbf6f85f439a14d3f68c6de31a83d2c55b1371c9c122f5b6f0eccff282973da43349da2b21a0a89b050b49e9ace951323f27638ccbfce8b6a0ead782b"; hex.EncodeToString(l0) != want {
		t.Errorf("L0 key = %x, want %s", l0, want)
	}
	id, err := ParsePasswordID(unhex(t, "010000004b44534b02000000690100001a00000018000000965cc97d85fa3a18dff5f70696bf0b1100000000180000001800000063006f006e0074006f0073006f002e0063006f006d00000063006f006e0074006f0073006f002e0063006f006d000000"))
	if err != nil {
		t.Fatal(err)
	}
	if id.GKID != (GKID{361, 26, 24}) || id.Domain != "contoso.com" || id.RootKeyID != rk.ID {
		t.Fatalf("parsed id = %+v", id)
	}
	sid, _ := ad.ParseSID("S-1-5-21-2468531440-3719951020-3687476655-1109")
	pw, err := GMSAPassword(rk, id.GKID, sid)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(NTHash(pw)); got != "0b5fbfb646dd7bce4f160ad69edb86ba" {
		t.Errorf("NT hash = %s, want 0b5fbfb646dd7bce4f160ad69edb86ba", got)
	}
}

// samba-team/samba @ 4614f04b lib/crypto/test_gkdi_key_derivation.c (also
// python/samba/tests/krb5/gkdi_tests.py GkdiSelfTests.test_current_l0_idx_both_seed_keys).
func TestSambaSeedKeysInline(t *testing.T) {
	rk := testRootKey(t, "09de0b38-c743-7abf-44ea-7a3c3e404314",
		"d5912d0eb3bd60e1371b1e525dd83be7fc5baf77018b0dba6bd948b7a98ebe5af37674332506a46c52c108a62f2a3e89251ad1bde6d539004679c0658853bb68", SHA512)
	for _, tc := range []struct {
		g    GKID
		want string
	}{
		{GKID{123, 20, -1}, "b1f7c5896e7dc791d9c0aaf8ca7dbab8c172a4f8b873db488a3c4cbd0f559b1152ffba39d4aff2d9e8aada90b27a3c94a5af996f4b8f584a4f37ccab4d505d3d"},
		{GKID{123, 21, 0}, "133c9bbd20d9227aeb38dfcd3be6bcbfc5983ba37202088ff5c8a70511214506a69c195a8807cd844bcb955e9569c8e4d197759f28577cc126d15f16a7da4ee0"},
	} {
		got, err := ComputeSeedKey(rk, GMSASecurityDescriptor, tc.g)
		if err != nil {
			t.Fatalf("%v: %v", tc.g, err)
		}
		if hex.EncodeToString(got) != tc.want {
			t.Errorf("%v: got %x, want %s", tc.g, got, tc.want)
		}
	}
}

// DSInternals KerberosKeyDerivationTester.cs (Windows cryptdll) and KerberosKeyDerivation salts.
func TestDSInternalsKerberosKeys(t *testing.T) {
	svc := unhex(t, "f81377aacff9cafe039d91a8f758de148200332b062dc1ac59d8cfcb4f14d9fe0def16e33e4b1a7d90645407860797097ac424570c0664f50d3f3433cea5c3e8594eada2797ef1e27cda6d92fe72d3425206e3ca173f01ac04325d0eaab2eac06b3ff7b4668f3a62a1696e27c1c32e7f06e09adb7784290a2704dc02416bb46c19e91bc4b5a842ce0879459439f685b20225134ed4562cb5bcd944d0acb07986308466385a455e65fd0ee325cae97709a33bc0f413b66ef40bbc59ce7a2a20f500cc1f80a13849b86efbfd59f037277c017ac4bfda3596a75cf06d84a5e118a948653f1aef02dec76501d26ea3cc3b63bb587824a727d02373ea8a5a9e7a71f5")
	for _, tc := range []struct {
		name, etype, password, salt, want string
	}{
		{"AES256_Service", EtypeAES256, UTF16ToUTF8(svc), "CONTOSO.COMhostsvc_adfs.contoso.com", "5dcc418cd0a30453b267e6e5b158be4b4d80d23fd72a6ae4d5bd07f023517117"},
		{"AES256_User", EtypeAES256, "Pa$$w0rd", "ADATUM.COMApril", "3a3b6a89bb82d112db5ef68f6db5d1afc2b806df61dcd85e3eacf3b85ee382d8"},
		{"AES128", EtypeAES128, "Pa$$w0rd", "ADATUM.COMApril", "a72c8bc96c4a6f03244f0b0067a1e440"},
	} {
		got, err := KerberosKey(tc.etype, tc.password, tc.salt)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if hex.EncodeToString(got) != tc.want {
			t.Errorf("%s: got %x, want %s", tc.name, got, tc.want)
		}
	}
	// KeysFromString derives both AES keys from one PBKDF2: the same Windows vectors.
	k, err := KeysFromString("Pa$$w0rd", "ADATUM.COMApril")
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(k.AES256) != "3a3b6a89bb82d112db5ef68f6db5d1afc2b806df61dcd85e3eacf3b85ee382d8" || hex.EncodeToString(k.AES128) != "a72c8bc96c4a6f03244f0b0067a1e440" {
		t.Errorf("KeysFromString: AES256 %x, AES128 %x", k.AES256, k.AES128)
	}
	if got := Salt("Contoso.com", "DC01$"); got != "CONTOSO.COMhostdc01.contoso.com" {
		t.Errorf("computer salt = %q", got)
	}
	if got := Salt("Adatum.com", "April"); got != "ADATUM.COMApril" {
		t.Errorf("user salt = %q", got)
	}
}

// RFC 3961 appendix A.1 n-fold vectors and RFC 3962 appendix B string-to-key vectors.
func TestRFC3961NFoldAndRFC3962(t *testing.T) {
	for _, tc := range []struct {
		in   string
		bits int
		want string
	}{
		{"012345", 64, "be072631276b1955"},
		{"password", 56, "78a07b6caf85fa"},
		{"Rough Consensus, and Running Code", 64, "bb6ed30870b7f0e0"},
		{"password", 168, "59e4a8ca7c0385c3c37b3f6d2000247cb6e6bd5b3e"},
		{"MASSACHVSETTS INSTITVTE OF TECHNOLOGY", 192, "db3b0d8f0b061e603282b308a50841229ad798fab9540c1b"},
		{"Q", 168, "518a54a215a8452a518a54a215a8452a518a54a215"},
		{"ba", 168, "fb25d531ae8974499f52fd92ea9857c4ba24cf297e"},
		{"kerberos", 64, "6b65726265726f73"},
		{"kerberos", 128, "6b65726265726f737b9b5b2b93132b93"},
		{"kerberos", 168, "8372c236344e5f1550cd0747e15d62ca7a5a3bcea4"},
		{"kerberos", 256, "6b65726265726f737b9b5b2b93132b935c9bdcdad95c9899c4cae4dee6d6cae4"},
	} {
		if got := hex.EncodeToString(nfold([]byte(tc.in), tc.bits/8)); got != tc.want {
			t.Errorf("%d-fold(%q) = %s, want %s", tc.bits, tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		iter, keyLen int
		want         string
	}{
		{1, 16, "42263c6e89f4fc28b8df68ee09799f15"},
		{1, 32, "fe697b52bc0d3ce14432ba036a92e65bbb52280990a2fa27883998d72af30161"},
		{1200, 16, "4c01cd46d632d01e6dbe230a01ed642a"},
		{1200, 32, "55a6ac740ad17b4846941051e1e8b0a7548d93b0ab30a8bc3ff16280382b8c2a"},
	} {
		got, err := aesStringToKey("password", "ATHENA.MIT.EDUraeburn", tc.iter, tc.keyLen)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got) != tc.want {
			t.Errorf("iter %d len %d: got %x, want %s", tc.iter, tc.keyLen, got, tc.want)
		}
	}
}
