#pragma once
// A Firehose delivery stream's S3 prefixes (Prefix and ErrorOutputPrefix of
// MNT/.firehose/<name>/config.json, DESIGN §2.6) and the object names
// Firehose gives what it delivers.
//
// A prefix is text with expressions `!{namespace:value}`:
//   !{timestamp:PATTERN}            the oldest record's arrival time (UTC),
//                                   PATTERN in Java DateTimeFormatter
//                                   letters: yyyy yy MM M dd d DDD HH H mm m
//                                   ss s, 'quoted text', other characters
//                                   as they are;
//   !{firehose:random-string}       11 random characters, new at each use;
//   !{firehose:error-output-type}   why records failed (ErrorOutputPrefix
//                                   only): processing-failed, ...;
//   !{partitionKeyFromQuery:NAME}   the record's dynamic partitioning key;
//   !{partitionKeyFromLambda:NAME}  the transform's partition key.
// Firehose's semantic rules apply: a Prefix without a timestamp expression
// gets `yyyy/MM/dd/HH/` appended (no slash inserted), an ErrorOutputPrefix
// with expressions must use error-output-type, a Prefix may not, and an
// ErrorOutputPrefix may not use partition keys. The messages are
// Firehose's InvalidArgumentException wording ("Ths supplied prefix(es)
// ...", its typo included).
//
// Thread-safety: values; safe to share once built.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace shoal::streams {

inline constexpr std::size_t kMaxPrefixChars = 1024;          // as given
inline constexpr std::size_t kMaxEvaluatedPrefixChars = 512;  // as rendered
inline constexpr std::size_t kRandomStringChars = 11;

// What one rendering of a prefix fills its expressions with.
// Dynamic partitioning's key values, by key name.
using PartitionKeys = std::map<std::string, std::string, std::less<>>;

struct PrefixValues {
  TimeNs timestamp = 0;                // the oldest record's arrival
  std::string_view error_output_type;  // ErrorOutputPrefix only
  const PartitionKeys* query_keys = nullptr;
  const PartitionKeys* lambda_keys = nullptr;
  // 11 characters for each !{firehose:random-string}.
  std::function<std::string()> random_string;
};

class S3Prefix {
 public:
  enum class Role { kPrefix, kErrorOutputPrefix };

  // Parses `text` for `role`, checking the expressions and the rules that
  // concern one prefix alone. An empty Prefix means the default.
  static Result<S3Prefix> Parse(std::string_view text, Role role);
  // The pair as Firehose evaluates them: the rules between the two, the
  // default appended to a Prefix without a timestamp, and the error prefix
  // Firehose derives when none is given
  // (`<prefix>!{firehose:error-output-type}/yyyy/MM/dd/HH/`).
  struct Pair;
  static Result<Pair> ParsePair(std::string_view prefix, std::string_view error_output_prefix);

  // The evaluated prefix; an error (kInvalidArgument) when a partition key
  // is missing or empty, or the result is longer than 512 characters.
  Result<std::string> Render(const PrefixValues& values) const;

  bool has_expressions() const;
  // The partitionKeyFromQuery names it uses, in order of appearance.
  std::vector<std::string> QueryKeyNames() const;

  // One piece of a parsed prefix: text, or an expression.
  struct Part {
    enum class Kind { kText, kTimestamp, kRandomString, kErrorOutputType, kQueryKey, kLambdaKey };
    Kind kind = Kind::kText;
    std::string value;  // the text, the timestamp pattern, the key's name
  };

 private:
  std::vector<Part> parts_;
};

struct S3Prefix::Pair {
  S3Prefix prefix;
  S3Prefix error_output_prefix;
};

// The Java DateTimeFormatter subset of !{timestamp:PATTERN} applied to `t`
// (UTC); kInvalidArgument for letters outside the subset or an unclosed
// quote.
Result<std::string> FormatTimestampPattern(std::string_view pattern, TimeNs t);

// The object name after the prefix: `<stream>-<version>-yyyy-MM-dd-HH-mm-ss-
// <uuid><extension>`, with the oldest record's arrival time, as Firehose
// names what it delivers.
std::string DeliveredObjectName(std::string_view stream, std::uint64_t version, TimeNs oldest,
                                std::string_view uuid, std::string_view extension);

}  // namespace shoal::streams
