package fakead

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// RDN is one relative distinguished name: CN=Users. Active Directory has no multi-valued RDNs, so
// neither does the model.
type RDN struct {
	Attr  string
	Value string
}

// DN is a distinguished name, leftmost RDN first: CN=Users,DC=contoso,DC=com is
// {CN Users} {DC contoso} {DC com}. The empty DN names the rootDSE.
type DN []RDN

// MaxDNRDNs bounds the number of RDNs in a DN. No object can be that deep (the naming contexts
// are three to five levels and AD's own containers a few more), so a longer DN can only be an
// attack on the parser and the lookups that follow it; it is refused as soon as the bound is
// crossed, before the rest of the string is read.
// Divergence: [MS-ADTS] documents the 255-character RDN limit (3.1.1.5.1.2) but not AD's limit on
// the number of RDNs (ERROR_DS_NAME_TOO_MANY_PARTS); 256 is the model's.
const MaxDNRDNs = 256

// MaxRDNLength is the RDN value limit of [MS-ADTS] 3.1.1.5.1.2: "The RDN size MUST be less than
// 255 characters."
const MaxRDNLength = 255

// ParseDN parses the RFC 4514 string form (also RFC 2253 quoting and ';' separators, which AD
// accepts). Attribute types keep their spelling; values are unescaped.
func ParseDN(s string) (DN, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	// One allocation for the RDNs: at most one per separator, plus one.
	dn := make(DN, 0, min(strings.Count(s, ",")+strings.Count(s, ";")+1, MaxDNRDNs+1))
	i := 0
	for {
		// attribute type
		for i < len(s) && s[i] == ' ' {
			i++
		}
		start := i
		for i < len(s) && s[i] != '=' && s[i] != ',' && s[i] != ';' && s[i] != '+' {
			i++
		}
		if i >= len(s) || s[i] != '=' {
			return nil, fmt.Errorf("DN %q: RDN %d has no '=' (want attr=value)", s, len(dn)+1)
		}
		attr := strings.TrimSpace(s[start:i])
		if attr == "" || !validAttrType(attr) {
			return nil, fmt.Errorf("DN %q: bad attribute type %q in RDN %d", s, attr, len(dn)+1)
		}
		i++ // '='
		val, next, err := parseDNValue(s, i)
		if err != nil {
			return nil, fmt.Errorf("DN %q: RDN %d: %v", s, len(dn)+1, err)
		}
		if len(dn) == MaxDNRDNs {
			return nil, fmt.Errorf("DN of %d bytes has more than %d RDNs (ERROR_DS_NAME_TOO_MANY_PARTS)", len(s), MaxDNRDNs)
		}
		dn = append(dn, RDN{Attr: attr, Value: val})
		i = next
		if i >= len(s) {
			return dn, nil
		}
		switch s[i] {
		case ',', ';':
			i++
			if strings.TrimSpace(s[i:]) == "" {
				return nil, fmt.Errorf("DN %q: ends with a separator", s)
			}
		case '+':
			return nil, fmt.Errorf("DN %q: multi-valued RDNs are not supported by Active Directory", s)
		default:
			return nil, fmt.Errorf("DN %q: unexpected %q at offset %d", s, s[i], i)
		}
	}
}

func validAttrType(a string) bool {
	for i := 0; i < len(a); i++ {
		c := a[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == ';') {
			return false
		}
	}
	return true
}

// parseDNValue reads one attribute value starting at i and returns it unescaped with the offset of
// the separator that ends it (or len(s)).
func parseDNValue(s string, i int) (string, int, error) {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	if i < len(s) && s[i] == '#' { // hex-encoded BER value: keep the text as it is
		start := i
		for i < len(s) && s[i] != ',' && s[i] != ';' && s[i] != '+' {
			i++
		}
		return strings.TrimRight(s[start:i], " "), i, nil
	}
	if i < len(s) && s[i] == '"' {
		var b strings.Builder
		i++
		for ; i < len(s) && s[i] != '"'; i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
			}
			b.WriteByte(s[i])
		}
		if i >= len(s) {
			return "", 0, fmt.Errorf("unterminated quoted value")
		}
		i++
		for i < len(s) && s[i] == ' ' {
			i++
		}
		return b.String(), i, nil
	}
	// Without escapes the value is a substring of s (no copy); the first backslash falls back to
	// the unescaping loop from the value's start.
	for j := i; j < len(s); j++ {
		if c := s[j]; c == ',' || c == ';' || c == '+' {
			return strings.TrimRight(s[i:j], " "), j, nil
		} else if c == '\\' {
			break
		} else if j == len(s)-1 {
			return strings.TrimRight(s[i:], " "), len(s), nil
		}
	}
	var b strings.Builder
	lastEscaped := 0 // length of b after the last escaped character: escaped trailing spaces stay
	for i < len(s) {
		c := s[i]
		switch {
		case c == ',' || c == ';' || c == '+':
			return trimUnescaped(b.String(), lastEscaped), i, nil
		case c == '\\':
			if i+1 >= len(s) {
				return "", 0, fmt.Errorf("value ends with a lone backslash")
			}
			if isHex(s[i+1]) {
				if i+2 >= len(s) || !isHex(s[i+2]) {
					return "", 0, fmt.Errorf("bad hex escape at offset %d", i)
				}
				v, _ := hex.DecodeString(s[i+1 : i+3])
				b.WriteByte(v[0])
				i += 3
			} else {
				b.WriteByte(s[i+1])
				i += 2
			}
			lastEscaped = b.Len()
		default:
			b.WriteByte(c)
			i++
		}
	}
	return trimUnescaped(b.String(), lastEscaped), i, nil
}

func trimUnescaped(v string, keep int) string {
	t := strings.TrimRight(v, " ")
	if len(t) < keep {
		return v[:keep]
	}
	return t
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// MustParseDN is ParseDN for constants; it panics on a malformed literal.
func MustParseDN(s string) DN {
	dn, err := ParseDN(s)
	if err != nil {
		panic(err)
	}
	return dn
}

// String formats the DN in RFC 4514 form, escaping as AD does (a newline is \0A, as in the
// mangled names of deleted and conflicting objects).
func (d DN) String() string {
	var b strings.Builder
	for i, r := range d {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(r.Attr)
		b.WriteByte('=')
		escapeDNValue(&b, r.Value)
	}
	return b.String()
}

func escapeDNValue(b *strings.Builder, v string) { escapeDNValueMapped(b, v, false) }

// escapeDNValueFolded is escapeDNValue(b, foldCase(v)) for an ASCII v, without the copy.
func escapeDNValueFolded(b *strings.Builder, v string) { escapeDNValueMapped(b, v, true) }

func escapeDNValueMapped(b *strings.Builder, v string, lower bool) {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if lower && c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		switch {
		case c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' || c == ';' || c == '=':
			b.WriteByte('\\')
			b.WriteByte(c)
		case (c == ' ' && (i == 0 || i == len(v)-1)) || (c == '#' && i == 0):
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(b, "\\%02X", c)
		default:
			b.WriteByte(c)
		}
	}
}

// Key is the normalised form used to compare and index DNs: lower-case types and values, canonical
// escaping. Two DNs AD treats as equal have the same Key.
func (d DN) Key() string {
	var b strings.Builder
	for i, r := range d {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strings.ToLower(r.Attr))
		b.WriteByte('=')
		escapeDNValue(&b, strings.ToLower(r.Value))
	}
	return b.String()
}

// IsZero reports whether d is the empty DN (the rootDSE).
func (d DN) IsZero() bool { return len(d) == 0 }

// RDN is the leftmost RDN (zero for the empty DN).
func (d DN) RDN() RDN {
	if len(d) == 0 {
		return RDN{}
	}
	return d[0]
}

// Parent is the DN without its leftmost RDN.
func (d DN) Parent() DN {
	if len(d) == 0 {
		return nil
	}
	return d[1:]
}

// Child is the DN of attr=value directly below d.
func (d DN) Child(attr, value string) DN {
	c := make(DN, 0, len(d)+1)
	c = append(c, RDN{Attr: attr, Value: value})
	return append(c, d...)
}

// Equal compares two DNs as AD does (case-insensitively).
func (d DN) Equal(o DN) bool {
	if len(d) != len(o) {
		return false
	}
	for i := range d {
		if !strings.EqualFold(d[i].Attr, o[i].Attr) || !strings.EqualFold(d[i].Value, o[i].Value) {
			return false
		}
	}
	return true
}

// IsUnder reports whether d is base or lies below it.
func (d DN) IsUnder(base DN) bool {
	if len(base) > len(d) {
		return false
	}
	return d[len(d)-len(base):].Equal(base)
}
