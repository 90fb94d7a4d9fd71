package fakead

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
)

// LDIFRecord is one content record of an LDIF file (RFC 2849): a DN and its attributes in file
// order. Line is the line the record starts on, for error messages.
type LDIFRecord struct {
	DN    string
	Attrs []Attribute
	Line  int
}

// maxLDIFLine bounds one (unfolded) line so hostile input cannot make the reader grow without end.
const maxLDIFLine = 64 << 20

// ReadLDIF reads LDIF content records: folded lines, "::" base64 values, comments, an optional
// "version: 1" line and "changetype: add" records. Values of one attribute appearing on several
// lines are gathered, in order, into one Attribute. Errors name the line.
func ReadLDIF(r io.Reader) ([]LDIFRecord, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxLDIFLine)
	var (
		recs    []LDIFRecord
		cur     *LDIFRecord
		logical strings.Builder
		start   int // line number of the logical line being assembled
		lineNo  int
		inLine  bool
		comment bool
	)
	flush := func() error {
		if !inLine {
			return nil
		}
		inLine = false
		if comment {
			comment = false
			return nil
		}
		line := logical.String()
		logical.Reset()
		name, val, err := parseLDIFLine(line)
		if err != nil {
			return fmt.Errorf("LDIF line %d: %v", start, err)
		}
		lname := strings.ToLower(name)
		if cur == nil {
			switch lname {
			case "version":
				if string(val) != "1" {
					return fmt.Errorf("LDIF line %d: version %q, only version 1 is known", start, val)
				}
				if len(recs) > 0 {
					return fmt.Errorf("LDIF line %d: version must come before the first record", start)
				}
				return nil
			case "dn":
				recs = append(recs, LDIFRecord{DN: string(val), Line: start})
				cur = &recs[len(recs)-1]
				return nil
			default:
				return fmt.Errorf("LDIF line %d: a record must start with \"dn:\", got %q", start, name)
			}
		}
		if lname == "changetype" {
			if !strings.EqualFold(string(val), "add") {
				return fmt.Errorf("LDIF line %d: changetype %q is not supported here (only add)", start, val)
			}
			return nil
		}
		if lname == "dn" {
			return fmt.Errorf("LDIF line %d: second \"dn:\" in one record (records are separated by a blank line)", start)
		}
		for i := range cur.Attrs {
			if strings.EqualFold(cur.Attrs[i].Name, name) {
				cur.Attrs[i].Values = append(cur.Attrs[i].Values, val)
				return nil
			}
		}
		cur.Attrs = append(cur.Attrs, Attribute{Name: name, Values: [][]byte{val}})
		return nil
	}
	for sc.Scan() {
		lineNo++
		line := strings.TrimSuffix(sc.Text(), "\r")
		switch {
		case line == "":
			if err := flush(); err != nil {
				return nil, err
			}
			cur = nil
		case line[0] == ' ':
			if !inLine {
				return nil, fmt.Errorf("LDIF line %d: continuation line with nothing to continue", lineNo)
			}
			if !comment {
				logical.WriteString(line[1:])
			}
		case line[0] == '#':
			if err := flush(); err != nil {
				return nil, err
			}
			inLine, comment, start = true, true, lineNo
		default:
			if err := flush(); err != nil {
				return nil, err
			}
			inLine, start = true, lineNo
			logical.WriteString(line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("LDIF line %d: %v", lineNo+1, err)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return recs, nil
}

func parseLDIFLine(line string) (string, []byte, error) {
	colon := strings.IndexByte(line, ':')
	if colon <= 0 {
		return "", nil, fmt.Errorf("want \"name: value\", got %q", truncate(line, 60))
	}
	name := line[:colon]
	if !validAttrDesc(name) {
		return "", nil, fmt.Errorf("bad attribute name %q", name)
	}
	rest := line[colon+1:]
	switch {
	case strings.HasPrefix(rest, ":"):
		v, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest[1:]))
		if err != nil {
			return "", nil, fmt.Errorf("%s: bad base64 value: %v", name, err)
		}
		return name, v, nil
	case strings.HasPrefix(rest, "<"):
		return "", nil, fmt.Errorf("%s: URL values (\":<\") are not supported", name)
	default:
		return name, []byte(strings.TrimLeft(rest, " ")), nil
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// WriteLDIF writes records in RFC 2849 form, one blank line after each, with values that are not
// SAFE-STRINGs (non-ASCII, control bytes, a leading space, ':' or '<', a trailing space) in base64.
// Lines are not folded. The output depends only on the records, so it is deterministic.
func WriteLDIF(w io.Writer, recs ...LDIFRecord) error {
	bw := bufio.NewWriter(w)
	for _, rec := range recs {
		writeLDIFLine(bw, "dn", []byte(rec.DN))
		for _, a := range rec.Attrs {
			for _, v := range a.Values {
				writeLDIFLine(bw, a.Name, v)
			}
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

func writeLDIFLine(w *bufio.Writer, name string, v []byte) {
	w.WriteString(name)
	if ldifSafe(v) {
		w.WriteString(": ")
		w.Write(v)
	} else {
		w.WriteString(":: ")
		w.WriteString(base64.StdEncoding.EncodeToString(v))
	}
	w.WriteByte('\n')
}

func ldifSafe(v []byte) bool {
	if len(v) == 0 {
		return true
	}
	if v[0] == ' ' || v[0] == ':' || v[0] == '<' || v[len(v)-1] == ' ' {
		return false
	}
	return bytes.IndexFunc(v, func(r rune) bool { return r < 0x20 || r >= 0x7f }) < 0
}
