package audit

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Chart geometry, in SVG user units.
const (
	chartW, chartH                = 640, 240
	padL, padR, padT, padB        = 56, 16, 16, 40
	plotW, plotH                  = chartW - padL - padR, chartH - padT - padB
	maxXTicks                     = 10
	colorEps, colorCap, colorGrid = "#1f6feb", "#d1242f", "#d0d7de"
	colorPending, colorText       = "#bf8700", "#57606a"
)

// chart is the precomputed geometry of one budget's SVG.
type chart struct {
	W, H      int
	Line      string // polyline points of cumulative ε
	CapY      float64
	CapLabel  string
	PlotX0    int
	PlotX1    int
	PlotY0    int
	PlotY1    int
	YTicks    []tick
	XTicks    []tick
	Dots      []dot
	Title     string
	ColorEps  string
	ColorCap  string
	ColorGrid string
	ColorText string
	ColorPend string
}

type tick struct {
	Pos   float64
	Label string
}

type dot struct {
	X, Y    float64
	Pending bool
	Tip     string
}

// buildChart lays out cumulative ε over the budget's intents (x: entry
// index, starting from 0 spent) against its cap.
func buildChart(b Budget) chart {
	c := chart{W: chartW, H: chartH, PlotX0: padL, PlotX1: padL + plotW, PlotY0: padT, PlotY1: padT + plotH,
		ColorEps: colorEps, ColorCap: colorCap, ColorGrid: colorGrid, ColorText: colorText, ColorPend: colorPending}
	ymax := b.Cap
	for _, p := range b.Points {
		if !p.Recomputed.Inf() {
			ymax = math.Max(ymax, float64(p.Recomputed))
		}
	}
	if !(ymax > 0) {
		ymax = 1
	}
	step := niceStep(ymax * 1.1 / 5)
	top := math.Ceil(ymax*1.1/step) * step
	n := len(b.Points)
	x := func(i int) float64 { return padL + float64(i)*plotW/math.Max(float64(n), 1) }
	y := func(v float64) float64 { return padT + plotH - math.Min(v, top)/top*plotH } // ∞ at the top
	pts := []string{pt(x(0), y(0))}
	for i, p := range b.Points {
		X, Y := x(i+1), y(float64(p.Recomputed))
		pts = append(pts, pt(X, Y))
		c.Dots = append(c.Dots, dot{X: X, Y: Y, Pending: !p.Released,
			Tip: fmt.Sprintf("seq %d, %s round %d: ε = %s", p.Seq, p.Task, p.Round, fmtNum(float64(p.Recomputed)))})
	}
	c.Line = strings.Join(pts, " ")
	c.CapY = y(b.Cap)
	c.CapLabel = "cap ε = " + fmtNum(b.Cap)
	for v := 0.0; v <= top+step/2; v += step {
		c.YTicks = append(c.YTicks, tick{Pos: y(v), Label: fmtNum(v)})
	}
	// A round has several spends (training, evaluation, counts): label
	// the first spend of a round, thinned to at most maxXTicks rounds, so
	// no label repeats.
	var starts []int
	for i, p := range b.Points {
		if i == 0 || p.Round != b.Points[i-1].Round || p.Task != b.Points[i-1].Task {
			starts = append(starts, i)
		}
	}
	every := (len(starts) + maxXTicks - 1) / maxXTicks
	seen := map[string]bool{}
	for j, i := range starts {
		label := "r" + strconv.FormatInt(b.Points[i].Round, 10)
		if every > 0 && j%every == 0 && !seen[label] {
			seen[label] = true
			c.XTicks = append(c.XTicks, tick{Pos: x(i + 1), Label: label})
		}
	}
	c.Title = fmt.Sprintf("cumulative ε of tenant %s (%s unit) in %s's ledger over %d spends, cap %s",
		b.Tenant, b.Unit, b.Party, n, fmtNum(b.Cap))
	return c
}

func pt(x, y float64) string { return fmt.Sprintf("%.1f,%.1f", x, y) }

// niceStep rounds raw up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if !(raw > 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// fmtNum formats v with 4 significant digits, "∞" when infinite (an
// exact release).
func fmtNum(v float64) string {
	if math.IsInf(v, 1) {
		return "∞"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}
