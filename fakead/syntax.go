package fakead

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gmsasim/gmsasim/ad"
)

var errSyntax = errors.New("value does not match the attribute's syntax")

// canonical validates a value of attribute a as a client sent it and returns the form stored and
// returned on read (booleans upper-case, integers in canonical decimal) and the normalised form used
// for matching and indexing.
func canonical(a *AttrType, v []byte) (raw []byte, norm string, err error) {
	switch a.Syntax {
	case SynBoolean:
		switch {
		case strings.EqualFold(string(v), "TRUE"):
			return []byte("TRUE"), "TRUE", nil
		case strings.EqualFold(string(v), "FALSE"):
			return []byte("FALSE"), "FALSE", nil
		}
		return nil, "", errSyntax
	case SynInteger:
		n, err := strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64)
		if err != nil || n < -2147483648 || n > 4294967295 {
			return nil, "", errSyntax
		}
		if n > 2147483647 { // AD accepts unsigned 32-bit text and stores it signed
			n -= 4294967296
		}
		s := strconv.FormatInt(n, 10)
		return []byte(s), s, nil
	case SynLargeInteger:
		n, err := strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64)
		if err != nil {
			return nil, "", errSyntax
		}
		s := strconv.FormatInt(n, 10)
		return []byte(s), s, nil
	case SynDN:
		dn, err := ParseDN(string(v))
		if err != nil || dn.IsZero() {
			return nil, "", errSyntax
		}
		return []byte(dn.String()), dnKey(dn), nil
	case SynSID:
		if _, err := ad.SIDFromBytes(v); err != nil {
			return nil, "", errSyntax
		}
		return v, string(v), nil
	case SynTime:
		n, ok := normTime(string(v))
		if !ok {
			return nil, "", errSyntax
		}
		return v, n, nil
	case SynOctet, SynSecurityDescriptor:
		return v, string(v), nil
	case SynCaseExact:
		if !utf8.Valid(v) {
			return nil, "", errSyntax
		}
		return v, string(v), nil
	case SynNumeric:
		return v, strings.ReplaceAll(string(v), " ", ""), nil
	}
	if !utf8.Valid(v) {
		return nil, "", errSyntax
	}
	return v, foldCase(string(v)), nil
}

// normAssertion normalises a filter's assertion value for attribute a. ok is false when the value
// cannot match anything (AD then evaluates the item as false, not as an error).
func normAssertion(a *AttrType, v []byte) (string, bool) {
	switch a.Syntax {
	case SynSID:
		// AD accepts the string form of a SID in filters.
		if len(v) > 2 && (v[0] == 'S' || v[0] == 's') && v[1] == '-' {
			sid, err := ad.ParseSID(string(v))
			if err != nil {
				return "", false
			}
			return string(sid.Bytes()), true
		}
	}
	_, n, err := canonical(a, v)
	if err != nil {
		return "", false
	}
	return n, true
}

// normTime turns "20261122011844.0Z" or the UTC-time "261122011844Z" into "20261122011844".
func normTime(s string) (string, bool) {
	s = strings.TrimSuffix(strings.TrimSuffix(s, "Z"), "z")
	if i := strings.IndexAny(s, ".,"); i >= 0 {
		s = s[:i]
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	switch len(s) {
	case 14:
		return s, true
	case 12: // UTC time: YYMMDDHHMMSS
		if s[0] >= '5' {
			return "19" + s, true
		}
		return "20" + s, true
	case 10:
		return s + "0000", true
	}
	return "", false
}

// foldCase lower-cases s, without allocating when it is already lower-case ASCII.
func foldCase(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || (c >= 'A' && c <= 'Z') {
			return strings.ToLower(s)
		}
	}
	return s
}

// numeric reports the value of a normalised integer for ordering and bitwise rules.
func numeric(norm string) (int64, bool) {
	n, err := strconv.ParseInt(norm, 10, 64)
	return n, err == nil
}

func isNumericSyntax(s Syntax) bool { return s == SynInteger || s == SynLargeInteger }
