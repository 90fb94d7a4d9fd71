package chart

import (
	"math"
	"strconv"
	"strings"
)

// tick is one labelled position on an axis.
type tick struct {
	v     float64
	label string
}

// domain picks an axis' range and ticks for the values on it: whole decades on a logarithmic axis,
// multiples of 1, 2 or 5 times a power of ten on a linear one.
func domain(a Axis, vs []float64) (scale, []tick) {
	lo, hi := vs[0], vs[0]
	for _, v := range vs {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if a.Log {
		return logDomain(lo, hi)
	}
	if a.Zero {
		lo, hi = math.Min(lo, 0), math.Max(hi, 0)
	}
	return linearDomain(lo, hi)
}

// logDomain rounds [lo, hi] (lo > 0) out to 1, 2 or 5 times a power of ten. Over more than a
// decade the ticks are the powers of ten in the range (and its ends); within one decade they are
// every 1, 2 and 5 times a power of ten, so the axis has more than two labels.
func logDomain(lo, hi float64) (scale, []tick) {
	a, b := niceBelow(lo), niceAbove(hi)
	if b <= a {
		b = niceAbove(a * 1.5)
	}
	s := scale{log: true, lo: a, hi: b}
	wide := math.Log10(b/a) > 1+1e-9
	var ts []tick
	for e := math.Floor(math.Log10(a) + 1e-9); e <= math.Ceil(math.Log10(b)-1e-9); e++ {
		d := math.Pow(10, e)
		for _, m := range []float64{1, 2, 5} {
			v := m * d
			if v < a*(1-1e-9) || v > b*(1+1e-9) || (wide && m != 1 && !same(v, a) && !same(v, b)) {
				continue
			}
			ts = append(ts, tick{v, label(v, d)})
		}
	}
	return s, ts
}

func same(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) }

// niceBelow is the largest 1, 2 or 5 times a power of ten at or below v (> 0); niceAbove the
// smallest at or above.
func niceBelow(v float64) float64 {
	d := math.Pow(10, math.Floor(math.Log10(v)+1e-9))
	for _, m := range []float64{5, 2, 1} {
		if m*d <= v*(1+1e-9) {
			return m * d
		}
	}
	return d / 2
}

func niceAbove(v float64) float64 {
	d := math.Pow(10, math.Floor(math.Log10(v)-1e-9))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*d >= v*(1-1e-9) {
			return m * d
		}
	}
	return 10 * d
}

// linearDomain rounds [lo, hi] out to a step of 1, 2 or 5 times a power of ten giving about five
// intervals; an empty range (one value) is widened around the value.
func linearDomain(lo, hi float64) (scale, []tick) {
	if hi == lo {
		d := math.Abs(lo) / 2
		if d == 0 {
			d = 1
		}
		lo, hi = lo-d, hi+d
	}
	step := niceStep((hi - lo) / 5)
	k0, k1 := math.Floor(lo/step+1e-9), math.Ceil(hi/step-1e-9)
	s := scale{lo: k0 * step, hi: k1 * step}
	var ts []tick
	for k := k0; k <= k1; k++ {
		ts = append(ts, tick{k * step, label(k*step, step)})
	}
	return s, ts
}

// niceStep is the smallest of 1, 2, 5 or 10 times a power of ten that is at least raw (> 0).
func niceStep(raw float64) float64 {
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw*(1-1e-9) {
			return m * mag
		}
	}
	return 10 * mag
}

// label prints a tick value with as many decimals as the step between ticks needs, thousands as
// "k" and millions as "M" (1000 → "1k", 2500000 → "2.5M"), so that 100000 users read as "100k".
func label(v, step float64) string {
	if v == 0 {
		return "0"
	}
	suffix := ""
	for _, u := range []struct {
		div float64
		s   string
	}{{1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if math.Abs(v) >= u.div && step >= u.div/10 {
			v, step, suffix = v/u.div, step/u.div, u.s
			break
		}
	}
	dec := 0
	if step < 1 {
		dec = int(math.Ceil(-math.Log10(step) - 1e-9))
	}
	for dec < 6 && math.Abs(math.Round(v*math.Pow(10, float64(dec)))/math.Pow(10, float64(dec))-v) > 1e-9*math.Abs(v) {
		dec++ // a value off the step's grid (a log axis' 2× and 5×) keeps its digits
	}
	s := strconv.FormatFloat(v, 'f', dec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s + suffix
}
