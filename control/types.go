package control

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Backend is the served world as the control API sees it. `gmsasim serve` implements it over its
// sim.World; the tests use a fake. Every method may be called from many request goroutines at once:
// the implementation serialises what must be serialised (the world loop does).
//
// A method may return a *Error to choose the HTTP status (404 for an unknown DC, 400 for a snapshot
// that does not decode); any other error is a 500.
type Backend interface {
	// Steps runs scenario steps (the step part of a .scn file: directives, their input lines,
	// optional "----" and expected output, blank lines between steps) against the served world.
	// Text that does not parse returns a *SyntaxError and runs nothing. A step that fails stops the
	// run: the result's Failure says which and why, and the steps before it stay applied.
	Steps(ctx context.Context, text string) (StepsResult, error)
	// State describes the world now.
	State(ctx context.Context) (State, error)
	// Snapshot serialises the world (a JSON document, opaque to this package) for Restore.
	Snapshot(ctx context.Context) ([]byte, error)
	// Restore replaces the world with a snapshot.
	Restore(ctx context.Context, snapshot []byte) error
	// LDIF writes dc's replica as LDIF; dc "" is the backend's default DC.
	LDIF(ctx context.Context, dc string, w io.Writer) error
}

// StepsResult is what POST /steps answers: the output of every step run, and the failure that
// stopped the run, if any.
type StepsResult struct {
	Steps   []StepOutput `json:"steps"`
	Failure *StepFailure `json:"failure,omitempty"`
}

// StepOutput is one step that ran.
type StepOutput struct {
	Line     int     `json:"line"`               // 1-based line of the directive in the request text
	Step     string  `json:"step"`               // the directive line, e.g. "advance 30d" or "ps on=DC1"
	Output   string  `json:"output"`             // what the step printed
	Expected *string `json:"expected,omitempty"` // the expected output block, when the text had one
	Match    bool    `json:"match"`              // Output equals Expected (true when nothing was expected)
}

// StepFailure is the step that stopped a run.
type StepFailure struct {
	Line    int    `json:"line"`
	Step    string `json:"step"`
	Message string `json:"message"`
}

// State describes the served world. It is the schema of GET /state; the JSON names are the
// contract (see openapi.yaml).
type State struct {
	Now     time.Time `json:"now"`     // world time
	Wire    time.Time `json:"wire"`    // the wall clock the wire (Kerberos, TLS) uses
	Offset  string    `json:"offset"`  // Now minus Wire, a Go duration ("720h0m0s")
	Elapsed string    `json:"elapsed"` // world time since the world started, a Go duration
	// Seed is the world's seed. It is a JSON string of decimal digits: serve's seeds use 63 bits,
	// more than a JSON number keeps exactly in JavaScript and jq.
	Seed    uint64      `json:"seed,string"`
	Domain  string      `json:"domain"`
	Realm   string      `json:"realm"`
	DCs     []DCState   `json:"dcs"`
	Links   []LinkState `json:"links"`
	Hosts   []HostState `json:"hosts"`
	GMSAs   []GMSAState `json:"gmsas"`
	Pending int         `json:"pending"` // simulated events scheduled and not yet run
}

// DCState is one domain controller. LDAP, LDAPS and KDC are the addresses it listens on, "" when
// none.
type DCState struct {
	Name    string `json:"name"`
	DNSName string `json:"dnsName"`
	OS      string `json:"os"`
	PDC     bool   `json:"pdc"`
	Running bool   `json:"running"`
	LDAP    string `json:"ldap"`
	LDAPS   string `json:"ldaps"`
	KDC     string `json:"kdc"`
}

// LinkState is the replication link between DCs A and B.
type LinkState struct {
	A     string `json:"a"`
	B     string `json:"b"`
	Delay string `json:"delay"` // a Go duration
	Cut   bool   `json:"cut"`
}

// HostState is one member host.
type HostState struct {
	Name              string   `json:"name"`
	OS                string   `json:"os"`
	Arch              string   `json:"arch"`
	Running           bool     `json:"running"`
	InstalledAccounts []string `json:"installedAccounts"` // gMSAs in the host's local cache (Install-ADServiceAccount)
}

// GMSAState is one group managed service account.
type GMSAState struct {
	Name                        string    `json:"name"`
	DN                          string    `json:"dn"`
	DNSHostName                 string    `json:"dnsHostName"`
	KVNO                        int       `json:"kvno"`
	PasswordLastSet             time.Time `json:"passwordLastSet"`
	NextRotation                time.Time `json:"nextRotation"` // when a read makes the DC rotate: the end of the stored password id's interval
	IntervalDays                int       `json:"intervalDays"`
	PrincipalsAllowedToRetrieve []string  `json:"principalsAllowedToRetrieve"`
}

// TraceLine is one object of GET /trace's NDJSON stream: a trace line and its sequence number, or,
// when Dropped > 0, a note that Dropped lines before Seq are no longer kept (Seq is then the
// oldest line kept, the next one sent).
type TraceLine struct {
	Seq     int    `json:"seq"`
	Line    string `json:"line,omitempty"`
	Dropped int    `json:"dropped,omitempty"`
}

// SyntaxError is step text that does not parse: a Backend returns it from Steps, the server
// answers 400, and the client returns it again (wrapped in an *Error).
type SyntaxError struct {
	Line int    // 1-based line of the request text
	Msg  string // what is wrong there
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// StepsFailedError is a step run that stopped on a failing step (HTTP 422). The client returns it
// (wrapped in an *Error) together with the result of the steps that ran.
type StepsFailedError struct {
	Failure StepFailure
}

func (e *StepsFailedError) Error() string {
	return fmt.Sprintf("line %d: %s: %s", e.Failure.Line, e.Failure.Step, e.Failure.Message)
}

// Error is an HTTP error of the control API. A Backend returns one to choose the status; the
// client returns one for every answer that is not a success, with the server's message and, for
// POST /steps, a *SyntaxError or *StepsFailedError as Err (errors.As finds them).
type Error struct {
	Status  int    // HTTP status
	Message string // the server's {"error": ...}
	Err     error  // the typed cause, if any
}

func (e *Error) Error() string {
	return fmt.Sprintf("control API: %d %s: %s", e.Status, statusText(e.Status), e.Message)
}

// Unwrap returns the typed cause.
func (e *Error) Unwrap() error { return e.Err }
