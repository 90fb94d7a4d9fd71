package chart

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Point is one measurement: X the size swept (users, DCs, gMSAs, cores), Y what it cost.
type Point struct{ X, Y float64 }

// Series is one curve.
type Series struct {
	Name      string
	Points    []Point // drawn in this order
	Dashed    bool    // a dashed line (a reference such as "linear growth", or a second kind of run)
	Dash      string  // the dashes of a Dashed line (SVG stroke-dasharray); "": "6 4"
	NoMarkers bool    // no dot on each point (a reference line)
	Color     string  // an SVG colour; "": the next colour of the palette
}

// Axis is one axis' scale and label.
type Axis struct {
	Label string
	Log   bool // logarithmic: decades 1, 10, 100, ... (every value must be > 0)
	// Zero includes 0 in a linear axis' range, so a bar's height reads as a share of the whole.
	Zero bool
}

// Chart is a line chart. The zero Width and Height mean DefaultWidth and DefaultHeight.
type Chart struct {
	Title  string
	Note   string // under the plot: the conditions of the run; at most two lines ("\n")
	X, Y   Axis
	Series []Series
	Width  int
	Height int
}

// The default size of a chart and its fixed margins, in SVG user units (pixels).
const (
	DefaultWidth  = 760
	DefaultHeight = 420
	marginLeft    = 78
	marginRight   = 200 // the legend's column
	marginTop     = 44
	marginBottom  = 70 // tick labels, the axis label and the note
)

// palette is Okabe and Ito's colour-blind-safe set, in the order series take it.
var palette = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"}

// ErrNoData is returned for a chart without a single point.
var ErrNoData = errors.New("chart: no point to draw")

// scale maps a value on one axis to a pixel coordinate.
type scale struct {
	log    bool
	lo, hi float64 // the domain; for a log scale both > 0
	p0, p1 float64 // pixels of lo and hi
}

func (s scale) px(v float64) float64 {
	a, b := s.lo, s.hi
	if s.log {
		a, b, v = math.Log10(a), math.Log10(b), math.Log10(v)
	}
	return s.p0 + (v-a)/(b-a)*(s.p1-s.p0)
}

// SVG renders the chart. It fails on a chart without points, a value that is NaN or infinite, and
// a value at or below zero on a logarithmic axis.
func (c *Chart) SVG() ([]byte, error) {
	w, h := c.Width, c.Height
	if w == 0 {
		w = DefaultWidth
	}
	if h == 0 {
		h = DefaultHeight
	}
	if w < marginLeft+marginRight+100 || h < marginTop+marginBottom+100 {
		return nil, fmt.Errorf("chart %q: size %dx%d leaves no room to plot (at least %dx%d)", c.Title, w, h,
			marginLeft+marginRight+100, marginTop+marginBottom+100)
	}
	xs, ys, err := c.values()
	if err != nil {
		return nil, err
	}
	x0, x1 := float64(marginLeft), float64(w-marginRight)
	noteLines := strings.SplitN(c.Note, "\n", 2)
	// y grows upwards; a second line of note lifts the plot by its height
	y0, y1 := float64(h-marginBottom-13*(len(noteLines)-1)), float64(marginTop)
	xsc, xticks := domain(c.X, xs)
	ysc, yticks := domain(c.Y, ys)
	xsc.p0, xsc.p1 = x0, x1
	ysc.p0, ysc.p1 = y0, y1

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, "<title>%s</title>\n", esc(c.Title))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", w, h)
	fmt.Fprintf(&b, `<text class="title" x="%s" y="26" font-size="15" font-weight="bold">%s</text>`+"\n", f2(x0), esc(c.Title))

	b.WriteString(`<g class="x-axis">` + "\n")
	for _, t := range xticks {
		p := xsc.px(t.v)
		fmt.Fprintf(&b, `<line class="grid" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#e4e4e4"/>`+"\n", f2(p), f2(y1), f2(p), f2(y0))
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#333333"/>`+"\n", f2(p), f2(y0), f2(p), f2(y0+5))
		fmt.Fprintf(&b, `<text class="tick" x="%s" y="%s" text-anchor="middle" data-v="%s">%s</text>`+"\n", f2(p), f2(y0+19), fv(t.v), esc(t.label))
	}
	fmt.Fprintf(&b, `<text class="label" x="%s" y="%s" text-anchor="middle">%s</text>`+"\n", f2((x0+x1)/2), f2(y0+38), esc(c.X.Label))
	b.WriteString("</g>\n")

	b.WriteString(`<g class="y-axis">` + "\n")
	for _, t := range yticks {
		p := ysc.px(t.v)
		fmt.Fprintf(&b, `<line class="grid" x1="%s" y1="%s" x2="%s" y2="%s" stroke="#e4e4e4"/>`+"\n", f2(x0), f2(p), f2(x1), f2(p))
		fmt.Fprintf(&b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#333333"/>`+"\n", f2(x0-5), f2(p), f2(x0), f2(p))
		fmt.Fprintf(&b, `<text class="tick" x="%s" y="%s" text-anchor="end" data-v="%s">%s</text>`+"\n", f2(x0-8), f2(p+4), fv(t.v), esc(t.label))
	}
	ly := (y0 + y1) / 2
	fmt.Fprintf(&b, `<text class="label" x="18" y="%s" text-anchor="middle" transform="rotate(-90 18 %s)">%s</text>`+"\n", f2(ly), f2(ly), esc(c.Y.Label))
	b.WriteString("</g>\n")

	fmt.Fprintf(&b, `<rect class="plot" x="%s" y="%s" width="%s" height="%s" fill="none" stroke="#333333"/>`+"\n", f2(x0), f2(y1), f2(x1-x0), f2(y0-y1))

	legendY := y1 + 6
	ci := 0
	for _, s := range c.Series {
		if len(s.Points) == 0 {
			continue
		}
		col := s.Color
		if col == "" {
			col = palette[ci%len(palette)]
			ci++
		}
		dash := ""
		if s.Dashed {
			d := s.Dash
			if d == "" {
				d = "6 4"
			}
			dash = ` stroke-dasharray="` + esc(d) + `"`
		}
		fmt.Fprintf(&b, `<g class="series" data-name="%s">`+"\n", esc(s.Name))
		pts := make([]string, len(s.Points))
		for i, p := range s.Points {
			pts[i] = f2(xsc.px(p.X)) + "," + f2(ysc.px(p.Y))
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", strings.Join(pts, " "), col, dash)
		if !s.NoMarkers {
			for _, p := range s.Points {
				fmt.Fprintf(&b, `<circle class="point" cx="%s" cy="%s" r="3.5" fill="%s" data-x="%s" data-y="%s"/>`+"\n",
					f2(xsc.px(p.X)), f2(ysc.px(p.Y)), col, fv(p.X), fv(p.Y))
			}
		}
		b.WriteString("</g>\n")
		// The legend entry: a short line in the series' style, and its name.
		lx := x1 + 16
		fmt.Fprintf(&b, `<g class="legend"><line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2"%s/>`,
			f2(lx), f2(legendY), f2(lx+22), f2(legendY), col, dash)
		fmt.Fprintf(&b, `<text x="%s" y="%s">%s</text></g>`+"\n", f2(lx+28), f2(legendY+4), esc(s.Name))
		legendY += 20
	}
	if c.Note != "" {
		for i, l := range noteLines {
			y := float64(h) - 8 - 13*float64(len(noteLines)-1-i)
			fmt.Fprintf(&b, `<text class="note" x="%s" y="%s" font-size="11" fill="#555555">%s</text>`+"\n", f2(x0), f2(y), esc(l))
		}
	}
	b.WriteString("</svg>\n")
	return b.Bytes(), nil
}

// values checks every point and returns all x and all y values.
func (c *Chart) values() (xs, ys []float64, err error) {
	for _, s := range c.Series {
		for _, p := range s.Points {
			for _, v := range []struct {
				axis string
				v    float64
				log  bool
			}{{"x", p.X, c.X.Log}, {"y", p.Y, c.Y.Log}} {
				if math.IsNaN(v.v) || math.IsInf(v.v, 0) {
					return nil, nil, fmt.Errorf("chart %q: series %q: %s=%v is not a number", c.Title, s.Name, v.axis, v.v)
				}
				if v.log && v.v <= 0 {
					return nil, nil, fmt.Errorf("chart %q: series %q: %s=%v on a logarithmic axis (want > 0)", c.Title, s.Name, v.axis, v.v)
				}
			}
			xs, ys = append(xs, p.X), append(ys, p.Y)
		}
	}
	if len(xs) == 0 {
		return nil, nil, fmt.Errorf("%w: %q", ErrNoData, c.Title)
	}
	return xs, ys, nil
}

// esc escapes text for an XML text node or a double-quoted attribute.
func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// f2 prints a pixel coordinate: two decimals, always the same text for the same value.
func f2(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	if s == "-0.00" {
		return "0.00"
	}
	return s
}

// fv prints a data value exactly (shortest form that reads back the same float64).
func fv(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
