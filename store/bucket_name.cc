#include "store/bucket_name.h"

#include <string>

namespace shoal::store {

namespace {

bool IsLowerAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool LooksLikeIpv4(std::string_view s) {
  int parts = 0;
  std::size_t i = 0;
  while (i <= s.size()) {
    std::size_t j = s.find('.', i);
    if (j == std::string_view::npos) j = s.size();
    std::string_view part = s.substr(i, j - i);
    if (part.empty() || part.size() > 3) return false;
    for (char c : part) {
      if (c < '0' || c > '9') return false;
    }
    ++parts;
    i = j + 1;
  }
  return parts == 4;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

Status ValidateBucketName(std::string_view name) {
  auto bad = [&](const char* why) {
    return Status(Code::kInvalidBucketName,
                  "The specified bucket is not valid: '" + std::string(name) + "' " + why);
  };
  if (name.size() < 3 || name.size() > 63) return bad("must be between 3 and 63 characters long");
  for (char c : name) {
    if (!IsLowerAlnum(c) && c != '.' && c != '-') {
      return bad("may contain only lowercase letters, numbers, dots and hyphens");
    }
  }
  if (!IsLowerAlnum(name.front()) || !IsLowerAlnum(name.back())) {
    return bad("must begin and end with a letter or number");
  }
  if (name.find("..") != std::string_view::npos)
    return bad("must not contain two adjacent periods");
  if (LooksLikeIpv4(name)) return bad("must not be formatted as an IP address");
  if (name.substr(0, 4) == "xn--") return bad("must not start with the prefix 'xn--'");
  if (EndsWith(name, "-s3alias") || EndsWith(name, "--ol-s3")) {
    return bad("must not end with a reserved suffix");
  }
  return Status::Ok();
}

}  // namespace shoal::store
