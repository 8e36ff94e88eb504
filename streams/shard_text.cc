// ShardText: a sparse index from record offsets to line positions, built
// incrementally by scanning the log, so that the size of the text and any
// byte of it are found without rendering the shard.
//
// Positions are "logical": the bytes of every line scanned since the view
// was made, so they never change once assigned, and the view's byte b is
// logical position head.pos + b. Retention moves the head forward; the
// head's position is found from the nearest checkpoint after it (the
// records before the head may be unreadable now, so we never scan
// backwards from below it). Records that retention drops before we scan
// them count as zero bytes: the positions after them stay consistent, and
// nothing below the head is ever addressed again.

#include "streams/shard_text.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "streams/stream_store.h"

namespace shoal::streams {
namespace {

// The record bytes (keys and data) one log visit covers at most; a walk
// then visits again.
constexpr std::size_t kScanChunkBytes = std::size_t{1} << 20;

}  // namespace

ShardText::ShardText(std::shared_ptr<const ShardLog> log, ShardOrdinal shard,
                     const ShardTextOptions& options)
    : log_(std::move(log)), shard_(shard), options_(options) {}

std::size_t ShardText::checkpoint_count() {
  MutexLock lock(mu_);
  return checkpoints_.size();
}

void ShardText::Extend(std::uint64_t length) {
  scanned_.offset += 1;
  scanned_.pos += length;
  const Point& last = checkpoints_.back();
  if (scanned_.offset - last.offset >= options_.checkpoint_records ||
      scanned_.pos - last.pos >= options_.checkpoint_bytes) {
    checkpoints_.push_back(scanned_);
  }
}

void ShardText::NoteAppended(std::uint64_t first, std::span<const RecordIn> records) {
  // A read holds the view for as long as it renders: the appender does not
  // wait for it (the next walk scans what was not noted).
  if (!mu_.TryLock()) return;
  IndexAppended(first, records);
  mu_.Unlock();
}

void ShardText::IndexAppended(std::uint64_t first, std::span<const RecordIn> records) {
  if (checkpoints_.empty()) {
    // Nothing read yet: the index starts at the head, as SyncHead starts it.
    scanned_ = Point{.offset = log_->first_offset(), .pos = 0};
    checkpoints_.push_back(scanned_);
  }
  if (first != scanned_.offset) return;
  for (const RecordIn& r : records) {
    Extend(GetRecordsLineLength(
        RecordView{.offset = scanned_.offset, .partition_key = r.partition_key, .data = r.data},
        shard_));
  }
}

template <class Visit>
Result<ShardText::WalkEnd> ShardText::Walk(Point from, std::uint64_t stop, std::size_t chunk_bytes,
                                           Visit&& visit) {
  Point at = from;
  while (at.offset < stop) {
    const std::uint64_t before = at.offset;
    bool stopped = false;
    std::optional<std::uint64_t> misplaced;  // a record's offset, where at.offset was expected
    Result<ReadResult> r = log_->Visit(
        at.offset, stop - at.offset, chunk_bytes,
        [&](const RecordView& record) {
          mu_.AssertHeld();  // Visit calls back on this thread, inside Walk
          if (record.offset != at.offset) {
            misplaced = record.offset;
            return false;
          }
          const std::uint64_t length = GetRecordsLineLength(record, shard_);
          // Walks are contiguous and start at or before scanned_, so a walk
          // that reaches scanned_ has at.pos == scanned_.pos.
          if (at.offset == scanned_.offset) Extend(length);
          stopped = !visit(record, at.pos, length);
          at.offset += 1;
          at.pos += length;
          return !stopped;
        },
        &batch_);
    if (!r.ok()) return r.status();
    // Retention passed `at` (the log then visits from its new head): what
    // follows has no known position (the records before it cannot be
    // measured any more). The caller starts again from the new head.
    if (r->trimmed) return WalkEnd::kTrimmed;
    if (misplaced) {
      return Internal(log_->dir() + ": read offset " + std::to_string(*misplaced) + " where " +
                      std::to_string(at.offset) + " was expected");
    }
    if (stopped) return WalkEnd::kStopped;
    if (at.offset == before) return WalkEnd::kEnd;  // nothing more to read
  }
  return WalkEnd::kStopped;
}

Status ShardText::SyncHead() {
  for (;;) {
    const std::uint64_t head = log_->first_offset();
    if (checkpoints_.empty()) {
      scanned_ = Point{.offset = head, .pos = 0};
      checkpoints_.push_back(scanned_);
      return Status::Ok();
    }
    // first_offset() only grows, and the head was a value of it.
    if (head <= checkpoints_.front().offset) return Status::Ok();
    if (head >= scanned_.offset) {
      // Everything scanned is gone, and perhaps records never scanned:
      // they count as empty, so the head takes the scanned end's position.
      scanned_.offset = head;
      checkpoints_.assign(1, scanned_);
      return Status::Ok();
    }
    // The head is inside the scanned range: its position is that of the
    // first checkpoint (or the scanned end) after it, less the lines of the
    // records in between, which are at most one checkpoint interval.
    auto it = std::lower_bound(checkpoints_.begin(), checkpoints_.end(), head,
                               [](const Point& p, std::uint64_t o) { return p.offset < o; });
    const Point after = it != checkpoints_.end() ? *it : scanned_;
    std::uint64_t between = 0;
    if (after.offset > head) {
      // The walk stops before `after`, at or before scanned_, so it does
      // not extend the index and the position it is given does not matter.
      Result<WalkEnd> walk =
          Walk(Point{.offset = head, .pos = 0}, after.offset, kScanChunkBytes,
               [&between](const RecordView&, std::uint64_t, std::uint64_t length) {
                 between += length;
                 return true;
               });
      if (!walk.ok()) return walk.status();
      if (*walk == WalkEnd::kTrimmed) continue;  // the head moved again
      if (*walk == WalkEnd::kEnd) {
        return Internal(log_->dir() + ": records " + std::to_string(head) + ".." +
                        std::to_string(after.offset) + " vanished from the log");
      }
    }
    checkpoints_.erase(checkpoints_.begin(), it);
    if (after.offset > head) {
      checkpoints_.push_front(Point{.offset = head, .pos = after.pos - between});
    }
    return Status::Ok();
  }
}

Result<std::uint64_t> ShardText::Size() {
  MutexLock lock(mu_);
  for (;;) {
    Status s = SyncHead();
    if (!s.ok()) return s;
    const std::uint64_t stop = log_->next_offset();
    Result<WalkEnd> walk =
        Walk(scanned_, stop, kScanChunkBytes,
             [](const RecordView&, std::uint64_t, std::uint64_t) { return true; });
    if (!walk.ok()) {
      // Damage ends the text as a short file would, so stat keeps working;
      // Read at that byte reports the damage.
      if (walk.status().code() != Code::kCorrupt) return walk.status();
    } else if (*walk == WalkEnd::kTrimmed) {
      continue;
    }
    return scanned_.pos - checkpoints_.front().pos;
  }
}

Result<std::size_t> ShardText::Read(std::uint64_t offset, char* buf, std::size_t size,
                                    Served* served) {
  if (served != nullptr) *served = Served{};
  if (size == 0) return std::size_t{0};
  MutexLock lock(mu_);
  for (;;) {
    Status s = SyncHead();
    if (!s.ok()) return s;
    const Point head = checkpoints_.front();
    constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
    if (offset > kMax - head.pos) return std::size_t{0};
    const std::uint64_t begin = head.pos + offset;
    const std::uint64_t end = begin + std::min<std::uint64_t>(size, kMax - begin);

    // Start from the last known record boundary at or before `begin`: a
    // checkpoint, the cursor of a sequential reader, or the scanned end.
    auto it = std::upper_bound(checkpoints_.begin(), checkpoints_.end(), begin,
                               [](std::uint64_t p, const Point& c) { return p < c.pos; });
    Point from = *std::prev(it);  // front() is the head, at or before `begin`
    if (cursor_valid_ && cursor_.offset >= head.offset && cursor_.offset <= scanned_.offset &&
        cursor_.pos <= begin && cursor_.pos > from.pos) {
      from = cursor_;
    }
    if (scanned_.pos <= begin && scanned_.pos > from.pos) from = scanned_;

    std::size_t copied = 0;
    Point last{};
    Served got;
    std::optional<std::uint64_t> mismatch;  // a record whose line length was wrong
    std::string line;                       // the line being copied (reused)
    // A line is longer than its record's key and data, so the lines from
    // `from` to `end` need at most end - from.pos bytes of them: read no
    // more at a time (tail -f's small reads stay small).
    const std::size_t chunk_bytes =
        static_cast<std::size_t>(std::min<std::uint64_t>(end - from.pos, kScanChunkBytes));
    Result<WalkEnd> walk =
        Walk(from, kMax, chunk_bytes,
             [&](const RecordView& record, std::uint64_t pos, std::uint64_t length) {
               if (pos + length <= begin) return true;  // before the bytes asked for
               if (pos >= end) return false;
               if (pos >= begin && pos + length <= end) {
                 // The whole line is asked for: render it in place.
                 const char* stop = WriteGetRecordsLine(record, shard_, buf + copied);
                 if (stop != buf + copied + length) {
                   mismatch = record.offset;
                   return false;
                 }
                 copied += static_cast<std::size_t>(length);
               } else {
                 line.clear();
                 AppendGetRecordsLine(record, shard_, line);
                 if (line.size() != length) {
                   mismatch = record.offset;
                   return false;
                 }
                 const std::uint64_t skip = begin > pos ? begin - pos : 0;
                 const std::uint64_t n = std::min<std::uint64_t>(line.size(), end - pos) - skip;
                 std::memcpy(buf + copied, line.data() + skip, static_cast<std::size_t>(n));
                 copied += static_cast<std::size_t>(n);
               }
               last = Point{.offset = record.offset, .pos = pos};
               if (pos + length <= end) {
                 got.records += 1;
                 got.bytes += record.partition_key.size() + record.data.size();
                 got.next_offset = record.offset + 1;
                 got.last_arrival = record.arrival;
               }
               return copied < size;
             });
    if (mismatch) {
      return Internal("GetRecordsLineLength disagrees with GetRecordsLine at offset " +
                      std::to_string(*mismatch));
    }
    if (copied > 0) {
      cursor_ = last;
      cursor_valid_ = true;
      if (served != nullptr) *served = got;
      // A failure or a trim after some bytes: return them, as a short read
      // of the text as it was; the next call meets the failure or the new
      // head.
      return copied;
    }
    if (!walk.ok()) return walk.status();
    if (*walk != WalkEnd::kTrimmed) return std::size_t{0};
  }
}

}  // namespace shoal::streams
