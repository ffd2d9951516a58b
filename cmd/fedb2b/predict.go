package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/models/encoderspec"
	"github.com/fedb2b/fedb2b/models/intent"
	modeltask "github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/privacy"
)

func init() {
	register("predict", "apply a saved classifier to a CSV and write predictions with scores", runPredict)
}

func runPredict(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modelPath := fs.String("model", "", "saved classifier (safetensors, required)")
	data := fs.String("data", "", "CSV/TSV/JSONL of texts to classify (required)")
	out := fs.String("out", "", "predictions CSV to write (required)")
	textCol := fs.String("text-col", dataset.DefaultTextCol, "text column")
	encSpec := fs.String("encoder", "hashing", "encoder: hashing, hashing:DIM, bert:PATH, openai:URL#MODEL (must match the model's)")
	personal := fs.String("personalize", "", "optional labelled CSV of this tenant's own data: fine-tune locally before predicting (nothing leaves)")
	labelCol := fs.String("label-col", "label", "label column of --personalize")
	steps := fs.Int("personalize-steps", 300, "local fine-tuning steps")
	noThreshold := fs.Bool("no-threshold", false, "ignore the model's out-of-scope threshold")
	var threshold optFloat
	fs.Var(&threshold, "oos-threshold", "linear intent models: reject messages whose out-of-scope score (the model's, e.g. energy) is below this instead of the file's threshold (a tenant's own --model-out file has none)")
	var files fileFlags
	files.register(fs)
	if code, ok := parseArgs(fs, args, stdout, stderr); !ok {
		return code
	}
	if *modelPath == "" || *data == "" || *out == "" {
		fmt.Fprintln(stderr, "fedb2b predict: --model, --data and --out are required")
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "fedb2b predict: %v\n", err)
		return 1
	}
	data0, format, err := models.ReadModelFile(*modelPath)
	if err != nil {
		return fail(err)
	}
	if format == models.LinearFormat {
		return predictLinear(data0, *modelPath, *data, *out, *textCol, *encSpec, *personal != "", *noThreshold, threshold, &files, stdout, stderr)
	}
	clf, meta, err := models.UnmarshalClassifier(data0)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", *modelPath, err))
	}
	data0 = nil
	if threshold.set {
		return fail(errors.New("--oos-threshold applies to linear intent models; a LoRA classifier's threshold is a probability in its file"))
	}
	labels, err := intent.ParseLabels(meta, clf.Config().Classes)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", *modelPath, err))
	}
	threshold0, err := intent.ParseThreshold(meta)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", *modelPath, err))
	}
	if *noThreshold {
		threshold0 = 0
	}
	enc, err := encoderspec.Open(*encSpec, encoderspec.Options{})
	if err != nil {
		return fail(err)
	}
	if id, ok := meta[intent.MetaEncoder]; ok {
		if err := encoderspec.CheckPinned(id, enc); err != nil {
			return fail(err)
		}
	}
	if enc.Dim() != clf.Config().InputDim {
		return fail(fmt.Errorf("encoder dimension %d does not match the model's input dimension %d", enc.Dim(), clf.Config().InputDim))
	}
	ctx := context.Background()
	if *personal != "" {
		if err := personalize(ctx, clf, enc, labels, &files, *personal, *labelCol, *textCol, *steps, stderr); err != nil {
			return fail(err)
		}
	}
	ex, rep, err := loadPredictData(&files, *data, *textCol, stderr)
	if err != nil {
		return fail(err)
	}
	texts := make([]string, len(ex))
	for i, e := range ex {
		texts[i] = e.Text
	}
	f, err := modeltask.EncodeProject(ctx, enc, clf, texts)
	if err != nil {
		return fail(err)
	}
	d := &intent.Detector{Classifier: clf, Labels: labels, Threshold: threshold0}
	pred, conf, err := d.Classify(f)
	if err != nil {
		return fail(err)
	}
	if err := writePredictions(*out, ex, pred, conf); err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "wrote %d predictions to %s (%d bad rows skipped)\n", len(ex), *out, rep.Skipped)
	return 0
}

// loadPredictData loads the texts to classify and reports bad rows on
// stderr.
func loadPredictData(files *fileFlags, path, textCol string, stderr io.Writer) ([]dataset.Example, dataset.LoadReport, error) {
	ex, rep, err := files.loadData(path, dataset.LoadOptions{TextCol: textCol})
	if err != nil {
		return nil, rep, err
	}
	if rep.Skipped > 0 {
		fmt.Fprintf(stderr, "fedb2b predict: %s\n", rep)
		for _, b := range rep.Bad {
			fmt.Fprintf(stderr, "  %s\n", b)
		}
		if rep.Skipped > len(rep.Bad) {
			fmt.Fprintf(stderr, "  … and %d more\n", rep.Skipped-len(rep.Bad))
		}
	}
	if len(ex) == 0 {
		return nil, rep, fmt.Errorf("%s: no valid rows to predict", path)
	}
	return ex, rep, nil
}

func writePredictions(path string, ex []dataset.Example, pred []string, conf []float64) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".predict-*.csv")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := csv.NewWriter(tmp)
	w.Write([]string{"line", "prediction", "score", "text"})
	for i, e := range ex {
		w.Write([]string{strconv.Itoa(e.Line), pred[i], strconv.FormatFloat(conf[i], 'f', 6, 64), e.Text})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// personalize fine-tunes the classifier's trainable parameters on the
// tenant's own labelled rows (labels outside the model's are skipped). It
// runs without DP: the result stays on the tenant's server.
func personalize(ctx context.Context, clf *models.Classifier, enc models.Encoder, labels []string, files *fileFlags, path, labelCol, textCol string, steps int, stderr io.Writer) error {
	ex, rep, err := files.loadData(path, dataset.LoadOptions{TextCol: textCol, LabelCol: labelCol})
	if err != nil {
		return err
	}
	texts, y, unknown := dataset.WithLabels(ex, labels)
	fmt.Fprintf(stderr, "fedb2b predict: personalize: %s; %d rows with labels the model does not know skipped\n", rep, unknown)
	if len(texts) == 0 {
		return fmt.Errorf("%s: no rows with known labels to personalize on", path)
	}
	f, err := modeltask.EncodeProject(ctx, enc, clf, texts)
	if err != nil {
		return err
	}
	cfg := models.DefaultTrainConfig()
	cfg.Steps = steps
	cfg.BatchSize = min(cfg.BatchSize, len(texts))
	rng, err := newPredictRand()
	if err != nil {
		return err
	}
	_, err = clf.Train(f, y, cfg, rng)
	return err
}

func newPredictRand() (*mrand.Rand, error) { return privacy.NewRand(nil) }
