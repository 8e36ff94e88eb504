#pragma once
// A Kinesis data stream's configuration (MNT/.kinesis/<stream>/config.json,
// DESIGN §2.5), the names and values Kinesis validates, and the wording of
// Kinesis's errors about them.
//
//   {"StreamMode":"PROVISIONED"|"ON_DEMAND","ShardCount":N,
//    "RetentionPeriodHours":24,"PartitionKey":"$.field"|null,
//    "Throttle":"block"|"reject"|"off","MaxRecordSizeKiB":1024}
//
// Errors use the code of the table in base/status.h that maps to the errno
// DESIGN §2.10 asks for, and Kinesis's own message where Kinesis has one:
// its ValidationException and InvalidArgumentException become
// kInvalidArgument; LimitExceededException and ResourceInUseException (for
// which base/status.h has no code) become kInvalidRequest. Both are EINVAL.
//
// Thread-safety: plain functions over values; safe from any thread.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace shoal::streams {

// The simulated account and Region, as they appear in ARNs and messages.
inline constexpr std::string_view kAccountId = "000000000000";
inline constexpr std::string_view kRegion = "us-east-1";

inline constexpr std::size_t kMaxStreamNameChars = 128;
inline constexpr std::size_t kMaxPartitionKeyChars = 256;
inline constexpr std::int32_t kMinRetentionHours = 24;
inline constexpr std::int32_t kMaxRetentionHours = 8760;
inline constexpr std::int32_t kDefaultRetentionHours = 24;
inline constexpr std::int32_t kMinMaxRecordSizeKiB = 1024;
inline constexpr std::int32_t kMaxMaxRecordSizeKiB = 10240;
// UpdateShardCount's TargetShardCount range in the API reference.
inline constexpr std::int64_t kMaxTargetShardCount = 100000;
// A configuration document longer than this is refused before parsing.
inline constexpr std::size_t kMaxStreamConfigBytes = std::size_t{16} * 1024;

enum class StreamMode : std::uint8_t { kProvisioned, kOnDemand };
// What a writer meets when a shard is over its write limits (DESIGN §2.5):
// kBlock paces it as a retrying producer would, kReject fails the write
// after accepting what fitted, kOff removes the limits.
enum class ThrottleMode : std::uint8_t { kBlock, kReject, kOff };

// "PROVISIONED", "ON_DEMAND"; "block", "reject", "off".
std::string_view StreamModeName(StreamMode mode);
std::string_view ThrottleModeName(ThrottleMode mode);

struct StreamConfig {
  StreamMode mode = StreamMode::kProvisioned;
  // The number of open shards. The shard map (streams/shard_map.h) is the
  // authority: callers fill this from ShardMap::open_shard_count() before
  // printing or parsing against it.
  std::int64_t shard_count = 1;
  std::int32_t retention_hours = kDefaultRetentionHours;
  // The JSON path of the partition key in a record, as written ("$.user.id");
  // nullopt: a random key per record.
  std::optional<std::string> partition_key_path;
  ThrottleMode throttle = ThrottleMode::kBlock;
  std::int32_t max_record_size_kib = kMinMaxRecordSizeKiB;

  friend bool operator==(const StreamConfig&, const StreamConfig&) = default;
};

// "arn:aws:kinesis:us-east-1:000000000000:stream/<name>".
std::string StreamArn(std::string_view stream_name);

// OK for 1 to 128 characters of [a-zA-Z0-9_.-]; else kInvalidArgument with
// Kinesis's ValidationException text, every failed constraint listed
// ("2 validation errors detected: Value '' at 'streamName' failed to
// satisfy constraint: Member must satisfy regular expression pattern:
// [a-zA-Z0-9_.-]+; Value '' at 'streamName' failed to satisfy constraint:
// Member must have length greater than or equal to 1").
Status ValidateStreamName(std::string_view name);

// OK for 1 to 256 Unicode characters of valid UTF-8; else kInvalidArgument:
// Kinesis's ValidationException text for 'partitionKey', or (for bytes that
// are not UTF-8, which no Kinesis client can send) shoal's own sentence.
Status ValidatePartitionKey(std::string_view key);

// The bytes a record counts against MaxRecordSizeKiB and the shard's write
// limit: its data and its partition key (UTF-8), as Kinesis counts them.
std::uint64_t RecordBytes(std::string_view partition_key, std::uint64_t data_bytes);
// MaxRecordSizeKiB in bytes.
std::uint64_t MaxRecordBytes(const StreamConfig& config);
// OK when RecordBytes(partition_key, data_bytes) <= MaxRecordBytes(config);
// else kInvalidArgument with shoal's sentence (Kinesis counts only the data
// in its own message). fs/ answers EMSGSIZE for this case: it compares the
// two sizes itself, as base/status.h has no code of its own for it.
Status CheckRecordSize(const StreamConfig& config, std::string_view stream_name,
                       std::string_view partition_key, std::uint64_t data_bytes);

enum class RetentionChange : std::uint8_t { kIncrease, kDecrease };

// IncreaseStreamRetentionPeriod / DecreaseStreamRetentionPeriod's checks of
// `requested` hours for `stream` whose retention is `current` hours.
// kInvalidArgument (InvalidArgumentException), Kinesis's words:
//   "Minimum allowed retention period is 24 hours. Requested retention
//    period (12 hours) is too short."
//   "Maximum allowed retention period is 8760 hours. Requested retention
//    period (9000 hours) is too long."
//   "Requested retention period (30 hours) for stream s can not be shorter
//    than existing retention period (48 hours). Use DecreaseRetentionPeriod
//    API."   (an increase to less than current)
//   "Requested retention period (72 hours) for stream s can not be longer
//    than existing retention period (48 hours). Use IncreaseRetentionPeriod
//    API."   (a decrease to more than current)
// Requesting the current value is allowed either way (a no-op, as Kinesis
// treats it).
Status ValidateRetentionChange(RetentionChange change, std::string_view stream,
                               std::int64_t current, std::int64_t requested);

// The configuration that the document `json`, written by a user to
// `stream`'s config.json, asks for, starting from `current`: a JSON object
// whose members are all optional (an absent one keeps its current value);
// blank text changes nothing.
//   StreamMode            "PROVISIONED" | "ON_DEMAND"
//   ShardCount            integer 1..100000 (UpdateShardCount's
//                         TargetShardCount); only PROVISIONED streams change
//                         it: in ON_DEMAND mode (the mode the document
//                         leaves) a value other than current.shard_count is
//                         Kinesis's ValidationException "Request is invalid.
//                         Stream s under account 000000000000 is in
//                         On-Demand mode."
//   RetentionPeriodHours  integer 24..8760; a change is an Increase- or
//                         DecreaseStreamRetentionPeriod, checked by
//                         ValidateRetentionChange
//   PartitionKey          null, or "$." and one or more '.'-separated
//                         non-empty field names ("$.user.id"), at most 256
//                         characters
//   Throttle              "block" | "reject" | "off"
//   MaxRecordSizeKiB      integer 1024..10240 (UpdateMaxRecordSize)
// Errors: kMalformedJson for text that is not JSON, nests deeper than 8,
// is not an object, has an unknown member or a member of the wrong JSON
// type; kInvalidArgument for a document over kMaxStreamConfigBytes or a
// value out of range (Kinesis's ValidationException text for the members
// Kinesis has, e.g. "1 validation error detected: Value '0' at
// 'targetShardCount' failed to satisfy constraint: Member must have value
// greater than or equal to 1"). Whether the stream can change its shard
// count now (UpdateShardCount's limits) is ShardMap::UpdateShardCount's to
// decide.
Result<StreamConfig> ParseStreamConfig(std::string_view json, const StreamConfig& current,
                                       std::string_view stream);

// A stored config.json (as StreamConfigJson wrote it) read back at start-up:
// every member required, values checked for range but not as changes.
// kCorrupt for anything else.
Result<StreamConfig> DecodeStreamConfig(std::string_view json);

// `config` as a pretty JSON object (two-space indents) ending in a newline,
// members in the order of the comment at the top of this file.
std::string StreamConfigJson(const StreamConfig& config);

}  // namespace shoal::streams
