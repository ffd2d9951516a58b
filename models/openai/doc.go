// Package openai is a models.Encoder backed by an OpenAI-compatible
// embeddings endpoint (POST {base}/v1/embeddings), as served by OpenAI,
// Ollama, vLLM, llama.cpp server or text-embeddings-inference.
//
// Texts are sent in batches; each request has its own timeout; 429 and 5xx
// answers and transport errors are retried with exponential backoff and
// full jitter, waiting at least what a Retry-After header asks. Every
// vector's length is checked against the expected dimension.
//
// Threat model: the texts are the tenant's private data and go to the
// endpoint the tenant configured, nowhere else; point it at a server the
// tenant controls. The API key is read from an environment variable whose
// name is configured; it is sent only in the Authorization header and never
// appears in errors or logs. Answers are untrusted: bodies are size-bounded
// and every index and length is checked.
//
// The encoder ID is "openai:" + endpoint + "#" + model + ":dim=" + D, so a
// task pinned to it refuses another server, model or dimension (it cannot
// detect a different model served under the same name).
package openai
