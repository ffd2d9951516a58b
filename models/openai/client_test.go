package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeServer mimics POST /v1/embeddings: each text becomes a vector of dim
// values derived from its bytes. Hooks let a test inject failures.
type fakeServer struct {
	mu       sync.Mutex
	dim      int
	key      string
	requests int
	batches  []int
	// fail, when set, may answer a request itself (returning true).
	fail func(n int, w http.ResponseWriter) bool
}

func vectorOf(text string, dim int) []float64 {
	v := make([]float64, dim)
	for i := range v {
		v[i] = float64(len(text)) + float64(i)/10
		if len(text) > 0 {
			v[i] += float64(text[i%len(text)])
		}
	}
	return v
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests++
	n := f.requests
	f.mu.Unlock()
	if r.Method != http.MethodPost || r.URL.Path != "/v1/embeddings" {
		http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
		return
	}
	if f.key != "" && r.Header.Get("Authorization") != "Bearer "+f.key {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":{"message":"Incorrect API key provided: %s","type":"invalid_request_error"}}`, r.Header.Get("Authorization"))
		return
	}
	if f.fail != nil && f.fail(n, w) {
		return
	}
	var req struct {
		Model string   `json:"model"`
		Input []string `json:"input"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Model == "" {
		http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.batches = append(f.batches, len(req.Input))
	f.mu.Unlock()
	type item struct {
		Object    string    `json:"object"`
		Embedding []float64 `json:"embedding"`
		Index     int       `json:"index"`
	}
	data := make([]item, len(req.Input))
	// Answer in reverse order: clients must use the index.
	for i, t := range req.Input {
		data[len(data)-1-i] = item{"embedding", vectorOf(t, f.dim), i}
	}
	json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": req.Model})
}

func newTest(t *testing.T, f *fakeServer, cfg Config) (*Encoder, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cfg.BaseURL = srv.URL
	if cfg.Model == "" {
		cfg.Model = "bge-m3"
	}
	e, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.sleep = func(ctx context.Context, d time.Duration) error { return ctx.Err() }
	return e, srv
}

func TestEncodeBatchesAndOrder(t *testing.T) {
	f := &fakeServer{dim: 8}
	e, srv := newTest(t, f, Config{BatchSize: 3})
	if e.Dim() != 8 {
		t.Fatalf("probed dim %d, want 8", e.Dim())
	}
	if want := "openai:" + srv.URL + "/v1/embeddings#bge-m3:dim=8"; e.ID() != want {
		t.Fatalf("ID %q, want %q", e.ID(), want)
	}
	texts := []string{"a", "bb", "客户", "dddd", "e", "", "ggggggg"}
	vecs, err := e.Encode(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	for i, txt := range texts {
		want := vectorOf(txt, 8)
		for j := range want {
			if vecs[i][j] != want[j] {
				t.Fatalf("text %d: %v, want %v", i, vecs[i], want)
			}
		}
	}
	if got := fmt.Sprint(f.batches); got != "[1 3 3 1]" { // probe, then 3+3+1
		t.Fatalf("batch sizes %s", got)
	}
}

func TestAPIKeyFromEnvNeverInErrors(t *testing.T) {
	const secret = "sk-test-5ecret-value"
	t.Setenv("FEDB2B_TEST_KEY", secret)
	f := &fakeServer{dim: 4, key: secret}
	e, _ := newTest(t, f, Config{APIKeyEnv: "FEDB2B_TEST_KEY"})
	if _, err := e.Encode(context.Background(), []string{"x"}); err != nil {
		t.Fatal(err)
	}
	f.key = "another"
	_, err := e.Encode(context.Background(), []string{"x"})
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 401 {
		t.Fatalf("error %v, want a 401 StatusError", err)
	}
	if strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "[redacted]") {
		t.Fatalf("key not redacted: %v", err)
	}
	if _, err := New(context.Background(), Config{BaseURL: "http://x", Model: "m", Dim: 3, APIKeyEnv: "FEDB2B_UNSET_KEY"}); err == nil ||
		!strings.Contains(err.Error(), "FEDB2B_UNSET_KEY") {
		t.Fatalf("unset key variable: %v", err)
	}
}

func TestRetriesRateLimitsAndServerErrors(t *testing.T) {
	f := &fakeServer{dim: 4}
	e, _ := newTest(t, f, Config{Dim: 4, MaxRetries: 3, MaxBackoff: 5 * time.Second})
	var waits []time.Duration
	e.sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	f.fail = func(n int, w http.ResponseWriter) bool {
		switch n {
		case 1:
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"error":{"message":"rate limited"}}`))
			return true
		case 2:
			w.WriteHeader(http.StatusBadGateway)
			return true
		}
		return false
	}
	vecs, err := e.Encode(context.Background(), []string{"hello"})
	if err != nil || len(vecs) != 1 {
		t.Fatalf("after retries: %v", err)
	}
	if len(waits) != 2 || waits[0] < 2*time.Second {
		t.Fatalf("waits %v: want 2, the first at least the Retry-After of 2s", waits)
	}

	// Persistent 503: give up after MaxRetries+1 attempts with the status.
	f.mu.Lock()
	f.requests = 0
	f.mu.Unlock()
	f.fail = func(n int, w http.ResponseWriter) bool { w.WriteHeader(503); return true }
	_, err = e.Encode(context.Background(), []string{"hello"})
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 503 || !strings.Contains(err.Error(), "after 4 attempts") || f.requests != 4 {
		t.Fatalf("error %v after %d requests", err, f.requests)
	}

	// Retry-After beyond MaxBackoff fails at once.
	f.fail = func(n int, w http.ResponseWriter) bool {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(429)
		return true
	}
	if _, err = e.Encode(context.Background(), []string{"x"}); err == nil || !strings.Contains(err.Error(), "retry after 1h0m0s") {
		t.Fatalf("long Retry-After: %v", err)
	}

	// A 400 is not retried.
	f.requests = 0
	f.fail = func(n int, w http.ResponseWriter) bool {
		w.WriteHeader(400)
		w.Write([]byte(`{"error":"input too long"}`))
		return true
	}
	if _, err = e.Encode(context.Background(), []string{"x"}); err == nil || !strings.Contains(err.Error(), "input too long") || f.requests != 1 {
		t.Fatalf("400: %v after %d requests", err, f.requests)
	}
}

func TestMalformedAnswers(t *testing.T) {
	cases := []struct {
		name, body, want string
	}{
		{"not json", `<html>oops</html>`, "malformed JSON"},
		{"truncated", `{"data":[{"embedding":[1,2`, "malformed JSON"},
		{"count", `{"data":[]}`, "returned 0 embeddings for 1 texts"},
		{"index", `{"data":[{"embedding":[1,2,3,4],"index":5}]}`, "bad or repeated index 5"},
		{"no embedding", `{"data":[{"index":0}]}`, "no embedding"},
		{"wrong dim", `{"data":[{"embedding":[1,2,3],"index":0}]}`, "dimension 3, want 4"},
		{"strings", `{"data":[{"embedding":"AAAA","index":0}]}`, "malformed JSON"},
	}
	for _, c := range cases {
		f := &fakeServer{dim: 4}
		e, _ := newTest(t, f, Config{Dim: 4})
		f.fail = func(n int, w http.ResponseWriter) bool { w.Write([]byte(c.body)); return true }
		if _, err := e.Encode(context.Background(), []string{"x"}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}

func TestTimeoutAndCancel(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	f := &fakeServer{dim: 4}
	f.fail = func(n int, w http.ResponseWriter) bool { <-block; return true }
	e, _ := newTest(t, f, Config{Dim: 4, Timeout: 50 * time.Millisecond, MaxRetries: 1})
	_, err := e.Encode(context.Background(), []string{"x"})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "after 2 attempts") {
		t.Fatalf("timeout: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Encode(ctx, []string{"x"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{{BaseURL: "localhost:8080", Model: "m"}, {BaseURL: "ftp://h", Model: "m"},
		{BaseURL: "http://u:p@h", Model: "m"}, {BaseURL: "http://h"}, {BaseURL: "http://h", Model: "m", Dim: -1}} {
		if _, err := New(context.Background(), c); err == nil {
			t.Errorf("config %+v accepted", c)
		} else if strings.Contains(err.Error(), ":p@") {
			t.Errorf("credentials in error: %v", err)
		}
	}
	e, err := New(context.Background(), Config{BaseURL: "http://h:1/v1/", Model: "m", Dim: 3})
	if err != nil || e.ID() != "openai:http://h:1/v1/embeddings#m:dim=3" {
		t.Fatalf("/v1 base: %v %v", e, err)
	}
}

func TestRetryAfterParsing(t *testing.T) {
	if retryAfter("7") != 7*time.Second || retryAfter("") != 0 || retryAfter("soon") != 0 || retryAfter("-3") != 0 {
		t.Fatal("seconds form")
	}
	if d := retryAfter(time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)); d < 80*time.Second || d > 91*time.Second {
		t.Fatalf("date form: %v", d)
	}
}
