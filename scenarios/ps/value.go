package ps

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Values of the PowerShell subset: string, int64, bool, nil, []any, []string, *Hashtable,
// time.Time, *Object.

// Hashtable is @{Key=value; ...}: keys in the order written, looked up case-insensitively.
type Hashtable struct {
	Keys []string
	Vals []any
}

// Get returns the value of key k.
func (h *Hashtable) Get(k string) (any, bool) {
	for i, x := range h.Keys {
		if strings.EqualFold(x, k) {
			return h.Vals[i], true
		}
	}
	return nil, false
}

// Object is a cmdlet's output object: ordered properties, printed in list or table format.
type Object struct {
	Props []Prop
	Table bool // few properties: PowerShell's table view
}

// Prop is one property of an Object.
type Prop struct {
	Name string
	Val  any
}

// Get returns the property's value (nil if the object has none of that name).
func (o *Object) Get(name string) any {
	for _, p := range o.Props {
		if strings.EqualFold(p.Name, name) {
			return p.Val
		}
	}
	return nil
}

// Flatten unrolls arrays (nested ones too) into one list of values; nil is no value.
func Flatten(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		var out []any
		for _, e := range x {
			out = append(out, Flatten(e)...)
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

// ToString is a value as PowerShell turns it into a string.
func ToString(v any) string {
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
		return DateString(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = ToString(e)
		}
		return strings.Join(parts, " ")
	case []string:
		return strings.Join(x, " ")
	case *Hashtable:
		return "System.Collections.Hashtable"
	case *Object:
		if len(x.Props) > 0 {
			return ToString(x.Props[0].Val)
		}
	}
	return fmt.Sprint(v)
}

// DateString prints a DateTime as en-US PowerShell does ("11/23/2026 10:30:00 AM").
// Divergence: every simulated machine runs in UTC with the en-US culture.
func DateString(t time.Time) string { return t.UTC().Format("1/2/2006 3:04:05 PM") }
