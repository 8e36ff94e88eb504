#include "streams/firehose_prefix.h"

#include <ctime>
#include <utility>

namespace shoal::streams {
namespace {

using Kind = S3Prefix::Part::Kind;

constexpr std::string_view kDefaultTimePrefix = "yyyy/MM/dd/HH/";

Status PrefixRule(std::string_view rule) {
  // Firehose's wording, its typo included.
  return InvalidArgument("Ths supplied prefix(es) do not satisfy the following constraint: " +
                         std::string(rule));
}

std::string_view RoleName(S3Prefix::Role role) {
  return role == S3Prefix::Role::kPrefix ? "Prefix" : "ErrorOutputPrefix";
}

struct tm UtcOf(TimeNs t) {
  constexpr TimeNs kSecond = 1'000'000'000;
  TimeNs seconds = t / kSecond;
  if (t % kSecond < 0) --seconds;  // floor, for times before 1970
  const auto when = static_cast<std::time_t>(seconds);
  struct tm out {};
  gmtime_r(&when, &out);
  return out;
}

// `value` in at least `width` digits.
void AppendNumber(std::string& out, int value, std::size_t width) {
  std::string digits = std::to_string(value);
  if (digits.size() < width) out.append(width - digits.size(), '0');
  out += digits;
}

// One pattern letter repeated `count` times, applied to `tm`; false when
// the letter or the count is outside the subset.
bool AppendField(std::string& out, char letter, std::size_t count, const struct tm& tm) {
  const int year = tm.tm_year + 1900;
  switch (letter) {
    case 'y':
      if (count == 2) {
        AppendNumber(out, year % 100, 2);
      } else {
        AppendNumber(out, year, count);
      }
      return true;
    case 'M':
      if (count > 2) return false;  // month names: not in the subset
      AppendNumber(out, tm.tm_mon + 1, count);
      return true;
    case 'd':
      if (count > 2) return false;
      AppendNumber(out, tm.tm_mday, count);
      return true;
    case 'D':
      if (count > 3) return false;
      AppendNumber(out, tm.tm_yday + 1, count);
      return true;
    case 'H':
      if (count > 2) return false;
      AppendNumber(out, tm.tm_hour, count);
      return true;
    case 'm':
      if (count > 2) return false;
      AppendNumber(out, tm.tm_min, count);
      return true;
    case 's':
      if (count > 2) return false;
      AppendNumber(out, tm.tm_sec, count);
      return true;
    default: return false;
  }
}

bool IsLetter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

Result<S3Prefix::Part> ParseExpression(std::string_view body) {
  const std::size_t colon = body.find(':');
  if (colon == std::string_view::npos || colon + 1 == body.size()) {
    return PrefixRule("the expression !{" + std::string(body) +
                      "} must be of the form !{namespace:value}");
  }
  const std::string_view ns = body.substr(0, colon);
  const std::string_view value = body.substr(colon + 1);
  if (ns == "timestamp") {
    // Checked once here, so that rendering cannot fail on the pattern.
    auto checked = FormatTimestampPattern(value, 0);
    if (!checked.ok()) return checked.status();
    return S3Prefix::Part{Kind::kTimestamp, std::string(value)};
  }
  if (ns == "firehose") {
    if (value == "random-string") return S3Prefix::Part{Kind::kRandomString, ""};
    if (value == "error-output-type") return S3Prefix::Part{Kind::kErrorOutputType, ""};
    return PrefixRule(
        "the firehose namespace has the values random-string and "
        "error-output-type, not " +
        std::string(value));
  }
  if (ns == "partitionKeyFromQuery") return S3Prefix::Part{Kind::kQueryKey, std::string(value)};
  if (ns == "partitionKeyFromLambda") return S3Prefix::Part{Kind::kLambdaKey, std::string(value)};
  return PrefixRule("the namespace " + std::string(ns) +
                    " is not one of firehose, timestamp, partitionKeyFromQuery, "
                    "partitionKeyFromLambda");
}

bool Uses(const std::vector<S3Prefix::Part>& parts, Kind kind) {
  for (const auto& part : parts) {
    if (part.kind == kind) return true;
  }
  return false;
}

}  // namespace

Result<std::string> FormatTimestampPattern(std::string_view pattern, TimeNs t) {
  const struct tm tm = UtcOf(t);
  std::string out;
  for (std::size_t i = 0; i < pattern.size();) {
    const char c = pattern[i];
    if (c == '\'') {  // 'text' is literal; '' is one quote, inside or out
      if (i + 1 < pattern.size() && pattern[i + 1] == '\'') {
        out += '\'';
        i += 2;
        continue;
      }
      for (++i;; ++i) {
        if (i == pattern.size()) {
          return PrefixRule("the timestamp pattern " + std::string(pattern) +
                            " has an unclosed quote");
        }
        if (pattern[i] != '\'') {
          out += pattern[i];
        } else if (i + 1 < pattern.size() && pattern[i + 1] == '\'') {
          out += '\'';
          ++i;
        } else {
          break;
        }
      }
      ++i;  // past the closing quote
      continue;
    }
    if (!IsLetter(c)) {
      out += c;
      ++i;
      continue;
    }
    std::size_t run = 1;
    while (i + run < pattern.size() && pattern[i + run] == c) ++run;
    if (!AppendField(out, c, run, tm)) {
      return PrefixRule("the timestamp pattern " + std::string(pattern) + " uses " +
                        std::string(run, c) +
                        "; shoal formats yyyy, yy, MM, M, dd, d, DDD, HH, H, mm, m, ss, s "
                        "and 'quoted text'");
    }
    i += run;
  }
  return out;
}

Result<S3Prefix> S3Prefix::Parse(std::string_view text, Role role) {
  if (text.size() > kMaxPrefixChars) {
    return InvalidArgument("1 validation error detected: Value at '" +
                           std::string(role == Role::kPrefix ? "prefix" : "errorOutputPrefix") +
                           "' failed to satisfy constraint: Member must have length less than or "
                           "equal to 1024");
  }
  S3Prefix out;
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t open = text.find("!{", i);
    if (open == std::string_view::npos) {
      out.parts_.push_back({Kind::kText, std::string(text.substr(i))});
      break;
    }
    if (open > i) out.parts_.push_back({Kind::kText, std::string(text.substr(i, open - i))});
    const std::size_t close = text.find('}', open + 2);
    if (close == std::string_view::npos) {
      return PrefixRule("!{ may only begin an expression of the form !{namespace:value} in " +
                        std::string(RoleName(role)));
    }
    auto part = ParseExpression(text.substr(open + 2, close - open - 2));
    if (!part.ok()) return part.status();
    out.parts_.push_back(std::move(*part));
    i = close + 1;
  }
  if (role == Role::kPrefix && Uses(out.parts_, Kind::kErrorOutputType)) {
    return PrefixRule("Prefix cannot contain !{firehose:error-output-type}");
  }
  if (role == Role::kErrorOutputPrefix) {
    if (Uses(out.parts_, Kind::kQueryKey) || Uses(out.parts_, Kind::kLambdaKey)) {
      return PrefixRule(
          "ErrorOutputPrefix cannot contain partitionKeyFromQuery or partitionKeyFromLambda "
          "expressions");
    }
    if (out.has_expressions() && !Uses(out.parts_, Kind::kErrorOutputType)) {
      return PrefixRule(
          "ErrorOutputPrefix must contain !{firehose:error-output-type} when it contains "
          "expressions");
    }
  }
  return out;
}

Result<S3Prefix::Pair> S3Prefix::ParsePair(std::string_view prefix,
                                           std::string_view error_output_prefix) {
  auto main = Parse(prefix, Role::kPrefix);
  if (!main.ok()) return main.status();
  auto error = Parse(error_output_prefix, Role::kErrorOutputPrefix);
  if (!error.ok()) return error.status();
  if (main->has_expressions() && error_output_prefix.empty()) {
    return PrefixRule("ErrorOutputPrefix cannot be null or empty when Prefix contains expressions");
  }
  if (!main->has_expressions()) {
    // Plain (or no) Prefix: the default time prefix follows it, and a
    // missing error prefix is derived from it.
    if (error_output_prefix.empty()) {
      error->parts_ = main->parts_;
      error->parts_.push_back({Kind::kErrorOutputType, ""});
      error->parts_.push_back({Kind::kText, "/"});
      error->parts_.push_back({Kind::kTimestamp, std::string(kDefaultTimePrefix)});
    }
    main->parts_.push_back({Kind::kTimestamp, std::string(kDefaultTimePrefix)});
  }
  return Pair{std::move(*main), std::move(*error)};
}

bool S3Prefix::has_expressions() const {
  for (const auto& part : parts_) {
    if (part.kind != Kind::kText) return true;
  }
  return false;
}

std::vector<std::string> S3Prefix::QueryKeyNames() const {
  std::vector<std::string> names;
  for (const auto& part : parts_) {
    if (part.kind == Kind::kQueryKey) names.push_back(part.value);
  }
  return names;
}

Result<std::string> S3Prefix::Render(const PrefixValues& values) const {
  std::string out;
  for (const auto& part : parts_) {
    switch (part.kind) {
      case Kind::kText: out += part.value; break;
      case Kind::kTimestamp: {
        auto text = FormatTimestampPattern(part.value, values.timestamp);
        if (!text.ok()) return text.status();  // checked at Parse: not reached
        out += *text;
        break;
      }
      case Kind::kRandomString:
        out += values.random_string ? values.random_string() : std::string();
        break;
      case Kind::kErrorOutputType: out += values.error_output_type; break;
      case Kind::kQueryKey:
      case Kind::kLambdaKey: {
        const auto* keys = part.kind == Kind::kQueryKey ? values.query_keys : values.lambda_keys;
        const std::string* key = nullptr;
        if (keys != nullptr) {
          auto it = keys->find(part.value);
          if (it != keys->end()) key = &it->second;
        }
        if (key == nullptr || key->empty()) {
          return InvalidArgument("partitionKeys values must not be null or empty: " + part.value);
        }
        out += *key;
        break;
      }
    }
  }
  if (out.size() > kMaxEvaluatedPrefixChars) {
    return PrefixRule("the evaluated prefix is " + std::to_string(out.size()) +
                      " characters; at most 512 are allowed");
  }
  return out;
}

std::string DeliveredObjectName(std::string_view stream, std::uint64_t version, TimeNs oldest,
                                std::string_view uuid, std::string_view extension) {
  const struct tm tm = UtcOf(oldest);
  std::string out(stream);
  out += '-';
  out += std::to_string(version);
  for (const auto& [value, width] :
       {std::pair{tm.tm_year + 1900, 4}, std::pair{tm.tm_mon + 1, 2}, std::pair{tm.tm_mday, 2},
        std::pair{tm.tm_hour, 2}, std::pair{tm.tm_min, 2}, std::pair{tm.tm_sec, 2}}) {
    out += '-';
    AppendNumber(out, value, static_cast<std::size_t>(width));
  }
  out += '-';
  out += uuid;
  out += extension;
  return out;
}

}  // namespace shoal::streams
