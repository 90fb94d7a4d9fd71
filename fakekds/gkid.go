package fakekds

import (
	"fmt"

	"github.com/gmsasim/gmsasim/ad"
)

// Durations in FILETIME units (100 ns).
const (
	// KeyCycleDuration is one GKDI interval, 10 hours ([MS-GKDI] KeyCycleDuration).
	KeyCycleDuration ad.FileTime = 360000000000
	// MaxClockSkew is 5 minutes ([MS-ADTS] MaxClockSkew()).
	MaxClockSkew ad.FileTime = 3000000000
	// Day is 24 hours.
	Day ad.FileTime = 864000000000

	// L1KeyIteration and L2KeyIteration are the number of L1 keys per L0 and L2 keys per L1.
	L1KeyIteration = 32
	L2KeyIteration = 32
)

// GKID is a group key identifier (L0, L1, L2). −1 means "not used": (L0,−1,−1) names an L0
// seed key, (L0,L1,−1) an L1 seed key, (L0,L1,L2) an L2 seed key.
type GKID struct {
	L0, L1, L2 int32
}

// GKIDFromFileTime returns the GKID of the 10-hour interval containing ft
// ([MS-GKDI]; Samba gkdi_get_interval_id; DSInternals KdsRootKey.GetKeyId).
func GKIDFromFileTime(ft ad.FileTime) GKID {
	c := uint64(ft / KeyCycleDuration)
	return GKID{L0: int32(c / (L1KeyIteration * L2KeyIteration)), L1: int32(c / L2KeyIteration % L1KeyIteration), L2: int32(c % L2KeyIteration)}
}

// StartFileTime returns the start of the interval g names. It is meaningful for L2 GKIDs; an L1
// or L0 GKID counts its missing indices as 0.
func (g GKID) StartFileTime() ad.FileTime {
	l0, l1, l2 := uint64(max(g.L0, 0)), uint64(max(g.L1, 0)), uint64(max(g.L2, 0))
	return ad.FileTime(((l0*L1KeyIteration+l1)*L2KeyIteration + l2) * uint64(KeyCycleDuration))
}

// String formats g as "(L0,L1,L2)".
func (g GKID) String() string { return fmt.Sprintf("(%d,%d,%d)", g.L0, g.L1, g.L2) }

// IsL2 reports whether g names a concrete 10-hour interval.
func (g GKID) IsL2() bool { return g.L1 >= 0 && g.L2 >= 0 }

// Validate checks the shape of g: L0 ≥ 0; L1 in −1..31; L2 in −1..31; L2 = −1 whenever L1 = −1.
func (g GKID) Validate() error {
	ok := g.L0 >= 0 && g.L1 >= -1 && g.L1 < L1KeyIteration && g.L2 >= -1 && g.L2 < L2KeyIteration &&
		(g.L1 != -1 || g.L2 == -1)
	if !ok {
		return errorf("GKID.Validate", ErrInvalidGKID, "%v is out of range", g)
	}
	return nil
}

// Less orders GKIDs by the time they name.
func (g GKID) Less(o GKID) bool {
	if g.L0 != o.L0 {
		return g.L0 < o.L0
	}
	if g.L1 != o.L1 {
		return g.L1 < o.L1
	}
	return g.L2 < o.L2
}
