#include "base/status.h"

#include <cerrno>
#include <cstring>

namespace shoal {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kNoSuchBucket: return "NoSuchBucket";
    case Code::kNoSuchKey: return "NoSuchKey";
    case Code::kAccessDenied: return "AccessDenied";
    case Code::kInvalidObjectState:
    case Code::kRestoreNotAllowed: return "InvalidObjectState";
    case Code::kRestoreAlreadyInProgress: return "RestoreAlreadyInProgress";
    case Code::kInvalidStorageClass: return "InvalidStorageClass";
    case Code::kInvalidBucketName: return "InvalidBucketName";
    case Code::kMalformedJson: return "MalformedJSON";
    case Code::kMalformedXml: return "MalformedXML";
    case Code::kNoSuchVersion: return "NoSuchVersion";
    case Code::kInvalidTag: return "InvalidTag";
    case Code::kNoSuchUpload: return "NoSuchUpload";
    case Code::kKmsDisabled: return "KMS.DisabledException";
    case Code::kKmsNotFound: return "KMS.NotFoundException";
    case Code::kKmsInvalidState: return "KMS.KMSInvalidStateException";
    case Code::kKmsThrottling: return "KMS.ThrottlingException";
    case Code::kThroughputExceeded: return "ProvisionedThroughputExceededException";
    case Code::kRecordTooLarge: return "ValidationException";
    case Code::kInvalidArgument: return "InvalidArgument";
    case Code::kInvalidRequest: return "InvalidRequest";
    case Code::kBucketNotEmpty: return "BucketNotEmpty";
    case Code::kBucketAlreadyExists: return "BucketAlreadyExists";
    case Code::kKeyTooLong: return "KeyTooLongError";
    case Code::kEntityTooLarge: return "EntityTooLarge";
    case Code::kStoreFull: return "StoreFull";
    case Code::kCorrupt: return "DataCorrupted";
    case Code::kAlreadyExists: return "KeyAlreadyExists";
    case Code::kNotEmpty: return "DirectoryNotEmpty";
    case Code::kNotADirectory: return "NotADirectory";
    case Code::kIsADirectory: return "IsADirectory";
    case Code::kNotPermitted: return "OperationNotPermitted";
    case Code::kNotSupported: return "NotImplemented";
    case Code::kNoSuchAttribute: return "NoSuchAttribute";
    case Code::kRange: return "BufferTooSmall";
    case Code::kIOError: return "IOError";
    case Code::kInternal: return "InternalError";
  }
  return "InternalError";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(CodeName(code_));
  out += ": ";
  out += message_;
  return out;
}

std::string QuoteForMessage(std::string_view text) {
  constexpr std::size_t kMax = 64;
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size() && i < kMax; ++i) {
    const char c = text[i];
    out.push_back(c >= 0x20 && c < 0x7f && c != '"' ? c : '?');
  }
  if (text.size() > kMax) out += "...";
  out += '"';
  return out;
}

Status PosixError(std::string_view context, int err) {
  std::string msg(context);
  msg += ": ";
  msg += std::strerror(err);
  switch (err) {
    case ENOSPC:
    case EDQUOT: return {Code::kStoreFull, std::move(msg)};
    case ENOENT: return {Code::kNoSuchKey, std::move(msg)};
    case EACCES:
    case EPERM: return {Code::kAccessDenied, std::move(msg)};
    case EFBIG: return {Code::kEntityTooLarge, std::move(msg)};
    default: return {Code::kIOError, std::move(msg)};
  }
}

}  // namespace shoal
