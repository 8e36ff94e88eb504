#include "streams/sequence_number.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace shoal::streams {
namespace {

Status ParseError(std::string_view text, const SequenceNumberUse& use = {}) {
  auto p = ParseSequenceNumber(text, use);
  INFO(text);
  REQUIRE_FALSE(p.ok());
  return p.status();
}

}  // namespace

TEST_CASE("shard ids are shardId- and twelve digits, and parse back", "[sequence_number]") {
  CHECK(ShardIdName(0) == "shardId-000000000000");
  CHECK(ShardIdName(7) == "shardId-000000000007");
  CHECK(ShardIdName(4294967295u) == "shardId-004294967295");
  CHECK(ParseShardId("shardId-000000000007") == ShardOrdinal{7});
  CHECK(ParseShardId("shardId-004294967295") == ShardOrdinal{4294967295u});
  CHECK_FALSE(ParseShardId("shardId-004294967296"));
  CHECK_FALSE(ParseShardId("shardId-7"));
  CHECK_FALSE(ParseShardId("shardId-00000000000a"));
  CHECK_FALSE(ParseShardId("shard-000000000007"));
  CHECK_FALSE(ParseShardId(""));
}

TEST_CASE("sequence numbers have the layout that sequence_number.h describes",
          "[sequence_number]") {
  // Computed independently (Python big integers) from the layout in the
  // header and the check in the .cc: 0x2 | shard | offset | check | 0x2.
  CHECK(FormatSequenceNumber(0, 0) == "49039857307708443467467104869025055626350826396345301074");
  CHECK(FormatSequenceNumber(0, 1) == "49039857307708443467467104869295914415042808090481565810");
  CHECK(FormatSequenceNumber(1, 0) == "49039857313417434238290944393234366612923789630591072274");
  CHECK(FormatSequenceNumber(7, 123456789) ==
        "49039857347671378863272189564285240051032105260835825202");
  CHECK(FormatSequenceNumber(4294967295u, kMaxSequenceOffset) ==
        "73559785961562665201200657303039174327166545273973496498");
}

TEST_CASE("every sequence number has 56 digits and parses back to its shard and offset",
          "[sequence_number]") {
  const std::vector<ShardOrdinal> shards = {0, 1, 2, 9, 12345, 4294967294u, 4294967295u};
  const std::vector<std::uint64_t> offsets = {
      0, 1, 2, 999, 1ull << 32, 1ull << 63, UINT64_MAX - 1, UINT64_MAX};
  for (const ShardOrdinal shard : shards) {
    for (const std::uint64_t offset : offsets) {
      const std::string seq = FormatSequenceNumber(shard, offset);
      INFO(seq);
      CHECK(seq.size() == kSequenceNumberDigits);
      const auto p = ParseSequenceNumber(seq);
      REQUIRE(p.ok());
      CHECK(*p == SequencePosition{shard, offset});
    }
  }
}

TEST_CASE("sequence numbers increase with the offset, and children's sort after parents'",
          "[sequence_number]") {
  std::string previous = FormatSequenceNumber(3, 0);
  for (std::uint64_t offset = 1; offset < 2000; ++offset) {
    const std::string seq = FormatSequenceNumber(3, offset);
    REQUIRE(previous < seq);  // as strings, which is as numbers at equal width
    previous = seq;
  }
  CHECK(FormatSequenceNumber(3, UINT64_MAX) < FormatSequenceNumber(4, 0));
  CHECK(FormatSequenceNumber(3, 1ull << 40) < FormatSequenceNumber(3, (1ull << 40) + 1));
}

TEST_CASE("text that is not a sequence number gets Kinesis's validation error",
          "[sequence_number]") {
  const std::string pattern =
      "' at 'startingSequenceNumber' failed to satisfy constraint: Member must satisfy regular "
      "expression pattern: 0|([1-9]\\d{0,128})";
  const std::vector<std::string> bads = {
      "", "abc", "0123", "-1", "12 34", "1.5", std::string(130, '9')};
  for (const std::string& bad : bads) {
    const Status s = ParseError(bad);
    CHECK(s.code() == Code::kInvalidArgument);
    CHECK(s.message().starts_with("1 validation error detected: Value '"));
    CHECK(s.message().ends_with(pattern));
  }
  CHECK(ParseError("ab\ncd").message().find('\n') == std::string::npos);
  SECTION("the member is named as the request names it") {
    SequenceNumberUse use;
    use.member = "ExclusiveStartSequenceNumber";
    CHECK(ParseError("x", use).message().find("at 'exclusiveStartSequenceNumber'") !=
          std::string::npos);
  }
}

TEST_CASE("digits that shoal never wrote are refused as Kinesis refuses them",
          "[sequence_number]") {
  const std::string good = FormatSequenceNumber(2, 41);
  SECTION("without context") {
    CHECK(ParseError("0").message() ==
          "StartingSequenceNumber 0 used in GetShardIterator is invalid.");
    CHECK(ParseError("123").code() == Code::kInvalidArgument);
    CHECK(ParseError(good.substr(1)).code() == Code::kInvalidArgument);  // 55 digits
    CHECK(ParseError(good + "0").code() == Code::kInvalidArgument);      // 57 digits
  }
  SECTION("with the shard and stream it was used on") {
    SequenceNumberUse use;
    use.stream = "clicks";
    use.shard = 2;
    CHECK(ParseError("42", use).message() ==
          "StartingSequenceNumber 42 used in GetShardIterator on shard shardId-000000000002 in "
          "stream clicks under account 000000000000 is invalid.");
  }
  SECTION("any one digit changed is caught by the check") {
    for (std::size_t i = 0; i < good.size(); ++i) {
      std::string typo = good;
      typo[i] = typo[i] == '9' ? '8' : static_cast<char>(typo[i] + 1);
      INFO(typo);
      CHECK_FALSE(ParseSequenceNumber(typo).ok());
    }
  }
  SECTION("two digits swapped are caught too") {
    std::string swapped = good;
    for (std::size_t i = 30; i + 1 < swapped.size(); ++i) {
      if (swapped[i] != swapped[i + 1]) {
        std::swap(swapped[i], swapped[i + 1]);
        break;
      }
    }
    CHECK_FALSE(ParseSequenceNumber(swapped).ok());
  }
}

TEST_CASE("a sequence number used on another shard names both shards", "[sequence_number]") {
  SequenceNumberUse use;
  use.shard = 0;
  const Status s = ParseError(FormatSequenceNumber(1, 5), use);
  CHECK(s.code() == Code::kInvalidArgument);
  CHECK(s.message() ==
        "Invalid StartingSequenceNumber. It encodes shardId-000000000001, while it was used in a "
        "call to a shard with shardId-000000000000");
  use.shard = 1;
  CHECK(ParseSequenceNumber(FormatSequenceNumber(1, 5), use).ok());
}

}  // namespace shoal::streams
