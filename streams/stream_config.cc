#include "streams/stream_config.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <utility>

#include "base/json_text.h"
#include "streams/validation_error.h"

// Where the messages come from.
//  - The ValidationException shape ("1 validation error detected: Value 'x'
//    at 'member' failed to satisfy constraint: Member must ...", several
//    joined by "; " after "N validation errors detected: ") is AWS's, as
//    kinesalite reproduces it from Kinesis (its validations/index.js, whose
//    tests run against Kinesis itself) and moto's kinesis/exceptions.py.
//    The constraints named are the API reference's: StreamName 1..128 of
//    [a-zA-Z0-9_.-]+, PartitionKey length 1..256, TargetShardCount 1..100000
//    (UpdateShardCount), MaxRecordSizeInKiB 1024..10240
//    (UpdateMaxRecordSize), StreamModeDetails.StreamMode's enumeration.
//  - The four retention sentences are Kinesis's (kinesalite's
//    increaseStreamRetentionPeriod.js / decreaseStreamRetentionPeriod.js,
//    checked against Kinesis; moto's InvalidRetentionPeriod and
//    Invalid{In,De}creaseRetention). The 8760-hour maximum is today's
//    (kinesalite's text predates it and says 168).
//  - "Request is invalid. Stream s under account 000000000000 is in
//    On-Demand mode." is moto's StreamCannotBeUpdatedError, which moto gives
//    as Kinesis's ValidationException for UpdateShardCount on an on-demand
//    stream; not checked against Kinesis here.
//  - The record-size, UTF-8, PartitionKey path, Throttle and document-level
//    (type, unknown member, size) sentences are shoal's: Kinesis has no
//    config.json, and its own record-size message counts only the data.

namespace shoal::streams {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

constexpr std::size_t kMaxDepth = 8;
constexpr std::string_view kStreamNamePattern = "[a-zA-Z0-9_.-]+";
constexpr std::string_view kWritable =
    "StreamMode, ShardCount, RetentionPeriodHours, PartitionKey, Throttle, MaxRecordSizeKiB";
constexpr std::array<std::string_view, 6> kMembers = {
    "StreamMode",   "ShardCount", "RetentionPeriodHours",
    "PartitionKey", "Throttle",   "MaxRecordSizeKiB"};

Status Malformed(std::string msg) {
  return {Code::kMalformedJson, std::move(msg)};
}

// QuoteForMessage without its double quotes: the value goes between the
// single quotes of Kinesis's "Value '...'".
std::string Printable(std::string_view text) {
  std::string quoted = QuoteForMessage(text);
  return quoted.substr(1, quoted.size() - 2);
}

bool IsStreamNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

// The number of code points in `s`, or nullopt if it is not valid UTF-8
// (overlong forms, surrogates and values past U+10FFFF included).
std::optional<std::size_t> Utf8Length(std::string_view s) {
  std::size_t count = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t extra = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      cp = c;
    } else if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
      cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      cp = c & 0x07u;
    } else {
      return std::nullopt;
    }
    if (s.size() - i <= extra) return std::nullopt;
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0u) != 0x80u) return std::nullopt;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    if ((extra == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF))) {
      return std::nullopt;
    }
    i += extra + 1;
    ++count;
  }
  return count;
}

// "$." then one or more '.'-separated non-empty names, printable, at most
// kMaxPartitionKeyChars characters.
bool IsPartitionKeyPath(std::string_view path) {
  if (path.size() > kMaxPartitionKeyChars || !path.starts_with("$.")) return false;
  const std::string_view rest = path.substr(2);
  if (rest.empty() || rest.front() == '.' || rest.back() == '.') return false;
  if (rest.find("..") != std::string_view::npos) return false;
  return std::all_of(rest.begin(), rest.end(),
                     [](char c) { return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f; });
}

std::optional<StreamMode> StreamModeFromName(std::string_view name) {
  if (name == "PROVISIONED") return StreamMode::kProvisioned;
  if (name == "ON_DEMAND") return StreamMode::kOnDemand;
  return std::nullopt;
}

std::optional<ThrottleMode> ThrottleModeFromName(std::string_view name) {
  if (name == "block") return ThrottleMode::kBlock;
  if (name == "reject") return ThrottleMode::kReject;
  if (name == "off") return ThrottleMode::kOff;
  return std::nullopt;
}

// A member that must be a JSON integer; its value clamped into int64 (a
// value beyond it is out of every range checked here anyway).
Status ReadInteger(const Json& value, std::string_view name, std::string_view what,
                   std::int64_t& out) {
  if (!value.is_number_integer()) {
    return Malformed(std::string(name) + " must be a whole number (" + std::string(what) + ")");
  }
  if (value.is_number_unsigned() &&
      value.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
    out = INT64_MAX;
  } else {
    out = value.get<std::int64_t>();
  }
  return Status::Ok();
}

Status CheckStreamMode(std::string_view name, StreamMode& out) {
  const auto mode = StreamModeFromName(name);
  if (!mode) {
    return ValidationError(name, "streamModeDetails.streamMode",
                           "satisfy enum value set: [PROVISIONED, ON_DEMAND]");
  }
  out = *mode;
  return Status::Ok();
}

Status CheckThrottle(std::string_view name, ThrottleMode& out) {
  const auto mode = ThrottleModeFromName(name);
  if (!mode) {
    return InvalidArgument("Throttle " + QuoteForMessage(name) +
                           " is not one of \"block\" (pace writers), \"reject\" (fail the write "
                           "with what did not fit) or \"off\" (no limits)");
  }
  out = *mode;
  return Status::Ok();
}

Status CheckPartitionKeyPath(std::string_view path) {
  if (!IsPartitionKeyPath(path)) {
    return InvalidArgument("PartitionKey " + QuoteForMessage(path) +
                           " is not a JSON path such as \"$.field\" or \"$.user.id\" (\"$.\" and "
                           "'.'-separated field names, at most 256 characters); use null for a "
                           "random key per record");
  }
  return Status::Ok();
}

// What a document says, type-checked but not range-checked; a member it
// does not name stays nullopt.
struct GivenConfig {
  std::optional<std::string> mode;
  std::optional<std::int64_t> shard_count;
  std::optional<std::int64_t> retention;
  std::optional<std::optional<std::string>> partition_key;
  std::optional<std::string> throttle;
  std::optional<std::int64_t> max_record_size_kib;
};

Status ReadString(const Json& value, std::string_view name, std::string_view what,
                  std::optional<std::string>& out) {
  if (!value.is_string()) {
    return Malformed(std::string(name) + " must be a string (" + std::string(what) + ")");
  }
  out = value.get<std::string>();
  return Status::Ok();
}

Status ReadGiven(const Json& doc, GivenConfig& given) {
  if (!doc.is_object()) {
    return Malformed("the stream configuration must be a JSON object such as {\"ShardCount\": 2}");
  }
  for (const auto& item : doc.items()) {
    const std::string& name = item.key();
    const Json& value = item.value();
    Status s;
    std::int64_t n = 0;
    if (name == "StreamMode") {
      s = ReadString(value, name, "\"PROVISIONED\" or \"ON_DEMAND\"", given.mode);
    } else if (name == "ShardCount") {
      s = ReadInteger(value, name, "the number of open shards", n);
      if (s.ok()) given.shard_count = n;
    } else if (name == "RetentionPeriodHours") {
      s = ReadInteger(value, name, "24 to 8760", n);
      if (s.ok()) given.retention = n;
    } else if (name == "PartitionKey") {
      if (value.is_null()) {
        given.partition_key = std::optional<std::string>();
      } else if (value.is_string()) {
        given.partition_key = value.get<std::string>();
      } else {
        s = Malformed("PartitionKey must be null or a string such as \"$.field\"");
      }
    } else if (name == "Throttle") {
      s = ReadString(value, name, "\"block\", \"reject\" or \"off\"", given.throttle);
    } else if (name == "MaxRecordSizeKiB") {
      s = ReadInteger(value, name, "1024 to 10240", n);
      if (s.ok()) given.max_record_size_kib = n;
    } else {
      s = Malformed("Unknown field " + QuoteForMessage(name) +
                    " in the stream configuration (expected " + std::string(kWritable) + ")");
    }
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Result<Json> ParseDocument(std::string_view json) {
  if (json.size() > kMaxStreamConfigBytes) {
    return InvalidArgument("the stream configuration is " + std::to_string(json.size()) +
                           " bytes; at most " + std::to_string(kMaxStreamConfigBytes) +
                           " are allowed");
  }
  if (!DepthWithin(json, kMaxDepth)) {
    return Malformed("the stream configuration nests deeper than " + std::to_string(kMaxDepth) +
                     " levels");
  }
  return ParseJsonDocument(json);
}

}  // namespace

std::string_view StreamModeName(StreamMode mode) {
  switch (mode) {
    case StreamMode::kProvisioned: return "PROVISIONED";
    case StreamMode::kOnDemand: return "ON_DEMAND";
  }
  return "PROVISIONED";
}

std::string_view ThrottleModeName(ThrottleMode mode) {
  switch (mode) {
    case ThrottleMode::kBlock: return "block";
    case ThrottleMode::kReject: return "reject";
    case ThrottleMode::kOff: return "off";
  }
  return "block";
}

std::string StreamArn(std::string_view stream_name) {
  std::string arn = "arn:aws:kinesis:";
  arn += kRegion;
  arn += ':';
  arn += kAccountId;
  arn += ":stream/";
  arn += stream_name;
  return arn;
}

Status ValidateStreamName(std::string_view name) {
  // Kinesis lists the pattern before the lengths.
  std::vector<std::string> failures;
  if (name.empty() || !std::all_of(name.begin(), name.end(), IsStreamNameChar)) {
    failures.push_back(ValidationFailure(
        name, "streamName",
        "satisfy regular expression pattern: " + std::string(kStreamNamePattern)));
  }
  if (name.empty()) {
    failures.push_back(
        ValidationFailure(name, "streamName", "have length greater than or equal to 1"));
  }
  if (name.size() > kMaxStreamNameChars) {
    failures.push_back(ValidationFailure(
        name, "streamName",
        "have length less than or equal to " + std::to_string(kMaxStreamNameChars)));
  }
  if (failures.empty()) return Status::Ok();
  return ValidationErrors(failures);
}

Status ValidatePartitionKey(std::string_view key) {
  const auto chars = Utf8Length(key);
  if (!chars) {
    return InvalidArgument("the partition key " + QuoteForMessage(key) +
                           " is not valid UTF-8; Kinesis partition keys are Unicode strings");
  }
  if (*chars == 0) {
    return ValidationError(key, "partitionKey", "have length greater than or equal to 1");
  }
  if (*chars > kMaxPartitionKeyChars) {
    return ValidationError(
        key, "partitionKey",
        "have length less than or equal to " + std::to_string(kMaxPartitionKeyChars));
  }
  return Status::Ok();
}

std::uint64_t RecordBytes(std::string_view partition_key, std::uint64_t data_bytes) {
  return data_bytes + partition_key.size();
}

std::uint64_t MaxRecordBytes(const StreamConfig& config) {
  return static_cast<std::uint64_t>(config.max_record_size_kib) * 1024u;
}

Status CheckRecordSize(const StreamConfig& config, std::string_view stream_name,
                       std::string_view partition_key, std::uint64_t data_bytes) {
  const std::uint64_t total = RecordBytes(partition_key, data_bytes);
  const std::uint64_t limit = MaxRecordBytes(config);
  if (total <= limit) return Status::Ok();
  return InvalidArgument(
      "the record is " + std::to_string(total) + " bytes (" + std::to_string(data_bytes) +
      " of data and a " + std::to_string(partition_key.size()) +
      "-byte partition key); records in stream " + Printable(stream_name) + " are at most " +
      std::to_string(limit) + " bytes with their partition key (MaxRecordSizeKiB " +
      std::to_string(config.max_record_size_kib) + ")");
}

Status ValidateRetentionChange(RetentionChange change, std::string_view stream,
                               std::int64_t current, std::int64_t requested) {
  if (requested < kMinRetentionHours) {
    return InvalidArgument("Minimum allowed retention period is " +
                           std::to_string(kMinRetentionHours) +
                           " hours. Requested retention period (" + std::to_string(requested) +
                           " hours) is too short.");
  }
  if (requested > kMaxRetentionHours) {
    return InvalidArgument("Maximum allowed retention period is " +
                           std::to_string(kMaxRetentionHours) +
                           " hours. Requested retention period (" + std::to_string(requested) +
                           " hours) is too long.");
  }
  if (change == RetentionChange::kIncrease && requested < current) {
    return InvalidArgument("Requested retention period (" + std::to_string(requested) +
                           " hours) for stream " + Printable(stream) +
                           " can not be shorter than existing retention period (" +
                           std::to_string(current) + " hours). Use DecreaseRetentionPeriod API.");
  }
  if (change == RetentionChange::kDecrease && requested > current) {
    return InvalidArgument("Requested retention period (" + std::to_string(requested) +
                           " hours) for stream " + Printable(stream) +
                           " can not be longer than existing retention period (" +
                           std::to_string(current) + " hours). Use IncreaseRetentionPeriod API.");
  }
  return Status::Ok();
}

Result<StreamConfig> ParseStreamConfig(std::string_view json, const StreamConfig& current,
                                       std::string_view stream) {
  if (IsBlankJson(json)) return current;
  auto document = ParseDocument(json);
  if (!document.ok()) return document.status();
  GivenConfig given;
  Status s = ReadGiven(*document, given);
  if (!s.ok()) return s;

  // Values are checked in a fixed order, not the document's, so that a
  // document with two mistakes always names the same one.
  StreamConfig out = current;
  if (given.mode) {
    s = CheckStreamMode(*given.mode, out.mode);
    if (!s.ok()) return s;
  }
  if (given.shard_count) {
    s = CheckValueRange(*given.shard_count, 1, kMaxTargetShardCount, "targetShardCount");
    if (!s.ok()) return s;
    if (out.mode == StreamMode::kOnDemand && *given.shard_count != current.shard_count) {
      return InvalidArgument("Request is invalid. Stream " + Printable(stream) + " under account " +
                             std::string(kAccountId) + " is in On-Demand mode.");
    }
    out.shard_count = *given.shard_count;
  }
  if (given.retention && *given.retention != current.retention_hours) {
    const RetentionChange change = *given.retention > current.retention_hours
                                       ? RetentionChange::kIncrease
                                       : RetentionChange::kDecrease;
    s = ValidateRetentionChange(change, stream, current.retention_hours, *given.retention);
    if (!s.ok()) return s;
    out.retention_hours = static_cast<std::int32_t>(*given.retention);
  }
  if (given.partition_key) {
    if (given.partition_key->has_value()) {
      s = CheckPartitionKeyPath(**given.partition_key);
      if (!s.ok()) return s;
    }
    out.partition_key_path = *given.partition_key;
  }
  if (given.throttle) {
    s = CheckThrottle(*given.throttle, out.throttle);
    if (!s.ok()) return s;
  }
  if (given.max_record_size_kib) {
    s = CheckValueRange(*given.max_record_size_kib, kMinMaxRecordSizeKiB, kMaxMaxRecordSizeKiB,
                        "maxRecordSizeInKiB");
    if (!s.ok()) return s;
    out.max_record_size_kib = static_cast<std::int32_t>(*given.max_record_size_kib);
  }
  return out;
}

Result<StreamConfig> DecodeStreamConfig(std::string_view json) {
  auto document = ParseDocument(json);
  GivenConfig given;
  Status s = document.ok() ? ReadGiven(*document, given) : document.status();
  if (s.ok() && (!given.mode || !given.shard_count || !given.retention || !given.partition_key ||
                 !given.throttle || !given.max_record_size_kib)) {
    s = Malformed("a member is missing (expected all of " + std::string(kWritable) + ")");
  }
  StreamConfig out;
  if (s.ok()) s = CheckStreamMode(*given.mode, out.mode);
  if (s.ok()) s = CheckValueRange(*given.shard_count, 1, kMaxTargetShardCount, "targetShardCount");
  if (s.ok()) {
    s = CheckValueRange(*given.retention, kMinRetentionHours, kMaxRetentionHours,
                        "retentionPeriodHours");
  }
  if (s.ok() && given.partition_key->has_value()) s = CheckPartitionKeyPath(**given.partition_key);
  if (s.ok()) s = CheckThrottle(*given.throttle, out.throttle);
  if (s.ok()) {
    s = CheckValueRange(*given.max_record_size_kib, kMinMaxRecordSizeKiB, kMaxMaxRecordSizeKiB,
                        "maxRecordSizeInKiB");
  }
  if (!s.ok()) return Corrupt("stored stream configuration: " + s.ToString());
  out.shard_count = *given.shard_count;
  out.retention_hours = static_cast<std::int32_t>(*given.retention);
  out.partition_key_path = *given.partition_key;
  out.max_record_size_kib = static_cast<std::int32_t>(*given.max_record_size_kib);
  return out;
}

std::string StreamConfigJson(const StreamConfig& config) {
  OrderedJson j;
  j[std::string(kMembers[0])] = StreamModeName(config.mode);
  j[std::string(kMembers[1])] = config.shard_count;
  j[std::string(kMembers[2])] = config.retention_hours;
  if (config.partition_key_path) {
    j[std::string(kMembers[3])] = *config.partition_key_path;
  } else {
    j[std::string(kMembers[3])] = nullptr;
  }
  j[std::string(kMembers[4])] = ThrottleModeName(config.throttle);
  j[std::string(kMembers[5])] = config.max_record_size_kib;
  std::string text = j.dump(2, ' ', false, OrderedJson::error_handler_t::replace);
  text += '\n';
  return text;
}

}  // namespace shoal::streams
