#pragma once
// ShardLog: the records of one Kinesis shard, an append-only log in one
// directory (Kafka-style): segment files named by their first offset, each
// with a sparse in-memory index (offset -> file position and arrival time),
// persisted beside it as a cache that is rebuilt from the segment when it is
// missing, stale or damaged. The byte layout is in streams/LOG_FORMAT.md.
//
// Records get offsets 0, 1, 2, ... in append order; turning an offset into a
// Kinesis sequence number is another module's job. Arrival times are
// simulated-clock times given by the caller and are stored non-decreasing.
//
// Thread-safety: every method may be called from any thread at any time.
// Writers (Append, Seal, TrimBefore, Checkpoint) are serialised inside (Sync's
// fdatasync runs outside that lock, beside appends); readers (Read,
// OffsetAtOrAfter, WaitForAppend and the accessors) take no lock that a writer
// holds across I/O, so readers never block writers and a slow reader never
// holds up an append. A reader still reading a segment that retention deletes
// keeps reading it (the open file outlives its name).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/raii.h"
#include "base/status.h"

namespace shoal::streams {

// One record to append. The views must stay valid for the Append call only.
struct RecordIn {
  std::string_view partition_key;
  std::string_view data;
};

// One record as Visit passes it: views into the reader's buffer, valid
// during that call of the visitor only.
struct RecordView {
  std::uint64_t offset = 0;
  TimeNs arrival = 0;  // as stored: never earlier than the record before it
  std::string_view partition_key;
  std::string_view data;
};

// One record read back.
struct LogRecord {
  std::uint64_t offset = 0;
  TimeNs arrival = 0;  // as stored: never earlier than the record before it
  std::string partition_key;
  std::string data;
  RecordView view() const {
    return {.offset = offset, .arrival = arrival, .partition_key = partition_key, .data = data};
  }
};

// What one Read returned besides the records.
struct ReadResult {
  // The offset to read from next: one past the last record returned, or the
  // offset where reading stopped (next_offset() when the reader caught up).
  std::uint64_t next = 0;
  // `from` was below first_offset(): those records are gone (retention), and
  // reading started at the first retained record instead.
  bool trimmed = false;
};

enum class WaitResult {
  kReady,    // next_offset() > the offset waited for
  kSealed,   // the log is sealed and will never reach that offset
  kTimeout,  // the deadline passed first
};

// What Open found and repaired.
struct RecoveryReport {
  // Bytes of a torn tail cut off the last segment (an interrupted append that
  // was never synced), or of a half-created last segment.
  std::uint64_t truncated_bytes = 0;
  // Segments whose index file was missing, stale or damaged, so Open rebuilt
  // their index by scanning them.
  std::size_t indexes_rebuilt = 0;
  // Damage that Open left in place, one human-readable line each ("<file>:
  // byte N: ..."). Reads that reach it fail with kCorrupt; Check reports it.
  std::vector<std::string> damage;
};

// What Check found.
struct CheckReport {
  std::size_t segments = 0;
  std::uint64_t records = 0;       // readable records
  std::uint64_t bytes = 0;         // segment file bytes
  std::uint64_t first_offset = 0;  // first stored record
  std::uint64_t next_offset = 0;   // what the next append would get
  bool sealed = false;
  // Damage: records that cannot be read back, inconsistencies that make
  // reads fail. Non-empty means fsck fails. One line each, naming the file
  // and byte position.
  std::vector<std::string> problems;
  // Harmless findings that the next Open repairs: a torn tail (unsynced data
  // of an interrupted append), a missing or stale index file.
  std::vector<std::string> notes;
  bool ok() const { return problems.empty(); }
};

class ShardLog final {
  class Segment;  // private; declared first for VisitCache

 public:
  struct Options {
    // A segment is rolled when the next batch would take it past this size
    // (a batch larger than this gets a segment of its own).
    std::uint64_t segment_bytes = std::uint64_t{64} << 20;
    // ...or when the next batch arrives this long (simulated time) after the
    // segment's first record, so that retention, which drops whole segments,
    // frees the space of a slow stream promptly. 0: never by time.
    TimeNs segment_max_age = TimeNs{3600} * 1'000'000'000;
    // One index entry per this many bytes of segment (at batch starts).
    std::uint32_t index_interval_bytes = 4096;
    // Limits on each record; a larger one fails Append (nothing appended).
    std::size_t max_key_bytes = 256;
    std::size_t max_data_bytes = std::size_t{10} << 20;
    // Create the directory (not its parents) if it does not exist.
    bool create_if_missing = true;
  };

  // Creates the log in `dir` or recovers it: the last segment's records
  // beyond its index's coverage are verified, and a torn tail (a record that
  // is incomplete or fails its checksum, with nothing valid after it) is
  // truncated away; see recovery(). Damage elsewhere is left in place and
  // reported by recovery(), Check and Read. The directory is locked (flock)
  // for the life of the log: a second Open of it fails with kInvalidRequest.
  // Fails with kNotSupported for an unknown format version, kInvalidArgument
  // for bad options, an I/O status otherwise.
  static Result<std::unique_ptr<ShardLog>> Open(const std::string& dir, const Options& options);

  // Verifies a log offline without changing anything (for shoal fsck): every
  // batch's checksum and framing, offsets contiguous across segments,
  // arrival times non-decreasing, index files consistent with their
  // segments, the seal marker. Fails only if `dir` cannot be listed.
  static Result<CheckReport> Check(const std::string& dir);

  ShardLog(const ShardLog&) = delete;
  ShardLog& operator=(const ShardLog&) = delete;
  // Closes files; writes nothing (call Checkpoint first for a fast reopen).
  // REQUIRES: no call on this log is in progress (WaitForAppend included).
  ~ShardLog();

  // Appends `records` as one batch with arrival time max(arrival, the last
  // stored arrival); returns the first record's offset (next_offset() for an
  // empty span). Readers see all of the batch or none of it; a crash may
  // lose the whole batch unless Sync follows, never part of it. One write
  // syscall per batch.
  // Fails with kInvalidArgument for a partition key over max_key_bytes or a
  // batch over 1 GiB, kEntityTooLarge for data over max_data_bytes (nothing
  // is appended then), kInvalidRequest once sealed, and an I/O status. After
  // a failed write the log's file is cut back; if that or a Sync fails, the
  // failure is sticky: every later Append and Sync returns it (reopen).
  Result<std::uint64_t> Append(std::span<const RecordIn> records, TimeNs arrival);

  // Makes everything appended before the call durable (fdatasync of the
  // active segment; fsync of the directory after a roll or trim). Appends may
  // run during it.
  Status Sync();

  // Sync, plus the active segment's index file, so that the next Open
  // need not scan. For an orderly shutdown.
  Status Checkpoint();

  // Seals the log for a shard that resharding closed: syncs, and persists a
  // marker so the log stays sealed across restarts. Later Appends fail with
  // kInvalidRequest; reads and retention go on. Idempotent.
  Status Seal();
  bool sealed() const { return sealed_.load(std::memory_order_acquire); }

  // The offset the next appended record gets.
  std::uint64_t next_offset() const { return next_offset_.load(std::memory_order_acquire); }
  // The first retained offset (== next_offset() when nothing is retained).
  // After Open it is the first stored record; TrimBefore moves it forward
  // to the first record at or after the cutoff (call TrimBefore(now -
  // retention) after opening).
  std::uint64_t first_offset() const { return first_offset_.load(std::memory_order_acquire); }

  // Reads records from offset `from` into `out` (cleared first), in order,
  // stopping after `max_records` records or before the record that would
  // take the sum of key and data sizes past `max_bytes` (at least one record
  // is returned when one is available), or at next_offset() as of the call.
  // Only whole batches are ever visible, and `next` never passes
  // next_offset(). A `from` below first_offset() reads from
  // first_offset() and sets `trimmed`.
  // Damaged data is never returned: a read that meets it returns the records
  // before it, and fails with kCorrupt when it is the first thing to read.
  // Fails with kInvalidArgument if `from` > next_offset().
  Result<ReadResult> Read(std::uint64_t from, std::size_t max_records, std::size_t max_bytes,
                          std::vector<LogRecord>& out) const;

  // Read without copies: calls visit(record) for each record Read would
  // return, in order, until it returns false (that record counts as read:
  // `next` is one past it). Errors as Read's, with "returned" meaning
  // "visited". Batches wholly before `from` are skipped by their headers,
  // unverified (their records are not read).
  using Visitor = std::function<bool(const RecordView&)>;
  // The batch a visit stopped inside, which a sequential reader keeps for
  // its next visit: one that starts inside it takes its records from here,
  // neither reading nor checking it again (small reads would otherwise
  // read and check a whole batch each). Held by one reader at a time.
  class VisitCache {
   private:
    friend class ShardLog;
    // Identity only: a segment that retention deletes closes its file even
    // while a reader keeps one of its batches here.
    std::weak_ptr<const Segment> segment;  // expired: nothing kept
    std::uint64_t pos = 0;                 // the batch's position in it
    std::uint32_t length = 0;
    std::uint64_t base = 0;
    std::uint32_t count = 0;
    TimeNs arrival = 0;
    std::string body;  // its records, checked when read
  };
  Result<ReadResult> Visit(std::uint64_t from, std::size_t max_records, std::size_t max_bytes,
                           const Visitor& visit, VisitCache* cache = nullptr) const;

  // The first retained offset whose arrival time is >= t (AT_TIMESTAMP), or
  // next_offset() if there is none. kCorrupt if the search meets damage.
  Result<std::uint64_t> OffsetAtOrAfter(TimeNs t) const;

  // Retention: deletes, oldest first, whole segments whose newest record
  // arrived before `cutoff` (a fully expired active segment is first rolled,
  // so the log always keeps a segment that carries next_offset()), and
  // moves first_offset() to the first record at or after `cutoff`. Returns
  // the number of segments deleted.
  Result<std::size_t> TrimBefore(TimeNs cutoff);

  // Blocks until next_offset() > offset, the log is sealed with nothing
  // beyond `offset`, or `deadline` (real time) passes. For consumers that
  // follow the log (tail -f, delivery): read, then wait for more.
  WaitResult WaitForAppend(std::uint64_t offset,
                           std::chrono::steady_clock::time_point deadline) const;

  const RecoveryReport& recovery() const { return recovery_; }
  std::size_t segment_count() const;
  std::uint64_t stored_bytes() const;  // sum of segment file sizes
  const std::string& dir() const { return dir_; }

 private:
  using SegmentPtr = std::shared_ptr<Segment>;

  ShardLog(std::string dir, const Options& options, UniqueFd dir_fd);

  Status LoadSegments(const std::vector<std::uint64_t>& bases, std::uint64_t sealed_end);
  Result<SegmentPtr> LoadSegment(std::uint64_t base, bool is_last);
  Result<SegmentPtr> CreateSegment(std::uint64_t base);
  Status Roll() REQUIRES(write_mu_);
  Status WriteBatch(std::string& buf, std::uint32_t body_crc, std::uint32_t count, TimeNs arrival,
                    std::uint64_t& base) REQUIRES(write_mu_);
  Status Fail(Status s) REQUIRES(write_mu_);
  void NotifyWaiters() const;
  // The segment holding `offset` (the last one starting at or before it);
  // `offset` is raised to first_offset() first, setting `trimmed`.
  SegmentPtr Locate(std::uint64_t& offset, bool& trimmed) const EXCLUDES(segments_mu_);

  const std::string dir_;
  const Options options_;
  const UniqueFd dir_fd_;  // holds the flock; fsync'ed for directory changes
  RecoveryReport recovery_;

  Mutex write_mu_;  // serialises writers; held across their I/O
  SegmentPtr active_ GUARDED_BY(write_mu_);
  TimeNs last_time_ GUARDED_BY(write_mu_);
  bool dir_dirty_ GUARDED_BY(write_mu_) = false;  // a create or unlink not yet fsync'ed
  Status failed_ GUARDED_BY(write_mu_);           // sticky write failure

  // Held only to look up or change the list, never across I/O. Lock order:
  // write_mu_, then segments_mu_.
  mutable Mutex segments_mu_;
  std::vector<SegmentPtr> segments_ GUARDED_BY(segments_mu_);  // by base offset

  std::atomic<std::uint64_t> next_offset_{0};
  std::atomic<std::uint64_t> first_offset_{0};
  std::atomic<bool> sealed_{false};

  // WaitForAppend: waiters register, then sleep on wait_cv_; Append notifies
  // only when someone is registered.
  mutable Mutex wait_mu_;
  mutable std::condition_variable wait_cv_;
  mutable std::atomic<int> waiters_{0};
};

}  // namespace shoal::streams
