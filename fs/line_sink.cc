#include "fs/line_sink.h"

#include <utility>
#include <vector>

namespace shoal::fs {

LineSink::LineSink(std::size_t max_line, std::string what)
    : max_line_(max_line), what_(std::move(what)) {}

Status LineSink::TooLongLine() const {
  return {Code::kRecordTooLarge, "a line longer than the largest record " + what_ + " accepts (" +
                                     std::to_string((max_line_ - 1) / 1024) + " KiB) was dropped"};
}

Result<std::size_t> LineSink::Write(std::string_view data) {
  MutexLock lock(mu_);
  const std::size_t before = pending_.size();  // bytes of earlier writes
  pending_.append(data);
  std::vector<std::string_view> lines;
  std::vector<std::size_t> ends;  // where each line's newline ends, in pending_
  std::size_t start = 0;
  for (std::size_t nl = pending_.find('\n', before); nl != std::string::npos;
       nl = pending_.find('\n', nl + 1)) {
    lines.emplace_back(pending_.data() + start, nl - start);
    start = nl + 1;
    ends.push_back(start);
  }
  if (lines.empty()) {
    if (pending_.size() > max_line_) {
      pending_.clear();
      return TooLongLine();
    }
    return data.size();
  }
  const Taken taken = PutLines(lines);
  if (taken.lines == lines.size()) {
    pending_.erase(0, start);
    if (pending_.size() > max_line_) {
      pending_.clear();
      return TooLongLine();
    }
    return data.size();
  }
  // Stopped at line `taken.lines`: what the records before it took is taken.
  const std::size_t consumed = taken.lines == 0 ? 0 : ends[taken.lines - 1];
  const bool drop_failed = taken.status.code() == Code::kRecordTooLarge;
  if (consumed > before) {
    // Part of this write was taken: a short write. The rest is the
    // writer's to retry; an oversized line is dropped by not keeping it.
    pending_.clear();
    return consumed - before;
  }
  // None of this write was taken: keep what earlier writes left of the
  // failing line (unless it is the oversized line) and refuse the write.
  pending_.resize(before);
  pending_.erase(0, consumed);
  if (drop_failed) pending_.clear();
  return taken.status;
}

Status LineSink::Release() {
  MutexLock lock(mu_);
  if (pending_.empty()) return Status::Ok();
  const std::string_view line = pending_;
  const Taken taken = PutLines(std::span(&line, 1));
  pending_.clear();
  return taken.status;
}

}  // namespace shoal::fs
