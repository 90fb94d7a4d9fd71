//go:build unix

package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gmsasim/gmsasim/bench/chart"
)

// Line is one series of a curve, with the work it does at each size.
type Line struct {
	chart.Series
	Work Work
}

// Work is how much work a line does at a size, in any unit: only its growth matters. The zero Work
// is the same work at every size (an eq search in a bigger directory).
type Work struct {
	Name string                  // "flat", "linear", "n(n-1)/2 links"
	Of   func(x float64) float64 // nil: 1 at every size
}

func (w Work) at(x float64) float64 {
	if w.Of == nil {
		return 1
	}
	return w.Of(x)
}

func (w Work) name() string {
	if w.Name == "" {
		return "flat"
	}
	return w.Name
}

// Flat and Linear are the usual two works.
var (
	Flat   = Work{Name: "flat"}
	Linear = Work{Name: "linear", Of: func(x float64) float64 { return x }}
)

// Curve is one measured quantity over a size sweep: printed as a table, written as CSV and drawn
// as an SVG chart.
type Curve struct {
	Name   string // file stem in the output directory: NAME.txt, NAME.csv, NAME.svg
	Title  string
	X, Y   chart.Axis
	Lines  []Line
	Rate   bool   // y is a rate (ops/s, simulated s per wall s): the cost per unit is 1/y
	Digits int    // decimals of y in the table and the CSV
	Note   string // conditions of the run, under the chart
}

// Growth is how one line's cost grows with the size: Exponent is the least-squares slope of
// log(cost) over log(size), so 0 is flat, 1 linear, 2 quadratic (a logarithm over 1k…100k fits
// about 0.1). Excess is the same slope of cost per unit of work: about 0 when the cost follows the
// work, above 0 when it grows faster.
type Growth struct {
	Series   string
	Exponent float64
	Excess   float64
	Work     string
	OK       bool // Excess is at most growthSlack
	Points   int
}

// growthSlack is how far above the work's exponent a measured cost may fit before the curve counts
// as growing faster than its work: noise on a shared machine moves single points by tens of
// percent, which over two decades of size is about 0.1 of exponent.
const growthSlack = 0.25

// Growth fits each line with at least two points.
func (c *Curve) Growth() []Growth {
	var out []Growth
	for _, l := range c.Lines {
		cost := make([]chart.Point, len(l.Points))
		perWork := make([]chart.Point, len(l.Points))
		for i, p := range l.Points {
			y := p.Y
			if c.Rate && y > 0 {
				y = 1 / y
			}
			cost[i] = chart.Point{X: p.X, Y: y}
			perWork[i] = chart.Point{X: p.X, Y: y / l.Work.at(p.X)}
		}
		e, n := fitExponent(cost)
		if n < 2 {
			continue
		}
		x, _ := fitExponent(perWork)
		out = append(out, Growth{Series: l.Name, Exponent: e, Excess: x, Work: l.Work.name(), OK: x <= growthSlack, Points: n})
	}
	return out
}

// fitExponent is the least-squares slope of log y over log x, over the points with x, y > 0.
func fitExponent(ps []chart.Point) (float64, int) {
	var sx, sy, sxx, sxy float64
	n := 0
	for _, p := range ps {
		if p.X <= 0 || p.Y <= 0 {
			continue
		}
		x, y := math.Log(p.X), math.Log(p.Y)
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
		n++
	}
	if n < 2 {
		return 0, n
	}
	d := float64(n)*sxx - sx*sx
	if d == 0 {
		return 0, n
	}
	return (float64(n)*sxy - sx*sy) / d, n
}

// Describe names an exponent's growth in words.
func Describe(e float64) string {
	switch {
	case e < -0.15:
		return "falls"
	case e < 0.15:
		return "flat"
	case e < 0.75:
		return "sublinear"
	case e < 1.25:
		return "linear"
	case e < 1.75:
		return "between linear and quadratic"
	default:
		return "quadratic or worse"
	}
}

func (g Growth) String() string {
	v := "ok"
	if !g.OK {
		v = "GROWS FASTER THAN ITS WORK"
	}
	return fmt.Sprintf("%-24s cost ∝ size^%.2f (%s); work: %s; cost per work ∝ size^%.2f: %s", g.Series, g.Exponent, Describe(g.Exponent), g.Work, g.Excess, v)
}

// xs is every x of the curve, sorted, once.
func (c *Curve) xs() []float64 {
	var xs []float64
	for _, l := range c.Lines {
		for _, p := range l.Points {
			if !slices.Contains(xs, p.X) {
				xs = append(xs, p.X)
			}
		}
	}
	slices.Sort(xs)
	return xs
}

// cells is the table's body: one row per x, one column per line ("-" where a line has no point).
func (c *Curve) cells() [][]string {
	var rows [][]string
	for _, x := range c.xs() {
		row := []string{strconv.FormatFloat(x, 'f', -1, 64)}
		for _, l := range c.Lines {
			v := "-"
			for _, p := range l.Points {
				if p.X == x {
					v = strconv.FormatFloat(p.Y, 'f', c.Digits, 64)
				}
			}
			row = append(row, v)
		}
		rows = append(rows, row)
	}
	return rows
}

func (c *Curve) header() []string {
	h := []string{c.X.Label}
	for _, l := range c.Lines {
		h = append(h, l.Name)
	}
	return h
}

// WriteTable prints the curve as an aligned text table: its title, the y quantity, a row per size,
// then each line's growth.
func (c *Curve) WriteTable(w io.Writer) error {
	rows := append([][]string{c.header()}, c.cells()...)
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, s := range r {
			width[i] = max(width[i], len([]rune(s)))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s — %s (%s)\n", c.Name, c.Title, c.Y.Label)
	for _, r := range rows {
		for i, s := range r {
			if i > 0 {
				b.WriteString("  ")
			}
			b.WriteString(strings.Repeat(" ", width[i]-len([]rune(s))) + s)
		}
		b.WriteString("\n")
	}
	for _, g := range c.Growth() {
		fmt.Fprintf(&b, "  growth: %s\n", g)
	}
	if c.Note != "" {
		fmt.Fprintf(&b, "  (%s)\n", strings.ReplaceAll(c.Note, "\n", "\n   "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteCSV writes the table's header and rows.
func (c *Curve) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write(c.header())
	cw.WriteAll(c.cells())
	return cw.Error()
}

// Chart is the curve as a chart: its lines, and a dashed grey reference per distinct work through
// the first point of the first line doing that work, which a curve whose cost grows no faster than
// its work runs along or below (above, for a rate).
func (c *Curve) Chart() *chart.Chart {
	ch := &chart.Chart{Title: c.Title, Note: c.Note, X: c.X, Y: c.Y}
	for _, l := range c.Lines {
		ch.Series = append(ch.Series, l.Series)
	}
	var seen []string
	for _, l := range c.Lines {
		if len(l.Points) < 2 || slices.Contains(seen, l.Work.name()) {
			continue
		}
		seen = append(seen, l.Work.name())
		p0 := l.Points[0]
		var ref []chart.Point
		for _, x := range c.xs() {
			if x < p0.X {
				continue
			}
			r := l.Work.at(x) / l.Work.at(p0.X)
			if c.Rate {
				r = 1 / r
			}
			ref = append(ref, chart.Point{X: x, Y: p0.Y * r})
		}
		dash := []string{"6 4", "2 3", "10 3 2 3"}[(len(seen)-1)%3]
		ch.Series = append(ch.Series, chart.Series{Name: l.Work.name() + " work", Points: ref, Dashed: true, Dash: dash, NoMarkers: true, Color: "#999999"})
	}
	return ch
}

// Write writes NAME.txt, NAME.csv and NAME.svg into dir, and the table to tables as well.
func (c *Curve) Write(dir string, tables io.Writer) error {
	var txt strings.Builder
	if err := c.WriteTable(&txt); err != nil {
		return err
	}
	fmt.Fprint(tables, txt.String()+"\n")
	var csvb strings.Builder
	if err := c.WriteCSV(&csvb); err != nil {
		return err
	}
	svg, err := c.Chart().SVG()
	if err != nil {
		return fmt.Errorf("curve %s: %w", c.Name, err)
	}
	for ext, b := range map[string][]byte{".txt": []byte(txt.String()), ".csv": []byte(csvb.String()), ".svg": svg} {
		if err := os.WriteFile(filepath.Join(dir, c.Name+ext), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
