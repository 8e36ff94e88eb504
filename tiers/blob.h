#pragma once
// Blobs: the immutable, encrypted, compressed byte containers behind objects.
//
// File layout (all integers little-endian; crypto/FORMAT.md has the full
// description):
//   header:  "SHOALBL1" | u8 format=2 | u8 codec level | u32 chunk_size |
//            16-byte blob id
//   chunks:  sealed chunk 0 .. n-1, each AES-256-GCM(payload) where payload
//            is zstd(plain) or plain (whichever is shorter, flag in the index)
//   index:   sealed list of {u64 offset, u32 stored_len, u32 plain_len, u8 raw}
//            plus u64 total plaintext size and 16-byte MD5 of the plaintext
//   footer:  u64 index offset | u32 index length | "SHOALEND"
// Each chunk's nonce is its index; its AAD binds the blob id, chunk index, a
// final-chunk flag and the compression flag, so reordered, spliced, truncated
// or tampered chunks fail to open (Corrupt). The index nonce is 2^64-1.
// A dual-layer blob (format 3, DSSE-KMS) seals every chunk and its index
// twice: under the data key, then under an independent outer key, so the
// content stays sealed if either key alone is given away.
// Every blob has its own random AES-256 data key. A blob does not carry it:
// the writer hands it back (BlobInfo::key) for the object's key envelope
// (crypto/envelope.h), and a reader is given it. Blobs of format 1 (older
// stores) carry their key in the header, wrapped by the root key for the
// blob id; readers still open them.
//
// Thread-safety: BlobStore and BlobReader may be used from many threads at
// once; a BlobWriter belongs to one thread at a time (it hands full chunks to
// the store's threads to compress and seal, and writes them in order).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "crypto/root_key.h"

namespace shoal::tiers {

inline constexpr std::size_t kBlobIdBytes = 16;

// What a finished blob holds.
struct BlobInfo {
  std::string id;              // kBlobIdBytes raw bytes
  std::uint64_t size;          // plaintext bytes
  std::string md5;             // 16 raw bytes: MD5 of the plaintext
  std::uint64_t stored_bytes;  // bytes on disk
  std::string image;           // inline blobs only: the whole encoded blob
  crypto::Key key;             // the data key every part is sealed under
  // Dual-layer blobs only: the outer layer's key.
  std::optional<crypto::Key> outer_key;
};

// The outer key to open `blob` with: null unless it is dual-layer.
inline const crypto::Key* OuterKeyOf(const BlobInfo& blob) {
  return blob.outer_key ? &*blob.outer_key : nullptr;
}

// How a blob is compressed; each storage class has its own (storage_class.h).
// Readers need none of it: the chunk size is in the header, and zstd frames
// decode the same whatever level made them. (zstd's long-distance matcher
// was measured for the cold tiers and gained nothing: within a chunk of up
// to 4 MiB the level's own window already covers every match.)
struct EncodeOptions {
  int zstd_level = 1;  // level 3: 16% slower on mixed data, 0.8% smaller
  std::uint32_t chunk_size = 64 * 1024;
  bool dual_layer = false;  // seal twice, under two keys (format 3)
  bool operator==(const EncodeOptions&) const = default;
};

// Streams plaintext in, writes the encoded blob to a temporary file.
// Dropping a writer without Finish removes the temporary file.
class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  // Appends plaintext; chunks are sealed as they fill.
  virtual Status Append(std::string_view data) = 0;
  // Seals the tail, writes index and footer, fsyncs, and renames the file to
  // its final name. After success the blob is durable and readable by id.
  virtual Result<BlobInfo> Finish() = 0;
};

class BlobReader {
 public:
  virtual ~BlobReader() = default;
  virtual std::uint64_t size() const = 0;
  virtual const std::string& md5() const = 0;  // from the verified index
  // Reads up to out_len bytes at offset; decodes only the chunks touched.
  // Returns bytes read (short only at end). Corrupt on any verification failure.
  virtual Result<std::size_t> Read(std::uint64_t offset, char* out, std::size_t out_len) = 0;
};

class BlobStore {
 public:
  // `dir` holds blob files, sharded as dir/<first 2 hex>/<32 hex>.
  // `root` (which opens format-1 blobs' keys) must outlive the store.
  static Result<std::unique_ptr<BlobStore>> Open(const std::string& dir,
                                                 const crypto::RootKey& root);
  virtual ~BlobStore() = default;

  virtual Result<std::unique_ptr<BlobWriter>> NewWriter(const EncodeOptions& options) = 0;
  // A writer whose blob is not a file: Finish returns the encoded blob in
  // BlobInfo::image (same format, same sealing), for the caller to keep
  // where it likes, e.g. beside small objects' metadata. Nothing to fsync.
  virtual Result<std::unique_ptr<BlobWriter>> NewInlineWriter(const EncodeOptions& options) = 0;
  // Opens and verifies header, footer and index with the blob's data key
  // `key`, or for a format-1 blob with key == nullptr, the key in its
  // header; a dual-layer blob needs its `outer_key` too, and any other blob
  // none. NoSuchKey if absent, Corrupt if damaged or sealed under another
  // key (or, for formats 2 and 3, if a key is missing, or an outer key is
  // given for a single-layer blob).
  virtual Result<std::unique_ptr<BlobReader>> OpenReader(std::string_view id,
                                                         const crypto::Key* key,
                                                         const crypto::Key* outer_key) = 0;
  // Opens an inline blob's image (verified as OpenReader verifies a file).
  virtual Result<std::unique_ptr<BlobReader>> OpenInline(std::string image, const crypto::Key* key,
                                                         const crypto::Key* outer_key) = 0;
  // Removes a blob file (ok if already absent).
  virtual Status Remove(std::string_view id) = 0;
  // Ids of every finished blob on disk (for fsck and orphan sweeps).
  virtual Result<std::vector<std::string>> List() = 0;
  // Removes leftover temporary files from interrupted writes; returns how many.
  virtual Result<std::size_t> SweepTemporaries() = 0;
  // Path of a blob's file (for tests and fsck messages).
  virtual std::string PathOf(std::string_view id) const = 0;
};

}  // namespace shoal::tiers
