#include "streams/firehose_config.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

namespace shoal::streams {
namespace {

FirehoseConfig MustParse(std::string_view json, const FirehoseConfig& current = {}) {
  auto c = ParseFirehoseConfig(json, current);
  INFO(json);
  INFO(c.status().ToString());
  REQUIRE(c.ok());
  return *c;
}

Status ParseError(std::string_view json, const FirehoseConfig& current = {}) {
  auto c = ParseFirehoseConfig(json, current);
  INFO(json);
  REQUIRE_FALSE(c.ok());
  return c.status();
}

}  // namespace

TEST_CASE("delivery stream names follow Firehose's rules", "[firehose_config]") {
  CHECK(ValidateDeliveryStreamName("orders-to-lake_1.0").ok());
  CHECK(ValidateDeliveryStreamName(std::string(64, 'a')).ok());
  CHECK(ValidateDeliveryStreamName(std::string(65, 'a')).message() ==
        "1 validation error detected: Value '" + std::string(64, 'a') +
            "...' at 'deliveryStreamName' failed to satisfy constraint: Member must have length "
            "less than or equal to 64");
  CHECK(ValidateDeliveryStreamName("a b").code() == Code::kInvalidArgument);
  CHECK(ValidateDeliveryStreamName("").message().rfind("2 validation errors detected: ", 0) == 0);
}

TEST_CASE("a new delivery stream has Firehose's defaults, and config.json shows every member",
          "[firehose_config]") {
  const FirehoseConfig fresh;
  auto doc = nlohmann::json::parse(FirehoseConfigJson(fresh));
  CHECK(doc["Source"] == "DirectPut");
  CHECK(doc["Bucket"] == "");
  CHECK(doc["BufferingHints"]["SizeInMBs"] == 5);
  CHECK(doc["BufferingHints"]["IntervalInSeconds"] == 300);
  CHECK(doc["CompressionFormat"] == "UNCOMPRESSED");
  CHECK(doc["AppendDelimiterToRecord"] == false);
  CHECK(doc["Transform"].is_null());
  CHECK(doc["DynamicPartitioning"].is_null());
  // What config.json shows parses back to the same configuration.
  CHECK(MustParse(FirehoseConfigJson(fresh)) == fresh);
}

TEST_CASE("a document changes the members it names and keeps the rest", "[firehose_config]") {
  FirehoseConfig c = MustParse(
      R"({"Bucket":"lake","BufferingHints":{"SizeInMBs":1,"IntervalInSeconds":60},
          "CompressionFormat":"GZIP","AppendDelimiterToRecord":true})");
  CHECK(c.bucket == "lake");
  CHECK(c.buffer_size_mib == 1);
  CHECK(c.buffer_interval_seconds == 60);
  CHECK(c.compression == Compression::kGzip);
  CHECK(c.append_delimiter);
  c = MustParse(R"({"CompressionFormat":"ZSTD","Source":{"KinesisStream":"iot"}})", c);
  CHECK(c.bucket == "lake");
  CHECK(c.compression == Compression::kZstd);
  CHECK(c.source_stream == "iot");
  c = MustParse(R"({"Transform":{"Command":["./to_upper.py","--strict"]}})", c);
  CHECK(c.transform_command == std::vector<std::string>{"./to_upper.py", "--strict"});
  CHECK(MustParse(R"({"Transform":null})", c).transform_command.empty());
  CHECK(MustParse("  \n", c) == c);
  const FirehoseConfig round = MustParse(FirehoseConfigJson(c));
  CHECK(round == c);
  CHECK(CompressionExtension(Compression::kGzip) == ".gz");
  CHECK(CompressionExtension(Compression::kZstd) == ".zst");
  CHECK(CompressionExtension(Compression::kUncompressed).empty());
}

TEST_CASE("buffering hints are checked against Firehose's ranges", "[firehose_config]") {
  CHECK(MustParse(R"({"BufferingHints":{"SizeInMBs":128,"IntervalInSeconds":0}})")
            .buffer_interval_seconds == 0);
  CHECK(ParseError(R"({"BufferingHints":{"SizeInMBs":129,"IntervalInSeconds":60}})").message() ==
        "1 validation error detected: Value '129' at "
        "'extendedS3DestinationConfiguration.bufferingHints.sizeInMBs' failed to satisfy "
        "constraint: Member must have value less than or equal to 128");
  CHECK(ParseError(R"({"BufferingHints":{"SizeInMBs":0,"IntervalInSeconds":60}})").code() ==
        Code::kInvalidArgument);
  CHECK(ParseError(R"({"BufferingHints":{"SizeInMBs":5,"IntervalInSeconds":901}})")
            .message()
            .find("less than or equal to 900") != std::string::npos);
  CHECK(ParseError(R"({"BufferingHints":{"SizeInMBs":5}})").message().find("both") !=
        std::string::npos);
  CHECK(ParseError(R"({"BufferingHints":{"SizeInMBs":"5","IntervalInSeconds":1}})").code() ==
        Code::kMalformedJson);
}

TEST_CASE("dynamic partitioning needs keys the prefix uses, an error prefix and 64 MiB buffers",
          "[firehose_config]") {
  const std::string keys = R"("DynamicPartitioning":{"Keys":{"customer":".customer_id"}})";
  const std::string prefixes =
      R"("Prefix":"c=!{partitionKeyFromQuery:customer}/","ErrorOutputPrefix":"e/!{firehose:error-output-type}/")";
  const FirehoseConfig c =
      MustParse("{" + keys + "," + prefixes +
                R"(,"BufferingHints":{"SizeInMBs":64,"IntervalInSeconds":60}})");
  CHECK(c.partition_keys.at("customer") == ".customer_id");
  CHECK(ParseError("{" + keys + "," + prefixes + "}").message() ==
        "BufferingHints.SizeInMBs must be at least 64 when Dynamic Partitioning is enabled.");
  CHECK(ParseError("{" + keys + R"(,"BufferingHints":{"SizeInMBs":64,"IntervalInSeconds":60}})")
            .message()
            .find("Prefix must use") != std::string::npos);
  CHECK(ParseError("{" + keys + "," + prefixes +
                   R"(,"BufferingHints":{"SizeInMBs":64,"IntervalInSeconds":0}})")
            .code() == Code::kInvalidArgument);
  // A key the prefix names must be defined.
  CHECK(ParseError("{" + prefixes + "}").message().find("no key \"customer\"") !=
        std::string::npos);
  // null turns partitioning off again (with a prefix that no longer needs it).
  CHECK(MustParse(R"({"DynamicPartitioning":null,"Prefix":"p/"})", c).partition_keys.empty());
}

TEST_CASE("prefix rules and bad documents are refused, changing nothing", "[firehose_config]") {
  CHECK(ParseError(R"({"Prefix":"!{timestamp:yyyy}/"})").message() ==
        "Ths supplied prefix(es) do not satisfy the following constraint: ErrorOutputPrefix "
        "cannot be null or empty when Prefix contains expressions");
  CHECK(ParseError(R"({"CompressionFormat":"ZIP"})").message() ==
        "1 validation error detected: Value 'ZIP' at "
        "'extendedS3DestinationConfiguration.compressionFormat' failed to satisfy constraint: "
        "Member must satisfy enum value set: [UNCOMPRESSED, GZIP, ZSTD]");
  CHECK(ParseError(R"({"Bucket":"Not_A_Bucket"})").code() == Code::kInvalidBucketName);
  CHECK(ParseError(R"({"Source":{"KinesisStream":"bad name"}})").code() == Code::kInvalidArgument);
  CHECK(ParseError(R"({"Source":"Kinesis"})").code() == Code::kMalformedJson);
  CHECK(ParseError(R"({"Shards":2})").message().find("Unknown field \"Shards\"") !=
        std::string::npos);
  CHECK(ParseError(R"({"Transform":{"Command":[]}})").code() == Code::kMalformedJson);
  CHECK(ParseError(R"({"AppendDelimiterToRecord":"yes"})").code() == Code::kMalformedJson);
  CHECK(ParseError("[1]").code() == Code::kMalformedJson);
  CHECK(ParseError(R"({"Bucket":)").code() == Code::kMalformedJson);
  CHECK(ParseError(std::string(kMaxFirehoseConfigBytes + 1, ' ') + "{}").code() ==
        Code::kInvalidArgument);
}

}  // namespace shoal::streams
