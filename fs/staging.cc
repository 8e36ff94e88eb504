#include "fs/staging.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <vector>

#include "base/file_util.h"
#include "crypto/aead.h"

namespace shoal::fs {

namespace {
constexpr std::size_t kCopyBytes = 1 << 20;

Status TooLarge() {
  return {Code::kEntityTooLarge,
          "Your proposed upload exceeds the maximum allowed object size (5 TiB)"};
}

// Bytes of the memory budget handed out to staging copies (kMemoryLimit
// each, for as long as they stay in memory).
std::atomic<std::size_t> memory_reserved{0};

bool ReserveMemory() {
  std::size_t now = memory_reserved.load(std::memory_order_relaxed);
  do {
    if (now + kMemoryLimit > kMemoryBudget) return false;
  } while (!memory_reserved.compare_exchange_weak(now, now + kMemoryLimit));
  return true;
}

void ReleaseMemory() {
  memory_reserved.fetch_sub(kMemoryLimit);
}

}  // namespace

Staging::Staging(std::string dir, std::shared_ptr<tiers::BlobReader> base, TimeNs mtime,
                 std::optional<StreamTarget> stream)
    : dir_(std::move(dir)), stream_target_(stream), base_(std::move(base)), mtime_(mtime) {
  WriterLock lock(data_mu_);
  in_memory_ = ReserveMemory();
  {
    MutexLock streaming(stream_mu_);
    streamable_ = stream_target_.has_value() && !base_;
  }
  MutexLock meta(meta_mu_);
  size_ = base_ ? base_->size() : 0;
}

Staging::~Staging() {
  WriterLock lock(data_mu_);
  if (in_memory_) ReleaseMemory();
}

Result<std::shared_ptr<Staging>> Staging::Create(const std::string& dir,
                                                 std::shared_ptr<tiers::BlobReader> base,
                                                 TimeNs mtime, std::optional<StreamTarget> stream) {
  auto st = std::shared_ptr<Staging>(new Staging(dir, std::move(base), mtime, stream));
  WriterLock lock(st->data_mu_);
  if (!st->in_memory_) {
    Status s = st->SpillLocked();
    if (!s.ok()) return s;
  }
  return st;
}

Status Staging::SpillLocked() {
  UniqueFd fd(::open(dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (!fd.valid()) return PosixError("create staging file in " + dir_, errno);
  if (!memory_.empty()) {
    Status s = PwriteAll(fd.get(), memory_, 0, "staging write");
    if (!s.ok()) return s;
  }
  fd_ = std::move(fd);
  std::string().swap(memory_);
  if (in_memory_) ReleaseMemory();
  in_memory_ = false;
  return Status::Ok();
}

Status Staging::StoreLocked(std::string_view data, std::uint64_t offset) {
  if (in_memory_ && offset + data.size() > kMemoryLimit) {
    Status s = SpillLocked();
    if (!s.ok()) return s;
  }
  if (!in_memory_) {
    return PwriteAll(fd_.get(), data, static_cast<off_t>(offset), "staging write");
  }
  if (memory_.size() < offset + data.size()) memory_.resize(offset + data.size());
  std::copy(data.begin(), data.end(), memory_.begin() + static_cast<std::ptrdiff_t>(offset));
  return Status::Ok();
}

Result<std::size_t> Staging::LoadLocked(char* buf, std::size_t n, std::uint64_t offset) {
  if (!in_memory_) return PreadFull(fd_.get(), buf, n, static_cast<off_t>(offset), "staging read");
  if (offset >= memory_.size()) return std::size_t{0};
  n = std::min<std::size_t>(n, memory_.size() - offset);
  std::copy_n(memory_.data() + offset, n, buf);
  return n;
}

Status Staging::ResizeLocked(std::uint64_t size) {
  if (in_memory_ && size > kMemoryLimit) {
    Status s = SpillLocked();
    if (!s.ok()) return s;
  }
  if (!in_memory_) {
    if (::ftruncate(fd_.get(), static_cast<off_t>(size)) != 0) {
      return PosixError("staging truncate", errno);
    }
    return Status::Ok();
  }
  memory_.resize(size);
  return Status::Ok();
}

Status Staging::FillLocked() {
  if (!base_) return Status::Ok();
  std::vector<char> buf(kCopyBytes);
  std::uint64_t offset = 0;
  while (offset < base_->size()) {
    auto n = base_->Read(offset, buf.data(), buf.size());
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    Status s = StoreLocked(std::string_view(buf.data(), *n), offset);
    if (!s.ok()) return s;
    offset += *n;
  }
  base_.reset();
  return Status::Ok();
}

Result<std::size_t> Staging::Read(char* buf, std::size_t n, std::uint64_t offset) {
  ReaderLock lock(data_mu_);
  std::uint64_t size = this->size();
  if (offset >= size) return std::size_t{0};
  if (n > size - offset) n = static_cast<std::size_t>(size - offset);
  if (base_) return base_->Read(offset, buf, n);  // nothing changed yet
  return LoadLocked(buf, n, offset);
}

void Staging::StreamLocked(std::string_view data, std::uint64_t offset, std::uint64_t old_size) {
  MutexLock streaming(stream_mu_);
  if (!streamable_) return;
  if (offset != old_size) {
    stream_.reset();
    streamable_ = false;
    return;
  }
  if (!stream_) {
    if (offset + data.size() <= kInlineMaxBytes) return;  // inline: encoded at commit
    auto writer = stream_target_->blobs->NewWriter(stream_target_->options);
    Status s = writer.ok() ? Status::Ok() : writer.status();
    if (s.ok() && offset > 0) {
      s = in_memory_ ? (*writer)->Append(std::string_view(memory_).substr(0, offset))
                     : CopyFileLocked(**writer, offset);
    }
    if (!s.ok()) {  // the commit will encode the copy (and report trouble)
      streamable_ = false;
      return;
    }
    stream_ = std::move(*writer);
    streamed_ = offset;
  }
  if (!stream_->Append(data).ok()) {
    stream_.reset();
    streamable_ = false;
    return;
  }
  streamed_ += data.size();
}

Status Staging::Write(std::string_view data, std::uint64_t offset, TimeNs now) {
  if (offset > kMaxObjectBytes || data.size() > kMaxObjectBytes - offset) return TooLarge();
  WriterLock lock(data_mu_);
  Status s = FillLocked();
  if (!s.ok()) return s;
  s = StoreLocked(data, offset);
  if (!s.ok()) return s;
  StreamLocked(data, offset, size());
  MutexLock meta(meta_mu_);
  size_ = std::max<std::uint64_t>(size_, offset + data.size());
  mtime_ = now;
  ++generation_;
  return Status::Ok();
}

Status Staging::Truncate(std::uint64_t size, TimeNs now) {
  if (size > kMaxObjectBytes) return TooLarge();
  WriterLock lock(data_mu_);
  // Truncating to zero needs none of the old content.
  Status s = size == 0 ? Status::Ok() : FillLocked();
  if (!s.ok()) return s;
  base_.reset();
  s = ResizeLocked(size);
  if (!s.ok()) return s;
  {
    // Emptied, the copy may stream again from its start.
    MutexLock streaming(stream_mu_);
    stream_.reset();
    streamed_ = 0;
    streamable_ = stream_target_.has_value() && size == 0;
  }
  MutexLock meta(meta_mu_);
  size_ = size;
  mtime_ = now;
  ++generation_;
  return Status::Ok();
}

bool Staging::AmendIfDirty(const Amendment& change) {
  MutexLock meta(meta_mu_);
  if (generation_ == committed_generation_) return false;
  if (change.mode) amended_.mode = change.mode;
  if (change.uid) amended_.uid = change.uid;
  if (change.gid) amended_.gid = change.gid;
  if (change.mtime) mtime_ = *change.mtime;
  ++generation_;
  return true;
}

Staging::Amendment Staging::amended() const {
  MutexLock meta(meta_mu_);
  return amended_;
}

void Staging::SetMtime(TimeNs mtime) {
  MutexLock meta(meta_mu_);
  mtime_ = mtime;
}

std::uint64_t Staging::size() const {
  MutexLock meta(meta_mu_);
  return size_;
}

TimeNs Staging::mtime() const {
  MutexLock meta(meta_mu_);
  return mtime_;
}

bool Staging::dirty() const {
  MutexLock meta(meta_mu_);
  return generation_ != committed_generation_;
}

Status Staging::CopyFileLocked(tiers::BlobWriter& writer, std::uint64_t size) {
  std::vector<char> buf(kCopyBytes);
  std::uint64_t offset = 0;
  while (offset < size) {
    auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), size - offset));
    auto n = PreadFull(fd_.get(), buf.data(), want, static_cast<off_t>(offset), "staging read");
    if (!n.ok()) return n.status();
    if (*n != want) return Internal("staging file shorter than its recorded size");
    Status s = writer.Append(std::string_view(buf.data(), *n));
    if (!s.ok()) return s;
    offset += *n;
  }
  return Status::Ok();
}

Result<Staging::Snapshot> Staging::Encode(tiers::BlobStore& blobs,
                                          const tiers::EncodeOptions& options) {
  // Shared with readers, exclusive of writers: the snapshot must not tear
  // under a concurrent write. Only this object's writers wait. A dirty
  // staging has been filled already (every change fills first).
  ReaderLock lock(data_mu_);
  Snapshot snap;
  std::uint64_t size = 0;
  {
    MutexLock meta(meta_mu_);
    snap.mtime = mtime_;
    snap.amended = amended_;
    snap.generation = generation_;
    size = size_;
  }
  if (base_) return Internal("encoding a staging copy that was never changed");
  if (size == 0) {
    crypto::Md5 md5;
    snap.blob = {.id = "", .size = 0, .md5 = md5.Finish(), .stored_bytes = 0};
    return snap;
  }
  std::unique_ptr<tiers::BlobWriter> streamed;
  {
    MutexLock streaming(stream_mu_);
    // A stream of other options (the bucket's encryption changed meanwhile)
    // is dropped.
    if (stream_ && streamed_ == size && stream_target_->options == options) {
      streamed = std::move(stream_);
    }
    // Later appends would have to stream from the start again.
    stream_.reset();
    streamable_ = false;
  }
  if (!streamed) {
    auto writer =
        size <= kInlineMaxBytes ? blobs.NewInlineWriter(options) : blobs.NewWriter(options);
    if (!writer.ok()) return writer.status();
    Status s = in_memory_ ? (*writer)->Append(memory_) : CopyFileLocked(**writer, size);
    if (!s.ok()) return s;
    streamed = std::move(*writer);
  }
  auto info = streamed->Finish();
  if (!info.ok()) return info.status();
  snap.blob = std::move(*info);
  return snap;
}

void Staging::MarkCommitted(std::uint64_t generation) {
  MutexLock meta(meta_mu_);
  committed_generation_ = std::max(committed_generation_, generation);
  // Clean: the commit recorded every amendment (the entry has them now).
  if (committed_generation_ == generation_) amended_ = Amendment{};
}

}  // namespace shoal::fs
