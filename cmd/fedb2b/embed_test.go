package main

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const tinyBert = "../../models/bert/testdata/tiny-bert"

func runEmbedTest(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	old := embedStdin
	embedStdin = strings.NewReader(stdin)
	defer func() { embedStdin = old }()
	var out, errb bytes.Buffer
	code := run(append([]string{"embed"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func parseVectors(t *testing.T, out string) [][]float64 {
	t.Helper()
	var vecs [][]float64
	for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var v []float64
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("output line %d %q: %v", i+1, line, err)
		}
		vecs = append(vecs, v)
	}
	return vecs
}

func TestEmbedBertMatchesGolden(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(tinyBert, "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Sentences     []string    `json:"sentences"`
		CLSNormalized [][]float64 `json:"cls_normalized"`
		MeanPooled    [][]float64 `json:"mean_pooled"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	// The golden sentences hold tabs and runs of spaces but no newline
	// except in the last one, which becomes two input lines; skip it.
	sents := g.Sentences[:len(g.Sentences)-1]
	for _, c := range []struct {
		args []string
		want [][]float64
	}{
		{[]string{"--pooling", "cls", "--normalize"}, g.CLSNormalized},
		{nil, g.MeanPooled},
	} {
		code, out, errs := runEmbedTest(t, strings.Join(sents, "\n")+"\n", append([]string{"--encoder", "bert:" + tinyBert}, c.args...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		if !strings.Contains(errs, "encoder bert:") {
			t.Errorf("stderr does not name the encoder: %s", errs)
		}
		vecs := parseVectors(t, out)
		if len(vecs) != len(sents) {
			t.Fatalf("%d vectors for %d lines", len(vecs), len(sents))
		}
		for i := range vecs {
			for j := range vecs[i] {
				if math.Abs(vecs[i][j]-c.want[i][j]) > 1e-4 {
					t.Fatalf("%v: line %d value %d = %g, want %g", c.args, i+1, j, vecs[i][j], c.want[i][j])
				}
			}
		}
	}
}

func TestEmbedHashingFileAndCache(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	os.WriteFile(in, []byte("hello world\r\n\n客户询问\n"), 0o600)
	cache := filepath.Join(dir, "cache")
	code, out, errs := runEmbedTest(t, "", "--encoder", "hashing:16", "--input", in, "--embed-cache", cache)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	vecs := parseVectors(t, out)
	if len(vecs) != 3 || len(vecs[0]) != 16 {
		t.Fatalf("got %d vectors of %d", len(vecs), len(vecs[0]))
	}
	code, out2, _ := runEmbedTest(t, "", "--encoder", "hashing:16", "--input", in, "--embed-cache", cache)
	if code != 0 || out2 != out {
		t.Fatalf("cached run differs (exit %d)", code)
	}
}

func TestEmbedOpenAI(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer k-123" {
			w.WriteHeader(401)
			return
		}
		var req struct{ Input []string }
		json.NewDecoder(r.Body).Decode(&req)
		data := []map[string]any{}
		for i, s := range req.Input {
			data = append(data, map[string]any{"index": i, "embedding": []float64{float64(len(s)), 0.5}})
		}
		json.NewEncoder(w).Encode(map[string]any{"data": data})
	}))
	defer srv.Close()
	t.Setenv("FEDB2B_EMBED_TEST_KEY", "k-123")
	code, out, errs := runEmbedTest(t, "ab\nabcd\n", "--encoder", "openai:"+srv.URL+"#m", "--api-key-env", "FEDB2B_EMBED_TEST_KEY", "--dim", "2")
	if code != 0 || out != "[2,0.5]\n[4,0.5]\n" {
		t.Fatalf("exit %d, out %q, err %s", code, out, errs)
	}
	if strings.Contains(errs, "k-123") {
		t.Fatal("API key printed")
	}
	code, _, errs = runEmbedTest(t, "ab\n", "--encoder", "openai:"+srv.URL+"#m", "--dim", "2")
	if code != 1 || !strings.Contains(errs, "HTTP 401") {
		t.Fatalf("no key: exit %d, %s", code, errs)
	}
}

func TestEmbedErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage"},
		{[]string{"--encoder", "word2vec:x"}, 1, "unknown encoder"},
		{[]string{"--encoder", "bert:/no/such/model"}, 1, "config.json"},
		{[]string{"--encoder", "hashing", "--pooling", "cls"}, 1, "only to bert"},
		{[]string{"--encoder", "bert:" + tinyBert, "--pooling", "max"}, 1, "unknown pooling"},
		{[]string{"--encoder", "hashing", "--input", "/no/such/file"}, 1, "no such file"},
	} {
		code, _, errs := runEmbedTest(t, "x\n", c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errs, c.code, c.want)
		}
	}
}
