#pragma once
// A shard's write limits: 1 MiB/s and 1000 records/s (partition keys
// counted in the bytes), per real second whatever the simulated clock does
// (DESIGN §2.5), with a burst of one second's worth.
//
// The bucket is a two-dimensional GCRA (the "virtual scheduling" form of a
// token bucket): for bytes and for records it keeps the time at which the
// bucket would be full again, so its state is two times, it refills
// continuously, and a write fits when, in both dimensions, its cost added to
// what is owed stays within the burst. One rule goes beyond a plain bucket:
// a write bigger than the whole burst (a record of up to 10 MiB, or a 1 MiB
// record and its partition key) is admitted when the bucket is full, and
// the debt it leaves delays the writes after it, so the long-run rate is
// still the limit and such a record is not refused for ever.
//
// Modes (ThrottleMode, streams/stream_config.h): kBlock calls Reserve and
// waits the time it returns; kReject calls TakeFitting and accepts the
// records it counts; kOff does not ask the bucket.
//
// Throttled records (CloudWatch's WriteProvisionedThroughputExceeded) are
// counted: in Reserve, the records of a write that had to wait (a retrying
// producer would have been refused at least once each); in TakeFitting,
// the records that did not fit.
//
// Thread-safety: all methods may be called concurrently. The clock must
// outlive the bucket.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/mutex.h"
#include "streams/sequence_number.h"

namespace shoal::streams {

inline constexpr std::uint64_t kShardWriteBytesPerSecond = std::uint64_t{1024} * 1024;
inline constexpr std::uint64_t kShardWriteRecordsPerSecond = 1000;
// How much unused capacity a shard keeps: one second's worth.
inline constexpr TimeNs kShardWriteBurst = 1'000'000'000;

struct WriteLimits {
  std::uint64_t bytes_per_second = kShardWriteBytesPerSecond;
  std::uint64_t records_per_second = kShardWriteRecordsPerSecond;
};

// What a bucket has let through and refused since it was made.
struct WriteCounts {
  std::uint64_t records = 0;            // admitted
  std::uint64_t bytes = 0;              // admitted
  std::uint64_t throttled_records = 0;  // WriteProvisionedThroughputExceeded
};

class TokenBucket final {
 public:
  // Starts full. `elapsed` measures real time (MonotonicClock in the daemon,
  // a hand-moved clock in tests). REQUIRES: both limits > 0.
  explicit TokenBucket(const Clock& elapsed, WriteLimits limits = {});
  TokenBucket(const TokenBucket&) = delete;
  TokenBucket& operator=(const TokenBucket&) = delete;

  // kBlock: takes capacity for one write of `records` records and `bytes`
  // bytes (records' data plus partition keys) and returns how long the
  // writer must wait before writing: 0 when it fits now. A batch larger
  // than the burst waits until its last record would have fitted. The capacity is
  // taken either way, so writers that wait are served in the order they
  // asked; a writer that gives up leaves its reservation owed.
  TimeNs Reserve(std::uint64_t records, std::uint64_t bytes) EXCLUDES(mu_);

  // kReject: how many leading records of a batch fit now, given each
  // record's bytes (data plus partition key); takes their capacity and
  // counts the others as throttled. All-or-nothing per record, in order: a
  // record that does not fit stops the batch.
  std::size_t TakeFitting(std::span<const std::uint64_t> record_bytes) EXCLUDES(mu_);

  WriteCounts counts() const EXCLUDES(mu_);

 private:
  TimeNs Cost(std::uint64_t units, std::uint64_t per_second) const;

  const Clock& elapsed_;
  const WriteLimits limits_;
  mutable Mutex mu_;
  // When each dimension's bucket is full again (GCRA's theoretical arrival
  // time); at or before now: full.
  TimeNs bytes_full_at_ GUARDED_BY(mu_);
  TimeNs records_full_at_ GUARDED_BY(mu_);
  WriteCounts counts_ GUARDED_BY(mu_);
};

// Kinesis's ProvisionedThroughputExceededException text for `shard` of
// `stream`: "Rate exceeded for shard shardId-000000000000 in stream s under
// account 000000000000." (as Kinesis words it, per users' reports of
// throttled writes; not checked against Kinesis here).
std::string ThroughputExceededMessage(std::string_view stream, ShardOrdinal shard);

}  // namespace shoal::streams
