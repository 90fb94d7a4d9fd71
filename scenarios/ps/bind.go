package ps

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Kind is a parameter's .NET type: how its argument converts.
type Kind int

const (
	String Kind = iota
	Strings
	Switch
	Bool
	Int
	Date
	Hash
	Enum      // one of enum
	EnumFlags // one or more of enum
	GUID
)

// Param is one parameter of a cmdlet.
type Param struct {
	Name      string
	Kind      Kind
	Pos       int // position; -1: named only
	Mandatory bool
	EnumType  string   // Enum and EnumFlags: the .NET type, for messages
	Enum      []string // Enum and EnumFlags: the names
}

// commonParams are the parameters every cmdlet accepts (the AD module's and PowerShell's common
// parameters), after its own.
func commonParams() []Param {
	return []Param{
		{Name: "Server", Kind: String, Pos: -1},
		{Name: "Confirm", Kind: Switch, Pos: -1},
		{Name: "WhatIf", Kind: Switch, Pos: -1},
		{Name: "Verbose", Kind: Switch, Pos: -1},
		{Name: "ErrorAction", Kind: String, Pos: -1},
		{Name: "Credential", Kind: String, Pos: -1},
	}
}

// Bound is a cmdlet's bound parameters by canonical name: string, []string, bool, int64,
// time.Time, *Hashtable; an Enum is its name, EnumFlags their names.
type Bound map[string]any

// Str is a string parameter's value ("" if not bound).
func (b Bound) Str(name string) string {
	if v, ok := b[name].(string); ok {
		return v
	}
	return ""
}

// Has reports whether the parameter was bound.
func (b Bound) Has(name string) bool { _, ok := b[name]; return ok }

// On reports whether a switch or Boolean parameter is bound and true.
func (b Bound) On(name string) bool { v, _ := b[name].(bool); return v }

// Strs is a string-array parameter's values.
func (b Bound) Strs(name string) []string { v, _ := b[name].([]string); return v }

// Bind binds evaluated arguments to def's parameters as PowerShell does: named parameters by
// unambiguous prefix (case-insensitive), -Switch or -Switch:$false, then positional arguments in
// position order; then mandatory parameters are checked.
func Bind(def *Cmdlet, elems []Elem, eval func(Expr) (any, error)) (Bound, error) {
	params := def.allParams()
	out := Bound{}
	var positional []Elem
	for i := 0; i < len(elems); i++ {
		el := elems[i]
		if !el.IsParam {
			positional = append(positional, el)
			continue
		}
		p, err := def.match(params, el.Param)
		if err != nil {
			return nil, err
		}
		if _, dup := out[p.Name]; dup {
			return nil, Errorf("Cannot bind parameter because parameter '%s' is specified more than once. To provide multiple values to parameters that can accept multiple values, use the array syntax. For example, \"-parameter value1,value2,value3\".", p.Name)
		}
		var raw any
		switch {
		case el.Colon:
			v, err := eval(el.Value)
			if err != nil {
				return nil, err
			}
			raw = v
		case p.Kind == Switch:
			raw = true
		default:
			if i+1 >= len(elems) || elems[i+1].IsParam {
				return nil, Errorf("Missing an argument for parameter '%s'. Specify a parameter of type '%s' and try again.", p.Name, typeName(p))
			}
			i++
			v, err := eval(elems[i].Value)
			if err != nil {
				return nil, err
			}
			raw = v
		}
		v, err := convert(p, raw)
		if err != nil {
			return nil, err
		}
		out[p.Name] = v
	}
	var slots []Param
	for _, p := range def.positional() {
		if _, done := out[p.Name]; !done {
			slots = append(slots, p)
		}
	}
	for i, el := range positional {
		if i >= len(slots) {
			return nil, &Error{Msg: fmt.Sprintf("A positional parameter cannot be found that accepts argument '%s'.", el.Raw),
				Hint: "parameters of " + def.Name + ": " + def.ParamList()}
		}
		v, err := eval(el.Value)
		if err != nil {
			return nil, err
		}
		cv, err := convert(slots[i], v)
		if err != nil {
			return nil, err
		}
		out[slots[i].Name] = cv
	}
	var missing []string
	for _, p := range def.Params {
		if p.Mandatory && !out.Has(p.Name) && !def.notMandatory(p.Name, out) {
			missing = append(missing, p.Name)
		}
	}
	if len(missing) > 0 {
		return nil, Errorf("Cannot process command because of one or more missing mandatory parameters: %s.", strings.Join(missing, " "))
	}
	return out, nil
}

// Match finds the parameter that name designates as PowerShell does: the exact name, or an
// unambiguous prefix (case-insensitive), among the cmdlet's own and the common parameters.
func (def *Cmdlet) Match(name string) (Param, error) { return def.match(def.allParams(), name) }

func (def *Cmdlet) allParams() []Param {
	return append(append([]Param(nil), def.Params...), commonParams()...)
}

func (def *Cmdlet) match(params []Param, name string) (Param, error) {
	var hits []Param
	for _, p := range params {
		if strings.EqualFold(p.Name, name) {
			return p, nil
		}
		if strings.HasPrefix(strings.ToLower(p.Name), strings.ToLower(name)) {
			hits = append(hits, p)
		}
	}
	switch len(hits) {
	case 1:
		return hits[0], nil
	case 0:
		return Param{}, &Error{Msg: fmt.Sprintf("A parameter cannot be found that matches parameter name '%s'.", name),
			Hint: "parameters of " + def.Name + ": " + def.ParamList()}
	}
	var names []string
	for _, h := range hits {
		names = append(names, "-"+h.Name)
	}
	return Param{}, Errorf("Parameter cannot be processed because the parameter name '%s' is ambiguous. Possible matches include: %s.", name, strings.Join(names, " "))
}

func typeName(p Param) string {
	switch p.Kind {
	case Enum, EnumFlags:
		return p.EnumType
	}
	switch p.Kind {
	case String:
		return "System.String"
	case Strings:
		return "System.String[]"
	case Switch:
		return "System.Management.Automation.SwitchParameter"
	case Bool:
		return "System.Boolean"
	case Int:
		return "System.Int32"
	case Date:
		return "System.DateTime"
	case Hash:
		return "System.Collections.Hashtable"
	case GUID:
		return "System.Guid"
	}
	return ""
}

// convert turns an evaluated argument into the parameter's type, with PowerShell's messages.
func convert(p Param, v any) (any, error) {
	cannot := func(detail string) error {
		return Errorf("Cannot bind parameter '%s'. Cannot convert value \"%s\" to type \"%s\". Error: \"%s\"", p.Name, ToString(v), typeName(p), detail)
	}
	switch p.Kind {
	case String:
		if _, ok := v.([]any); ok {
			return nil, Errorf("Cannot convert '%s' to the type '%s' required by parameter '%s'. Specified method is not supported.", "System.Object[]", "System.String", p.Name)
		}
		return ToString(v), nil
	case GUID:
		return ToString(v), nil
	case Strings:
		var out []string
		for _, x := range Flatten(v) {
			out = append(out, ToString(x))
		}
		return out, nil
	case Switch, Bool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case int64:
			return x != 0, nil
		case string:
			if p.Kind == Bool {
				return nil, Errorf("Cannot process argument transformation on parameter '%s'. Cannot convert value \"System.String\" to type \"System.Boolean\". Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0.", p.Name)
			}
			return x != "", nil
		}
		return v != nil, nil
	case Int:
		n, err := strconv.ParseInt(strings.TrimSpace(ToString(v)), 10, 32)
		if err != nil {
			return nil, cannot("Input string was not in a correct format.")
		}
		return n, nil
	case Date:
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
	case Hash:
		if h, ok := v.(*Hashtable); ok {
			return h, nil
		}
		return nil, Errorf("Cannot bind parameter '%s'. Cannot convert the \"%s\" value of type \"System.String\" to type \"System.Collections.Hashtable\".", p.Name, ToString(v))
	case Enum, EnumFlags:
		var names []string
		for _, x := range Flatten(v) {
			for _, part := range strings.Split(ToString(x), ",") {
				part = strings.TrimSpace(part)
				if part == "" {
					continue
				}
				found := ""
				for i, e := range p.Enum {
					if strings.EqualFold(e, part) || part == strconv.Itoa(i) {
						found = e
					}
				}
				if found == "" {
					return nil, Errorf("Cannot bind parameter '%s'. Cannot convert value \"%s\" to type \"%s\". Error: \"Unable to match the identifier name %s to a valid enumerator name. Specify one of the following enumerator names and try again:\n%s\"",
						p.Name, ToString(v), p.EnumType, part, strings.Join(p.Enum, ", "))
				}
				names = append(names, found)
			}
		}
		if p.Kind == Enum {
			if len(names) != 1 {
				return nil, cannot("want exactly one value")
			}
			return names[0], nil
		}
		return names, nil
	}
	return v, nil
}

// Cmdlet is what the binder knows of a cmdlet: its name and parameters.
type Cmdlet struct {
	Name   string
	Params []Param
	// Optional reports a mandatory parameter that the parameter set of what is bound makes
	// optional (nil: none).
	Optional func(name string, b Bound) bool
}

func (d *Cmdlet) positional() []Param {
	var out []Param
	for _, p := range d.Params {
		if p.Pos >= 0 {
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Pos < out[j].Pos })
	return out
}

func (d *Cmdlet) notMandatory(name string, b Bound) bool {
	return d.Optional != nil && d.Optional(name, b)
}

// ParamList is "-Name -DNSHostName ...": the cmdlet's own parameters, for messages.
func (d *Cmdlet) ParamList() string {
	names := make([]string, 0, len(d.Params))
	for _, p := range d.Params {
		names = append(names, "-"+p.Name)
	}
	return strings.Join(names, " ")
}
