#include "streams/firehose_transform.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "crypto/cse.h"

namespace shoal::streams {
namespace {

constexpr TimeNs kMs = 1'000'000;

TimeNs Now() {
  return 1'900'000'000'000 * kMs;
}
std::string Uuid() {
  return "11111111-2222-4333-8444-555555555555";
}

FirehoseConfig WithCommand(const std::string& shell, std::int64_t retries = 0) {
  FirehoseConfig c;
  c.transform_command = {"sh", "-c", shell};
  c.transform_retries = retries;
  c.transform_timeout_seconds = 1;
  return c;
}

// Echoes every record back with `result`, unchanged.
std::string AnswerAll(std::string_view result) {
  return "jq -c '{records: [.records[] | {recordId, data, result: \"" + std::string(result) +
         "\"}]}'";
}

std::vector<BufferedRecord> Records(int n) {
  std::vector<BufferedRecord> out;
  out.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) out.push_back({"r" + std::to_string(i), (1000 + i) * kMs});
  return out;
}

TEST_CASE("the Lambda event carries ids, arrival times and base64 data", "[firehose_transform]") {
  const auto records = Records(2);
  const auto event = nlohmann::json::parse(TransformEvent("orders", Uuid(), records, 7));
  CHECK(event["invocationId"] == Uuid());
  CHECK(event["deliveryStreamArn"] ==
        "arn:aws:firehose:us-east-1:000000000000:deliverystream/orders");
  CHECK(event["region"] == "us-east-1");
  REQUIRE(event["records"].size() == 2);
  CHECK(event["records"][1]["recordId"] == "8");
  CHECK(event["records"][1]["approximateArrivalTimestamp"] == 1001);
  CHECK(event["records"][1]["data"] == crypto::Base64Encode("r1"));
}

TEST_CASE("Ok records come back transformed, Dropped ones vanish", "[firehose_transform]") {
  auto ok = RunTransform(WithCommand(AnswerAll("Ok")), "s", Records(3), Now, Uuid);
  REQUIRE(ok.ok.size() == 3);
  CHECK(ok.ok[2].data == "r2");
  CHECK(ok.ok[2].arrival == 1002 * kMs);
  CHECK(ok.failed.empty());
  CHECK(ok.invocations == 1);
  auto dropped = RunTransform(WithCommand(AnswerAll("Dropped")), "s", Records(3), Now, Uuid);
  CHECK(dropped.ok.empty());
  CHECK(dropped.dropped == 3);
  CHECK(dropped.failed.empty());
}

TEST_CASE("each failure of a whole invocation has Firehose's code", "[firehose_transform]") {
  const auto code_of = [](const std::string& shell) {
    auto t = RunTransform(WithCommand(shell), "s", Records(2), Now, Uuid);
    REQUIRE(t.failed.size() == 2);
    CHECK(t.ok.empty());
    CHECK(t.failed_invocations == 1);
    CHECK(t.failed[0].attempts_ended == Now());
    CHECK(!t.problem.empty());
    return t.failed[0].error_code;
  };
  CHECK(code_of("exit 1") == "Lambda.FunctionError");
  CHECK(code_of("kill -KILL $$") == "Lambda.FunctionError");
  CHECK(code_of("sleep 5") == "Lambda.FunctionTimedOut");
  CHECK(code_of("echo not json") == "Lambda.JsonProcessingException");
  CHECK(code_of("echo '{\"records\":[{\"recordId\":\"0\",\"result\":\"Maybe\"}]}'") ==
        "Lambda.JsonProcessingException");
  CHECK(code_of("echo '{\"records\":[{\"recordId\":\"0\",\"result\":\"Dropped\"}]}'") ==
        "Lambda.MissingRecordId");
  CHECK(code_of("echo '{\"records\":[{\"recordId\":\"0\",\"result\":\"Dropped\"},"
                "{\"recordId\":\"0\",\"result\":\"Dropped\"}]}'") == "Lambda.DuplicatedRecordId");
  CHECK(code_of("echo '{\"records\":[{\"recordId\":\"9\",\"result\":\"Dropped\"}]}'") ==
        "Lambda.MissingRecordId");
  CHECK(code_of("echo '{\"records\":[{\"recordId\":\"0\",\"result\":\"Ok\",\"data\":\"!!\"},"
                "{\"recordId\":\"1\",\"result\":\"Dropped\"}]}'") ==
        "Lambda.JsonProcessingException");
}

TEST_CASE("a failed invocation is retried NumberOfRetries times", "[firehose_transform]") {
  auto t = RunTransform(WithCommand("exit 2", 3), "s", Records(1), Now, Uuid);
  REQUIRE(t.failed.size() == 1);
  CHECK(t.failed[0].attempts == 4);
  CHECK(t.invocations == 4);
  CHECK(t.problem.find("exit status 2") != std::string::npos);
}

TEST_CASE("invocations carry at most 1 MiB of data", "[firehose_transform]") {
  const std::vector<BufferedRecord> big(5, {std::string(std::size_t{400} * 1024, 'x'), 0});
  auto t = RunTransform(WithCommand(AnswerAll("Ok")), "s", big, Now, Uuid);
  CHECK(t.invocations == 3);  // 2 + 2 + 1 records
  CHECK(t.ok.size() == 5);
}

TEST_CASE("an error record is Firehose's line", "[firehose_transform]") {
  const FailedRecord f{.record = {"hi", 1500 * kMs},
                       .error_code = "Lambda.FunctionError",
                       .error_message = "m",
                       .attempts = 4,
                       .attempts_ended = 2000 * kMs};
  CHECK(
      ErrorRecordJson(f, "arn:x") ==
      R"({"attemptsMade":4,"arrivalTimestamp":1500,"errorCode":"Lambda.FunctionError",)"
      R"("errorMessage":"m","attemptEndingTimestamp":2000,"rawData":"aGk=","lambdaArn":"arn:x"})");
}

}  // namespace
}  // namespace shoal::streams
