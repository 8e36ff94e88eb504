#include "streams/firehose_transform.h"

#include <charconv>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "base/json_text.h"
#include "base/subprocess.h"
#include "crypto/cse.h"
#include "streams/stream_config.h"

namespace shoal::streams {
namespace {

using Json = nlohmann::json;

constexpr TimeNs kNsPerMs = 1'000'000;

// Firehose's words for each failure.
struct Failure {
  std::string_view code;
  std::string_view message;
};
constexpr Failure kFunctionError{
    "Lambda.FunctionError",
    "The Lambda function was successfully invoked but it returned an error result."};
constexpr Failure kTimedOut{
    "Lambda.FunctionTimedOut",
    "The Lambda function invocation timed out. Increase the Timeout setting in the Lambda "
    "function."};
constexpr Failure kBadResponse{
    "Lambda.JsonProcessingException",
    "There was an error parsing returned records from the Lambda function. Ensure that the "
    "returned records follow the status model required by Kinesis Firehose."};
constexpr Failure kDuplicated{
    "Lambda.DuplicatedRecordId",
    "Multiple records were returned with the same record ID. Ensure that the Lambda function "
    "returns unique record IDs for each record."};
constexpr Failure kMissing{
    "Lambda.MissingRecordId",
    "One or more record IDs were not returned. Ensure that the Lambda function returns all "
    "received record IDs."};
constexpr Failure kProcessingFailed{"Lambda.ProcessingFailedStatus",
                                    "ProcessingFailed status set for record"};

// What one attempt at an invocation gave: per record, or a failure of all.
struct Attempt {
  const Failure* failure = nullptr;  // the whole invocation failed
  std::string detail;                // for .shoal/errors
  enum class Result { kOk, kDropped, kFailed };
  std::vector<Result> results;  // by index in the invocation
  std::vector<std::string> data;
};

Attempt ParseResponse(std::string_view response, std::size_t count, std::uint64_t first_id) {
  Attempt a;
  const auto bad = [&](std::string detail) {
    a.failure = &kBadResponse;
    a.detail = std::move(detail);
    return a;
  };
  constexpr std::size_t kMaxDepth = 32;  // the status model needs 3
  if (!DepthWithin(response, kMaxDepth)) return bad("the answer nests too deep");
  auto parsed = ParseJsonDocument(response);
  if (!parsed.ok() || !parsed->is_object() || !parsed->contains("records") ||
      !(*parsed)["records"].is_array()) {
    return bad("the answer is not {\"records\": [...]}");
  }
  const Json& doc = *parsed;
  a.results.assign(count, Attempt::Result::kFailed);
  a.data.assign(count, "");
  std::vector<bool> seen(count, false);
  for (const Json& r : doc.at("records")) {
    if (!r.is_object() || !r.contains("recordId") || !r["recordId"].is_string() ||
        !r.contains("result") || !r["result"].is_string()) {
      return bad("a record without a string recordId and result");
    }
    const std::string id = r["recordId"].get<std::string>();
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), n);
    const bool decimal = ec == std::errc() && end == id.data() + id.size() && !id.empty();
    const auto index = decimal && n >= first_id && n - first_id < count
                           ? std::optional<std::size_t>(n - first_id)
                           : std::nullopt;
    if (!index) {
      a.failure = &kMissing;
      a.detail = "the answer names record " + id + ", which was not sent";
      return a;
    }
    if (seen[*index]) {
      a.failure = &kDuplicated;
      a.detail = "the answer names record " + id + " twice";
      return a;
    }
    seen[*index] = true;
    const std::string result = r["result"].get<std::string>();
    if (result == "Ok") {
      if (!r.contains("data") || !r["data"].is_string() ||
          !crypto::Base64Decode(r["data"].get<std::string>(), a.data[*index])) {
        return bad("record " + id + " is Ok without base64 data");
      }
      a.results[*index] = Attempt::Result::kOk;
    } else if (result == "Dropped") {
      a.results[*index] = Attempt::Result::kDropped;
    } else if (result == "ProcessingFailed") {
      a.results[*index] = Attempt::Result::kFailed;
    } else {
      return bad("record " + id + " has result " + result);
    }
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (!seen[i]) {
      a.failure = &kMissing;
      a.detail = "the answer leaves out record " + std::to_string(first_id + i);
      return a;
    }
  }
  return a;
}

Attempt Invoke(const FirehoseConfig& config, std::string_view event, std::size_t count,
               std::uint64_t first_id) {
  auto run = RunSubprocess(config.transform_command, event,
                           std::chrono::seconds(config.transform_timeout_seconds),
                           kMaxTransformResponseBytes);
  Attempt a;
  if (!run.ok()) {
    a.failure = &kFunctionError;
    a.detail = run.status().message();
    return a;
  }
  const std::string err = run->err.substr(0, run->err.find('\n'));
  switch (run->end) {
    case SubprocessOutcome::End::kTimedOut:
      a.failure = &kTimedOut;
      a.detail = "killed after " + std::to_string(config.transform_timeout_seconds) + " s";
      return a;
    case SubprocessOutcome::End::kOutputTooLarge:
      a.failure = &kFunctionError;
      a.detail = "it answered more than 6 MiB";
      return a;
    case SubprocessOutcome::End::kSignaled:
      a.failure = &kFunctionError;
      a.detail = "killed by signal " + std::to_string(run->code) + (err.empty() ? "" : ": " + err);
      return a;
    case SubprocessOutcome::End::kExited:
      if (run->code != 0) {
        a.failure = &kFunctionError;
        a.detail = "exit status " + std::to_string(run->code) + (err.empty() ? "" : ": " + err);
        return a;
      }
      return ParseResponse(run->out, count, first_id);
  }
  return a;
}

}  // namespace

std::string TransformEvent(std::string_view stream, std::string_view invocation_id,
                           std::span<const BufferedRecord> records, std::uint64_t first_id) {
  std::string out = "{\"invocationId\":\"";
  out += invocation_id;
  out += "\",\"deliveryStreamArn\":\"arn:aws:firehose:";
  out += kRegion;
  out += ':';
  out += kAccountId;
  out += ":deliverystream/";
  out += stream;
  out += "\",\"region\":\"";
  out += kRegion;
  out += "\",\"records\":[";
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"recordId\":\"";
    out += std::to_string(first_id + i);
    out += "\",\"approximateArrivalTimestamp\":";
    out += std::to_string(records[i].arrival / kNsPerMs);
    out += ",\"data\":\"";
    crypto::AppendBase64(records[i].data, out);
    out += "\"}";
  }
  out += "]}";
  return out;
}

std::string TransformFunctionArn(const FirehoseConfig& config) {
  std::string name = config.transform_command.empty() ? "" : config.transform_command[0];
  name = name.substr(name.find_last_of('/') + 1);
  return "arn:aws:lambda:" + std::string(kRegion) + ":" + std::string(kAccountId) +
         ":function:" + name;
}

TransformOutcome RunTransform(const FirehoseConfig& config, std::string_view stream,
                              const std::vector<BufferedRecord>& records,
                              const std::function<TimeNs()>& now,
                              const std::function<std::string()>& uuid) {
  TransformOutcome out;
  std::size_t begin = 0;
  while (begin < records.size()) {
    // One invocation: records up to 1 MiB of data, at least one.
    std::size_t end = begin;
    std::uint64_t bytes = 0;
    while (end < records.size() &&
           (end == begin || bytes + records[end].data.size() <= kTransformInvocationBytes)) {
      bytes += records[end++].data.size();
    }
    const std::span<const BufferedRecord> part(records.data() + begin, end - begin);
    const std::string event = TransformEvent(stream, uuid(), part, begin);
    Attempt a;
    std::uint32_t attempts = 0;
    do {
      ++attempts;
      ++out.invocations;
      a = Invoke(config, event, part.size(), begin);
      if (a.failure != nullptr) {
        ++out.failed_invocations;
        out.problem = std::string(a.failure->code) + ": " + a.detail;
      }
    } while (a.failure != nullptr &&
             attempts <= static_cast<std::uint64_t>(config.transform_retries));
    const TimeNs ended = now();
    for (std::size_t i = 0; i < part.size(); ++i) {
      if (a.failure == nullptr && a.results[i] == Attempt::Result::kOk) {
        ++out.ok_records;
        out.ok_bytes += a.data[i].size();
        out.ok.push_back({std::move(a.data[i]), part[i].arrival});
      } else if (a.failure == nullptr && a.results[i] == Attempt::Result::kDropped) {
        ++out.dropped;
      } else {
        const Failure& f = a.failure != nullptr ? *a.failure : kProcessingFailed;
        out.failed.push_back({.record = part[i],
                              .error_code = std::string(f.code),
                              .error_message = std::string(f.message),
                              .attempts = attempts,
                              .attempts_ended = ended});
      }
    }
    begin = end;
  }
  return out;
}

std::string ErrorRecordJson(const FailedRecord& failed, std::string_view lambda_arn) {
  nlohmann::ordered_json doc = {{"attemptsMade", failed.attempts},
                                {"arrivalTimestamp", failed.record.arrival / kNsPerMs},
                                {"errorCode", failed.error_code},
                                {"errorMessage", failed.error_message},
                                {"attemptEndingTimestamp", failed.attempts_ended / kNsPerMs},
                                {"rawData", crypto::Base64Encode(failed.record.data)}};
  if (!lambda_arn.empty()) doc["lambdaArn"] = lambda_arn;
  return doc.dump();
}

}  // namespace shoal::streams
