package bert

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
)

// maxHeaderBytes bounds the JSON header of a safetensors file (the format's
// reference implementation uses the same 100 MB limit).
const maxHeaderBytes = 100 << 20

// Tensor is one float32 tensor read from a safetensors file, row-major.
type Tensor struct {
	Shape []int
	Data  []float32
}

type tensorInfo struct {
	DType       string  `json:"dtype"`
	Shape       []int64 `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// ReadSafetensors reads every tensor of the safetensors file at path,
// converting F32, F16 and BF16 data to float32. The header is checked
// strictly (size bounds, offsets inside the data, sizes matching shapes,
// no overlaps) so that a hostile file yields an error, never a panic or a
// huge allocation.
func ReadSafetensors(path string) (map[string]*Tensor, error) {
	buf, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bert: reading weights: %w", err)
	}
	ts, err := ParseSafetensors(buf)
	if err != nil {
		return nil, fmt.Errorf("bert: %s: %w", path, err)
	}
	return ts, nil
}

// ParseSafetensors decodes a safetensors file held in memory (see
// ReadSafetensors).
func ParseSafetensors(buf []byte) (map[string]*Tensor, error) {
	if len(buf) < 8 {
		return nil, fmt.Errorf("safetensors: file of %d bytes is shorter than the 8-byte header length", len(buf))
	}
	n := binary.LittleEndian.Uint64(buf[:8])
	if n > maxHeaderBytes || n > uint64(len(buf)-8) {
		return nil, fmt.Errorf("safetensors: header length %d exceeds the file (%d bytes) or the %d-byte limit", n, len(buf), maxHeaderBytes)
	}
	header := buf[8 : 8+n]
	data := buf[8+n:]
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(header, &raw); err != nil {
		return nil, fmt.Errorf("safetensors: malformed JSON header: %w", err)
	}
	type span struct {
		name       string
		begin, end int64
	}
	spans := make([]span, 0, len(raw))
	out := make(map[string]*Tensor, len(raw))
	for name, msg := range raw {
		if name == "__metadata__" {
			continue
		}
		var info tensorInfo
		if err := json.Unmarshal(msg, &info); err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: malformed entry: %w", name, err)
		}
		t, b, e, err := decodeTensor(name, info, data)
		if err != nil {
			return nil, err
		}
		out[name] = t
		spans = append(spans, span{name, b, e})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].begin < spans[j].begin })
	for i := 1; i < len(spans); i++ {
		if spans[i].begin < spans[i-1].end {
			return nil, fmt.Errorf("safetensors: tensors %q and %q overlap", spans[i-1].name, spans[i].name)
		}
	}
	return out, nil
}

func dtypeSize(dt string) (int64, bool) {
	switch dt {
	case "F32":
		return 4, true
	case "F16", "BF16":
		return 2, true
	}
	return 0, false
}

func decodeTensor(name string, info tensorInfo, data []byte) (*Tensor, int64, int64, error) {
	size, ok := dtypeSize(info.DType)
	if !ok {
		return nil, 0, 0, fmt.Errorf("safetensors: tensor %q: unsupported dtype %q (want F32, F16 or BF16)", name, info.DType)
	}
	if len(info.DataOffsets) != 2 {
		return nil, 0, 0, fmt.Errorf("safetensors: tensor %q: data_offsets has %d values, want 2", name, len(info.DataOffsets))
	}
	if len(info.Shape) > 8 {
		return nil, 0, 0, fmt.Errorf("safetensors: tensor %q: rank %d too large", name, len(info.Shape))
	}
	elems := int64(1)
	shape := make([]int, len(info.Shape))
	for i, d := range info.Shape {
		if d < 0 || d > math.MaxInt32 {
			return nil, 0, 0, fmt.Errorf("safetensors: tensor %q: bad dimension %d", name, d)
		}
		if d != 0 && elems > (int64(len(data))+1)/d {
			return nil, 0, 0, fmt.Errorf("safetensors: tensor %q: shape %v larger than the file", name, info.Shape)
		}
		elems *= d
		shape[i] = int(d)
	}
	b, e := info.DataOffsets[0], info.DataOffsets[1]
	if b < 0 || e < b || e > int64(len(data)) {
		return nil, 0, 0, fmt.Errorf("safetensors: tensor %q: data_offsets [%d, %d] outside the %d data bytes", name, b, e, len(data))
	}
	if e-b != elems*size {
		return nil, 0, 0, fmt.Errorf("safetensors: tensor %q: %d bytes for shape %v of %s, want %d", name, e-b, info.Shape, info.DType, elems*size)
	}
	raw := data[b:e]
	vals := make([]float32, elems)
	switch info.DType {
	case "F32":
		for i := range vals {
			vals[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case "F16":
		for i := range vals {
			vals[i] = f16ToF32(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	case "BF16":
		for i := range vals {
			vals[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(raw[2*i:])) << 16)
		}
	}
	return &Tensor{Shape: shape, Data: vals}, b, e, nil
}

// f16ToF32 converts an IEEE 754 binary16 value to float32 exactly.
func f16ToF32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: value = mant · 2^-24
		f := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// WriteSafetensors encodes tensors as a float32 safetensors file (names
// sorted, data contiguous), with metadata (may be nil) as __metadata__.
func WriteSafetensors(tensors map[string]*Tensor, metadata map[string]string) ([]byte, error) {
	names := make([]string, 0, len(tensors))
	for n := range tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	header := make(map[string]any, len(names)+1)
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var off int64
	for _, n := range names {
		t := tensors[n]
		elems := 1
		shape := make([]int64, len(t.Shape))
		for i, d := range t.Shape {
			elems *= d
			shape[i] = int64(d)
		}
		if elems != len(t.Data) {
			return nil, fmt.Errorf("safetensors: tensor %q: shape %v holds %d values, data has %d", n, t.Shape, elems, len(t.Data))
		}
		header[n] = tensorInfo{DType: "F32", Shape: shape, DataOffsets: []int64{off, off + int64(4*elems)}}
		off += int64(4 * elems)
	}
	hj, err := json.Marshal(header)
	if err != nil {
		return nil, fmt.Errorf("safetensors: encoding header: %w", err)
	}
	for len(hj)%8 != 0 {
		hj = append(hj, ' ')
	}
	out := make([]byte, 8, 8+len(hj)+int(off))
	binary.LittleEndian.PutUint64(out, uint64(len(hj)))
	out = append(out, hj...)
	for _, n := range names {
		for _, v := range tensors[n].Data {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
		}
	}
	return out, nil
}
