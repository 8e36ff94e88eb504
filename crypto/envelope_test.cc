#include "crypto/envelope.h"

#include <catch2/catch.hpp>

namespace shoal::crypto {
namespace {

Key Filled(unsigned char fill) {
  Key key;
  key.bytes.fill(fill);
  return key;
}

const ObjectBinding kObject{.bucket = "photos", .key = "2026/cat.jpg", .version_id = "null"};

}  // namespace

TEST_CASE("an envelope opens to its data key for its own object only", "[crypto][envelope]") {
  auto root = RootKey::FromKey(Filled(1));
  const Key data = Filled(7);
  auto envelope = SealEnvelope(*root, data, kObject);
  REQUIRE(envelope.ok());
  CHECK(envelope->size() == kSseS3EnvelopeBytes);

  auto opened = OpenEnvelope(*root, *envelope, kObject);
  REQUIRE(opened.ok());
  CHECK(opened->bytes == data.bytes);

  SECTION("another bucket, key or version id is refused") {
    for (const ObjectBinding& other : {
             ObjectBinding{.bucket = "photoz", .key = kObject.key, .version_id = "null"},
             ObjectBinding{.bucket = kObject.bucket, .key = "2026/dog.jpg", .version_id = "null"},
             ObjectBinding{.bucket = kObject.bucket, .key = kObject.key, .version_id = "v1"},
             // Field boundaries count: "photos"+"2026/cat.jpg" is not "photos2"+"026/cat.jpg".
             ObjectBinding{.bucket = "photos2", .key = "026/cat.jpg", .version_id = "null"},
         }) {
      auto wrong = OpenEnvelope(*root, *envelope, other);
      CHECK(wrong.status().code() == Code::kCorrupt);
    }
  }
  SECTION("another root key is refused") {
    auto other_root = RootKey::FromKey(Filled(2));
    CHECK(OpenEnvelope(*other_root, *envelope, kObject).status().code() == Code::kCorrupt);
  }
  SECTION("every flipped bit of every byte is refused") {
    int refused = 0;
    for (std::size_t i = 0; i < envelope->size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string damaged = *envelope;
        damaged[i] = static_cast<char>(damaged[i] ^ (1 << bit));
        if (OpenEnvelope(*root, damaged, kObject).status().code() == Code::kCorrupt) ++refused;
      }
    }
    CHECK(refused == static_cast<int>(envelope->size()) * 8);
  }
  SECTION("a truncated or extended envelope is refused") {
    CHECK(OpenEnvelope(*root, envelope->substr(0, envelope->size() - 1), kObject).status().code() ==
          Code::kCorrupt);
    CHECK(OpenEnvelope(*root, *envelope + "x", kObject).status().code() == Code::kCorrupt);
    CHECK(OpenEnvelope(*root, "", kObject).status().code() == Code::kCorrupt);
  }
}

TEST_CASE("two envelopes of one key for one object differ (fresh nonces)", "[crypto][envelope]") {
  auto root = RootKey::FromKey(Filled(1));
  auto a = SealEnvelope(*root, Filled(7), kObject);
  auto b = SealEnvelope(*root, Filled(7), kObject);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(*a != *b);
}

}  // namespace shoal::crypto

namespace shoal::crypto {

TEST_CASE("an SSE-KMS envelope opens under its KMS key for its own object only",
          "[crypto][envelope]") {
  const std::string kms_blob(kKmsBlobInEnvelopeBytes, 'k');
  auto envelope = SealKmsEnvelope(Filled(3), kms_blob, /*bucket_key=*/true, Filled(7), kObject);
  REQUIRE(envelope.ok());
  CHECK(envelope->size() == kSseKmsEnvelopeBytes);
  auto info = InspectEnvelope(*envelope);
  REQUIRE(info.ok());
  CHECK(info->mode == EnvelopeMode::kSseKms);
  CHECK(info->bucket_key);
  CHECK(info->kms_blob == kms_blob);

  auto opened = OpenKmsEnvelope(Filled(3), *envelope, kObject);
  REQUIRE(opened.ok());
  CHECK(opened->bytes == Filled(7).bytes);
  CHECK(OpenKmsEnvelope(Filled(4), *envelope, kObject).status().code() == Code::kCorrupt);
  const ObjectBinding other{.bucket = "photos", .key = "2026/dog.jpg", .version_id = "null"};
  CHECK(OpenKmsEnvelope(Filled(3), *envelope, other).status().code() == Code::kCorrupt);
  // Every byte counts, the carried KMS blob and the bucket-key flag included.
  int refused = 0;
  for (std::size_t i = 0; i < envelope->size(); ++i) {
    std::string damaged = *envelope;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x01);
    if (!OpenKmsEnvelope(Filled(3), damaged, kObject).ok()) ++refused;
  }
  CHECK(refused == static_cast<int>(envelope->size()));
  // The SSE-S3 opener does not take it, nor the KMS opener an SSE-S3 one.
  auto root = RootKey::FromKey(Filled(1));
  CHECK(OpenEnvelope(*root, *envelope, kObject).status().code() == Code::kCorrupt);
  auto s3 = SealEnvelope(*root, Filled(7), kObject);
  REQUIRE(s3.ok());
  CHECK(InspectEnvelope(*s3)->mode == EnvelopeMode::kSseS3);
  CHECK(OpenKmsEnvelope(Filled(3), *s3, kObject).status().code() == Code::kCorrupt);
  CHECK(InspectEnvelope("junk").status().code() == Code::kCorrupt);
}

}  // namespace shoal::crypto

namespace shoal::crypto {

TEST_CASE("an SSE-C envelope opens only with the customer's key, for its own object",
          "[crypto][envelope]") {
  auto envelope = SealSseCEnvelope(Filled(5), Filled(7), kObject);
  REQUIRE(envelope.ok());
  CHECK(envelope->size() == kSseCEnvelopeBytes);
  // The customer's key itself is nowhere in it.
  CHECK(envelope->find(std::string(32, '\x05')) == std::string::npos);
  auto info = InspectEnvelope(*envelope);
  REQUIRE(info.ok());
  CHECK(info->mode == EnvelopeMode::kSseC);
  CHECK(info->sse_c_salt.size() == kSseCSaltBytes);

  auto opened = OpenSseCEnvelope(Filled(5), *envelope, kObject);
  REQUIRE(opened.ok());
  CHECK(opened->bytes == Filled(7).bytes);
  CHECK(OpenSseCEnvelope(Filled(6), *envelope, kObject).status().code() == Code::kAccessDenied);
  const ObjectBinding other{.bucket = "photos", .key = "2026/dog.jpg", .version_id = "null"};
  CHECK(OpenSseCEnvelope(Filled(5), *envelope, other).status().code() == Code::kCorrupt);
  int refused = 0;
  for (std::size_t i = 0; i < envelope->size(); ++i) {
    std::string damaged = *envelope;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x01);
    if (!OpenSseCEnvelope(Filled(5), damaged, kObject).ok()) ++refused;
  }
  CHECK(refused == static_cast<int>(envelope->size()));
  // Two envelopes of one key differ in salt, so their HMACs differ too.
  auto again = SealSseCEnvelope(Filled(5), Filled(7), kObject);
  REQUIRE(again.ok());
  CHECK(again->substr(2, 48) != envelope->substr(2, 48));
}

}  // namespace shoal::crypto

namespace shoal::crypto {

TEST_CASE("a DSSE-KMS envelope needs both its KMS key and the root key", "[crypto][envelope]") {
  auto root = RootKey::FromKey(Filled(1));
  const std::string kms_blob(kKmsBlobInEnvelopeBytes, 'k');
  auto envelope = SealDsseEnvelope(Filled(3), kms_blob, *root, Filled(7), Filled(8), kObject);
  REQUIRE(envelope.ok());
  CHECK(envelope->size() == kDsseKmsEnvelopeBytes);
  auto info = InspectEnvelope(*envelope);
  REQUIRE(info.ok());
  CHECK(info->mode == EnvelopeMode::kDsseKms);
  CHECK(!info->bucket_key);
  CHECK(info->kms_blob == kms_blob);

  auto opened = OpenDsseEnvelope(Filled(3), *root, *envelope, kObject);
  REQUIRE(opened.ok());
  CHECK(opened->inner.bytes == Filled(7).bytes);
  CHECK(opened->outer.bytes == Filled(8).bytes);
  // Another KMS key, another root key or another object: nothing opens.
  CHECK(OpenDsseEnvelope(Filled(4), *root, *envelope, kObject).status().code() == Code::kCorrupt);
  auto other_root = RootKey::FromKey(Filled(2));
  CHECK(OpenDsseEnvelope(Filled(3), *other_root, *envelope, kObject).status().code() ==
        Code::kCorrupt);
  const ObjectBinding other{.bucket = "photos", .key = "2026/dog.jpg", .version_id = "null"};
  CHECK(OpenDsseEnvelope(Filled(3), *root, *envelope, other).status().code() == Code::kCorrupt);
  // Every byte counts.
  int refused = 0;
  for (std::size_t i = 0; i < envelope->size(); ++i) {
    std::string damaged = *envelope;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x01);
    if (!OpenDsseEnvelope(Filled(3), *root, damaged, kObject).ok()) ++refused;
  }
  CHECK(refused == static_cast<int>(envelope->size()));
  // Its first part does not pass for an SSE-KMS envelope (the mode byte is
  // in the AAD), nor an SSE-KMS envelope for a DSSE-KMS one.
  std::string as_kms = envelope->substr(0, kSseKmsEnvelopeBytes);
  as_kms[1] = static_cast<char>(EnvelopeMode::kSseKms);
  CHECK(OpenKmsEnvelope(Filled(3), as_kms, kObject).status().code() == Code::kCorrupt);
  auto kms = SealKmsEnvelope(Filled(3), kms_blob, false, Filled(7), kObject);
  REQUIRE(kms.ok());
  CHECK(OpenDsseEnvelope(Filled(3), *root, *kms, kObject).status().code() == Code::kCorrupt);
}

}  // namespace shoal::crypto
