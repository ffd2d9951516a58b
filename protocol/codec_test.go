package protocol

import (
	"encoding/binary"
	"math"
	"reflect"
	"testing"

	"github.com/fedb2b/fedb2b/api"
)

func TestParamsRoundTrip(t *testing.T) {
	p := []float64{1.5, -2, 0, math.SmallestNonzeroFloat64}
	b, err := EncodeParams(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeParams(b, len(p))
	if err != nil {
		t.Fatal(err)
	}
	for i := range p {
		if got[i] != p[i] {
			t.Fatalf("got %v want %v", got, p)
		}
	}
	if _, err := DecodeParams(b, 3); err == nil {
		t.Fatal("wrong length accepted")
	}
	bad := append([]byte(nil), b...)
	binary.LittleEndian.PutUint64(bad[len(bad)-8:], math.Float64bits(math.NaN()))
	if _, err := DecodeParams(bad, len(p)); err == nil {
		t.Fatal("NaN accepted")
	}
}

func FuzzDecodeParams(f *testing.F) {
	b, _ := EncodeParams([]float64{1, 2, 3})
	f.Add(b, 3)
	f.Add([]byte{1, 2}, 1)
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		if n < 0 || n > 1<<16 {
			return
		}
		p, err := DecodeParams(data, n)
		if err == nil && len(p) != n {
			t.Fatalf("decoded %d values, want %d", len(p), n)
		}
	})
}

func TestTrainParamsRoundTrip(t *testing.T) {
	want := TrainParams{SampleRate: 0.1, ClipNorm: 1.5, NoiseMultiplier: 1.2, LocalSteps: 50, LearningRate: 2, WeightEpsilon: 0.05}
	var p api.TrainPlan
	want.SetProto(&p)
	if got := TrainParamsFromProto(&p); got != want {
		t.Fatalf("round trip: got %+v want %+v", got, want)
	}
	task := TaskSpec{ID: "t", Kind: "classify", EncoderID: "e", InputDim: 8, Rank: 2, Alpha: 1, Labels: []string{"a", "b"}, Seed: 3, NumParams: 5, EvalLen: 7, Options: map[string]string{"k": "v"}}
	if got := TaskFromProto(TaskToProto(task)); !reflect.DeepEqual(got, task) {
		t.Fatalf("task round trip: got %+v want %+v", got, task)
	}
}
