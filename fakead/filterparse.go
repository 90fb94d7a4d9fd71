package fakead

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// ParseFilter parses the RFC 4515 string form of a search filter, including extensible matches
// such as (userAccountControl:1.2.840.113556.1.4.803:=2). A filter without its outer parentheses
// ("sAMAccountName=alice") is accepted, as ldapsearch accepts it.
func ParseFilter(s string) (Filter, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return nil, fmt.Errorf("filter %q: empty", s)
	}
	if t[0] != '(' {
		t = "(" + t + ")"
	}
	p := filterParser{s: t}
	f, err := p.filter(0)
	if err != nil {
		return nil, fmt.Errorf("filter %q: %v", s, err)
	}
	if p.i != len(p.s) {
		return nil, fmt.Errorf("filter %q: unexpected %q after the filter", s, p.s[p.i:])
	}
	return f, nil
}

// maxFilterDepth bounds nesting so a hostile filter cannot exhaust the stack.
const maxFilterDepth = 64

type filterParser struct {
	s string
	i int
}

func (p *filterParser) filter(depth int) (Filter, error) {
	if depth > maxFilterDepth {
		return nil, fmt.Errorf("nested deeper than %d", maxFilterDepth)
	}
	if p.i >= len(p.s) || p.s[p.i] != '(' {
		return nil, fmt.Errorf("expected '(' at offset %d", p.i)
	}
	p.i++
	if p.i >= len(p.s) {
		return nil, fmt.Errorf("unterminated filter")
	}
	var f Filter
	var err error
	switch p.s[p.i] {
	case '&', '|':
		op := p.s[p.i]
		p.i++
		var list []Filter
		for p.i < len(p.s) && p.s[p.i] == '(' {
			sub, err := p.filter(depth + 1)
			if err != nil {
				return nil, err
			}
			list = append(list, sub)
		}
		if op == '&' {
			f = FilterAnd(list)
		} else {
			f = FilterOr(list)
		}
	case '!':
		p.i++
		sub, err := p.filter(depth + 1)
		if err != nil {
			return nil, err
		}
		f = FilterNot{F: sub}
	default:
		end := strings.IndexByte(p.s[p.i:], ')')
		if end < 0 {
			return nil, fmt.Errorf("missing ')' after offset %d", p.i)
		}
		f, err = parseItem(p.s[p.i : p.i+end])
		if err != nil {
			return nil, err
		}
		p.i += end
	}
	if p.i >= len(p.s) || p.s[p.i] != ')' {
		return nil, fmt.Errorf("expected ')' at offset %d", p.i)
	}
	p.i++
	return f, nil
}

func parseItem(item string) (Filter, error) {
	eq := strings.IndexByte(item, '=')
	if eq <= 0 {
		return nil, fmt.Errorf("item %q: want attr=value, attr>=value, attr<=value, attr~=value or attr:rule:=value", item)
	}
	lhs, rhs := item[:eq], item[eq+1:]
	switch lhs[len(lhs)-1] {
	case '>', '<', '~':
		attr := lhs[:len(lhs)-1]
		if !validAttrDesc(attr) {
			return nil, fmt.Errorf("item %q: bad attribute %q", item, attr)
		}
		v, err := unescapeFilterValue(rhs)
		if err != nil {
			return nil, fmt.Errorf("item %q: %v", item, err)
		}
		switch lhs[len(lhs)-1] {
		case '>':
			return FilterGreaterOrEqual{Attr: attr, Value: v}, nil
		case '<':
			return FilterLessOrEqual{Attr: attr, Value: v}, nil
		default:
			return FilterApprox{Attr: attr, Value: v}, nil
		}
	case ':':
		return parseExtensible(item, lhs[:len(lhs)-1], rhs)
	}
	if !validAttrDesc(lhs) {
		return nil, fmt.Errorf("item %q: bad attribute %q", item, lhs)
	}
	if rhs == "*" {
		return FilterPresent{Attr: lhs}, nil
	}
	if !strings.Contains(rhs, "*") {
		v, err := unescapeFilterValue(rhs)
		if err != nil {
			return nil, fmt.Errorf("item %q: %v", item, err)
		}
		return FilterEquality{Attr: lhs, Value: v}, nil
	}
	parts := strings.Split(rhs, "*")
	sub := FilterSubstrings{Attr: lhs}
	for i, part := range parts {
		v, err := unescapeFilterValue(part)
		if err != nil {
			return nil, fmt.Errorf("item %q: %v", item, err)
		}
		switch {
		case i == 0:
			if part != "" {
				sub.Initial = v
			}
		case i == len(parts)-1:
			if part != "" {
				sub.Final = v
			}
		default:
			if part == "" {
				return nil, fmt.Errorf("item %q: empty substring between two '*'", item)
			}
			sub.Any = append(sub.Any, v)
		}
	}
	return sub, nil
}

// parseExtensible reads attr[:dn][:rule] or [:dn]:rule (the ':=' already split off).
func parseExtensible(item, lhs, rhs string) (Filter, error) {
	parts := strings.Split(lhs, ":")
	f := FilterExtensible{Attr: parts[0]}
	for _, part := range parts[1:] {
		switch {
		case strings.EqualFold(part, "dn") && !f.DNAttributes && f.Rule == "":
			f.DNAttributes = true
		case part != "" && f.Rule == "":
			f.Rule = part
		default:
			return nil, fmt.Errorf("item %q: want attr[:dn][:rule]:=value", item)
		}
	}
	if f.Attr != "" && !validAttrDesc(f.Attr) {
		return nil, fmt.Errorf("item %q: bad attribute %q", item, f.Attr)
	}
	if f.Attr == "" && f.Rule == "" {
		return nil, fmt.Errorf("item %q: an extensible match needs an attribute or a matching rule", item)
	}
	v, err := unescapeFilterValue(rhs)
	if err != nil {
		return nil, fmt.Errorf("item %q: %v", item, err)
	}
	f.Value = v
	return f, nil
}

func validAttrDesc(a string) bool {
	if a == "" {
		return false
	}
	for i := 0; i < len(a); i++ {
		c := a[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == ';' || c == '_') {
			return false
		}
	}
	return true
}

func unescapeFilterValue(s string) ([]byte, error) {
	if !strings.ContainsAny(s, "\\()") {
		return []byte(s), nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '(', ')':
			return nil, fmt.Errorf("unescaped %q in a value (write \\%02x)", c, c)
		case '\\':
			if i+2 >= len(s) {
				return nil, fmt.Errorf("incomplete escape at the end of %q", s)
			}
			if !isHex(s[i+1]) || !isHex(s[i+2]) {
				return nil, fmt.Errorf("bad escape %q (want \\ and two hex digits)", s[i:i+3])
			}
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
	}
	return out, nil
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// FilterString formats a filter in RFC 4515 form, escaping values (binary values included).
func FilterString(f Filter) string {
	var b strings.Builder
	writeFilter(&b, f)
	return b.String()
}

func writeFilter(b *strings.Builder, f Filter) {
	b.WriteByte('(')
	switch f := f.(type) {
	case FilterAnd:
		b.WriteByte('&')
		for _, c := range f {
			writeFilter(b, c)
		}
	case FilterOr:
		b.WriteByte('|')
		for _, c := range f {
			writeFilter(b, c)
		}
	case FilterNot:
		b.WriteByte('!')
		writeFilter(b, f.F)
	case FilterEquality:
		b.WriteString(f.Attr + "=")
		escapeFilterValue(b, f.Value)
	case FilterApprox:
		b.WriteString(f.Attr + "~=")
		escapeFilterValue(b, f.Value)
	case FilterGreaterOrEqual:
		b.WriteString(f.Attr + ">=")
		escapeFilterValue(b, f.Value)
	case FilterLessOrEqual:
		b.WriteString(f.Attr + "<=")
		escapeFilterValue(b, f.Value)
	case FilterPresent:
		b.WriteString(f.Attr + "=*")
	case FilterSubstrings:
		b.WriteString(f.Attr + "=")
		escapeFilterValue(b, f.Initial)
		b.WriteByte('*')
		for _, a := range f.Any {
			escapeFilterValue(b, a)
			b.WriteByte('*')
		}
		escapeFilterValue(b, f.Final)
	case FilterExtensible:
		b.WriteString(f.Attr)
		if f.DNAttributes {
			b.WriteString(":dn")
		}
		if f.Rule != "" {
			b.WriteString(":" + f.Rule)
		}
		b.WriteString(":=")
		escapeFilterValue(b, f.Value)
	default:
		fmt.Fprintf(b, "?%T", f)
	}
	b.WriteByte(')')
}

func escapeFilterValue(b *strings.Builder, v []byte) {
	const hexdigits = "0123456789abcdef"
	binary := !utf8.Valid(v) // a SID or GUID value: escape every non-ASCII byte
	for _, c := range v {
		if c == '*' || c == '(' || c == ')' || c == '\\' || c < 0x20 || c == 0x7f || (binary && c >= 0x80) {
			b.WriteByte('\\')
			b.WriteByte(hexdigits[c>>4])
			b.WriteByte(hexdigits[c&15])
			continue
		}
		b.WriteByte(c)
	}
}
