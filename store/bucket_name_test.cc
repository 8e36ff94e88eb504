#include "store/bucket_name.h"

#include <catch2/catch.hpp>

namespace shoal::store {

TEST_CASE("bucket names follow S3's rules", "[store][bucket]") {
  for (const char* good : {"abc", "my-bucket", "my.bucket.2026", "a1b", "123",
                           "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}) {
    INFO(good);
    CHECK(ValidateBucketName(good).ok());
  }
  for (const char* bad : {"ab", "", "My-Bucket", "-abc", "abc-", "a..b", "192.168.5.4", "xn--abc",
                          "abc-s3alias", "abc--ol-s3", "a_b", "a b",
                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}) {
    INFO(bad);
    Status s = ValidateBucketName(bad);
    CHECK(s.code() == Code::kInvalidBucketName);
  }
}

}  // namespace shoal::store
