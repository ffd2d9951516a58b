package encoderspec

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/bert"
	"github.com/fedb2b/fedb2b/models/embcache"
	"github.com/fedb2b/fedb2b/models/openai"
)

// Options tune the encoder a spec names. Fields that do not apply to the
// spec's kind must be left zero.
type Options struct {
	// Pooling is "mean" (default) or "cls"; bert only.
	Pooling string
	// Normalize scales vectors to unit L2 norm; bert only (the hashing
	// encoder always normalises; endpoints return what the model returns).
	Normalize bool
	// BatchSize is the number of texts per forward pass or request
	// (default 32); bert and openai.
	BatchSize int

	// APIKeyEnv names the environment variable holding the API key; openai only.
	APIKeyEnv string
	// Dim is the expected dimension (0: probe the endpoint once); openai only.
	Dim int
	// Timeout bounds each request (default 30 s); openai only.
	Timeout time.Duration
	// MaxRetries after the first attempt (default 4); openai only.
	MaxRetries int
	// HTTPClient, when set, sends the requests; openai only.
	HTTPClient *http.Client

	// CacheDir, when set, wraps the encoder in an embcache under it.
	CacheDir string
	// CacheIdentity, when set, age-encrypts the cache entries.
	CacheIdentity *age.X25519Identity
}

// Open is OpenContext with a background context.
func Open(spec string, opt Options) (models.Encoder, error) {
	return OpenContext(context.Background(), spec, opt)
}

// OpenContext parses spec and builds the encoder it names; ctx bounds the
// dimension probe of an openai endpoint.
func OpenContext(ctx context.Context, spec string, opt Options) (models.Encoder, error) {
	kind, arg, _ := strings.Cut(spec, ":")
	var (
		enc models.Encoder
		err error
	)
	if kind != "bert" && (opt.Pooling != "" || opt.Normalize) {
		return nil, fmt.Errorf("encoderspec: pooling and normalize apply only to bert encoders, not %q", spec)
	}
	if kind != "openai" && (opt.APIKeyEnv != "" || opt.Dim != 0 || opt.Timeout != 0 || opt.MaxRetries != 0 || opt.HTTPClient != nil) {
		return nil, fmt.Errorf("encoderspec: API key, dimension, timeout and retries apply only to openai encoders, not %q", spec)
	}
	switch kind {
	case "hashing":
		enc, err = openHashing(spec, arg)
	case "bert":
		enc, err = openBert(arg, opt)
	case "openai":
		enc, err = openOpenAI(ctx, arg, opt)
	default:
		return nil, fmt.Errorf("encoderspec: unknown encoder %q (want hashing, hashing:DIM, bert:PATH or openai:URL#MODEL)", spec)
	}
	if err != nil {
		return nil, err
	}
	if opt.CacheDir != "" {
		return embcache.Wrap(enc, opt.CacheDir, embcache.Options{Identity: opt.CacheIdentity})
	}
	return enc, nil
}

func openHashing(spec, arg string) (models.Encoder, error) {
	cfg := models.HashingConfig{}
	if strings.Contains(spec, ":") {
		d, err := strconv.Atoi(arg)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("encoderspec: %q: dimension %q is not a positive integer", spec, arg)
		}
		cfg.Dim = d
	}
	return models.NewHashingEncoder(cfg)
}

func openBert(path string, opt Options) (models.Encoder, error) {
	if path == "" {
		return nil, fmt.Errorf("encoderspec: bert: needs a folder, as in bert:/models/bge-small-zh-v1.5")
	}
	bo := bert.Options{Normalize: opt.Normalize, BatchSize: opt.BatchSize}
	if opt.Pooling != "" {
		p, err := bert.ParsePooling(opt.Pooling)
		if err != nil {
			return nil, err
		}
		bo.Pooling = p
	}
	return bert.Load(path, bo)
}

func openOpenAI(ctx context.Context, arg string, opt Options) (models.Encoder, error) {
	i := strings.LastIndexByte(arg, '#')
	if i < 0 || i == len(arg)-1 || i == 0 {
		return nil, errors.New("encoderspec: openai: want openai:URL#MODEL, as in openai:http://localhost:11434#bge-m3")
	}
	return openai.New(ctx, openai.Config{
		BaseURL: arg[:i], Model: arg[i+1:], Dim: opt.Dim, APIKeyEnv: opt.APIKeyEnv,
		BatchSize: opt.BatchSize, Timeout: opt.Timeout, MaxRetries: opt.MaxRetries, HTTPClient: opt.HTTPClient,
	})
}
