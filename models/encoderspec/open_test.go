package encoderspec

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fedb2b/fedb2b/models/embcache"
)

const tiny = "../bert/testdata/tiny-bert"

func TestHashing(t *testing.T) {
	e, err := Open("hashing", Options{})
	if err != nil || e.Dim() != 4096 || !strings.HasPrefix(e.ID(), "hashing-v1:dim=4096") {
		t.Fatalf("hashing: %v %v", e, err)
	}
	e, err = Open("hashing:64", Options{})
	if err != nil || e.Dim() != 64 {
		t.Fatalf("hashing:64: %v %v", e, err)
	}
	for _, bad := range []string{"hashing:", "hashing:x", "hashing:-3"} {
		if _, err := Open(bad, Options{}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestBert(t *testing.T) {
	mean, err := Open("bert:"+tiny, Options{})
	if err != nil {
		t.Fatal(err)
	}
	cls, err := Open("bert:"+tiny, Options{Pooling: "cls", Normalize: true})
	if err != nil {
		t.Fatal(err)
	}
	if mean.Dim() != 32 || mean.ID() == cls.ID() || !strings.HasPrefix(cls.ID(), "bert:") {
		t.Fatalf("ids %s %s dim %d", mean.ID(), cls.ID(), mean.Dim())
	}
	v, err := cls.Encode(context.Background(), []string{"订单"})
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, x := range v[0] {
		n += x * x
	}
	if n < 0.999999 || n > 1.000001 {
		t.Fatalf("normalised vector has squared norm %g", n)
	}
	if _, err := Open("bert:"+tiny, Options{Pooling: "max"}); err == nil {
		t.Fatal("pooling max accepted")
	}
	if _, err := Open("bert:/nonexistent/folder", Options{}); err == nil || !strings.Contains(err.Error(), "config.json") {
		t.Fatalf("missing folder: %v", err)
	}
}

func TestOpenAIAndCache(t *testing.T) {
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests++
		var req struct{ Input []string }
		json.NewDecoder(r.Body).Decode(&req)
		data := []map[string]any{}
		for i, s := range req.Input {
			data = append(data, map[string]any{"index": i, "embedding": []float64{float64(len(s)), 1, 2}})
		}
		json.NewEncoder(w).Encode(map[string]any{"data": data})
	}))
	defer srv.Close()
	e, err := Open("openai:"+srv.URL+"#nomic-embed-text:latest", Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if want := "openai:" + srv.URL + "/v1/embeddings#nomic-embed-text:latest:dim=3"; e.ID() != want {
		t.Fatalf("ID %q, want %q", e.ID(), want)
	}
	if _, ok := e.(*embcache.Cache); !ok {
		t.Fatalf("CacheDir did not wrap the encoder: %T", e)
	}
	for range 2 {
		v, err := e.Encode(context.Background(), []string{"abcd"})
		if err != nil || v[0][0] != 4 {
			t.Fatalf("%v %v", v, err)
		}
	}
	if requests != 2 { // the probe and one miss
		t.Fatalf("%d requests, want 2", requests)
	}
	for _, bad := range []string{"openai:" + srv.URL, "openai:" + srv.URL + "#", "openai:#m"} {
		if _, err := Open(bad, Options{}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSpecErrors(t *testing.T) {
	cases := map[string]Options{
		"word2vec:/x":       {},
		"":                  {},
		"hashing:16 ":       {},
		"hashing":           {Pooling: "cls"},
		"openai:http://h#m": {Normalize: true},
		"bert:" + tiny:      {APIKeyEnv: "KEY"},
	}
	for spec, opt := range cases {
		if _, err := Open(spec, opt); err == nil {
			t.Errorf("%q with %+v accepted", spec, opt)
		}
	}
}

func TestCheckPinned(t *testing.T) {
	mean, _ := Open("bert:"+tiny, Options{})
	cls, _ := Open("bert:"+tiny, Options{Pooling: "cls"})
	if err := CheckPinned(mean.ID(), mean); err != nil {
		t.Fatal(err)
	}
	err := CheckPinned(mean.ID(), cls)
	var me *MismatchError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), mean.ID()) || !strings.Contains(err.Error(), cls.ID()) {
		t.Fatalf("mismatch error %v does not name both IDs", err)
	}
}
