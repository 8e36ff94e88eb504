#pragma once
// Staging: the private, writable copy of an object while writers have it
// open. An anonymous file (O_TMPFILE) in STORE/staging, so a crash leaves
// nothing behind: only closed or fsync'ed content was ever committed.
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

class Staging {
 public:
  // A staging copy in `dir` of the committed content behind `base` (null:
  // empty), dated `mtime`.
  static Result<std::shared_ptr<Staging>> Create(const std::string& dir,
                                                 std::shared_ptr<tiers::BlobReader> base,
                                                 TimeNs mtime);

  Result<std::size_t> Read(char* buf, std::size_t n, std::uint64_t offset);
  Status Write(std::string_view data, std::uint64_t offset, TimeNs now);
  Status Truncate(std::uint64_t size, TimeNs now);
  // An explicit modification time (utimens): kept by later commits, and not
  // a change of content by itself.
  void SetMtime(TimeNs mtime);

  std::uint64_t size() const;
  TimeNs mtime() const;
  bool dirty() const;

  struct Snapshot {
    tiers::BlobInfo blob;  // id empty when the content is empty
    TimeNs mtime = 0;
    std::uint64_t generation = 0;
  };
  // Encodes the current content into a new blob (durable on return). Writers
  // wait meanwhile; readers and stat do not.
  Result<Snapshot> Encode(tiers::BlobStore& blobs, const tiers::EncodeOptions& options);
  // After the snapshot was committed: clean unless written since.
  void MarkCommitted(std::uint64_t generation);

 private:
  Staging(UniqueFd fd, std::shared_ptr<tiers::BlobReader> base, TimeNs mtime);
  // Copies the base content into the file, once. REQUIRES: data_mu_ held
  // exclusively.
  Status FillLocked() REQUIRES(data_mu_);

  UniqueFd fd_;
  mutable SharedMutex data_mu_;
  // The committed content not yet copied in; null once copied (or empty).
  std::shared_ptr<tiers::BlobReader> base_ GUARDED_BY(data_mu_);
  mutable Mutex meta_mu_;
  std::uint64_t size_ GUARDED_BY(meta_mu_) = 0;
  TimeNs mtime_ GUARDED_BY(meta_mu_);
  std::uint64_t generation_ GUARDED_BY(meta_mu_) = 0;
  std::uint64_t committed_generation_ GUARDED_BY(meta_mu_) = 0;
};

}  // namespace shoal::fs
