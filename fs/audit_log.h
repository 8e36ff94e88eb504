#pragma once
// The audit trail behind MNT/.shoal/audit.log (DESIGN §2): CloudTrail-like
// JSON lines of control and KMS calls, appended to STORE/audit.log so that
// it survives remounts.
//
// Thread-safety: Append and Snapshot may be called from many threads.

#include <string>
#include <string_view>

#include "base/mutex.h"
#include "base/raii.h"
#include "base/status.h"

namespace shoal::fs {

class AuditLog {
 public:
  AuditLog() = default;
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Opens (creating, mode 0600) the file at `path` for appending.
  Status Open(const std::string& path) EXCLUDES(mu_);
  // Appends `line` and a newline. A failed write is returned; nothing is
  // buffered (each line is one write(2) on an O_APPEND descriptor).
  Status Append(std::string_view line) EXCLUDES(mu_);
  // The whole log.
  Result<std::string> Snapshot() const;

 private:
  std::string path_;
  Mutex mu_;
  UniqueFd fd_ GUARDED_BY(mu_);
};

}  // namespace shoal::fs
