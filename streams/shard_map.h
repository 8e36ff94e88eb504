#pragma once
// The shards of one Kinesis data stream: their hash-key ranges and lineage,
// routing of partition keys to the open shard that owns them, resharding
// (UpdateShardCount with UNIFORM_SCALING, and the on-demand mode's splits),
// retention of closed shards, DescribeStream's JSON, and a binary encoding
// that survives restarts. No records: a shard's records live in its log
// (streams/shard_log.h), which deals only in offsets; the map turns a
// shard's offsets into sequence numbers (streams/sequence_number.h).
//
// Hash keys. Kinesis routes a record by the MD5 of its partition key (UTF-8)
// read as a 128-bit big-endian integer, or by an explicit hash key (a
// decimal 0..2^128-1), to the open shard whose inclusive HashKeyRange holds
// it. The open shards always partition 0..2^128-1. A stream created with N
// shards splits the space as Kinesis does: with w = floor(2^128 / N), shard
// i starts at i * w and the last shard ends at 2^128 - 1. So 2 shards split
// at 170141183460469231731687303715884105728; 3 shards at
//   113427455640312821154458202477256070485 and
//   226854911280625642308916404954512140970
// (the AWS CLI's describe-stream example); 6 shards at multiples of
// 56713727820156410577229101238628035242 (a captured DescribeStream).
//
// Uniform scaling. Kinesis performs UpdateShardCount "by splits or merges on
// individual shards", which "can cause short-lived shards to be created, in
// addition to the final shards" (API reference). shoal does the same, so
// that every shard names all of its parents, as consumers (the KCL) rely on
// to read a parent before its children: a child of a split has one parent
// (ParentShardId); a child of a merge has two adjacent ones (ParentShardId,
// the lower, and AdjacentParentShardId). Directly replacing 5 shards by 3
// could not do that: the middle new shard overlaps three old ones. The
// target is the creation partition for the new count (boundaries k * w),
// except that a target boundary within 2^64 of an existing boundary (a
// rounding difference: 3 -> 6 gives 2 * floor(2^128/6), one less than
// floor(2^128/3)) keeps the existing one, so doubling is exactly one split
// per shard and halving one merge per pair, as the API reference
// recommends. The map first splits every open shard that holds a target
// boundary (ascending), then merges across every old boundary that is not
// a target (ascending). Shards made and replaced within one call are
// closed at once, empty: 5 -> 3 makes 8 shards, 3 of which stay open.
//
// On-demand mode, as read from the Kinesis Developer Guide ("Choose the
// data stream capacity mode", "Quotas and limits"):
//  - a new on-demand stream has 4 MB/s of write capacity: 4 shards;
//  - it "accommodates up to double the peak write throughput observed in
//    the previous 30 days", and scales as a new peak is reached; traffic
//    more than double the previous peak within 15 minutes may be
//    throttled: capacity follows, it does not lead;
//  - "Kinesis Data Streams monitors traffic for each shard. When the
//    incoming traffic exceeds 500 KB/s per shard, it splits the shard within
//    15 minutes. The parent shard's hash key values are redistributed
//    evenly across child shards." It "does not detect and isolate hash
//    keys", so a single hot key stays limited to one shard's 1 MB/s;
//  - a stream switched from provisioned keeps its shard count, and scaling
//    starts from there;
//  - scale-down is not documented beyond capacity being sized on the
//    30-day peak: shoal never merges on-demand shards.
// PlanOnDemandSplits turns that into a decision over one observation
// window (whose length, e.g. a minute, the caller picks): split every hot
// shard (over 500 KiB/s, reading Kinesis's KB as KiB as its 1 MB/s shard
// limit is 1 MiB/s; or, shoal's extension, over 500 records/s), and more
// shards, busiest then widest first, until the open shards give
// max(4 shards, 2 x the 30-day peak) of capacity; each chosen shard is
// split once, at the middle of its range, so one decision at most doubles
// the stream. Calling it again after a split continues the climb. The
// 30-day peak is kept per simulated day (RecordThroughput); the per-shard
// limits and rates are per real second, as the token buckets measure them.
//
// Thread-safety: a value; const methods may be called concurrently,
// mutation needs exclusive access. Copies are independent, so a caller can
// change a copy, persist its encoding, then swap it in.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "streams/sequence_number.h"
#include "streams/stream_config.h"

namespace shoal::streams {

__extension__ typedef unsigned __int128 HashKey;
inline constexpr HashKey kMaxHashKey = ~HashKey{0};

// UpdateShardCount's limits (API reference: at most 10 scalings per rolling
// 24 hours per stream, at most 10000 shards in a stream).
inline constexpr int kMaxScalingsPerDay = 10;
inline constexpr std::int64_t kMaxShardsPerStream = 10000;
inline constexpr std::int64_t kOnDemandInitialShards = 4;

// The decimal digits of `key`, no leading zeros ("0" for zero).
std::string HashKeyToDecimal(HashKey key);
// The value of 1..39 decimal digits without leading zeros and at most
// 2^128 - 1; else nullopt.
std::optional<HashKey> HashKeyFromDecimal(std::string_view text);
// The hash key of PutRecord's ExplicitHashKey. kInvalidArgument in Kinesis's
// words (kinesalite's putRecord, checked against Kinesis): the
// ValidationException "1 validation error detected: Value 'x' at
// 'explicitHashKey' failed to satisfy constraint: Member must satisfy
// regular expression pattern: 0|([1-9]\d{0,38})", or "Invalid
// ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1].
// Specified value was 340282366920938463463374607431768211456".
Result<HashKey> ParseExplicitHashKey(std::string_view text);
// MD5 of `partition_key` as a big-endian integer; checks the key first
// (ValidatePartitionKey). kInternal if MD5 is unavailable.
Result<HashKey> PartitionKeyHash(std::string_view partition_key);
// floor(2^128 / count), the width of each of `count` uniform shards but the
// last. REQUIRES: count >= 1.
HashKey UniformShardWidth(std::int64_t count);

enum class StreamStatus : std::uint8_t { kCreating, kDeleting, kActive, kUpdating };
// "CREATING", "DELETING", "ACTIVE", "UPDATING".
std::string_view StreamStatusName(StreamStatus status);

struct Shard {
  ShardOrdinal ordinal = 0;
  std::optional<ShardOrdinal> parent;           // ParentShardId
  std::optional<ShardOrdinal> adjacent_parent;  // AdjacentParentShardId
  HashKey starting_hash_key = 0;
  HashKey ending_hash_key = 0;  // inclusive
  TimeNs opened_at = 0;         // simulated time
  std::optional<TimeNs> closed_at;
  // The offset in EndingSequenceNumber; meaningful once closed.
  std::uint64_t ending_offset = 0;

  bool open() const { return !closed_at.has_value(); }
  bool Contains(HashKey key) const { return key >= starting_hash_key && key <= ending_hash_key; }
  std::string id() const { return ShardIdName(ordinal); }
  // FormatSequenceNumber(ordinal, 0).
  std::string StartingSequenceNumber() const;
  // FormatSequenceNumber(ordinal, ending_offset) when closed.
  std::optional<std::string> EndingSequenceNumber() const;

  friend bool operator==(const Shard&, const Shard&) = default;
};

// The offset to put in a closing shard's EndingSequenceNumber, asked of the
// shard log for each open shard that a resharding closes: the offset of the
// shard's last record, or 0 when it has none. (Kinesis shows the largest
// number the shard could have used; a consumer that compares its last
// record with EndingSequenceNumber learns more from the last record's.)
// Shards that a resharding makes and replaces at once never reach it: they
// close with 0.
using EndingOffsetFn = std::function<std::uint64_t(const Shard&)>;

struct ThroughputRate {
  double bytes_per_second = 0;
  double records_per_second = 0;
  friend bool operator==(const ThroughputRate&, const ThroughputRate&) = default;
};

// One open shard's incoming traffic averaged over an observation window.
struct ShardThroughput {
  ShardOrdinal shard = 0;
  ThroughputRate rate;
};

class ShardMap {
 public:
  // A new ACTIVE stream of `shard_count` shards split uniformly, opened at
  // `now`. Errors (kInvalidArgument): the name (ValidateStreamName); a count
  // under 1 (Kinesis's "1 validation error detected: Value '0' at
  // 'shardCount' failed to satisfy constraint: Member must have value
  // greater than or equal to 1"); over kMaxShardsPerStream (kInvalidRequest,
  // shoal's sentence: Kinesis's own counts the whole account).
  static Result<ShardMap> Create(std::string_view stream_name, std::int64_t shard_count,
                                 TimeNs now);

  const std::string& stream_name() const { return stream_name_; }
  TimeNs created_at() const { return created_at_; }
  StreamStatus status() const { return status_; }
  void set_status(StreamStatus status) { status_ = status; }

  // Every shard still in the map, open and closed, by ordinal.
  const std::vector<Shard>& shards() const { return shards_; }
  // The shard `ordinal`, or nullptr; valid until the next change.
  const Shard* Find(ShardOrdinal ordinal) const;
  // The open shards' ordinals, by ascending hash key.
  std::vector<ShardOrdinal> OpenShards() const;
  std::size_t open_shard_count() const { return open_.size(); }

  // The open shard that owns `key`.
  ShardOrdinal Route(HashKey key) const;
  // Route(PartitionKeyHash(partition_key)), with its errors.
  Result<ShardOrdinal> RoutePartitionKey(std::string_view partition_key) const;
  // The same for a key ValidatePartitionKey accepted, without checking it
  // again; with one open shard, without hashing it either (Kinesis's
  // per-record hot path). Fails only if MD5 does (kInternal).
  Result<ShardOrdinal> RouteValidPartitionKey(std::string_view partition_key) const;
  // Route(ParseExplicitHashKey(explicit_hash_key)), with its errors.
  Result<ShardOrdinal> RouteExplicitHashKey(std::string_view explicit_hash_key) const;

  // UpdateShardCount with UNIFORM_SCALING to `target` open shards at
  // simulated time `now` (see the top of this file for how). The parents
  // close at `now` with EndingSequenceNumbers from `ending_offset`; the new
  // shards open at `now`. A target equal to the open count changes nothing
  // and is not counted as a scaling. On error nothing changes:
  //  - kInvalidRequest (ResourceInUseException): the stream is not ACTIVE,
  //    "Stream s under account 000000000000 not ACTIVE, instead in state
  //    UPDATING";
  //  - kInvalidArgument: `target` outside 1..100000, Kinesis's
  //    ValidationException for 'targetShardCount';
  //  - kInvalidRequest (LimitExceededException), Kinesis's words as
  //    kinesalite has them: "Target shard count or number of open shards
  //    cannot be greater than 10000. Current open shard count: 4, Target
  //    shard count: 20000"; "UpdateShardCount cannot scale up over double
  //    your current open shard count. Current open shard count: 2, Target
  //    shard count: 5"; "UpdateShardCount cannot scale down below half your
  //    current open shard count. Current open shard count: 5, Target shard
  //    count: 2";
  //  - kInvalidRequest (LimitExceededException), shoal's sentence: an 11th
  //    scaling within 24 simulated hours, naming when the next is allowed.
  Status UpdateShardCount(std::int64_t target, TimeNs now, const EndingOffsetFn& ending_offset);

  // When the next UpdateShardCount is allowed (`now` if it is).
  TimeNs NextScalingAllowedAt(TimeNs now) const;

  // Splits each of `shards` (open, distinct) at the middle of its range, as
  // the on-demand mode does: a child [start, mid - 1] and a child
  // [mid, end] with mid = start + (end - start) / 2 (+1 if that is start),
  // both naming it as ParentShardId. kInvalidArgument, nothing changed, for
  // a shard that is absent, closed, listed twice or of a single hash key,
  // or for more shards than kMaxShardsPerStream allows.
  Status SplitShards(std::span<const ShardOrdinal> shards, TimeNs now,
                     const EndingOffsetFn& ending_offset);

  // Closed shards whose records have all expired at `now` under
  // `retention_hours`: closed at or before now - retention. The caller
  // drops their logs, then RemoveShard()s them.
  std::vector<ShardOrdinal> ExpiredShards(TimeNs now, std::int64_t retention_hours) const;
  // Forgets closed shard `ordinal` (its children keep naming it as their
  // parent, as on Kinesis). kInvalidArgument if it is absent or open.
  Status RemoveShard(ShardOrdinal ordinal);

  // Notes the stream's total incoming rate over a window ending at
  // simulated time `now`, for the on-demand mode's 30-day peak.
  void RecordThroughput(TimeNs now, ThroughputRate rate);
  // The highest rates recorded in the 30 simulated days up to `now` (each
  // dimension on its own).
  ThroughputRate PeakThroughput(TimeNs now) const;

  // A compact binary form: a version byte, the fields, a CRC-32 of it all.
  std::string Encode() const;
  // The map that Encode() wrote. kCorrupt for anything else: bad CRC,
  // unknown version, truncation, trailing bytes, or fields that break the
  // map's invariants (open shards that do not partition the hash keys,
  // duplicate or out-of-order ordinals, an ordinal not yet handed out, a
  // parent younger than its child, a shard closed before it opened, an
  // invalid stream name, ...).
  static Result<ShardMap> Decode(std::string_view bytes);

  friend bool operator==(const ShardMap&, const ShardMap&) = default;

 private:
  ShardMap() = default;
  Shard* FindMutable(ShardOrdinal ordinal);
  // Rebuilds open_ from shards_.
  void IndexOpenShards();
  Status CheckInvariants() const;
  ShardOrdinal AddShard(std::optional<ShardOrdinal> parent,
                        std::optional<ShardOrdinal> adjacent_parent, HashKey start, HashKey end,
                        TimeNs now);

  std::string stream_name_;
  TimeNs created_at_ = 0;
  StreamStatus status_ = StreamStatus::kActive;
  ShardOrdinal next_ordinal_ = 0;
  std::vector<Shard> shards_;  // by ordinal
  // The open shards: (starting hash key, ordinal), by starting hash key.
  std::vector<std::pair<HashKey, ShardOrdinal>> open_;
  // Simulated times of the UpdateShardCount calls of the last 24 hours.
  std::vector<TimeNs> scalings_;
  // Per simulated day (days since the epoch), the highest rates recorded;
  // the last 30 days, ascending.
  std::vector<std::pair<std::int64_t, ThroughputRate>> daily_peaks_;
};

// Which open shards an on-demand stream should split now, given each open
// shard's traffic over the last window (shards not listed had none) and
// the 30-day peak before it (map.PeakThroughput); see the top of this file.
// Ascending ordinals; empty when the capacity suffices.
std::vector<ShardOrdinal> PlanOnDemandSplits(const ShardMap& map,
                                             std::span<const ShardThroughput> observed,
                                             ThroughputRate previous_peak);

// DescribeStream's output for the stream of `map` configured by `config`,
// as a pretty JSON document (two-space indents) ending in a newline:
//   {"StreamDescription": {"StreamName", "StreamARN", "StreamStatus",
//    "StreamModeDetails": {"StreamMode"}, "Shards": [{"ShardId",
//    "ParentShardId"?, "AdjacentParentShardId"?, "HashKeyRange":
//    {"StartingHashKey", "EndingHashKey"}, "SequenceNumberRange":
//    {"StartingSequenceNumber", "EndingSequenceNumber"?}}...],
//    "HasMoreShards": false, "RetentionPeriodHours",
//    "StreamCreationTimestamp", "EnhancedMonitoring":
//    [{"ShardLevelMetrics": []}], "EncryptionType": "NONE"}}
// Shards by ordinal, closed ones included until removed; hash keys and
// sequence numbers as decimal strings; the creation time as the API sends
// it, seconds since the epoch with a fraction (1572297168.0); absent
// members omitted, as the API omits them.
std::string DescribeStreamJson(const ShardMap& map, const StreamConfig& config);

}  // namespace shoal::streams
