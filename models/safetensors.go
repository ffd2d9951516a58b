package models

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
)

// Safetensors limits: a header longer than this, or a file with more
// elements than maxElements in one tensor, is rejected before any large
// allocation.
const (
	maxSafetensorsHeader = 16 << 20
	safetensorsMetaKey   = "__metadata__"
)

// Safetensors dtypes this package reads and writes.
const (
	DTypeF64 = "F64"
	DTypeF32 = "F32"
)

// ErrSafetensors wraps every malformed-file error of ReadSafetensors.
var ErrSafetensors = errors.New("models: invalid safetensors file")

// SafeTensor is one tensor of a safetensors file, its values widened to
// float64. DType is the stored type (F64 or F32).
type SafeTensor struct {
	DType string
	Shape []int
	Data  []float64
}

type stHeaderEntry struct {
	DType       string   `json:"dtype"`
	Shape       []int64  `json:"shape"`
	DataOffsets []uint64 `json:"data_offsets"`
}

func dtypeSize(dt string) (int, bool) {
	switch dt {
	case DTypeF64:
		return 8, true
	case DTypeF32:
		return 4, true
	}
	return 0, false
}

// WriteSafetensors writes tensors and metadata in the safetensors format
// (https://github.com/huggingface/safetensors): an 8-byte little-endian
// header length, a JSON header (names sorted, padded with spaces to a
// multiple of 8 bytes) and the little-endian data, contiguous, in name
// order. Each tensor is written as its DType (F64, or F32 rounded to
// nearest); len(Data) must match Shape.
func WriteSafetensors(w io.Writer, tensors map[string]SafeTensor, meta map[string]string) error {
	names := make([]string, 0, len(tensors))
	for name := range tensors {
		if name == safetensorsMetaKey || name == "" {
			return fmt.Errorf("models: reserved tensor name %q", name)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	header := make(map[string]any, len(tensors)+1)
	if len(meta) > 0 {
		header[safetensorsMetaKey] = meta
	}
	var off uint64
	for _, name := range names {
		t := tensors[name]
		size, ok := dtypeSize(t.DType)
		if !ok {
			return fmt.Errorf("models: tensor %s: unsupported dtype %q", name, t.DType)
		}
		n, err := numElements(t.Shape)
		if err != nil || n != len(t.Data) {
			return fmt.Errorf("models: tensor %s: %d values do not fit shape %v", name, len(t.Data), t.Shape)
		}
		shape := make([]int64, len(t.Shape))
		for i, d := range t.Shape {
			shape[i] = int64(d)
		}
		end := off + uint64(n*size)
		header[name] = stHeaderEntry{DType: t.DType, Shape: shape, DataOffsets: []uint64{off, end}}
		off = end
	}
	hj, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("models: failed to encode safetensors header: %w", err)
	}
	for len(hj)%8 != 0 {
		hj = append(hj, ' ')
	}
	buf := make([]byte, 8, 8+len(hj)+int(off))
	binary.LittleEndian.PutUint64(buf, uint64(len(hj)))
	buf = append(buf, hj...)
	for _, name := range names {
		t := tensors[name]
		for _, v := range t.Data {
			if t.DType == DTypeF64 {
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
			} else {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(float32(v)))
			}
		}
	}
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("models: failed to write safetensors: %w", err)
	}
	return nil
}

func numElements(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 || d > maxElements {
			return 0, fmt.Errorf("dimension %d out of range", d)
		}
		n *= d
		if n > maxElements {
			return 0, fmt.Errorf("more than %d elements", maxElements)
		}
	}
	return n, nil
}

// ReadSafetensors parses a whole safetensors file. It checks the header
// length against the file, rejects duplicate names, unknown fields and
// dtypes (only F64 and F32 are read), shapes that do not match their byte
// ranges, and byte ranges that overlap, leave holes or leave the data
// buffer; every such error wraps ErrSafetensors. It never panics.
func ReadSafetensors(data []byte) (map[string]SafeTensor, map[string]string, error) {
	if len(data) < 8 {
		return nil, nil, fmt.Errorf("%w: %d bytes, shorter than the header length", ErrSafetensors, len(data))
	}
	hl := binary.LittleEndian.Uint64(data)
	if hl > maxSafetensorsHeader || hl > uint64(len(data)-8) {
		return nil, nil, fmt.Errorf("%w: header length %d exceeds the file (%d bytes) or the limit %d",
			ErrSafetensors, hl, len(data), maxSafetensorsHeader)
	}
	entries, meta, err := parseSafetensorsHeader(data[8 : 8+hl])
	if err != nil {
		return nil, nil, err
	}
	buf := data[8+hl:]
	type span struct {
		name       string
		begin, end uint64
	}
	spans := make([]span, 0, len(entries))
	out := make(map[string]SafeTensor, len(entries))
	for name, e := range entries {
		size, ok := dtypeSize(e.DType)
		if !ok {
			return nil, nil, fmt.Errorf("%w: tensor %s: unsupported dtype %q", ErrSafetensors, name, e.DType)
		}
		shape := make([]int, len(e.Shape))
		for i, d := range e.Shape {
			if d < 0 || d > maxElements {
				return nil, nil, fmt.Errorf("%w: tensor %s: dimension %d out of range", ErrSafetensors, name, d)
			}
			shape[i] = int(d)
		}
		n, err := numElements(shape)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: tensor %s: %v", ErrSafetensors, name, err)
		}
		if len(e.DataOffsets) != 2 {
			return nil, nil, fmt.Errorf("%w: tensor %s: data_offsets must have 2 entries", ErrSafetensors, name)
		}
		b, en := e.DataOffsets[0], e.DataOffsets[1]
		if b > en || en > uint64(len(buf)) || en-b != uint64(n)*uint64(size) {
			return nil, nil, fmt.Errorf("%w: tensor %s: byte range [%d, %d) does not hold %d %s values in a %d-byte buffer",
				ErrSafetensors, name, b, en, n, e.DType, len(buf))
		}
		spans = append(spans, span{name, b, en})
		vals := make([]float64, n)
		raw := buf[b:en]
		for i := range vals {
			if size == 8 {
				vals[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
			} else {
				vals[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
			}
		}
		out[name] = SafeTensor{DType: e.DType, Shape: shape, Data: vals}
	}
	slices.SortFunc(spans, func(a, b span) int {
		if a.begin != b.begin {
			if a.begin < b.begin {
				return -1
			}
			return 1
		}
		if a.end < b.end {
			return -1
		} else if a.end > b.end {
			return 1
		}
		return 0
	})
	var pos uint64
	for _, s := range spans {
		if s.begin != pos {
			return nil, nil, fmt.Errorf("%w: tensor %s starts at byte %d, expected %d (overlap or hole)", ErrSafetensors, s.name, s.begin, pos)
		}
		pos = s.end
	}
	if pos != uint64(len(buf)) {
		return nil, nil, fmt.Errorf("%w: %d trailing bytes after the last tensor", ErrSafetensors, uint64(len(buf))-pos)
	}
	return out, meta, nil
}

// parseSafetensorsHeader decodes the JSON header object, rejecting
// duplicate keys (which encoding/json would silently merge).
func parseSafetensorsHeader(h []byte) (map[string]stHeaderEntry, map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(h))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("%w: header is not a JSON object", ErrSafetensors)
	}
	entries := make(map[string]stHeaderEntry)
	var meta map[string]string
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("%w: header: %v", ErrSafetensors, err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, nil, fmt.Errorf("%w: header key is not a string", ErrSafetensors)
		}
		if seen[name] {
			return nil, nil, fmt.Errorf("%w: duplicate header key %q", ErrSafetensors, name)
		}
		seen[name] = true
		if name == safetensorsMetaKey {
			if err := dec.Decode(&meta); err != nil {
				return nil, nil, fmt.Errorf("%w: __metadata__ must map strings to strings: %v", ErrSafetensors, err)
			}
			continue
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, fmt.Errorf("%w: tensor %q: %v", ErrSafetensors, name, err)
		}
		ed := json.NewDecoder(bytes.NewReader(raw))
		ed.DisallowUnknownFields()
		var e stHeaderEntry
		if err := ed.Decode(&e); err != nil {
			return nil, nil, fmt.Errorf("%w: tensor %q: %v", ErrSafetensors, name, err)
		}
		entries[name] = e
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("%w: header: %v", ErrSafetensors, err)
	}
	// Only spaces may follow the object (the writer's padding).
	if len(bytes.Trim(h[dec.InputOffset():], " \t\r\n")) != 0 {
		return nil, nil, fmt.Errorf("%w: data after the header object", ErrSafetensors)
	}
	return entries, meta, nil
}
