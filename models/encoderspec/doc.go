// Package encoderspec turns the --encoder flag of the fedb2b commands into
// a models.Encoder:
//
//	hashing              the built-in hashing encoder (default dimension)
//	hashing:DIM          the hashing encoder with DIM buckets
//	bert:PATH            a Hugging Face BERT-family folder (package bert)
//	openai:URL#MODEL     an OpenAI-compatible embeddings endpoint (package openai)
//
// With Options.CacheDir set, the encoder is wrapped in an on-disk cache
// (package embcache). Nothing is ever downloaded: PATH and URL are what
// the tenant already has.
package encoderspec
