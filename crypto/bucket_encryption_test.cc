#include "crypto/bucket_encryption.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace shoal::crypto {
namespace {

// A one-rule document around `by_default` (the members of
// ApplyServerSideEncryptionByDefault) and `rest` (more rule members).
std::string Doc(std::string_view by_default, std::string_view rest = "") {
  std::string rule = R"({"ApplyServerSideEncryptionByDefault":{)" + std::string(by_default) + "}";
  if (!rest.empty()) rule += "," + std::string(rest);
  return R"({"Rules":[)" + rule + "}]}";
}

// S3's MalformedXML sentence with shoal's detail.
std::string M(std::string_view detail) {
  return "The XML you provided was not well-formed or did not validate against our published "
         "schema (" +
         std::string(detail) + ")";
}

constexpr std::string_view kKeyId = "1234abcd-12ab-34cd-56ef-1234567890ab";
constexpr std::string_view kKeyArn =
    "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
constexpr std::string_view kNotApplicable =
    "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or "
    "aws:kms:dsse";
constexpr std::string_view kNotAKey = "does not name a KMS key: give a key ID";

struct Accepted {
  std::string name;
  std::string json;
  BucketEncryption want;
};

std::vector<Accepted> AcceptedDocuments() {
  const std::string alias250 = "alias/" + std::string(250, 'a');
  return {
      {"AES256 alone", Doc(R"("SSEAlgorithm":"AES256")"), {}},
      {"AES256 with BucketKeyEnabled true (S3 accepts it; it has no effect)",
       Doc(R"("SSEAlgorithm":"AES256")", R"("BucketKeyEnabled":true)"),
       {.algorithm = "AES256", .kms_key_id = "", .bucket_key_enabled = true}},
      {"AES256 with BucketKeyEnabled false",
       Doc(R"("SSEAlgorithm":"AES256")", R"("BucketKeyEnabled":false)"),
       {}},
      {"aws:kms without a key: the AWS managed key",
       Doc(R"("SSEAlgorithm":"aws:kms")"),
       {.algorithm = "aws:kms"}},
      {"aws:kms with an alias and a Bucket Key",
       Doc(R"("SSEAlgorithm":"aws:kms","KMSMasterKeyID":"alias/k")", R"("BucketKeyEnabled":true)"),
       {.algorithm = "aws:kms", .kms_key_id = "alias/k", .bucket_key_enabled = true}},
      {"aws:kms with a key id",
       Doc(R"("SSEAlgorithm":"aws:kms","KMSMasterKeyID":"1234abcd-12ab-34cd-56ef-1234567890ab")",
           R"("BucketKeyEnabled":false)"),
       {.algorithm = "aws:kms", .kms_key_id = std::string(kKeyId)}},
      {"aws:kms with an upper-case key id",
       Doc(R"("SSEAlgorithm":"aws:kms","KMSMasterKeyID":"1234ABCD-12AB-34CD-56EF-1234567890AB")"),
       {.algorithm = "aws:kms", .kms_key_id = "1234ABCD-12AB-34CD-56EF-1234567890AB"}},
      {"aws:kms with a multi-Region key id",
       Doc(R"("SSEAlgorithm":"aws:kms","KMSMasterKeyID":"mrk-1234abcd12ab34cd56ef1234567890ab")"),
       {.algorithm = "aws:kms", .kms_key_id = "mrk-1234abcd12ab34cd56ef1234567890ab"}},
      {"aws:kms with a key ARN",
       Doc(R"("SSEAlgorithm":"aws:kms","KMSMasterKeyID":")" + std::string(kKeyArn) + R"(")"),
       {.algorithm = "aws:kms", .kms_key_id = std::string(kKeyArn)}},
      {"aws:kms with an alias ARN in another partition",
       Doc(R"("SSEAlgorithm":"aws:kms",)"
           R"("KMSMasterKeyID":"arn:aws-us-gov:kms:us-gov-west-1:111122223333:alias/team/k_1")"),
       {.algorithm = "aws:kms",
        .kms_key_id = "arn:aws-us-gov:kms:us-gov-west-1:111122223333:alias/team/k_1"}},
      {"aws:kms naming the AWS managed key by its alias",
       Doc(R"("SSEAlgorithm":"aws:kms","KMSMasterKeyID":"alias/aws/s3")"),
       {.algorithm = "aws:kms", .kms_key_id = "alias/aws/s3"}},
      {"an alias of 256 characters",
       Doc(R"("SSEAlgorithm":"aws:kms","KMSMasterKeyID":")" + alias250 + R"(")"),
       {.algorithm = "aws:kms", .kms_key_id = alias250}},
      {"aws:kms:dsse without a key",
       Doc(R"("SSEAlgorithm":"aws:kms:dsse")"),
       {.algorithm = "aws:kms:dsse"}},
      {"aws:kms:dsse with a key ARN and a Bucket Key",
       Doc(R"("SSEAlgorithm":"aws:kms:dsse","KMSMasterKeyID":")" + std::string(kKeyArn) + R"(")",
           R"("BucketKeyEnabled":true)"),
       {.algorithm = "aws:kms:dsse",
        .kms_key_id = std::string(kKeyArn),
        .bucket_key_enabled = true}},
      {"the output of get-bucket-encryption",
       R"({"ServerSideEncryptionConfiguration": {"Rules": [{
             "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                    "KMSMasterKeyID": "alias/k"},
             "BucketKeyEnabled": true}]}})",
       {.algorithm = "aws:kms", .kms_key_id = "alias/k", .bucket_key_enabled = true}},
      {"members in any order",
       R"({"Rules":[{"BucketKeyEnabled":true,"ApplyServerSideEncryptionByDefault":
             {"KMSMasterKeyID":"alias/k","SSEAlgorithm":"aws:kms"}}]})",
       {.algorithm = "aws:kms", .kms_key_id = "alias/k", .bucket_key_enabled = true}},
      {"BlockedEncryptionTypes that block nothing",
       Doc(R"("SSEAlgorithm":"AES256")", R"("BlockedEncryptionTypes":{"EncryptionType":["NONE"]})"),
       {}},
      {"BlockedEncryptionTypes with an empty list",
       Doc(R"("SSEAlgorithm":"AES256")", R"("BlockedEncryptionTypes":{"EncryptionType":[]})"),
       {}},
      {"empty text: no configuration, SSE-S3", "", {}},
      {"whitespace: no configuration, SSE-S3", " \n\t", {}},
  };
}

struct Refused {
  std::string name;
  std::string json;
  Code code;
  std::string message;  // a substring of the message
};

std::vector<Refused> RefusedDocuments() {
  const Code kJson = Code::kMalformedJson;
  const Code kXml = Code::kMalformedXml;
  const Code kArg = Code::kInvalidArgument;
  const Code kNot = Code::kNotSupported;
  const std::string aes = R"("SSEAlgorithm":"AES256")";
  auto kms_key = [](std::string_view key) {
    return Doc(R"("SSEAlgorithm":"aws:kms","KMSMasterKeyID":")" + std::string(key) + R"(")");
  };
  return {
      // Not JSON.
      {"not JSON", "{", kJson,
       "The JSON you provided was not well-formed: parse error at line 1, column 2"},
      {"text after the document", Doc(aes) + "x", kJson,
       "The JSON you provided was not well-formed: parse error"},
      {"a document over 16 KiB", Doc(aes) + std::string(kMaxBucketEncryptionBytes, ' '), kArg,
       "at most 16384 are allowed"},

      // S3's schema: MalformedXML.
      {"a document that is not an object", "[]", kXml,
       M(R"(the document must be a JSON object: {"Rules": [...]})")},
      {"no Rules", "{}", kXml, M("the document needs Rules")},
      {"Rules not an array", R"({"Rules":{}})", kXml, M("Rules must be an array")},
      {"no rule", R"({"Rules":[]})", kXml, M("Rules must hold exactly one rule, not 0")},
      {"two rules",
       R"({"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}},
                    {"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms"}}]})",
       kXml, M("Rules must hold exactly one rule, not 2")},
      {"a rule that is not an object", R"({"Rules":["AES256"]})", kXml,
       M("Rules[0] must be a JSON object")},
      {"an unknown top-level member", R"({"Rules":[],"Extra":1})", kXml,
       M(R"(unknown member "Extra" in the document; expected Rules, )"
         R"(ServerSideEncryptionConfiguration)")},
      {"a misspelt rule member", Doc(aes, R"("BucketKeyEnable":true)"), kXml,
       M(R"(unknown member "BucketKeyEnable" in Rules[0]; expected )"
         R"(ApplyServerSideEncryptionByDefault, BucketKeyEnabled, BlockedEncryptionTypes)")},
      {"KMSKeyID, as S3's own example misspells it",
       Doc(R"("SSEAlgorithm":"aws:kms","KMSKeyID":"alias/k")"), kXml,
       M(R"(unknown member "KMSKeyID" in Rules[0].ApplyServerSideEncryptionByDefault; )"
         R"(expected SSEAlgorithm, KMSMasterKeyID)")},
      {"a rule without ApplyServerSideEncryptionByDefault",
       R"({"Rules":[{"BucketKeyEnabled":true}]})", kXml,
       M("Rules[0] needs ApplyServerSideEncryptionByDefault")},
      {"ApplyServerSideEncryptionByDefault not an object",
       R"({"Rules":[{"ApplyServerSideEncryptionByDefault":"AES256"}]})", kXml,
       M("Rules[0].ApplyServerSideEncryptionByDefault must be a JSON object")},
      {"no SSEAlgorithm", Doc(R"("KMSMasterKeyID":"alias/k")"), kXml,
       M("Rules[0].ApplyServerSideEncryptionByDefault needs an SSEAlgorithm")},
      {"SSEAlgorithm not a string", Doc(R"("SSEAlgorithm":256)"), kXml,
       M("Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm must be a string")},
      {"SSE-KMS for aws:kms", Doc(R"("SSEAlgorithm":"SSE-KMS")"), kXml,
       M(R"(Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm must be one of AES256, )"
         R"(aws:kms, aws:kms:dsse, not "SSE-KMS")")},
      {"aes256 in lower case", Doc(R"("SSEAlgorithm":"aes256")"), kXml,
       M(R"(Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm must be one of AES256, )"
         R"(aws:kms, aws:kms:dsse, not "aes256")")},
      {"KMSMasterKeyID null", Doc(R"("SSEAlgorithm":"aws:kms","KMSMasterKeyID":null)"), kXml,
       M("Rules[0].ApplyServerSideEncryptionByDefault.KMSMasterKeyID must be a string")},
      {"BucketKeyEnabled as a string", Doc(aes, R"("BucketKeyEnabled":"true")"), kXml,
       M("Rules[0].BucketKeyEnabled must be true or false")},
      {"an unknown EncryptionType",
       Doc(aes, R"("BlockedEncryptionTypes":{"EncryptionType":["SSE-KMS"]})"), kXml,
       M(R"(Rules[0].BlockedEncryptionTypes.EncryptionType[0] must be NONE or SSE-C, )"
         R"(not "SSE-KMS")")},
      {"EncryptionType not a list",
       Doc(aes, R"("BlockedEncryptionTypes":{"EncryptionType":"NONE"})"), kXml,
       M("Rules[0].BlockedEncryptionTypes.EncryptionType must be an array")},
      {"the wrapper beside Rules",
       R"({"ServerSideEncryptionConfiguration":{"Rules":[]},"Rules":[]})", kXml,
       M("the document holds Rules or ServerSideEncryptionConfiguration, not both")},
      {"a wrapper that is not an object", R"({"ServerSideEncryptionConfiguration":[]})", kXml,
       M("ServerSideEncryptionConfiguration must be a JSON object")},
      {"a wrapper without Rules", R"({"ServerSideEncryptionConfiguration":{}})", kXml,
       M("ServerSideEncryptionConfiguration needs Rules")},
      {"a wrapper with no rule", R"({"ServerSideEncryptionConfiguration":{"Rules":[]}})", kXml,
       M("ServerSideEncryptionConfiguration.Rules must hold exactly one rule, not 0")},
      {"a wrapper with an unknown member",
       R"({"ServerSideEncryptionConfiguration":{"Rules":[],"Rule":[]}})", kXml,
       M(R"(unknown member "Rule" in ServerSideEncryptionConfiguration; expected Rules)")},
      {"schema faults come before value faults",
       Doc(R"("SSEAlgorithm":"AES256","KMSMasterKeyID":"alias/k")", R"("BucketKeyEnabled":1)"),
       kXml, M("Rules[0].BucketKeyEnabled must be true or false")},

      // Values.
      {"a key with AES256", Doc(R"("SSEAlgorithm":"AES256","KMSMasterKeyID":"alias/k")"), kArg,
       std::string(kNotApplicable)},
      {"an empty key with AES256", Doc(R"("SSEAlgorithm":"AES256","KMSMasterKeyID":"")"), kArg,
       std::string(kNotApplicable)},
      {"a key with aws:fsx", Doc(R"("SSEAlgorithm":"aws:fsx","KMSMasterKeyID":"alias/k")"), kArg,
       std::string(kNotApplicable)},
      {"aws/s3 without alias/", kms_key("aws/s3"), kArg,
       R"(KMSMasterKeyID "aws/s3" does not name a KMS key)"},
      {"an empty key", kms_key(""), kArg, R"(KMSMasterKeyID "" does not name a KMS key)"},
      {"alias/ and no name", kms_key("alias/"), kArg, std::string(kNotAKey)},
      {"an alias with a space", kms_key("alias/my key"), kArg, std::string(kNotAKey)},
      {"an alias of 257 characters", kms_key("alias/" + std::string(251, 'a')), kArg,
       std::string(kNotAKey)},
      {"a key id without its dashes", kms_key("1234abcd12ab34cd56ef1234567890ab"), kArg,
       std::string(kNotAKey)},
      {"a key id with a letter beyond f", kms_key("1234abcd-12ab-34cd-56ef-1234567890ag"), kArg,
       std::string(kNotAKey)},
      {"a multi-Region key id one digit short", kms_key("mrk-1234abcd12ab34cd56ef1234567890a"),
       kArg, std::string(kNotAKey)},
      {"a key ARN with an 11-digit account",
       kms_key("arn:aws:kms:us-east-1:11112222333:key/1234abcd-12ab-34cd-56ef-1234567890ab"), kArg,
       std::string(kNotAKey)},
      {"a key ARN without a region",
       kms_key("arn:aws:kms::111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"), kArg,
       std::string(kNotAKey)},
      {"an ARN of another service",
       kms_key("arn:aws:s3:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"), kArg,
       std::string(kNotAKey)},
      {"a key ARN whose key id is a name", kms_key("arn:aws:kms:us-east-1:111122223333:key/k"),
       kArg, std::string(kNotAKey)},
      {"an alias ARN without a name", kms_key("arn:aws:kms:us-east-1:111122223333:alias/"), kArg,
       std::string(kNotAKey)},
      {"a hostile key is quoted safely", kms_key(R"(alias/a\nb)"), kArg,
       R"(KMSMasterKeyID "alias/a?b" does not name a KMS key)"},
      {"aws:fsx", Doc(R"("SSEAlgorithm":"aws:fsx")"), kNot,
       "SSEAlgorithm aws:fsx is not available for a shoal bucket's default encryption; use "
       "AES256, aws:kms or aws:kms:dsse"},
      {"aws:backup", Doc(R"("SSEAlgorithm":"aws:backup")"), kNot,
       "SSEAlgorithm aws:backup is not available"},
      {"blocking SSE-C", Doc(aes, R"("BlockedEncryptionTypes":{"EncryptionType":["SSE-C"]})"), kNot,
       "shoal does not block SSE-C uploads"},
  };
}

TEST_CASE("valid encryption documents parse to the configuration they state",
          "[crypto][encryption]") {
  for (const Accepted& a : AcceptedDocuments()) {
    INFO(a.name);
    INFO(a.json);
    const Result<BucketEncryption> r = ParseBucketEncryption(a.json);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    CHECK(r->algorithm == a.want.algorithm);
    CHECK(r->kms_key_id == a.want.kms_key_id);
    CHECK(r->bucket_key_enabled == a.want.bucket_key_enabled);
  }
}

TEST_CASE("invalid encryption documents are refused with S3's code and words",
          "[crypto][encryption]") {
  for (const Refused& c : RefusedDocuments()) {
    INFO(c.name);
    INFO(c.json);
    const Result<BucketEncryption> r = ParseBucketEncryption(c.json);
    REQUIRE_FALSE(r.ok());
    INFO(r.status().ToString());
    CHECK(r.status().code() == c.code);
    CHECK(r.status().message().find(c.message) != std::string::npos);
    // One line per error in the log, whatever the document held.
    CHECK(r.status().message().find('\n') == std::string::npos);
  }
}

TEST_CASE("every valid configuration reads back as JSON that parses to it",
          "[crypto][encryption]") {
  for (const Accepted& a : AcceptedDocuments()) {
    INFO(a.name);
    const std::string text = BucketEncryptionJson(a.want);
    INFO(text);
    const Result<BucketEncryption> back = ParseBucketEncryption(text);
    INFO(back.status().ToString());
    REQUIRE(back.ok());
    CHECK(*back == a.want);
    CHECK(BucketEncryptionJson(*back) == text);
  }
}

TEST_CASE("a configuration reads back as GetBucketEncryption returns it", "[crypto][encryption]") {
  CHECK(BucketEncryptionJson(
            {.algorithm = "aws:kms", .kms_key_id = "alias/k", .bucket_key_enabled = true}) == R"({
  "Rules": [
    {
      "ApplyServerSideEncryptionByDefault": {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": "alias/k"
      },
      "BucketKeyEnabled": true
    }
  ]
}
)");
  // No KMSMasterKeyID unless set; BucketKeyEnabled always.
  CHECK(BucketEncryptionJson(BucketEncryption{}) == R"({
  "Rules": [
    {
      "ApplyServerSideEncryptionByDefault": {
        "SSEAlgorithm": "AES256"
      },
      "BucketKeyEnabled": false
    }
  ]
}
)");
  CHECK(kBucketEncryptionFile == "encryption.json");
}

}  // namespace
}  // namespace shoal::crypto
