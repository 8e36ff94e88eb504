#include "fs/audit_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "base/file_util.h"

namespace shoal::fs {

Status AuditLog::Open(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return PosixError("open " + path, errno);
  MutexLock lock(mu_);
  path_ = path;
  fd_ = std::move(fd);
  return Status::Ok();
}

Status AuditLog::Append(std::string_view line) {
  std::string record(line);
  record += '\n';
  MutexLock lock(mu_);
  if (!fd_.valid()) return Internal("audit log not open");
  const ssize_t n = ::write(fd_.get(), record.data(), record.size());
  if (n < 0) return PosixError("append to " + path_, errno);
  if (static_cast<std::size_t>(n) != record.size()) {
    return {Code::kStoreFull, "short append to " + path_};
  }
  return Status::Ok();
}

Result<std::string> AuditLog::Snapshot() const {
  return ReadFile(path_);
}

}  // namespace shoal::fs
