#pragma once
// The per-open behaviour of MNT/.kinesis/<stream>/ files (DESIGN §2.5):
//   RecordSink           records and keys/<partition-key>: newline framing
//   ShardFileReader      shards/<id>: the retained records as GetRecords
//                        lines, read at byte offsets (cat, tail -f)
//   ShardIteratorReader  shards/<id>@<iterator>: a shard iterator, read in
//                        order from its starting point, waiting for records
//                        at the end (a consumer that follows the shard)

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/mutex.h"
#include "base/status.h"
#include "fs/control_tree.h"
#include "fs/line_sink.h"
#include "streams/stream_store.h"

namespace shoal::fs {

// records and keys/<partition-key>: lines (LineSink) put as one
// PutRecords batch per write. A record over MaxRecordSizeKiB, reject-mode
// throttling or a deleted stream stops the batch (see LineSink for what is
// kept).
class RecordSink final : public LineSink {
 public:
  // `partition_key`: the key of every record (keys/<key>), else the
  // stream's PartitionKey path or a random key decides. `bill` is told the
  // PUT payload units of every batch stored.
  using BillFn = std::function<void(std::uint64_t put_payload_units, TimeNs now)>;
  RecordSink(streams::StreamStore& store, std::string stream,
             std::optional<std::string> partition_key, const Clock& clock, BillFn bill);
  // Makes every record of the stream accepted so far durable (not the
  // partial line: the writer has not ended it).
  Status Fsync() override;

 private:
  Taken PutLines(std::span<const std::string_view> lines) override;

  streams::StreamStore& store_;
  const std::string stream_;
  const std::optional<std::string> partition_key_;
  const Clock& clock_;
  const BillFn bill_;
};

// shards/<id>: StreamStore::ReadShardText at each read's offset.
class ShardFileReader final : public ControlSession {
 public:
  ShardFileReader(streams::StreamStore& store, std::string stream, std::string shard);
  Result<std::size_t> Read(char* buf, std::size_t size, std::uint64_t offset,
                           const std::function<bool()>& interrupted) override;

 private:
  streams::StreamStore& store_;
  const std::string stream_;
  const std::string shard_;
};

// What a shards/<id>@<iterator> name asks for: the shard and where its
// iterator starts (GetShardIterator's ShardIteratorType and argument).
struct IteratorName {
  std::string shard_id;
  streams::IteratorType type = streams::IteratorType::kTrimHorizon;
  std::string sequence_number;  // AT_ / AFTER_SEQUENCE_NUMBER
  TimeNs timestamp = 0;         // AT_TIMESTAMP
};
// Parses "<shardId>@TRIM_HORIZON", "@LATEST", "@AT_SEQUENCE_NUMBER=<n>",
// "@AFTER_SEQUENCE_NUMBER=<n>", "@AT_TIMESTAMP=<ISO-8601 time or epoch
// seconds>". nullopt for a name without '@'; kInvalidArgument for a bad
// iterator after it.
Result<std::optional<IteratorName>> ParseIteratorName(std::string_view name);

// Readers waiting at the end of a shard at once, at most (each holds a FUSE
// worker thread): a read that would be one more fails with
// kThroughputExceeded rather than starve the mount.
inline constexpr int kMaxWaitingIteratorReads = 16;

// shards/<id>@<iterator>: records from the iterator's start, read in order
// whatever the offsets (so tools that seek back, as head does to return
// what it read past its last line, do no harm; they cannot re-read
// either); a read at the end waits for the next record, and
// returns end of file once the shard is closed (resharding) and read to its
// end, or when the caller gives up.
class ShardIteratorReader final : public ControlSession {
 public:
  // `start`: the offset the iterator starts at (StreamStore::StartOffset).
  // `waiting` counts reads waiting across all iterators.
  ShardIteratorReader(streams::StreamStore& store, std::string stream, std::string shard,
                      std::uint64_t start, std::atomic<int>& waiting);
  Result<std::size_t> Read(char* buf, std::size_t size, std::uint64_t offset,
                           const std::function<bool()>& interrupted) override;

 private:
  streams::StreamStore& store_;
  const std::string stream_;
  const std::string shard_;
  std::atomic<int>& waiting_;
  Mutex mu_;  // one read at a time: they share the position
  std::uint64_t next_ GUARDED_BY(mu_);
  std::string lines_ GUARDED_BY(mu_);  // rendered, not yet returned
  std::size_t lines_pos_ GUARDED_BY(mu_) = 0;
};

}  // namespace shoal::fs
