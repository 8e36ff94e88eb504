#pragma once
// Firehose's dynamic partitioning keys (DESIGN §2.6, DynamicPartitioning in
// config.json): one jq expression per key, compiled and run by libjq, the
// library behind jq (Firehose's JQ-1.6 parsing engine).
//
// A record's value for a key is the expression's first output on the record
// parsed as JSON: a string as it is, a number or boolean as jq prints it. A
// record that is not JSON, or an expression with no output, an error, null,
// an empty string, an array or an object, gives no partition: Evaluate
// fails with Firehose's error code and message, and the record goes to the
// error output.
//
// Thread-safety: none (a libjq program is single-threaded); the owner
// serialises calls.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "streams/firehose_prefix.h"

struct jq_state;

namespace shoal::streams {

// Why a record has no partition, in Firehose's words.
struct PartitionFailure {
  std::string error_code;
  std::string error_message;
};

class PartitionQueries final {
 public:
  // kInvalidArgument naming the key and with jq's message when an
  // expression does not compile.
  static Result<std::unique_ptr<PartitionQueries>> Compile(const PartitionKeys& expressions);
  ~PartitionQueries();
  PartitionQueries(const PartitionQueries&) = delete;
  PartitionQueries& operator=(const PartitionQueries&) = delete;

  // The keys' values for `record`, or why there are none.
  bool Evaluate(std::string_view record, PartitionKeys& values, PartitionFailure& failure);

 private:
  PartitionQueries() = default;
  std::vector<std::pair<std::string, jq_state*>> queries_;
};

}  // namespace shoal::streams
