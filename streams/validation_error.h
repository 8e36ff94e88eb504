#pragma once
// The wording AWS services (Kinesis, Firehose) share for a request that
// fails its schema's constraints, a ValidationException:
//   "1 validation error detected: Value '<value>' at '<member>' failed to
//    satisfy constraint: Member must <constraint>"
// with every failed constraint listed ("2 validation errors detected: ...;
// ..."), as kInvalidArgument. `value` is made printable and cut to 64
// characters (QuoteForMessage).
//
// Thread-safety: plain functions; safe from any thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace shoal::streams {

// One failed constraint: "Value '<value>' at '<member>' failed to satisfy
// constraint: Member must <constraint>".
std::string ValidationFailure(std::string_view value, std::string_view member,
                              std::string_view constraint);
// The failures, counted and joined.
Status ValidationErrors(const std::vector<std::string>& failures);
// One failure's error.
Status ValidationError(std::string_view value, std::string_view member,
                       std::string_view constraint);
// OK for lo <= v <= hi; else the error for "have value greater than or
// equal to lo" / "have value less than or equal to hi".
Status CheckValueRange(std::int64_t v, std::int64_t lo, std::int64_t hi, std::string_view member);

}  // namespace shoal::streams
