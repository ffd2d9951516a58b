package simulate

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// clientWatch shows, while TestScaleSeparateProcesses runs, why clients
// leave rounds or stop: it counts the clients' warnings per (round,
// message) — "left out of secure aggregation", "refused the relayed
// shares", "step refused by the coordinator; continuing", … — logging
// the first few of each kind in full, and logs every client's Run error
// the moment it returns.
type clientWatch struct {
	t       *testing.T
	mu      sync.Mutex
	counts  map[string]int // "round N: msg" → count
	exited  int
	running int
	done    bool // the test is over: t.Logf may no longer be called
}

// logf logs through t while the test runs.
func (w *clientWatch) logf(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Logf(format, args...)
	}
}

// finish stops the logging (deferred by the test before its context is
// cancelled, so clients that stop afterwards do not log).
func (w *clientWatch) finish() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
}

func newClientWatch(t *testing.T) *clientWatch {
	return &clientWatch{t: t, counts: map[string]int{}}
}

// logger is the clients' logger: warnings and errors reach the watch.
func (w *clientWatch) logger() *slog.Logger { return slog.New(&watchHandler{w: w}) }

// started and stopped bracket one client's Run.
func (w *clientWatch) started() {
	w.mu.Lock()
	w.running++
	w.mu.Unlock()
}

func (w *clientWatch) stopped(name string, err error, killed bool) {
	w.mu.Lock()
	w.running--
	if err != nil && !killed {
		w.exited++
	}
	w.mu.Unlock()
	if err != nil && !killed {
		w.logf("%s client %s stopped: %v", time.Now().UTC().Format("15:04:05"), name, err)
	}
}

// summary is one line: clients running, stopped on an error, and the
// warning counts so far.
func (w *clientWatch) summary() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "clients running %d, stopped on an error %d", w.running, w.exited)
	for _, k := range slices.Sorted(maps.Keys(w.counts)) {
		fmt.Fprintf(&b, "; %s ×%d", k, w.counts[k])
	}
	return b.String()
}

// watchHandler is a slog.Handler feeding clientWatch (warnings and up).
type watchHandler struct {
	w     *clientWatch
	attrs []slog.Attr
}

func (h *watchHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h *watchHandler) Handle(_ context.Context, r slog.Record) error {
	round, text := "", []string{r.Message}
	add := func(a slog.Attr) bool {
		if a.Key == "round" {
			round = a.Value.String()
		}
		text = append(text, a.Key+"="+a.Value.String())
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	key := r.Message
	if round != "" {
		key = "round " + round + ": " + r.Message
	}
	h.w.mu.Lock()
	h.w.counts[key]++
	n := h.w.counts[key]
	h.w.mu.Unlock()
	if n <= 3 {
		h.w.logf("%s client warning (%d of this kind so far): %s", r.Time.UTC().Format("15:04:05"), n, strings.Join(text, " "))
	}
	return nil
}

func (h *watchHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &watchHandler{w: h.w, attrs: append(slices.Clone(h.attrs), as...)}
}

func (h *watchHandler) WithGroup(string) slog.Handler { return h }

// shortLine replaces the tenant lists of a coordinator log line (cohort=,
// dropped=) by their lengths.
func shortLine(line string) string {
	f := strings.Fields(line)
	for i, kv := range f {
		for _, key := range []string{"cohort=", "dropped="} {
			if v, ok := strings.CutPrefix(kv, key); ok && v != `""` && v != "" {
				f[i] = fmt.Sprintf("%s%d tenants", key, len(strings.Split(v, ",")))
			}
		}
	}
	return strings.Join(f, " ")
}
