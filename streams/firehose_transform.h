#pragma once
// Firehose's data transformation (DESIGN §2.6, Transform in config.json),
// with a local command in the Lambda function's place. The records of a
// batch go to the command in invocations of at most 1 MiB of data (the
// Lambda processor's default buffer), each as Firehose's Lambda event on
// its stdin:
//
//   {"invocationId":"<uuid>","deliveryStreamArn":"arn:aws:firehose:...",
//    "region":"us-east-1","records":[{"recordId":"<n>",
//    "approximateArrivalTimestamp":<ms>,"data":"<base64>"}, ...]}
//
// and it answers on stdout with Firehose's status model:
//
//   {"records":[{"recordId":"<n>","result":"Ok|Dropped|ProcessingFailed",
//                "data":"<base64>"}, ...]}
//
// An invocation fails as a whole when the command cannot start, exits
// non-zero or by a signal (Lambda.FunctionError), outlives TimeoutSeconds
// (Lambda.FunctionTimedOut), or answers with something other than the
// status model (Lambda.JsonProcessingException), a record id twice
// (Lambda.DuplicatedRecordId) or without one it was given
// (Lambda.MissingRecordId). A failed invocation is tried again up to
// NumberOfRetries times; then its records fail. Records answered
// ProcessingFailed fail alone (Lambda.ProcessingFailedStatus). Failed
// records go to the error output (error-output-type processing-failed) in
// Firehose's error record format, one JSON object per line:
//
//   {"attemptsMade":4,"arrivalTimestamp":<ms>,"errorCode":"...",
//    "errorMessage":"...","attemptEndingTimestamp":<ms>,
//    "rawData":"<base64>","lambdaArn":"arn:aws:lambda:...:function:<name>"}
//
// Thread-safety: plain functions; safe from any thread.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "streams/firehose_buffer.h"
#include "streams/firehose_config.h"

namespace shoal::streams {

// The data one invocation carries at most (before base64).
inline constexpr std::uint64_t kTransformInvocationBytes = std::uint64_t{1} << 20;
// The most an invocation may answer (Lambda's response limit).
inline constexpr std::size_t kMaxTransformResponseBytes = std::size_t{6} << 20;

struct FailedRecord {
  BufferedRecord record;  // as it arrived
  std::string error_code;
  std::string error_message;
  std::uint32_t attempts = 1;
  TimeNs attempts_ended = 0;
};

struct TransformOutcome {
  std::vector<BufferedRecord> ok;  // transformed data, with the arrival times
  std::vector<FailedRecord> failed;
  std::uint64_t dropped = 0;
  std::uint64_t invocations = 0;         // attempts, retries included
  std::uint64_t failed_invocations = 0;  // of those, failed as a whole
  std::uint64_t ok_records = 0;          // ok's size, kept once ok is moved
  std::uint64_t ok_bytes = 0;            // of the transformed data
  // The last whole-invocation failure, for .shoal/errors; empty if none.
  std::string problem;
};

// The Lambda event for `records`, whose ids are their indexes from
// `first_id` on.
std::string TransformEvent(std::string_view stream, std::string_view invocation_id,
                           std::span<const BufferedRecord> records, std::uint64_t first_id);

// Runs `config`'s command over `records` of delivery stream `stream`;
// `now` tells when attempts end, `uuid` gives invocation ids.
TransformOutcome RunTransform(const FirehoseConfig& config, std::string_view stream,
                              const std::vector<BufferedRecord>& records,
                              const std::function<TimeNs()>& now,
                              const std::function<std::string()>& uuid);

// The ARN the error records name: the command's program, as a function.
std::string TransformFunctionArn(const FirehoseConfig& config);

// One line of the error output (without its newline); without lambdaArn
// when `lambda_arn` is empty (records no transform saw).
std::string ErrorRecordJson(const FailedRecord& failed, std::string_view lambda_arn);

}  // namespace shoal::streams
