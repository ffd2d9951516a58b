// Package bert is a pure-Go BERT-family encoder: it loads a Hugging Face
// model folder (config.json, model.safetensors, vocab.txt or tokenizer.json,
// optional tokenizer_config.json), tokenizes with WordPiece exactly as
// Hugging Face's BertTokenizer does, runs the forward pass (embeddings,
// post-LayerNorm self-attention blocks with GELU) in float32 — its matrix
// products on an AVX2/FMA kernel in Go assembly where the CPU has it
// (sgemm*.go; gonum BLAS otherwise) — and pools each text to one vector
// (mask-weighted mean or [CLS], optionally L2-normalised).
//
// An Encoder implements models.Encoder. Its ID is "bert:" plus 16 hex
// digits of a SHA-256 over the configuration, every weight, the tokenizer
// settings and vocabulary, and the pooling settings: a task pinned to that
// ID refuses any other checkpoint or pooling.
//
// LoRA inside the encoder: NewLoRA adapts the query and value projections
// of the top layers. A (Rank×H) is derived from a task seed and frozen, B
// (H×Rank) starts at zero and trains, so averaging the clients' B averages
// their ΔW = (Alpha/Rank)·B·A exactly. The frozen layers below run once per
// record (Model.HiddenBefore); Forward and Backward run the adapted layers
// in float64 on one sequence, giving the per-example gradients DP-SGD
// clips. WritePEFT exports the adapter in Hugging Face PEFT's format.
// Package models/task wires this into a federated classification learner
// (NewEncoderLoRA). RandomModel builds a model of a given shape with
// BERT's random initialisation, for benchmarks and mechanics experiments.
//
// Nothing is downloaded: the tenant points at a folder it already has.
// Files are untrusted input: the safetensors reader bounds the header,
// checks every offset, size and shape, and returns errors rather than
// panicking; config sizes are range-checked before any allocation.
//
// Units: vectors are float64 copies of float32 activations; hidden states
// agree with PyTorch's float32 BertModel to about 1e-6 absolute. See
// README.md for running with real checkpoints (layout, memory).
package bert
