#include "streams/firehose_prefix.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "base/sim_clock.h"

namespace shoal::streams {
namespace {

using Keys = std::map<std::string, std::string, std::less<>>;

TimeNs At(std::string_view iso) {
  auto t = ParseIso8601(iso);
  REQUIRE(t.ok());
  return *t;
}

S3Prefix::Pair MustPair(std::string_view prefix, std::string_view error_prefix) {
  auto pair = S3Prefix::ParsePair(prefix, error_prefix);
  INFO(pair.status().ToString());
  REQUIRE(pair.ok());
  return *pair;
}

std::string MustRender(const S3Prefix& prefix, const PrefixValues& values) {
  auto text = prefix.Render(values);
  INFO(text.status().ToString());
  REQUIRE(text.ok());
  return *text;
}

std::string PairError(std::string_view prefix, std::string_view error_prefix) {
  auto pair = S3Prefix::ParsePair(prefix, error_prefix);
  REQUIRE_FALSE(pair.ok());
  CHECK(pair.status().code() == Code::kInvalidArgument);
  return pair.status().message();
}

}  // namespace

TEST_CASE("timestamp patterns format the Java letters shoal supports, in UTC",
          "[firehose_prefix]") {
  const TimeNs t = At("2018-08-27T10:30:05Z");
  CHECK(FormatTimestampPattern("yyyy/MM/dd/HH/", t).value() == "2018/08/27/10/");
  CHECK(FormatTimestampPattern("yy-M-d-H-m-s", t).value() == "18-8-27-10-30-5");
  CHECK(FormatTimestampPattern("mm:ss DDD", t).value() == "30:05 239");
  CHECK(FormatTimestampPattern("'year='yyyy'/month='MM", t).value() == "year=2018/month=08");
  CHECK(FormatTimestampPattern("HH 'o''clock' ''", t).value() == "10 o'clock '");
  // Before 1970 the second is floored, not truncated toward zero.
  CHECK(FormatTimestampPattern("yyyy-MM-dd HH:mm:ss", -1).value() == "1969-12-31 23:59:59");
  CHECK(FormatTimestampPattern("MMM", t).status().code() == Code::kInvalidArgument);
  CHECK(FormatTimestampPattern("EEE", t).status().message().find("EEE") != std::string::npos);
  CHECK(FormatTimestampPattern("'open", t).status().code() == Code::kInvalidArgument);
}

TEST_CASE("no prefix, or a plain one, gets Firehose's default time prefix", "[firehose_prefix]") {
  const PrefixValues values{.timestamp = At("2026-11-27T09:05:00Z"),
                            .error_output_type = "processing-failed"};
  auto none = MustPair("", "");
  CHECK(MustRender(none.prefix, values) == "2026/11/27/09/");
  CHECK(MustRender(none.error_output_prefix, values) == "processing-failed/2026/11/27/09/");
  // Appended as it is: no slash is inserted after a plain prefix.
  auto plain = MustPair("logs/", "");
  CHECK(MustRender(plain.prefix, values) == "logs/2026/11/27/09/");
  CHECK(MustRender(plain.error_output_prefix, values) == "logs/processing-failed/2026/11/27/09/");
  CHECK(MustRender(MustPair("legacy", "").prefix, values) == "legacy2026/11/27/09/");
  auto own_error = MustPair("logs/", "failed/");
  CHECK(MustRender(own_error.error_output_prefix, values) == "failed/");
}

TEST_CASE("expressions render from the oldest record's time and the record's keys",
          "[firehose_prefix]") {
  const Keys query{{"customer", "c-17"}, {"device", "mobile"}};
  int draws = 0;
  const PrefixValues values{.timestamp = At("2018-07-06T23:10:00Z"),
                            .error_output_type = "processing-failed",
                            .query_keys = &query,
                            .random_string = [&draws] {
                              ++draws;
                              return std::string(kRandomStringChars,
                                                 static_cast<char>('a' + draws - 1));
                            }};
  auto pair = MustPair(
      "myPrefix/customer=!{partitionKeyFromQuery:customer}/year=!{timestamp:yyyy}/"
      "month=!{timestamp:MM}/r=!{firehose:random-string}/",
      "myErrors/!{firehose:error-output-type}/!{timestamp:yyyy}/!{firehose:random-string}");
  CHECK(MustRender(pair.prefix, values) ==
        "myPrefix/customer=c-17/year=2018/month=07/r=aaaaaaaaaaa/");
  CHECK(MustRender(pair.error_output_prefix, values) ==
        "myErrors/processing-failed/2018/bbbbbbbbbbb");
  CHECK(pair.prefix.QueryKeyNames() == std::vector<std::string>{"customer"});
  // A prefix with expressions gets nothing appended.
  CHECK(MustRender(MustPair("!{timestamp:yyyy}/", "e/!{firehose:error-output-type}/").prefix,
                   values) == "2018/");
}

TEST_CASE("a missing or empty partition key, or a result over 512 characters, fails rendering",
          "[firehose_prefix]") {
  const Keys query{{"customer", ""}};
  auto pair = MustPair("c=!{partitionKeyFromQuery:customer}/d=!{partitionKeyFromQuery:device}/",
                       "e/!{firehose:error-output-type}/");
  PrefixValues values{.timestamp = 0, .query_keys = &query};
  CHECK(pair.prefix.Render(values).status().code() == Code::kInvalidArgument);
  const Keys full{{"customer", "x"}, {"device", std::string(600, 'd')}};
  values.query_keys = &full;
  auto rendered = pair.prefix.Render(values);
  REQUIRE_FALSE(rendered.ok());
  CHECK(rendered.status().message().find("512") != std::string::npos);
  // Keys from the transform are their own namespace.
  auto lambda =
      MustPair("k=!{partitionKeyFromLambda:customer}/", "e/!{firehose:error-output-type}");
  CHECK_FALSE(lambda.prefix.Render(values).ok());
  const Keys from_lambda{{"customer", "c-9"}};
  values.lambda_keys = &from_lambda;
  CHECK(MustRender(lambda.prefix, values) == "k=c-9/");
}

TEST_CASE("Firehose's prefix rules, in its words", "[firehose_prefix]") {
  const std::string lead = "Ths supplied prefix(es) do not satisfy the following constraint: ";
  CHECK(PairError("!{timestamp:yyyy}/", "") ==
        lead + "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions");
  CHECK(PairError("!{timestamp:yyyy}/", "errors/!{timestamp:yyyy}/") ==
        lead +
            "ErrorOutputPrefix must contain !{firehose:error-output-type} when it contains "
            "expressions");
  CHECK(PairError("p/!{firehose:error-output-type}/", "e/") ==
        lead + "Prefix cannot contain !{firehose:error-output-type}");
  CHECK(PairError("", "e/!{firehose:error-output-type}/!{partitionKeyFromQuery:k}/") ==
        lead +
            "ErrorOutputPrefix cannot contain partitionKeyFromQuery or partitionKeyFromLambda "
            "expressions");
  CHECK(PairError("a/!{timestamp:yyyy", "e/") ==
        lead + "!{ may only begin an expression of the form !{namespace:value} in Prefix");
  CHECK(PairError("!{time:yyyy}", "e/!{firehose:error-output-type}").find("namespace time") !=
        std::string::npos);
  CHECK(PairError("!{timestamp}", "e/!{firehose:error-output-type}")
            .find("must be of the form !{namespace:value}") != std::string::npos);
  CHECK(PairError("!{firehose:uuid}", "e/!{firehose:error-output-type}").find("uuid") !=
        std::string::npos);
  CHECK(PairError("!{timestamp:QQ}", "e/!{firehose:error-output-type}").find("QQ") !=
        std::string::npos);
  CHECK(PairError(std::string(1025, 'p'), "").find("1024") != std::string::npos);
  // A plain error prefix with a plain prefix is fine; so is 1024 characters.
  CHECK(S3Prefix::ParsePair("p/", "e/").ok());
  CHECK(S3Prefix::ParsePair(std::string(1024, 'p'), "").ok());
}

TEST_CASE("delivered objects are named as Firehose names them", "[firehose_prefix]") {
  CHECK(DeliveredObjectName("orders", 3, At("2023-12-31T18:43:24Z"),
                            "31f965fd-de35-4eaa-98fb-8035e8998e41", ".gz") ==
        "orders-3-2023-12-31-18-43-24-31f965fd-de35-4eaa-98fb-8035e8998e41.gz");
  CHECK(DeliveredObjectName("s", 1, At("2026-01-02T03:04:05Z"), "u", "") ==
        "s-1-2026-01-02-03-04-05-u");
}

}  // namespace shoal::streams
