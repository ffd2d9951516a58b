package models

import (
	"fmt"
)

// LinearConfig fixes the shape of a LinearHead.
type LinearConfig struct {
	InputDim int // encoder dimension d
	Classes  int // K ≥ 2
}

func (cfg LinearConfig) check() error {
	switch {
	case cfg.InputDim < 1 || cfg.InputDim > maxInputDim:
		return fmt.Errorf("models: input dim %d out of range [1, %d]", cfg.InputDim, maxInputDim)
	case cfg.Classes < 2 || cfg.Classes > maxClasses:
		return fmt.Errorf("models: classes %d out of range [2, %d]", cfg.Classes, maxClasses)
	case int64(cfg.InputDim)*int64(cfg.Classes) > maxElements:
		return fmt.Errorf("models: linear head %dx%d too large", cfg.InputDim, cfg.Classes)
	}
	return nil
}

// LinearHead is a full-rank linear softmax classifier over the encoder
// output x (length InputDim):
//
//	logits[o] = b[o] + Σ_j x[j]·W[j][o]
//
// Every parameter trains; nothing is frozen or derived from a seed. The
// logits are linear in the parameters, so the FedAvg of several heads'
// parameters is exactly the head whose logits are the same weighted
// average of theirs: averaging the weights averages the model.
//
// Parameters travel as one []float64 in this order: W feature-major (row j
// holds the K class weights of input feature j, so a sparse input touches
// contiguous rows), then b (K). They start at zero.
//
// A LinearHead is not safe for concurrent mutation; concurrent Predict
// calls without training are safe.
type LinearHead struct {
	cfg LinearConfig
	w   []float64 // InputDim×Classes, feature-major
	b   []float64 // Classes
}

// NewLinearHead checks cfg and returns a zero head.
func NewLinearHead(cfg LinearConfig) (*LinearHead, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	return &LinearHead{cfg: cfg, w: make([]float64, cfg.InputDim*cfg.Classes), b: make([]float64, cfg.Classes)}, nil
}

// Config returns the shape.
func (h *LinearHead) Config() LinearConfig { return h.cfg }

// NumParams is InputDim·Classes + Classes.
func (h *LinearHead) NumParams() int { return len(h.w) + len(h.b) }

// Params returns a copy of the parameters (W feature-major, then b).
func (h *LinearHead) Params() []float64 {
	out := make([]float64, 0, h.NumParams())
	out = append(out, h.w...)
	return append(out, h.b...)
}

// SetParams replaces the parameters. It rejects a wrong length or a
// non-finite entry and then changes nothing.
func (h *LinearHead) SetParams(p []float64) error {
	if len(p) != h.NumParams() {
		return fmt.Errorf("models: parameter vector has length %d, want %d", len(p), h.NumParams())
	}
	if i := firstNonFinite(p); i >= 0 {
		return fmt.Errorf("models: parameter %d is not finite", i)
	}
	copy(h.w, p)
	copy(h.b, p[len(h.w):])
	return nil
}

// CheckRows validates rows (for example rows built by a caller rather
// than Sparsify) against the input dimension.
func (h *LinearHead) CheckRows(rows []SparseRow) error { return h.checkRows(SliceRows(rows)) }

// checkRows validates rows; a RowStore was validated as it was filled, so
// only its dimension is checked.
func (h *LinearHead) checkRows(rows Rows) error {
	if s, ok := rows.(*RowStore); ok {
		if s.Dim() != h.cfg.InputDim {
			return fmt.Errorf("models: rows of dimension %d, want %d", s.Dim(), h.cfg.InputDim)
		}
		return nil
	}
	var buf SparseRow
	for i := range rows.Len() {
		if err := rows.Row(i, &buf).check(h.cfg.InputDim); err != nil {
			return fmt.Errorf("models: input row %d: %w", i, err)
		}
	}
	return nil
}

// logits writes the logits of x into z (length Classes), touching only the
// rows of W that x's non-zero entries select.
func (h *LinearHead) logits(z []float64, x SparseRow) {
	k := h.cfg.Classes
	copy(z, h.b)
	for n, j := range x.Idx {
		axpy(z, x.Val[n], h.w[int(j)*k:int(j)*k+k])
	}
}

// Logits returns the class logits of each row.
func (h *LinearHead) Logits(rows []SparseRow) ([][]float64, error) {
	return h.LogitsRows(SliceRows(rows))
}

// LogitsRows is Logits over any Rows (a RowStore).
func (h *LinearHead) LogitsRows(rows Rows) ([][]float64, error) {
	if err := h.checkRows(rows); err != nil {
		return nil, err
	}
	out := make([][]float64, rows.Len())
	var scratch SparseRow
	for i := range out {
		out[i] = make([]float64, h.cfg.Classes)
		h.logits(out[i], rows.Row(i, &scratch))
	}
	return out, nil
}

// Scores returns the class probabilities softmax(logits) of each row.
func (h *LinearHead) Scores(rows []SparseRow) ([][]float64, error) {
	if err := h.CheckRows(rows); err != nil {
		return nil, err
	}
	out := make([][]float64, len(rows))
	for i, r := range rows {
		z := make([]float64, h.cfg.Classes)
		h.logits(z, r)
		softmaxInPlace(z)
		out[i] = z
	}
	return out, nil
}

// Predict returns the most likely class (lowest index on ties) of each row.
func (h *LinearHead) Predict(rows []SparseRow) ([]int, error) { return h.PredictRows(SliceRows(rows)) }

// PredictRows is Predict over any Rows.
func (h *LinearHead) PredictRows(rows Rows) ([]int, error) {
	if err := h.checkRows(rows); err != nil {
		return nil, err
	}
	out := make([]int, rows.Len())
	z := make([]float64, h.cfg.Classes)
	var buf SparseRow
	for i := range out {
		h.logits(z, rows.Row(i, &buf))
		out[i] = argmax(z)
	}
	return out, nil
}

// Evaluate predicts every row and counts the results against y.
func (h *LinearHead) Evaluate(rows []SparseRow, y []int) (ConfusionMatrix, error) {
	return h.EvaluateRows(SliceRows(rows), y)
}

// EvaluateRows is Evaluate over any Rows.
func (h *LinearHead) EvaluateRows(rows Rows, y []int) (ConfusionMatrix, error) {
	if rows.Len() != len(y) {
		return ConfusionMatrix{}, fmt.Errorf("models: %d rows but %d labels", rows.Len(), len(y))
	}
	pred, err := h.PredictRows(rows)
	if err != nil {
		return ConfusionMatrix{}, err
	}
	return confusionOf(h.cfg.Classes, y, pred)
}

// PerExampleGradient writes into dst (length NumParams, Params order) the
// gradient of the softmax cross-entropy of row x with label y and returns
// the loss. It materialises the dense gradient, so it is for tests and
// inspection; training uses the sparse fused path, whose per-example norm
// is ‖p − e_y‖·√(‖x‖² + 1) in closed form.
func (h *LinearHead) PerExampleGradient(dst []float64, x SparseRow, y int) (float64, error) {
	if len(dst) != h.NumParams() {
		return 0, fmt.Errorf("models: gradient buffer has length %d, want %d", len(dst), h.NumParams())
	}
	if err := x.check(h.cfg.InputDim); err != nil {
		return 0, fmt.Errorf("models: %w", err)
	}
	k := h.cfg.Classes
	if y < 0 || y >= k {
		return 0, fmt.Errorf("models: label %d out of range [0, %d)", y, k)
	}
	z := make([]float64, k)
	h.logits(z, x)
	zy := z[y]
	loss := softmaxInPlace(z) - zy
	z[y] -= 1
	clear(dst)
	for n, j := range x.Idx {
		axpy(dst[int(j)*k:int(j)*k+k], x.Val[n], z)
	}
	copy(dst[len(h.w):], z)
	return loss, nil
}
