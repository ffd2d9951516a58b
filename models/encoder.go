package models

import "context"

// Encoder is a frozen base model: it maps texts to fixed-dimension vectors.
// Implementations must be safe for concurrent use and deterministic: the same
// text and the same ID always give the same vector.
type Encoder interface {
	// ID names the exact encoder and its settings (for example
	// "hashing-v1:dim=4096:ngram=3"); a task pins it, and clients whose
	// encoder has another ID refuse the task.
	ID() string
	// Dim is the length of every vector Encode returns.
	Dim() int
	// Encode returns one vector per text, in order.
	Encode(ctx context.Context, texts []string) ([][]float64, error)
}

// OrDefault returns enc, or the built-in hashing encoder with its default
// settings when enc is nil.
func OrDefault(enc Encoder) (Encoder, error) {
	if enc != nil {
		return enc, nil
	}
	return NewHashingEncoder(HashingConfig{})
}
