#include "streams/validation_error.h"

#include <utility>

namespace shoal::streams {

std::string ValidationFailure(std::string_view value, std::string_view member,
                              std::string_view constraint) {
  // QuoteForMessage's double quotes give way to AWS's single ones.
  const std::string quoted = QuoteForMessage(value);
  std::string out = "Value '";
  out += std::string_view(quoted).substr(1, quoted.size() - 2);
  out += "' at '";
  out += member;
  out += "' failed to satisfy constraint: Member must ";
  out += constraint;
  return out;
}

Status ValidationErrors(const std::vector<std::string>& failures) {
  std::string msg = std::to_string(failures.size());
  msg += failures.size() == 1 ? " validation error detected: " : " validation errors detected: ";
  for (std::size_t i = 0; i < failures.size(); ++i) {
    if (i != 0) msg += "; ";
    msg += failures[i];
  }
  return InvalidArgument(std::move(msg));
}

Status ValidationError(std::string_view value, std::string_view member,
                       std::string_view constraint) {
  return ValidationErrors({ValidationFailure(value, member, constraint)});
}

Status CheckValueRange(std::int64_t v, std::int64_t lo, std::int64_t hi, std::string_view member) {
  if (v < lo) {
    return ValidationError(std::to_string(v), member,
                           "have value greater than or equal to " + std::to_string(lo));
  }
  if (v > hi) {
    return ValidationError(std::to_string(v), member,
                           "have value less than or equal to " + std::to_string(hi));
  }
  return Status::Ok();
}

}  // namespace shoal::streams
