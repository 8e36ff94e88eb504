#include "base/coding.h"

#include <catch2/catch.hpp>
#include <limits>

namespace shoal {

TEST_CASE("varints and byte strings round-trip", "[base][coding]") {
  std::string buf;
  const std::uint64_t values[] = {
      0, 1, 127, 128, 300, 1ull << 35, std::numeric_limits<std::uint64_t>::max()};
  for (auto v : values) PutVarint(buf, v);
  PutBytes(buf, "hello");
  PutFixed32(buf, 0xdeadbeef);
  PutFixed64(buf, 0x0123456789abcdefull);

  Decoder d(buf);
  for (auto v : values) {
    std::uint64_t got = 0;
    REQUIRE(d.GetVarint(got));
    CHECK(got == v);
  }
  std::string s;
  REQUIRE(d.GetBytes(s));
  CHECK(s == "hello");
  std::uint32_t f32 = 0;
  std::uint64_t f64 = 0;
  REQUIRE(d.GetFixed32(f32));
  REQUIRE(d.GetFixed64(f64));
  CHECK(f32 == 0xdeadbeef);
  CHECK(f64 == 0x0123456789abcdefull);
  CHECK(d.done());
}

TEST_CASE("a decoder fails cleanly on truncated or overlong input", "[base][coding]") {
  std::string buf;
  PutBytes(buf, "0123456789");
  for (std::size_t cut = 0; cut < buf.size(); ++cut) {
    Decoder d(std::string_view(buf).substr(0, cut));
    std::string s;
    CHECK_FALSE(d.GetBytes(s));
    CHECK(d.failed());
  }
  std::string overlong(11, '\xff');
  Decoder d(overlong);
  std::uint64_t v = 0;
  CHECK_FALSE(d.GetVarint(v));
  std::string bounded;
  PutVarint(bounded, 1000);
  Decoder b(bounded);
  CHECK_FALSE(b.GetVarintBounded(999, v));
}

TEST_CASE("hex encoding round-trips and rejects bad digits", "[base][coding]") {
  std::string raw("\x00\x7f\xff\x10", 4);
  CHECK(HexEncode(raw) == "007fff10");
  std::string back;
  REQUIRE(HexDecode("007fff10", back));
  CHECK(back == raw);
  CHECK_FALSE(HexDecode("0g", back));
  CHECK_FALSE(HexDecode("abc", back));
}

}  // namespace shoal
