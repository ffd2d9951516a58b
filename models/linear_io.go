package models

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
)

// LinearFormat is the __metadata__ "format" value of a saved LinearHead;
// the version changes with any incompatible change.
const LinearFormat = "fedb2b-linear-head/v1"

// Tensors of a saved LinearHead.
const (
	TensorLinearWeight = "weight" // W, InputDim×Classes, feature-major
	TensorLinearBias   = "bias"   // b, Classes
)

var linearMetaKeys = []string{"format", "input_dim", "classes"}

// MarshalLinear encodes h as a safetensors file with F64 tensors weight
// (InputDim×Classes) and bias (Classes), the shape in __metadata__ and the
// caller's extra entries (which may not use the reserved keys).
func (h *LinearHead) MarshalLinear(extra map[string]string) ([]byte, error) {
	meta := map[string]string{
		"format":    LinearFormat,
		"input_dim": strconv.Itoa(h.cfg.InputDim),
		"classes":   strconv.Itoa(h.cfg.Classes),
	}
	for k, v := range extra {
		if _, ok := meta[k]; ok {
			return nil, fmt.Errorf("models: metadata key %q is reserved", k)
		}
		meta[k] = v
	}
	ts := map[string]SafeTensor{
		TensorLinearWeight: {DType: DTypeF64, Shape: []int{h.cfg.InputDim, h.cfg.Classes}, Data: h.w},
		TensorLinearBias:   {DType: DTypeF64, Shape: []int{h.cfg.Classes}, Data: h.b},
	}
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, ts, meta); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// SaveLinear writes h to path atomically (WriteFileAtomic).
func (h *LinearHead) SaveLinear(path string, extra map[string]string) error {
	data, err := h.MarshalLinear(extra)
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, data, 0o600)
}

// UnmarshalLinear decodes a file written by MarshalLinear and returns the
// head and the caller's extra metadata. Both tensors must be present with
// the announced shape and finite values; other tensors are an error.
func UnmarshalLinear(data []byte) (*LinearHead, map[string]string, error) {
	ts, meta, err := ReadSafetensors(data)
	if err != nil {
		return nil, nil, err
	}
	if meta["format"] != LinearFormat {
		return nil, nil, fmt.Errorf("models: not a linear head file (format %q, want %q)", meta["format"], LinearFormat)
	}
	var cfg LinearConfig
	if cfg.InputDim, err = strconv.Atoi(meta["input_dim"]); err != nil {
		return nil, nil, fmt.Errorf("models: linear head metadata input_dim: %w", err)
	}
	if cfg.Classes, err = strconv.Atoi(meta["classes"]); err != nil {
		return nil, nil, fmt.Errorf("models: linear head metadata classes: %w", err)
	}
	h, err := NewLinearHead(cfg)
	if err != nil {
		return nil, nil, err
	}
	if len(ts) != 2 {
		return nil, nil, fmt.Errorf("models: linear head file has %d tensors, want %s and %s", len(ts), TensorLinearWeight, TensorLinearBias)
	}
	for name, want := range map[string][]float64{TensorLinearWeight: h.w, TensorLinearBias: h.b} {
		t, ok := ts[name]
		if !ok {
			return nil, nil, fmt.Errorf("models: linear head file lacks tensor %s", name)
		}
		if len(t.Data) != len(want) {
			return nil, nil, fmt.Errorf("models: tensor %s has shape %v, want %d values", name, t.Shape, len(want))
		}
		if i := firstNonFinite(t.Data); i >= 0 {
			return nil, nil, fmt.Errorf("models: tensor %s has a non-finite value at %d", name, i)
		}
		copy(want, t.Data)
	}
	if s := ts[TensorLinearWeight].Shape; len(s) != 2 || s[0] != cfg.InputDim || s[1] != cfg.Classes {
		return nil, nil, fmt.Errorf("models: tensor %s has shape %v, want [%d %d]", TensorLinearWeight, s, cfg.InputDim, cfg.Classes)
	}
	extra := make(map[string]string)
	for k, v := range meta {
		extra[k] = v
	}
	for _, k := range linearMetaKeys {
		delete(extra, k)
	}
	return h, extra, nil
}

// ReadModelFile reads a saved model (at most 1 GiB) and returns its bytes
// and its __metadata__ "format" (ClassifierFormat or LinearFormat), so a
// caller can pick UnmarshalClassifier or UnmarshalLinear.
func ReadModelFile(path string) ([]byte, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, "", fmt.Errorf("models: failed to open model: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxClassifierFile+1))
	if err != nil {
		return nil, "", fmt.Errorf("models: failed to read model %s: %w", path, err)
	}
	if len(data) > maxClassifierFile {
		return nil, "", fmt.Errorf("models: model file %s larger than %d bytes", path, maxClassifierFile)
	}
	_, meta, err := ReadSafetensors(data)
	if err != nil {
		return nil, "", fmt.Errorf("models: model file %s: %w", path, err)
	}
	return data, meta["format"], nil
}
