package scenarios

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Worlds: a file may run the same steps over several worlds, a parameter table in the manner of
// Go's table tests. A "worlds" block before the world block lists one row per line, key=value
// words; the world block's $key words take each row's values, and every row is a run of its own,
// reported on its own (file.scn[schema=47]). An expected block is shared by every row unless the
// block carries a section for a row, opened by a line "----[ROW]" (the row as written):
//
//	worlds
//	schema=47
//	schema=88
//	----
//
//	world seed=1
//	domain contoso.com schema=$schema
//	dc DC1
//	----
//	domain contoso.com (CONTOSO) schema=88 sid=...
//	dc DC1 os=2022
//	----[schema=47]
//	domain contoso.com (CONTOSO) schema=47 sid=...
//	dc DC1 os=2022
//
// A rewrite records the output most rows give as the shared block (the first row's on a tie) and
// a section for each row that differs.

// WorldRow is one row of a worlds block.
type WorldRow struct {
	Name string            // the row's words as written, one space apart: "schema=47 os=2012"
	Vals map[string]string // key (lower-case) → value
	Line int               // 1-based
}

// rowMarker opens a row's section of an expected block.
var rowMarker = regexp.MustCompile(`^----\[(.+)\]$`)

// placeholder is a $key word of the world block.
var placeholder = regexp.MustCompile(`\$([A-Za-z][A-Za-z0-9_-]*)`)

// parseWorldRows reads a worlds block's input lines.
func parseWorldRows(st *Step) ([]WorldRow, error) {
	if len(st.Args) > 0 {
		return nil, fmt.Errorf("worlds takes no arguments: its rows are its input lines (schema=47)")
	}
	if len(st.Input) == 0 {
		return nil, fmt.Errorf("expected one row per line after worlds (schema=47)")
	}
	var rows []WorldRow
	var keys []string
	for i, line := range st.Input {
		args, err := splitArgs(strings.TrimSpace(line))
		if err != nil {
			return nil, fmt.Errorf("worlds row %d: %v", i+1, err)
		}
		row := WorldRow{Vals: map[string]string{}, Line: st.Line + 1 + i}
		var words, ks []string
		for _, a := range args {
			if !a.HasVal {
				return nil, fmt.Errorf("worlds row %d: %q: expected key=value words (schema=47)", i+1, a.Key)
			}
			k := strings.ToLower(a.Key)
			if _, dup := row.Vals[k]; dup {
				return nil, fmt.Errorf("worlds row %d: %s given twice", i+1, k)
			}
			row.Vals[k] = a.Val
			words, ks = append(words, a.Key+"="+a.Val), append(ks, k)
		}
		slices.Sort(ks)
		if keys == nil {
			keys = ks
		} else if !slices.Equal(keys, ks) {
			return nil, fmt.Errorf("worlds row %d sets %s; every row sets the same keys (%s)", i+1, strings.Join(ks, ", "), strings.Join(keys, ", "))
		}
		row.Name = strings.Join(words, " ")
		if slices.ContainsFunc(rows, func(r WorldRow) bool { return r.Name == row.Name }) {
			return nil, fmt.Errorf("worlds row %d repeats %q", i+1, row.Name)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// substitute replaces the $key words of s with the row's values; a key the row lacks is an error.
func (row WorldRow) substitute(s string) (string, error) {
	var err error
	out := placeholder.ReplaceAllStringFunc(s, func(m string) string {
		v, ok := row.Vals[strings.ToLower(m[1:])]
		if !ok {
			err = fmt.Errorf("%s: the worlds rows have no key %s (they set %s)", m, m[1:], strings.Join(mapsKeys(row.Vals), ", "))
			return m
		}
		return v
	})
	return out, err
}

func mapsKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// worldFor is the world step with the row's values in place of its $key words.
func worldFor(st *Step, row *WorldRow) (*Step, error) {
	if row == nil {
		return st, nil
	}
	line, err := row.substitute(st.String())
	if err != nil {
		return nil, err
	}
	args, err := splitArgs(line)
	if err != nil {
		return nil, err
	}
	w := *st
	w.Args = args[1:]
	w.Input = nil
	for _, in := range st.Input {
		s, err := row.substitute(in)
		if err != nil {
			return nil, err
		}
		w.Input = append(w.Input, s)
	}
	return &w, nil
}

// splitRowBlocks splits an expected block's lines into the shared part and each row's section.
// rowNames are the file's rows (nil: no worlds block, so no sections).
func splitRowBlocks(out []string, rowNames []string) (shared []string, rows map[string][]string, badLine int, err error) {
	cur := ""
	for i, l := range out {
		if m := rowMarker.FindStringSubmatch(l); m != nil {
			name := strings.Join(strings.Fields(m[1]), " ")
			switch {
			case rowNames == nil:
				return nil, nil, i, fmt.Errorf("%s: a section for a row, but the file has no worlds block", l)
			case !slices.Contains(rowNames, name):
				return nil, nil, i, fmt.Errorf("%s: no such row; the rows are: %s", l, strings.Join(rowNames, "; "))
			case rows[name] != nil:
				return nil, nil, i, fmt.Errorf("%s: a second section for the same row", l)
			}
			if rows == nil {
				rows = map[string][]string{}
			}
			rows[name] = []string{}
			cur = name
			continue
		}
		if cur == "" {
			shared = append(shared, l)
		} else {
			rows[cur] = append(rows[cur], l)
		}
	}
	return shared, rows, -1, nil
}

// rowNames are the scenario's row names in order.
func (s *Scenario) rowNames() []string {
	var out []string
	for _, r := range s.Worlds {
		out = append(out, r.Name)
	}
	return out
}

// row is the named row (the first when name is ""), nil without a worlds block.
func (s *Scenario) row(name string) (*WorldRow, error) {
	if len(s.Worlds) == 0 {
		if name != "" {
			return nil, fmt.Errorf("%s has no worlds block, so no world %q", s.Path, name)
		}
		return nil, nil
	}
	if name == "" {
		return &s.Worlds[0], nil
	}
	for i := range s.Worlds {
		if s.Worlds[i].Name == name {
			return &s.Worlds[i], nil
		}
	}
	return nil, fmt.Errorf("%s has no world %q; its worlds are: %s", s.Path, name, strings.Join(s.rowNames(), "; "))
}

// Name is the result's name in reports: the file, and its world when the file has several.
func (r *Result) Name() string {
	if r.World == "" {
		return r.Scenario.Path
	}
	return r.Scenario.Path + "[" + r.World + "]"
}

// RunWorlds runs every world of a scenario, one result each (one result for a file without a
// worlds block). With Rewrite every result's Rewritten is the whole file, every world's outputs
// merged (see above).
func RunWorlds(sc *Scenario, opt Options) []*Result {
	if len(sc.Worlds) == 0 || opt.World != "" {
		return []*Result{runOne(sc, opt)}
	}
	var out []*Result
	gots := map[string]map[int]string{}
	for _, row := range sc.Worlds {
		o := opt
		o.World = row.Name
		res := runOne(sc, o)
		out = append(out, res)
		gots[row.Name] = res.Outputs
	}
	if opt.Rewrite {
		text := sc.rewriteWorlds(gots)
		for _, res := range out {
			res.Rewritten = text
		}
	}
	return out
}

// rewriteWorlds is Rewrite for a file with worlds: per step, the output most rows give is the
// shared block and each row that differs gets its section; a row that did not reach the step
// keeps what its block said.
func (s *Scenario) rewriteWorlds(gots map[string]map[int]string) string {
	merged := map[int]string{}
	for _, st := range s.Steps {
		outs := map[string]string{}
		reached := false
		for _, row := range s.Worlds {
			if o, ok := gots[row.Name][st.Line]; ok {
				outs[row.Name], reached = o, true
			} else {
				outs[row.Name] = st.expectedFor(row.Name)
			}
		}
		if !reached {
			continue
		}
		shared, best := "", 0
		for _, row := range s.Worlds {
			n := 0
			for _, r2 := range s.Worlds {
				if outs[r2.Name] == outs[row.Name] {
					n++
				}
			}
			if n > best {
				shared, best = outs[row.Name], n
			}
		}
		var b strings.Builder
		b.WriteString(shared)
		for _, row := range s.Worlds {
			if outs[row.Name] != shared {
				b.WriteString("\n----[" + row.Name + "]")
				if o := outs[row.Name]; o != "" {
					b.WriteString("\n" + o)
				}
			}
		}
		merged[st.Line] = b.String()
	}
	return s.Rewrite(merged)
}

// expectedFor is the step's expected block for a row: its section, else the shared block.
func (st *Step) expectedFor(row string) string {
	if e, ok := st.RowExpected[row]; ok {
		return e
	}
	return st.Expected
}
