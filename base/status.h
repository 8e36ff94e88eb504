#pragma once
// Status and Result: errors as values, carrying an AWS-style code.
//
// Nothing below fs/ knows errno; code below fs/ returns a Status whose code
// names the service error (NoSuchKey, InvalidArgument, ...) and fs/ maps it
// to errno through the one table in fs/errno_table.cc.
//
// Thread-safety: values; distinct objects may be used from distinct threads.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace shoal {

enum class Code : std::uint8_t {
  kOk = 0,
  // S3 / service errors.
  kNoSuchBucket,
  kNoSuchKey,
  kAccessDenied,
  kInvalidObjectState,  // read of an archived object: EACCES
  kRestoreNotAllowed,   // restore of a non-archived object (InvalidObjectState): EINVAL
  kRestoreAlreadyInProgress,
  kInvalidStorageClass,
  kInvalidBucketName,
  kMalformedJson,
  kMalformedXml,  // a configuration document S3 would reject as MalformedXML
  kNoSuchVersion,
  kInvalidTag,
  kNoSuchUpload,  // an open writer's uncommitted data, aborted by a lifecycle rule
  // KMS errors, named as KMS names them (KMS.DisabledException in S3's
  // wording). Reads of objects under such a key are refused (EACCES).
  kKmsDisabled,      // DisabledException: the key is disabled
  kKmsNotFound,      // NotFoundException: no such key (or it was deleted)
  kKmsInvalidState,  // KMSInvalidStateException: e.g. pending deletion
  kKmsThrottling,    // ThrottlingException: over the request quota (EAGAIN)
  // Kinesis errors of a write.
  kThroughputExceeded,  // ProvisionedThroughputExceededException: a shard over its limit (EAGAIN)
  kRecordTooLarge,      // a record over MaxRecordSizeKiB (ValidationException, EMSGSIZE)
  kInvalidArgument,
  kInvalidRequest,
  kBucketNotEmpty,
  kBucketAlreadyExists,
  kKeyTooLong,
  kEntityTooLarge,
  kStoreFull,
  kCorrupt,
  // File-system conditions that S3 has no name for.
  kAlreadyExists,  // a key or directory is in the way
  kNotEmpty,       // a directory that is not a bucket has children
  kNotADirectory,
  kIsADirectory,
  kNotPermitted,  // e.g. hard links
  kNotSupported,
  kNoSuchAttribute,  // xattr absent
  kRange,            // caller's buffer too small
  kIOError,          // an OS call failed for another reason
  kInternal,
};

// The AWS-style name of `code`, as written to .shoal/errors ("NoSuchKey").
std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "<CodeName>: <message>", or "OK".
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// Factories for the common codes.
inline Status InvalidArgument(std::string msg) {
  return {Code::kInvalidArgument, std::move(msg)};
}
inline Status NoSuchKey(std::string msg) {
  return {Code::kNoSuchKey, std::move(msg)};
}
inline Status Corrupt(std::string msg) {
  return {Code::kCorrupt, std::move(msg)};
}
inline Status Internal(std::string msg) {
  return {Code::kInternal, std::move(msg)};
}

// User text inside an error message: double-quoted, printable ASCII only
// (anything else becomes '?'), at most 64 characters then "...", so that a
// hostile value cannot break the one-line-per-error log.
std::string QuoteForMessage(std::string_view text);

// The one place where an OS error becomes a Status: ENOSPC/EDQUOT become
// kStoreFull, ENOENT kNoSuchKey, EACCES/EPERM kAccessDenied, EIO kIOError,
// anything else kIOError. The message is "<context>: <strerror>".
Status PosixError(std::string_view context, int err);

// A value or the Status explaining its absence.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT
  Result(Code code, std::string msg) : status_(code, std::move(msg)) {}

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  // REQUIRES: ok()
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace shoal
