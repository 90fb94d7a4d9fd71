package ps

import (
	"fmt"
	"strings"
	"time"
)

// Format prints output as PowerShell's default formatter does: scalars one per line,
// objects in list view (more than 4 properties) separated by blank lines, or one table.
func Format(out *strings.Builder, vals []any) {
	var table []*Object
	flushTable := func() {
		if len(table) == 0 {
			return
		}
		writeTable(out, table)
		table = nil
	}
	for _, v := range Flatten(vals) {
		switch x := v.(type) {
		case *Object:
			if x.Table {
				table = append(table, x)
				continue
			}
			flushTable()
			writeList(out, x)
		default:
			flushTable()
			if v == nil {
				continue
			}
			out.WriteString(valueText(v) + "\n")
		}
	}
	flushTable()
}

func valueText(v any) string {
	if t, ok := v.(time.Time); ok {
		return t.UTC().Format("Monday, January 2, 2006 3:04:05 PM")
	}
	return ToString(v)
}

// EnumerationLimit is $FormatEnumerationLimit: collections show their first 4 items, then "...".
const EnumerationLimit = 4

func listValue(v any) string {
	switch x := v.(type) {
	case []string:
		if len(x) == 0 {
			return "{}"
		}
		more := ""
		if len(x) > EnumerationLimit {
			x, more = x[:EnumerationLimit], "..."
		}
		return "{" + strings.Join(x, ", ") + more + "}"
	case time.Time:
		return DateString(x)
	}
	return ToString(v)
}

func writeList(out *strings.Builder, o *Object) {
	if out.Len() > 0 && !strings.HasSuffix(out.String(), "\n\n") {
		out.WriteString("\n")
	}
	w := 0
	for _, p := range o.Props {
		if len(p.Name) > w {
			w = len(p.Name)
		}
	}
	for _, p := range o.Props {
		fmt.Fprintf(out, "%-*s : %s\n", w, p.Name, listValue(p.Val))
	}
	out.WriteString("\n")
}

func writeTable(out *strings.Builder, rows []*Object) {
	cols := rows[0].Props
	widths := make([]int, len(cols))
	for i, c := range cols {
		widths[i] = len(c.Name)
		for _, r := range rows {
			if n := len(listValue(r.Get(c.Name))); n > widths[i] {
				widths[i] = n
			}
		}
	}
	line := func(cells []string) {
		var parts []string
		for i, c := range cells {
			if i == len(cells)-1 {
				parts = append(parts, c)
			} else {
				parts = append(parts, fmt.Sprintf("%-*s", widths[i], c))
			}
		}
		out.WriteString(strings.TrimRight(strings.Join(parts, " "), " ") + "\n")
	}
	var hdr, dash []string
	for _, c := range cols {
		hdr = append(hdr, c.Name)
		dash = append(dash, strings.Repeat("-", len(c.Name)))
	}
	line(hdr)
	line(dash)
	for _, r := range rows {
		var cells []string
		for _, c := range cols {
			cells = append(cells, listValue(r.Get(c.Name)))
		}
		line(cells)
	}
}
