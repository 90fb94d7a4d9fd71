package ad

import (
	"errors"
	"testing"
	"time"
)

// FILETIME values from the GoldenGMSA README's root key (msKds-CreateTime 132895801920510000 is
// 2022-02-17T14:03:12.051Z) and [MS-DTYP]'s epoch.
func TestFileTime(t *testing.T) {
	for _, c := range []struct {
		ft FileTime
		t  time.Time
	}{
		{0, time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC)},
		{116444736000000000, time.Unix(0, 0).UTC()},
		{132895801920510000, time.Date(2022, 2, 17, 14, 3, 12, 51000000, time.UTC)},
		{133387453261266352, time.Date(2023, 9, 9, 15, 2, 6, 126635200, time.UTC)},
	} {
		if got := c.ft.Time(); !got.Equal(c.t) {
			t.Errorf("FileTime(%d).Time() = %v, want %v", c.ft, got, c.t)
		}
		if got := FileTimeFromTime(c.t.In(time.FixedZone("X", 3600))); got != c.ft {
			t.Errorf("FileTimeFromTime(%v) = %d, want %d", c.t, got, c.ft)
		}
	}
	if got := FileTimeFromTime(time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)); got != 0 {
		t.Errorf("before 1601: %d", got)
	}
	if got := FileTimeFromTime(time.Unix(0, 199).UTC()); got != 116444736000000001 {
		t.Errorf("sub-100ns truncation: %d", got)
	}
	if d := FileTime(36000000000).Duration(); d != time.Hour {
		t.Errorf("Duration %v", d)
	}
	if d := FileTime(1 << 63).Duration(); d != time.Duration(1<<63-1) {
		t.Errorf("Duration saturates: %v", d)
	}
	if s := FileTime(132895801920510000).String(); s != "132895801920510000" {
		t.Errorf("String %s", s)
	}
}

func TestGeneralizedTime(t *testing.T) {
	tm := time.Date(2026, 11, 22, 1, 18, 42, 987654321, time.FixedZone("CET", 3600))
	if got := GeneralizedTime(tm); got != "20261122001842.0Z" {
		t.Errorf("GeneralizedTime = %s", got)
	}
	want := time.Date(2026, 11, 22, 1, 18, 42, 0, time.UTC)
	for _, s := range []string{"20261122011842.0Z", "20261122011842Z", "20261122021842.0+0100", "20261122021842+0100"} {
		got, err := ParseGeneralizedTime(s)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseGeneralizedTime(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "2026-11-22", "20261122011842", "20261322011842.0Z"} {
		if _, err := ParseGeneralizedTime(s); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseGeneralizedTime(%q) = %v, want ErrMalformed", s, err)
		}
	}
}
