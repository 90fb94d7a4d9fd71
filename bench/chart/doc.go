// Package chart draws line charts as SVG for the bench's scaling curves (bench/scaling): series of
// (x, y) points over a linear or logarithmic x and y axis, with ticks, tick labels, axis labels, a
// legend and a title. It needs no plotting tool and no font: the SVG names the generic
// "sans-serif" family and lets the viewer pick one.
//
// The output is deterministic: the same Chart gives the same bytes (coordinates are printed with two
// decimals, colours come from a fixed palette in series order, nothing depends on map order or the
// clock), so a chart committed under docs/bench/ changes only when its numbers do.
//
// Every marker carries its point's values as data-x and data-y attributes, and the plot area is the
// rect of class "plot", so a test (or a reader with a text editor) can check where a point was drawn
// against the value it stands for.
//
// It deliberately does not do bar charts, stacked areas, a second y axis, automatic label
// collision avoidance, or text measurement: labels are short and the margins are fixed.
package chart
