#include "crypto/aead.h"

#include <catch2/catch.hpp>

#include "base/coding.h"

namespace shoal::crypto {
namespace {

Key FixedKey(unsigned char seed) {
  Key key;
  for (std::size_t i = 0; i < key.bytes.size(); ++i) {
    key.bytes[i] = static_cast<unsigned char>(seed + i);
  }
  return key;
}

Nonce FixedNonce(unsigned char seed) {
  Nonce nonce{};
  nonce[0] = seed;
  return nonce;
}

}  // namespace

TEST_CASE("sealed data opens with the same key, nonce and aad", "[crypto]") {
  const Key key = FixedKey(1);
  const Nonce nonce = FixedNonce(7);
  for (std::size_t len : {0u, 1u, 15u, 16u, 17u, 4096u, 100000u}) {
    std::string plain(len, '\0');
    for (std::size_t i = 0; i < len; ++i) plain[i] = static_cast<char>(i * 31 + 5);
    std::string sealed = "prefix";
    REQUIRE(Seal(key, nonce, "aad", plain, sealed).ok());
    REQUIRE(sealed.size() == 6 + len + kTagBytes);
    CHECK(sealed.substr(0, 6) == "prefix");
    std::string opened = "junk to be replaced";
    Status s = Open(key, nonce, "aad", std::string_view(sealed).substr(6), opened);
    REQUIRE(s.ok());
    CHECK(opened == plain);
  }
}

TEST_CASE("opening with a wrong key, nonce or aad, or tampered data, is Corrupt", "[crypto]") {
  const Key key = FixedKey(1);
  const Nonce nonce = FixedNonce(7);
  const std::string plain = "the quick brown fox jumps over the lazy dog";
  std::string sealed;
  REQUIRE(Seal(key, nonce, "aad", plain, sealed).ok());
  std::string out;

  SECTION("wrong key") {
    Status s = Open(FixedKey(2), nonce, "aad", sealed, out);
    CHECK(s.code() == Code::kCorrupt);
    CHECK(out.empty());
  }
  SECTION("wrong nonce") {
    CHECK(Open(key, FixedNonce(8), "aad", sealed, out).code() == Code::kCorrupt);
  }
  SECTION("wrong aad") {
    CHECK(Open(key, nonce, "aae", sealed, out).code() == Code::kCorrupt);
    CHECK(Open(key, nonce, "", sealed, out).code() == Code::kCorrupt);
  }
  SECTION("every flipped byte") {
    for (std::size_t i = 0; i < sealed.size(); ++i) {
      std::string bad = sealed;
      bad[i] = static_cast<char>(bad[i] ^ 0x01);
      Status s = Open(key, nonce, "aad", bad, out);
      CHECK(s.code() == Code::kCorrupt);
      CHECK(out.empty());
    }
  }
  SECTION("truncated") {
    for (std::size_t n = 0; n < sealed.size(); ++n) {
      CHECK(Open(key, nonce, "aad", std::string_view(sealed).substr(0, n), out).code() ==
            Code::kCorrupt);
    }
  }
}

TEST_CASE("MD5 matches the RFC 1321 test vectors, whole or streamed", "[crypto]") {
  {
    Md5 md5;
    CHECK(HexEncode(md5.Finish()) == "d41d8cd98f00b204e9800998ecf8427e");
  }
  {
    Md5 md5;
    md5.Update("abc");
    CHECK(HexEncode(md5.Finish()) == "900150983cd24fb0d6963f7d28e17f72");
  }
  {
    Md5 md5;
    md5.Update("a");
    md5.Update("");
    md5.Update("bc");
    CHECK(HexEncode(md5.Finish()) == "900150983cd24fb0d6963f7d28e17f72");
  }
  {
    Md5 md5;
    md5.Update("message digest");
    CHECK(HexEncode(md5.Finish()) == "f96b697d7cb7938d525a2f31aaf161d0");
  }
}

TEST_CASE("random keys and bytes differ from call to call", "[crypto]") {
  Result<Key> a = RandomKey();
  Result<Key> b = RandomKey();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->bytes != b->bytes);
  std::array<unsigned char, 64> x{};
  std::array<unsigned char, 64> y{};
  REQUIRE(RandomBytes(x).ok());
  REQUIRE(RandomBytes(y).ok());
  CHECK(x != y);
  REQUIRE(RandomBytes(std::span<unsigned char>()).ok());
}

}  // namespace shoal::crypto
