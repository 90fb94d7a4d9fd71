package fakead

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// FuzzParseDN: ParseDN (substring values, one RDN allocation) parses every input as the
// builder-based version it replaced (parseDNRef, kept below) did, and dnKey (lower-casing while
// escaping) equals DN.Key.
func FuzzParseDN(f *testing.F) {
	for _, s := range []string{"CN=user1,CN=Users,DC=contoso,DC=com", "cn=a\\,b;dc=x", "CN= spaced \\ ,DC=x",
		"CN=\\41\\42,DC=x", `CN="quoted, value",DC=x`, "CN=#0403616263,DC=x", "CN=Ünïcode,DC=x", "CN=a+SN=b",
		"CN=x,", "=x", "CN=a\\", "CN=CaSe\\0D,OU=Ä,DC=x", " cn = a , dc = b ", "CN=a ;DC=b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, gerr := ParseDN(s)
		want, werr := parseDNRef(s)
		if (gerr == nil) != (werr == nil) || gerr != nil && gerr.Error() != werr.Error() || !slices.Equal(got, want) {
			t.Fatalf("ParseDN(%q) = %q, %v; reference %q, %v", s, got, gerr, want, werr)
		}
		if gerr == nil && dnKey(got) != got.Key() {
			t.Fatalf("dnKey(%q) = %q, Key() %q", s, dnKey(got), got.Key())
		}
	})
}

// parseDNRef is ParseDN as it was before the substring fast path: the reference of FuzzParseDN.
func parseDNRef(s string) (DN, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var dn DN
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
		val, next, err := parseDNValueRef(s, i)
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
func parseDNValueRef(s string, i int) (string, int, error) {
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
