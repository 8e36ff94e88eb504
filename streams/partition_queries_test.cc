#include "streams/partition_queries.h"

#include <catch2/catch.hpp>

namespace shoal::streams {
namespace {

std::unique_ptr<PartitionQueries> MustCompile(const PartitionKeys& keys) {
  auto q = PartitionQueries::Compile(keys);
  INFO(q.status().ToString());
  REQUIRE(q.ok());
  return std::move(*q);
}

TEST_CASE("each key is its query's first value on the record", "[partition_queries]") {
  auto q = MustCompile({{"customer", ".customer.id"},
                        {"year", ".ts | strftime(\"%Y\")"},
                        {"n", ".n"},
                        {"ok", ".ok"}});
  PartitionKeys values;
  PartitionFailure failure;
  REQUIRE(q->Evaluate(R"({"customer":{"id":"c-7"},"ts":1798797600,"n":42,"ok":true})", values,
                      failure));
  CHECK(values ==
        PartitionKeys{{"customer", "c-7"}, {"year", "2027"}, {"n", "42"}, {"ok", "true"}});
  // The same program again, on another record: no state carried over.
  REQUIRE(q->Evaluate(R"({"customer":{"id":"c-8"},"ts":0,"n":1.5,"ok":false})", values, failure));
  CHECK(values ==
        PartitionKeys{{"customer", "c-8"}, {"year", "1970"}, {"n", "1.5"}, {"ok", "false"}});
}

TEST_CASE("a record without a partition says why, in Firehose's words", "[partition_queries]") {
  auto q = MustCompile({{"k", ".k"}});
  PartitionKeys values;
  const auto failure_of = [&](std::string_view record) {
    PartitionFailure failure;
    CHECK(!q->Evaluate(record, values, failure));
    CHECK(failure.error_code == "DynamicPartitioning.MetadataExtractionFailed");
    return failure.error_message;
  };
  CHECK(failure_of("not json") == "Non JSON record provided");
  CHECK(failure_of("{\"k\":") == "Non JSON record provided");
  CHECK(failure_of(R"({"other":1})") == "partitionKeys values must not be null or empty");
  CHECK(failure_of(R"({"k":""})") == "partitionKeys values must not be null or empty");
  CHECK(failure_of(R"({"k":[1]})").find("array or object") != std::string::npos);
  CHECK(failure_of("[1]").find("failed") != std::string::npos);  // .k of an array: a jq error
  auto empty = MustCompile({{"k", "empty"}});
  PartitionFailure failure;
  CHECK(!empty->Evaluate("{}", values, failure));
  CHECK(failure.error_message.find("no value") != std::string::npos);
}

TEST_CASE("an expression that does not compile is refused with jq's words", "[partition_queries]") {
  auto bad = PartitionQueries::Compile({{"k", ".k | "}});
  REQUIRE(!bad.ok());
  CHECK(bad.status().code() == Code::kInvalidArgument);
  CHECK(bad.status().message().find("DynamicPartitioning.Keys.k") != std::string::npos);
  CHECK(bad.status().message().find("syntax error") != std::string::npos);
}

}  // namespace
}  // namespace shoal::streams
