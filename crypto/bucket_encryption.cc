#include "crypto/bucket_encryption.h"

#include <algorithm>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <vector>

#include "base/json_text.h"

// Where the messages come from.
//  - The MalformedXML sentence is S3's. S3 answers it, with nothing more, for
//    Rules: [] and for two rules (LocalStack's snapshot test
//    test_s3_default_bucket_encryption_exc, validated against AWS), and for
//    an SSEAlgorithm outside its enumeration ("SSE-KMS": MalformedXML, in
//    aws-controllers-k8s/community#1505). The detail in parentheses is
//    shoal's, as in lifecycle/lifecycle_config.cc.
//  - "a KMSMasterKeyID is not applicable if the default sse algorithm is not
//    aws:kms or aws:kms:dsse" (InvalidArgument, ArgumentName
//    ApplyServerSideEncryptionByDefault) is S3's, from the same snapshot
//    test; before DSSE-KMS (June 2023) S3 ended it at "aws:kms".
//  - A rule without ApplyServerSideEncryptionByDefault: MalformedXML as
//    LocalStack's provider answers it (not one of its AWS-validated cases,
//    so not confirmed against S3). Since BlockedEncryptionTypes (November 2025)
//    S3's schema makes the element optional, and a rule that only unblocks
//    SSE-C is valid; shoal keeps requiring it, as the rule is what its
//    struct holds.
//  - KMSMasterKeyID: S3 does not check it ("Amazon S3 doesn't validate the
//    KMS key ID provided in PutBucketEncryption requests", API reference)
//    and uploads fail later with KMS.NotFoundException (e.g. "Invalid keyId
//    aws/s3", aws/aws-cli#4507). shoal refuses text that cannot name
//    a key when the document is written, where the mistake is made; the
//    wording is shoal's, as are the kNotSupported texts and the size limit.
//  - JSON syntax errors keep the wording of shoal's other JSON documents.

namespace shoal::crypto {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

constexpr std::string_view kSchemaSentence =
    "The XML you provided was not well-formed or did not validate against our published schema";
constexpr std::string_view kAes256 = "AES256";
constexpr std::string_view kAwsKms = "aws:kms";
constexpr std::string_view kAwsKmsDsse = "aws:kms:dsse";
// In S3's enumeration of SSEAlgorithm, but not for a bucket that shoal
// simulates: aws:fsx is for FSx file systems behind S3 access points.
constexpr std::string_view kAwsFsx = "aws:fsx";
constexpr std::string_view kAwsBackup = "aws:backup";
constexpr std::string_view kBlockNone = "NONE";
constexpr std::string_view kBlockSseC = "SSE-C";
// AliasName: "alias/" and at most 250 more characters (256 in all).
constexpr std::size_t kMaxAliasNameChars = 250;
constexpr std::size_t kAccountDigits = 12;
constexpr std::size_t kMrkHexDigits = 32;

Status Malformed(const std::string& detail) {
  return {Code::kMalformedXml, std::string(kSchemaSentence) + " (" + detail + ")"};
}

Status NotSupported(std::string msg) {
  return {Code::kNotSupported, std::move(msg)};
}

std::string Path(std::string_view where, std::string_view member) {
  std::string out(where);
  if (!out.empty()) out += '.';
  out += member;
  return out;
}

std::string Path(std::string_view where, std::size_t index) {
  return std::string(where) + "[" + std::to_string(index) + "]";
}

// The member `name` of the object `obj`, or nullptr.
const Json* Member(const Json& obj, std::string_view name) {
  const auto it = obj.find(name);
  return it == obj.end() ? nullptr : &*it;
}

// nlohmann::json keeps members sorted by name, so the unknown member named
// is the first in that order, not the document's.
Status OnlyMembers(const Json& obj, std::initializer_list<std::string_view> allowed,
                   std::string_view where) {
  for (const auto& item : obj.items()) {
    if (std::find(allowed.begin(), allowed.end(), item.key()) != allowed.end()) continue;
    std::string expected;
    for (std::string_view name : allowed) {
      if (!expected.empty()) expected += ", ";
      expected += name;
    }
    return Malformed("unknown member " + QuoteForMessage(item.key()) + " in " +
                     std::string(where.empty() ? "the document" : where) + "; expected " +
                     expected);
  }
  return Status::Ok();
}

Status NeedObject(const Json& v, std::string_view where) {
  if (!v.is_object()) return Malformed(std::string(where) + " must be a JSON object");
  return Status::Ok();
}

Status ReadString(const Json& v, std::string_view where, std::string* out) {
  if (!v.is_string()) return Malformed(std::string(where) + " must be a string");
  *out = v.get<std::string>();
  return Status::Ok();
}

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

// A key id: a UUID (8-4-4-4-12 hex digits, as KMS makes them), or a
// multi-Region key's "mrk-" and 32 hex digits.
bool IsKeyId(std::string_view s) {
  if (s.starts_with("mrk-")) {
    const std::string_view hex = s.substr(4);
    return hex.size() == kMrkHexDigits && std::all_of(hex.begin(), hex.end(), IsHex);
  }
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !IsHex(s[i])) return false;
  }
  return true;
}

bool IsAliasChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == ':' || c == '/' ||
         c == '_' || c == '-';
}

// "alias/NAME", NAME as KMS's AliasName pattern ^[a-zA-Z0-9:/_-]+$ allows.
bool IsAlias(std::string_view s) {
  if (!s.starts_with("alias/")) return false;
  const std::string_view name = s.substr(6);
  return !name.empty() && name.size() <= kMaxAliasNameChars &&
         std::all_of(name.begin(), name.end(), IsAliasChar);
}

// The part of `s` up to the next ':', which it consumes; nullopt when there
// is no ':'.
std::optional<std::string_view> NextField(std::string_view* s) {
  const auto colon = s->find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view field = s->substr(0, colon);
  s->remove_prefix(colon + 1);
  return field;
}

// arn:<partition>:kms:<region>:<account>:key/<key id> or ...:alias/<name>.
// Any partition ("aws", "aws-cn", "aws-us-gov", ...), region and account:
// whether the key is in shoal's account and region is for KMS to say.
bool IsKmsArn(std::string_view s) {
  const auto arn = NextField(&s);
  const auto partition = NextField(&s);
  const auto service = NextField(&s);
  const auto region = NextField(&s);
  const auto account = NextField(&s);
  if (!arn || !partition || !service || !region || !account) return false;
  const auto lower_or_dash = [](char c) { return (c >= 'a' && c <= 'z') || c == '-'; };
  const auto region_char = [](char c) { return (c >= 'a' && c <= 'z') || IsDigit(c) || c == '-'; };
  if (*arn != "arn" || *service != "kms") return false;
  if (!partition->starts_with("aws") ||
      !std::all_of(partition->begin(), partition->end(), lower_or_dash)) {
    return false;
  }
  if (region->empty() || !std::all_of(region->begin(), region->end(), region_char)) return false;
  if (account->size() != kAccountDigits ||
      !std::all_of(account->begin(), account->end(), IsDigit)) {
    return false;
  }
  if (s.starts_with("key/")) return IsKeyId(s.substr(4));
  return IsAlias(s);
}

bool IsKmsKeyReference(std::string_view s) {
  return IsKeyId(s) || IsAlias(s) || IsKmsArn(s);
}

// A rule as the document gives it: its schema is checked, its values not
// yet (S3 validates the whole XML before it looks at a value).
struct GivenRule {
  std::string algorithm;
  std::optional<std::string> kms_key_id;
  bool bucket_key_enabled = false;
  bool blocks_sse_c = false;
};

Status ReadBlocked(const Json& j, std::string_view where, GivenRule* g) {
  Status s = NeedObject(j, where);
  if (!s.ok()) return s;
  s = OnlyMembers(j, {"EncryptionType"}, where);
  if (!s.ok()) return s;
  const Json* types = Member(j, "EncryptionType");
  if (types == nullptr) return Status::Ok();
  const std::string types_where = Path(where, "EncryptionType");
  if (!types->is_array()) return Malformed(types_where + " must be an array");
  for (std::size_t i = 0; i < types->size(); ++i) {
    std::string type;
    s = ReadString((*types)[i], Path(types_where, i), &type);
    if (!s.ok()) return s;
    if (type == kBlockSseC) {
      g->blocks_sse_c = true;
    } else if (type != kBlockNone) {
      return Malformed(Path(types_where, i) + " must be NONE or SSE-C, not " +
                       QuoteForMessage(type));
    }
  }
  return Status::Ok();
}

Status ReadDefault(const Json& j, std::string_view where, GivenRule* g) {
  Status s = NeedObject(j, where);
  if (!s.ok()) return s;
  s = OnlyMembers(j, {"SSEAlgorithm", "KMSMasterKeyID"}, where);
  if (!s.ok()) return s;
  const Json* algorithm = Member(j, "SSEAlgorithm");
  if (algorithm == nullptr) return Malformed(std::string(where) + " needs an SSEAlgorithm");
  const std::string algorithm_where = Path(where, "SSEAlgorithm");
  s = ReadString(*algorithm, algorithm_where, &g->algorithm);
  if (!s.ok()) return s;
  const std::string& a = g->algorithm;
  if (a != kAes256 && a != kAwsKms && a != kAwsKmsDsse && a != kAwsFsx && a != kAwsBackup) {
    return Malformed(algorithm_where + " must be one of AES256, aws:kms, aws:kms:dsse, not " +
                     QuoteForMessage(a));
  }
  if (const Json* key = Member(j, "KMSMasterKeyID")) {
    std::string id;
    s = ReadString(*key, Path(where, "KMSMasterKeyID"), &id);
    if (!s.ok()) return s;
    g->kms_key_id = std::move(id);
  }
  return Status::Ok();
}

Status ReadRule(const Json& j, std::string_view where, GivenRule* g) {
  Status s = NeedObject(j, where);
  if (!s.ok()) return s;
  s = OnlyMembers(
      j, {"ApplyServerSideEncryptionByDefault", "BucketKeyEnabled", "BlockedEncryptionTypes"},
      where);
  if (!s.ok()) return s;
  const Json* by_default = Member(j, "ApplyServerSideEncryptionByDefault");
  if (by_default == nullptr) {
    return Malformed(std::string(where) + " needs ApplyServerSideEncryptionByDefault");
  }
  s = ReadDefault(*by_default, Path(where, "ApplyServerSideEncryptionByDefault"), g);
  if (!s.ok()) return s;
  if (const Json* bucket_key = Member(j, "BucketKeyEnabled")) {
    if (!bucket_key->is_boolean()) {
      return Malformed(Path(where, "BucketKeyEnabled") + " must be true or false");
    }
    g->bucket_key_enabled = bucket_key->get<bool>();
  }
  if (const Json* blocked = Member(j, "BlockedEncryptionTypes")) {
    s = ReadBlocked(*blocked, Path(where, "BlockedEncryptionTypes"), g);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace

Result<BucketEncryption> ParseBucketEncryption(std::string_view json) {
  if (IsBlankJson(json)) return BucketEncryption{};
  if (json.size() > kMaxBucketEncryptionBytes) {
    return InvalidArgument("the encryption configuration is " + std::to_string(json.size()) +
                           " bytes; at most " + std::to_string(kMaxBucketEncryptionBytes) +
                           " are allowed");
  }
  auto document = ParseJsonDocument(json);
  if (!document.ok()) return document.status();
  const Json& parsed = *document;
  if (!parsed.is_object()) {
    return Malformed("the document must be a JSON object: {\"Rules\": [...]}");
  }
  Status s = OnlyMembers(parsed, {"Rules", "ServerSideEncryptionConfiguration"}, "");
  if (!s.ok()) return s;

  // get-bucket-encryption's output: the same document, one level down.
  const Json* doc = &parsed;
  std::string where;
  if (const Json* wrapped = Member(parsed, "ServerSideEncryptionConfiguration")) {
    if (parsed.size() != 1) {
      return Malformed("the document holds Rules or ServerSideEncryptionConfiguration, not both");
    }
    where = "ServerSideEncryptionConfiguration";
    s = NeedObject(*wrapped, where);
    if (!s.ok()) return s;
    s = OnlyMembers(*wrapped, {"Rules"}, where);
    if (!s.ok()) return s;
    doc = wrapped;
  }
  const Json* rules = Member(*doc, "Rules");
  if (rules == nullptr) {
    return Malformed((where.empty() ? std::string("the document") : where) + " needs Rules");
  }
  const std::string rules_where = Path(where, "Rules");
  if (!rules->is_array()) return Malformed(rules_where + " must be an array");
  std::vector<GivenRule> given(rules->size());
  for (std::size_t i = 0; i < rules->size(); ++i) {
    s = ReadRule((*rules)[i], Path(rules_where, i), &given[i]);
    if (!s.ok()) return s;
  }
  if (given.size() != 1) {
    return Malformed(rules_where + " must hold exactly one rule, not " +
                     std::to_string(given.size()));
  }

  GivenRule& g = given.front();
  if (g.kms_key_id && g.algorithm != kAwsKms && g.algorithm != kAwsKmsDsse) {
    return InvalidArgument(
        "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or "
        "aws:kms:dsse");
  }
  if (g.algorithm == kAwsFsx || g.algorithm == kAwsBackup) {
    return NotSupported("SSEAlgorithm " + g.algorithm +
                        " is not available for a shoal bucket's default encryption; use "
                        "AES256, aws:kms or aws:kms:dsse");
  }
  if (g.kms_key_id && !IsKmsKeyReference(*g.kms_key_id)) {
    return InvalidArgument(
        "KMSMasterKeyID " + QuoteForMessage(*g.kms_key_id) +
        " does not name a KMS key: give a key ID (1234abcd-12ab-34cd-56ef-1234567890ab), a key "
        "ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY_ID), alias/NAME or an alias ARN "
        "(arn:aws:kms:REGION:ACCOUNT:alias/NAME); leave it out for the AWS managed key aws/s3");
  }
  if (g.blocks_sse_c) {
    return NotSupported(
        "shoal does not block SSE-C uploads; give BlockedEncryptionTypes {\"EncryptionType\": "
        "[\"NONE\"]} or leave it out");
  }
  return BucketEncryption{.algorithm = std::move(g.algorithm),
                          .kms_key_id = g.kms_key_id.value_or(""),
                          .bucket_key_enabled = g.bucket_key_enabled};
}

std::string BucketEncryptionJson(const BucketEncryption& e) {
  OrderedJson by_default = OrderedJson::object();
  by_default["SSEAlgorithm"] = e.algorithm;
  if (!e.kms_key_id.empty()) by_default["KMSMasterKeyID"] = e.kms_key_id;
  OrderedJson rule = OrderedJson::object();
  rule["ApplyServerSideEncryptionByDefault"] = std::move(by_default);
  rule["BucketKeyEnabled"] = e.bucket_key_enabled;
  OrderedJson doc = OrderedJson::object();
  OrderedJson rules = OrderedJson::array();
  rules.push_back(std::move(rule));
  doc["Rules"] = std::move(rules);
  // error_handler_t::replace: a key id that is not UTF-8 (only a caller's
  // hand-made value can be) becomes U+FFFD instead of throwing.
  std::string text = doc.dump(2, ' ', false, OrderedJson::error_handler_t::replace);
  text += '\n';
  return text;
}

}  // namespace shoal::crypto
