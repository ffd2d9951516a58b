package forecast

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	mrand "math/rand/v2"

	"github.com/fedb2b/fedb2b/models"
)

// Feature layout. Quantities enter as log1p(q)/Scale so that every feature
// is of order one without any data-dependent standardisation (which would
// itself leak tenants' statistics).
const (
	// Scale divides log1p quantities (log1p(3000) ≈ 8 becomes 1.6).
	Scale = 5.0
	// numBase is the number of features before the text projection.
	numBase = 22
)

// BaseFeatureNames names the non-text features in order.
var BaseFeatureNames = [numBase]string{
	"bias", "lag1", "lag2", "lag3", "lag4", "mean4", "mean8", "mean13",
	"nonzero8", "since_last", "age", "log_price", "woy_sin", "woy_cos", "woy_sin2", "woy_cos2",
	"median4", "median8", "median13", "nonzero4", "nonzero13", "sba",
}

// Featurizer turns a series' history into the feature row of a target week.
// The product description goes through the frozen encoder and a fixed
// Rademacher projection (derived from Seed, identical for all tenants) to
// TextDim values.
type Featurizer struct {
	Encoder models.Encoder
	TextDim int
	Seed    uint64
	Cal     Calendar
	proj    []float64 // TextDim×Encoder.Dim()
}

// NewFeaturizer checks the settings and derives the projection.
func NewFeaturizer(enc models.Encoder, textDim int, seed uint64, cal Calendar) (*Featurizer, error) {
	if textDim < 0 || textDim > 1024 {
		return nil, fmt.Errorf("forecast: text dimension %d outside [0, 1024]", textDim)
	}
	if textDim > 0 && enc == nil {
		return nil, fmt.Errorf("forecast: text dimension %d needs an encoder", textDim)
	}
	f := &Featurizer{Encoder: enc, TextDim: textDim, Seed: seed, Cal: cal}
	if textDim > 0 {
		f.proj = RademacherProjection("fedb2b/forecast/text-projection/v1", seed, textDim, enc.Dim())
	}
	return f, nil
}

// Dim is the length of a feature row.
func (f *Featurizer) Dim() int { return numBase + f.TextDim }

// RademacherProjection returns a rows×cols matrix (row-major) of ±1/√rows
// entries with signs from ChaCha8 keyed by SHA-256(domain || seed): every
// party derives the same matrix, and ‖P·x‖ ≈ ‖x‖.
func RademacherProjection(domain string, seed uint64, rows, cols int) []float64 {
	h := sha256.New()
	h.Write([]byte(domain))
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	var key [32]byte
	copy(key[:], h.Sum(nil))
	r := mrand.New(mrand.NewChaCha8(key))
	v := 1 / math.Sqrt(float64(rows))
	p := make([]float64, rows*cols)
	for i := range p {
		if r.Uint64()&1 == 1 {
			p[i] = v
		} else {
			p[i] = -v
		}
	}
	return p
}

// TextFeatures encodes and projects the descriptions of the series.
func (f *Featurizer) TextFeatures(ctx context.Context, ss []Series) ([][]float64, error) {
	out := make([][]float64, len(ss))
	if f.TextDim == 0 {
		return out, nil
	}
	texts := make([]string, len(ss))
	for i, s := range ss {
		texts[i] = s.Description
	}
	x, err := f.Encoder.Encode(ctx, texts)
	if err != nil {
		return nil, fmt.Errorf("forecast: encode descriptions: %w", err)
	}
	d := f.Encoder.Dim()
	for i, xi := range x {
		if len(xi) != d {
			return nil, fmt.Errorf("forecast: encoder returned %d values, want %d", len(xi), d)
		}
		out[i] = make([]float64, f.TextDim)
		for k := 0; k < f.TextDim; k++ {
			row := f.proj[k*d : (k+1)*d]
			var s float64
			for j, v := range xi {
				if v != 0 {
					s += row[j] * v
				}
			}
			out[i][k] = s
		}
	}
	return out, nil
}

// Row writes the features for predicting week t of s from weeks < t into
// dst (length Dim). text is the series' TextFeatures row (nil if TextDim is
// 0).
func (f *Featurizer) Row(dst []float64, s *Series, text []float64, t int) {
	if len(dst) != f.Dim() {
		panic("forecast: Row: dst has the wrong length")
	}
	q := s.Qty
	lag := func(k int) float64 {
		if t-k < 0 || t-k >= len(q) {
			return 0
		}
		return q[t-k]
	}
	mean := func(n int) float64 {
		var sum float64
		m := 0
		for k := 1; k <= n && t-k >= 0; k++ {
			sum += q[t-k]
			m++
		}
		if m == 0 {
			return 0
		}
		return sum / float64(m)
	}
	l := func(v float64) float64 { return math.Log1p(v) / Scale }
	nz, nz4, nz13, last, first := 0, 0, 0, -1, -1
	for k := 0; k < t && k < len(q); k++ {
		if q[k] > 0 {
			if first < 0 {
				first = k
			}
			last = k
			if k >= t-8 {
				nz++
			}
			if k >= t-4 {
				nz4++
			}
			if k >= t-13 {
				nz13++
			}
		}
	}
	since, age := float64(t), 0.0
	if last >= 0 {
		since = float64(t - last)
		age = float64(t - first)
	}
	woy := float64(f.Cal.Start(t).YearDay()) / 365.25 * 2 * math.Pi
	dst[0] = 1
	dst[1], dst[2], dst[3], dst[4] = l(lag(1)), l(lag(2)), l(lag(3)), l(lag(4))
	dst[5], dst[6], dst[7] = l(mean(4)), l(mean(8)), l(mean(13))
	dst[8] = float64(nz) / 8
	dst[9] = math.Log1p(since) / Scale
	dst[10] = math.Log1p(age) / Scale
	dst[11] = math.Log1p(s.Price) / Scale
	dst[12], dst[13] = math.Sin(woy), math.Cos(woy)
	dst[14], dst[15] = math.Sin(2*woy), math.Cos(2*woy)
	dst[16], dst[17], dst[18] = l(Median(s, t, 4)), l(Median(s, t, 8)), l(Median(s, t, 13))
	dst[19], dst[20] = float64(nz4)/4, float64(nz13)/13
	dst[21] = l(Croston(s, t, CrostonAlpha, true))
	copy(dst[numBase:], text)
}

// ActiveWeeks is how far back Active looks.
const ActiveWeeks = 13

// Active reports whether s had any demand in the ActiveWeeks weeks before
// week t: only such (series, week) pairs are forecast. A product the tenant
// has not sold for a quarter (or ever) is not in its active range, and
// forecasting zeros for it would only flatter every method.
func Active(s *Series, t int) bool {
	for k := max(0, t-ActiveWeeks); k < t && k < len(s.Qty); k++ {
		if s.Qty[k] > 0 {
			return true
		}
	}
	return false
}
