#include "crypto/root_key.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "base/file_util.h"
#include "base/temp_dir.h"

namespace shoal::crypto {
namespace {

// A fresh directory, removed with its contents at scope exit.

Key TestKey(unsigned char fill) {
  Key key;
  key.bytes.fill(fill);
  return key;
}

}  // namespace

TEST_CASE("a root key is created on first use and reloads to the same key", "[crypto]") {
  TempDir dir;
  const std::string path = dir.path() + "/root.key";
  auto first = RootKey::LoadOrCreate(path);
  REQUIRE(first.ok());

  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(st.st_size == static_cast<off_t>(kKeyBytes));
  CHECK((st.st_mode & 0777) == 0600);

  const Key data_key = TestKey(0x5a);
  auto wrapped = (*first)->Wrap(data_key, "blob-1");
  REQUIRE(wrapped.ok());
  CHECK(wrapped->size() == RootKey::kWrappedBytes);

  auto second = RootKey::LoadOrCreate(path);
  REQUIRE(second.ok());
  auto unwrapped = (*second)->Unwrap(*wrapped, "blob-1");
  REQUIRE(unwrapped.ok());
  CHECK(unwrapped->bytes == data_key.bytes);

  // And the other way round.
  auto back = (*second)->Wrap(data_key, "blob-2");
  REQUIRE(back.ok());
  auto again = (*first)->Unwrap(*back, "blob-2");
  REQUIRE(again.ok());
  CHECK(again->bytes == data_key.bytes);
}

TEST_CASE("unwrapping fails as Corrupt with another context, root key or damage", "[crypto]") {
  auto root = RootKey::FromKey(TestKey(1));
  auto other = RootKey::FromKey(TestKey(2));
  auto wrapped = root->Wrap(TestKey(9), "ctx");
  REQUIRE(wrapped.ok());
  CHECK(root->Unwrap(*wrapped, "ctx").ok());
  CHECK(root->Unwrap(*wrapped, "ctX").status().code() == Code::kCorrupt);
  CHECK(other->Unwrap(*wrapped, "ctx").status().code() == Code::kCorrupt);
  for (std::size_t i = 0; i < wrapped->size(); ++i) {
    std::string bad = *wrapped;
    bad[i] = static_cast<char>(bad[i] ^ 0x80);
    CHECK(root->Unwrap(bad, "ctx").status().code() == Code::kCorrupt);
  }
  CHECK(root->Unwrap(wrapped->substr(1), "ctx").status().code() == Code::kCorrupt);
  CHECK(root->Unwrap("", "ctx").status().code() == Code::kCorrupt);
}

TEST_CASE("two wraps of the same key differ (fresh nonces)", "[crypto]") {
  auto root = RootKey::FromKey(TestKey(1));
  auto a = root->Wrap(TestKey(3), "ctx");
  auto b = root->Wrap(TestKey(3), "ctx");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(*a != *b);
}

TEST_CASE("a root key file of the wrong size is Corrupt", "[crypto]") {
  TempDir dir;
  const std::string path = dir.path() + "/root.key";
  for (std::size_t size : {0u, 1u, 31u, 33u, 64u}) {
    REQUIRE(WriteFileDurably(path, std::string(size, 'k'), 0600).ok());
    auto root = RootKey::LoadOrCreate(path);
    CHECK(root.status().code() == Code::kCorrupt);
  }
  // It is not replaced.
  auto content = ReadFile(path);
  REQUIRE(content.ok());
  CHECK(content->size() == 64);
}

TEST_CASE("a root key open to group or others is refused, and left as it is", "[crypto]") {
  TempDir dir;
  const std::string path = dir.path() + "/root.key";
  REQUIRE(RootKey::LoadOrCreate(path).ok());
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  for (mode_t mode : {0640u, 0604u, 0620u, 0602u, 0644u, 0666u}) {
    REQUIRE(::chmod(path.c_str(), mode) == 0);
    auto root = RootKey::LoadOrCreate(path);
    REQUIRE_FALSE(root.ok());
    CHECK(root.status().code() == Code::kAccessDenied);
    CHECK(root.status().message().find("chmod 600") != std::string::npos);
  }
  auto content = ReadFile(path);
  REQUIRE(content.ok());
  CHECK(content->size() == kKeyBytes);
  REQUIRE(::chmod(path.c_str(), 0400) == 0);  // stricter is fine
  CHECK(RootKey::LoadOrCreate(path).ok());
}

TEST_CASE("a root key that is not a regular file is refused", "[crypto]") {
  TempDir dir;
  const std::string path = dir.path() + "/root.key";
  REQUIRE(::mkdir(path.c_str(), 0700) == 0);
  CHECK(RootKey::LoadOrCreate(path).status().code() == Code::kCorrupt);
}

TEST_CASE("a root key in a missing directory fails with the OS error", "[crypto]") {
  TempDir dir;
  auto root = RootKey::LoadOrCreate(dir.path() + "/absent/root.key");
  CHECK_FALSE(root.ok());
  CHECK(root.status().code() == Code::kNoSuchKey);
}

}  // namespace shoal::crypto
