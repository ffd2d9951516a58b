package models

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// ClassifierFormat is the __metadata__ "format" value of a saved
// classifier; the version changes with any incompatible change.
const ClassifierFormat = "fedb2b-lora-classifier/v1"

// Metadata keys written by MarshalClassifier; callers' extra metadata may
// not use them.
var classifierMetaKeys = []string{"format", "input_dim", "rank", "classes", "alpha", "seed", "train_a"}

// maxClassifierFile bounds the size of a classifier file that LoadClassifier
// reads.
const maxClassifierFile = 1 << 30

// MarshalClassifier encodes c as a safetensors file with F64 tensors
// lora_A, lora_B and head_bias, plus W0 and b0 when they are non-zero
// (absent means zero), and the configuration in __metadata__ together with
// the caller's extra entries (for example the encoder ID and task name).
func (c *Classifier) MarshalClassifier(extra map[string]string) ([]byte, error) {
	meta := map[string]string{
		"format":    ClassifierFormat,
		"input_dim": strconv.Itoa(c.cfg.InputDim),
		"rank":      strconv.Itoa(c.cfg.Rank),
		"classes":   strconv.Itoa(c.cfg.Classes),
		"alpha":     strconv.FormatFloat(c.cfg.Alpha, 'g', -1, 64),
		"seed":      strconv.FormatUint(c.cfg.Seed, 10),
		"train_a":   strconv.FormatBool(c.cfg.TrainA),
	}
	for k, v := range extra {
		if _, ok := meta[k]; ok {
			return nil, fmt.Errorf("models: metadata key %q is reserved", k)
		}
		meta[k] = v
	}
	r, din, dout := c.cfg.Rank, c.cfg.InputDim, c.cfg.Classes
	ts := map[string]SafeTensor{
		TensorLoRAA:    {DType: DTypeF64, Shape: []int{r, din}, Data: c.a},
		TensorLoRAB:    {DType: DTypeF64, Shape: []int{dout, r}, Data: c.b},
		TensorHeadBias: {DType: DTypeF64, Shape: []int{dout}, Data: c.hb},
	}
	if c.w0 != nil {
		ts[TensorW0] = SafeTensor{DType: DTypeF64, Shape: []int{dout, din}, Data: c.w0}
	}
	if !IsZero(c.b0) {
		ts[TensorB0] = SafeTensor{DType: DTypeF64, Shape: []int{dout}, Data: c.b0}
	}
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, ts, meta); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// UnmarshalClassifier decodes a file written by MarshalClassifier and
// returns the classifier and the caller's extra metadata. Tensors stored as
// F32 are accepted (widened). Every tensor is checked for shape and finite
// values; unknown tensors are an error.
func UnmarshalClassifier(data []byte) (*Classifier, map[string]string, error) {
	ts, meta, err := ReadSafetensors(data)
	if err != nil {
		return nil, nil, err
	}
	if meta["format"] != ClassifierFormat {
		return nil, nil, fmt.Errorf("models: not a classifier file (format %q, want %q)", meta["format"], ClassifierFormat)
	}
	var cfg ClassifierConfig
	ints := []struct {
		key string
		dst *int
	}{{"input_dim", &cfg.InputDim}, {"rank", &cfg.Rank}, {"classes", &cfg.Classes}}
	for _, f := range ints {
		if *f.dst, err = strconv.Atoi(meta[f.key]); err != nil {
			return nil, nil, fmt.Errorf("models: classifier metadata %s: %w", f.key, err)
		}
	}
	if cfg.Alpha, err = strconv.ParseFloat(meta["alpha"], 64); err != nil {
		return nil, nil, fmt.Errorf("models: classifier metadata alpha: %w", err)
	}
	if cfg.Seed, err = strconv.ParseUint(meta["seed"], 10, 64); err != nil {
		return nil, nil, fmt.Errorf("models: classifier metadata seed: %w", err)
	}
	if cfg.TrainA, err = strconv.ParseBool(meta["train_a"]); err != nil {
		return nil, nil, fmt.Errorf("models: classifier metadata train_a: %w", err)
	}
	c, err := NewClassifier(cfg)
	if err != nil {
		return nil, nil, err
	}
	for _, name := range []string{TensorLoRAA, TensorLoRAB, TensorHeadBias} {
		if _, ok := ts[name]; !ok {
			return nil, nil, fmt.Errorf("models: classifier file lacks tensor %s", name)
		}
	}
	for name, t := range ts {
		_, shape, err := c.tensorRef(name)
		if err != nil {
			return nil, nil, fmt.Errorf("models: classifier file: %w", err)
		}
		if !slices.Equal(shape, t.Shape) {
			return nil, nil, fmt.Errorf("models: tensor %s has shape %v, want %v", name, t.Shape, shape)
		}
		if err := c.SetTensor(name, t.Data); err != nil {
			return nil, nil, err
		}
	}
	extra := make(map[string]string)
	for k, v := range meta {
		extra[k] = v
	}
	for _, k := range classifierMetaKeys {
		delete(extra, k)
	}
	return c, extra, nil
}

// Save writes c to path atomically: to a temporary file in the same
// directory, synced, then renamed over path (and the directory synced), so
// a crash leaves either the old or the new file, never a torn one.
func (c *Classifier) Save(path string, extra map[string]string) error {
	data, err := c.MarshalClassifier(extra)
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, data, 0o600)
}

// LoadClassifier reads a classifier saved with Save.
func LoadClassifier(path string) (*Classifier, map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("models: failed to open classifier: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxClassifierFile+1))
	if err != nil {
		return nil, nil, fmt.Errorf("models: failed to read classifier %s: %w", path, err)
	}
	if len(data) > maxClassifierFile {
		return nil, nil, fmt.Errorf("models: classifier file %s larger than %d bytes", path, maxClassifierFile)
	}
	c, extra, err := UnmarshalClassifier(data)
	if err != nil {
		return nil, nil, fmt.Errorf("models: classifier file %s: %w", path, err)
	}
	return c, extra, nil
}

// WriteFileAtomic writes data to path via a synced temporary file in the
// same directory and a rename.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("models: failed to create temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("models: failed to write %s: %w", tmp.Name(), err)
	}
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("models: failed to set mode of %s: %w", tmp.Name(), err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("models: failed to sync %s: %w", tmp.Name(), err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("models: failed to close %s: %w", tmp.Name(), err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("models: failed to rename into %s: %w", path, err)
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync() // best effort: some file systems do not sync directories
		d.Close()
	}
	return nil
}
