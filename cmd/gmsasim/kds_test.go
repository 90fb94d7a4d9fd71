package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// runKDSJSON runs `gmsasim kds args...` and decodes its one JSON object.
func runKDSJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if rc := runKDS(args, &stdout, &stderr); rc != 0 {
		t.Fatalf("kds %v: exit %d, stderr %s", args, rc, stderr.String())
	}
	if strings.Count(stdout.String(), "\n") != 1 {
		t.Fatalf("kds %v: want exactly one line of JSON, got %q", args, stdout.String())
	}
	var m map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &m); err != nil {
		t.Fatalf("kds %v: %v in %q", args, err, stdout.String())
	}
	return m
}

func keysOf(m map[string]any) string {
	var k []string
	for name := range m {
		k = append(k, name)
	}
	sort.Strings(k)
	return strings.Join(k, ",")
}

func gkidOf(v any) []float64 {
	a, _ := v.([]any)
	out := make([]float64, len(a))
	for i, x := range a {
		out[i], _ = x.(float64)
	}
	return out
}

const (
	// DSInternals KdsRootKeyTester (Windows kdscli.dll).
	dsiRootKeyID   = "7dc95c96-fa85-183a-dff5-f70696bf0b11"
	dsiRootKeyData = "814ad2f3928ff96d3650487967392feab3924f3d0dff8629d46a723640101cff8ca2cbd6aba40805cf03b380803b27837d80663eb4d18fd4cec414ebb2271fe2"
	dsiPasswordID  = "010000004b44534b02000000690100001a00000018000000965cc97d85fa3a18dff5f70696bf0b1100000000180000001800000063006f006e0074006f0073006f002e0063006f006d00000063006f006e0074006f0073006f002e0063006f006d000000"
	// Semperis/GoldenGMSA README (real lab domain, kdscli.dll).
	goldenRootKeyID   = "46e5b8b9-ca57-01e6-e8b9-fbb267e4adeb"
	goldenRootKeyData = "c9fae69689abe866d47d9a5e781ba98f474793d5c51e3d3d3cc61b45f288af32a8c00106b9c74438a07db5ed0f739e84636e5d5456484ef448cd11edd8c6dbf3"
	goldenIDBase64    = "AQAAAEtEU0sCAAAAaAEAABAAAAADAAAAubjlRlfK5gHoufuyZ+St6wAAAAAiAAAAIgAAAHMAaABlAG4AYQBuAGkAZwBhAG4AcwAuAGwAYQBiAHMAAABzAGgAZQBuAGEAbgBpAGcAYQBuAHMALgBsAGEAYgBzAAAA"
	goldenPassword    = "652590233e662db11cc3a9a6f09e3d0d60800f10d3ef4dd43c52db45fb434ea13b5b301f99dee642def9a3566f2294ea1a8e68919c9c0f6ad9801755bbdc1b4f12102fa1f885b01c3835b8dd8bf4b57c68d0861a8e10a2cab27b56f721b3875652d0840ffd2939d4adc46d87edd4ab88b82837ad9826eb218d12241c642f2b8139ccfbeee5d4447a93820ee84013a1759a8df790ab69a3b7d6be536042060d22f098aadbf83e763336445962a6cc67086872390c445abd5b3039633619c23e7081e0668bb165d9b726ef5dfd00800866052cd5768c10f5e78e51468b31fcaf2f5bf623acbfa61a1d606d92d9b9102495707187a4b212564ed1ce7dad46f9637b"
)

func TestKDSGKID(t *testing.T) {
	// DSInternals GetGmsaPassword_Vector1/3: this FILETIME is in (361,26,24).
	m := runKDSJSON(t, "gkid", "--filetime", "133387453261266352")
	if keysOf(m) != "gkid,start_filetime" || !reflect.DeepEqual(gkidOf(m["gkid"]), []float64{361, 26, 24}) {
		t.Errorf("got %v", m)
	}
	// DSInternals IntervalCalculation_Reverse: (361,28,4) starts 2023-09-27T16:00:00Z = 133403040000000000.
	var out bytes.Buffer
	runKDS([]string{"gkid", "--filetime", "133403040000000000"}, &out, &out)
	if out.String() != `{"gkid":[361,28,4],"start_filetime":133403040000000000}`+"\n" {
		t.Errorf("got %s", out.String())
	}
}

func TestKDSSeedKey(t *testing.T) {
	// DSInternals ComputeL0Key_Vector1.
	m := runKDSJSON(t, "seedkey", "--root-key-id", dsiRootKeyID, "--root-key-data", dsiRootKeyData, "--gkid", "361,-1,-1")
	if m["key_hex"] != "76d7341bbf6f85f439a14d3f68c6de31a83d2c55b1371c9c122f5b6f0eccff282973da43349da2b21a0a89b050b49e9ace951323f27638ccbfce8b6a0ead782b" {
		t.Errorf("L0 key %v", m)
	}
	// samba lib/crypto/test_gkdi_key_derivation.c, test_sha256 (L2).
	m = runKDSJSON(t, "seedkey", "--root-key-id", "45e26207-ed33-dcd5-925a-518a0deef69e", "--kdf", "SHA256",
		"--root-key-data", "28b5b6503d3c1d24814de781bb7bfce3ef69eed1ce4809372bee2c506270c5f0b5c6df597472623f256c86daa0991e8a11a1705f21b2cfdc0bb9db4ba23246a2",
		"--gkid", "222,22,22")
	if keysOf(m) != "key_hex" || m["key_hex"] != "752a0879ae2424c0504c7493599f13e588e1bbdc252f83325ad5b1fb91c24c8901d440f3ff9ffba59fcd65bb975732d9f383dd50b898174bb9393e383d25d540" {
		t.Errorf("L2 key %v", m)
	}
	// samba test_sha1 (next older L1), with the SD given explicitly.
	m = runKDSJSON(t, "seedkey", "--root-key-id", "970abad6-fe55-073a-caf1-b801d3f26bd3", "--kdf", "sha1",
		"--root-key-data", "3bed03bf0fb7d4013149154f24ca2d59b98db6d588cb1f54eca083855e25eb28d3562a01adc78c4b70e0b72a59515863e7732b853fba02dd7646e63108441211",
		"--gkid", "1,1,-1", "--sd", "010004803000000000000000000000001400000002001c0001000000000014009f011200010100000000000509000000010100000000000512000000")
	if m["key_hex"] != "576cb68f2e52eb739f817b488c3590d86f1c2c365f3fc9201d9c7fee7494853d58746ee13e48f18aa6fa69f7157de3d07de34e13836792b7c088ffb6914a89c2" {
		t.Errorf("L1 key %v", m)
	}
}

func TestKDSPassword(t *testing.T) {
	// GoldenGMSA end to end: all 256 bytes.
	raw, _ := base64.StdEncoding.DecodeString(goldenIDBase64)
	m := runKDSJSON(t, "password", "--root-key-id", goldenRootKeyID, "--root-key-data", goldenRootKeyData,
		"--sid", "S-1-5-21-1437000690-1664695696-1586295871-1112", "--password-id", hex.EncodeToString(raw),
		"--account", "gmsa1$", "--domain", "shenanigans.labs")
	if keysOf(m) != "aes128_key,aes256_key,gkid,nt_hash,password_hex,salt" {
		t.Fatalf("fields %s", keysOf(m))
	}
	if m["password_hex"] != goldenPassword || !reflect.DeepEqual(gkidOf(m["gkid"]), []float64{360, 16, 3}) {
		t.Errorf("GoldenGMSA password: %v", m)
	}
	if m["salt"] != "SHENANIGANS.LABShostgmsa1.shenanigans.labs" {
		t.Errorf("salt %v", m["salt"])
	}
	// The AES key must be what string-to-key gives for the same password bytes and salt.
	s2k := runKDSJSON(t, "string-to-key", "--etype", "aes256", "--password-utf16le-hex", goldenPassword, "--salt", "SHENANIGANS.LABShostgmsa1.shenanigans.labs")
	if s2k["key_hex"] != m["aes256_key"] || len(m["aes128_key"].(string)) != 32 {
		t.Errorf("AES keys inconsistent: %v vs %v", s2k, m)
	}
	// DSInternals GetGmsaPassword_Vector3 and Vector1 (by --gkid): NT hash from AD.
	for _, sel := range [][]string{{"--password-id", dsiPasswordID}, {"--gkid", "361,26,24"}} {
		args := append([]string{"password", "--root-key-id", dsiRootKeyID, "--root-key-data", dsiRootKeyData, "--sid", "S-1-5-21-2468531440-3719951020-3687476655-1109"}, sel...)
		m = runKDSJSON(t, args...)
		if keysOf(m) != "gkid,nt_hash,password_hex" || m["nt_hash"] != "0b5fbfb646dd7bce4f160ad69edb86ba" || len(m["password_hex"].(string)) != 512 {
			t.Errorf("%v: %v", sel, m)
		}
	}
}

func TestKDSRollover(t *testing.T) {
	// DSInternals GetGmsaPassword_Vector4: ~7 rotations after creation the id is (361,27,7).
	// Previous: one period (72 cycles) earlier = cycle 370535−72 = (361,24,31). Next rotation:
	// start(361,27,7) + 30 days.
	m := runKDSJSON(t, "rollover", "--created", "133211195280000000", "--now", "133404554396754922")
	start := uint64((361*32+27)*32+7) * 360000000000
	if keysOf(m) != "current_gkid,next_rotation_filetime,previous_gkid" ||
		!reflect.DeepEqual(gkidOf(m["current_gkid"]), []float64{361, 27, 7}) ||
		!reflect.DeepEqual(gkidOf(m["previous_gkid"]), []float64{361, 24, 31}) ||
		m["next_rotation_filetime"] != float64(start+30*864000000000) {
		t.Errorf("got %v", m)
	}
	// DSInternals Vector2: same interval, not yet rotated; the account is younger than 30
	// days, so there is no previous password.
	m = runKDSJSON(t, "rollover", "--created", "133387453261266352", "--now", "133403352475182719", "--interval-days", "30")
	if !reflect.DeepEqual(gkidOf(m["current_gkid"]), []float64{361, 26, 24}) || m["previous_gkid"] != nil {
		t.Errorf("got %v", m)
	}
}

func TestKDSDecode(t *testing.T) {
	// samba python/samba/tests/ndr/gkdi.py KeyEnvelopeTests.
	var out, errb bytes.Buffer
	runKDS([]string{"decode-id", "--hex", "010000004b44534b020000006a010000010000000e0000003122929d27af3bb71056aeb18eeca71a0000000018000000180000006500780061006d0070006c0065002e0063006f006d0000006500780061006d0070006c0065002e0063006f006d000000"}, &out, &errb)
	if want := `{"version":1,"gkid":[362,1,14],"root_key_id":"9d922231-af27-b73b-1056-aeb18eeca71a","domain":"example.com","forest":"example.com"}` + "\n"; out.String() != want {
		t.Errorf("decode-id: %s%s", out.String(), errb.String())
	}
	// DSInternals ManagedPassword_Vector1: a blob from AD, NT hash from AD.
	m := runKDSJSON(t, "decode-blob", "--hex", "01000000220100001000000012011a011609f270f541c315ffee9fcd22a98447b5c6e6fb7151cb020a2b017bb4e003647949967fc96f7c9ec3426b80901bb9c162867cbc68c520c4d7a431c3d9a670f8aa41d2ae5c0c08f27f8698b90c18a5a576e9933fb0cadaf8e661be2f58308c580866b1ae582ee50a9aa7c5d65a312dbbc3542c51c7e0b2d4c61e9763de481d9963367273aa72b53c2e402e31c6cd38e7785ad06639cdfa07738d19ae20c370e06787ad2f600823c505fc9dd32b3f06505da37b86b298d3650140af83c1f01c907964d182ea0efb19e74c949f58123fdecb41f78ed0eabbde31bb46afd3134da82550380ed36038d100f71095404a97e52d661dbe4f74deef4122a102dca698960000864973f96017000086eba24660170000")
	if keysOf(m) != "current_nt_hash,current_password_hex,previous_nt_hash,previous_password_hex,query_interval,unchanged_interval" ||
		m["current_nt_hash"] != "1fe07f47bfa7f511d902ed5cfb79cc4d" || m["previous_password_hex"] != nil || m["previous_nt_hash"] != nil ||
		len(m["current_password_hex"].(string)) != 512 {
		t.Errorf("decode-blob: %v", m)
	}
	// samba librpc/tests/test_ndr_gmsa.c: intervals of a Windows blob.
	m = runKDSJSON(t, "decode-blob", "--hex", "01000000220100001000000012011a018d41ed97980fadc8333efc1e2db4fe09948652765d83cfcbe52bee9a555e15927c2b854ba80fddf136267f8604e8b43670e02312b28cf135b14b2fb29411b2a34e33520fc575023973f3fb924bf91537e27d55709c552a27831129c6e9a32cab86915d865a5ff446fc894cc80f1405567deb0203a1f9041af5cd8a11f9218b96818e23177bbed9585380bb180345fa3889569ec59e7a8a6514fc6969761ceb18dcfb3a2c34e7424afad7cf60d93999190b050a51c6c6f2f5535b7aaf4a1efe1ada71c1f9bd5f7d97f9eb844245aaeb8f6b9b1a22a01ba64f2068f6643a4c9266f1690897a3141ae8218a9fb881bb1e7bb5119554b7f8d2fe2e62e10c31c4c0950000a9bf44846e170000a96174d16d170000")
	if m["query_interval"] != float64(25763432939433) || m["unchanged_interval"] != float64(25760432939433) {
		t.Errorf("intervals: %v", m)
	}
}

func TestKDSStringToKeyAndSalt(t *testing.T) {
	// DSInternals KerberosKeyDerivationTester (Windows cryptdll).
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--etype", "aes256", "--password", "Pa$$w0rd", "--salt", "ADATUM.COMApril"}, "3a3b6a89bb82d112db5ef68f6db5d1afc2b806df61dcd85e3eacf3b85ee382d8"},
		{[]string{"--etype", "aes128", "--password", "Pa$$w0rd", "--salt", "ADATUM.COMApril"}, "a72c8bc96c4a6f03244f0b0067a1e440"},
		{[]string{"--etype", "aes256", "--salt", "CONTOSO.COMhostsvc_adfs.contoso.com", "--password-utf16le-hex", "f81377aacff9cafe039d91a8f758de148200332b062dc1ac59d8cfcb4f14d9fe0def16e33e4b1a7d90645407860797097ac424570c0664f50d3f3433cea5c3e8594eada2797ef1e27cda6d92fe72d3425206e3ca173f01ac04325d0eaab2eac06b3ff7b4668f3a62a1696e27c1c32e7f06e09adb7784290a2704dc02416bb46c19e91bc4b5a842ce0879459439f685b20225134ed4562cb5bcd944d0acb07986308466385a455e65fd0ee325cae97709a33bc0f413b66ef40bbc59ce7a2a20f500cc1f80a13849b86efbfd59f037277c017ac4bfda3596a75cf06d84a5e118a948653f1aef02dec76501d26ea3cc3b63bb587824a727d02373ea8a5a9e7a71f5"}, "5dcc418cd0a30453b267e6e5b158be4b4d80d23fd72a6ae4d5bd07f023517117"},
		// [MS-NLMP] 4.2.2.1.2: NTOWFv1("Password").
		{[]string{"--etype", "rc4", "--password", "Password"}, "a4f49c406510bdcab6824ee7c30fd852"},
	} {
		m := runKDSJSON(t, append([]string{"string-to-key"}, tc.args...)...)
		if keysOf(m) != "key_hex" || m["key_hex"] != tc.want {
			t.Errorf("%v: %v, want %s", tc.args, m, tc.want)
		}
	}
	// DSInternals KerberosKeyDerivation_ComputerSalt / _UserSalt.
	if m := runKDSJSON(t, "salt", "--principal", "DC01$", "--realm", "Contoso.com"); m["salt"] != "CONTOSO.COMhostdc01.contoso.com" {
		t.Errorf("computer salt %v", m)
	}
	if m := runKDSJSON(t, "salt", "--principal", "April", "--realm", "Adatum.com"); m["salt"] != "ADATUM.COMApril" {
		t.Errorf("user salt %v", m)
	}
}

func TestKDSErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		rc   int
		msg  string
	}{
		{nil, 2, "usage"},
		{[]string{"frobnicate"}, 2, "unknown subcommand"},
		{[]string{"gkid"}, 2, "--filetime is required"},
		{[]string{"gkid", "--filetime", "x"}, 1, "FILETIME"},
		{[]string{"gkid", "--bogus"}, 2, "not defined"},
		{[]string{"seedkey", "--root-key-id", dsiRootKeyID, "--root-key-data", "00", "--gkid", "1,2,3"}, 1, "want 64"},
		{[]string{"seedkey", "--root-key-id", dsiRootKeyID, "--root-key-data", dsiRootKeyData, "--gkid", "1,2,3", "--version", "2"}, 1, "msKds-Version 2"},
		{[]string{"seedkey", "--root-key-id", dsiRootKeyID, "--root-key-data", dsiRootKeyData, "--gkid", "123,0,32"}, 1, "invalid group key identifier"},
		{[]string{"password", "--root-key-id", goldenRootKeyID, "--root-key-data", dsiRootKeyData, "--sid", "S-1-5-21-1", "--password-id", dsiPasswordID}, 1, "names root key"},
		{[]string{"password", "--root-key-id", dsiRootKeyID, "--root-key-data", dsiRootKeyData, "--sid", "S-1-5-21-1"}, 2, "exactly one of --gkid and --password-id"},
		{[]string{"decode-id", "--hex", dsiPasswordID[:len(dsiPasswordID)-2]}, 1, "malformed"},
		{[]string{"decode-blob", "--hex", "0100"}, 1, "malformed"},
		{[]string{"string-to-key", "--etype", "des", "--password", "x", "--salt", "y"}, 1, "unknown encryption type"},
		{[]string{"string-to-key", "--etype", "aes256", "--password", "x"}, 2, "--salt is required"},
		{[]string{"rollover", "--created", "10", "--now", "5"}, 1, "before --created"},
		{[]string{"rollover", "--created", "1", "--now", "5", "--interval-days", "0"}, 1, "out of range"},
	} {
		var stdout, stderr bytes.Buffer
		rc := runKDS(tc.args, &stdout, &stderr)
		if rc != tc.rc || stdout.Len() != 0 || !strings.Contains(stderr.String(), tc.msg) {
			t.Errorf("kds %v: exit %d (want %d), stdout %q, stderr %q (want %q)", tc.args, rc, tc.rc, stdout.String(), stderr.String(), tc.msg)
		}
	}
}
