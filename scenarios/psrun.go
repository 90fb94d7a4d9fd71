package scenarios

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gmsasim/gmsasim/scenarios/ps"
)

// session is one PowerShell session of a scenario: its variables (package ps), shared by every
// ps step of the file (as an administrator keeps one console open), and the runner whose world
// its commands act on.
type session struct {
	r  *runner
	ps *ps.Session
}

// cmdCtx is what a cmdlet runs with.
type cmdCtx struct {
	r      *runner
	target string // DC or host name from on=
	as     string // principal of the session ("" = Administrator)
	name   string // the cmdlet name as typed
}

// runLine runs one logical line on target as the principal as.
func (s *session) runLine(l ps.Line, target, as string, out *strings.Builder) error {
	return s.ps.RunLine(l, s.commands(target, as), out)
}

// commands runs a line's commands on target as the principal as.
func (s *session) commands(target, as string) ps.RunFunc {
	return func(c *ps.Command) ([]any, error) { return s.runCommand(c, target, as) }
}

// eval evaluates an expression whose commands run on target as the principal as.
func (s *session) eval(e ps.Expr, target, as string) (any, error) {
	return s.ps.Eval(e, s.commands(target, as))
}

// runCommand runs one command: a feature the simulator does not have yet halts the step
// (ps.Halt); any other error becomes the command's error record.
// Divergence: -Credential and -AuthType are accepted and ignored; the session's principal (as=)
// is who acts.
func (s *session) runCommand(c *ps.Command, target, as string) ([]any, error) {
	vals, err := s.runCommand1(c, target, as)
	var h *ps.Halt
	var pf *PendingFeatureError
	var ce *ps.CommandError
	var ve *ps.Verbatim
	switch {
	case err == nil, errors.As(err, &h), errors.As(err, &ce), errors.As(err, &ve):
	case errors.As(err, &pf):
		err = &ps.Halt{Err: err}
	default:
		name := c.Name
		if def := s.r.cmdlets.lookup(c.Name); def != nil && !def.onHost {
			name = def.Name
		}
		err = &ps.CommandError{Cmd: name, Err: err}
	}
	return vals, err
}

func (s *session) runCommand1(c *ps.Command, target, as string) ([]any, error) {
	if strings.EqualFold(c.Name, "Get-Date") {
		return []any{s.r.now()}, nil
	}
	if strings.EqualFold(c.Name, "Write-Output") || strings.EqualFold(c.Name, "echo") {
		var out []any
		for _, el := range c.Elems {
			v, err := s.eval(el.Value, target, as)
			if err != nil {
				return nil, err
			}
			out = append(out, ps.Flatten(v)...)
		}
		return out, nil
	}
	if strings.EqualFold(c.Name, "sc") || strings.EqualFold(c.Name, "Set-Content") {
		return setContent(c, func(e ps.Expr) (any, error) { return s.eval(e, target, as) })
	}
	def := s.r.cmdlets.lookup(c.Name)
	if h := s.r.host(target); h != nil && def == nil {
		return s.runHostCommand(c, h)
	}
	if def == nil {
		return nil, ps.Errorf("The term '%s' is not recognized as the name of a cmdlet, function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.", c.Name)
	}
	if h := s.r.host(target); h != nil {
		if def.onHost {
			return s.runHostCommand(c, h)
		}
		// An AD cmdlet on a member host (RSAT) goes to the host's DC.
		target = h.DC()
	} else if def.onHost {
		return nil, &PendingFeatureError{Feature: "host cmdlets on a DC", What: fmt.Sprintf("%s on %s", c.Name, target)}
	}
	b, err := ps.Bind(&def.Cmdlet, c.Elems, func(e ps.Expr) (any, error) { return s.eval(e, target, as) })
	if err != nil {
		return nil, err
	}
	x := &cmdCtx{r: s.r, target: target, as: as, name: def.Name}
	if srv := b.Str("Server"); srv != "" {
		x.target = strings.SplitN(srv, ".", 2)[0]
	}
	return def.run(x, b)
}

// setContentCmdlet is Set-Content's binding (Windows PowerShell 5.1): -Path at position 0, -Value at
// position 1.
func setContentCmdlet() *ps.Cmdlet {
	return &ps.Cmdlet{Name: "Set-Content", Params: []ps.Param{
		{Name: "Path", Kind: ps.Strings, Pos: 0, Mandatory: true},
		{Name: "Value", Kind: ps.Strings, Pos: 1},
		{Name: "Encoding", Kind: ps.String, Pos: -1},
		{Name: "Force", Kind: ps.Switch, Pos: -1},
		{Name: "NoNewline", Kind: ps.Switch, Pos: -1},
		{Name: "PassThru", Kind: ps.Switch, Pos: -1},
	}}
}

// setContent is `sc` typed in PowerShell: in Windows PowerShell `sc` is the alias of Set-Content,
// not sc.exe (about_Aliases; the seed's `sc triggerinfo kdssvc start/networkon` is a cmd.exe line).
// Its third word has no position to bind to, so the line fails with a binding error and changes
// nothing; `sc.exe triggerinfo ...` runs the service controller. With at most two words it would
// write a file; files are not simulated, so it succeeds and prints nothing.
func setContent(c *ps.Command, eval func(ps.Expr) (any, error)) ([]any, error) {
	if _, err := ps.Bind(setContentCmdlet(), c.Elems, eval); err != nil {
		return nil, &ps.CommandError{Cmd: "Set-Content", Err: err}
	}
	return nil, nil
}
