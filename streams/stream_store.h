#pragma once
// StreamStore: the Kinesis data streams of one store (DESIGN §2.5), the
// service that fs/ exposes as MNT/.kinesis/<stream>/. It speaks Status with
// AWS codes, never errno.
//
// On disk, under the directory given to Open (STORE/streams/):
//   <name>.stream/config.json   StreamConfigJson (its ShardCount is advisory:
//                               the shard map is the authority)
//   <name>.stream/shards.map    ShardMap::Encode(), replaced atomically
//                               (temp + fsync + rename + directory fsync)
//   <name>.stream/shardId-NNNNNNNNNNNN/   one ShardLog per shard in the map
//   <name>.creating, <name>.deleting      a create or delete in progress;
//                               removed by the next Open
// The ".stream" suffix keeps the stream names "." and ".." (valid Kinesis
// names) usable as directories. A stream is created in <name>.creating and
// renamed into place, so a crash leaves it whole or absent. The shard map is
// the commit point of resharding and of dropping expired shards: logs of new
// shards are created before it is written, logs of dropped shards deleted
// after, and Open deletes shard directories the map does not name and seals
// the logs of shards the map says are closed.
//
// A stream whose metadata cannot be read back (config.json, shards.map, a
// shard log that does not open) is "damaged": it is listed, can be deleted,
// and every other call on it fails with kCorrupt naming the problem; the
// other streams work.
//
// Errors: an unknown stream or shard is kNoSuchKey (Kinesis's
// ResourceNotFoundException, "Stream s under account 000000000000 not
// found."); creating an existing stream is kAlreadyExists; invalid input is
// kInvalidArgument / kInvalidRequest / kMalformedJson as the called modules
// (stream_config.h, shard_map.h, sequence_number.h) word it.
//
// Thread-safety: every method may be called from any thread at any time.
// The stream table is a shared mutex held only to look streams up or to
// insert or erase one; creates and deletes serialise on their own mutex;
// each stream has a shared mutex that writers and readers take shared
// (ShardLog serialises appends to one shard itself) and configuration
// changes and shard removal take exclusively. No lock but a stream's own is
// held across I/O, and block-mode throttling sleeps holding none.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"
#include "streams/sequence_number.h"
#include "streams/shard_log.h"
#include "streams/shard_map.h"
#include "streams/shard_text.h"
#include "streams/stream_config.h"

namespace shoal::streams {

struct ShardTraffic;  // stream_store.cc

// One record given to PutRecords. The views must stay valid for the call.
struct PutRecordIn {
  // The record's partition key. Absent: the member of the record's JSON named
  // by the stream's PartitionKey path ("$.a.b": a string member as is, a
  // number as nlohmann prints it), else a random key (32 hex digits). A
  // record that is not JSON, lacks the member, has it of another type, or
  // whose member is not a valid partition key (empty, over 256 characters)
  // gets a random key too: the mount has no way to report a per-line error
  // that is not the writer's fault.
  std::optional<std::string_view> partition_key;
  std::string_view data;
};

// One accepted record.
struct PutRecordOut {
  ShardOrdinal shard = 0;
  std::uint64_t offset = 0;
  std::string SequenceNumber() const { return FormatSequenceNumber(shard, offset); }
};

// What PutRecords did. The accepted records are always a prefix of the
// batch: accepted[i] describes records[i].
struct PutRecordsResult {
  std::vector<PutRecordOut> accepted;
  // OK when every record was accepted; else why records[accepted.size()]
  // was not (and none after it): kRecordTooLarge for a record over
  // MaxRecordSizeKiB, kThroughputExceeded when reject mode refused it (its
  // shard was over its write limit), or what failed.
  Status status;
  // PUT payload units of the accepted records: one per started 25 KiB of
  // each record's data and partition key.
  std::uint64_t put_payload_units = 0;
};

enum class IteratorType : std::uint8_t {
  kTrimHorizon,
  kLatest,
  kAtSequenceNumber,
  kAfterSequenceNumber,
  kAtTimestamp,
};

// Per-stream counters since Open (not persisted), CloudWatch's names.
struct StreamMetrics {
  std::uint64_t incoming_records = 0;
  std::uint64_t incoming_bytes = 0;             // data plus partition keys
  std::uint64_t write_throughput_exceeded = 0;  // throttled records, both modes
  std::uint64_t get_records_records = 0;
  std::uint64_t get_records_bytes = 0;  // data plus partition keys returned
};

// What one stream would be billed for (DESIGN §2.9; prices are not here).
struct StreamBilling {
  // Simulated hours each shard in the map has been open, up to `now`, plus
  // those of shards removed since Open (not persisted across restarts).
  double shard_hours = 0;
  // PUT payload units: each record accepted since Open counts one per
  // started 25 KiB of data plus partition key (not persisted).
  std::uint64_t put_payload_units = 0;
};

class StreamStore final {
 public:
  // Opens the streams under `dir` (created if missing, not its parents),
  // recovering each (see the top of this file), then runs Tick(sim_clock
  // .Now()). `sim_clock` is the simulated clock (retention); `real_clock`
  // measures real elapsed time (throttling: MonotonicClock in the daemon).
  // Both must outlive the store. A damaged stream does not fail Open; only
  // a `dir` that cannot be created or listed does (an I/O status).
  static Result<std::unique_ptr<StreamStore>> Open(const std::string& dir, const Clock& sim_clock,
                                                   const Clock& real_clock);

  // Verifies the streams under `dir` offline, changing nothing (shoal
  // fsck): config.json and shards.map decode and agree with the directory
  // name, each shard in the map has a log that passes ShardLog::Check.
  // A missing `dir` holds no streams. Fails only if `dir` cannot be listed.
  struct CheckResult {
    std::size_t streams = 0;
    // One line per problem ("<stream>: ..."); empty means healthy.
    std::vector<std::string> problems;
  };
  static Result<CheckResult> Check(const std::string& dir);

  StreamStore(const StreamStore&) = delete;
  StreamStore& operator=(const StreamStore&) = delete;
  // Checkpoints the logs (for a fast reopen). REQUIRES: no call in progress.
  ~StreamStore();

  // A new ACTIVE stream: provisioned, 1 shard, 24 h retention, default
  // configuration, created at simulated time `now`. kInvalidArgument for a
  // bad name (ValidateStreamName), kAlreadyExists if it exists.
  Status CreateStream(std::string_view name, TimeNs now);
  // Deletes the stream and its records. kNoSuchKey if absent. Calls in
  // progress on it finish against the deleted stream; later ones fail.
  Status DeleteStream(std::string_view name);
  // Every stream's name, damaged ones included, sorted.
  std::vector<std::string> ListStreams() const;

  // config.json's text (StreamConfigJson, ShardCount = open shards).
  Result<std::string> ConfigJson(std::string_view name) const;
  // Applies a config.json written by a user (ParseStreamConfig): a
  // ShardCount change is UpdateShardCount at simulated time `now` (parents
  // sealed, children get new logs), a retention change is checked as
  // Increase/DecreaseStreamRetentionPeriod. On error nothing changed, except
  // after an I/O failure past the commit point (the new shard map is then in
  // force and the failure returned).
  Status PutConfig(std::string_view name, std::string_view json, TimeNs now);
  // description.json: DescribeStreamJson.
  Result<std::string> DescribeJson(std::string_view name) const;
  // The ids of the stream's shards, open and closed (until retention drops
  // them), in ordinal order.
  Result<std::vector<std::string>> ShardIds(std::string_view name) const;

  // Appends `records` (see PutRecordIn for the partition key) with arrival
  // time `now`: each is size-checked (CheckRecordSize; a bad explicit
  // partition key stops the batch too, kInvalidArgument), routed
  // (ShardMap::RoutePartitionKey) and throttled per shard by the stream's
  // Throttle mode (block: sleeps in real time until the shard has capacity;
  // reject: stops at the first record that does not fit; off: no limit);
  // then one ShardLog::Append per shard. A stream-level failure (unknown or
  // damaged stream) is in status with nothing accepted. After an I/O
  // failure of one shard's append, records of the batch beyond the returned
  // prefix may have been stored on other shards (as a retrying producer
  // would duplicate them).
  PutRecordsResult PutRecords(std::string_view name, std::span<const PutRecordIn> records,
                              TimeNs now);
  // Makes every record accepted before the call durable.
  Status Sync(std::string_view name);

  // Reads shard `shard_id` ("shardId-000000000000") of stream `name`: see
  // ShardLog::Read. kNoSuchKey for an unknown shard (or one removed by
  // retention). Counts GetRecords.Records/Bytes.
  Result<ReadResult> ReadShard(std::string_view name, std::string_view shard_id,
                               std::uint64_t from_offset, std::size_t max_records,
                               std::size_t max_bytes, std::vector<LogRecord>& out);
  // The byte view of a shard that MNT/.kinesis/<s>/shards/<id> shows: the
  // GetRecordsLine of every retained record, in order (ShardText). Its size
  // now, and up to `size` bytes of it from byte `offset` (0 at the end);
  // offsets count from the first retained record, so they shift when
  // retention cuts the head. Reads count GetRecords.Records/Bytes for the
  // records whose lines they return.
  Result<std::uint64_t> ShardTextSize(std::string_view name, std::string_view shard_id) const;
  Result<std::size_t> ReadShardText(std::string_view name, std::string_view shard_id,
                                    std::uint64_t offset, char* buf, std::size_t size);
  // The offset a shard iterator of `type` starts at: TRIM_HORIZON the first
  // retained record, LATEST the next record to arrive, AT_ / AFTER_
  // SEQUENCE_NUMBER the record `sequence_number` names (or the one after),
  // AT_TIMESTAMP the first record arrived at or after `timestamp`
  // (simulated). kInvalidArgument for a sequence number that does not parse,
  // belongs to another shard, or lies beyond the shard's next offset.
  Result<std::uint64_t> StartOffset(std::string_view name, std::string_view shard_id,
                                    IteratorType type, std::string_view sequence_number = {},
                                    TimeNs timestamp = 0) const;
  // ShardLog::WaitForAppend on the shard, for tail -f. Holds no store lock
  // while waiting. kNoSuchKey for an unknown stream or shard.
  Result<WaitResult> WaitForAppend(std::string_view name, std::string_view shard_id,
                                   std::uint64_t offset,
                                   std::chrono::steady_clock::time_point deadline) const;

  // Retention at simulated time `now`: every shard's log drops records
  // older than now - RetentionPeriodHours, and closed shards whose records
  // have all expired leave the map (their logs deleted). Damaged streams are
  // skipped. Returns the first failure, after trying every stream.
  Status Tick(TimeNs now);

  // Counters of the stream (see StreamMetrics) and metrics.json's text:
  // {"IncomingRecords":n,"IncomingBytes":n,
  //  "WriteProvisionedThroughputExceeded":n,"GetRecords.Records":n,
  //  "GetRecords.Bytes":n,
  //  "Shards":{"<shardId>":{"IteratorAgeMilliseconds":n|null,
  //                         "RecordsBehind":n}, ...}}
  // (pretty, ending in a newline). Per shard, its readers' lag at
  // simulated time now: RecordsBehind counts the retained records after
  // the last one any read returned (all of them if none was read since
  // Open); IteratorAgeMilliseconds is, as CloudWatch's, how long ago the
  // last record read arrived, 0 when nothing is behind, null before any
  // read.
  Result<StreamMetrics> Metrics(std::string_view name) const;
  Result<std::string> MetricsJson(std::string_view name) const;
  Result<StreamBilling> Billing(std::string_view name, TimeNs now) const;
  // On-demand scaling, for a caller that runs it about once a (real)
  // second: for each ON_DEMAND stream, each open shard's write rate since
  // the last call, the stream's peak of the simulated day recorded, and the
  // shards PlanOnDemandSplits picks split at simulated time `now` (hot
  // shards, then more until twice the 30-day peak and at least 4 shards fit;
  // each call at most doubles a stream). Appends wait while a stream is
  // measured. Returns how many shards were split; the first failure after
  // trying every stream.
  Result<std::size_t> ScaleOnDemand(TimeNs now);
  // Open shards across every stream (damaged ones aside): what shard-hours
  // accrue on from now.
  std::uint32_t OpenShardCount() const;

 private:
  struct Stream;
  using StreamPtr = std::shared_ptr<Stream>;

  StreamStore(std::string dir, const Clock& sim_clock, const Clock& real_clock);
  // The stream `name`, or kNoSuchKey.
  Result<StreamPtr> Find(std::string_view name) const EXCLUDES(table_mu_);
  // The stream's counters (atomics: no lock needed).
  static StreamMetrics CountersOf(const Stream& stream);
  // Stream `name` and the log of its shard `shard_id`, for reading (the log
  // needs no store lock afterwards).
  struct ShardRef {
    StreamPtr stream;
    std::shared_ptr<ShardLog> log;
    std::shared_ptr<ShardText> text;
    std::shared_ptr<ShardTraffic> traffic;
    ShardOrdinal ordinal = 0;
  };
  Result<ShardRef> FindShardLog(std::string_view name, std::string_view shard_id) const
      EXCLUDES(table_mu_);
  StreamPtr Load(const std::string& name) const;

  const std::string dir_;
  const Clock& sim_clock_;
  const Clock& real_clock_;

  Mutex admin_mu_;                // serialises CreateStream and DeleteStream (held across I/O)
  mutable SharedMutex table_mu_;  // never held across I/O
  std::map<std::string, StreamPtr, std::less<>> streams_ GUARDED_BY(table_mu_);
};

// One record as a line of MNT/.kinesis/<s>/shards/<id>, GetRecords' shape
// (DESIGN §2.5), with a trailing newline:
// {"SequenceNumber":"<56 digits>","ApproximateArrivalTimestamp":
//  "2026-11-26T13:30:00.250Z","PartitionKey":"k","Data":"<base64>"}
// The timestamp is the simulated arrival time, ISO-8601 UTC with
// milliseconds (a string, as the DESIGN contract shows it). The partition
// key is JSON-escaped (invalid UTF-8 replaced by U+FFFD).
std::string GetRecordsLine(const RecordView& record, ShardOrdinal shard);
// GetRecordsLine, appended to `out` (no allocation once `out` is large
// enough: for readers that render many lines).
void AppendGetRecordsLine(const RecordView& record, ShardOrdinal shard, std::string& out);
// GetRecordsLine, written to `out`, which must hold
// GetRecordsLineLength(record, shard) bytes; returns the end of what it
// wrote (out + that length).
char* WriteGetRecordsLine(const RecordView& record, ShardOrdinal shard, char* out);
// GetRecordsLine(record, shard).size(), without rendering it.
std::size_t GetRecordsLineLength(const RecordView& record, ShardOrdinal shard);

}  // namespace shoal::streams
