package protocol

import (
	"bytes"
	"fmt"
	"math"
	"strconv"

	"github.com/fedb2b/fedb2b/models"
)

// MaxMessage bounds every gRPC message a coordinator accepts: a larger
// submission goes as a chunked Upload stream of messages below it. It is
// kept small because gRPC reads a unary message whole before any check
// runs, so each open stream can hold one.
const MaxMessage = 1<<20 + 64<<10

// ParamsTensor is the name of the one tensor in a model download.
const ParamsTensor = "params"

// EncodeParams writes the flattened adapter parameters as a safetensors
// file holding one F64 tensor named ParamsTensor.
func EncodeParams(params []float64) ([]byte, error) {
	var buf bytes.Buffer
	err := models.WriteSafetensors(&buf, map[string]models.SafeTensor{
		ParamsTensor: {DType: models.DTypeF64, Shape: []int{len(params)}, Data: params},
	}, map[string]string{"format": "fedb2b-global-params/v1", "count": strconv.Itoa(len(params))})
	return buf.Bytes(), err
}

// DecodeParams parses a model download made by EncodeParams and checks that
// it holds exactly want finite parameters. Hostile input gets an error.
func DecodeParams(b []byte, want int) ([]float64, error) {
	ts, _, err := models.ReadSafetensors(b)
	if err != nil {
		return nil, err
	}
	t, ok := ts[ParamsTensor]
	if !ok || len(ts) != 1 {
		return nil, fmt.Errorf("model file must hold exactly one tensor %q, has %d", ParamsTensor, len(ts))
	}
	if t.DType != models.DTypeF64 || len(t.Shape) != 1 || t.Shape[0] != want || len(t.Data) != want {
		return nil, fmt.Errorf("model tensor %q is %s%v, want F64[%d]", ParamsTensor, t.DType, t.Shape, want)
	}
	for i, v := range t.Data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("model parameter %d is %v", i, v)
		}
	}
	return t.Data, nil
}
