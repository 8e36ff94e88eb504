#include "streams/stream_config.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace shoal::streams {
namespace {

constexpr std::string_view kStream = "clicks";

StreamConfig MustParse(std::string_view json, const StreamConfig& current = {}) {
  auto c = ParseStreamConfig(json, current, kStream);
  INFO(json);
  INFO(c.status().ToString());
  REQUIRE(c.ok());
  return *c;
}

Status ParseError(std::string_view json, const StreamConfig& current = {}) {
  auto c = ParseStreamConfig(json, current, kStream);
  INFO(json);
  REQUIRE_FALSE(c.ok());
  return c.status();
}

}  // namespace

TEST_CASE("stream names follow Kinesis's rules, with its validation messages", "[stream_config]") {
  const std::vector<std::string> goods = {"a", "clicks", "Web_Logs.v2-prod", std::string(128, 'x')};
  for (const std::string& good : goods) {
    CHECK(ValidateStreamName(good).ok());
  }
  const Status slash = ValidateStreamName("a/b");
  CHECK(slash.code() == Code::kInvalidArgument);
  CHECK(slash.message() ==
        "1 validation error detected: Value 'a/b' at 'streamName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
  CHECK(ValidateStreamName("").message() ==
        "2 validation errors detected: Value '' at 'streamName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value '' at "
        "'streamName' failed to satisfy constraint: Member must have length greater than or "
        "equal to 1");
  const Status long_name = ValidateStreamName(std::string(129, 'x'));
  CHECK(long_name.message().starts_with("1 validation error detected: Value 'xxxx"));
  CHECK(long_name.message().ends_with("Member must have length less than or equal to 128"));
  CHECK(ValidateStreamName(std::string(129, '!')).message().starts_with("2 validation errors"));
  CHECK(ValidateStreamName("caf\xc3\xa9").code() == Code::kInvalidArgument);
  CHECK(ValidateStreamName("a\nb").message().find('\n') == std::string::npos);
}

TEST_CASE("partition keys are 1 to 256 Unicode characters", "[stream_config]") {
  CHECK(ValidatePartitionKey("k").ok());
  CHECK(ValidatePartitionKey(std::string(256, 'k')).ok());
  std::string snowmen;
  for (int i = 0; i < 256; ++i) snowmen += "\xe2\x98\x83";  // 768 bytes, 256 characters
  CHECK(ValidatePartitionKey(snowmen).ok());
  CHECK(ValidatePartitionKey(snowmen + "\xe2\x98\x83").code() == Code::kInvalidArgument);
  CHECK(ValidatePartitionKey("").message() ==
        "1 validation error detected: Value '' at 'partitionKey' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1");
  CHECK(ValidatePartitionKey(std::string(257, 'k'))
            .message()
            .ends_with("at 'partitionKey' failed to satisfy constraint: Member must have length "
                       "less than or equal to 256"));
  SECTION("bytes that are not UTF-8 are refused") {
    for (const std::string bad : {"\xff", "\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"}) {
      const Status s = ValidatePartitionKey(bad);
      CHECK(s.code() == Code::kInvalidArgument);
      CHECK(s.message().find("not valid UTF-8") != std::string::npos);
    }
  }
}

TEST_CASE("a record counts its partition key against MaxRecordSizeKiB", "[stream_config]") {
  StreamConfig c;
  CHECK(MaxRecordBytes(c) == 1048576);
  CHECK(RecordBytes("key", 10) == 13);
  CHECK(CheckRecordSize(c, kStream, "k", 1048575).ok());
  const Status s = CheckRecordSize(c, kStream, "k", 1048576);
  CHECK(s.code() == Code::kInvalidArgument);
  CHECK(s.message() ==
        "the record is 1048577 bytes (1048576 of data and a 1-byte partition key); records in "
        "stream clicks are at most 1048576 bytes with their partition key (MaxRecordSizeKiB "
        "1024)");
  c.max_record_size_kib = 10240;
  CHECK(CheckRecordSize(c, kStream, "k", 1048576).ok());
}

TEST_CASE("retention changes get Kinesis's Increase/DecreaseStreamRetentionPeriod messages",
          "[stream_config]") {
  using enum RetentionChange;
  CHECK(ValidateRetentionChange(kIncrease, "s", 24, 48).ok());
  CHECK(ValidateRetentionChange(kIncrease, "s", 24, 24).ok());
  CHECK(ValidateRetentionChange(kDecrease, "s", 48, 24).ok());
  CHECK(ValidateRetentionChange(kIncrease, "s", 24, 8760).ok());
  CHECK(ValidateRetentionChange(kDecrease, "s", 48, 12).message() ==
        "Minimum allowed retention period is 24 hours. Requested retention period (12 hours) is "
        "too short.");
  CHECK(ValidateRetentionChange(kIncrease, "s", 48, 8761).message() ==
        "Maximum allowed retention period is 8760 hours. Requested retention period (8761 hours) "
        "is too long.");
  CHECK(ValidateRetentionChange(kIncrease, "my_stream", 30, 25).message() ==
        "Requested retention period (25 hours) for stream my_stream can not be shorter than "
        "existing retention period (30 hours). Use DecreaseRetentionPeriod API.");
  CHECK(ValidateRetentionChange(kDecrease, "my_stream", 30, 40).message() ==
        "Requested retention period (40 hours) for stream my_stream can not be longer than "
        "existing retention period (30 hours). Use IncreaseRetentionPeriod API.");
  CHECK(ValidateRetentionChange(kIncrease, "s", 24, 0).code() == Code::kInvalidArgument);
}

TEST_CASE("the configuration prints in DESIGN's order and parses back unchanged",
          "[stream_config]") {
  StreamConfig c;
  CHECK(StreamConfigJson(c) == R"({
  "StreamMode": "PROVISIONED",
  "ShardCount": 1,
  "RetentionPeriodHours": 24,
  "PartitionKey": null,
  "Throttle": "block",
  "MaxRecordSizeKiB": 1024
}
)");
  c.mode = StreamMode::kOnDemand;
  c.shard_count = 4;
  c.retention_hours = 168;
  c.partition_key_path = "$.user.id";
  c.throttle = ThrottleMode::kReject;
  c.max_record_size_kib = 2048;
  const std::string text = StreamConfigJson(c);
  CHECK(text.find("\"PartitionKey\": \"$.user.id\"") != std::string::npos);
  CHECK(MustParse(text, c) == c);
  const auto stored = DecodeStreamConfig(text);
  REQUIRE(stored.ok());
  CHECK(*stored == c);
}

TEST_CASE("a config.json changes only the members it names", "[stream_config]") {
  StreamConfig current;
  current.shard_count = 2;
  CHECK(MustParse("", current) == current);
  CHECK(MustParse(" \n", current) == current);
  CHECK(MustParse("{}", current) == current);
  StreamConfig c = MustParse(R"({"ShardCount": 4})", current);
  CHECK(c.shard_count == 4);
  CHECK(c.retention_hours == 24);
  c = MustParse(R"({"RetentionPeriodHours": 48, "Throttle": "off", "PartitionKey": "$.id"})",
                current);
  CHECK(c.retention_hours == 48);
  CHECK(c.throttle == ThrottleMode::kOff);
  CHECK(c.partition_key_path == "$.id");
  current.partition_key_path = "$.id";
  CHECK_FALSE(MustParse(R"({"PartitionKey": null})", current).partition_key_path);
  CHECK(MustParse(R"({"StreamMode": "ON_DEMAND"})", current).mode == StreamMode::kOnDemand);
  CHECK(MustParse(R"({"MaxRecordSizeKiB": 10240})", current).max_record_size_kib == 10240);
}

TEST_CASE("out-of-range values get Kinesis's validation messages", "[stream_config]") {
  CHECK(ParseError(R"({"ShardCount": 0})").message() ==
        "1 validation error detected: Value '0' at 'targetShardCount' failed to satisfy "
        "constraint: Member must have value greater than or equal to 1");
  CHECK(ParseError(R"({"ShardCount": 100001})")
            .message()
            .ends_with("Member must have value less than or equal to 100000"));
  CHECK(ParseError(R"({"ShardCount": 18446744073709551615})").code() == Code::kInvalidArgument);
  CHECK(ParseError(R"({"MaxRecordSizeKiB": 1000})").message() ==
        "1 validation error detected: Value '1000' at 'maxRecordSizeInKiB' failed to satisfy "
        "constraint: Member must have value greater than or equal to 1024");
  CHECK(ParseError(R"({"MaxRecordSizeKiB": 10241})")
            .message()
            .ends_with("Member must have value less than or equal to 10240"));
  CHECK(ParseError(R"({"StreamMode": "SERVERLESS"})").message() ==
        "1 validation error detected: Value 'SERVERLESS' at 'streamModeDetails.streamMode' "
        "failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, "
        "ON_DEMAND]");
  CHECK(ParseError(R"({"RetentionPeriodHours": 23})").message() ==
        "Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is "
        "too short.");
  CHECK(ParseError(R"({"RetentionPeriodHours": 9000})").message() ==
        "Maximum allowed retention period is 8760 hours. Requested retention period (9000 "
        "hours) is too long.");
  for (const char* bad : {R"({"PartitionKey": "field"})", R"({"PartitionKey": "$."})",
                          R"({"PartitionKey": "$.a..b"})", R"({"PartitionKey": "$.a."})"}) {
    CHECK(ParseError(bad).code() == Code::kInvalidArgument);
  }
  CHECK(ParseError(R"({"Throttle": "slow"})").code() == Code::kInvalidArgument);
}

TEST_CASE("an on-demand stream's shard count is not the user's to set", "[stream_config]") {
  StreamConfig current;
  current.mode = StreamMode::kOnDemand;
  current.shard_count = 4;
  CHECK(MustParse(R"({"ShardCount": 4})", current) == current);
  CHECK(ParseError(R"({"ShardCount": 8})", current).message() ==
        "Request is invalid. Stream clicks under account 000000000000 is in On-Demand mode.");
  CHECK(MustParse(R"({"StreamMode": "PROVISIONED", "ShardCount": 8})", current).shard_count == 8);
  StreamConfig provisioned;
  CHECK(ParseError(R"({"StreamMode": "ON_DEMAND", "ShardCount": 2})", provisioned).code() ==
        Code::kInvalidArgument);
}

TEST_CASE("documents that are not a stream configuration are malformed", "[stream_config]") {
  CHECK(ParseError("{").code() == Code::kMalformedJson);
  CHECK(ParseError("[]").code() == Code::kMalformedJson);
  CHECK(ParseError("3").code() == Code::kMalformedJson);
  CHECK(ParseError(R"({"ShardCount": "2"})").code() == Code::kMalformedJson);
  CHECK(ParseError(R"({"ShardCount": 2.5})").code() == Code::kMalformedJson);
  CHECK(ParseError(R"({"StreamMode": 1})").code() == Code::kMalformedJson);
  CHECK(ParseError(R"({"PartitionKey": 5})").code() == Code::kMalformedJson);
  const Status unknown = ParseError(R"({"Shards": 2})");
  CHECK(unknown.code() == Code::kMalformedJson);
  CHECK(unknown.message().starts_with("Unknown field \"Shards\""));
  CHECK(ParseError(std::string(20, '[') + std::string(20, ']')).code() == Code::kMalformedJson);
  const Status big = ParseError("{" + std::string(kMaxStreamConfigBytes, ' ') + "}");
  CHECK(big.code() == Code::kInvalidArgument);
}

TEST_CASE("a damaged stored configuration is corrupt", "[stream_config]") {
  CHECK(DecodeStreamConfig("").status().code() == Code::kCorrupt);
  CHECK(DecodeStreamConfig(R"({"ShardCount": 1})").status().code() == Code::kCorrupt);
  std::string text = StreamConfigJson(StreamConfig{});
  text.replace(text.find("1024"), 4, "9");
  CHECK(DecodeStreamConfig(text).status().code() == Code::kCorrupt);
}

TEST_CASE("the stream ARN names the simulated account and Region", "[stream_config]") {
  CHECK(StreamArn("clicks") == "arn:aws:kinesis:us-east-1:000000000000:stream/clicks");
}

}  // namespace shoal::streams
