package fakekds

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by this package wraps exactly one of them, so callers
// branch with errors.Is and never by matching text.
var (
	// ErrNoRootKey: no root key is eligible (Windows: NTE_NO_KEY; PowerShell
	// New-ADServiceAccount shows "Key does not exist"), or the key an id names is unknown.
	ErrNoRootKey = errors.New("fakekds: no usable KDS root key")
	// ErrRootKeyNotYetValid: the named root key exists but its use-start time is too far in
	// the future for the requested interval (Windows: E_INVALIDARG).
	ErrRootKeyNotYetValid = errors.New("fakekds: KDS root key not yet valid")
	// ErrBadRootKey: the root key is unusable: version other than 1, key data not 64 bytes,
	// unknown KDF algorithm or KDF parameters, use-start time 0 (Windows: NTE_BAD_KEY /
	// NOT_SUPPORTED).
	ErrBadRootKey = errors.New("fakekds: bad KDS root key")
	// ErrInvalidGKID: a group key identifier out of range, an L0 key where an L1/L2 key is
	// required, or a GKID in the future (Windows: E_INVALIDARG).
	ErrInvalidGKID = errors.New("fakekds: invalid group key identifier")
	// ErrMalformed: a binary structure (KeyEnvelope, MANAGEDPASSWORD_BLOB, KdfParameters)
	// could not be parsed (SIDs and GUIDs are package ad's: ad.ErrMalformed).
	ErrMalformed = errors.New("fakekds: malformed input")
	// ErrInvalidArgument: any other bad argument (interval of zero days, odd-length
	// UTF-16, unknown encryption type, ...).
	ErrInvalidArgument = errors.New("fakekds: invalid argument")
)

// Error carries what was being done (Op), the sentinel (Kind) and a human explanation
// including the offending value (Detail).
type Error struct {
	Op     string // e.g. "ParsePasswordID"
	Kind   error  // one of the sentinels above
	Detail string // what was wrong, with the value
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("%s: %v", e.Op, e.Kind)
	}
	return fmt.Sprintf("%s: %v: %s", e.Op, e.Kind, e.Detail)
}

// Unwrap makes errors.Is(err, ErrXxx) work.
func (e *Error) Unwrap() error { return e.Kind }

func errorf(op string, kind error, format string, args ...any) error {
	return &Error{Op: op, Kind: kind, Detail: fmt.Sprintf(format, args...)}
}
