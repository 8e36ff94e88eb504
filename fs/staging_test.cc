#include "fs/staging.h"

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "base/coding.h"
#include "crypto/aead.h"

namespace shoal::fs {
namespace {

// A temporary store directory with a blob store under it.
struct Fixture {
  std::string dir;
  std::unique_ptr<crypto::RootKey> root;
  std::unique_ptr<tiers::BlobStore> blobs;

  Fixture() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "shoal-staging-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    dir = tmpl;
    crypto::Key key;
    key.bytes.fill(3);
    root = crypto::RootKey::FromKey(key);
    auto opened = tiers::BlobStore::Open(dir + "/blobs", *root);
    REQUIRE(opened.ok());
    blobs = std::move(*opened);
  }
  ~Fixture() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  std::shared_ptr<Staging> NewStaging(std::shared_ptr<tiers::BlobReader> base = nullptr) {
    auto st = Staging::Create(dir, std::move(base), 100);
    REQUIRE(st.ok());
    return *st;
  }

  std::shared_ptr<tiers::BlobReader> Commit(Staging& st, std::string_view expected) {
    auto snap = st.Encode(*blobs, {});
    REQUIRE(snap.ok());
    CHECK(snap->blob.size == expected.size());
    crypto::Md5 md5;
    md5.Update(expected);
    CHECK(HexEncode(snap->blob.md5) == HexEncode(md5.Finish()));
    st.MarkCommitted(snap->generation);
    if (expected.empty()) {
      CHECK(snap->blob.id.empty());
      return nullptr;
    }
    // Small objects come back inline, larger ones as blob files.
    CHECK(snap->blob.image.empty() == (expected.size() > kInlineMaxBytes));
    auto reader = snap->blob.image.empty()
                      ? blobs->OpenReader(snap->blob.id, &snap->blob.key, nullptr)
                      : blobs->OpenInline(snap->blob.image, &snap->blob.key, nullptr);
    REQUIRE(reader.ok());
    std::string back(expected.size(), '\0');
    auto n = (*reader)->Read(0, back.data(), back.size());
    REQUIRE(n.ok());
    CHECK(back == expected);
    return std::move(*reader);
  }
};

std::string ReadAll(Staging& st) {
  std::string out(st.size(), '\0');
  auto n = st.Read(out.data(), out.size(), 0);
  REQUIRE(n.ok());
  out.resize(*n);
  return out;
}

}  // namespace

TEST_CASE("writes at any offset, reads and truncation behave as a file", "[fs][staging]") {
  Fixture f;
  auto st = f.NewStaging();
  CHECK_FALSE(st->dirty());
  REQUIRE(st->Write("hello", 0, 200).ok());
  REQUIRE(st->Write("world", 10, 201).ok());
  CHECK(st->dirty());
  CHECK(st->size() == 15);
  CHECK(st->mtime() == 201);
  CHECK(ReadAll(*st) == std::string("hello\0\0\0\0\0world", 15));
  REQUIRE(st->Truncate(3, 202).ok());
  CHECK(ReadAll(*st) == "hel");
  f.Commit(*st, "hel");
  CHECK_FALSE(st->dirty());
}

TEST_CASE("committed content is copied in only when first changed", "[fs][staging]") {
  Fixture f;
  auto first = f.NewStaging();
  REQUIRE(first->Write("0123456789", 0, 1).ok());
  auto base = f.Commit(*first, "0123456789");

  auto st = f.NewStaging(base);
  CHECK(st->size() == 10);
  CHECK_FALSE(st->dirty());
  CHECK(ReadAll(*st) == "0123456789");  // served from the blob
  st->SetMtime(5);                      // metadata only: still clean
  CHECK_FALSE(st->dirty());
  CHECK(st->mtime() == 5);
  REQUIRE(st->Write("ab", 4, 6).ok());
  CHECK(ReadAll(*st) == "0123ab6789");
  f.Commit(*st, "0123ab6789");

  auto emptied = f.NewStaging(base);
  REQUIRE(emptied->Truncate(0, 7).ok());  // needs none of the old bytes
  CHECK(emptied->dirty());
  f.Commit(*emptied, "");
}

TEST_CASE("a write after the snapshot keeps the staging dirty", "[fs][staging]") {
  Fixture f;
  auto st = f.NewStaging();
  REQUIRE(st->Write("one", 0, 1).ok());
  auto snap = st->Encode(*f.blobs, {});
  REQUIRE(snap.ok());
  REQUIRE(st->Write("two", 3, 2).ok());  // lands while the commit is in flight
  st->MarkCommitted(snap->generation);
  CHECK(st->dirty());
  f.Commit(*st, "onetwo");
  CHECK_FALSE(st->dirty());
}

TEST_CASE("objects stop at 5 TiB", "[fs][staging]") {
  Fixture f;
  auto st = f.NewStaging();
  CHECK(st->Write("x", kMaxObjectBytes, 1).code() == Code::kEntityTooLarge);
  CHECK(st->Truncate(kMaxObjectBytes + 1, 1).code() == Code::kEntityTooLarge);
  CHECK(st->size() == 0);
  CHECK_FALSE(st->dirty());
}

}  // namespace shoal::fs

namespace shoal::fs {
namespace {

// Open descriptors of anonymous staging files under `dir`.
int StagingFilesOpen(const std::string& dir) {
  int n = 0;
  for (const auto& fd : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(fd.path(), ec).string();
    if (!ec && target.rfind(dir + "/", 0) == 0) ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("small copies stay in memory; growing past the limit moves them to a file",
          "[fs][staging]") {
  Fixture f;
  auto st = f.NewStaging();
  REQUIRE(st->Write("head", 0, 1).ok());
  CHECK(StagingFilesOpen(f.dir) == 0);
  std::string expected = "head" + std::string(kMemoryLimit - 4, '\0') + "tail";
  REQUIRE(st->Write("tail", kMemoryLimit, 2).ok());  // crosses the limit
  CHECK(StagingFilesOpen(f.dir) == 1);
  CHECK(ReadAll(*st) == expected);
  auto base = f.Commit(*st, expected);

  auto grown = f.NewStaging();
  REQUIRE(grown->Write("ab", 0, 3).ok());
  REQUIRE(grown->Truncate(kMemoryLimit + 1, 4).ok());  // growth by truncation
  CHECK(ReadAll(*grown) == "ab" + std::string(kMemoryLimit - 1, '\0'));

  auto filled = f.NewStaging(base);  // a large base is copied into a file
  REQUIRE(filled->Write("H", 0, 5).ok());
  expected[0] = 'H';
  CHECK(ReadAll(*filled) == expected);
  f.Commit(*filled, expected);
}

TEST_CASE("copies beyond the memory budget are files from the start", "[fs][staging]") {
  Fixture f;
  std::vector<std::shared_ptr<Staging>> held;
  for (std::size_t i = 0; i < kMemoryBudget / kMemoryLimit; ++i) held.push_back(f.NewStaging());
  CHECK(StagingFilesOpen(f.dir) == 0);
  auto extra = f.NewStaging();
  CHECK(StagingFilesOpen(f.dir) == 1);
  REQUIRE(extra->Write("on disk", 0, 1).ok());
  f.Commit(*extra, "on disk");
  held.clear();  // their budget returns
  auto again = f.NewStaging();
  REQUIRE(again->Write("in memory", 0, 1).ok());
  CHECK(StagingFilesOpen(f.dir) == 1);  // only `extra` still has a file
  f.Commit(*again, "in memory");
}

}  // namespace shoal::fs

namespace shoal::fs {
namespace {

std::size_t BlobTemporaries(const std::string& dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir + "/blobs/tmp", ec)) {
    (void)e;
    ++n;
  }
  return n;
}

std::shared_ptr<Staging> NewStreamingStaging(Fixture& f) {
  auto st = Staging::Create(f.dir, nullptr, 100, Staging::StreamTarget{f.blobs.get(), {}});
  REQUIRE(st.ok());
  return *st;
}

std::string Pattern(std::size_t n) {
  std::string out(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    out[i] = static_cast<char>(static_cast<std::size_t>("shoal streams "[i % 14]) + i / 7919);
  return out;
}

}  // namespace

TEST_CASE("an appending writer's blob is encoded while it writes", "[fs][staging]") {
  Fixture f;
  auto st = NewStreamingStaging(f);
  const std::string data = Pattern(1 << 20);
  for (std::size_t pos = 0; pos < data.size(); pos += 60000) {
    REQUIRE(st->Write(std::string_view(data).substr(pos, 60000), pos, 1).ok());
    // Inline-sized so far: nothing streamed; past that: a blob in progress.
    CHECK(BlobTemporaries(f.dir) == (pos + 60000 > kInlineMaxBytes ? 1U : 0U));
  }
  f.Commit(*st, data);
  CHECK(BlobTemporaries(f.dir) == 0);
  // After a commit, further appends are not streamed (the next commit
  // encodes the whole copy), and the result is still right.
  REQUIRE(st->Write("tail", data.size(), 2).ok());
  CHECK(BlobTemporaries(f.dir) == 0);
  f.Commit(*st, data + "tail");
}

TEST_CASE("a write anywhere but the end drops the stream", "[fs][staging]") {
  Fixture f;
  std::string data = Pattern(300000);
  SECTION("an overwrite") {
    auto st = NewStreamingStaging(f);
    REQUIRE(st->Write(data, 0, 1).ok());
    CHECK(BlobTemporaries(f.dir) == 1);
    REQUIRE(st->Write("X", 10, 2).ok());
    CHECK(BlobTemporaries(f.dir) == 0);
    data[10] = 'X';
    f.Commit(*st, data);
  }
  SECTION("a hole") {
    auto st = NewStreamingStaging(f);
    REQUIRE(st->Write(data, 0, 1).ok());
    REQUIRE(st->Write("Y", data.size() + 5, 2).ok());
    CHECK(BlobTemporaries(f.dir) == 0);
    f.Commit(*st, data + std::string(5, '\0') + "Y");
  }
  SECTION("a truncation, after which appends from zero stream again") {
    auto st = NewStreamingStaging(f);
    REQUIRE(st->Write(data, 0, 1).ok());
    REQUIRE(st->Truncate(0, 2).ok());
    CHECK(BlobTemporaries(f.dir) == 0);
    REQUIRE(st->Write(data, 0, 3).ok());
    CHECK(BlobTemporaries(f.dir) == 1);
    f.Commit(*st, data);
  }
}
}  // namespace shoal::fs

namespace shoal::fs {

TEST_CASE("attribute amendments ride on the coming commit, only while dirty", "[fs][staging]") {
  Fixture f;
  auto st = f.NewStaging();
  CHECK_FALSE(st->AmendIfDirty({.mode = 0600}));  // clean: the caller commits it itself
  REQUIRE(st->Write("data", 0, 1).ok());
  REQUIRE(st->AmendIfDirty({.mode = 0600, .uid = 7, .mtime = 42}));
  CHECK(st->amended().mode == 0600u);
  CHECK(st->mtime() == 42);
  auto snap = st->Encode(*f.blobs, {});
  REQUIRE(snap.ok());
  CHECK(snap->amended.mode == 0600u);
  CHECK(snap->amended.uid == 7u);
  CHECK_FALSE(snap->amended.gid.has_value());
  // An amendment racing the commit keeps the copy dirty for the next one.
  REQUIRE(st->AmendIfDirty({.gid = 9}));
  st->MarkCommitted(snap->generation);
  CHECK(st->dirty());
  auto next = st->Encode(*f.blobs, {});
  REQUIRE(next.ok());
  CHECK(next->amended.gid == 9u);
  st->MarkCommitted(next->generation);
  CHECK_FALSE(st->dirty());
  CHECK_FALSE(st->amended().mode.has_value());  // recorded: nothing pending
}

}  // namespace shoal::fs
