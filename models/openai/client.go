package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fedb2b/fedb2b/models"
)

// maxBody bounds a response body (32 texts × 4096 floats as JSON is ~3 MB).
const maxBody = 64 << 20

// Config configures an Encoder.
type Config struct {
	// BaseURL is the server, e.g. "http://localhost:11434". Requests go to
	// BaseURL + "/v1/embeddings", or BaseURL + "/embeddings" when BaseURL
	// already ends in "/v1".
	BaseURL string
	// Model is the model name sent in each request.
	Model string
	// Dim is the expected vector length; 0 asks New to learn it with one
	// probe request.
	Dim int
	// APIKeyEnv names the environment variable holding the API key; empty
	// sends no Authorization header. A set name whose variable is empty is
	// an error.
	APIKeyEnv string
	// BatchSize is the number of texts per request (default 32).
	BatchSize int
	// Timeout bounds each HTTP request (default 30 s).
	Timeout time.Duration
	// MaxRetries is the number of retries after the first attempt
	// (default 4; negative means none).
	MaxRetries int
	// BaseBackoff is the first retry delay before jitter (default 500 ms);
	// it doubles per retry up to MaxBackoff (default 30 s). A Retry-After
	// longer than MaxBackoff fails the call instead of waiting.
	BaseBackoff, MaxBackoff time.Duration
	// HTTPClient is used when set (default: a new http.Client).
	HTTPClient *http.Client
}

// Encoder is a models.Encoder that calls an embeddings endpoint.
type Encoder struct {
	cfg      Config
	endpoint string
	key      string
	client   *http.Client
	sleep    func(context.Context, time.Duration) error
}

var _ models.Encoder = (*Encoder)(nil)

// New validates cfg, reads the API key and, when cfg.Dim is 0, sends one
// probe request to learn the dimension.
func New(ctx context.Context, cfg Config) (*Encoder, error) {
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("openai: base URL %q is not an http(s) URL", cfg.BaseURL)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("openai: base URL %s must not carry credentials, a query or a fragment", u.Redacted())
	}
	if cfg.Model == "" {
		return nil, errors.New("openai: no model name")
	}
	if cfg.Dim < 0 {
		return nil, fmt.Errorf("openai: dimension %d is negative", cfg.Dim)
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 32
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 4
	} else if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = 500 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 30 * time.Second
	}
	e := &Encoder{cfg: cfg, client: cfg.HTTPClient, sleep: sleepCtx}
	if e.client == nil {
		e.client = &http.Client{}
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if strings.HasSuffix(base, "/v1") {
		e.endpoint = base + "/embeddings"
	} else {
		e.endpoint = base + "/v1/embeddings"
	}
	if cfg.APIKeyEnv != "" {
		e.key = os.Getenv(cfg.APIKeyEnv)
		if e.key == "" {
			return nil, fmt.Errorf("openai: environment variable %s (the API key) is empty or unset", cfg.APIKeyEnv)
		}
	}
	if cfg.Dim == 0 {
		vecs, err := e.request(ctx, []string{"dimension probe"})
		if err != nil {
			return nil, fmt.Errorf("openai: probing the dimension: %w", err)
		}
		if len(vecs[0]) == 0 {
			return nil, fmt.Errorf("openai: %s returned an empty embedding for model %q", e.endpoint, cfg.Model)
		}
		e.cfg.Dim = len(vecs[0])
	}
	return e, nil
}

// ID is "openai:" + endpoint URL + "#" + model + ":dim=" + dimension.
func (e *Encoder) ID() string {
	return "openai:" + e.endpoint + "#" + e.cfg.Model + ":dim=" + strconv.Itoa(e.cfg.Dim)
}

// Dim is the vector length.
func (e *Encoder) Dim() int { return e.cfg.Dim }

// Encode sends texts in batches and returns their vectors in order.
func (e *Encoder) Encode(ctx context.Context, texts []string) ([][]float64, error) {
	out := make([][]float64, 0, len(texts))
	for start := 0; start < len(texts); start += e.cfg.BatchSize {
		end := min(start+e.cfg.BatchSize, len(texts))
		vecs, err := e.request(ctx, texts[start:end])
		if err != nil {
			return nil, fmt.Errorf("openai: texts %d..%d: %w", start, end-1, err)
		}
		for i, v := range vecs {
			if len(v) != e.cfg.Dim {
				return nil, fmt.Errorf("openai: text %d: embedding has dimension %d, want %d (model %q at %s)",
					start+i, len(v), e.cfg.Dim, e.cfg.Model, e.endpoint)
			}
		}
		out = append(out, vecs...)
	}
	return out, nil
}

// request runs one batch with retries.
func (e *Encoder) request(ctx context.Context, texts []string) ([][]float64, error) {
	body, err := json.Marshal(map[string]any{"model": e.cfg.Model, "input": texts})
	if err != nil {
		return nil, fmt.Errorf("encoding request: %w", err)
	}
	var lastErr error
	for attempt := 0; ; attempt++ {
		vecs, retryAfter, err := e.once(ctx, body, len(texts))
		if err == nil {
			return vecs, nil
		}
		var re *retryableError
		if !errors.As(err, &re) {
			return nil, err
		}
		lastErr = err
		if attempt >= e.cfg.MaxRetries {
			return nil, fmt.Errorf("giving up after %d attempts: %w", attempt+1, lastErr)
		}
		if retryAfter > e.cfg.MaxBackoff {
			return nil, fmt.Errorf("server asks to retry after %v, longer than the %v limit: %w", retryAfter, e.cfg.MaxBackoff, lastErr)
		}
		wait := max(e.backoff(attempt), retryAfter)
		if err := e.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("waiting to retry (%w) after: %w", err, lastErr)
		}
	}
}

// backoff is full jitter over an exponentially growing cap: uniform in
// [0, min(MaxBackoff, BaseBackoff·2^attempt)]. Jitter needs no secrecy.
func (e *Encoder) backoff(attempt int) time.Duration {
	c := e.cfg.BaseBackoff << min(attempt, 30)
	if c <= 0 || c > e.cfg.MaxBackoff {
		c = e.cfg.MaxBackoff
	}
	return time.Duration(rand.Int64N(int64(c) + 1))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
