#include "tiers/json_document.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

namespace shoal::tiers {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

std::string Nested(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

TEST_CASE("only JSON whitespace makes a blank document", "[tiers][json]") {
  CHECK(IsBlankJson(""));
  CHECK(IsBlankJson(" \t\r\n"));
  CHECK_FALSE(IsBlankJson("{}"));
  CHECK_FALSE(IsBlankJson("  x "));
  CHECK_FALSE(IsBlankJson("\f"));  // not whitespace to JSON
}

TEST_CASE("DepthWithin counts brackets outside strings only", "[tiers][json]") {
  CHECK(DepthWithin("", 0));
  CHECK(DepthWithin("1", 0));
  CHECK_FALSE(DepthWithin("[]", 0));
  CHECK(DepthWithin(R"({"a": [1, {"b": 2}]})", 3));
  CHECK_FALSE(DepthWithin(R"({"a": [1, {"b": 2}]})", 2));
  // Siblings do not add up.
  CHECK(DepthWithin("[[], [], {}]", 2));

  SECTION("brackets inside strings, escaped quotes included, do not count") {
    CHECK(DepthWithin(R"(["[[[{{{"])", 1));
    CHECK(DepthWithin(R"(["\"[[[", "\\"])", 1));
    CHECK_FALSE(DepthWithin(R"(["\\", [[]]])", 2));
  }
  SECTION("a closing bracket with nothing to close is ignored") {
    CHECK(DepthWithin("]]]}[[", 2));
    CHECK_FALSE(DepthWithin("]]]}[[", 1));
  }
  SECTION("the limit is inclusive, and the scan stops past it") {
    CHECK(DepthWithin(Nested(kMaxJsonDepth), kMaxJsonDepth));
    CHECK_FALSE(DepthWithin(Nested(kMaxJsonDepth + 1), kMaxJsonDepth));
    CHECK_FALSE(DepthWithin(std::string(kMaxJsonDepth + 1, '[') + "not JSON", kMaxJsonDepth));
  }
}

TEST_CASE("ParseJsonDocument returns the value of well-formed text", "[tiers][json]") {
  const Result<Json> r = ParseJsonDocument(R"( {"b": [1, "two"], "a": null} )");
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(*r == Json{{"a", nullptr}, {"b", {1, "two"}}});

  const Result<Json> scalar = ParseJsonDocument("42");
  REQUIRE(scalar.ok());
  CHECK(*scalar == 42);
}

TEST_CASE("ParseJsonDocument names the first syntax error as MalformedJSON", "[tiers][json]") {
  const auto fails = [](std::string_view text, std::string_view message) {
    INFO("input: " << std::string(text));
    const Result<Json> r = ParseJsonDocument(text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kMalformedJson);
    CHECK(r.status().message() == message);
  };
  fails("{",
        "The JSON you provided was not well-formed: parse error at line 1, column 2: syntax error "
        "while parsing object key - unexpected end of input; expected string literal");
  fails("",
        "The JSON you provided was not well-formed: parse error at line 1, column 1: syntax error "
        "while parsing value - unexpected end of input; expected '[', '{', or a literal");
  fails("{} {}",
        "The JSON you provided was not well-formed: parse error at line 1, column 4: syntax error "
        "while parsing value - unexpected '{'; expected end of input");

  SECTION("the message stays on one line") {
    const Result<Json> r = ParseJsonDocument("[1,\n\t\"a\tb\"]");
    REQUIRE_FALSE(r.ok());
    const std::string& message = r.status().message();
    CHECK(message.starts_with("The JSON you provided was not well-formed: parse error at line 2"));
    for (char c : message) CHECK((c < 0 || c >= 0x20));
  }
}

TEST_CASE("CharCount counts UTF-8 characters, not bytes", "[tiers][json]") {
  CHECK(CharCount("") == 0);
  CHECK(CharCount("abc") == 3);
  CHECK(CharCount("\xc3\xa9") == 1);          // é
  CHECK(CharCount("\xe2\x82\xac") == 1);      // €
  CHECK(CharCount("\xf0\x9f\x98\x80") == 1);  // U+1F600
  CHECK(CharCount("a\xc3\xa9\xe2\x82\xac"
                  "b") == 4);
}

TEST_CASE("FirstUnknownMember finds a member outside the allowed names", "[tiers][json]") {
  CHECK_FALSE(FirstUnknownMember(Json::object(), {}).has_value());
  CHECK_FALSE(FirstUnknownMember(Json{{"Key", 1}, {"Value", 2}}, {"Key", "Value"}).has_value());
  CHECK_FALSE(FirstUnknownMember(Json{{"Key", 1}}, {"Key", "Value"}).has_value());
  CHECK(FirstUnknownMember(Json{{"Key", 1}, {"key", 2}}, {"Key", "Value"}) == "key");

  SECTION("first in name order, not in the document's order") {
    const Result<Json> j = ParseJsonDocument(R"({"Zed": 1, "Alpha": 2, "Key": 3})");
    REQUIRE(j.ok());
    CHECK(FirstUnknownMember(*j, {"Key"}) == "Alpha");
    CHECK(FirstUnknownMember(*j, {"Alpha", "Key"}) == "Zed");
  }
}

TEST_CASE("JoinNames lists names for an unknown-member message", "[tiers][json]") {
  CHECK(JoinNames({}).empty());
  CHECK(JoinNames({"Key"}) == "Key");
  CHECK(JoinNames({"Id", "Filter", "Status"}) == "Id, Filter, Status");
}

TEST_CASE("JsonDocumentText writes a document as the AWS CLI prints it", "[tiers][json]") {
  OrderedJson doc = OrderedJson::object();
  doc["Rules"] = OrderedJson::array({OrderedJson{{"ID", "r\xc3\xa9"}, {"Days", 1}}});
  doc["Status"] = "Enabled";
  CHECK(JsonDocumentText(doc) ==
        "{\n"
        "  \"Rules\": [\n"
        "    {\n"
        "      \"ID\": \"r\xc3\xa9\",\n"
        "      \"Days\": 1\n"
        "    }\n"
        "  ],\n"
        "  \"Status\": \"Enabled\"\n"
        "}\n");

  SECTION("invalid UTF-8 becomes U+FFFD instead of throwing") {
    CHECK(JsonDocumentText(OrderedJson("a\xff"
                                       "b")) ==
          "\"a\xef\xbf\xbd"
          "b\"\n");
  }
}

}  // namespace
}  // namespace shoal::tiers
