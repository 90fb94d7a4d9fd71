package fakead

import "time"

// ChangesSince returns, for every object with an attribute whose local USN is > usn, the changed
// attributes with their values and replication metadata as they are now (AD's GetNCChanges).
func (d *Directory) ChangesSince(usn uint64) []ReplChange { return nil }

// ApplyReplicated applies changes received from another DC.
func (d *Directory) ApplyReplicated(now time.Time, changes []ReplChange) error { return nil }
