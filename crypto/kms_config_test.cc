#include "crypto/kms_config.h"

#include <catch2/catch.hpp>

#include "crypto/kms.h"

namespace shoal::crypto {
namespace {

constexpr TimeNs kSecond = 1'000'000'000;
constexpr TimeNs kDay = 86'400 * kSecond;
// 2027-01-15T08:00:00Z
constexpr TimeNs kT0 = 1'800'000'000 * kSecond;
constexpr std::string_view kId = "1234abcd-12ab-44cd-86ef-1234567890ab";

KmsKey EnabledKey() {
  KmsKey k;
  k.id = std::string(kId);
  k.arn = "arn:aws:kms:us-east-1:000000000000:key/" + k.id;
  k.alias = "alias/logs";
  k.created = kT0;
  k.enabled = true;
  k.rotation_enabled = true;
  k.next_rotation = kT0 + kKmsRotationPeriod;
  k.material_versions = 1;
  return k;
}

KmsKey PendingKey() {
  KmsKey k = EnabledKey();
  k.enabled = false;
  k.deletion_date = kT0 + 7 * kDay;
  k.pending_window_days = 7;
  return k;
}

KmsKeyConfig MustParse(std::string_view json, const KmsKey& key) {
  auto c = ParseKmsKeyConfig(json, key);
  INFO(json);
  INFO(c.status().ToString());
  REQUIRE(c.ok());
  return *c;
}

Status ParseError(std::string_view json, const KmsKey& key) {
  auto c = ParseKmsKeyConfig(json, key);
  INFO(json);
  REQUIRE_FALSE(c.ok());
  return c.status();
}

}  // namespace

TEST_CASE("a key's configuration prints in a stable order with ISO-8601 dates", "[crypto][kms]") {
  CHECK(KmsKeyConfigJson(EnabledKey()) ==
        R"({
  "KeyId": "1234abcd-12ab-44cd-86ef-1234567890ab",
  "Arn": "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-44cd-86ef-1234567890ab",
  "AliasName": "alias/logs",
  "KeyState": "Enabled",
  "Enabled": true,
  "KeyManager": "CUSTOMER",
  "CreationDate": "2027-01-15T08:00:00Z",
  "KeyRotationEnabled": true,
  "NextRotationDate": "2028-01-15T08:00:00Z"
}
)");
  CHECK(KmsKeyConfigJson(PendingKey()) ==
        R"({
  "KeyId": "1234abcd-12ab-44cd-86ef-1234567890ab",
  "Arn": "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-44cd-86ef-1234567890ab",
  "AliasName": "alias/logs",
  "KeyState": "PendingDeletion",
  "Enabled": false,
  "KeyManager": "CUSTOMER",
  "CreationDate": "2027-01-15T08:00:00Z",
  "KeyRotationEnabled": true,
  "PendingDeletionDays": 7,
  "DeletionDate": "2027-01-22T08:00:00Z"
}
)");
  KmsKey aws = EnabledKey();
  aws.aws_managed = true;
  aws.alias = "alias/aws/s3";
  KmsKey off = EnabledKey();
  off.enabled = false;
  off.rotation_enabled = false;
  off.next_rotation = 0;
  const std::string aws_text = KmsKeyConfigJson(aws);
  const std::string off_text = KmsKeyConfigJson(off);
  CHECK(aws_text.find("\"KeyManager\": \"AWS\"") != std::string::npos);
  CHECK(off_text.find("\"KeyState\": \"Disabled\"") != std::string::npos);
  CHECK(off_text.find("NextRotationDate") == std::string::npos);
  CHECK(off_text.find("DeletionDate") == std::string::npos);
}

TEST_CASE("members left out of a key configuration keep their current value", "[crypto][kms]") {
  const KmsKey key = EnabledKey();
  const KmsKeyConfig current = CurrentKmsKeyConfig(key);
  CHECK(current == KmsKeyConfig{.enabled = true, .key_rotation_enabled = true});
  CHECK(MustParse("{}", key) == current);
  CHECK(MustParse(" { \"Enabled\" : false } \n", key) ==
        KmsKeyConfig{.enabled = false, .key_rotation_enabled = true});
  CHECK(MustParse(R"({"KeyRotationEnabled": false})", key) ==
        KmsKeyConfig{.enabled = true, .key_rotation_enabled = false});
  CHECK(MustParse(R"({"PendingDeletionDays": 12, "Enabled": true})", key) ==
        KmsKeyConfig{.enabled = true, .key_rotation_enabled = true, .pending_deletion_days = 12});
  const KmsKey pending = PendingKey();
  CHECK(MustParse("{}", pending) ==
        KmsKeyConfig{.enabled = false, .key_rotation_enabled = true, .pending_deletion_days = 7});
  CHECK(MustParse(R"({"PendingDeletionDays": 0})", pending).pending_deletion_days == 0);
}

TEST_CASE("PendingDeletionDays is 0 or 7 to 30, in KMS's words", "[crypto][kms]") {
  const KmsKey key = EnabledKey();
  for (int days : {0, 7, 8, 29, 30}) {
    const std::string doc = "{\"PendingDeletionDays\": " + std::to_string(days) + "}";
    CHECK(MustParse(doc, key).pending_deletion_days == days);
  }
  struct Case {
    std::string value;
    std::string constraint;
  };
  for (const Case& c : std::vector<Case>{
           {"6", "greater than or equal to 7"},
           {"1", "greater than or equal to 7"},
           {"-1", "greater than or equal to 7"},
           {"-9223372036854775808", "greater than or equal to 7"},
           {"31", "less than or equal to 30"},
           {"18446744073709551615", "less than or equal to 30"},
       }) {
    Status s = ParseError("{\"PendingDeletionDays\": " + c.value + "}", key);
    CHECK(s.code() == Code::kInvalidArgument);
    CHECK(s.message() == "1 validation error detected: Value '" + c.value +
                             "' at 'pendingWindowInDays' failed to satisfy constraint: Member "
                             "must have value " +
                             c.constraint);
  }
  CHECK(ValidatePendingWindowDays(5).message() ==
        "1 validation error detected: Value '5' at 'pendingWindowInDays' failed to satisfy "
        "constraint: Member must have value greater than or equal to 7");
  for (std::string_view bad :
       {R"({"PendingDeletionDays": 7.0})", R"({"PendingDeletionDays": "7"})",
        R"({"PendingDeletionDays": null})", R"({"PendingDeletionDays": 1e30})"}) {
    CHECK(ParseError(bad, key).code() == Code::kMalformedJson);
  }
}

TEST_CASE("unknown members, wrong types and text that is not JSON are refused", "[crypto][kms]") {
  const KmsKey key = EnabledKey();
  struct Case {
    std::string json;
    Code code;
    std::string message_start;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"enabled": false})", Code::kMalformedJson, "Unknown field \"enabled\""},
           {R"({"Description": "x"})", Code::kMalformedJson, "Unknown field \"Description\""},
           {R"({"Enabled": "false"})", Code::kMalformedJson, "Enabled must be true or false"},
           {R"({"Enabled": 0})", Code::kMalformedJson, "Enabled must be true or false"},
           {R"({"KeyRotationEnabled": null})", Code::kMalformedJson,
            "KeyRotationEnabled must be true or false"},
           {"[]", Code::kMalformedJson, "the key configuration must be a JSON object"},
           {"true", Code::kMalformedJson, "the key configuration must be a JSON object"},
           {"", Code::kMalformedJson, "The JSON you provided was not well-formed: "},
           {"{", Code::kMalformedJson, "The JSON you provided was not well-formed: "},
           {R"({"Enabled": true} {})", Code::kMalformedJson,
            "The JSON you provided was not well-formed: "},
           {"{\"Enabled\": tru\x01}", Code::kMalformedJson,
            "The JSON you provided was not well-formed: "},
       }) {
    Status s = ParseError(c.json, key);
    INFO(c.json);
    CHECK(s.code() == c.code);
    CHECK(s.message().starts_with(c.message_start));
    CHECK(s.message().find('\x01') == std::string::npos);
  }
  const std::string huge = "{\"Enabled\": true" + std::string(kMaxKmsKeyConfigBytes, ' ') + "}";
  CHECK(ParseError(huge, key).code() == Code::kInvalidArgument);
}

TEST_CASE("a printed key configuration reads back, with its read-only members unchanged",
          "[crypto][kms]") {
  for (const KmsKey& key : {EnabledKey(), PendingKey()}) {
    const std::string printed = KmsKeyConfigJson(key);
    CHECK(MustParse(printed, key) == CurrentKmsKeyConfig(key));
  }
  // Edited in place: only the writable member changes anything.
  const KmsKey key = EnabledKey();
  std::string edited = KmsKeyConfigJson(key);
  const std::string from = "\"Enabled\": true";
  edited.replace(edited.find(from), from.size(), "\"Enabled\": false");
  CHECK(MustParse(edited, key) == KmsKeyConfig{.enabled = false, .key_rotation_enabled = true});

  struct Case {
    std::string json;
    std::string message_start;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"KeyState": "Disabled"})", "KeyState is read-only (it is \"Enabled\""},
           {R"({"AliasName": "alias/other"})", "AliasName is read-only"},
           {R"({"KeyId": 5})", "KeyId is read-only"},
           {R"({"DeletionDate": "2027-01-22T08:00:00Z"})",
            "DeletionDate is read-only, and this key has none"},
           {R"({"CreationDate": "2027-01-15T08:00:01Z"})", "CreationDate is read-only"},
       }) {
    Status s = ParseError(c.json, key);
    INFO(c.json);
    CHECK(s.code() == Code::kInvalidArgument);
    CHECK(s.message().starts_with(c.message_start));
  }
  CHECK(MustParse(R"({"KeyManager": "CUSTOMER", "KeyState": "Enabled"})", key) ==
        CurrentKmsKeyConfig(key));
}

}  // namespace shoal::crypto
