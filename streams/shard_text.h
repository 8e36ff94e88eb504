#pragma once
// ShardText: the byte view of one shard's retained records as GetRecords
// lines, the content of MNT/.kinesis/<stream>/shards/<shardId>: the
// concatenation of GetRecordsLine(r, shard) for every record r from
// log.first_offset() to log.next_offset(), in offset order.
//
// The view behaves like a file that grows at its tail (appends) and is cut
// at its head (retention): byte offsets are relative to the first record
// retained at the time of the call, so when TrimBefore drops records, the
// bytes after them move down by the length of their lines.
//
// Size and Read are cheap for shards of millions of records: each call
// scans only the records appended since the last call (to learn their line
// lengths) plus at most one checkpoint interval (by default 64 KiB of text
// or 512 records) before the bytes asked for. Memory is one 16-byte
// checkpoint per interval of text scanned and still retained. No rendered
// text is kept.
//
// Thread-safety: all methods may be called concurrently; they are
// serialised by one internal mutex, held across the log reads they make
// (ShardLog reads never block its appends, trims or seals, which go on
// meanwhile). The log is shared; it must not be destroyed while a call is
// in progress (the shared_ptr keeps it alive).

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>

#include "base/mutex.h"
#include "base/status.h"
#include "streams/sequence_number.h"
#include "streams/shard_log.h"

namespace shoal::streams {

// How densely ShardText indexes: a checkpoint every this many records or
// bytes of text, whichever comes first. Locating a byte scans at most one
// interval; memory is 16 bytes per interval. (Tests use small intervals.)
struct ShardTextOptions {
  std::uint64_t checkpoint_records = 512;
  std::uint64_t checkpoint_bytes = std::uint64_t{64} << 10;
};

class ShardText final {
 public:
  // What one Read served, for the GetRecords metrics: the records whose line
  // ended inside the bytes copied (so a reader that reads a line in several
  // pieces counts it once, with its last piece), and the sum of their
  // partition key and data sizes; and, when records > 0, the offset after
  // the last of them and its arrival time (for the consumer's lag).
  struct Served {
    std::uint64_t records = 0;
    std::uint64_t bytes = 0;
    std::uint64_t next_offset = 0;
    TimeNs last_arrival = 0;
  };

  // A view of `log`'s records as lines of shard `shard`. Reads nothing yet.
  // REQUIRES: both intervals in `options` > 0.
  ShardText(std::shared_ptr<const ShardLog> log, ShardOrdinal shard,
            const ShardTextOptions& options = {});

  ShardText(const ShardText&) = delete;
  ShardText& operator=(const ShardText&) = delete;

  // The number of bytes of the lines of the records retained now (at least
  // those appended before the call). Damage that the scan of new records
  // meets (kCorrupt) ends the view there, as a shorter file, so that stat
  // keeps working and Read reports the damage; damage to records scanned
  // before leaves the size as it was. Fails with the status of any other
  // failed log read, or with kCorrupt if moving the head meets damage.
  Result<std::uint64_t> Size();

  // Copies up to `size` bytes of the view, from byte `offset`, into `buf`;
  // returns the count, which is short only at the end of the records
  // appended so far, before damage, or where retention overtook the read
  // (the bytes returned are those of the view as it was before), and 0 at
  // or past the end. Reads past the last Size() see records appended since.
  // If `served` is non-null it is set to what the copied bytes delivered
  // (see Served). Fails with the log's status (kCorrupt for damage) when
  // nothing could be copied; a later call at the offset where a short read
  // stopped reports the failure. REQUIRES: `buf` holds `size` bytes.
  Result<std::size_t> Read(std::uint64_t offset, char* buf, std::size_t size,
                           Served* served = nullptr);

  // Tells the view that `records` were just appended as offsets first,
  // first + 1, ...: when they are the next records it has not scanned, it
  // indexes them from their keys and sizes, so that Size and Read need not
  // read them back. Otherwise (an append that finished before an earlier
  // one, records already scanned) it does nothing: the next scan reads them.
  // Never reads the log, and never waits: while a call holds the view (a
  // read renders under its mutex) it does nothing either, so readers never
  // hold up the appender. For the appender, right after ShardLog::Append.
  void NoteAppended(std::uint64_t first, std::span<const RecordIn> records);

  // The number of checkpoints held (for tests of the memory bound).
  std::size_t checkpoint_count();

 private:
  // The start of record `offset`'s line in the logical coordinates: the
  // bytes of all lines scanned before it since the view was made (records
  // that retention dropped before they were scanned count as empty).
  struct Point {
    std::uint64_t offset = 0;
    std::uint64_t pos = 0;
  };

  // How a walk over the log ended.
  enum class WalkEnd {
    kStopped,  // the visitor asked to stop, or `stop` was reached
    kEnd,      // the walk reached the end of the log
    kTrimmed,  // retention dropped the record the walk was to read next
  };

  // Moves the head to log.first_offset(): drops checkpoints below it and
  // makes checkpoints_.front() the head's point. Fails with a log read's
  // status.
  Status SyncHead() REQUIRES(mu_);

  // Reads records from `from` (a point at or after the head) in order,
  // calling visit(record, pos, line_length) for each; a false return stops
  // the walk. Records at scanned_ extend the index as they pass. Stops
  // before offset `stop`. `chunk_bytes` bounds each log read (key and data
  // bytes). Fails with a log read's status (what was visited before stays
  // visited, and the index extended).
  template <class Visit>
  Result<WalkEnd> Walk(Point from, std::uint64_t stop, std::size_t chunk_bytes, Visit&& visit)
      REQUIRES(mu_);

  // NoteAppended's work, with the mutex held.
  void IndexAppended(std::uint64_t first, std::span<const RecordIn> records) REQUIRES(mu_);

  // Records that the record at scanned_, whose line is `length` bytes long,
  // was scanned; adds a checkpoint when one is due.
  void Extend(std::uint64_t length) REQUIRES(mu_);

  const std::shared_ptr<const ShardLog> log_;
  const ShardOrdinal shard_;
  const ShardTextOptions options_;

  Mutex mu_;
  // Sparse index over [head, scanned_): increasing in offset and pos.
  // Empty until the first call; afterwards front() is the head (the point
  // of the first retained record, as of the last SyncHead).
  std::deque<Point> checkpoints_ GUARDED_BY(mu_);
  // The first record not yet scanned, and where its line starts.
  Point scanned_ GUARDED_BY(mu_);
  // Where the last Read stopped: the start of the record holding its last
  // byte, so that sequential reads resume there without a checkpoint scan.
  // Valid only when at or after the head and at or before scanned_.
  Point cursor_ GUARDED_BY(mu_);
  bool cursor_valid_ GUARDED_BY(mu_) = false;
  // The batch the last walk stopped in, so that the next read, which
  // starts there, does not read it from the log again.
  ShardLog::VisitCache batch_ GUARDED_BY(mu_);
};

}  // namespace shoal::streams
