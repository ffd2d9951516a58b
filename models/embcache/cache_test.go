package embcache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"filippo.io/age"
)

// countingEncoder is a deterministic encoder that counts the texts it sees.
type countingEncoder struct {
	id    string
	dim   int
	calls atomic.Int64
	texts atomic.Int64
	err   error
	bad   bool // return vectors of the wrong length
}

func (e *countingEncoder) ID() string { return e.id }
func (e *countingEncoder) Dim() int   { return e.dim }
func (e *countingEncoder) Encode(_ context.Context, texts []string) ([][]float64, error) {
	e.calls.Add(1)
	e.texts.Add(int64(len(texts)))
	if e.err != nil {
		return nil, e.err
	}
	out := make([][]float64, len(texts))
	for i, t := range texts {
		n := e.dim
		if e.bad {
			n--
		}
		out[i] = make([]float64, n)
		for j := range out[i] {
			out[i][j] = float64(len(t)*(j+1)) + 0.25
		}
	}
	return out, nil
}

func TestHitsMissesAndDedupe(t *testing.T) {
	inner := &countingEncoder{id: "fake:v1", dim: 5}
	dir := filepath.Join(t.TempDir(), "cache")
	c, err := New(inner, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.ID() != inner.ID() || c.Dim() != 5 {
		t.Fatalf("ID %q dim %d", c.ID(), c.Dim())
	}
	texts := []string{"alpha", "beta", "alpha", "客户"}
	a, err := c.Encode(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	if inner.texts.Load() != 3 {
		t.Fatalf("inner saw %d texts, want 3 distinct", inner.texts.Load())
	}
	a[0][0] = -1 // the caller owns its vectors: a duplicate must not alias
	if a[2][0] == -1 {
		t.Fatal("duplicate texts share one slice")
	}
	c2, err := Wrap(inner, dir, Options{}) // a fresh process reusing the cache
	if err != nil {
		t.Fatal(err)
	}
	b, err := c2.Encode(context.Background(), append(texts, "gamma"))
	if err != nil {
		t.Fatal(err)
	}
	if inner.texts.Load() != 4 {
		t.Fatalf("inner saw %d texts in total, want 4", inner.texts.Load())
	}
	want, _ := inner.Encode(context.Background(), []string{"beta", "客户"})
	for j := range want[0] {
		if b[1][j] != want[0][j] || b[3][j] != want[1][j] {
			t.Fatalf("cached vector differs: %v vs %v", b[1], want[0])
		}
	}
	if h, m := c2.(*Cache).Stats(); h != 4 || m != 1 {
		t.Fatalf("stats %d hits %d misses, want 4 and 1", h, m)
	}
}

func TestPermissionsAndAtomicity(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "c")
	c, err := Wrap(&countingEncoder{id: "fake:v1", dim: 3}, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Encode(context.Background(), []string{"a", "b", "c"}); err != nil {
		t.Fatal(err)
	}
	files := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		st, _ := d.Info()
		switch {
		case d.IsDir() && st.Mode().Perm() != 0o700:
			t.Errorf("%s: mode %o, want 0700", p, st.Mode().Perm())
		case !d.IsDir() && st.Mode().Perm() != 0o600:
			t.Errorf("%s: mode %o, want 0600", p, st.Mode().Perm())
		case !d.IsDir() && strings.HasPrefix(d.Name(), ".tmp-"):
			t.Errorf("temporary file left: %s", p)
		case !d.IsDir():
			files++
		}
		return nil
	})
	if files != 3 {
		t.Fatalf("%d entry files, want 3", files)
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Errorf("new cache root has mode %o, want 0700", st.Mode().Perm())
	}
	open := c.(*Cache).dir
	os.Chmod(open, 0o755)
	if _, err := Wrap(&countingEncoder{id: "fake:v1", dim: 3}, dir, Options{}); err == nil || !strings.Contains(err.Error(), "want 0700") {
		t.Fatalf("world-readable dir: %v", err)
	}
}

func TestEncrypted(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	inner := &countingEncoder{id: "fake:v1", dim: 4}
	c, err := Wrap(inner, dir, Options{Identity: id})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Encode(context.Background(), []string{"secret customer"}); err != nil {
		t.Fatal(err)
	}
	plainName := func() string { h := sha256.Sum256([]byte("secret customer")); return hex.EncodeToString(h[:]) }()
	var entry string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, _ error) error {
		if !d.IsDir() {
			entry = p
		}
		return nil
	})
	b, _ := os.ReadFile(entry)
	if bytes.Contains(b, []byte(magic)) || bytes.Contains(b, []byte("fake:v1")) || strings.Contains(entry, plainName) {
		t.Fatalf("entry %s not encrypted or names the text hash", entry)
	}
	c2, _ := Wrap(inner, dir, Options{Identity: id})
	if _, err := c2.Encode(context.Background(), []string{"secret customer"}); err != nil || inner.texts.Load() != 1 {
		t.Fatalf("encrypted hit: %v, inner saw %d", err, inner.texts.Load())
	}
	// With another identity the file names differ: no hit, no leak.
	other, _ := age.GenerateX25519Identity()
	c3, _ := Wrap(inner, dir, Options{Identity: other})
	if _, err := c3.Encode(context.Background(), []string{"secret customer"}); err != nil || inner.texts.Load() != 2 {
		t.Fatalf("other identity: %v, inner saw %d", err, inner.texts.Load())
	}
	// A file encrypted to someone else under the right name is an error.
	var foreign bytes.Buffer
	w, _ := age.Encrypt(&foreign, other.Recipient())
	w.Write(marshal("fake:v1", sha256.Sum256([]byte("x")), []float64{1, 2, 3, 4}))
	w.Close()
	b = foreign.Bytes()
	os.MkdirAll(filepath.Dir(c.(*Cache).path(sha256.Sum256([]byte("x")))), 0o700)
	os.WriteFile(c.(*Cache).path(sha256.Sum256([]byte("x"))), b, 0o600)
	if _, err := c.Encode(context.Background(), []string{"x"}); err == nil || !strings.Contains(err.Error(), "decrypting") {
		t.Fatalf("foreign ciphertext: %v", err)
	}
}

func TestCorruptAndWrongEntries(t *testing.T) {
	dir := t.TempDir()
	inner := &countingEncoder{id: "fake:v1", dim: 3}
	c, err := New(inner, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte("t"))
	os.MkdirAll(filepath.Dir(c.path(h)), 0o700)
	cases := map[string][]byte{
		"bad magic":    []byte("hello"),
		"another text": marshal("fake:v1", sha256.Sum256([]byte("u")), []float64{1, 2, 3}),
		"another ID":   marshal("fake:v2", h, []float64{1, 2, 3}),
		"dimension":    marshal("fake:v1", h, []float64{1, 2}),
		"truncated":    marshal("fake:v1", h, []float64{1, 2, 3})[:40],
	}
	for name, b := range cases {
		os.WriteFile(c.path(h), b, 0o600)
		_, err := c.Encode(context.Background(), []string{"t"})
		if err == nil || !strings.Contains(err.Error(), c.path(h)) {
			t.Errorf("%s: error %v, want one naming the file", name, err)
		}
	}
	os.WriteFile(c.path(h), marshal("fake:v1", h, []float64{7, 8, 9}), 0o600)
	v, err := c.Encode(context.Background(), []string{"t"})
	if err != nil || v[0][2] != 9 {
		t.Fatalf("valid entry: %v %v", v, err)
	}
}

func TestInnerErrors(t *testing.T) {
	boom := errors.New("boom")
	c, _ := Wrap(&countingEncoder{id: "e", dim: 2, err: boom}, t.TempDir(), Options{})
	if _, err := c.Encode(context.Background(), []string{"a"}); !errors.Is(err, boom) {
		t.Fatalf("inner error: %v", err)
	}
	c, _ = Wrap(&countingEncoder{id: "e", dim: 2, bad: true}, t.TempDir(), Options{})
	if _, err := c.Encode(context.Background(), []string{"a"}); err == nil || !strings.Contains(err.Error(), "dimension 1, want 2") {
		t.Fatalf("bad dimension: %v", err)
	}
	if _, err := Wrap(nil, t.TempDir(), Options{}); err == nil {
		t.Fatal("nil encoder accepted")
	}
}

func TestConcurrent(t *testing.T) {
	inner := &countingEncoder{id: "fake:v1", dim: 8}
	c, _ := Wrap(inner, t.TempDir(), Options{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			texts := []string{"shared", "also shared", strings.Repeat("x", g)}
			v, err := c.Encode(context.Background(), texts)
			if err != nil {
				t.Error(err)
				return
			}
			if v[0][0] != 6.25 {
				t.Errorf("goroutine %d: %v", g, v[0])
			}
		}()
	}
	wg.Wait()
}

func FuzzUnmarshal(f *testing.F) {
	h := sha256.Sum256([]byte("t"))
	f.Add(marshal("id", h, []float64{1, 2}))
	f.Add([]byte(magic + "\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := unmarshal(b, "id", h, 2)
		if err == nil && len(v) != 2 {
			t.Fatalf("decoded %d values", len(v))
		}
	})
}
