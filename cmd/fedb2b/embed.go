package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/encoderspec"
)

// embedStdin is where embed reads texts from; tests replace it.
var embedStdin io.Reader = os.Stdin

// embedChunk is how many lines embed encodes at a time, so that large
// inputs stream instead of being held in memory.
const embedChunk = 256

func init() {
	register("embed", "encode one text per input line with a base encoder; write one JSON array per line", runEmbed)
}

func runEmbed(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("embed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	spec := fs.String("encoder", "", "encoder: hashing, hashing:DIM, bert:PATH or openai:URL#MODEL (required)")
	pooling := fs.String("pooling", "", "bert pooling: mean (default) or cls")
	normalize := fs.Bool("normalize", false, "bert: scale vectors to unit L2 norm")
	input := fs.String("input", "-", "file with one text per line; - reads standard input")
	batch := fs.Int("batch", 0, "texts per forward pass or request (default 32)")
	keyEnv := fs.String("api-key-env", "", "openai: environment variable holding the API key")
	dim := fs.Int("dim", 0, "openai: expected dimension (default: ask the endpoint once)")
	timeout := fs.Duration("timeout", 0, "openai: timeout per request (default 30s)")
	cacheDir := fs.String("embed-cache", "", "directory of an on-disk embedding cache (private data: 0700/0600)")
	cacheID := fs.String("embed-cache-identity", "", "age X25519 identity file: encrypt the cache entries")
	if code, ok := parseArgs(fs, args, stdout, stderr); !ok {
		return code
	}
	if *spec == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: fedb2b embed --encoder SPEC [--pooling mean|cls] [--normalize] [--input FILE] < texts")
		return 2
	}
	opt := encoderspec.Options{Pooling: *pooling, Normalize: *normalize, BatchSize: *batch,
		APIKeyEnv: *keyEnv, Dim: *dim, Timeout: *timeout, CacheDir: *cacheDir}
	if *cacheID != "" {
		id, err := readX25519Identity(*cacheID)
		if err != nil {
			fmt.Fprintf(stderr, "fedb2b embed: %v\n", err)
			return 1
		}
		opt.CacheIdentity = id
	}
	ctx := context.Background()
	enc, err := encoderspec.OpenContext(ctx, *spec, opt)
	if err != nil {
		fmt.Fprintf(stderr, "fedb2b embed: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "fedb2b embed: encoder %s (dimension %d)\n", enc.ID(), enc.Dim())
	in := embedStdin
	if *input != "-" {
		f, err := os.Open(*input)
		if err != nil {
			fmt.Fprintf(stderr, "fedb2b embed: %v\n", err)
			return 1
		}
		defer f.Close()
		in = f
	}
	start := time.Now()
	n, err := embedLines(ctx, enc, in, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "fedb2b embed: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "fedb2b embed: %d texts in %.2fs\n", n, time.Since(start).Seconds())
	return 0
}

// embedLines encodes r line by line in chunks and writes one JSON array of
// floats per line to w. It returns the number of lines.
func embedLines(ctx context.Context, enc models.Encoder, r io.Reader, w io.Writer) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	bw := bufio.NewWriter(w)
	var chunk []string
	total := 0
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		vecs, err := enc.Encode(ctx, chunk)
		if err != nil {
			return fmt.Errorf("lines %d..%d: %w", total+1, total+len(chunk), err)
		}
		for _, v := range vecs {
			if err := writeJSONFloats(bw, v); err != nil {
				return err
			}
		}
		total += len(chunk)
		chunk = chunk[:0]
		return nil
	}
	for sc.Scan() {
		chunk = append(chunk, strings.TrimSuffix(sc.Text(), "\r"))
		if len(chunk) == embedChunk {
			if err := flush(); err != nil {
				return total, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return total, fmt.Errorf("reading line %d: %w", total+len(chunk)+1, err)
	}
	if err := flush(); err != nil {
		return total, err
	}
	return total, bw.Flush()
}

func writeJSONFloats(w *bufio.Writer, v []float64) error {
	buf := make([]byte, 0, 12*len(v)+2)
	buf = append(buf, '[')
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("encoder returned a non-finite value %g at position %d", x, i)
		}
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = strconv.AppendFloat(buf, x, 'g', -1, 64)
	}
	buf = append(buf, ']', '\n')
	_, err := w.Write(buf)
	return err
}

// readX25519Identity reads the first X25519 identity of an age identity file.
func readX25519Identity(path string) (*age.X25519Identity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading cache identity: %w", err)
	}
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	if err != nil {
		return nil, fmt.Errorf("parsing cache identity %s: %w", path, err)
	}
	for _, id := range ids {
		if x, ok := id.(*age.X25519Identity); ok {
			return x, nil
		}
	}
	return nil, fmt.Errorf("cache identity %s holds no X25519 identity", path)
}
