#include "base/file_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "base/raii.h"

namespace shoal {

Status PwriteAll(int fd, std::string_view data, off_t offset, std::string_view what) {
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd, data.data(), data.size(), offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return PosixError(what, errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
    offset += n;
  }
  return Status::Ok();
}

Result<std::size_t> PreadFull(int fd, char* buf, std::size_t n, off_t offset,
                              std::string_view what) {
  std::size_t done = 0;
  while (done < n) {
    ssize_t got = ::pread(fd, buf + done, n - done, offset + static_cast<off_t>(done));
    if (got < 0) {
      if (errno == EINTR) continue;
      return PosixError(what, errno);
    }
    if (got == 0) break;
    done += static_cast<std::size_t>(got);
  }
  return done;
}

Result<std::string> ReadFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return PosixError(path, errno);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return PosixError(path, errno);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

Status SyncDirectory(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return PosixError(dir, errno);
  if (::fsync(fd.get()) != 0) return PosixError("fsync " + dir, errno);
  return Status::Ok();
}

Status WriteFileDurably(const std::string& path, std::string_view data, mode_t mode) {
  std::string tmp = path + ".tmp";
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd.valid()) return PosixError(tmp, errno);
  Status s = PwriteAll(fd.get(), data, 0, tmp);
  if (!s.ok()) return s;
  if (::fsync(fd.get()) != 0) return PosixError("fsync " + tmp, errno);
  fd.Reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) return PosixError("rename " + path, errno);
  auto slash = path.rfind('/');
  return SyncDirectory(slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash));
}

}  // namespace shoal
