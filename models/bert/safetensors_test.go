package bert

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"testing"
)

func rawFile(header string, data []byte) []byte {
	out := make([]byte, 8)
	binary.LittleEndian.PutUint64(out, uint64(len(header)))
	return append(append(out, header...), data...)
}

func TestSafetensorsRoundTrip(t *testing.T) {
	in := map[string]*Tensor{
		"a":   {Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, -6}},
		"b.c": {Shape: []int{1}, Data: []float32{float32(math.Pi)}},
	}
	buf, err := WriteSafetensors(in, map[string]string{"format": "pt"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := ParseSafetensors(buf)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range in {
		got := out[name]
		if got == nil || !slices.Equal(got.Shape, want.Shape) {
			t.Fatalf("%s: got %+v", name, got)
		}
		for i := range want.Data {
			if got.Data[i] != want.Data[i] {
				t.Fatalf("%s[%d] = %g, want %g", name, i, got.Data[i], want.Data[i])
			}
		}
	}
}

func TestF16AndBF16(t *testing.T) {
	cases := []struct {
		bits uint16
		want float32
	}{
		{0x3C00, 1}, {0xC000, -2}, {0x7BFF, 65504}, {0x0001, float32(math.Ldexp(1, -24))},
		{0x03FF, float32(1023 * math.Ldexp(1, -24))}, {0x3555, 0.33325195}, {0x8000, float32(math.Copysign(0, -1))},
	}
	for _, c := range cases {
		if got := f16ToF32(c.bits); got != c.want || math.Signbit(float64(got)) != math.Signbit(float64(c.want)) {
			t.Errorf("f16ToF32(%#04x) = %g, want %g", c.bits, got, c.want)
		}
	}
	if !math.IsInf(float64(f16ToF32(0x7C00)), 1) || !math.IsNaN(float64(f16ToF32(0x7E00))) {
		t.Error("f16 inf/NaN not preserved")
	}
	data := []byte{0x00, 0x3C, 0x00, 0xC0, 0x80, 0x3F} // F16 1, -2; BF16 1
	ts, err := ParseSafetensors(rawFile(`{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]},"__metadata__":{"format":"pt"}}`, data))
	if err != nil {
		t.Fatal(err)
	}
	if ts["h"].Data[0] != 1 || ts["h"].Data[1] != -2 || ts["b"].Data[0] != 1 {
		t.Fatalf("decoded %v %v", ts["h"].Data, ts["b"].Data)
	}
}

func TestSafetensorsHostile(t *testing.T) {
	eight := make([]byte, 8)
	huge := make([]byte, 8)
	binary.LittleEndian.PutUint64(huge, math.MaxUint64)
	cases := []struct {
		name string
		buf  []byte
		want string
	}{
		{"short", []byte{1, 2}, "shorter"},
		{"header too long", append(huge, '{', '}'), "header length"},
		{"bad json", rawFile(`{"a":`, nil), "malformed JSON"},
		{"bad entry", rawFile(`{"a":3}`, nil), "malformed entry"},
		{"dtype", rawFile(`{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}`, eight), "unsupported dtype"},
		{"offsets count", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}`, eight), "data_offsets"},
		{"out of range", rawFile(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, eight), "outside"},
		{"reversed", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}`, eight), "outside"},
		{"negative", rawFile(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, eight), "bad dimension"},
		{"size mismatch", rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}}`, eight), "want 4"},
		{"huge shape", rawFile(`{"a":{"dtype":"F32","shape":[2147483647,2147483647,2147483647],"data_offsets":[0,8]}}`, eight), "larger than the file"},
		{"overlap", rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, eight), "overlap"},
	}
	for _, c := range cases {
		_, err := ParseSafetensors(c.buf)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func FuzzParseSafetensors(f *testing.F) {
	good, _ := WriteSafetensors(map[string]*Tensor{"w": {Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}}}, nil)
	f.Add(good)
	f.Add(rawFile(`{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}`, []byte{0, 0x3c, 0, 0x3c}))
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, err := ParseSafetensors(b)
		if err != nil {
			return
		}
		for name, x := range ts {
			n := 1
			for _, d := range x.Shape {
				n *= d
			}
			if n != len(x.Data) {
				t.Fatalf("%s: shape %v but %d values", name, x.Shape, len(x.Data))
			}
		}
	})
}
