#pragma once
// ErrorLog: the recent rejected requests shown in MNT/.shoal/errors, one
// line each, newest last: "<time> <path> <AwsErrorCode>: <message>".
// Bounded: keeps the newest kCapacity lines.
// Thread-safety: all methods may be called concurrently.

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"

namespace shoal::fs {

class ErrorLog {
 public:
  static constexpr std::size_t kCapacity = 1000;
  // `clock` must outlive the log.
  explicit ErrorLog(const Clock& clock) : clock_(clock) {}

  void Record(std::string_view path, const Status& status);
  // Every kept line, each ending in '\n'.
  std::string Snapshot() const;

 private:
  const Clock& clock_;
  mutable Mutex mu_;
  std::deque<std::string> lines_ GUARDED_BY(mu_);
};

}  // namespace shoal::fs
