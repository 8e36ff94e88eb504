#include "fs/errno_table.h"

#include <catch2/catch.hpp>
#include <cerrno>

namespace shoal::fs {

TEST_CASE("service errors map to the errno of DESIGN's table", "[fs][errno]") {
  CHECK(ErrnoFor(Code::kNoSuchBucket) == ENOENT);
  CHECK(ErrnoFor(Code::kNoSuchKey) == ENOENT);
  CHECK(ErrnoFor(Code::kAccessDenied) == EACCES);
  CHECK(ErrnoFor(Code::kInvalidObjectState) == EACCES);
  CHECK(ErrnoFor(Code::kInvalidBucketName) == EINVAL);
  CHECK(ErrnoFor(Code::kMalformedJson) == EINVAL);
  CHECK(ErrnoFor(Code::kMalformedXml) == EINVAL);
  CHECK(ErrnoFor(Code::kNoSuchVersion) == ENOENT);
  CHECK(ErrnoFor(Code::kInvalidTag) == EINVAL);
  CHECK(ErrnoFor(Code::kNoSuchUpload) == ENOENT);
  CHECK(ErrnoFor(Code::kInvalidArgument) == EINVAL);
  CHECK(ErrnoFor(Code::kInvalidRequest) == EINVAL);
  CHECK(ErrnoFor(Code::kBucketNotEmpty) == ENOTEMPTY);
  CHECK(ErrnoFor(Code::kBucketAlreadyExists) == EEXIST);
  CHECK(ErrnoFor(Code::kKeyTooLong) == ENAMETOOLONG);
  CHECK(ErrnoFor(Code::kEntityTooLarge) == EFBIG);
  CHECK(ErrnoFor(Code::kStoreFull) == ENOSPC);
  CHECK(ErrnoFor(Code::kCorrupt) == EIO);
  CHECK(ErrnoFor(Code::kRestoreNotAllowed) == EINVAL);
  CHECK(ErrnoFor(Code::kInvalidStorageClass) == EINVAL);
  CHECK(ErrnoFor(Code::kRestoreAlreadyInProgress) == EAGAIN);
  CHECK(ErrnoFor(Code::kKmsThrottling) == EAGAIN);
  CHECK(ErrnoFor(Code::kThroughputExceeded) == EAGAIN);
  CHECK(ErrnoFor(Code::kRecordTooLarge) == EMSGSIZE);
  CHECK(ErrnoFor(Code::kKmsDisabled) == EACCES);
  CHECK(ErrnoFor(Code::kKmsNotFound) == EACCES);
  CHECK(ErrnoFor(Code::kKmsInvalidState) == EACCES);
}

TEST_CASE("file-system conditions map to their POSIX errno", "[fs][errno]") {
  CHECK(ErrnoFor(Code::kAlreadyExists) == EEXIST);
  CHECK(ErrnoFor(Code::kNotEmpty) == ENOTEMPTY);
  CHECK(ErrnoFor(Code::kNotADirectory) == ENOTDIR);
  CHECK(ErrnoFor(Code::kIsADirectory) == EISDIR);
  CHECK(ErrnoFor(Code::kNotPermitted) == EPERM);
  CHECK(ErrnoFor(Code::kNotSupported) == ENOTSUP);
  CHECK(ErrnoFor(Code::kNoSuchAttribute) == ENODATA);
  CHECK(ErrnoFor(Code::kIOError) == EIO);
}

}  // namespace shoal::fs
