package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/encoderspec"
)

// encoderFlags are the flags that choose a command's base encoder. demo,
// client and coordinator share them, so a tenant passes the same values
// everywhere and the encoder IDs agree.
type encoderFlags struct {
	spec, pooling      string
	normalize          bool
	cacheDir, cacheKey string
	apiKeyEnv          string
	batch              int
}

// addEncoderFlags defines --encoder, --pooling, --normalize, --embed-cache,
// --embed-cache-identity, --api-key-env and --embed-batch on fs.
func addEncoderFlags(fs *flag.FlagSet) *encoderFlags {
	e := &encoderFlags{}
	fs.StringVar(&e.spec, "encoder", "hashing", "base `SPEC`: hashing, hashing:DIM, bert:PATH (a Hugging Face BERT folder) or openai:URL#MODEL (an OpenAI-compatible /v1/embeddings endpoint)")
	fs.StringVar(&e.pooling, "pooling", "", "bert: pooling `MODE`, mean (default) or cls")
	fs.BoolVar(&e.normalize, "normalize", false, "bert: scale pooled vectors to unit L2 norm")
	fs.StringVar(&e.cacheDir, "embed-cache", "", "keep each record's vector in an on-disk cache under `DIR` (private data: 0700 directories, 0600 files)")
	fs.StringVar(&e.cacheKey, "embed-cache-identity", "", "age X25519 identity `FILE`: encrypt the --embed-cache entries")
	fs.StringVar(&e.apiKeyEnv, "api-key-env", "", "openai: environment `VARIABLE` holding the API key")
	fs.IntVar(&e.batch, "embed-batch", 0, "bert, openai: texts per forward pass or request (default 32)")
	return e
}

// open builds the encoder the flags name; ctx bounds the dimension probe
// of an openai endpoint. Errors name the flag at fault.
func (e *encoderFlags) open(ctx context.Context) (models.Encoder, error) {
	if e.cacheKey != "" && e.cacheDir == "" {
		return nil, fmt.Errorf("--embed-cache-identity needs --embed-cache")
	}
	opt := encoderspec.Options{Pooling: e.pooling, Normalize: e.normalize, BatchSize: e.batch,
		APIKeyEnv: e.apiKeyEnv, CacheDir: e.cacheDir}
	if e.batch < 0 {
		return nil, fmt.Errorf("--embed-batch %d must not be negative", e.batch)
	}
	if e.cacheKey != "" {
		id, err := readX25519Identity(e.cacheKey)
		if err != nil {
			return nil, fmt.Errorf("--embed-cache-identity: %w", err)
		}
		opt.CacheIdentity = id
	}
	enc, err := encoderspec.OpenContext(ctx, e.spec, opt)
	if err != nil {
		return nil, fmt.Errorf("--encoder %s: %w", e.spec, err)
	}
	return enc, nil
}
