package monitor

import (
	"fmt"
	"math"
	"strings"
)

// Chart geometry in SVG user units.
const (
	chartW, chartH         = 420, 180
	padL, padR, padT, padB = 48, 12, 24, 28
)

type point struct{ X, Y float64 }

// lineChart is a precomputed SVG line chart of one metric over rounds.
type lineChart struct {
	Title          string
	W, H           int
	X0, X1, Y0, Y1 int
	Line           string
	Dots           []point
	YTicks, XTicks []tick
	Last           string
}

type tick struct {
	Pos   float64
	Label string
}

// newLineChart lays out pts (x: round, y: metric value) on a y axis from
// min(0, lowest) to max(1, highest), so rates keep their [0, 1] scale.
func newLineChart(title string, pts []point) lineChart {
	c := lineChart{Title: title, W: chartW, H: chartH, X0: padL, X1: chartW - padR, Y0: padT, Y1: chartH - padB}
	if len(pts) == 0 {
		return c
	}
	xmin, xmax := pts[0].X, pts[len(pts)-1].X
	ymin, ymax := 0.0, 1.0
	for _, p := range pts {
		if !math.IsNaN(p.Y) && !math.IsInf(p.Y, 0) {
			ymin, ymax = math.Min(ymin, p.Y), math.Max(ymax, p.Y)
		}
	}
	if xmax == xmin {
		xmax = xmin + 1
	}
	sx := func(x float64) float64 { return float64(c.X0) + (x-xmin)/(xmax-xmin)*float64(c.X1-c.X0) }
	sy := func(y float64) float64 { return float64(c.Y1) - (y-ymin)/(ymax-ymin)*float64(c.Y1-c.Y0) }
	var b strings.Builder
	for _, p := range pts {
		if math.IsNaN(p.Y) || math.IsInf(p.Y, 0) {
			continue
		}
		q := point{sx(p.X), sy(p.Y)}
		fmt.Fprintf(&b, "%.1f,%.1f ", q.X, q.Y)
		c.Dots = append(c.Dots, q)
	}
	c.Line = strings.TrimSpace(b.String())
	for i := 0; i <= 4; i++ {
		y := ymin + (ymax-ymin)*float64(i)/4
		c.YTicks = append(c.YTicks, tick{sy(y), fmt.Sprintf("%.2g", y)})
	}
	step := math.Max(1, math.Ceil((xmax-xmin)/8))
	for x := xmin; x <= xmax+1e-9; x += step {
		c.XTicks = append(c.XTicks, tick{sx(x), fmt.Sprintf("r%d", int(x))})
	}
	c.Last = fmt.Sprintf("%.4g", pts[len(pts)-1].Y)
	return c
}
