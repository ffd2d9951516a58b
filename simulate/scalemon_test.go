package simulate

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Helpers of TestScaleSeparateProcesses: the coordinator process's monitor
// and the clients' stage clock.

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

func tail(s string, n int) string { return s[max(0, len(s)-n):] }

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func scaleFreeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitListening(t *testing.T, ctx context.Context, addr string) {
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		if ctx.Err() != nil {
			t.Fatal("the coordinator never listened")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stageClock keeps, per round and secure stage, the first and last time
// a client was about to send that stage's message.
type stageClock struct {
	mu          sync.Mutex
	first, last map[string]time.Time
}

func (s *stageClock) mark(round int, stage string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		s.first, s.last = map[string]time.Time{}, map[string]time.Time{}
	}
	key, now := fmt.Sprint(round, stage), time.Now()
	if _, ok := s.first[key]; !ok {
		s.first[key] = now
	}
	s.last[key] = now
}

// dropWait estimates how long round's masked-input stage idled waiting
// for the drop-outs: from the last masked input sent to the first
// consistency message (the stage deadline expired in between).
func (s *stageClock) dropWait(round int, timeout time.Duration) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, b := s.last[fmt.Sprint(round, "masked_input")], s.first[fmt.Sprint(round, "consistency")]
	if a.IsZero() || b.IsZero() {
		return 0
	}
	return min(b.Sub(a), timeout)
}

// coordMonitor reads the coordinator's output and, at each round's
// start and aggregation, its CPU time and resident memory from /proc.
type coordMonitor struct {
	pid int
	// onLine, if set, sees each round's start, end and secure-stage
	// line as it arrives.
	onLine func(line string)
	mu     sync.Mutex
	log    strings.Builder
	starts map[int]sample
	rounds []roundSample
	// hwmKB is the largest VmHWM read from /proc: the process's own peak
	// RSS (its rusage ru_maxrss also counts the test process's RSS at
	// the fork, which can exceed the coordinator's).
	hwmKB int64
}

type sample struct {
	at           time.Time
	cpu          time.Duration
	rssKB, hwmKB int64
}

type roundSample struct {
	wall, cpu time.Duration
	rssKB     int64
	dropped   int
}

func (m *coordMonitor) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		now := m.sample()
		m.mu.Lock()
		m.hwmKB = max(m.hwmKB, now.hwmKB)
		if len(line) > 400 {
			m.log.WriteString(line[:400] + "…\n")
		} else {
			m.log.WriteString(line + "\n")
		}
		round, ok := field(line, "round")
		switch {
		case ok && strings.Contains(line, `msg="round started"`):
			if m.starts == nil {
				m.starts = map[int]sample{}
			}
			m.starts[round] = now
		case ok && strings.Contains(line, `msg="round aggregated"`):
			s := m.starts[round]
			dropped := 0
			if i := strings.Index(line, "dropped="); i >= 0 {
				v := strings.Fields(line[i+len("dropped="):])
				if len(v) > 0 && v[0] != `""` && !strings.HasPrefix(v[0], "declined=") {
					dropped = len(strings.Split(strings.Trim(v[0], `"`), ","))
				}
			}
			m.rounds = append(m.rounds, roundSample{wall: now.at.Sub(s.at), cpu: now.cpu - s.cpu, rssKB: now.rssKB, dropped: dropped})
		}
		m.mu.Unlock()
		if m.onLine != nil && (strings.Contains(line, `msg="round `) || strings.Contains(line, `msg="secure stage`)) {
			m.onLine(line)
		}
	}
}

func (m *coordMonitor) sample() sample {
	s := sample{at: time.Now()}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", m.pid)); err == nil {
		if i := strings.LastIndexByte(string(b), ')'); i > 0 {
			f := strings.Fields(string(b)[i+1:])
			if len(f) > 13 {
				u, _ := strconv.ParseInt(f[11], 10, 64)
				st, _ := strconv.ParseInt(f[12], 10, 64)
				s.cpu = time.Duration(u+st) * time.Second / 100 // USER_HZ
			}
		}
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", m.pid)); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
				s.rssKB, _ = strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			}
			if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
				s.hwmKB, _ = strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			}
		}
	}
	return s
}

// peakKB is the largest VmHWM seen so far.
func (m *coordMonitor) peakKB() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hwmKB
}

func (m *coordMonitor) text() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.log.String()
}

func (m *coordMonitor) aggregated() []roundSample {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.rounds)
}

// field returns the integer value of key=... in a slog text line.
func field(line, key string) (int, bool) {
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			n, err := strconv.Atoi(v)
			return n, err == nil
		}
	}
	return 0, false
}

// syncBuf is a strings.Builder safe for a process writing while the test
// reads.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
