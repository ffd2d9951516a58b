package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/encoderspec"
	"github.com/fedb2b/fedb2b/models/intent"
	modeltask "github.com/fedb2b/fedb2b/models/task"
)

// optFloat is a float flag that remembers whether it was given.
type optFloat struct {
	v   float64
	set bool
}

func (f *optFloat) String() string {
	if f == nil || !f.set {
		return ""
	}
	return strconv.FormatFloat(f.v, 'g', -1, 64)
}

func (f *optFloat) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("%q is not a finite number", s)
	}
	f.v, f.set = v, true
	return nil
}

// predictLinear applies a saved linear head (models.LinearFormat): the
// intent task's out-of-scope score and threshold from its file (or
// --oos-threshold / --no-threshold), the argmax for a classify task. The
// score column is the out-of-scope score (the largest class probability
// for a classify task).
func predictLinear(data []byte, modelPath, dataPath, out, textCol, encSpec string, personal, noThreshold bool, threshold optFloat,
	files *fileFlags, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		fmt.Fprintf(stderr, "fedb2b predict: %v\n", err)
		return 1
	}
	if personal {
		return fail(errors.New("--personalize applies to LoRA classifiers; a linear head cannot be personalised by predict yet"))
	}
	h, meta, err := models.UnmarshalLinear(data)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", modelPath, err))
	}
	d, err := intent.ParseLinearDetector(h, meta)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", modelPath, err))
	}
	if meta[intent.MetaTask] != modeltask.KindIntent {
		// A classifier: no out-of-scope rejection whatever the flags.
		d.Scorer, d.Threshold = intent.Scorer{Kind: intent.ScoreMSP}, intent.NoThreshold
		if threshold.set {
			return fail(fmt.Errorf("%s: --oos-threshold applies to intent models, this is a %q model", modelPath, meta[intent.MetaTask]))
		}
	}
	switch {
	case noThreshold:
		d.Threshold = intent.NoThreshold
	case threshold.set:
		d.Threshold = threshold.v
	case d.Threshold == intent.NoThreshold && meta[intent.MetaTask] == modeltask.KindIntent:
		fmt.Fprintf(stderr, "fedb2b predict: %s carries no out-of-scope threshold (a tenant's own file): nothing is rejected unless --oos-threshold is given\n", modelPath)
	}
	enc, err := encoderspec.Open(encSpec, encoderspec.Options{})
	if err != nil {
		return fail(err)
	}
	if id, ok := meta[intent.MetaEncoder]; ok {
		if err := encoderspec.CheckPinned(id, enc); err != nil {
			return fail(err)
		}
	}
	if enc.Dim() != h.Config().InputDim {
		return fail(fmt.Errorf("encoder dimension %d does not match the model's input dimension %d", enc.Dim(), h.Config().InputDim))
	}
	ex, rep, err := loadPredictData(files, dataPath, textCol, stderr)
	if err != nil {
		return fail(err)
	}
	ctx := context.Background()
	rows := make([]models.SparseRow, 0, len(ex))
	for i := 0; i < len(ex); i += modeltask.EncodeChunk {
		texts := make([]string, 0, modeltask.EncodeChunk)
		for _, e := range ex[i:min(i+modeltask.EncodeChunk, len(ex))] {
			texts = append(texts, e.Text)
		}
		x, err := enc.Encode(ctx, texts)
		if err != nil {
			return fail(err)
		}
		r, err := models.SparsifyAll(x, enc.Dim())
		if err != nil {
			return fail(err)
		}
		rows = append(rows, r...)
	}
	pred, score, err := d.Classify(rows)
	if err != nil {
		return fail(err)
	}
	if err := writePredictions(out, ex, pred, score); err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "wrote %d predictions to %s (%d bad rows skipped)\n", len(ex), out, rep.Skipped)
	return 0
}
