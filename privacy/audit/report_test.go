package audit

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/internal/headless"
	"github.com/fedb2b/fedb2b/privacy/ledger"
)

func TestRenderJSONRoundTrip(t *testing.T) {
	f := buildFederation(t, 2)
	res := Verify(f.files(), f.trusted())
	var buf bytes.Buffer
	if err := RenderJSON(&buf, res); err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !back.OK || len(back.Budgets) != len(res.Budgets) || len(back.Files) != 3 {
		t.Fatalf("round trip lost data: %+v", back)
	}
	for i, b := range back.Budgets {
		if b.Epsilon != res.Budgets[i].Epsilon || len(b.Points) != len(res.Budgets[i].Points) ||
			b.Points[1].Params != res.Budgets[i].Points[1].Params {
			t.Fatalf("budget %d differs after round trip", i)
		}
	}
	if !strings.Contains(buf.String(), `"epsilon_recomputed"`) {
		t.Fatal("JSON lacks epsilon_recomputed")
	}
}

func renderFederation(t *testing.T, rounds int) (string, Result) {
	t.Helper()
	f := buildFederation(t, rounds)
	res := Verify(f.files(), f.trusted())
	var buf bytes.Buffer
	if err := RenderHTML(&buf, res, ReportOptions{Generated: time.Date(2026, 11, 28, 22, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	return buf.String(), res
}

func TestRenderHTMLStructure(t *testing.T) {
	page, res := renderFederation(t, 3)
	for i, b := range res.Budgets {
		id := itoa(i + 1)
		for _, want := range []string{
			`<svg class="eps-chart" id="chart-` + id + `" data-tenant="` + b.Tenant + `"`,
			`<table class="rounds" id="rounds-` + id + `" data-tenant="` + b.Tenant + `"`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("page lacks %q", want)
			}
		}
	}
	if n := strings.Count(page, `<polyline class="eps"`); n != len(res.Budgets) {
		t.Errorf("%d ε lines for %d budgets", n, len(res.Budgets))
	}
	if !strings.Contains(page, `id="status" data-ok="true"`) {
		t.Error("status banner missing or not passing")
	}
	// Self-contained: nothing to fetch.
	if m := regexp.MustCompile(`(?i)(src=|href=|@import|url\()`).FindString(page); m != "" {
		t.Errorf("page references an external resource: %q", m)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestRenderHTMLFailureAndEscaping(t *testing.T) {
	res := Result{OK: false, SignaturesChecked: false,
		Failures: []Failure{{File: "a<b>.ledger", Line: 3, Seq: 3, Reason: "prev_hash <broken>"}},
		Budgets: []Budget{{File: "x", Party: "<script>alert(1)</script>", Tenant: "<img src=x>", Unit: ledger.UnitRecord,
			Epsilon: 1, Delta: 1e-5, Cap: 2, Points: []Point{{Seq: 1, Task: "t", Round: 1, Recomputed: 1, Cap: 2}}}}}
	var buf bytes.Buffer
	if err := RenderHTML(&buf, res, ReportOptions{}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if strings.Contains(page, "<script>") || strings.Contains(page, "<img") {
		t.Fatal("untrusted ledger text was not escaped")
	}
	for _, want := range []string{`data-ok="false"`, "a&lt;b&gt;.ledger: line 3 (seq 3): prev_hash &lt;broken&gt;", "were <strong>not</strong> checked", `class="pending"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestNiceStep(t *testing.T) {
	for _, tc := range []struct{ in, want float64 }{{0.9, 1}, {1.1, 2}, {3, 5}, {0.013, 0.02}, {7, 10}, {0, 1}} {
		if got := niceStep(tc.in); got < tc.want*(1-1e-12) || got > tc.want*(1+1e-12) {
			t.Errorf("niceStep(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func chromiumPath(t *testing.T) string { return headless.Chromium(t) }

func runChromium(t *testing.T, bin string, args ...string) []byte {
	return headless.Run(t, bin, args...)
}

// TestReportInChromium opens the report in headless Chromium and checks
// that, for every budget, the browser's DOM holds its chart and its table,
// and that the screenshot shows the chart's ε line and cap line.
func TestReportInChromium(t *testing.T) {
	bin := chromiumPath(t)
	f := buildFederation(t, 5)
	// globex crashes after its round-6 intent: pending, counted.
	l, err := ledger.Open(f.paths["globex"], f.keys["globex"])
	if err != nil {
		t.Fatal(err)
	}
	e := ledger.Entry{Party: "globex", Task: "intent-cls", Round: 6, Tenant: "globex", Unit: ledger.UnitRecord,
		Mechanism: ledger.MechDPSGD, Params: tenantParams["globex"], Delta: 1e-5, EpsilonCap: 4,
		Time: "2026-11-28T09:40:00Z"}
	if _, err := l.Append(e); err != nil {
		t.Fatal(err)
	}
	l.Close()
	docShot := os.Getenv("FEDB2B_AUDIT_SCREENSHOT")
	if docShot != "" {
		if docShot, err = filepath.Abs(docShot); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(filepath.Dir(f.paths["acme"])) // short relative paths in the page
	res := Verify(Load("coordinator.ledger", "acme.ledger", "globex.ledger"), f.trusted())
	if !res.OK {
		t.Fatalf("fixture does not verify: %v", res.Failures)
	}
	var buf bytes.Buffer
	if err := RenderHTML(&buf, res, ReportOptions{Generated: time.Date(2026, 11, 28, 22, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := string(runChromium(t, bin, "--dump-dom", "file://"+path))
	svgs := regexp.MustCompile(`<svg class="eps-chart" id="chart-\d+" data-tenant="([^"]+)" data-unit="([^"]+)"`).FindAllStringSubmatch(dom, -1)
	tables := regexp.MustCompile(`<table class="rounds" id="rounds-\d+" data-tenant="([^"]+)" data-unit="([^"]+)"`).FindAllStringSubmatch(dom, -1)
	if len(svgs) != len(res.Budgets) || len(tables) != len(res.Budgets) {
		t.Fatalf("DOM has %d charts and %d tables for %d budgets", len(svgs), len(tables), len(res.Budgets))
	}
	for i, b := range res.Budgets {
		if svgs[i][1] != b.Tenant || tables[i][1] != b.Tenant || svgs[i][2] != string(b.Unit) {
			t.Errorf("budget %d (%s): chart for %q, table for %q", i, b.Tenant, svgs[i][1], tables[i][1])
		}
		rows := strings.Count(sectionOf(dom, i+1), "<tr>") - 1 // minus the header row
		if rows != len(b.Points) {
			t.Errorf("budget %d: table has %d rows, want %d", i, rows, len(b.Points))
		}
	}
	shot := filepath.Join(dir, "shot.png")
	runChromium(t, bin, "--hide-scrollbars", "--window-size=1100,1500", "--screenshot="+shot, "file://"+path)
	img := decodePNG(t, shot)
	if !hasColor(img, 0x1f, 0x6f, 0xeb) || !hasColor(img, 0xd1, 0x24, 0x2f) {
		t.Fatal("screenshot shows no ε line or no cap line")
	}
	if docShot != "" {
		// The picture for docs/: the whole page of a taller window.
		runChromium(t, bin, "--hide-scrollbars", "--window-size=1100,3300", "--screenshot="+docShot, "file://"+path)
		decodePNG(t, docShot)
	}
}

// sectionOf returns the DOM text of budget section id.
func sectionOf(dom string, id int) string {
	start := strings.Index(dom, `<section class="budget" id="budget-`+itoa(id)+`"`)
	if start < 0 {
		return ""
	}
	end := strings.Index(dom[start:], "</section>")
	return dom[start : start+end]
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// hasColor reports whether at least 20 pixels are within 12 of (r, g, b).
func hasColor(img image.Image, r, g, b uint8) bool {
	n := 0
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			R, G, B, _ := img.At(x, y).RGBA()
			if near(R>>8, r) && near(G>>8, g) && near(B>>8, b) {
				n++
				if n >= 20 {
					return true
				}
			}
		}
	}
	return false
}

func near(a uint32, b uint8) bool {
	d := int(a) - int(b)
	return d >= -12 && d <= 12
}

// A budget with several spends per round labels each round once.
func TestChartRoundLabelsDoNotRepeat(t *testing.T) {
	var pts []Point
	for r := int64(1); r <= 8; r++ {
		for range 3 { // training, evaluation, count
			pts = append(pts, Point{Round: r, Task: "t", Recomputed: ledger.Epsilon(float64(len(pts)) / 10), Cap: 8})
		}
	}
	c := buildChart(Budget{Tenant: "acme", Party: "acme", Unit: "record", Cap: 8, Points: pts})
	seen := map[string]bool{}
	for _, tk := range c.XTicks {
		if seen[tk.Label] {
			t.Fatalf("x label %s repeats: %v", tk.Label, c.XTicks)
		}
		seen[tk.Label] = true
	}
	if len(c.XTicks) != 8 {
		t.Fatalf("%d round labels for 8 rounds: %v", len(c.XTicks), c.XTicks)
	}
}
