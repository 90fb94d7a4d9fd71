package ad

import (
	"strconv"
	"strings"
	"time"
)

// FileTime is a FILETIME ([MS-DTYP] 2.3.3): 100-nanosecond ticks since 1601-01-01 UTC. AD writes
// it as a LargeInteger (msKds-CreateTime, pwdLastSet, accountExpires) in decimal; GKDI computes
// on it.
type FileTime uint64

// fileTimeUnixEpoch is 1970-01-01 as a FILETIME.
const fileTimeUnixEpoch = 116444736000000000

// FileTimeFromTime converts t (any zone) to a FILETIME, truncated to 100 ns. Times before 1601
// give 0.
func FileTimeFromTime(t time.Time) FileTime {
	secs := t.Unix() + fileTimeUnixEpoch/10000000
	if secs < 0 {
		return 0
	}
	return FileTime(uint64(secs)*10000000 + uint64(t.Nanosecond()/100))
}

// Time converts ft to a UTC time.Time.
func (ft FileTime) Time() time.Time {
	secs := int64(ft / 10000000)
	ns := int64(ft%10000000) * 100
	return time.Unix(secs-fileTimeUnixEpoch/10000000, ns).UTC()
}

// String is the decimal form AD writes for a LargeInteger.
func (ft FileTime) String() string { return strconv.FormatUint(uint64(ft), 10) }

// GeneralizedTimeLayout is how AD writes whenCreated, whenChanged and the rootDSE's currentTime:
// "20261122011842.0Z" (UTC, tenths of a second always 0).
const GeneralizedTimeLayout = "20060102150405.0Z"

// GeneralizedTime formats t as AD writes whenCreated: "20261122011842.0Z".
func GeneralizedTime(t time.Time) string { return t.UTC().Format("20060102150405") + ".0Z" }

// ParseGeneralizedTime reads AD's "20261122011842.0Z", and also the forms without the fraction or
// with a numeric zone offset another server may send. The result is in UTC.
func ParseGeneralizedTime(s string) (time.Time, error) {
	for _, layout := range []string{GeneralizedTimeLayout, "20060102150405Z", "20060102150405.0Z0700", "20060102150405Z0700"} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, syntaxErr("GeneralizedTime", s, "want YYYYMMDDHHMMSS.0Z")
}

// Duration converts a FILETIME difference to a time.Duration (saturating).
func (ft FileTime) Duration() time.Duration {
	if ft > FileTime(1<<63-1)/100 {
		return time.Duration(1<<63 - 1)
	}
	return time.Duration(ft) * 100
}
