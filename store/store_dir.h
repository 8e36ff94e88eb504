#pragma once
// StoreDir: the on-disk layout of a store and the lock that gives one
// process at a time the right to use it.
//
//   STORE/FORMAT     "shoal-store 1\n"; any other content is refused
//   STORE/LOCK       flock'ed by the process using the store; holds its pid
//   STORE/root.key   the SSE-S3 root key (crypto::RootKey)
//   STORE/meta/      the LMDB environment (MetaStore)
//   STORE/blobs/     blob files (tiers::BlobStore)
//   STORE/staging/   anonymous (O_TMPFILE) staging files of open objects
//
// Thread-safety: immutable after Open.

#include <memory>
#include <string>

#include "base/raii.h"
#include "base/status.h"

namespace shoal::store {

class StoreDir {
 public:
  static constexpr int kFormatVersion = 1;

  enum class Mode { kCreateIfMissing, kMustExist };

  // Checks the store's format and takes the lock without waiting; with
  // kCreateIfMissing, first creates the store if `path` is missing or an
  // empty directory. Fails (InvalidRequest) with a one-line reason when there
  // is no store (kMustExist), the store is locked by another process, has an
  // unknown format, or is not a directory we can write.
  static Result<std::unique_ptr<StoreDir>> Open(const std::string& path, Mode mode);

  // Writes the calling process's pid into LOCK (after a daemon forks, so
  // "in use by pid N" names the process that holds the lock).
  Status RecordOwner() const;

  StoreDir(const StoreDir&) = delete;
  StoreDir& operator=(const StoreDir&) = delete;

  const std::string& path() const { return path_; }
  std::string meta_dir() const { return path_ + "/meta"; }
  std::string blobs_dir() const { return path_ + "/blobs"; }
  std::string staging_dir() const { return path_ + "/staging"; }
  std::string root_key_path() const { return path_ + "/root.key"; }
  std::string log_path() const { return path_ + "/daemon.log"; }

 private:
  StoreDir(std::string path, UniqueFd lock) : path_(std::move(path)), lock_(std::move(lock)) {}
  std::string path_;
  UniqueFd lock_;
};

}  // namespace shoal::store
