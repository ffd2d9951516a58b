package coordinator

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// ParamsTensor is the name of the one tensor in a model download.
const ParamsTensor = "params"

// EncodeParams writes the flattened adapter parameters as a safetensors
// file holding one F64 tensor named ParamsTensor.
func EncodeParams(params []float64) ([]byte, error) {
	n := len(params)
	hdr, err := json.Marshal(map[string]any{
		ParamsTensor: map[string]any{"dtype": "F64", "shape": []int{n}, "data_offsets": []int{0, 8 * n}},
	})
	if err != nil {
		return nil, err
	}
	for len(hdr)%8 != 0 {
		hdr = append(hdr, ' ')
	}
	out := make([]byte, 8+len(hdr)+8*n)
	binary.LittleEndian.PutUint64(out, uint64(len(hdr)))
	copy(out[8:], hdr)
	body := out[8+len(hdr):]
	for i, v := range params {
		binary.LittleEndian.PutUint64(body[8*i:], math.Float64bits(v))
	}
	return out, nil
}

// DecodeParams parses a model download made by EncodeParams and checks that
// it holds exactly want finite parameters. Hostile input gets an error.
func DecodeParams(b []byte, want int) ([]float64, error) {
	if len(b) < 8 {
		return nil, errors.New("model file is shorter than its 8-byte header length")
	}
	hl := binary.LittleEndian.Uint64(b)
	if hl > uint64(len(b)-8) || hl > 1<<20 {
		return nil, fmt.Errorf("model file header length %d exceeds the file (%d bytes)", hl, len(b))
	}
	var hdr map[string]struct {
		Dtype   string  `json:"dtype"`
		Shape   []int64 `json:"shape"`
		Offsets []int64 `json:"data_offsets"`
	}
	if err := json.Unmarshal(b[8:8+hl], &hdr); err != nil {
		return nil, fmt.Errorf("model file header: %w", err)
	}
	t, ok := hdr[ParamsTensor]
	if !ok || len(hdr) != 1 {
		return nil, fmt.Errorf("model file must hold exactly one tensor %q, has %d", ParamsTensor, len(hdr))
	}
	body := b[8+hl:]
	if t.Dtype != "F64" || len(t.Shape) != 1 || t.Shape[0] != int64(want) || len(t.Offsets) != 2 ||
		t.Offsets[0] != 0 || t.Offsets[1] != int64(8*want) || len(body) != 8*want {
		return nil, fmt.Errorf("model tensor %q is %s%v at %v with %d data bytes, want F64[%d]", ParamsTensor, t.Dtype, t.Shape, t.Offsets, len(body), want)
	}
	out := make([]float64, want)
	for i := range out {
		v := math.Float64frombits(binary.LittleEndian.Uint64(body[8*i:]))
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("model parameter %d is %v", i, v)
		}
		out[i] = v
	}
	return out, nil
}
