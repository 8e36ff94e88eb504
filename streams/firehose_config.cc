#include "streams/firehose_config.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "base/json_text.h"
#include "store/bucket_name.h"
#include "streams/stream_config.h"
#include "streams/validation_error.h"

namespace shoal::streams {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

constexpr std::size_t kMaxDepth = 8;
constexpr std::size_t kMaxDeliveryStreamNameChars = 64;
constexpr std::string_view kMembers =
    "Source, Bucket, Prefix, ErrorOutputPrefix, BufferingHints, CompressionFormat, "
    "AppendDelimiterToRecord, Transform, DynamicPartitioning";

Status Malformed(std::string msg) {
  return {Code::kMalformedJson, std::move(msg)};
}

Status ReadString(const Json& value, std::string_view name, std::string& out) {
  if (!value.is_string()) return Malformed(std::string(name) + " must be a string");
  out = value.get<std::string>();
  return Status::Ok();
}

Status ReadInteger(const Json& value, std::string_view name, std::int64_t& out) {
  if (!value.is_number_integer()) return Malformed(std::string(name) + " must be a whole number");
  if (value.is_number_unsigned() &&
      value.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
    out = INT64_MAX;
  } else {
    out = value.get<std::int64_t>();
  }
  return Status::Ok();
}

Status ReadSource(const Json& value, FirehoseConfig& config) {
  if (value.is_string() && value.get<std::string>() == "DirectPut") {
    config.source_stream.clear();
    return Status::Ok();
  }
  if (value.is_object() && value.size() == 1 && value.contains("KinesisStream") &&
      value["KinesisStream"].is_string()) {
    const std::string stream = value["KinesisStream"].get<std::string>();
    Status s = ValidateStreamName(stream);
    if (!s.ok()) return s;
    config.source_stream = stream;
    return Status::Ok();
  }
  return Malformed("Source must be \"DirectPut\" or {\"KinesisStream\": \"<stream>\"}");
}

Status ReadBufferingHints(const Json& value, FirehoseConfig& config) {
  if (!value.is_object()) {
    return Malformed(
        "BufferingHints must be an object such as {\"SizeInMBs\": 5, "
        "\"IntervalInSeconds\": 300}");
  }
  std::optional<std::int64_t> size;
  std::optional<std::int64_t> interval;
  for (const auto& item : value.items()) {
    std::int64_t n = 0;
    Status s = ReadInteger(item.value(), "BufferingHints." + item.key(), n);
    if (!s.ok()) return s;
    if (item.key() == "SizeInMBs") {
      size = n;
    } else if (item.key() == "IntervalInSeconds") {
      interval = n;
    } else {
      return Malformed("Unknown field " + QuoteForMessage(item.key()) +
                       " in BufferingHints (expected SizeInMBs, IntervalInSeconds)");
    }
  }
  if (size.has_value() != interval.has_value()) {
    return InvalidArgument(
        "BufferingHints needs both SizeInMBs and IntervalInSeconds when it gives either");
  }
  if (!size) return Status::Ok();  // {}: unchanged
  Status s = CheckValueRange(*size, kMinBufferSizeMiB, kMaxBufferSizeMiB,
                             "extendedS3DestinationConfiguration.bufferingHints.sizeInMBs");
  if (s.ok()) {
    s = CheckValueRange(*interval, kMinBufferIntervalSeconds, kMaxBufferIntervalSeconds,
                        "extendedS3DestinationConfiguration.bufferingHints.intervalInSeconds");
  }
  if (!s.ok()) return s;
  config.buffer_size_mib = *size;
  config.buffer_interval_seconds = *interval;
  return Status::Ok();
}

Status ReadCompression(const Json& value, FirehoseConfig& config) {
  std::string name;
  Status s = ReadString(value, "CompressionFormat", name);
  if (!s.ok()) return s;
  for (const Compression c : {Compression::kUncompressed, Compression::kGzip, Compression::kZstd}) {
    if (name == CompressionName(c)) {
      config.compression = c;
      return Status::Ok();
    }
  }
  return ValidationError(name, "extendedS3DestinationConfiguration.compressionFormat",
                         "satisfy enum value set: [UNCOMPRESSED, GZIP, ZSTD]");
}

Status ReadTransform(const Json& value, FirehoseConfig& config) {
  if (value.is_null()) {
    config.transform_command.clear();
    config.transform_timeout_seconds = kDefaultTransformTimeoutSeconds;
    config.transform_retries = kDefaultTransformRetries;
    return Status::Ok();
  }
  const auto bad = [] {
    return Malformed(
        "Transform must be null or {\"Command\": [\"program\", \"argument\", ...], "
        "\"TimeoutSeconds\": n, \"NumberOfRetries\": n}");
  };
  if (!value.is_object() || !value.contains("Command")) return bad();
  std::int64_t timeout = kDefaultTransformTimeoutSeconds;
  std::int64_t retries = kDefaultTransformRetries;
  std::vector<std::string> words;
  for (const auto& item : value.items()) {
    if (item.key() == "Command") {
      const Json& command = item.value();
      if (!command.is_array() || command.empty()) return bad();
      for (const Json& word : command) {
        if (!word.is_string() || word.get<std::string>().empty()) return bad();
        words.push_back(word.get<std::string>());
      }
    } else if (item.key() == "TimeoutSeconds" || item.key() == "NumberOfRetries") {
      const bool is_timeout = item.key() == "TimeoutSeconds";
      std::int64_t& n = is_timeout ? timeout : retries;
      Status s = ReadInteger(item.value(), "Transform." + item.key(), n);
      if (!s.ok()) return s;
      s = is_timeout
              ? CheckValueRange(n, 1, kMaxTransformTimeoutSeconds, "Transform.TimeoutSeconds")
              : CheckValueRange(n, 0, kMaxTransformRetries, "Transform.NumberOfRetries");
      if (!s.ok()) return s;
    } else {
      return bad();
    }
  }
  config.transform_command = std::move(words);
  config.transform_timeout_seconds = timeout;
  config.transform_retries = retries;
  return Status::Ok();
}

Status ReadDynamicPartitioning(const Json& value, FirehoseConfig& config) {
  if (value.is_null()) {
    config.partition_keys.clear();
    return Status::Ok();
  }
  const auto bad = [] {
    return Malformed(
        "DynamicPartitioning must be null or {\"Keys\": {\"name\": \"<jq expression>\", ...}}");
  };
  if (!value.is_object() || value.size() != 1 || !value.contains("Keys")) return bad();
  const Json& keys = value["Keys"];
  if (!keys.is_object() || keys.empty()) return bad();
  std::map<std::string, std::string, std::less<>> out;
  for (const auto& item : keys.items()) {
    if (!item.value().is_string() || item.value().get<std::string>().empty() ||
        item.key().empty()) {
      return bad();
    }
    out.emplace(item.key(), item.value().get<std::string>());
  }
  config.partition_keys = std::move(out);
  return Status::Ok();
}

Status ReadMember(const std::string& name, const Json& value, FirehoseConfig& config) {
  if (name == "Source") return ReadSource(value, config);
  if (name == "Bucket") {
    Status s = ReadString(value, name, config.bucket);
    return s.ok() && !config.bucket.empty() ? store::ValidateBucketName(config.bucket) : s;
  }
  if (name == "Prefix") return ReadString(value, name, config.prefix);
  if (name == "ErrorOutputPrefix") return ReadString(value, name, config.error_output_prefix);
  if (name == "BufferingHints") return ReadBufferingHints(value, config);
  if (name == "CompressionFormat") return ReadCompression(value, config);
  if (name == "AppendDelimiterToRecord") {
    if (!value.is_boolean()) return Malformed("AppendDelimiterToRecord must be true or false");
    config.append_delimiter = value.get<bool>();
    return Status::Ok();
  }
  if (name == "Transform") return ReadTransform(value, config);
  if (name == "DynamicPartitioning") return ReadDynamicPartitioning(value, config);
  return Malformed("Unknown field " + QuoteForMessage(name) +
                   " in the delivery stream configuration (expected " + std::string(kMembers) +
                   ")");
}

// The rules between members, checked on the whole result.
Status CheckWhole(const FirehoseConfig& config) {
  auto prefixes = S3Prefix::ParsePair(config.prefix, config.error_output_prefix);
  if (!prefixes.ok()) return prefixes.status();
  const std::vector<std::string> used = prefixes->prefix.QueryKeyNames();
  for (const std::string& name : used) {
    if (config.partition_keys.find(name) == config.partition_keys.end()) {
      return InvalidArgument("Prefix uses !{partitionKeyFromQuery:" + name +
                             "}, but DynamicPartitioning.Keys has no key " + QuoteForMessage(name));
    }
  }
  if (config.partition_keys.empty()) return Status::Ok();
  if (used.empty()) {
    return InvalidArgument(
        "Prefix must use !{partitionKeyFromQuery:<key>} when Dynamic Partitioning is enabled");
  }
  if (config.buffer_size_mib < kMinPartitionedBufferSizeMiB) {
    return InvalidArgument(
        "BufferingHints.SizeInMBs must be at least 64 when Dynamic Partitioning is enabled.");
  }
  if (config.buffer_interval_seconds == 0) {
    return InvalidArgument(
        "BufferingHints.IntervalInSeconds must be greater than 0 when Dynamic Partitioning is "
        "enabled.");
  }
  return Status::Ok();
}

}  // namespace

std::string_view CompressionName(Compression c) {
  switch (c) {
    case Compression::kUncompressed: return "UNCOMPRESSED";
    case Compression::kGzip: return "GZIP";
    case Compression::kZstd: return "ZSTD";
  }
  return "UNCOMPRESSED";
}

std::string_view CompressionExtension(Compression c) {
  switch (c) {
    case Compression::kUncompressed: return "";
    case Compression::kGzip: return ".gz";
    case Compression::kZstd: return ".zst";
  }
  return "";
}

Status ValidateDeliveryStreamName(std::string_view name) {
  // Listed as Kinesis lists a stream name's: the pattern, then the lengths.
  std::vector<std::string> failures;
  const bool pattern_ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
  if (!pattern_ok) {
    failures.push_back(ValidationFailure(name, "deliveryStreamName",
                                         "satisfy regular expression pattern: [a-zA-Z0-9_.-]+"));
  }
  if (name.empty()) {
    failures.push_back(
        ValidationFailure(name, "deliveryStreamName", "have length greater than or equal to 1"));
  }
  if (name.size() > kMaxDeliveryStreamNameChars) {
    failures.push_back(
        ValidationFailure(name, "deliveryStreamName", "have length less than or equal to 64"));
  }
  return failures.empty() ? Status::Ok() : ValidationErrors(failures);
}

Result<FirehoseConfig> ParseFirehoseConfig(std::string_view json, const FirehoseConfig& current) {
  if (json.find_first_not_of(" \t\r\n") == std::string_view::npos) return current;
  if (json.size() > kMaxFirehoseConfigBytes) {
    return InvalidArgument("the delivery stream configuration is " + std::to_string(json.size()) +
                           " bytes; at most " + std::to_string(kMaxFirehoseConfigBytes) +
                           " are allowed");
  }
  if (!DepthWithin(json, kMaxDepth)) {
    return Malformed("the delivery stream configuration nests deeper than " +
                     std::to_string(kMaxDepth) + " levels");
  }
  auto doc = ParseJsonDocument(json);
  if (!doc.ok()) return doc.status();
  if (!doc->is_object()) {
    return Malformed(
        "the delivery stream configuration must be a JSON object such as {\"Bucket\": \"lake\"}");
  }
  FirehoseConfig config = current;
  for (const auto& item : doc->items()) {
    Status s = ReadMember(item.key(), item.value(), config);
    if (!s.ok()) return s;
  }
  Status s = CheckWhole(config);
  if (!s.ok()) return s;
  return config;
}

std::string FirehoseConfigJson(const FirehoseConfig& config) {
  OrderedJson doc;
  if (config.source_stream.empty()) {
    doc["Source"] = "DirectPut";
  } else {
    doc["Source"] = {{"KinesisStream", config.source_stream}};
  }
  doc["Bucket"] = config.bucket;
  doc["Prefix"] = config.prefix;
  doc["ErrorOutputPrefix"] = config.error_output_prefix;
  doc["BufferingHints"] = {{"SizeInMBs", config.buffer_size_mib},
                           {"IntervalInSeconds", config.buffer_interval_seconds}};
  doc["CompressionFormat"] = CompressionName(config.compression);
  doc["AppendDelimiterToRecord"] = config.append_delimiter;
  if (config.transform_command.empty()) {
    doc["Transform"] = nullptr;
  } else {
    doc["Transform"] = {{"Command", config.transform_command},
                        {"TimeoutSeconds", config.transform_timeout_seconds},
                        {"NumberOfRetries", config.transform_retries}};
  }
  if (config.partition_keys.empty()) {
    doc["DynamicPartitioning"] = nullptr;
  } else {
    OrderedJson keys = OrderedJson::object();
    for (const auto& [name, query] : config.partition_keys) keys[name] = query;
    doc["DynamicPartitioning"] = {{"Keys", keys}};
  }
  return doc.dump(2) + "\n";
}

}  // namespace shoal::streams
