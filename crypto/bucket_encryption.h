#pragma once
// A bucket's default encryption: the document of PutBucketEncryption
// (MNT/.s3/<bucket>/encryption.json), parsed, validated as S3 validates it,
// and written back as GetBucketEncryption returns it.
//
// The JSON is that of `aws s3api put-bucket-encryption
// --server-side-encryption-configuration`:
//   {"Rules": [{"ApplyServerSideEncryptionByDefault":
//                  {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/k"},
//               "BucketKeyEnabled": true}]}
// The same document wrapped as {"ServerSideEncryptionConfiguration": {...}},
// which is what `aws s3api get-bucket-encryption` prints, is accepted too.
//
// Thread-safety: plain functions over values; safe from any thread.

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"

namespace shoal::crypto {

// The bucket configuration document (MNT/.s3/<bucket>/encryption.json).
inline constexpr std::string_view kBucketEncryptionFile = "encryption.json";

// A document longer than this is refused before parsing; a valid one is a
// few hundred bytes.
inline constexpr std::size_t kMaxBucketEncryptionBytes = 16 * 1024;

struct BucketEncryption {
  std::string algorithm = "AES256";  // "AES256" | "aws:kms" | "aws:kms:dsse"
  // As given (key id, key ARN, alias/NAME, alias ARN); empty: the AWS managed
  // key aws/s3. Always empty with AES256.
  std::string kms_key_id;
  bool bucket_key_enabled = false;

  bool operator==(const BucketEncryption&) const = default;
};

// Parses and validates encryption.json. Empty (or all-whitespace) text is
// no configuration, which S3 treats as SSE-S3: BucketEncryption{}.
// "aws:kms:dsse" parses fine; whether it is supported is the caller's call.
// "BlockedEncryptionTypes" is accepted when it blocks nothing
// ({"EncryptionType": ["NONE"]} or []) and is not kept.
//
// On failure the Status carries S3's code and message where S3 has one:
//  - kMalformedJson: not JSON ("The JSON you provided was not well-formed:
//    ..."; the AWS CLI refuses such text before S3 sees it).
//  - kMalformedXml (S3's MalformedXML): every schema fault, checked over the
//    whole document before any value, in S3's words plus a detail in
//    parentheses: "The XML you provided was not well-formed or did not
//    validate against our published schema (<where and what>)": a wrong
//    JSON type, an unknown member, no Rules, Rules that do not hold exactly
//    one rule (S3 answers MalformedXML for none and for two), a rule without
//    ApplyServerSideEncryptionByDefault, no SSEAlgorithm, an SSEAlgorithm
//    outside S3's enumeration (S3 answers MalformedXML for "SSE-KMS"), an
//    EncryptionType other than NONE or SSE-C.
//  - kInvalidArgument: a KMSMasterKeyID with an algorithm other than aws:kms
//    or aws:kms:dsse ("a KMSMasterKeyID is not applicable if the default sse
//    algorithm is not aws:kms or aws:kms:dsse", S3's text); a KMSMasterKeyID
//    that cannot name a KMS key (shoal's check and wording: S3 accepts any
//    text and fails each later upload instead). A key reference is a key id
//    (a UUID, or "mrk-" and 32 hex digits for a multi-Region key),
//    arn:<partition>:kms:<region>:<12-digit account>:key/<key id>,
//    alias/NAME (NAME: 1..250 of [A-Za-z0-9:/_-]) or
//    arn:<partition>:kms:<region>:<account>:alias/NAME. Whether the key
//    exists, or is in shoal's account and region, is not checked here.
//    Also text longer than kMaxBucketEncryptionBytes.
//  - kNotSupported: SSEAlgorithm "aws:fsx" or "aws:backup" (in S3's
//    enumeration, but not for a shoal bucket), and BlockedEncryptionTypes
//    that block SSE-C.
// bucket_encryption.cc lists each message and where its wording comes from.
Result<BucketEncryption> ParseBucketEncryption(std::string_view json);

// `e` as the document that put-bucket-encryption takes and
// GetBucketEncryption returns (without the ServerSideEncryptionConfiguration
// wrapper that get-bucket-encryption prints): 2-space indent, a trailing
// newline, members in the order Rules[0].ApplyServerSideEncryptionByDefault
// {SSEAlgorithm, KMSMasterKeyID (only when set)}, BucketKeyEnabled (always).
// For every e that ParseBucketEncryption returned,
// ParseBucketEncryption(BucketEncryptionJson(e)) == e.
std::string BucketEncryptionJson(const BucketEncryption& e);

}  // namespace shoal::crypto
