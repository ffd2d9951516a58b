package protocol

import "hash/crc32"

// castagnoli is the CRC-32C table (hardware-assisted on amd64 and arm64).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// UpdateCRC32C returns the CRC-32C (Castagnoli) of the bytes hashed so far
// (crc, 0 to start) followed by p. It is the transport checksum of chunked
// uploads and downloads (api.Chunk.crc32c): the receiver updates it chunk
// by chunk as the bytes arrive, so checking it costs no second pass. It
// guards the reassembly against accidental corruption only, where no
// collision resistance is needed: the sender computes it (a hostile
// tenant can make any checksum match bytes of its choice, SHA-256 or not),
// and on the network TLS authenticates every record. What the ledgers
// record (UpdateHash, the SHA-256 of a masked input) stays SHA-256.
func UpdateCRC32C(crc uint32, p []byte) uint32 { return crc32.Update(crc, castagnoli, p) }
