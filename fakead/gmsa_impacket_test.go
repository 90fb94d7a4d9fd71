package fakead

import (
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// impacketScript parses a security descriptor with impacket's ldaptypes.SR_SECURITY_DESCRIPTOR,
// as gMSADumper and other tools read msDS-GroupMSAMembership, and prints owner, then
// "type mask sid" per ACE.
const impacketScript = `
import sys
from impacket.ldap import ldaptypes
sd = ldaptypes.SR_SECURITY_DESCRIPTOR(data=bytes.fromhex(sys.argv[1]))
print(sd['OwnerSid'].formatCanonical())
for ace in sd['Dacl'].aces:
    print(ace['AceType'], hex(ace['Ace']['Mask']['Mask']), ace['Ace']['Sid'].formatCanonical())
`

// TestMembershipSDParsesWithImpacket checks that what the directory stores in
// msDS-GroupMSAMembership is what impacket reads. Skipped where impacket is not installed
// (Debian: python3-impacket).
func TestMembershipSDParsesWithImpacket(t *testing.T) {
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	if err := exec.Command(py, "-c", "import impacket.ldap.ldaptypes").Run(); err != nil {
		t.Skip("impacket is not installed (apt-get install python3-impacket)")
	}
	f := newFarm(t)
	grp, _ := f.d.Account("ITFarmHosts")
	stored := readAttr(t, f.d, t0, farmDN, "msDS-GroupMSAMembership")
	out, err := exec.Command(py, "-c", impacketScript, hex.EncodeToString([]byte(stored))).CombinedOutput()
	if err != nil {
		t.Fatalf("impacket: %v\n%s", err, out)
	}
	want := "S-1-5-32-544\n0 0xf01ff " + grp.SID.String() + "\n"
	if string(out) != want {
		t.Errorf("impacket reads\n%s\nwant\n%s", out, want)
	}
	if !strings.HasPrefix(hex.EncodeToString([]byte(stored)), "01000480") {
		t.Errorf("stored SD header %x", stored[:4])
	}
}
