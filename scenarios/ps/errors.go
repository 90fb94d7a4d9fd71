package ps

import (
	"errors"
	"fmt"
	"strings"
)

// Error is what a cmdlet reports: printed "Cmdlet : message". hint, if set, is added to
// failure messages (valid parameters) but not to the transcript.
type Error struct {
	Msg  string
	Hint string
}

func (e *Error) Error() string { return e.Msg }

// Errorf makes an Error.
func Errorf(format string, args ...any) *Error { return &Error{Msg: fmt.Sprintf(format, args...)} }

// Verbatim is an error whose text is already what PowerShell prints ("Cmdlet : ...").
type Verbatim struct{ Text string }

func (e *Verbatim) Error() string { return e.Text }

// Halt wraps an error that ends the script instead of printing as an error record: RunLine
// returns it (the simulator halts on a feature it does not simulate yet).
type Halt struct{ Err error }

func (e *Halt) Error() string { return e.Err.Error() }
func (e *Halt) Unwrap() error { return e.Err }

// WriteError prints an error record's first line, "Cmdlet : message".
// Divergence: PowerShell also prints "At line:1 char:1", the offending line and CategoryInfo /
// FullyQualifiedErrorId; transcripts keep the first line, the part that differs between outcomes.
func WriteError(out *strings.Builder, cmd string, err error) {
	var ce *CommandError
	var ve *Verbatim
	switch {
	case errors.As(err, &ve):
		out.WriteString(ve.Text + "\n")
		return
	case errors.As(err, &ce):
		cmd, err = ce.Cmd, ce.Err
	}
	msg := err.Error()
	var pe *Error
	if errors.As(err, &pe) {
		msg = pe.Msg
	}
	if cmd != "" {
		fmt.Fprintf(out, "%s : %s\n", cmd, msg)
	} else {
		fmt.Fprintf(out, "%s\n", msg)
	}
}

// CommandError is an error record of one command: printed "Cmdlet : message" wherever the command
// ran (a statement, a parenthesised expression, an assignment).
type CommandError struct {
	Cmd string
	Err error
}

func (e *CommandError) Error() string { return e.Cmd + " : " + e.Err.Error() }
func (e *CommandError) Unwrap() error { return e.Err }
