#include "base/json_text.h"

#include <nlohmann/json.hpp>
#include <string>

namespace shoal {
namespace {

using Json = nlohmann::json;

// Collects nlohmann's description of the first syntax error without an
// exception: parse_error returns false and the parser stops.
class SyntaxErrorFinder final : public nlohmann::json_sax<Json> {
 public:
  bool null() override { return true; }
  bool boolean(bool /*val*/) override { return true; }
  bool number_integer(number_integer_t /*val*/) override { return true; }
  bool number_unsigned(number_unsigned_t /*val*/) override { return true; }
  bool number_float(number_float_t /*val*/, const string_t& /*s*/) override { return true; }
  bool string(string_t& /*val*/) override { return true; }
  bool binary(binary_t& /*val*/) override { return true; }
  bool start_object(std::size_t /*elements*/) override { return true; }
  bool key(string_t& /*val*/) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t /*elements*/) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& ex) override {
    message_ = ex.what();
    return false;
  }
  const std::string& message() const { return message_; }

 private:
  std::string message_;
};

// The AWS CLI rejects bad JSON before S3 sees it, so there is no S3 text to
// copy; this wording is shoal's own. The text is parsed a second time, as
// the DOM parser reports only that it failed, not where.
Status SyntaxError(std::string_view text) {
  SyntaxErrorFinder finder;
  Json::sax_parse(text, &finder);
  std::string what = finder.message();
  // "[json.exception.parse_error.101] parse error at line 1, column 2: ..."
  if (const auto end = what.find("] ");
      !what.empty() && what[0] == '[' && end != std::string::npos) {
    what.erase(0, end + 2);
  }
  for (char& c : what) {
    if (c >= 0 && c < 0x20) c = ' ';
  }
  if (what.empty()) what = "syntax error";
  return {Code::kMalformedJson, "The JSON you provided was not well-formed: " + what};
}

}  // namespace

bool IsBlankJson(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

bool DepthWithin(std::string_view text, std::size_t max) {
  std::size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max) return false;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return true;
}

Result<Json> ParseJsonDocument(std::string_view text) {
  Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return SyntaxError(text);
  return doc;
}

}  // namespace shoal
