package scenarios

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Values of the PowerShell subset: string, int64, bool, nil, []any, *psHash, time.Time, *psObject.

type psHash struct {
	keys []string
	vals []any
}

func (h *psHash) get(k string) (any, bool) {
	for i, x := range h.keys {
		if strings.EqualFold(x, k) {
			return h.vals[i], true
		}
	}
	return nil, false
}

// psObject is a cmdlet's output object: ordered properties, printed in list or table format.
type psObject struct {
	props []psProp
	table bool // few properties: PowerShell's table view
}

type psProp struct {
	name string
	val  any
}

func (o *psObject) get(name string) any {
	for _, p := range o.props {
		if strings.EqualFold(p.name, name) {
			return p.val
		}
	}
	return nil
}

// paramKind is how a parameter's argument converts.
type paramKind int

const (
	pString paramKind = iota
	pStrings
	pSwitch
	pBool
	pInt
	pDate
	pHash
	pEnum      // one of enum
	pEnumFlags // one or more of enum
	pGUID
)

var kindNames = map[paramKind]string{
	pString: "System.String", pStrings: "System.String[]", pSwitch: "System.Management.Automation.SwitchParameter",
	pBool: "System.Boolean", pInt: "System.Int32", pDate: "System.DateTime", pHash: "System.Collections.Hashtable",
	pGUID: "System.Guid",
}

type paramDef struct {
	name      string
	kind      paramKind
	pos       int // -1: named only
	mandatory bool
	enumType  string
	enum      []string
}

// psError is what a cmdlet reports: printed "Cmdlet : message". hint, if set, is added to
// failure messages (valid parameters) but not to the transcript.
type psError struct {
	msg  string
	hint string
}

func (e *psError) Error() string { return e.msg }

func psErrf(format string, args ...any) *psError { return &psError{msg: fmt.Sprintf(format, args...)} }

// commonParams every cmdlet accepts (the AD module's and PowerShell's common parameters).
var commonParams = []paramDef{
	{name: "Server", kind: pString, pos: -1},
	{name: "Confirm", kind: pSwitch, pos: -1},
	{name: "WhatIf", kind: pSwitch, pos: -1},
	{name: "Verbose", kind: pSwitch, pos: -1},
	{name: "ErrorAction", kind: pString, pos: -1},
	{name: "Credential", kind: pString, pos: -1},
}

// bound is a cmdlet's bound parameters by canonical name.
type bound map[string]any

func (b bound) str(name string) string {
	if v, ok := b[name].(string); ok {
		return v
	}
	return ""
}

func (b bound) has(name string) bool { _, ok := b[name]; return ok }

func (b bound) on(name string) bool { v, _ := b[name].(bool); return v }

func (b bound) strs(name string) []string { v, _ := b[name].([]string); return v }

// bind binds evaluated arguments to def's parameters as PowerShell does: named parameters by
// unambiguous prefix (case-insensitive), -Switch or -Switch:$false, then positional arguments in
// position order; then mandatory parameters are checked.
func bind(def *cmdletDef, elems []psElem, eval func(psExpr) (any, error)) (bound, error) {
	params := append(append([]paramDef(nil), def.params...), commonParams...)
	out := bound{}
	var positional []psElem
	for i := 0; i < len(elems); i++ {
		el := elems[i]
		if !el.isParam {
			positional = append(positional, el)
			continue
		}
		p, err := matchParam(def, params, el.param)
		if err != nil {
			return nil, err
		}
		if _, dup := out[p.name]; dup {
			return nil, psErrf("Cannot bind parameter because parameter '%s' is specified more than once. To provide multiple values to parameters that can accept multiple values, use the array syntax. For example, \"-parameter value1,value2,value3\".", p.name)
		}
		var raw any
		switch {
		case el.colon:
			v, err := eval(el.value)
			if err != nil {
				return nil, err
			}
			raw = v
		case p.kind == pSwitch:
			raw = true
		default:
			if i+1 >= len(elems) || elems[i+1].isParam {
				return nil, psErrf("Missing an argument for parameter '%s'. Specify a parameter of type '%s' and try again.", p.name, typeName(p))
			}
			i++
			v, err := eval(elems[i].value)
			if err != nil {
				return nil, err
			}
			raw = v
		}
		v, err := convert(p, raw)
		if err != nil {
			return nil, err
		}
		out[p.name] = v
	}
	var slots []paramDef
	for _, p := range def.positional(out) {
		if _, done := out[p.name]; !done {
			slots = append(slots, p)
		}
	}
	for i, el := range positional {
		if i >= len(slots) {
			return nil, &psError{msg: fmt.Sprintf("A positional parameter cannot be found that accepts argument '%s'.", el.raw),
				hint: "parameters of " + def.name + ": " + def.paramList()}
		}
		v, err := eval(el.value)
		if err != nil {
			return nil, err
		}
		cv, err := convert(slots[i], v)
		if err != nil {
			return nil, err
		}
		out[slots[i].name] = cv
	}
	var missing []string
	for _, p := range def.params {
		if p.mandatory && !out.has(p.name) && !def.notMandatory(p.name, out) {
			missing = append(missing, p.name)
		}
	}
	if len(missing) > 0 {
		return nil, psErrf("Cannot process command because of one or more missing mandatory parameters: %s.", strings.Join(missing, " "))
	}
	return out, nil
}

func matchParam(def *cmdletDef, params []paramDef, name string) (paramDef, error) {
	var hits []paramDef
	for _, p := range params {
		if strings.EqualFold(p.name, name) {
			return p, nil
		}
		if strings.HasPrefix(strings.ToLower(p.name), strings.ToLower(name)) {
			hits = append(hits, p)
		}
	}
	switch len(hits) {
	case 1:
		return hits[0], nil
	case 0:
		return paramDef{}, &psError{msg: fmt.Sprintf("A parameter cannot be found that matches parameter name '%s'.", name),
			hint: "parameters of " + def.name + ": " + def.paramList()}
	}
	var names []string
	for _, h := range hits {
		names = append(names, "-"+h.name)
	}
	return paramDef{}, psErrf("Parameter cannot be processed because the parameter name '%s' is ambiguous. Possible matches include: %s.", name, strings.Join(names, " "))
}

func typeName(p paramDef) string {
	switch p.kind {
	case pEnum, pEnumFlags:
		return p.enumType
	}
	return kindNames[p.kind]
}

// convert turns an evaluated argument into the parameter's type, with PowerShell's messages.
func convert(p paramDef, v any) (any, error) {
	cannot := func(detail string) error {
		return psErrf("Cannot bind parameter '%s'. Cannot convert value \"%s\" to type \"%s\". Error: \"%s\"", p.name, psString(v), typeName(p), detail)
	}
	switch p.kind {
	case pString:
		if _, ok := v.([]any); ok {
			return nil, psErrf("Cannot convert '%s' to the type '%s' required by parameter '%s'. Specified method is not supported.", "System.Object[]", "System.String", p.name)
		}
		return psString(v), nil
	case pGUID:
		return psString(v), nil
	case pStrings:
		var out []string
		for _, x := range flatten(v) {
			out = append(out, psString(x))
		}
		return out, nil
	case pSwitch, pBool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case int64:
			return x != 0, nil
		case string:
			if p.kind == pBool {
				return nil, psErrf("Cannot process argument transformation on parameter '%s'. Cannot convert value \"System.String\" to type \"System.Boolean\". Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0.", p.name)
			}
			return x != "", nil
		}
		return v != nil, nil
	case pInt:
		n, err := strconv.ParseInt(strings.TrimSpace(psString(v)), 10, 32)
		if err != nil {
			return nil, cannot("Input string was not in a correct format.")
		}
		return n, nil
	case pDate:
		switch x := v.(type) {
		case time.Time:
			return x, nil
		case string:
			for _, f := range []string{"1/2/2006 15:04:05", "1/2/2006 15:04", "1/2/2006 3:04:05 PM", "1/2/2006 3:04 PM", "1/2/2006",
				time.RFC3339, "2006-01-02T15:04Z", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"} {
				if t, err := time.Parse(f, x); err == nil {
					return t.UTC(), nil
				}
			}
		}
		return nil, cannot("String was not recognized as a valid DateTime.")
	case pHash:
		if h, ok := v.(*psHash); ok {
			return h, nil
		}
		return nil, psErrf("Cannot bind parameter '%s'. Cannot convert the \"%s\" value of type \"System.String\" to type \"System.Collections.Hashtable\".", p.name, psString(v))
	case pEnum, pEnumFlags:
		var names []string
		for _, x := range flatten(v) {
			for _, part := range strings.Split(psString(x), ",") {
				part = strings.TrimSpace(part)
				if part == "" {
					continue
				}
				found := ""
				for i, e := range p.enum {
					if strings.EqualFold(e, part) || part == strconv.Itoa(i) {
						found = e
					}
				}
				if found == "" {
					return nil, psErrf("Cannot bind parameter '%s'. Cannot convert value \"%s\" to type \"%s\". Error: \"Unable to match the identifier name %s to a valid enumerator name. Specify one of the following enumerator names and try again:\n%s\"",
						p.name, psString(v), p.enumType, part, strings.Join(p.enum, ", "))
				}
				names = append(names, found)
			}
		}
		if p.kind == pEnum {
			if len(names) != 1 {
				return nil, cannot("want exactly one value")
			}
			return names[0], nil
		}
		return names, nil
	}
	return v, nil
}

func flatten(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		var out []any
		for _, e := range x {
			out = append(out, flatten(e)...)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	}
	return []any{v}
}

// psString is a value as PowerShell turns it into a string.
func psString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	case int64:
		return strconv.FormatInt(x, 10)
	case time.Time:
		return psDate(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = psString(e)
		}
		return strings.Join(parts, " ")
	case []string:
		return strings.Join(x, " ")
	case *psHash:
		return "System.Collections.Hashtable"
	case *psObject:
		if len(x.props) > 0 {
			return psString(x.props[0].val)
		}
	}
	return fmt.Sprint(v)
}

// psDate prints a DateTime as en-US PowerShell does ("11/23/2026 10:30:00 AM").
// Divergence: every simulated machine runs in UTC with the en-US culture.
func psDate(t time.Time) string { return t.UTC().Format("1/2/2006 3:04:05 PM") }

// cmdletDef is a cmdlet the simulator knows: its parameters and where it runs.
type cmdletDef struct {
	name   string
	params []paramDef
	onHost bool // a member-host cmdlet (pending: hosts are not simulated yet)
	run    func(x *cmdCtx, b bound) ([]any, error)
	// positionalFor returns the positional parameters given what is bound (parameter sets).
	positionalFor func(b bound) []string
	// optional lists mandatory parameters that a parameter set makes optional.
	optional func(name string, b bound) bool
}

func (d *cmdletDef) positional(b bound) []paramDef {
	var out []paramDef
	if d.positionalFor != nil {
		for _, n := range d.positionalFor(b) {
			for _, p := range d.params {
				if p.name == n {
					out = append(out, p)
				}
			}
		}
		return out
	}
	for _, p := range d.params {
		if p.pos >= 0 {
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].pos < out[j].pos })
	return out
}

func (d *cmdletDef) notMandatory(name string, b bound) bool {
	return d.optional != nil && d.optional(name, b)
}

func (d *cmdletDef) paramList() string {
	names := make([]string, 0, len(d.params))
	for _, p := range d.params {
		names = append(names, "-"+p.name)
	}
	return strings.Join(names, " ")
}
