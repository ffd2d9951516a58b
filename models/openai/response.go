package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// retryableError marks a failure worth retrying (429, 5xx, transport).
type retryableError struct{ err error }

func (r *retryableError) Error() string { return r.err.Error() }
func (r *retryableError) Unwrap() error { return r.err }

// StatusError is a non-2xx answer from the endpoint.
type StatusError struct {
	// Code is the HTTP status code.
	Code int
	// Message is the server's error message, truncated and with the API key
	// redacted.
	Message string
}

func (s *StatusError) Error() string {
	if s.Message == "" {
		return fmt.Sprintf("HTTP %d %s", s.Code, http.StatusText(s.Code))
	}
	return fmt.Sprintf("HTTP %d %s: %q", s.Code, http.StatusText(s.Code), s.Message)
}

type embeddingResponse struct {
	Data []struct {
		Embedding []float64 `json:"embedding"`
		Index     *int      `json:"index"`
	} `json:"data"`
}

// once sends one request. It returns the vectors, or an error and, for a
// retryable answer, the delay the server asked for (0 if none).
func (e *Encoder) once(ctx context.Context, body []byte, n int) ([][]float64, time.Duration, error) {
	rctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, e.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, 0, fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if e.key != "" {
		req.Header.Set("Authorization", "Bearer "+e.key)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		if ctx.Err() != nil { // the caller gave up: do not retry
			return nil, 0, ctx.Err()
		}
		return nil, 0, &retryableError{fmt.Errorf("POST %s: %w", e.endpoint, e.redactErr(err))}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, 0, ctx.Err()
		}
		return nil, 0, &retryableError{fmt.Errorf("reading the answer of %s: %w", e.endpoint, err)}
	}
	if len(raw) > maxBody {
		return nil, 0, fmt.Errorf("answer of %s exceeds %d bytes", e.endpoint, maxBody)
	}
	if resp.StatusCode != http.StatusOK {
		se := &StatusError{Code: resp.StatusCode, Message: e.errorMessage(raw)}
		err := fmt.Errorf("POST %s: %w", e.endpoint, se)
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
			return nil, retryAfter(resp.Header.Get("Retry-After")), &retryableError{err}
		}
		return nil, 0, err
	}
	var er embeddingResponse
	if err := json.Unmarshal(raw, &er); err != nil {
		return nil, 0, fmt.Errorf("malformed JSON from %s: %w", e.endpoint, err)
	}
	if len(er.Data) != n {
		return nil, 0, fmt.Errorf("%s returned %d embeddings for %d texts", e.endpoint, len(er.Data), n)
	}
	out := make([][]float64, n)
	for i, d := range er.Data {
		idx := i
		if d.Index != nil {
			idx = *d.Index
		}
		if idx < 0 || idx >= n || out[idx] != nil {
			return nil, 0, fmt.Errorf("%s returned a bad or repeated index %d", e.endpoint, idx)
		}
		if d.Embedding == nil {
			return nil, 0, fmt.Errorf("%s returned no embedding at index %d", e.endpoint, idx)
		}
		out[idx] = d.Embedding
	}
	return out, 0, nil
}

// errorMessage extracts a short message from an error body: OpenAI's
// {"error":{"message":...}}, Ollama's {"error":"..."}, or the raw text.
func (e *Encoder) errorMessage(raw []byte) string {
	var obj struct {
		Error json.RawMessage `json:"error"`
	}
	msg := ""
	if json.Unmarshal(raw, &obj) == nil && len(obj.Error) > 0 {
		var s string
		var m struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(obj.Error, &s) == nil {
			msg = s
		} else if json.Unmarshal(obj.Error, &m) == nil {
			msg = m.Message
		}
	}
	if msg == "" {
		msg = strings.TrimSpace(string(raw))
	}
	msg = e.redact(msg)
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return msg
}

func (e *Encoder) redact(s string) string {
	if e.key == "" {
		return s
	}
	return strings.ReplaceAll(s, e.key, "[redacted]")
}

func (e *Encoder) redactErr(err error) error {
	if e.key == "" || !strings.Contains(err.Error(), e.key) {
		return err
	}
	return errors.New(e.redact(err.Error()))
}

// retryAfter parses a Retry-After header (seconds or an HTTP date).
func retryAfter(h string) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && s >= 0 {
		return time.Duration(min(s, 1<<20)) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}
