package fakekds

import "github.com/gmsasim/gmsasim/ad"

// The value types moved to package ad. vectors_test.go, which leaves this package in the same
// issue (10, the vectors move), still names them unqualified; these test-only aliases keep it
// compiling unchanged until it moves, and go with it.
type FileTime = ad.FileTime

var (
	FileTimeFromTime = ad.FileTimeFromTime
	ParseGUID        = ad.ParseGUID
	ParseSID         = ad.ParseSID
)
