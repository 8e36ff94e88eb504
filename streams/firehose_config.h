#pragma once
// A Firehose delivery stream's configuration (MNT/.firehose/<name>/
// config.json, DESIGN §2.6), checked with Firehose's rules:
//
//   {"Source":"DirectPut"|{"KinesisStream":"s"},
//    "Bucket":"b","Prefix":"...","ErrorOutputPrefix":"...",
//    "BufferingHints":{"SizeInMBs":5,"IntervalInSeconds":300},
//    "CompressionFormat":"UNCOMPRESSED"|"GZIP"|"ZSTD",
//    "AppendDelimiterToRecord":false,
//    "Transform":{"Command":["prog","arg"],"TimeoutSeconds":3,
//                 "NumberOfRetries":3},
//    "DynamicPartitioning":{"Keys":{"name":"<jq expression>"}}}
//
// Every member is optional in a document: an absent one keeps its current
// value (the defaults for a new stream are Firehose's: DirectPut, no
// bucket, the default prefixes, 5 MiB / 300 s, uncompressed, no
// delimiter). The jq expressions are only stored here; fs/ compiles them.
//
// Errors: kMalformedJson for documents that are not the shape above (their
// sentences are shoal's), kInvalidArgument for values Firehose refuses, in
// its words where it has words (InvalidArgumentException,
// ValidationException). Both are EINVAL.
//
// Thread-safety: plain functions over values; safe from any thread.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "streams/firehose_prefix.h"

namespace shoal::streams {

inline constexpr std::int64_t kMinBufferSizeMiB = 1;
inline constexpr std::int64_t kMaxBufferSizeMiB = 128;
inline constexpr std::int64_t kDefaultBufferSizeMiB = 5;
inline constexpr std::int64_t kMinBufferIntervalSeconds = 0;
inline constexpr std::int64_t kMaxBufferIntervalSeconds = 900;
inline constexpr std::int64_t kDefaultBufferIntervalSeconds = 300;
// Dynamic partitioning needs buffers of at least this size.
inline constexpr std::int64_t kMinPartitionedBufferSizeMiB = 64;
// A DirectPut record's largest size (PutRecord's 1,000 KiB).
inline constexpr std::size_t kMaxFirehoseRecordBytes = 1000 * 1024;
// A configuration document longer than this is refused before parsing.
inline constexpr std::size_t kMaxFirehoseConfigBytes = std::size_t{64} * 1024;

// Transform: a Lambda function's default timeout and Firehose's retries.
inline constexpr std::int64_t kDefaultTransformTimeoutSeconds = 3;
inline constexpr std::int64_t kMaxTransformTimeoutSeconds = 900;
inline constexpr std::int64_t kDefaultTransformRetries = 3;
inline constexpr std::int64_t kMaxTransformRetries = 300;

enum class Compression : std::uint8_t { kUncompressed, kGzip, kZstd };

// "UNCOMPRESSED", "GZIP", "ZSTD"; the delivered objects' extension: "",
// ".gz", ".zst".
std::string_view CompressionName(Compression c);
std::string_view CompressionExtension(Compression c);

struct FirehoseConfig {
  // The Kinesis stream read as the source; empty: DirectPut.
  std::string source_stream;
  std::string bucket;  // empty: none yet (records cannot be delivered)
  std::string prefix;
  std::string error_output_prefix;
  std::int64_t buffer_size_mib = kDefaultBufferSizeMiB;
  std::int64_t buffer_interval_seconds = kDefaultBufferIntervalSeconds;
  Compression compression = Compression::kUncompressed;
  bool append_delimiter = false;
  std::vector<std::string> transform_command;  // empty: no transform
  std::int64_t transform_timeout_seconds = kDefaultTransformTimeoutSeconds;
  std::int64_t transform_retries = kDefaultTransformRetries;
  // Dynamic partitioning's keys: name -> jq expression; empty: off.
  std::map<std::string, std::string, std::less<>> partition_keys;

  friend bool operator==(const FirehoseConfig&, const FirehoseConfig&) = default;
};

// OK for 1 to 64 characters of [a-zA-Z0-9_.-] (CreateDeliveryStream's
// DeliveryStreamName); else kInvalidArgument in Firehose's words.
Status ValidateDeliveryStreamName(std::string_view name);

// The configuration that `json`, written to config.json, asks for, starting
// from `current`; blank text changes nothing. The result's prefixes parse
// as a pair (S3Prefix::ParsePair), every partitionKeyFromQuery in Prefix
// names a key, and a stream with keys has a Prefix that uses one and
// buffers of at least 64 MiB that wait more than 0 s.
Result<FirehoseConfig> ParseFirehoseConfig(std::string_view json, const FirehoseConfig& current);

// config.json's content: every member, in the order above.
std::string FirehoseConfigJson(const FirehoseConfig& config);

}  // namespace shoal::streams
