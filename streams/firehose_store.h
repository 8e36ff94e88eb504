#pragma once
// The delivery streams of MNT/.firehose/ (DESIGN §2.6): their
// configurations on disk, their buffers in memory, and the objects they
// owe the lake. The store decides what to deliver and encodes it; writing
// the object into the bucket is the caller's (fs/, through the store like
// any other PUT).
//
// On disk, under `dir`: one directory per delivery stream holding
// config.json (FirehoseConfigJson) and version (the destination version,
// a decimal that starts at 1 and grows with each configuration change),
// both written durably (temporary file, fsync, rename); with a Kinesis
// source, source.json: {"KinesisStream":"s","Shards":{"<shard id>":<next
// offset>, ...}}, the last checkpoint.
//
// Buffers live in memory, as Firehose's do between deliveries; TakeAll
// empties them at unmount, so what is buffered is delivered then. A crash
// loses what was buffered and not yet delivered.
//
// Thread-safety: all methods may be called concurrently.

#include <atomic>
#include <cstdint>
#include <functional>
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
#include "streams/firehose_buffer.h"
#include "streams/firehose_config.h"
#include "streams/firehose_transform.h"
#include "streams/partition_queries.h"

namespace shoal::streams {

// One object to write: where, and its bytes.
struct FirehoseDelivery {
  std::string stream;
  std::string bucket;
  std::string key;  // the evaluated prefix and the object name
  std::string bytes;
  std::uint64_t records = 0;
  std::uint64_t plain_bytes = 0;  // before compression
  // Set when the records could not be made into an object (the prefix
  // renders longer than 512 characters): there is nothing to write, and the
  // caller reports the records lost.
  Status failure;
  // Shared by the deliveries of one batch: how many are not yet written
  // (or reported lost). The caller that takes it to 0 tells the store the
  // batch is Finished.
  std::shared_ptr<std::atomic<std::size_t>> batch_left;
};

// A Kinesis source's read position: shard id -> the next offset to read.
using SourcePositions = std::map<std::string, std::uint64_t, std::less<>>;

// Records taken from one partition of a stream's buffer, with what
// encoding them needs (the configuration and version at the time).
struct FirehoseBatch {
  std::string stream;
  FirehoseConfig config;
  std::uint64_t version = 1;
  DeliveryBatch batch;
};

// A delivery stream that reads a Kinesis stream, and where it is.
struct SourceCursor {
  std::string delivery_stream;
  std::string kinesis_stream;
  SourcePositions next;  // a shard not named here is read from its start
};

// Counters since Open (not persisted), CloudWatch's names.
struct FirehoseMetrics {
  std::uint64_t incoming_records = 0;
  std::uint64_t incoming_bytes = 0;
  std::uint64_t delivery_records = 0;  // DeliveryToS3.Records
  std::uint64_t delivery_bytes = 0;    // DeliveryToS3.Bytes (uncompressed)
  std::uint64_t delivery_objects = 0;
  std::uint64_t delivery_failures = 0;
  std::uint64_t transform_invocations = 0;
  std::uint64_t transform_failed_invocations = 0;
  std::uint64_t transform_ok_records = 0;  // SucceedProcessing.Records
  std::uint64_t transform_ok_bytes = 0;    // SucceedProcessing.Bytes
  std::uint64_t transform_dropped_records = 0;
  std::uint64_t transform_failed_records = 0;
  // Dynamic partitioning: records sent to the error output because they
  // had no partition, or their partition was past the active limit.
  std::uint64_t partitioning_failed_records = 0;
  std::uint64_t partition_limit_records = 0;
  std::uint64_t active_partitions = 0;  // now (PartitionCount)
};

class FirehoseStore final {
 public:
  // Opens the delivery streams under `dir` (created if missing). A stream
  // whose files cannot be read is skipped and named in `problems`; one
  // whose source.json is missing or damaged is kept, reading its Kinesis
  // source from the start, and named there too.
  static Result<std::unique_ptr<FirehoseStore>> Open(const std::string& dir);

  FirehoseStore(const FirehoseStore&) = delete;
  FirehoseStore& operator=(const FirehoseStore&) = delete;

  // A new delivery stream with the default configuration, version 1.
  // kInvalidArgument for a bad name, kAlreadyExists if it exists.
  Status Create(std::string_view name);
  // Removes the stream and what it buffered. kNoSuchKey if absent.
  Status Delete(std::string_view name);
  std::vector<std::string> Names() const;
  // Streams skipped at Open, one line each.
  const std::vector<std::string>& problems() const { return problems_; }

  Result<std::string> ConfigJson(std::string_view name) const;
  Result<FirehoseConfig> Config(std::string_view name) const;
  Result<std::uint64_t> Version(std::string_view name) const;
  // Applies config.json written by a user (ParseFirehoseConfig). A change
  // raises the version; the buffer keeps its records, which go out under
  // the new configuration. A new Kinesis source is attached where `latest`
  // says its shards end now (Firehose reads from LATEST); its error (no
  // such stream) refuses the document. On error nothing changed.
  using LatestPositions = std::function<Result<SourcePositions>(std::string_view kinesis_stream)>;
  Status PutConfig(std::string_view name, std::string_view json,
                   const LatestPositions& latest = {});

  // Buffers one DirectPut record arriving at `now`. kRecordTooLarge for a
  // record over 1,000 KiB; kInvalidArgument (with Firehose's words) for a
  // stream without a bucket or with a Kinesis source.
  Status Put(std::string_view name, std::string_view data, TimeNs now);

  // The streams with a Kinesis source, and how far each has read.
  std::vector<SourceCursor> SourceCursors() const;
  // Buffers `records` read from `shard` of `kinesis_stream` at `now`, and
  // moves that shard's position to `next`. kNoSuchKey when the delivery
  // stream is gone or reads another source now (nothing buffered).
  Status PutFromSource(std::string_view name, std::string_view kinesis_stream,
                       std::string_view shard, std::span<const std::string> records,
                       std::uint64_t next, TimeNs now);
  // A batch taken from `name` is delivered, or its records reported lost.
  // Once none is left in flight and the buffer is empty, every record read
  // from a Kinesis source so far is delivered: source.json moves there.
  Status Finished(std::string_view name);

  // What is due at `now` across every stream, removed from the buffers.
  std::vector<FirehoseBatch> TakeDue(TimeNs now);
  // Everything `name` buffers (flush), or every stream's (unmount).
  std::vector<FirehoseBatch> TakeAll(std::string_view name);
  std::vector<FirehoseBatch> TakeAllStreams();
  // The objects that deliver `batch` (no lock: runs beside puts): its
  // records, through the transform when there is one, and the records the
  // transform failed, in the error output. `now` is the delivery's time,
  // `uuid` gives each object's uuid, `random_string` each random-string.
  struct Encoded {
    std::vector<FirehoseDelivery> deliveries;
    TransformOutcome transform;  // its records moved into deliveries
  };
  static Encoded Encode(const FirehoseBatch& batch, const std::function<TimeNs()>& now,
                        const std::function<std::string()>& uuid,
                        const std::function<std::string()>& random_string);
  // Counts what the transform of an encoded batch did (metrics).
  void Transformed(std::string_view name, const TransformOutcome& t);
  // The caller's outcome for deliveries it took (metrics).
  void Delivered(const FirehoseDelivery& d);
  void DeliveryFailed(const FirehoseDelivery& d);
  // When the earliest buffer comes due by time; nullopt when none buffers.
  std::optional<TimeNs> NextDeadline() const;

  Result<FirehoseMetrics> Metrics(std::string_view name) const;

 private:
  struct Stream {
    FirehoseConfig config;
    std::unique_ptr<PartitionQueries> queries;  // null without dynamic partitioning
    SourcePositions source_read;                // read from the Kinesis source so far
    SourcePositions source_saved;               // what source.json holds
    std::uint64_t in_flight = 0;                // batches taken, not Finished
    std::uint64_t version = 1;
    std::unique_ptr<DeliveryBuffer> buffer;
    FirehoseMetrics metrics;
  };

  explicit FirehoseStore(std::string dir) : dir_(std::move(dir)) {}
  std::string PathOf(std::string_view name) const;
  Status Save(std::string_view name, const FirehoseConfig& config, std::uint64_t version) const;
  static std::unique_ptr<DeliveryBuffer> BufferFor(const FirehoseConfig& config);
  // Buffers one record that passed the checks, partitioned as configured.
  static void Buffer(Stream& stream, std::string_view data, TimeNs now);
  Status SaveSource(std::string_view name, std::string_view kinesis_stream,
                    const SourcePositions& positions) const;
  // The compiled keys of `config`; null without dynamic partitioning.
  static Result<std::unique_ptr<PartitionQueries>> QueriesFor(const FirehoseConfig& config);
  // Buffers `data` of `stream` in the error output, as a record of
  // Firehose's error format.
  static void AddToErrorOutput(Stream& stream, std::string_view data, TimeNs now,
                               const PartitionFailure& failure);
  // `batches` of stream `name`, with its configuration and version.
  static std::vector<FirehoseBatch> Batches(const std::string& name, Stream& stream,
                                            std::vector<DeliveryBatch> batches);

  const std::string dir_;
  std::vector<std::string> problems_;
  mutable Mutex mu_;
  std::map<std::string, Stream, std::less<>> streams_ GUARDED_BY(mu_);
};

}  // namespace shoal::streams
