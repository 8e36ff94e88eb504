#pragma once
// S3 bucket and key naming rules.

#include <string_view>

#include "base/status.h"

namespace shoal::store {

inline constexpr std::size_t kMaxKeyBytes = 1024;

// OK, or InvalidBucketName with S3's reason: 3-63 characters of lower-case
// letters, digits, '.' and '-'; begins and ends with a letter or digit; no
// ".." ; not formatted as an IP address; no "xn--" prefix, "-s3alias" or
// "--ol-s3" suffix.
Status ValidateBucketName(std::string_view name);

}  // namespace shoal::store
