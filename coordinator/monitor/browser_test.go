package monitor

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/internal/headless"
)

// TestDashboardInChromium loads the dashboard from a live server in
// headless Chromium and checks the browser's DOM: one chart per metric
// with its line, one table row per round, the tenants' budget bars.
// FEDB2B_DASHBOARD_SCREENSHOT=FILE also saves a screenshot.
func TestDashboardInChromium(t *testing.T) {
	bin := headless.Chromium(t)
	m := newTestMonitor()
	feed(m)
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	dom := string(headless.Run(t, bin, "--dump-dom", srv.URL+"/"))
	if n := len(regexp.MustCompile(`<polyline [^>]*points="[0-9.]+,[0-9.]+`).FindAllString(dom, -1)); n != 1 {
		t.Errorf("browser DOM has %d drawn metric lines, want 1", n)
	}
	rounds := dom[strings.Index(dom, "<h2>Rounds</h2>"):]
	if n := strings.Count(rounds, "<tr>") - 1; n != 3 {
		t.Errorf("rounds table in the DOM has %d rows, want 3", n)
	}
	if n := strings.Count(dom, `class="bar eps"`); n != 3 {
		t.Errorf("%d tenant budget bars, want 3", n)
	}
	if shot := os.Getenv("FEDB2B_DASHBOARD_SCREENSHOT"); shot != "" {
		abs, err := filepath.Abs(shot)
		if err != nil {
			t.Fatal(err)
		}
		headless.Run(t, bin, "--hide-scrollbars", "--window-size=1300,1500", "--screenshot="+abs, srv.URL+"/")
	}
}
