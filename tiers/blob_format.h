#pragma once
// Encoding and decoding of the blob file layout described in tiers/blob.h:
// header, per-chunk nonces and AADs, the index and the footer. Pure functions
// over bytes; no I/O. Every decoder treats its input as untrusted.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "crypto/aead.h"
#include "crypto/root_key.h"
#include "tiers/blob.h"

namespace shoal::tiers::format {

inline constexpr std::string_view kHeaderMagic = "SHOALBL1";
inline constexpr std::string_view kFooterMagic = "SHOALEND";
inline constexpr std::uint8_t kFormatVersion = 2;
// Format 1 is format 2 with the data key, wrapped by the root key for the
// blob id, at the end of the header. Read, never written.
inline constexpr std::uint8_t kLegacyFormatVersion = 1;
// Format 3 is format 2 sealed twice (DSSE-KMS's dual layer): every chunk
// and the index are sealed under the inner key, and that sealed text again
// under an independent outer key, with the same nonce and OuterAad.
inline constexpr std::uint8_t kDualLayerFormatVersion = 3;

// magic | format | level | chunk_size | id
inline constexpr std::size_t kHeaderBytes = kHeaderMagic.size() + 1 + 1 + 4 + kBlobIdBytes;
// A format-1 header: the above | wrapped key.
inline constexpr std::size_t kLegacyHeaderBytes = kHeaderBytes + crypto::RootKey::kWrappedBytes;
// index offset | index length | magic
inline constexpr std::size_t kFooterBytes = 8 + 4 + kFooterMagic.size();
// offset | stored_len | plain_len | raw
inline constexpr std::size_t kIndexEntryBytes = 8 + 4 + 4 + 1;
// total size | MD5
inline constexpr std::size_t kIndexTrailerBytes = 8 + 16;

// Readers refuse headers whose chunk size exceeds this, which bounds every
// allocation a reader makes for one chunk.
inline constexpr std::uint32_t kMaxChunkSize = 64u << 20;

struct Header {
  std::uint8_t format = kFormatVersion;
  std::uint8_t level = 0;  // zstd level as a two's-complement byte; informative
  std::uint32_t chunk_size = 0;
  std::string id;           // kBlobIdBytes
  std::string wrapped_key;  // format 1 only: RootKey::kWrappedBytes
};

// The header's length for a format: kHeaderBytes or kLegacyHeaderBytes.
std::size_t HeaderBytes(std::uint8_t format);
// Bytes sealing adds to each chunk and to the index: one tag per layer.
std::size_t SealOverhead(std::uint8_t format);
// REQUIRES: id has its fixed size; for format 1, so has wrapped_key.
std::string EncodeHeader(const Header& header);
// Decodes the first kHeaderBytes of a header: checks magic, version and
// chunk_size bounds; Corrupt otherwise. For format 1 the caller then reads
// the wrapped key that follows.
Status DecodeHeader(std::string_view bytes, Header& header);

struct ChunkEntry {
  std::uint64_t offset = 0;
  std::uint32_t stored_len = 0;  // sealed bytes: payload + tag
  std::uint32_t plain_len = 0;
  bool raw = false;  // payload is the plaintext, not zstd
};

struct Index {
  std::vector<ChunkEntry> chunks;
  std::uint64_t total_size = 0;
  std::string md5;  // 16 raw bytes
};

std::string EncodeIndex(const Index& index);
// Parses a verified index plaintext and checks it against the file's shape:
// chunks contiguous from the end of the header (`header_bytes` long) to
// `index_offset`, every chunk but the
// last exactly `chunk_size` plaintext bytes, sizes adding up to total_size,
// stored lengths within what the writer can produce. Corrupt otherwise.
// `overhead` is SealOverhead of the blob's format.
Status DecodeIndex(std::string_view bytes, std::uint32_t chunk_size, std::uint64_t header_bytes,
                   std::uint64_t index_offset, std::size_t overhead, Index& index);

struct Footer {
  std::uint64_t index_offset = 0;
  std::uint32_t index_len = 0;
};

std::string EncodeFooter(const Footer& footer);
// Checks the magic and that the index lies between a header of at least
// kHeaderBytes and the footer of a file of `file_size` bytes; Corrupt
// otherwise.
Status DecodeFooter(std::string_view bytes, std::uint64_t file_size, Footer& footer);

// Chunk i's nonce is i, little-endian, zero-padded; the index's is 2^64-1.
crypto::Nonce ChunkNonce(std::uint64_t chunk);
crypto::Nonce IndexNonce();
// blob id | u64 chunk | u8 final | u8 raw.
std::string ChunkAad(std::string_view id, std::uint64_t chunk, bool final, bool raw);
// The outer layer's AAD (format 3): "outer layer" | the inner layer's AAD.
std::string OuterAad(std::string_view inner_aad);
// The index's AAD is the whole encoded header, so a change to any header byte
// (level and chunk size included) makes the index fail to open.

}  // namespace shoal::tiers::format
