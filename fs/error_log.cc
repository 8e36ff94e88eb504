#include "fs/error_log.h"

#include <algorithm>

namespace shoal::fs {

void ErrorLog::Record(std::string_view path, const Status& status) {
  std::string line = FormatIso8601(clock_.Now());
  line += ' ';
  line += path.empty() ? std::string_view("/") : path;
  line += ' ';
  line += status.ToString();
  // One request, one line: a message must not forge extra lines.
  std::replace(line.begin(), line.end(), '\n', ' ');
  line += '\n';
  MutexLock lock(mu_);
  lines_.push_back(std::move(line));
  if (lines_.size() > kCapacity) lines_.pop_front();
}

std::string ErrorLog::Snapshot() const {
  MutexLock lock(mu_);
  std::string out;
  for (const auto& l : lines_) out += l;
  return out;
}

}  // namespace shoal::fs
