package migrate

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinels of the engine (errors.Is).
var (
	// ErrInterrupted: Options.Interrupt stopped the run (a simulated crash); resume continues.
	ErrInterrupted = errors.New("migration interrupted")
	// ErrPreflight: a preflight check failed; Apply refuses to start.
	ErrPreflight = errors.New("preflight failed")
	// ErrJournal: the journal cannot be read, is damaged or belongs to another plan.
	ErrJournal = errors.New("journal")
	// ErrNoVerifiedExport: the sync change mode was reached without a verified key-set export.
	ErrNoVerifiedExport = errors.New("no verified key-set export")
	// ErrVerify: a verification step found the end state wrong.
	ErrVerify = errors.New("verification failed")
	// ErrDirectory: the domain controller refused or failed an operation.
	ErrDirectory = errors.New("directory")
	// ErrConfig: the engine's configuration is incomplete or inconsistent.
	ErrConfig = errors.New("configuration")
)

// StepError is every failure of a step: which step, on which host or object, what was expected,
// what was found, and what the operator can do.
type StepError struct {
	Step     string // step id
	Host     string // host DNS name, "" for directory steps
	Object   string // DN, service name, file path, registry value
	Expected string
	Got      string
	Fix      string
	Err      error // the underlying error (an *AgentError, an *ldap.Error, a sentinel)
}

func (e *StepError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "step %s", e.Step)
	if e.Host != "" {
		fmt.Fprintf(&b, " on %s", e.Host)
	}
	if e.Object != "" {
		fmt.Fprintf(&b, " (%s)", e.Object)
	}
	if e.Expected != "" {
		fmt.Fprintf(&b, ": expected %s", e.Expected)
	}
	if e.Got != "" {
		fmt.Fprintf(&b, ", got %s", e.Got)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.Fix != "" {
		fmt.Fprintf(&b, "; to fix: %s", e.Fix)
	}
	return b.String()
}

func (e *StepError) Unwrap() error { return e.Err }

// DirError is a failed LDAP operation: which operation on which DN, and the DC's answer.
type DirError struct {
	Op  string // "search", "add", "modify", "bind"
	DN  string
	DC  string // DC address
	Err error  // usually *ldap.Error
}

func (e *DirError) Error() string {
	return fmt.Sprintf("LDAP %s %q on %s: %v", e.Op, e.DN, e.DC, e.Err)
}

func (e *DirError) Unwrap() []error { return []error{ErrDirectory, e.Err} }
