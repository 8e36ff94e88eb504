#pragma once
// Staging: the private, writable copy of an object while writers have it
// open. Small copies live in memory (creating and freeing a file per small
// object costs more than all else its write does: ext4 scans past recently
// freed inodes); a copy that outgrows kMemoryLimit, or finds the process-wide
// memory budget spent, is an anonymous file (O_TMPFILE) in STORE/staging.
// Either way a crash leaves nothing behind: only closed or fsync'ed content
// was ever committed.
//
// The committed content is copied in lazily, at the first change: opening a
// large object for writing (touch, an editor's probe) costs nothing until it
// is written. Each change bumps a generation; a commit encodes a snapshot
// taken under the lock and marks the staging clean only if nothing changed
// since, so a write racing a commit is never lost.
//
// Thread-safety: all methods may be called concurrently. Two locks: data_mu_
// orders the file's bytes (writers exclusive; readers and Encode shared, so
// reads go on during a commit and only writers wait), and meta_mu_ guards
// the small fields, so stat never waits for a commit.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/raii.h"
#include "base/status.h"
#include "tiers/blob.h"

namespace shoal::fs {

// The largest object S3 stores (5 TiB): writes past it fail EntityTooLarge.
inline constexpr std::uint64_t kMaxObjectBytes = std::uint64_t{5} << 40;

// Staging copies up to this size stay in memory, within a budget of
// kMemoryBudget bytes over all staging copies of the process.
inline constexpr std::size_t kMemoryLimit = std::size_t{128} << 10;
inline constexpr std::size_t kMemoryBudget = std::size_t{32} << 20;

// Objects up to this size are encoded inline (BlobInfo::image) rather than
// into a blob file of their own.
inline constexpr std::uint64_t kInlineMaxBytes = std::uint64_t{16} << 10;

class Staging {
 public:
  // A staging copy in `dir` of the committed content behind `base` (null:
  // empty), dated `mtime`.
  // Where a sequential writer's blob is encoded while it writes: a copy that
  // starts empty and only ever grows by writes at its end (cp, dd, a
  // download) streams its bytes into a blob writer as they arrive, so that
  // its commit has only the tail left to encode. Any other change drops the
  // stream and the commit encodes the whole copy as usual, as it does when
  // it encodes with other options than the stream's.
  struct StreamTarget {
    tiers::BlobStore* blobs = nullptr;
    tiers::EncodeOptions options;
  };
  static Result<std::shared_ptr<Staging>> Create(const std::string& dir,
                                                 std::shared_ptr<tiers::BlobReader> base,
                                                 TimeNs mtime,
                                                 std::optional<StreamTarget> stream = {});
  ~Staging();
  Staging(const Staging&) = delete;
  Staging& operator=(const Staging&) = delete;

  Result<std::size_t> Read(char* buf, std::size_t n, std::uint64_t offset);
  Status Write(std::string_view data, std::uint64_t offset, TimeNs now);
  Status Truncate(std::uint64_t size, TimeNs now);
  // An explicit modification time (utimens): kept by later commits, and not
  // a change of content by itself.
  void SetMtime(TimeNs mtime);
  // Attribute changes (chmod, chown, utimens) made while the copy has
  // uncommitted changes: they ride on the coming commit instead of taking a
  // metadata transaction of their own. Returns false, changing nothing, when
  // the copy is clean. An amendment counts as a change, so a commit already
  // encoding an earlier snapshot leaves the copy dirty for the next one.
  struct Amendment {
    std::optional<std::uint32_t> mode;
    std::optional<std::uint32_t> uid;
    std::optional<std::uint32_t> gid;
    std::optional<TimeNs> mtime;
  };
  bool AmendIfDirty(const Amendment& change);
  // The mode and owner changes amended so far (mtime() has the time).
  Amendment amended() const;

  std::uint64_t size() const;
  TimeNs mtime() const;
  bool dirty() const;

  struct Snapshot {
    tiers::BlobInfo blob;  // id empty when the content is empty
    TimeNs mtime = 0;
    Amendment amended;  // mode and owner to record with the content
    std::uint64_t generation = 0;
  };
  // Encodes the current content into a new blob: a durable file, or inline
  // (in the returned image) up to kInlineMaxBytes. Writers wait meanwhile;
  // readers and stat do not.
  Result<Snapshot> Encode(tiers::BlobStore& blobs, const tiers::EncodeOptions& options);
  // After the snapshot was committed: clean unless written since.
  void MarkCommitted(std::uint64_t generation);

 private:
  Staging(std::string dir, std::shared_ptr<tiers::BlobReader> base, TimeNs mtime,
          std::optional<StreamTarget> stream);
  // Copies the base content in, once.
  Status FillLocked() REQUIRES(data_mu_);
  // The bytes, wherever they live. Memory holds exactly size_ bytes.
  Status StoreLocked(std::string_view data, std::uint64_t offset) REQUIRES(data_mu_);
  Result<std::size_t> LoadLocked(char* buf, std::size_t n, std::uint64_t offset)
      REQUIRES_SHARED(data_mu_);
  Status ResizeLocked(std::uint64_t size) REQUIRES(data_mu_);
  // Appends the first `size` bytes of the file to `writer`.
  Status CopyFileLocked(tiers::BlobWriter& writer, std::uint64_t size) REQUIRES_SHARED(data_mu_);
  // Feeds a write of `data` at `offset` (the copy held `old_size` bytes
  // before it) to the stream, starting one once the copy outgrows inline
  // size; drops the stream on anything but an append.
  void StreamLocked(std::string_view data, std::uint64_t offset, std::uint64_t old_size)
      REQUIRES(data_mu_);
  // Moves the bytes from memory to a new anonymous file.
  Status SpillLocked() REQUIRES(data_mu_);

  const std::string dir_;
  mutable SharedMutex data_mu_;
  bool in_memory_ GUARDED_BY(data_mu_);  // holds a share of the memory budget
  std::string memory_ GUARDED_BY(data_mu_);
  UniqueFd fd_ GUARDED_BY(data_mu_);  // valid once spilled
  const std::optional<StreamTarget> stream_target_;
  // Writers change these under data_mu_ held exclusively; Encode takes them
  // under data_mu_ held shared (no writer can run) and stream_mu_.
  mutable Mutex stream_mu_;
  std::unique_ptr<tiers::BlobWriter> stream_ GUARDED_BY(stream_mu_);
  std::uint64_t streamed_ GUARDED_BY(stream_mu_) = 0;  // bytes fed to stream_
  bool streamable_ GUARDED_BY(stream_mu_) = false;     // every change so far an append
  // The committed content not yet copied in; null once copied (or empty).
  std::shared_ptr<tiers::BlobReader> base_ GUARDED_BY(data_mu_);
  mutable Mutex meta_mu_;
  std::uint64_t size_ GUARDED_BY(meta_mu_) = 0;
  TimeNs mtime_ GUARDED_BY(meta_mu_);
  Amendment amended_ GUARDED_BY(meta_mu_);
  std::uint64_t generation_ GUARDED_BY(meta_mu_) = 0;
  std::uint64_t committed_generation_ GUARDED_BY(meta_mu_) = 0;
};

}  // namespace shoal::fs
