#include "fs/errno_table.h"

#include <cerrno>

namespace shoal::fs {

int ErrnoFor(Code code) {
  switch (code) {
    case Code::kOk: return 0;
    case Code::kNoSuchBucket:
    case Code::kNoSuchKey:
    case Code::kNoSuchVersion:
    case Code::kNoSuchUpload: return ENOENT;
    case Code::kAccessDenied:
    case Code::kInvalidObjectState:
    case Code::kKmsDisabled:
    case Code::kKmsNotFound:
    case Code::kKmsInvalidState: return EACCES;
    case Code::kInvalidBucketName:
    case Code::kMalformedJson:
    case Code::kMalformedXml:
    case Code::kInvalidTag:
    case Code::kInvalidArgument:
    case Code::kInvalidRequest:
    case Code::kRestoreNotAllowed:
    case Code::kInvalidStorageClass: return EINVAL;
    case Code::kRestoreAlreadyInProgress:
    case Code::kKmsThrottling:
    case Code::kThroughputExceeded: return EAGAIN;
    case Code::kRecordTooLarge: return EMSGSIZE;
    case Code::kBucketNotEmpty:
    case Code::kNotEmpty: return ENOTEMPTY;
    case Code::kBucketAlreadyExists:
    case Code::kAlreadyExists: return EEXIST;
    case Code::kKeyTooLong: return ENAMETOOLONG;
    case Code::kEntityTooLarge: return EFBIG;
    case Code::kStoreFull: return ENOSPC;
    case Code::kCorrupt:
    case Code::kIOError:
    case Code::kInternal: return EIO;
    case Code::kNotADirectory: return ENOTDIR;
    case Code::kIsADirectory: return EISDIR;
    case Code::kNotPermitted: return EPERM;
    case Code::kNotSupported: return ENOTSUP;
    case Code::kNoSuchAttribute: return ENODATA;
    case Code::kRange: return ERANGE;
  }
  return EIO;
}

}  // namespace shoal::fs
