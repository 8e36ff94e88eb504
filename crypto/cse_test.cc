#include "crypto/cse.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

#include "base/coding.h"
#include "base/raii.h"

namespace shoal::crypto {
namespace {

std::string Hex(std::string_view hex) {
  std::string out;
  REQUIRE(HexDecode(hex, out));
  return out;
}

Key KeyFromHex(std::string_view hex) {
  const std::string raw = Hex(hex);
  REQUIRE(raw.size() == kKeyBytes);
  Key key;
  std::copy(raw.begin(), raw.end(), key.bytes.begin());
  return key;
}

Nonce NonceFromHex(std::string_view hex) {
  const std::string raw = Hex(hex);
  REQUIRE(raw.size() == kNonceBytes);
  Nonce nonce{};
  std::copy(raw.begin(), raw.end(), nonce.begin());
  return nonce;
}

Key Counting(unsigned char first) {
  Key key;
  for (std::size_t i = 0; i < key.bytes.size(); ++i) {
    key.bytes[i] = static_cast<unsigned char>(first + i);
  }
  return key;
}

// An anonymous in-memory file holding `data`, positioned at its start.
UniqueFd MemFile(std::string_view data) {
  UniqueFd fd(::memfd_create("cse_test", MFD_CLOEXEC));
  REQUIRE(fd.valid());
  REQUIRE(::write(fd.get(), data.data(), data.size()) == static_cast<ssize_t>(data.size()));
  REQUIRE(::lseek(fd.get(), 0, SEEK_SET) == 0);
  return fd;
}

std::string Contents(int fd) {
  std::string out;
  REQUIRE(::lseek(fd, 0, SEEK_SET) == 0);
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    REQUIRE(n >= 0);
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

std::string Pattern(std::size_t len) {
  std::string s(len, '\0');
  for (std::size_t i = 0; i < len; ++i) s[i] = static_cast<char>((i * 131 + 7) % 251);
  return s;
}

// Encrypts `plain` through the streaming encryptor in pieces of `piece`.
std::string StreamSeal(const Key& key, const Nonce& iv, std::string_view plain, std::size_t piece) {
  auto enc = GcmEncryptor::Create(key, iv);
  REQUIRE(enc.ok());
  std::string out;
  for (std::size_t at = 0; at < plain.size(); at += piece) {
    REQUIRE((*enc)->Update(plain.substr(at, piece), out).ok());
  }
  REQUIRE((*enc)->Finish(out).ok());
  return out;
}

// Decrypts through the streaming decryptor in pieces of `piece`.
Status StreamOpen(const Key& key, const Nonce& iv, std::string_view sealed, std::size_t piece,
                  std::string& out) {
  auto dec = GcmDecryptor::Create(key, iv);
  REQUIRE(dec.ok());
  out.clear();
  for (std::size_t at = 0; at < sealed.size(); at += piece) {
    Status s = (*dec)->Update(sealed.substr(at, piece), out);
    if (!s.ok()) return s;
  }
  return (*dec)->Finish();
}

struct GcmVector {
  const char* name;
  const char* key;
  const char* iv;
  const char* plain;
  const char* sealed;  // ciphertext || tag
};

// McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", revised
// 2005, Appendix B, test cases 13-15 (256-bit keys, no AAD).
const GcmVector kVectors[] = {
    {"test case 13", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "530f8afbc74536b9a963b4f1c4cb738b"},
    {"test case 14", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "00000000000000000000000000000000",
     "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919"},
    {"test case 15", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad"
     "b094dac5d93471bdec1a502270e3cc6c"},
};

// A fixed envelope, computed independently with Python's `cryptography`
// (AESGCM) from the layout in CSE_FORMAT.md: KEK = 00..1f, CEK = 20..3f,
// wrap nonce = 40..4b, content IV = 50..5b.
constexpr std::string_view kKatPlain = "shoal client-side encryption: a known answer\n";
constexpr std::string_view kKatKeyV2 =
    "QEFCQ0RFRkdISUpLwpiMAAIZoSTl7T0dt0k9dEn3YG+DADkUT3503qsu0+SmXpr0NcKQ5c+mzBdignGr";
constexpr std::string_view kKatIv = "UFFSU1RVVldYWVpb";
constexpr std::string_view kKatContent =
    "c2c8c7735d0f14615d6a646e407aeacbb9cc2a511b840070d695b7348a2a41198aa829af0801d81c56e50934e5"
    "102dba6ee4df07c7c40343c8c70cda03";

std::map<std::string, std::string> KatMap() {
  return {{"x-amz-key-v2", std::string(kKatKeyV2)},
          {"x-amz-iv", std::string(kKatIv)},
          {"x-amz-cek-alg", "AES/GCM/NoPadding"},
          {"x-amz-wrap-alg", "AES/GCM"},
          {"x-amz-tag-len", "128"},
          {"x-amz-matdesc", "{}"},
          {"x-amz-unencrypted-content-length", std::to_string(kKatPlain.size())}};
}

// A temporary directory removed with its files at scope exit.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/cse_test.XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { (void)std::system(("rm -rf '" + path + "'").c_str()); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string Write(const std::string& name, std::string_view data, mode_t mode) const {
    std::string p = path + "/" + name;
    UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    REQUIRE(fd.valid());
    REQUIRE(::write(fd.get(), data.data(), data.size()) == static_cast<ssize_t>(data.size()));
    REQUIRE(::fchmod(fd.get(), mode) == 0);
    return p;
  }
};

}  // namespace

TEST_CASE("the streaming AES-256-GCM path matches the GCM spec's 256-bit test vectors",
          "[crypto][cse]") {
  for (const auto& v : kVectors) {
    INFO(v.name);
    const Key key = KeyFromHex(v.key);
    const Nonce iv = NonceFromHex(v.iv);
    const std::string plain = Hex(v.plain);
    const std::string sealed = Hex(v.sealed);
    for (std::size_t piece : {1u, 7u, 16u, 17u, 1000u}) {
      INFO("pieces of " << piece);
      CHECK(StreamSeal(key, iv, plain, piece) == sealed);
      std::string opened;
      REQUIRE(StreamOpen(key, iv, sealed, piece, opened).ok());
      CHECK(opened == plain);
    }
  }
}

TEST_CASE("the key wrap's AAD path matches the GCM spec's test case 16", "[crypto][cse]") {
  // The wrap is one Seal with AAD; test case 16 is the 256-bit case with AAD.
  const Key key = KeyFromHex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
  const Nonce iv = NonceFromHex("cafebabefacedbaddecaf888");
  const std::string plain =
      Hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
          "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
  const std::string aad = Hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  std::string sealed;
  REQUIRE(Seal(key, iv, aad, plain, sealed).ok());
  CHECK(HexEncode(sealed) ==
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
        "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
        "76fc6ece0f4e1768cddf8853bb2d551b");
}

TEST_CASE("base64 follows RFC 4648 and refuses anything else", "[crypto][cse]") {
  const std::pair<const char*, const char*> rfc[] = {{"", ""},
                                                     {"f", "Zg=="},
                                                     {"fo", "Zm8="},
                                                     {"foo", "Zm9v"},
                                                     {"foob", "Zm9vYg=="},
                                                     {"fooba", "Zm9vYmE="},
                                                     {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, coded] : rfc) {
    CHECK(Base64Encode(plain) == coded);
    std::string back;
    REQUIRE(Base64Decode(coded, back));
    CHECK(back == plain);
  }
  const std::string all = Pattern(1000);
  std::string back;
  REQUIRE(Base64Decode(Base64Encode(all), back));
  CHECK(back == all);
  for (const char* bad : {"Zg=", "Zg", "Z===", "Zh==", "Zm9=", "Zm 9", "Zm9v\n", "Zm-v", "Zm_v",
                          "=Zm9", "Zg==Zg==", "Zm=v"}) {
    INFO(bad);
    CHECK_FALSE(Base64Decode(bad, back));
  }
}

TEST_CASE("a key file is 32 raw bytes or 44 characters of base64", "[crypto][cse]") {
  const Key want = Counting(0);
  const std::string raw(reinterpret_cast<const char*>(want.bytes.data()), want.bytes.size());
  const std::string b64 = Base64Encode(raw);
  REQUIRE(b64.size() == 44);

  SECTION("accepted forms") {
    // Raw bytes are taken whole even when they end in a newline byte.
    std::string raw_nl = raw;
    raw_nl.back() = '\n';
    for (const std::string& text : {raw, b64, b64 + "\n", b64 + "\r\n", raw_nl}) {
      auto key = ParseKeyFile(text);
      REQUIRE(key.ok());
      if (text != raw_nl) CHECK(key->bytes == want.bytes);
    }
  }
  SECTION("refused forms") {
    for (const std::string& text :
         {std::string(), raw.substr(1), raw + "x", b64 + "\n\n", " " + b64, b64.substr(0, 43),
          Base64Encode(raw.substr(1)), Base64Encode(raw + "x"), std::string(44, '*'),
          Base64Encode(std::string(33, 'k')).substr(0, 44)}) {
      auto key = ParseKeyFile(text);
      CHECK(key.status().code() == Code::kInvalidArgument);
      CHECK(key.status().message().find("32 raw bytes") != std::string::npos);
    }
  }
  SECTION("loading checks the file's permissions") {
    TempDir dir;
    auto ok = LoadKeyFile(dir.Write("k600", b64 + "\n", 0600));
    REQUIRE(ok.ok());
    CHECK(ok->bytes == want.bytes);
    CHECK(LoadKeyFile(dir.Write("k400", raw, 0400)).ok());
    for (mode_t mode : {0640u, 0604u, 0660u, 0644u}) {
      auto loose = LoadKeyFile(dir.Write("loose", raw, mode));
      CHECK(loose.status().code() == Code::kAccessDenied);
      CHECK(loose.status().message().find("chmod 600") != std::string::npos);
    }
    CHECK_FALSE(LoadKeyFile(dir.path + "/absent").ok());
    CHECK(LoadKeyFile(dir.path).status().code() == Code::kInvalidArgument);
    auto big = LoadKeyFile(dir.Write("big", std::string(5000, 'A'), 0600));
    CHECK(big.status().code() == Code::kInvalidArgument);
    auto junk = LoadKeyFile(dir.Write("junk", "not a key\n", 0600));
    CHECK(junk.status().code() == Code::kInvalidArgument);
    CHECK(junk.status().message().find(dir.path + "/junk") != std::string::npos);
  }
}

TEST_CASE("the envelope's metadata map round-trips and is validated", "[crypto][cse]") {
  CseEnvelope env;
  env.wrapped_key = Pattern(kCseWrappedKeyBytes);
  env.iv = NonceFromHex("0102030405060708090a0b0c");
  env.unencrypted_length = 12345;
  const auto map = env.ToMap();
  CHECK(map.size() == 7);
  CHECK(map.at("x-amz-cek-alg") == "AES/GCM/NoPadding");
  CHECK(map.at("x-amz-wrap-alg") == "AES/GCM");
  CHECK(map.at("x-amz-tag-len") == "128");
  CHECK(map.at("x-amz-matdesc") == "{}");
  CHECK(map.at("x-amz-iv") == "AQIDBAUGBwgJCgsM");
  CHECK(map.at("x-amz-key-v2").size() == 80);
  CHECK(map.at("x-amz-unencrypted-content-length") == "12345");

  auto back = CseEnvelope::FromMap(map);
  REQUIRE(back.ok());
  CHECK(back->wrapped_key == env.wrapped_key);
  CHECK(back->iv == env.iv);
  CHECK(back->mat_desc == "{}");
  CHECK(back->unencrypted_length == std::optional<std::uint64_t>(12345));

  SECTION("optional names may be absent; unrelated names are ignored") {
    auto m = map;
    m.erase("x-amz-tag-len");
    m.erase("x-amz-matdesc");
    m.erase("x-amz-unencrypted-content-length");
    m["x-amz-meta-other"] = "x";
    auto e = CseEnvelope::FromMap(m);
    REQUIRE(e.ok());
    CHECK_FALSE(e->unencrypted_length.has_value());
    CHECK(e->mat_desc == "{}");
  }
  SECTION("required names") {
    for (const char* name : {"x-amz-key-v2", "x-amz-iv", "x-amz-cek-alg", "x-amz-wrap-alg"}) {
      auto m = map;
      m.erase(name);
      auto e = CseEnvelope::FromMap(m);
      CHECK(e.status().code() == Code::kInvalidArgument);
      CHECK(e.status().message().find(name) != std::string::npos);
    }
  }
  SECTION("other formats and algorithms are not supported") {
    auto v1 = map;
    v1.erase("x-amz-key-v2");
    v1["x-amz-key"] = "AAAA";
    CHECK(CseEnvelope::FromMap(v1).status().code() == Code::kNotSupported);
    for (const auto& [name, value] : std::initializer_list<std::pair<const char*, const char*>>{
             {"x-amz-cek-alg", "AES/CBC/PKCS5Padding"},
             {"x-amz-wrap-alg", "kms+context"},
             {"x-amz-wrap-alg", "RSA-OAEP-SHA1"},
             {"x-amz-wrap-alg", "AESWrap"},
             {"x-amz-tag-len", "96"}}) {
      auto m = map;
      m[name] = value;
      CHECK(CseEnvelope::FromMap(m).status().code() == Code::kNotSupported);
    }
  }
  SECTION("malformed values") {
    for (const auto& [name, value] : std::initializer_list<std::pair<const char*, std::string>>{
             {"x-amz-key-v2", "not base64!"},
             {"x-amz-key-v2", Base64Encode(Pattern(59))},
             {"x-amz-iv", Base64Encode(Pattern(16))},
             {"x-amz-iv", "*"},
             {"x-amz-unencrypted-content-length", "-1"},
             {"x-amz-unencrypted-content-length", ""},
             {"x-amz-unencrypted-content-length", "12x"}}) {
      auto m = map;
      m[name] = value;
      CHECK(CseEnvelope::FromMap(m).status().code() == Code::kInvalidArgument);
    }
  }
}

TEST_CASE("a fixed envelope built outside shoal decrypts, and its wrap is reproduced",
          "[crypto][cse]") {
  const Key kek = Counting(0x00);
  const Key cek = Counting(0x20);
  auto env = CseEnvelope::FromMap(KatMap());
  REQUIRE(env.ok());

  auto unwrapped = UnwrapKey(kek, env->wrapped_key, "AES/GCM/NoPadding");
  REQUIRE(unwrapped.ok());
  CHECK(unwrapped->bytes == cek.bytes);
  // The same wrap, with the same nonce: nonce || Seal(KEK, aad = cek-alg).
  Nonce wrap_nonce{};
  std::copy_n(env->wrapped_key.begin(), kNonceBytes, wrap_nonce.begin());
  std::string rewrapped(env->wrapped_key.substr(0, kNonceBytes));
  REQUIRE(Seal(kek, wrap_nonce, "AES/GCM/NoPadding",
               std::string_view(reinterpret_cast<const char*>(cek.bytes.data()), kKeyBytes),
               rewrapped)
              .ok());
  CHECK(Base64Encode(rewrapped) == kKatKeyV2);
  // The AAD matters: without it the wrap does not open.
  CHECK(UnwrapKey(kek, env->wrapped_key, "").status().code() == Code::kAccessDenied);

  UniqueFd in = MemFile(Hex(kKatContent));
  UniqueFd out = MemFile("");
  REQUIRE(DecryptStream(kek, *env, in.get(), out.get()).ok());
  CHECK(Contents(out.get()) == kKatPlain);
}

TEST_CASE("files of any size round-trip through EncryptStream and DecryptStream", "[crypto][cse]") {
  const Key kek = Counting(9);
  for (std::size_t len : {std::size_t{0}, std::size_t{1}, std::size_t{15}, std::size_t{16},
                          std::size_t{17}, (std::size_t{1} << 20) + 1}) {
    INFO("length " << len);
    const std::string plain = Pattern(len);
    UniqueFd in = MemFile(plain);
    UniqueFd sealed = MemFile("");
    auto env = EncryptStream(kek, in.get(), sealed.get());
    REQUIRE(env.ok());
    CHECK(env->unencrypted_length == std::optional<std::uint64_t>(len));
    const std::string content = Contents(sealed.get());
    REQUIRE(content.size() == len + kTagBytes);
    if (len >= 64) CHECK(content.find(plain.substr(0, 64)) == std::string::npos);

    // Through the metadata map, as it travels.
    auto back = CseEnvelope::FromMap(env->ToMap());
    REQUIRE(back.ok());
    UniqueFd out = MemFile("");
    REQUIRE(::lseek(sealed.get(), 0, SEEK_SET) == 0);
    REQUIRE(DecryptStream(kek, *back, sealed.get(), out.get()).ok());
    CHECK(Contents(out.get()) == plain);
  }
}

TEST_CASE("two encryptions of the same file differ in key, IV and content", "[crypto][cse]") {
  const Key kek = Counting(9);
  const std::string plain = Pattern(100);
  UniqueFd in1 = MemFile(plain);
  UniqueFd in2 = MemFile(plain);
  UniqueFd out1 = MemFile("");
  UniqueFd out2 = MemFile("");
  auto e1 = EncryptStream(kek, in1.get(), out1.get());
  auto e2 = EncryptStream(kek, in2.get(), out2.get());
  REQUIRE(e1.ok());
  REQUIRE(e2.ok());
  CHECK(e1->wrapped_key != e2->wrapped_key);
  CHECK(e1->iv != e2->iv);
  CHECK(Contents(out1.get()) != Contents(out2.get()));
}

TEST_CASE("a wrong key or any tampering is refused", "[crypto][cse]") {
  const Key kek = Counting(9);
  const std::string plain = Pattern(300);
  UniqueFd in = MemFile(plain);
  UniqueFd sealed_fd = MemFile("");
  auto made = EncryptStream(kek, in.get(), sealed_fd.get());
  REQUIRE(made.ok());
  const CseEnvelope env = *made;
  const std::string sealed = Contents(sealed_fd.get());

  auto decrypt = [&](const Key& key, const CseEnvelope& e, std::string_view content) {
    UniqueFd src = MemFile(content);
    UniqueFd dst = MemFile("");
    return DecryptStream(key, e, src.get(), dst.get());
  };
  REQUIRE(decrypt(kek, env, sealed).ok());

  SECTION("wrong key") {
    Status s = decrypt(Counting(10), env, sealed);
    CHECK(s.code() == Code::kAccessDenied);
    CHECK(s.message().find("wrong key") != std::string::npos);
  }
  SECTION("a flipped bit anywhere in the content or its tag") {
    for (std::size_t i = 0; i < sealed.size(); ++i) {
      std::string bad = sealed;
      bad[i] = static_cast<char>(bad[i] ^ 0x01);
      CHECK(decrypt(kek, env, bad).code() == Code::kCorrupt);
    }
  }
  SECTION("truncated or extended content") {
    for (std::size_t n : {std::size_t{0}, std::size_t{15}, std::size_t{16}, sealed.size() - 1}) {
      CHECK(decrypt(kek, env, sealed.substr(0, n)).code() == Code::kCorrupt);
    }
    CHECK(decrypt(kek, env, sealed + "x").code() == Code::kCorrupt);
  }
  SECTION("a flipped bit anywhere in the wrapped key") {
    for (std::size_t i = 0; i < env.wrapped_key.size(); ++i) {
      CseEnvelope bad = env;
      bad.wrapped_key[i] = static_cast<char>(bad.wrapped_key[i] ^ 0x01);
      CHECK(decrypt(kek, bad, sealed).code() == Code::kAccessDenied);
    }
  }
  SECTION("a flipped bit anywhere in the IV") {
    for (std::size_t i = 0; i < env.iv.size(); ++i) {
      CseEnvelope bad = env;
      bad.iv[i] ^= 0x01;
      CHECK(decrypt(kek, bad, sealed).code() == Code::kCorrupt);
    }
  }
  SECTION("a length that contradicts the content") {
    CseEnvelope bad = env;
    bad.unencrypted_length = plain.size() + 1;
    CHECK(decrypt(kek, bad, sealed).code() == Code::kCorrupt);
  }
}

}  // namespace shoal::crypto
