#include "streams/partition_queries.h"

// jq 1.6's headers declare C functions without extern "C".
extern "C" {
#include <jq.h>
}

#include <climits>

namespace shoal::streams {
namespace {

constexpr std::string_view kMetadataExtractionFailed =
    "DynamicPartitioning.MetadataExtractionFailed";

// Collects what libjq reports while compiling, instead of its stderr.
void CollectError(void* data, jv message) {
  auto* out = static_cast<std::string*>(data);
  if (jv_get_kind(message) == JV_KIND_STRING) {
    if (!out->empty()) *out += "; ";
    *out += jv_string_value(message);
  }
  jv_free(message);
}

void Fail(PartitionFailure& failure, std::string message) {
  failure.error_code = std::string(kMetadataExtractionFailed);
  failure.error_message = std::move(message);
}

// `value` as a partition key's value; false (and `failure`) when it is
// none. Consumes `value`.
bool KeyValue(jv value, const std::string& key, std::string& out, PartitionFailure& failure) {
  const jv_kind kind = jv_get_kind(value);
  bool ok = true;
  if (kind == JV_KIND_STRING) {
    out.assign(jv_string_value(value),
               static_cast<std::size_t>(jv_string_length_bytes(jv_copy(value))));
    if (out.empty()) {
      Fail(failure, "partitionKeys values must not be null or empty");
      ok = false;
    }
  } else if (kind == JV_KIND_NUMBER || kind == JV_KIND_TRUE || kind == JV_KIND_FALSE) {
    jv text = jv_dump_string(jv_copy(value), 0);
    out = jv_string_value(text);
    jv_free(text);
  } else if (kind == JV_KIND_INVALID) {
    if (jv_invalid_has_msg(jv_copy(value))) {
      jv msg = jv_invalid_get_msg(jv_copy(value));
      Fail(failure, "the query for " + key + " failed: " +
                        (jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "error"));
      jv_free(msg);
    } else {
      Fail(failure, "the query for " + key + " gave no value");
    }
    ok = false;
  } else if (kind == JV_KIND_NULL) {
    Fail(failure, "partitionKeys values must not be null or empty");
    ok = false;
  } else {
    Fail(failure, "the query for " + key + " gave an array or object, not a value");
    ok = false;
  }
  jv_free(value);
  return ok;
}

}  // namespace

Result<std::unique_ptr<PartitionQueries>> PartitionQueries::Compile(
    const PartitionKeys& expressions) {
  std::unique_ptr<PartitionQueries> out(new PartitionQueries());
  for (const auto& [key, expression] : expressions) {
    jq_state* jq = jq_init();
    if (jq == nullptr) return Internal("jq: no memory for a program");
    out->queries_.emplace_back(key, jq);
    std::string errors;
    jq_set_error_cb(jq, CollectError, &errors);
    const int compiled = jq_compile(jq, expression.c_str());
    jq_set_error_cb(jq, nullptr, nullptr);
    if (compiled == 0) {
      return InvalidArgument("DynamicPartitioning.Keys." + key + ": the jq expression does not " +
                             "compile: " + (errors.empty() ? "syntax error" : errors));
    }
  }
  return out;
}

PartitionQueries::~PartitionQueries() {
  for (auto& [key, jq] : queries_) jq_teardown(&jq);
}

bool PartitionQueries::Evaluate(std::string_view record, PartitionKeys& values,
                                PartitionFailure& failure) {
  values.clear();
  if (record.size() > static_cast<std::size_t>(INT_MAX)) {
    Fail(failure, "Non JSON record provided");
    return false;
  }
  jv input = jv_parse_sized(record.data(), static_cast<int>(record.size()));
  if (!jv_is_valid(input)) {
    jv_free(input);
    Fail(failure, "Non JSON record provided");
    return false;
  }
  bool ok = true;
  for (auto& [key, jq] : queries_) {
    jq_start(jq, jv_copy(input), 0);
    std::string value;
    if (!KeyValue(jq_next(jq), key, value, failure)) {
      ok = false;
      break;
    }
    values.emplace(key, std::move(value));
  }
  jv_free(input);
  return ok;
}

}  // namespace shoal::streams
