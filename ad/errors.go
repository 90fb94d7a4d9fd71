package ad

import (
	"errors"
	"fmt"
)

// ErrMalformed is wrapped by every parse failure of this package: callers branch with
// errors.Is(err, ad.ErrMalformed).
var ErrMalformed = errors.New("malformed value")

// SyntaxError says which value of which syntax did not parse, and why.
type SyntaxError struct {
	Syntax string // "SID", "GUID", "GeneralizedTime", "security descriptor"
	Value  string // the offending text, or a short description of binary input
	Reason string
}

func (e *SyntaxError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s: %s", e.Syntax, e.Reason)
	}
	return fmt.Sprintf("%s %q: %s", e.Syntax, e.Value, e.Reason)
}

// Unwrap makes errors.Is(err, ErrMalformed) true.
func (e *SyntaxError) Unwrap() error { return ErrMalformed }

func syntaxErr(syntax, value, format string, args ...any) error {
	return &SyntaxError{Syntax: syntax, Value: value, Reason: fmt.Sprintf(format, args...)}
}
