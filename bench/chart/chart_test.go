package chart

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
)

// node is a parsed SVG element: the test reads the chart back through encoding/xml, as a browser
// would, rather than matching strings.
type node struct {
	name     string
	attr     map[string]string
	text     string
	children []*node
}

func parse(t *testing.T, svg []byte) *node {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(svg))
	var stack []*node
	var root *node
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &node{name: tok.Name.Local, attr: map[string]string{}}
			for _, a := range tok.Attr {
				n.attr[a.Name.Local] = a.Value
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(tok)
			}
		}
	}
	if root == nil {
		t.Fatal("no root element")
	}
	return root
}

// all returns every element below n (n included) for which ok holds, in document order.
func (n *node) all(ok func(*node) bool) []*node {
	var out []*node
	if ok(n) {
		out = append(out, n)
	}
	for _, c := range n.children {
		out = append(out, c.all(ok)...)
	}
	return out
}

func (n *node) num(t *testing.T, a string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(n.attr[a], 64)
	if err != nil {
		t.Fatalf("<%s %s=%q>: %v", n.name, a, n.attr[a], err)
	}
	return v
}

func class(c string) func(*node) bool {
	return func(n *node) bool { return n.attr["class"] == c }
}

// plotArea reads the plot rectangle: left, right, bottom and top pixel.
func plotArea(t *testing.T, root *node) (x0, x1, y0, y1 float64) {
	t.Helper()
	r := root.all(class("plot"))
	if len(r) != 1 || r[0].name != "rect" {
		t.Fatalf("want one rect.plot, got %d", len(r))
	}
	x, y, w, h := r[0].num(t, "x"), r[0].num(t, "y"), r[0].num(t, "width"), r[0].num(t, "height")
	return x, x + w, y + h, y
}

func near(a, b float64) bool { return math.Abs(a-b) <= 0.011 } // coordinates carry two decimals

func usersChart() *Chart {
	return &Chart{
		Title: "eq search <1k…100k users> & binds",
		Note:  "2 cores",
		X:     Axis{Label: "users in the directory", Log: true},
		Y:     Axis{Label: "ops/s", Zero: true},
		Series: []Series{
			{Name: "gmsasim eq", Points: []Point{{1000, 0}, {10000, 50}, {100000, 100}}},
			{Name: "slapd eq", Points: []Point{{1000, 100}, {10000, 25}, {100000, 75}}, Dashed: true},
			{Name: "absent", Points: nil},
		},
	}
}

func TestSVGIsXMLWithTitleAxesAndLegend(t *testing.T) {
	svg, err := usersChart().SVG()
	if err != nil {
		t.Fatal(err)
	}
	root := parse(t, svg)
	if root.name != "svg" || root.attr["width"] != "760" || root.attr["height"] != "420" || root.attr["viewBox"] != "0 0 760 420" {
		t.Errorf("root <%s width=%q height=%q viewBox=%q>, want <svg> 760x420", root.name, root.attr["width"], root.attr["height"], root.attr["viewBox"])
	}
	if ti := root.all(func(n *node) bool { return n.name == "title" }); len(ti) != 1 || ti[0].text != "eq search <1k…100k users> & binds" {
		t.Errorf("<title> = %v, want the chart's title, unescaped by the parser", ti)
	}
	var xticks []string
	for _, g := range root.all(class("x-axis")) {
		for _, n := range g.all(class("tick")) {
			xticks = append(xticks, n.text)
		}
	}
	if got, want := strings.Join(xticks, " "), "1k 10k 100k"; got != want {
		t.Errorf("x tick labels %q, want %q (decades of a log axis)", got, want)
	}
	var yticks []string
	for _, g := range root.all(class("y-axis")) {
		for _, n := range g.all(class("tick")) {
			yticks = append(yticks, n.text)
		}
	}
	if got, want := strings.Join(yticks, " "), "0 20 40 60 80 100"; got != want {
		t.Errorf("y tick labels %q, want %q", got, want)
	}
	var labels []string
	for _, n := range root.all(class("label")) {
		labels = append(labels, n.text)
	}
	if got, want := strings.Join(labels, "|"), "users in the directory|ops/s"; got != want {
		t.Errorf("axis labels %q, want %q", got, want)
	}
	var legend []string
	for _, g := range root.all(class("legend")) {
		for _, n := range g.all(func(n *node) bool { return n.name == "text" }) {
			legend = append(legend, n.text)
		}
	}
	if got, want := strings.Join(legend, "|"), "gmsasim eq|slapd eq"; got != want {
		t.Errorf("legend %q, want %q (a series without points is left out)", got, want)
	}
	series := root.all(class("series"))
	if len(series) != 2 || series[0].attr["data-name"] != "gmsasim eq" || series[1].attr["data-name"] != "slapd eq" {
		t.Fatalf("series groups %v, want gmsasim eq and slapd eq", series)
	}
	lines := series[1].all(func(n *node) bool { return n.name == "polyline" })
	if len(lines) != 1 || lines[0].attr["stroke-dasharray"] == "" {
		t.Errorf("the dashed series' polyline has no stroke-dasharray")
	}
	if series[0].all(func(n *node) bool { return n.name == "polyline" })[0].attr["stroke"] == lines[0].attr["stroke"] {
		t.Errorf("two series drawn in the same colour")
	}
	if n := root.all(class("note")); len(n) != 1 || n[0].text != "2 cores" {
		t.Errorf("note %v, want one with %q", n, "2 cores")
	}
	two := usersChart()
	two.Note = "2 cores\n3 failed"
	svg2, err := two.SVG()
	if err != nil {
		t.Fatal(err)
	}
	if n := parse(t, svg2).all(class("note")); len(n) != 2 || n[0].text != "2 cores" || n[1].text != "3 failed" || n[0].num(t, "y") >= n[1].num(t, "y") {
		t.Errorf("a two-line note: %v, want two lines, the first above", n)
	}
}

// TestPointsPlaced checks each marker's pixel position against its value: a log x axis puts
// 1k, 10k and 100k at the left edge, the middle and the right edge; a linear y axis from 0 puts
// 0, 50 and 100 at the bottom, the middle and the top; the polyline goes through the markers.
func TestPointsPlaced(t *testing.T) {
	svg, err := usersChart().SVG()
	if err != nil {
		t.Fatal(err)
	}
	root := parse(t, svg)
	x0, x1, y0, y1 := plotArea(t, root)
	series := root.all(class("series"))
	pts := series[0].all(class("point"))
	if len(pts) != 3 {
		t.Fatalf("%d markers, want 3", len(pts))
	}
	want := [][2]float64{{x0, y0}, {(x0 + x1) / 2, (y0 + y1) / 2}, {x1, y1}}
	var poly []string
	for i, p := range pts {
		cx, cy := p.num(t, "cx"), p.num(t, "cy")
		if !near(cx, want[i][0]) || !near(cy, want[i][1]) {
			t.Errorf("point %d (x=%s y=%s) at (%.2f, %.2f), want (%.2f, %.2f)", i, p.attr["data-x"], p.attr["data-y"], cx, cy, want[i][0], want[i][1])
		}
		poly = append(poly, p.attr["cx"]+","+p.attr["cy"])
	}
	if got := series[0].all(func(n *node) bool { return n.name == "polyline" })[0].attr["points"]; got != strings.Join(poly, " ") {
		t.Errorf("polyline points %q, want the markers' %q", got, strings.Join(poly, " "))
	}
	if got := pts[1].attr["data-x"] + " " + pts[1].attr["data-y"]; got != "10000 50" {
		t.Errorf("marker data %q, want %q", got, "10000 50")
	}
	// The x ticks sit where their values are.
	for _, n := range root.all(class("x-axis"))[0].all(class("tick")) {
		v := n.num(t, "data-v")
		wantX := x0 + math.Log10(v/1000)/2*(x1-x0)
		if !near(n.num(t, "x"), wantX) {
			t.Errorf("x tick %s at %.2f, want %.2f", n.text, n.num(t, "x"), wantX)
		}
	}
}

// TestLogYAndLinearX: a log y axis (1, 10, 100 evenly spaced) against a linear x axis of DC
// counts (2…20 over a range rounded out to 0…20).
func TestLogYAndLinearX(t *testing.T) {
	c := &Chart{
		Title:  "replication",
		X:      Axis{Label: "DCs"},
		Y:      Axis{Label: "ms", Log: true},
		Series: []Series{{Name: "mesh", Points: []Point{{2, 1}, {10, 10}, {20, 100}}}},
	}
	svg, err := c.SVG()
	if err != nil {
		t.Fatal(err)
	}
	root := parse(t, svg)
	x0, x1, y0, y1 := plotArea(t, root)
	pts := root.all(class("point"))
	if len(pts) != 3 {
		t.Fatalf("%d markers, want 3", len(pts))
	}
	for i, w := range [][2]float64{{x0 + (x1-x0)*2/20, y0}, {(x0 + x1) / 2, (y0 + y1) / 2}, {x1, y1}} {
		if cx, cy := pts[i].num(t, "cx"), pts[i].num(t, "cy"); !near(cx, w[0]) || !near(cy, w[1]) {
			t.Errorf("point %d at (%.2f, %.2f), want (%.2f, %.2f)", i, cx, cy, w[0], w[1])
		}
	}
	var yticks []string
	for _, n := range root.all(class("y-axis"))[0].all(class("tick")) {
		yticks = append(yticks, n.text)
	}
	if got, want := strings.Join(yticks, " "), "1 10 100"; got != want {
		t.Errorf("y ticks %q, want %q", got, want)
	}
}

func TestDeterministic(t *testing.T) {
	a, err := usersChart().SVG()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := usersChart().SVG()
	if !bytes.Equal(a, b) {
		t.Error("two renders of the same chart differ")
	}
	c := usersChart()
	c.Series[0].Points[1].Y = 51
	d, _ := c.SVG()
	if bytes.Equal(a, d) {
		t.Error("changing a value did not change the SVG")
	}
}

func TestErrors(t *testing.T) {
	for name, c := range map[string]*Chart{
		"zero on log x":     {Title: "t", X: Axis{Log: true}, Series: []Series{{Name: "s", Points: []Point{{0, 1}}}}},
		"negative on log y": {Title: "t", Y: Axis{Log: true}, Series: []Series{{Name: "s", Points: []Point{{1, -1}}}}},
		"NaN":               {Title: "t", Series: []Series{{Name: "s", Points: []Point{{1, math.NaN()}}}}},
		"Inf":               {Title: "t", Series: []Series{{Name: "s", Points: []Point{{math.Inf(1), 1}}}}},
		"too small":         {Title: "t", Width: 100, Series: []Series{{Name: "s", Points: []Point{{1, 1}}}}},
	} {
		if _, err := c.SVG(); err == nil {
			t.Errorf("%s: SVG() = nil error", name)
		}
	}
	if _, err := (&Chart{Title: "empty", Series: []Series{{Name: "s"}}}).SVG(); !errors.Is(err, ErrNoData) {
		t.Errorf("a chart without points: %v, want ErrNoData", err)
	}
}

func TestLabel(t *testing.T) {
	for _, c := range []struct {
		v, step float64
		want    string
	}{
		{0, 1, "0"}, {1000, 1000, "1k"}, {100000, 100000, "100k"}, {2500, 500, "2.5k"},
		{2500000, 1000000, "2.5M"}, {0.25, 0.05, "0.25"}, {0.1, 0.1, "0.1"}, {40, 20, "40"},
		{1500, 100, "1.5k"}, {50, 10, "50"}, {5e-3, 1e-3, "0.005"}, {-20, 10, "-20"},
	} {
		if got := label(c.v, c.step); got != c.want {
			t.Errorf("label(%v, %v) = %q, want %q", c.v, c.step, got, c.want)
		}
	}
}

func TestDomain(t *testing.T) {
	for _, c := range []struct {
		name   string
		a      Axis
		vs     []float64
		lo, hi float64
		ticks  string
	}{
		{"linear", Axis{}, []float64{3, 17}, 0, 20, "0 5 10 15 20"},
		{"linear from zero", Axis{Zero: true}, []float64{120, 180}, 0, 200, "0 50 100 150 200"},
		{"linear one value", Axis{}, []float64{4}, 2, 6, "2 3 4 5 6"},
		{"log decades", Axis{Log: true}, []float64{3, 4000}, 2, 5000, "2 10 100 1k 5k"},
		{"log users", Axis{Log: true}, []float64{1000, 100000}, 1000, 100000, "1k 10k 100k"},
		{"log within a decade", Axis{Log: true}, []float64{2, 20}, 2, 20, "2 5 10 20"},
		{"log one value", Axis{Log: true}, []float64{100}, 100, 200, "100 200"},
	} {
		s, ts := domain(c.a, c.vs)
		var got []string
		for _, t := range ts {
			got = append(got, t.label)
		}
		if s.lo != c.lo || s.hi != c.hi || strings.Join(got, " ") != c.ticks {
			t.Errorf("%s: domain %v..%v ticks %q, want %v..%v %q", c.name, s.lo, s.hi, strings.Join(got, " "), c.lo, c.hi, c.ticks)
		}
	}
}
