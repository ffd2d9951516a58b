package models

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func TestLinearHeadRoundTripAndRejectsBadFiles(t *testing.T) {
	h, err := NewLinearHead(LinearConfig{InputDim: 4, Classes: 3})
	if err != nil {
		t.Fatal(err)
	}
	p := h.Params()
	for i := range p {
		p[i] = float64(i) - 5.5
	}
	if err := h.SetParams(p); err != nil {
		t.Fatal(err)
	}
	data, err := h.MarshalLinear(map[string]string{"labels": `["a","b","c"]`})
	if err != nil {
		t.Fatal(err)
	}
	g, meta, err := UnmarshalLinear(data)
	if err != nil {
		t.Fatal(err)
	}
	if g.Config() != h.Config() || meta["labels"] != `["a","b","c"]` || meta["format"] != "" {
		t.Fatalf("config %+v, metadata %v", g.Config(), meta)
	}
	for i, v := range g.Params() {
		if v != p[i] {
			t.Fatalf("parameter %d: %v, want %v", i, v, p[i])
		}
	}
	if _, err := h.MarshalLinear(map[string]string{"classes": "7"}); err == nil {
		t.Error("a reserved metadata key was accepted")
	}
	// A LoRA classifier file is not a linear head, and vice versa.
	c, _ := NewClassifier(ClassifierConfig{InputDim: 4, Rank: 2, Classes: 3, Seed: 1})
	cd, _ := c.MarshalClassifier(nil)
	if _, _, err := UnmarshalLinear(cd); err == nil || !strings.Contains(err.Error(), "not a linear head file") {
		t.Errorf("classifier file read as a linear head: %v", err)
	}
	if _, _, err := UnmarshalClassifier(data); err == nil {
		t.Error("linear head file read as a classifier")
	}
	// Hand-made files: a non-finite weight, a wrong shape, a missing or
	// extra tensor, a shape that disagrees with the metadata.
	bad := func(ts map[string]SafeTensor, meta map[string]string) []byte {
		var buf bytes.Buffer
		if err := WriteSafetensors(&buf, ts, meta); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	good := map[string]string{"format": LinearFormat, "input_dim": "4", "classes": "3"}
	w := append([]float64(nil), p[:12]...)
	nan := append([]float64(nil), w...)
	nan[5] = math.NaN()
	bias := []float64{1, 2, 3}
	for name, f := range map[string][]byte{
		"nan":       bad(map[string]SafeTensor{TensorLinearWeight: {DType: DTypeF64, Shape: []int{4, 3}, Data: nan}, TensorLinearBias: {DType: DTypeF64, Shape: []int{3}, Data: bias}}, good),
		"transpose": bad(map[string]SafeTensor{TensorLinearWeight: {DType: DTypeF64, Shape: []int{3, 4}, Data: w}, TensorLinearBias: {DType: DTypeF64, Shape: []int{3}, Data: bias}}, good),
		"no bias":   bad(map[string]SafeTensor{TensorLinearWeight: {DType: DTypeF64, Shape: []int{4, 3}, Data: w}}, good),
		"extra":     bad(map[string]SafeTensor{TensorLinearWeight: {DType: DTypeF64, Shape: []int{4, 3}, Data: w}, TensorLinearBias: {DType: DTypeF64, Shape: []int{3}, Data: bias}, "x": {DType: DTypeF64, Shape: []int{1}, Data: []float64{0}}}, good),
		"meta":      bad(map[string]SafeTensor{TensorLinearWeight: {DType: DTypeF64, Shape: []int{4, 3}, Data: w}, TensorLinearBias: {DType: DTypeF64, Shape: []int{3}, Data: bias}}, map[string]string{"format": LinearFormat, "input_dim": "3", "classes": "4"}),
	} {
		if _, _, err := UnmarshalLinear(f); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
