//go:build !unix

package safefile

import "io/fs"

// ownerOf: ownership is not a uid outside Unix; PrepareDir checks type and mode bits only there.
func ownerOf(fs.FileInfo) (int, bool) { return 0, false }
