// BlobStore over a local directory: one file per blob, written to tmp/ and
// renamed into its shard when finished.

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <future>
#include <set>
#include <thread>

#include "base/coding.h"
#include "base/file_util.h"
#include "base/mutex.h"
#include "base/raii.h"
#include "base/work_pool.h"
#include "crypto/aead.h"
#include "tiers/blob.h"
#include "tiers/blob_format.h"

namespace shoal::tiers {
namespace {

using ZstdCctx = std::unique_ptr<ZSTD_CCtx, Deleter<ZSTD_freeCCtx>>;
using ZstdDctx = std::unique_ptr<ZSTD_DCtx, Deleter<ZSTD_freeDCtx>>;
using Dir = std::unique_ptr<DIR, Deleter<closedir>>;

constexpr mode_t kDirMode = 0700;
constexpr mode_t kFileMode = 0600;

Status ZstdStatus(Code code, std::string_view context, std::size_t rc) {
  std::string msg(context);
  msg += ": ";
  msg += ZSTD_getErrorName(rc);
  return {code, std::move(msg)};
}

// zstd contexts are reused per thread: writers and readers run on whichever
// thread calls them, and a context must not be shared between threads.
ZSTD_CCtx* ThreadCctx() {
  thread_local ZstdCctx cctx(ZSTD_createCCtx());
  return cctx.get();
}

ZSTD_DCtx* ThreadDctx() {
  thread_local ZstdDctx dctx(ZSTD_createDCtx());
  return dctx.get();
}

// A chunk ready to be written: its sealed bytes and index fields.
struct SealedChunk {
  std::string bytes;
  std::uint32_t plain_len = 0;
  bool raw = false;
};

// Seals `plaintext` under `key`, and for a dual-layer blob (outer != null)
// that sealed text again under `outer`, appending to `out`.
Status SealLayers(const crypto::Key& key, const crypto::Key* outer, const crypto::Nonce& nonce,
                  const std::string& aad, std::string_view plaintext, std::string& out) {
  if (outer == nullptr) return crypto::Seal(key, nonce, aad, plaintext, out);
  std::string inner;
  Status s = crypto::Seal(key, nonce, aad, plaintext, inner);
  if (!s.ok()) return s;
  return crypto::Seal(*outer, nonce, format::OuterAad(aad), inner, out);
}

// Compresses (or keeps raw, whichever is shorter) and seals one chunk. Pure:
// runs on any thread.
Result<SealedChunk> EncodeChunk(const crypto::Key& key, const crypto::Key* outer,
                                const std::string& blob_id, std::uint64_t chunk, bool final,
                                const EncodeOptions& options, const std::string& plain) {
  ZSTD_CCtx* cctx = ThreadCctx();
  if (cctx == nullptr) return Internal("ZSTD_createCCtx failed");
  const std::size_t bound = ZSTD_compressBound(plain.size());
  auto compressed = std::make_unique_for_overwrite<char[]>(bound);
  std::size_t n = ZSTD_compressCCtx(cctx, compressed.get(), bound, plain.data(), plain.size(),
                                    options.zstd_level);
  if (ZSTD_isError(n)) return ZstdStatus(Code::kInternal, "zstd compress", n);
  SealedChunk out;
  out.plain_len = static_cast<std::uint32_t>(plain.size());
  out.raw = n >= plain.size();
  std::string_view payload =
      out.raw ? std::string_view(plain) : std::string_view(compressed.get(), n);
  Status s = SealLayers(key, outer, format::ChunkNonce(chunk),
                        format::ChunkAad(blob_id, chunk, final, out.raw), payload, out.bytes);
  if (!s.ok()) return s;
  return out;
}

// mkdir that accepts an existing directory; `created` says whether it was new.
Status MakeDir(const std::string& path, bool& created) {
  created = false;
  if (::mkdir(path.c_str(), kDirMode) == 0) {
    created = true;
    return Status::Ok();
  }
  const int err = errno;  // read before the message is built
  if (err != EEXIST) return PosixError("mkdir " + path, err);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return PosixError(path, errno);
  if (!S_ISDIR(st.st_mode)) return {Code::kNotADirectory, path + ": not a directory"};
  return Status::Ok();
}

// Creates `path` if needed; a new directory is made durable in `parent`.
Status EnsureDir(const std::string& path, const std::string& parent) {
  bool created = false;
  Status s = MakeDir(path, created);
  if (!s.ok() || !created) return s;
  return SyncDirectory(parent);
}

// Names of temporary files that live writers own, so SweepTemporaries never
// deletes a write in progress. Shared by the store and its writers, either of
// which may go first.
struct TempRegistry {
  Mutex mu;
  std::set<std::string> live GUARDED_BY(mu);

  void Add(const std::string& name) EXCLUDES(mu) {
    MutexLock lock(mu);
    live.insert(name);
  }
  void Remove(const std::string& name) EXCLUDES(mu) {
    MutexLock lock(mu);
    live.erase(name);
  }
  bool Contains(const std::string& name) EXCLUDES(mu) {
    MutexLock lock(mu);
    return live.count(name) != 0;
  }
};

class DirBlobWriter final : public BlobWriter {
 public:
  struct Params {
    std::string dir;
    std::shared_ptr<TempRegistry> temps;
    std::string tmp_name;
    UniqueFd fd;
    std::string id;
    crypto::Key key;
    std::optional<crypto::Key> outer_key;  // dual-layer blobs only
    std::string header;
    EncodeOptions options;
    WorkPool* pool = nullptr;  // encodes full chunks; null: on the caller
    bool in_memory = false;    // an inline blob: no file, fd unused
  };

  explicit DirBlobWriter(Params p)
      : dir_(std::move(p.dir)),
        temps_(std::move(p.temps)),
        tmp_name_(std::move(p.tmp_name)),
        tmp_path_(dir_ + "/tmp/" + tmp_name_),
        fd_(std::move(p.fd)),
        id_(std::move(p.id)),
        key_(p.key),
        outer_key_(p.outer_key),
        header_(std::move(p.header)),
        options_(p.options),
        pool_(p.pool),
        max_in_flight_(std::max<std::size_t>(std::size_t{2} * (pool_ ? pool_->threads() : 1U),
                                             kInFlightBytes / options_.chunk_size)),
        in_memory_(p.in_memory),
        pos_(header_.size()) {
    if (in_memory_) image_ = header_;
  }

  ~DirBlobWriter() override {
    if (in_memory_) return;
    if (!renamed_) {
      fd_.Reset();
      ::unlink(tmp_path_.c_str());  // best effort; a sweep catches the rest
    }
    temps_->Remove(tmp_name_);
  }

  DirBlobWriter(const DirBlobWriter&) = delete;
  DirBlobWriter& operator=(const DirBlobWriter&) = delete;

  Status Append(std::string_view data) override {
    if (finished_) return {Code::kInvalidRequest, "blob writer already finished"};
    if (!status_.ok()) return status_;
    md5_.Update(data);
    total_ += data.size();
    while (!data.empty()) {
      // A full chunk is sealed only once more data arrives, because only then
      // is it known not to be the final one.
      if (pending_.size() == options_.chunk_size) {
        Status s = SubmitChunk();
        if (!s.ok()) return status_ = s;
      }
      std::size_t take = std::min(data.size(), options_.chunk_size - pending_.size());
      pending_.append(data.substr(0, take));
      data.remove_prefix(take);
    }
    return Status::Ok();
  }

  Result<BlobInfo> Finish() override {
    if (finished_) return Status(Code::kInvalidRequest, "blob writer already finished");
    finished_ = true;
    if (!status_.ok()) return status_;
    Status s = FinishInternal();
    if (!s.ok()) return status_ = s;
    std::string md5 = index_.md5;
    return BlobInfo{.id = id_,
                    .size = total_,
                    .md5 = std::move(md5),
                    .stored_bytes = pos_,
                    .image = std::move(image_),
                    .key = key_,
                    .outer_key = outer_key_};
  }

 private:
  // Hands the pending (full, non-final) chunk to the pool; writes finished
  // chunks in order, keeping a bounded number in flight.
  Status SubmitChunk() {
    const std::uint64_t chunk = next_chunk_++;
    if (pool_ == nullptr) {
      auto sealed = EncodeChunk(key_, Outer(), id_, chunk, /*final=*/false, options_, pending_);
      pending_.clear();
      if (!sealed.ok()) return sealed.status();
      return WriteChunk(*sealed);
    }
    in_flight_.push_back(pool_->Submit([key = key_, outer = outer_key_, id = id_, chunk,
                                        options = options_, plain = std::move(pending_)] {
      return EncodeChunk(key, outer ? &*outer : nullptr, id, chunk, /*final=*/false, options,
                         plain);
    }));
    pending_ = std::string();
    pending_.reserve(options_.chunk_size);
    if (in_flight_.size() > max_in_flight_) return WriteOldest();
    return Status::Ok();
  }

  const crypto::Key* Outer() const { return outer_key_ ? &*outer_key_ : nullptr; }

  Status WriteOldest() {
    Result<SealedChunk> sealed = in_flight_.front().get();
    in_flight_.pop_front();
    if (!sealed.ok()) return sealed.status();
    return WriteChunk(*sealed);
  }

  Status WriteAt(std::string_view bytes) {
    if (!in_memory_) return PwriteAll(fd_.get(), bytes, static_cast<off_t>(pos_), tmp_path_);
    image_ += bytes;
    return Status::Ok();
  }

  Status WriteChunk(const SealedChunk& sealed) {
    Status s = WriteAt(sealed.bytes);
    if (!s.ok()) return s;
    index_.chunks.push_back({.offset = pos_,
                             .stored_len = static_cast<std::uint32_t>(sealed.bytes.size()),
                             .plain_len = sealed.plain_len,
                             .raw = sealed.raw});
    pos_ += sealed.bytes.size();
    return Status::Ok();
  }

  Status FinishInternal() {
    while (!in_flight_.empty()) {
      Status s = WriteOldest();
      if (!s.ok()) return s;
    }
    if (!pending_.empty()) {
      auto sealed =
          EncodeChunk(key_, Outer(), id_, next_chunk_++, /*final=*/true, options_, pending_);
      if (!sealed.ok()) return sealed.status();
      Status s = WriteChunk(*sealed);
      if (!s.ok()) return s;
    }
    index_.total_size = total_;
    index_.md5 = md5_.Finish();
    if (index_.md5.size() != 16) return Internal("MD5 digest failed");

    const std::uint64_t index_offset = pos_;
    std::string tail;
    Status s =
        SealLayers(key_, Outer(), format::IndexNonce(), header_, format::EncodeIndex(index_), tail);
    if (!s.ok()) return s;
    if (tail.size() > UINT32_MAX) return {Code::kEntityTooLarge, "blob index too large"};
    const auto index_len = static_cast<std::uint32_t>(tail.size());
    tail += format::EncodeFooter({.index_offset = index_offset, .index_len = index_len});
    s = WriteAt(tail);
    if (!s.ok()) return s;
    pos_ += tail.size();
    if (in_memory_) return Status::Ok();
    if (::fsync(fd_.get()) != 0) {
      const int err = errno;
      return PosixError("fsync " + tmp_path_, err);
    }
    fd_.Reset();

    const std::string hex = HexEncode(id_);
    const std::string shard = dir_ + "/" + hex.substr(0, 2);
    s = EnsureDir(shard, dir_);
    if (!s.ok()) return s;
    const std::string final_path = shard + "/" + hex;
    if (::rename(tmp_path_.c_str(), final_path.c_str()) != 0) {
      const int err = errno;
      return PosixError("rename " + tmp_path_ + " to " + final_path, err);
    }
    renamed_ = true;
    return SyncDirectory(shard);
  }

  const std::string dir_;
  const std::shared_ptr<TempRegistry> temps_;
  const std::string tmp_name_;
  const std::string tmp_path_;
  UniqueFd fd_;
  const std::string id_;
  const crypto::Key key_;
  const std::optional<crypto::Key> outer_key_;
  const std::string header_;
  const EncodeOptions options_;

  crypto::Md5 md5_;
  format::Index index_;
  WorkPool* const pool_;
  // Chunks handed to the pool and not yet written: enough to keep every
  // thread busy across a 1 MiB write, bounded so memory stays small.
  static constexpr std::size_t kInFlightBytes = std::size_t{4} << 20;
  const std::size_t max_in_flight_;
  const bool in_memory_;
  std::string image_;    // in memory: the blob so far
  std::string pending_;  // plaintext of the chunk being filled
  std::uint64_t next_chunk_ = 0;
  std::deque<std::future<Result<SealedChunk>>> in_flight_;  // oldest first
  std::uint64_t pos_;                                       // where the next chunk goes
  std::uint64_t total_ = 0;
  Status status_;  // first failure; sticky
  bool finished_ = false;
  bool renamed_ = false;
};

// What verifying a blob's header, footer and index yields.
struct VerifiedBlob {
  std::string id;
  crypto::Key key;
  std::optional<crypto::Key> outer_key;  // dual-layer blobs only
  std::uint32_t chunk_size = 0;
  format::Index index;
};

// Reads a blob file (fd) or an inline blob's image (fd invalid).
class DirBlobReader final : public BlobReader {
 public:
  DirBlobReader(UniqueFd fd, std::string image, VerifiedBlob blob)
      : fd_(std::move(fd)),
        image_(std::move(image)),
        id_(std::move(blob.id)),
        key_(blob.key),
        outer_key_(blob.outer_key),
        chunk_size_(blob.chunk_size),
        index_(std::move(blob.index)) {}

  DirBlobReader(const DirBlobReader&) = delete;
  DirBlobReader& operator=(const DirBlobReader&) = delete;

  std::uint64_t size() const override { return index_.total_size; }
  const std::string& md5() const override { return index_.md5; }

  Result<std::size_t> Read(std::uint64_t offset, char* out, std::size_t out_len) override {
    if (offset >= index_.total_size) return std::size_t{0};
    const std::uint64_t avail = index_.total_size - offset;
    const std::size_t n = out_len < avail ? out_len : static_cast<std::size_t>(avail);
    std::size_t done = 0;
    while (done < n) {
      const std::uint64_t pos = offset + done;
      const std::uint64_t chunk = pos / chunk_size_;
      const std::size_t within = static_cast<std::size_t>(pos - chunk * chunk_size_);
      const std::size_t chunk_len = index_.chunks[chunk].plain_len;
      if (within == 0 && n - done >= chunk_len) {
        // The whole chunk is wanted (sequential reads): decode it straight
        // into the caller's buffer, bypassing the cache.
        Status s = DecodeInto(chunk, out + done);
        if (!s.ok()) return s;
        done += chunk_len;
        continue;
      }
      Result<std::shared_ptr<const std::string>> plain = Chunk(chunk);
      if (!plain.ok()) return plain.status();
      const std::string& data = **plain;
      // DecodeIndex guarantees within < data.size() for every pos < total.
      const std::size_t take = std::min(data.size() - within, n - done);
      std::copy_n(data.data() + within, take, out + done);
      done += take;
    }
    return done;
  }

 private:
  // The decoded chunk, from the one-chunk cache or freshly decoded. The lock
  // is not held while reading, decrypting or decompressing; two threads
  // missing on the same chunk both decode it, which is harmless.
  Result<std::shared_ptr<const std::string>> Chunk(std::uint64_t chunk) EXCLUDES(mu_) {
    {
      MutexLock lock(mu_);
      if (cached_ && cached_chunk_ == chunk) return cached_;
    }
    auto plain = std::make_shared<std::string>();
    plain->resize(index_.chunks[chunk].plain_len);
    Status s = DecodeInto(chunk, plain->data());
    if (!s.ok()) return s;
    std::shared_ptr<const std::string> result = std::move(plain);
    MutexLock lock(mu_);
    cached_chunk_ = chunk;
    cached_ = result;
    return result;
  }

  // Decodes chunk `chunk` into `plain`, which holds its plain_len bytes.
  Status DecodeInto(std::uint64_t chunk, char* plain) const {
    const format::ChunkEntry& e = index_.chunks[chunk];
    auto sealed_buf = std::make_unique_for_overwrite<char[]>(e.stored_len);
    std::string_view sealed(sealed_buf.get(), e.stored_len);
    if (fd_.valid()) {
      Result<std::size_t> got = PreadFull(fd_.get(), sealed_buf.get(), e.stored_len,
                                          static_cast<off_t>(e.offset), "blob " + HexEncode(id_));
      if (!got.ok()) return got.status();
      if (*got != e.stored_len) return Corrupt("blob chunk truncated");
    } else {
      // DecodeIndex keeps every chunk inside the blob.
      sealed = std::string_view(image_).substr(static_cast<std::size_t>(e.offset), e.stored_len);
      if (sealed.size() != e.stored_len) return Corrupt("blob chunk truncated");
    }
    const bool final = chunk + 1 == index_.chunks.size();
    const std::string aad = format::ChunkAad(id_, chunk, final, e.raw);
    std::unique_ptr<char[]> inner_buf;
    if (outer_key_) {  // the outer layer first
      inner_buf = std::make_unique_for_overwrite<char[]>(e.stored_len - crypto::kTagBytes);
      Status s = crypto::OpenInto(*outer_key_, format::ChunkNonce(chunk), format::OuterAad(aad),
                                  sealed, inner_buf.get());
      if (!s.ok()) return ChunkFailure(s, chunk);
      sealed = std::string_view(inner_buf.get(), e.stored_len - crypto::kTagBytes);
    }
    // DecodeIndex checked stored_len against plain_len (raw) and the tags' size.
    const std::size_t payload_len = sealed.size() - crypto::kTagBytes;
    std::unique_ptr<char[]> payload_buf;
    char* payload = plain;
    if (!e.raw) {
      payload_buf = std::make_unique_for_overwrite<char[]>(payload_len);
      payload = payload_buf.get();
    }
    Status s = crypto::OpenInto(key_, format::ChunkNonce(chunk), aad, sealed, payload);
    if (!s.ok()) return ChunkFailure(s, chunk);
    if (e.raw) return Status::Ok();
    ZSTD_DCtx* dctx = ThreadDctx();
    if (dctx == nullptr) return Internal("ZSTD_createDCtx failed");
    // The output is the verified plain_len (<= chunk_size), never a size
    // read from the frame, so a bad frame cannot make us write more.
    std::size_t n = ZSTD_decompressDCtx(dctx, plain, e.plain_len, payload, payload_len);
    if (ZSTD_isError(n)) return ZstdStatus(Code::kCorrupt, "blob chunk decompress", n);
    if (n != e.plain_len) return Corrupt("blob chunk decompresses to the wrong size");
    return Status::Ok();
  }

  Status ChunkFailure(const Status& s, std::uint64_t chunk) const {
    if (s.code() != Code::kCorrupt) return s;
    return Corrupt("blob " + HexEncode(id_) + " chunk " + std::to_string(chunk) +
                   " fails verification");
  }

  const UniqueFd fd_;
  const std::string image_;
  const std::string id_;
  const crypto::Key key_;
  const std::optional<crypto::Key> outer_key_;
  const std::uint32_t chunk_size_;
  const format::Index index_;

  Mutex mu_;
  std::uint64_t cached_chunk_ GUARDED_BY(mu_) = 0;
  std::shared_ptr<const std::string> cached_ GUARDED_BY(mu_);
};

class DirBlobStore final : public BlobStore {
 public:
  DirBlobStore(std::string dir, const crypto::RootKey& root)
      : dir_(std::move(dir)),
        root_(root),
        temps_(std::make_shared<TempRegistry>()),
        pool_(std::max(1U, std::thread::hardware_concurrency())) {}

  DirBlobStore(const DirBlobStore&) = delete;
  DirBlobStore& operator=(const DirBlobStore&) = delete;

  Result<std::unique_ptr<BlobWriter>> NewWriter(const EncodeOptions& options) override {
    return StartWriter(options, /*in_memory=*/false);
  }

  Result<std::unique_ptr<BlobWriter>> NewInlineWriter(const EncodeOptions& options) override {
    return StartWriter(options, /*in_memory=*/true);
  }

  Result<std::unique_ptr<BlobReader>> OpenReader(std::string_view id, const crypto::Key* key,
                                                 const crypto::Key* outer_key) override {
    if (id.size() != kBlobIdBytes) return InvalidArgument("blob id must be 16 bytes");
    const std::string path = PathOf(id);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return PosixError(path, errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return PosixError(path, errno);
    const int raw_fd = fd.get();
    auto read_at = [&](std::string& buf, std::uint64_t offset) {
      return ReadExactly(raw_fd, buf, offset, path);
    };
    auto opened = Verify(read_at, static_cast<std::uint64_t>(st.st_size), path, key, outer_key);
    if (!opened.ok()) return opened.status();
    if (opened->id != id) return Corrupt(path + ": file holds another blob's id");
    return std::unique_ptr<BlobReader>(
        std::make_unique<DirBlobReader>(std::move(fd), std::string(), std::move(*opened)));
  }

  Result<std::unique_ptr<BlobReader>> OpenInline(std::string image, const crypto::Key* key,
                                                 const crypto::Key* outer_key) override {
    const std::string name = "inline blob";
    auto read_at = [&](std::string& buf, std::uint64_t offset) -> Status {
      if (offset > image.size() || buf.size() > image.size() - offset) {
        return Corrupt(name + ": too short");
      }
      buf.assign(image, static_cast<std::size_t>(offset), buf.size());
      return Status::Ok();
    };
    auto opened = Verify(read_at, image.size(), name, key, outer_key);
    if (!opened.ok()) return opened.status();
    return std::unique_ptr<BlobReader>(
        std::make_unique<DirBlobReader>(UniqueFd(), std::move(image), std::move(*opened)));
  }

  Status Remove(std::string_view id) override {
    if (id.size() != kBlobIdBytes) return InvalidArgument("blob id must be 16 bytes");
    const std::string path = PathOf(id);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      const int err = errno;
      return PosixError("unlink " + path, err);
    }
    return Status::Ok();
  }

  Result<std::vector<std::string>> List() override {
    std::vector<std::string> ids;
    Dir top(::opendir(dir_.c_str()));
    if (!top) return PosixError(dir_, errno);
    std::vector<std::string> shards;
    Status s = ReadNames(top.get(), dir_, shards);
    if (!s.ok()) return s;
    std::string raw;
    for (const std::string& shard : shards) {
      if (shard.size() != 2 || !HexDecode(shard, raw) || HexEncode(raw) != shard) continue;
      const std::string shard_path = dir_ + "/" + shard;
      Dir sub(::opendir(shard_path.c_str()));
      if (!sub) {
        if (errno == ENOTDIR || errno == ENOENT) continue;
        return PosixError(shard_path, errno);
      }
      std::vector<std::string> names;
      s = ReadNames(sub.get(), shard_path, names);
      if (!s.ok()) return s;
      for (const std::string& name : names) {
        // Only canonical names: 32 lower-case hex digits under their own shard.
        if (name.size() != 2 * kBlobIdBytes || name.compare(0, 2, shard) != 0) continue;
        if (!HexDecode(name, raw) || HexEncode(raw) != name) continue;
        ids.push_back(raw);
      }
    }
    return ids;
  }

  Result<std::size_t> SweepTemporaries() override {
    const std::string tmp_dir = dir_ + "/tmp";
    Dir dir(::opendir(tmp_dir.c_str()));
    if (!dir) {
      if (errno == ENOENT) return std::size_t{0};
      return PosixError(tmp_dir, errno);
    }
    std::vector<std::string> names;
    Status s = ReadNames(dir.get(), tmp_dir, names);
    if (!s.ok()) return s;
    std::size_t removed = 0;
    for (const std::string& name : names) {
      if (temps_->Contains(name)) continue;
      if (::unlinkat(dirfd(dir.get()), name.c_str(), 0) == 0) {
        ++removed;
      } else if (const int err = errno; err != ENOENT && err != EISDIR && err != EPERM) {
        // Linux reports EISDIR for a directory; leave strays of that kind.
        std::string what = "unlink " + tmp_dir;
        what += '/';
        what += name;
        return PosixError(what, err);
      }
    }
    return removed;
  }

  std::string PathOf(std::string_view id) const override {
    const std::string hex = HexEncode(id);
    return dir_ + "/" + hex.substr(0, 2) + "/" + hex;
  }

 private:
  static Status ReadExactly(int fd, std::string& buf, std::uint64_t offset,
                            const std::string& path) {
    Result<std::size_t> got =
        PreadFull(fd, buf.data(), buf.size(), static_cast<off_t>(offset), path);
    if (!got.ok()) return got.status();
    if (*got != buf.size()) return Corrupt(path + ": blob file shorter than it claims");
    return Status::Ok();
  }

  static Status Annotate(const std::string& path, const Status& s) {
    return {s.code(), path + ": " + s.message()};
  }

  // Names in `dir` other than "." and "..".
  static Status ReadNames(DIR* dir, const std::string& path, std::vector<std::string>& names) {
    for (;;) {
      errno = 0;
      struct dirent* entry = ::readdir(dir);
      if (entry == nullptr) {
        if (const int err = errno; err != 0) return PosixError("readdir " + path, err);
        return Status::Ok();
      }
      std::string_view name(entry->d_name);
      if (name == "." || name == "..") continue;
      names.emplace_back(name);
    }
  }

  // Reads and verifies header, footer and index through `read_at` (fills a
  // buffer of the given size from an offset) of a blob of `size` bytes,
  // sealed under `given_key` (or, format 1 only, the key in its header) and,
  // format 3 only, `outer_key`.
  template <typename ReadAt>
  Result<VerifiedBlob> Verify(ReadAt& read_at, std::uint64_t size, const std::string& path,
                              const crypto::Key* given_key, const crypto::Key* outer_key) {
    if (size < format::kHeaderBytes + format::kFooterBytes) {
      return Corrupt(path + ": too short for a blob");
    }
    std::string header_bytes(format::kHeaderBytes, '\0');
    Status s = read_at(header_bytes, 0);
    if (!s.ok()) return s;
    format::Header header;
    s = format::DecodeHeader(header_bytes, header);
    if (!s.ok()) return Annotate(path, s);
    Result<crypto::Key> key = crypto::Key{};
    if (header.format == format::kLegacyFormatVersion) {
      if (size < format::kLegacyHeaderBytes + format::kFooterBytes) {
        return Corrupt(path + ": too short for a blob");
      }
      header.wrapped_key.assign(crypto::RootKey::kWrappedBytes, '\0');
      s = read_at(header.wrapped_key, format::kHeaderBytes);
      if (!s.ok()) return s;
      header_bytes += header.wrapped_key;
      key = given_key ? *given_key : root_.Unwrap(header.wrapped_key, header.id);
    } else if (given_key) {
      key = *given_key;
    } else {
      return Corrupt(path + ": no data key for the blob (its object's key envelope is missing)");
    }
    if (!key.ok()) return Annotate(path, key.status());
    const bool dual = header.format == format::kDualLayerFormatVersion;
    if (dual && outer_key == nullptr) {
      return Corrupt(path + ": a dual-layer blob, but its object has one layer's key");
    }
    if (!dual && outer_key != nullptr) {
      return Corrupt(path + ": a single-layer blob, but its object is dual-layer (DSSE-KMS)");
    }

    std::string footer_bytes(format::kFooterBytes, '\0');
    s = read_at(footer_bytes, size - format::kFooterBytes);
    if (!s.ok()) return s;
    format::Footer footer;
    s = format::DecodeFooter(footer_bytes, size, footer);
    if (!s.ok()) return Annotate(path, s);

    // index_len is bounded by the blob size (DecodeFooter).
    std::string sealed_index(footer.index_len, '\0');
    s = read_at(sealed_index, footer.index_offset);
    if (!s.ok()) return s;
    std::string index_bytes;
    if (dual) {
      std::string inner;
      s = crypto::Open(*outer_key, format::IndexNonce(), format::OuterAad(header_bytes),
                       sealed_index, inner);
      if (s.ok()) s = crypto::Open(*key, format::IndexNonce(), header_bytes, inner, index_bytes);
    } else {
      s = crypto::Open(*key, format::IndexNonce(), header_bytes, sealed_index, index_bytes);
    }
    if (!s.ok()) {
      if (s.code() != Code::kCorrupt) return s;
      return Corrupt(path + ": blob index or header fails verification (damaged, or another " +
                     "object's data key)");
    }
    VerifiedBlob out{.id = header.id, .key = *key, .chunk_size = header.chunk_size};
    if (dual) out.outer_key = *outer_key;
    s = format::DecodeIndex(index_bytes, header.chunk_size, header_bytes.size(),
                            footer.index_offset, format::SealOverhead(header.format), out.index);
    if (!s.ok()) return Annotate(path, s);
    return out;
  }

  Result<std::unique_ptr<BlobWriter>> StartWriter(const EncodeOptions& options, bool in_memory) {
    if (options.chunk_size == 0 || options.chunk_size > format::kMaxChunkSize) {
      return InvalidArgument("blob chunk size out of range: " + std::to_string(options.chunk_size));
    }
    if (options.zstd_level < std::max(ZSTD_minCLevel(), -128) ||
        options.zstd_level > ZSTD_maxCLevel()) {
      return InvalidArgument("zstd level out of range: " + std::to_string(options.zstd_level));
    }
    std::string id(kBlobIdBytes, '\0');
    Status s =
        crypto::RandomBytes(std::span(reinterpret_cast<unsigned char*>(id.data()), id.size()));
    if (!s.ok()) return s;
    Result<crypto::Key> key = crypto::RandomKey();
    if (!key.ok()) return key.status();
    std::optional<crypto::Key> outer_key;
    if (options.dual_layer) {
      Result<crypto::Key> outer = crypto::RandomKey();
      if (!outer.ok()) return outer.status();
      outer_key = *outer;
    }

    format::Header header{
        .format = options.dual_layer ? format::kDualLayerFormatVersion : format::kFormatVersion,
        .level = static_cast<std::uint8_t>(options.zstd_level),
        .chunk_size = options.chunk_size,
        .id = id};
    std::string header_bytes = format::EncodeHeader(header);
    if (in_memory) {
      return std::unique_ptr<BlobWriter>(
          std::make_unique<DirBlobWriter>(DirBlobWriter::Params{.dir = dir_,
                                                                .temps = temps_,
                                                                .id = std::move(id),
                                                                .key = *key,
                                                                .outer_key = outer_key,
                                                                .header = std::move(header_bytes),
                                                                .options = options,
                                                                .pool = &pool_,
                                                                .in_memory = true}));
    }

    std::string nonce(16, '\0');
    s = crypto::RandomBytes(
        std::span(reinterpret_cast<unsigned char*>(nonce.data()), nonce.size()));
    if (!s.ok()) return s;
    std::string tmp_name = HexEncode(nonce) + ".tmp";
    const std::string tmp_dir = dir_ + "/tmp";
    s = EnsureDir(tmp_dir, dir_);
    if (!s.ok()) return s;
    // Registered before the file exists so a concurrent sweep never sees it
    // unregistered.
    temps_->Add(tmp_name);
    const std::string tmp_path = tmp_dir + "/" + tmp_name;
    UniqueFd fd(::open(tmp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kFileMode));
    if (!fd.valid()) {
      int err = errno;
      temps_->Remove(tmp_name);
      return PosixError(tmp_path, err);
    }
    s = PwriteAll(fd.get(), header_bytes, 0, tmp_path);
    // From here the writer owns the file and removes it if dropped.
    auto writer =
        std::make_unique<DirBlobWriter>(DirBlobWriter::Params{.dir = dir_,
                                                              .temps = temps_,
                                                              .tmp_name = std::move(tmp_name),
                                                              .fd = std::move(fd),
                                                              .id = std::move(id),
                                                              .key = *key,
                                                              .outer_key = outer_key,
                                                              .header = std::move(header_bytes),
                                                              .options = options,
                                                              .pool = &pool_});
    if (!s.ok()) return s;
    return std::unique_ptr<BlobWriter>(std::move(writer));
  }

  const std::string dir_;
  const crypto::RootKey& root_;
  const std::shared_ptr<TempRegistry> temps_;
  // Compresses and seals chunks of large objects on every core. Declared
  // last: destroyed first, after running what writers left queued.
  WorkPool pool_;
};

}  // namespace

Result<std::unique_ptr<BlobStore>> BlobStore::Open(const std::string& dir,
                                                   const crypto::RootKey& root) {
  bool created = false;
  Status s = MakeDir(dir, created);
  if (!s.ok()) return s;
  s = EnsureDir(dir + "/tmp", dir);
  if (!s.ok()) return s;
  return std::unique_ptr<BlobStore>(std::make_unique<DirBlobStore>(dir, root));
}

}  // namespace shoal::tiers
