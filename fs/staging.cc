#include "fs/staging.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "base/file_util.h"
#include "crypto/aead.h"

namespace shoal::fs {

namespace {
constexpr std::size_t kCopyBytes = 1 << 20;
}

Result<std::shared_ptr<Staging>> Staging::Create(const std::string& dir, TimeNs now) {
  UniqueFd fd(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (!fd.valid()) return PosixError("create staging file in " + dir, errno);
  return std::shared_ptr<Staging>(new Staging(std::move(fd), now));
}

Status Staging::Fill(tiers::BlobReader& reader) {
  WriterLock lock(mu_);
  std::vector<char> buf(kCopyBytes);
  std::uint64_t offset = 0;
  while (offset < reader.size()) {
    auto n = reader.Read(offset, buf.data(), buf.size());
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    Status s = PwriteAll(fd_.get(), std::string_view(buf.data(), *n), static_cast<off_t>(offset),
                         "staging write");
    if (!s.ok()) return s;
    offset += *n;
  }
  size_ = offset;
  return Status::Ok();
}

Result<std::size_t> Staging::Read(char* buf, std::size_t n, std::uint64_t offset) {
  ReaderLock lock(mu_);
  if (offset >= size_) return std::size_t{0};
  if (n > size_ - offset) n = static_cast<std::size_t>(size_ - offset);
  return PreadFull(fd_.get(), buf, n, static_cast<off_t>(offset), "staging read");
}

Status Staging::Write(std::string_view data, std::uint64_t offset, TimeNs now) {
  if (offset > kMaxObjectBytes || data.size() > kMaxObjectBytes - offset) {
    return {Code::kEntityTooLarge,
            "Your proposed upload exceeds the maximum allowed object size (5 TiB)"};
  }
  WriterLock lock(mu_);
  Status s = PwriteAll(fd_.get(), data, static_cast<off_t>(offset), "staging write");
  if (!s.ok()) return s;
  if (offset + data.size() > size_) size_ = offset + data.size();
  mtime_ = now;
  ++generation_;
  return Status::Ok();
}

Status Staging::Truncate(std::uint64_t size, TimeNs now) {
  if (size > kMaxObjectBytes) {
    return {Code::kEntityTooLarge,
            "Your proposed upload exceeds the maximum allowed object size (5 TiB)"};
  }
  WriterLock lock(mu_);
  if (::ftruncate(fd_.get(), static_cast<off_t>(size)) != 0) {
    return PosixError("staging truncate", errno);
  }
  size_ = size;
  mtime_ = now;
  ++generation_;
  return Status::Ok();
}

void Staging::SetMtime(TimeNs mtime) {
  WriterLock lock(mu_);
  mtime_ = mtime;
  ++generation_;
}

std::uint64_t Staging::size() const {
  ReaderLock lock(mu_);
  return size_;
}

TimeNs Staging::mtime() const {
  ReaderLock lock(mu_);
  return mtime_;
}

bool Staging::dirty() const {
  ReaderLock lock(mu_);
  return generation_ != committed_generation_;
}

Result<Staging::Snapshot> Staging::Encode(tiers::BlobStore& blobs,
                                          const tiers::EncodeOptions& options) {
  // Exclusive: the snapshot must not tear under a concurrent write. Only
  // this object's writers wait; the encode is the object's own PUT.
  WriterLock lock(mu_);
  Snapshot snap{.mtime = mtime_, .generation = generation_};
  if (size_ == 0) {
    crypto::Md5 md5;
    snap.blob = {.id = "", .size = 0, .md5 = md5.Finish(), .stored_bytes = 0};
    return snap;
  }
  auto writer = blobs.NewWriter(options);
  if (!writer.ok()) return writer.status();
  std::vector<char> buf(kCopyBytes);
  std::uint64_t offset = 0;
  while (offset < size_) {
    auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), size_ - offset));
    auto n = PreadFull(fd_.get(), buf.data(), want, static_cast<off_t>(offset), "staging read");
    if (!n.ok()) return n.status();
    if (*n != want) return Internal("staging file shorter than its recorded size");
    Status s = (*writer)->Append(std::string_view(buf.data(), *n));
    if (!s.ok()) return s;
    offset += *n;
  }
  auto info = (*writer)->Finish();
  if (!info.ok()) return info.status();
  snap.blob = std::move(*info);
  return snap;
}

void Staging::MarkCommitted(std::uint64_t generation) {
  WriterLock lock(mu_);
  if (generation > committed_generation_) committed_generation_ = generation;
}

}  // namespace shoal::fs
