package scenarios

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakekds"
)

// writeBlob prints msDS-ManagedPassword as the ldap probe's blob flag shows it: every field of the
// MSDS-MANAGEDPASSWORD_BLOB ([MS-ADTS] 2.2.19) as the DC returned it — the header's version,
// reserved, length and four offsets as stored, the passwords by length and hash prefix (never
// the password), and the two intervals in days, hours, minutes and seconds, so the last five
// minutes of a password's life (QueryPasswordInterval under 5m, UnchangedPasswordInterval 0s)
// can be asserted.
func writeBlob(out *strings.Builder, attr string, b []byte) {
	fmt.Fprintf(out, "%s: blob of %d bytes\n", attr, len(b))
	if len(b) < 16 {
		fmt.Fprintf(out, "  malformed: %d bytes, shorter than the 16-byte header\n", len(b))
		return
	}
	u16 := func(off int) int { return int(binary.LittleEndian.Uint16(b[off:])) }
	fmt.Fprintf(out, "  Version: %d\n  Reserved: %d\n  Length: %d\n", u16(0), u16(2), binary.LittleEndian.Uint32(b[4:]))
	fmt.Fprintf(out, "  CurrentPasswordOffset: %d\n  PreviousPasswordOffset: %d\n", u16(8), u16(10))
	fmt.Fprintf(out, "  QueryPasswordIntervalOffset: %d\n  UnchangedPasswordIntervalOffset: %d\n", u16(12), u16(14))
	m, err := fakekds.ParseManagedPasswordBlob(b)
	if err != nil {
		fmt.Fprintf(out, "  malformed: %v\n", err)
		return
	}
	fmt.Fprintf(out, "  CurrentPassword: %s\n", blobPassword(m.Current))
	fmt.Fprintf(out, "  PreviousPassword: %s\n", blobPassword(m.Previous))
	fmt.Fprintf(out, "  QueryPasswordInterval: %s\n", fmtInterval(m.QueryInterval))
	fmt.Fprintf(out, "  UnchangedPasswordInterval: %s\n", fmtInterval(m.UnchangedInterval))
}

// blobPassword is a password of the blob as the probe shows it: present or not, its length and
// a hash prefix (the one check password-equal prints).
func blobPassword(p []byte) string {
	if len(p) == 0 {
		return "absent"
	}
	sum := sha256.Sum256(p)
	return fmt.Sprintf("present, %d bytes, sha256:%s", len(p), hex.EncodeToString(sum[:4]))
}

// fmtInterval prints a FILETIME interval as 29d23h55m10s: from its first non-zero unit down to
// minutes, seconds when not zero, and any remainder below a second in 100 ns ticks.
func fmtInterval(ft ad.FileTime) string {
	d := ft.Duration()
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	units := []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}}
	started := false
	for _, u := range units {
		n := d / u.d
		d -= n * u.d
		if n > 0 || started {
			fmt.Fprintf(&b, "%d%s", n, u.name)
			started = true
		}
	}
	if s := d / time.Second; s > 0 || !started {
		fmt.Fprintf(&b, "%ds", s)
	}
	if rest := d % time.Second; rest != 0 {
		fmt.Fprintf(&b, " +%d ticks", rest/100)
	}
	return b.String()
}
