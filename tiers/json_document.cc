#include "tiers/json_document.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace shoal::tiers {

using Json = nlohmann::json;

std::size_t CharCount(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xc0) != 0x80; }));
}

std::optional<std::string> FirstUnknownMember(const Json& obj,
                                              std::initializer_list<std::string_view> allowed) {
  for (const auto& item : obj.items()) {
    if (std::find(allowed.begin(), allowed.end(), item.key()) == allowed.end()) return item.key();
  }
  return std::nullopt;
}

std::string JoinNames(std::initializer_list<std::string_view> names) {
  std::string out;
  for (std::string_view name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

std::string JsonDocumentText(const nlohmann::ordered_json& doc) {
  std::string text = doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  text += '\n';
  return text;
}

}  // namespace shoal::tiers
