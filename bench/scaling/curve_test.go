//go:build unix

package main

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gmsasim/gmsasim/bench/chart"
)

func TestFitExponent(t *testing.T) {
	for _, c := range []struct {
		name string
		ps   []chart.Point
		want float64
	}{
		{"flat", pts(1e3, 5, 1e4, 5, 1e5, 5), 0},
		{"linear", pts(10, 2, 100, 20, 1000, 200), 1},
		{"quadratic", pts(2, 4, 5, 25, 10, 100, 20, 400), 2},
		{"falls", pts(1, 100, 10, 10), -1},
	} {
		got, n := fitExponent(c.ps)
		if n != len(c.ps) || math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s: exponent %v over %d points, want %v over %d", c.name, got, n, c.want, len(c.ps))
		}
	}
	if _, n := fitExponent(pts(0, 1, 1, 0, 2, 3)); n != 1 {
		t.Errorf("points at or below zero are left out: %d kept, want 1", n)
	}
}

func curveOf(rate bool, work Work, ys ...float64) *Curve {
	l := Line{Series: chart.Series{Name: "s"}, Work: work}
	for i, y := range ys {
		l.Points = append(l.Points, chart.Point{X: math.Pow(10, float64(i+3)), Y: y})
	}
	return &Curve{Name: "c", Title: "T", X: chart.Axis{Label: "users", Log: true}, Y: chart.Axis{Label: "ops/s"}, Lines: []Line{l}, Rate: rate, Digits: 1}
}

// TestGrowthAgainstWork: a cost is judged per unit of its work. A rate is a cost's inverse.
func TestGrowthAgainstWork(t *testing.T) {
	for _, c := range []struct {
		name   string
		curve  *Curve
		exp    float64
		ok     bool
		excess float64
	}{
		{"flat cost, flat work", curveOf(false, Flat, 10, 11, 10), 0, true, 0},
		{"linear cost, flat work", curveOf(false, Flat, 1, 10, 100), 1, false, 1},
		{"linear cost, linear work", curveOf(false, Linear, 1, 10, 100), 1, true, 0},
		{"quadratic cost, linear work", curveOf(false, Linear, 1, 100, 10000), 2, false, 1},
		{"falling rate, linear work", curveOf(true, Linear, 1000, 100, 10), 1, true, 0},
		{"falling rate, flat work", curveOf(true, Flat, 1000, 100, 10), 1, false, 1},
		{"rising rate, flat work", curveOf(true, Flat, 10, 20, 40), -math.Log10(4) / 2, true, -math.Log10(4) / 2},
	} {
		g := c.curve.Growth()
		if len(g) != 1 {
			t.Fatalf("%s: %d growths, want 1", c.name, len(g))
		}
		if math.Abs(g[0].Exponent-c.exp) > 0.05 || math.Abs(g[0].Excess-c.excess) > 0.05 || g[0].OK != c.ok {
			t.Errorf("%s: exponent %.3f excess %.3f ok %v, want %.3f %.3f %v", c.name, g[0].Exponent, g[0].Excess, g[0].OK, c.exp, c.excess, c.ok)
		}
	}
	// The mesh's work: n(n-1)/2 deliveries grow faster than n^2 over 2..20, and are the work.
	mesh := &Curve{Lines: []Line{{Series: chart.Series{Name: "mesh", Points: pts(2, 1, 5, 10, 10, 45, 20, 190)}, Work: meshLinks}}}
	if g := mesh.Growth()[0]; !g.OK || math.Abs(g.Excess) > 1e-9 || g.Exponent < 2 {
		t.Errorf("mesh deliveries: %+v, want an exponent above 2 and no excess over n(n-1)/2", g)
	}
}

func TestTableCSVAndChart(t *testing.T) {
	c := &Curve{Name: "ldap-cpu", Title: "CPU", X: chart.Axis{Label: "users", Log: true}, Y: chart.Axis{Label: "µs"}, Digits: 1, Note: "2 cores",
		Lines: []Line{
			{Series: chart.Series{Name: "gmsasim eq", Points: pts(1000, 100, 10000, 101.04, 100000, 99)}},
			{Series: chart.Series{Name: "slapd eq", Points: pts(1000, 50, 100000, 52)}},
		}}
	var b bytes.Buffer
	if err := c.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	want := "ldap-cpu — CPU (µs)\n" +
		" users  gmsasim eq  slapd eq\n" +
		"  1000       100.0      50.0\n" +
		" 10000       101.0         -\n" +
		"100000        99.0      52.0\n"
	if !strings.HasPrefix(b.String(), want) {
		t.Errorf("table:\n%s\nwant it to start with:\n%s", b.String(), want)
	}
	if !strings.Contains(b.String(), "growth: gmsasim eq ") || !strings.Contains(b.String(), ": ok\n") || !strings.Contains(b.String(), "(2 cores)") {
		t.Errorf("table without its growth lines or note:\n%s", b.String())
	}
	b.Reset()
	if err := c.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || strings.Join(rows[0], ",") != "users,gmsasim eq,slapd eq" || strings.Join(rows[2], ",") != "10000,101.0,-" {
		t.Errorf("CSV rows %q", rows)
	}
	ch := c.Chart()
	if n := len(ch.Series); n != 3 || ch.Series[2].Name != "flat work" || !ch.Series[2].Dashed {
		t.Fatalf("chart series %+v, want the two lines and one flat-work reference", ch.Series)
	}
	for _, p := range ch.Series[2].Points {
		if p.Y != 100 {
			t.Errorf("flat reference at %v, want 100 (the first point of gmsasim eq)", p)
		}
	}
	dir := t.TempDir()
	var tables bytes.Buffer
	if err := c.Write(dir, &tables); err != nil {
		t.Fatal(err)
	}
	svg, err := os.ReadFile(filepath.Join(dir, "ldap-cpu.svg"))
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(svg, new(struct{})); err != nil {
		t.Errorf("ldap-cpu.svg: %v", err)
	}
	txt, _ := os.ReadFile(filepath.Join(dir, "ldap-cpu.txt"))
	if string(txt)+"\n" != tables.String() {
		t.Errorf("the table file and the printed table differ")
	}
}

func TestLinearReferenceOfARate(t *testing.T) {
	c := curveOf(true, Linear, 1000, 90, 11)
	ref := c.Chart().Series[1]
	want := []float64{1000, 100, 10}
	for i, p := range ref.Points {
		if math.Abs(p.Y-want[i]) > 1e-9 {
			t.Errorf("reference point %d = %v, want %v (a rate falls as its work grows)", i, p.Y, want[i])
		}
	}
}

// pts makes points from x, y pairs.
func pts(xy ...float64) []chart.Point {
	var out []chart.Point
	for i := 0; i+1 < len(xy); i += 2 {
		out = append(out, chart.Point{X: xy[i], Y: xy[i+1]})
	}
	return out
}

// TestLibraryCurveMedians: the library runs several times per core count; the curve keeps each
// count's median run.
func TestLibraryCurveMedians(t *testing.T) {
	var rs []LibraryResult
	for i, w := range []float64{30, 10, 12, 25, 11, 20} {
		rs = append(rs, LibraryResult{Cores: 1 + i%2, Wall: time.Duration(w * float64(time.Second)), CPU: 9 * time.Second})
	}
	c := LibraryCurves(rs)[0]
	wall := c.Lines[0].Points
	if len(wall) != 2 || wall[0] != (chart.Point{X: 1, Y: 12}) || wall[1] != (chart.Point{X: 2, Y: 20}) {
		t.Errorf("wall points %v, want the medians (1, 12) and (2, 20)", wall)
	}
	if !strings.Contains(c.Note, "median of 3 runs") {
		t.Errorf("note %q does not say how many runs", c.Note)
	}
}
