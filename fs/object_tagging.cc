#include "fs/object_tagging.h"

#include "base/coding.h"
#include "tiers/json_document.h"

namespace shoal::fs {

namespace {

Result<std::string> Unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%') {
      const int hi = i + 2 < s.size() ? HexDigitValue(s[i + 1]) : -1;
      const int lo = i + 2 < s.size() ? HexDigitValue(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return InvalidArgument(
            "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query "
            "parameters without tag name duplicates.");
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

void AppendEscaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
}

}  // namespace

Result<std::vector<lifecycle::Tag>> ParseTagging(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return std::vector<lifecycle::Tag>{};
  text = text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
  std::vector<lifecycle::Tag> tags;
  while (true) {
    const auto amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    const auto eq = pair.find('=');
    auto key = Unescape(pair.substr(0, eq));
    if (!key.ok()) return key.status();
    auto value = Unescape(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!value.ok()) return value.status();
    if (key->empty() || tiers::CharCount(*key) > lifecycle::kMaxTagKeyChars) {
      return Status(Code::kInvalidTag, "The TagKey you have provided is invalid");
    }
    if (tiers::CharCount(*value) > lifecycle::kMaxTagValueChars) {
      return Status(Code::kInvalidTag, "The TagValue you have provided is invalid");
    }
    for (const auto& t : tags) {
      if (t.key == *key) {
        return Status(Code::kInvalidTag, "Cannot provide multiple Tags with the same key");
      }
    }
    tags.push_back({std::move(*key), std::move(*value)});
    if (tags.size() > kMaxObjectTags) {
      return InvalidArgument("Object tags cannot be greater than 10");
    }
    if (amp == std::string_view::npos) break;
    text = text.substr(amp + 1);
  }
  return tags;
}

std::string FormatTagging(const std::vector<lifecycle::Tag>& tags) {
  std::string out;
  for (const auto& t : tags) {
    if (!out.empty()) out.push_back('&');
    AppendEscaped(out, t.key);
    out.push_back('=');
    AppendEscaped(out, t.value);
  }
  return out;
}

}  // namespace shoal::fs
