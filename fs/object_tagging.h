#pragma once
// Object tags (S3 PutObjectTagging) as the `user.s3.tagging` xattr holds
// them: the x-amz-tagging form `k1=v1&k2=v2`, URL-encoded.
//
// Thread-safety: pure functions over values.

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "lifecycle/lifecycle_config.h"

namespace shoal::fs {

// S3's limits: at most 10 tags per object; keys of 1-128 characters,
// values of 0-256, keys unique.
inline constexpr std::size_t kMaxObjectTags = 10;

// Parses `k1=v1&k2=v2` (percent-escapes and '+' for space decoded; a pair
// without '=' has an empty value; surrounding whitespace, such as echo's
// newline, ignored; empty text: no tags). Errors are S3's: kInvalidTag for
// a bad key or value or a repeated key, kInvalidArgument for more than 10
// tags or a malformed escape.
Result<std::vector<lifecycle::Tag>> ParseTagging(std::string_view text);

// The canonical form: pairs in the given order, each part URL-encoded
// (unreserved characters kept).
std::string FormatTagging(const std::vector<lifecycle::Tag>& tags);

}  // namespace shoal::fs
