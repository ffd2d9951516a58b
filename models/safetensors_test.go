package models

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func encodeST(t testing.TB, ts map[string]SafeTensor, meta map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, ts, meta); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rawST builds a file from a literal header and data, for malformed cases.
func rawST(header string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

// TestSafetensorsReadsHuggingFaceFile reads the tiny BERT checkpoint written
// by the Hugging Face safetensors library (values checked with Python's
// struct module).
func TestSafetensorsReadsHuggingFaceFile(t *testing.T) {
	data, err := os.ReadFile("testdata/tiny-bert.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	ts, meta, err := ReadSafetensors(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 39 || meta["format"] != "pt" {
		t.Fatalf("%d tensors, metadata %v", len(ts), meta)
	}
	e := ts["embeddings.word_embeddings.weight"]
	if e.DType != DTypeF32 || !slices.Equal(e.Shape, []int{116, 32}) {
		t.Fatalf("word embeddings %s %v", e.DType, e.Shape)
	}
	want := []float64{-0.08829206228256226, -0.04202910512685776, 0.042503487318754196}
	checkVec(t, "pooler.dense.bias", ts["pooler.dense.bias"].Data[:3], want, 0)
	// Round trip through our writer keeps every value.
	back, meta2, err := ReadSafetensors(encodeST(t, ts, meta))
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range ts {
		checkVec(t, name, back[name].Data, v.Data, 0)
	}
	if meta2["format"] != "pt" {
		t.Fatal("metadata lost")
	}
}

func TestSafetensorsRoundTrip(t *testing.T) {
	ts := map[string]SafeTensor{
		"a":      {DType: DTypeF64, Shape: []int{2, 3}, Data: []float64{1, -2, math.Pi, 1e-300, -0, 5}},
		"b":      {DType: DTypeF32, Shape: []int{2}, Data: []float64{0.1, 3}},
		"empty":  {DType: DTypeF64, Shape: []int{0, 4}, Data: nil},
		"scalar": {DType: DTypeF64, Shape: []int{}, Data: []float64{7}},
	}
	data := encodeST(t, ts, map[string]string{"k": "v"})
	hl := binary.LittleEndian.Uint64(data)
	if hl%8 != 0 {
		t.Fatalf("header length %d not padded to 8", hl)
	}
	got, meta, err := ReadSafetensors(data)
	if err != nil {
		t.Fatal(err)
	}
	checkVec(t, "a", got["a"].Data, ts["a"].Data, 0)
	checkVec(t, "b", got["b"].Data, []float64{float64(float32(0.1)), 3}, 0)
	if len(got["empty"].Data) != 0 || !slices.Equal(got["empty"].Shape, []int{0, 4}) || got["scalar"].Data[0] != 7 || meta["k"] != "v" {
		t.Fatalf("round trip: %+v %v", got, meta)
	}
	// Deterministic output.
	if !bytes.Equal(data, encodeST(t, ts, map[string]string{"k": "v"})) {
		t.Fatal("writer is not deterministic")
	}
	for _, bad := range []map[string]SafeTensor{
		{"x": {DType: "BF16", Shape: []int{1}, Data: []float64{1}}},
		{"x": {DType: DTypeF64, Shape: []int{2}, Data: []float64{1}}},
		{"__metadata__": {DType: DTypeF64, Shape: []int{1}, Data: []float64{1}}},
	} {
		var buf bytes.Buffer
		if err := WriteSafetensors(&buf, bad, nil); err == nil {
			t.Errorf("writer accepted %v", bad)
		}
	}
}

func malformedSafetensors() map[string][]byte {
	f8 := make([]byte, 8)
	huge := binary.LittleEndian.AppendUint64(nil, math.MaxUint64)
	return map[string][]byte{
		"short":            {1, 2, 3},
		"huge length":      append(huge, '{', '}'),
		"length past file": append(binary.LittleEndian.AppendUint64(nil, 100), []byte("{}")...),
		"not object":       rawST(`[]`, nil),
		"bad json":         rawST(`{"a":`, nil),
		"trailing junk":    rawST(`{} x`, nil),
		"duplicate":        rawST(`{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}`, f8),
		"unknown dtype":    rawST(`{"a":{"dtype":"I8","shape":[8],"data_offsets":[0,8]}}`, f8),
		"unknown field":    rawST(`{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8],"x":1}}`, f8),
		"size mismatch":    rawST(`{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}`, f8),
		"out of range":     rawST(`{"a":{"dtype":"F64","shape":[1],"data_offsets":[8,16]}}`, f8),
		"reversed":         rawST(`{"a":{"dtype":"F64","shape":[0],"data_offsets":[8,0]}}`, f8),
		"overlap":          rawST(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f8),
		"hole":             rawST(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f8),
		"trailing data":    rawST(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f8),
		"negative dim":     rawST(`{"a":{"dtype":"F64","shape":[-1],"data_offsets":[0,8]}}`, f8),
		"overflow shape":   rawST(`{"a":{"dtype":"F64","shape":[4294967296,4294967296,16],"data_offsets":[0,0]}}`, nil),
		"one offset":       rawST(`{"a":{"dtype":"F64","shape":[1],"data_offsets":[0]}}`, f8),
		"null entry":       rawST(`{"a":null}`, nil),
		"bad metadata":     rawST(`{"__metadata__":{"a":1}}`, nil),
	}
}

func TestSafetensorsMalformed(t *testing.T) {
	for name, data := range malformedSafetensors() {
		if _, _, err := ReadSafetensors(data); !errors.Is(err, ErrSafetensors) {
			t.Errorf("%s: error %v, want ErrSafetensors", name, err)
		}
	}
}

// FuzzSafetensorsHeader checks that the reader never panics and that
// whatever it accepts survives a write/read round trip unchanged.
func FuzzSafetensorsHeader(f *testing.F) {
	f.Add(encodeST(f, map[string]SafeTensor{
		"a": {DType: DTypeF64, Shape: []int{2}, Data: []float64{1, 2}},
		"b": {DType: DTypeF32, Shape: []int{1, 1}, Data: []float64{3}},
	}, map[string]string{"m": "x"}))
	for _, d := range malformedSafetensors() {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, meta, err := ReadSafetensors(data)
		if err != nil {
			if !errors.Is(err, ErrSafetensors) {
				t.Fatalf("error not wrapping ErrSafetensors: %v", err)
			}
			return
		}
		back, meta2, err := ReadSafetensors(encodeST(t, ts, meta))
		if err != nil {
			t.Fatalf("re-read of accepted file failed: %v", err)
		}
		if len(back) != len(ts) || len(meta2) != len(meta) {
			t.Fatal("round trip changed the tensor set or metadata")
		}
		for name, v := range ts {
			w := back[name]
			if w.DType != v.DType || !slices.Equal(w.Shape, v.Shape) || len(w.Data) != len(v.Data) {
				t.Fatalf("tensor %s changed", name)
			}
			for i := range v.Data {
				if math.Float64bits(w.Data[i]) != math.Float64bits(v.Data[i]) && !(math.IsNaN(w.Data[i]) && math.IsNaN(v.Data[i])) {
					t.Fatalf("tensor %s value %d changed", name, i)
				}
			}
		}
	})
}

func TestClassifierSaveLoad(t *testing.T) {
	c, err := NewClassifier(ClassifierConfig{InputDim: 10, Rank: 3, Classes: 4, Alpha: 6, Seed: 42})
	if err != nil {
		t.Fatal(err)
	}
	p := c.Params()
	for i := range p {
		p[i] = float64(i) * 0.25
	}
	if err := c.SetParams(p); err != nil {
		t.Fatal(err)
	}
	if err := c.SetTensor(TensorB0, []float64{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "clf.safetensors")
	if err := c.Save(path, map[string]string{"encoder": "hashing-v1:dim=10"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(path, nil); err != nil { // overwrite works
		t.Fatal(err)
	}
	if err := c.Save(path, map[string]string{"encoder": "e", "rank": "9"}); err == nil {
		t.Fatal("reserved metadata key accepted")
	}
	d, extra, err := LoadClassifier(path)
	if err != nil {
		t.Fatal(err)
	}
	if d.Config() != c.Config() || len(extra) != 0 || d.HasBase() {
		t.Fatalf("config %+v extra %v", d.Config(), extra)
	}
	for _, name := range []string{TensorLoRAA, TensorLoRAB, TensorHeadBias, TensorW0, TensorB0} {
		a, _, _ := c.Tensor(name)
		b, _, _ := d.Tensor(name)
		checkVec(t, name, b, a, 0)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
	// Files that are valid safetensors but not valid classifiers.
	good, _ := c.MarshalClassifier(nil)
	ts, meta, _ := ReadSafetensors(good)
	mutate := func(f func(map[string]SafeTensor, map[string]string)) []byte {
		ts2 := map[string]SafeTensor{}
		for k, v := range ts {
			ts2[k] = v
		}
		m2 := map[string]string{}
		for k, v := range meta {
			m2[k] = v
		}
		f(ts2, m2)
		return encodeST(t, ts2, m2)
	}
	bad := map[string][]byte{
		"format":  mutate(func(_ map[string]SafeTensor, m map[string]string) { m["format"] = "other" }),
		"rank":    mutate(func(_ map[string]SafeTensor, m map[string]string) { m["rank"] = "x" }),
		"classes": mutate(func(_ map[string]SafeTensor, m map[string]string) { m["classes"] = "1" }),
		"missing": mutate(func(ts map[string]SafeTensor, _ map[string]string) { delete(ts, TensorLoRAB) }),
		"unknown": mutate(func(ts map[string]SafeTensor, _ map[string]string) {
			ts["extra"] = SafeTensor{DType: DTypeF64, Shape: []int{1}, Data: []float64{0}}
		}),
		"shape": mutate(func(ts map[string]SafeTensor, _ map[string]string) {
			ts[TensorHeadBias] = SafeTensor{DType: DTypeF64, Shape: []int{2, 2}, Data: make([]float64, 4)}
		}),
		"nan": mutate(func(ts map[string]SafeTensor, _ map[string]string) {
			ts[TensorHeadBias] = SafeTensor{DType: DTypeF64, Shape: []int{4}, Data: []float64{0, math.NaN(), 0, 0}}
		}),
	}
	for name, data := range bad {
		if _, _, err := UnmarshalClassifier(data); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, _, err := LoadClassifier(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("missing file accepted")
	}
}
