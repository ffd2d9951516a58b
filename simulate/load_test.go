package simulate

import (
	"bytes"
	"context"
	"math"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/privacy"
)

// Load-test shape (issue 5): d = loadClasses·loadRank + loadClasses =
// 30·3333 + 30 = 100,020 trainable parameters (LoRA B and the head bias).
// The synthetic data has 15 industries; the load test labels each example
// with its industry and script (Latin or Han), giving 30 classes, because
// NewClassifier caps the rank at 4096 (15 classes would give at most
// 61,455). The hashing encoder is shrunk to 64 dimensions so that each
// in-process client's frozen A (rank × dim, stored twice) costs 3.4 MB
// rather than 218 MB: din does not enter d, only the clients' memory.
const (
	loadClasses  = 30
	loadRank     = 3333
	loadInputDim = 64
)

// TestLoad200Clients runs FEDB2B_LOAD_TENANTS (default 200) tenants in one
// process against one coordinator on loopback, with mutual TLS and SecAgg+
// with k = 16 neighbours, for 3 rounds of a d = 100,020 adapter, and logs
// each round's wall time and the process's peak memory. It is skipped
// unless FEDB2B_LOAD=1:
//
//	FEDB2B_LOAD=1 go test ./simulate -run '^TestLoad200Clients$' -v -timeout 30m
//
// The memory figures cover the whole process (coordinator and every
// client). FEDB2B_LOAD_PROFILE=FILE writes a heap profile taken near the
// peak, whose allocation stacks separate the coordinator's share from the
// clients' (go tool pprof -sample_index=inuse_space -top -focus=...).
func TestLoad200Clients(t *testing.T) {
	if os.Getenv("FEDB2B_LOAD") != "1" {
		t.Skip("load test: set FEDB2B_LOAD=1 to run it (minutes, GBs of memory)")
	}
	tenants := 200
	if s := os.Getenv("FEDB2B_LOAD_TENANTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 3 {
			t.Fatalf("FEDB2B_LOAD_TENANTS=%q: want an integer ≥ 3", s)
		}
		tenants = n
	}
	const rounds, neighbours = 3, 16
	enc, err := models.NewHashingEncoder(models.HashingConfig{Dim: loadInputDim})
	if err != nil {
		t.Fatal(err)
	}
	data := scriptLabelled(dataset.Synthesize(dataset.SynthConfig{Seed: 1, Records: 20 * tenants}))
	if labels, _ := dataset.LabelIndex(data); len(labels) != loadClasses {
		t.Fatalf("relabelled data has %d classes, want %d", len(labels), loadClasses)
	}
	k := min(neighbours, tenants-1)
	cfg := Config{
		Tenants: tenants, Rounds: rounds, Data: data, Seed: 1,
		Encoder: enc, Rank: loadRank,
		LocalSteps: 3, SampleRate: 0.25, TargetEpsilon: 8,
		MinClients: tenants, Neighbours: k,
		RoundTimeout: 10 * time.Minute,
		Rand:         privacy.SeededReader(2026),
	}

	var mon memMonitor
	stop := mon.start(50 * time.Millisecond)
	start := time.Now()
	var marks []time.Time
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	rep, err := Run(ctx, cfg, func(RoundReport) { marks = append(marks, time.Now()) })
	total := time.Since(start)
	stop()
	if err != nil {
		t.Fatal(err)
	}

	// The load run releases exact example counts and evaluations (the
	// Config's zero ε), so every tenant's record-level ε is reported as ∞
	// (issue #13); that it trained in every round is checked below.
	for name, e := range rep.Epsilon {
		if !math.IsInf(e, 1) {
			t.Errorf("%s: ε = %v after exact releases, want +Inf", name, e)
		}
	}
	if len(rep.Epsilon) != tenants {
		t.Errorf("ε reported for %d tenants, want %d", len(rep.Epsilon), tenants)
	}
	if len(rep.Rounds) != rounds {
		t.Fatalf("got %d round reports, want %d; finish %q", len(rep.Rounds), rounds, rep.Finish)
	}
	for i, r := range rep.Rounds {
		if r.Round != i+1 || r.Abandoned {
			t.Errorf("report %d: round %d abandoned=%v: %s", i, r.Round, r.Abandoned, r.Reason)
		}
		if r.Participants != tenants {
			t.Errorf("round %d aggregated %d of %d tenants (dropped %v)", r.Round, r.Participants, tenants, r.Dropped)
		}
	}
	if sa := rep.SecureAggregation; sa == nil || sa.Neighbours != k {
		t.Errorf("secure aggregation report %+v, want SecAgg+ with k = %d", sa, k)
	}
	d := loadClasses*loadRank + loadClasses
	t.Logf("tenants=%d rounds=%d d=%d k=%d t=%d TLS=on secagg+=on GOMAXPROCS=%d",
		tenants, rounds, d, k, k/2+1, runtime.GOMAXPROCS(0))
	prev := start
	for i, m := range marks {
		what := "round"
		if i == 0 {
			what = "setup (CA, enrolment, encoding) + round"
		}
		r := rep.Rounds[i]
		t.Logf("%s %d: %.1f s wall (to its evaluation); participants %d, accuracy %.4f on %d held-out examples from %d evaluators",
			what, r.Round, m.Sub(prev).Seconds(), r.Participants, r.Accuracy, r.Examples, r.Evaluators)
		prev = m
	}
	t.Logf("total %.1f s; process peak HeapInuse %.0f MiB, peak Sys %.0f MiB, peak HeapAlloc %.0f MiB (%d samples)",
		total.Seconds(), mib(mon.peakInuse), mib(mon.peakSys), mib(mon.peakAlloc), mon.samples)
	if path := os.Getenv("FEDB2B_LOAD_PROFILE"); path != "" && mon.profile != nil {
		if err := os.WriteFile(path, mon.profile, 0o644); err != nil {
			t.Error(err)
		} else {
			t.Logf("heap profile near the peak (HeapInuse %.0f MiB) written to %s", mib(mon.profiledAt), path)
		}
	}
}

// scriptLabelled labels each example "<industry>/han" or "<industry>/latin"
// by whether its text contains a Han character.
func scriptLabelled(ex []dataset.Example) []dataset.Example {
	out := make([]dataset.Example, len(ex))
	for i, e := range ex {
		script := "latin"
		for _, r := range e.Text {
			if unicode.Is(unicode.Han, r) {
				script = "han"
				break
			}
		}
		e.Label += "/" + script
		out[i] = e
	}
	return out
}

func TestScriptLabelled(t *testing.T) {
	got := scriptLabelled([]dataset.Example{{Text: "主营业务：空运", Label: "logistics"}, {Text: "We ship parts", Label: "logistics"}})
	if got[0].Label != "logistics/han" || got[1].Label != "logistics/latin" {
		t.Errorf("labels %q, %q", got[0].Label, got[1].Label)
	}
}

// memMonitor samples runtime.MemStats and keeps the peaks, and a heap
// profile taken whenever HeapInuse grew 10% past the last profile's.
type memMonitor struct {
	mu                            sync.Mutex
	peakInuse, peakSys, peakAlloc uint64
	samples                       int
	profile                       []byte
	profiledAt                    uint64
}

func (m *memMonitor) start(every time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			m.sample()
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

func (m *memMonitor) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.samples++
	m.peakInuse = max(m.peakInuse, ms.HeapInuse)
	m.peakSys = max(m.peakSys, ms.Sys)
	m.peakAlloc = max(m.peakAlloc, ms.HeapAlloc)
	if float64(ms.HeapInuse) > 1.1*float64(m.profiledAt) {
		var b bytes.Buffer
		if err := pprof.Lookup("heap").WriteTo(&b, 0); err == nil {
			m.profile, m.profiledAt = b.Bytes(), ms.HeapInuse
		}
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
