#include "tiers/blob.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "base/coding.h"
#include "base/file_util.h"
#include "base/temp_dir.h"
#include "crypto/aead.h"
#include "tiers/blob_format.h"

namespace shoal::tiers {
namespace {

namespace fs = std::filesystem;

crypto::Key TestKey(unsigned char fill) {
  crypto::Key key;
  key.bytes.fill(fill);
  return key;
}

std::string RandomData(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

// Alternating stretches of text (compressible) and noise (incompressible).
std::string MixedData(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out;
  out.reserve(n);
  const std::string text = "the quick brown fox jumps over the lazy dog; ";
  while (out.size() < n) {
    std::size_t run = std::min<std::size_t>(n - out.size(), 1000 + rng() % 200000);
    if (rng() % 2 == 0) {
      for (std::size_t i = 0; i < run; ++i) out.push_back(text[i % text.size()]);
    } else {
      for (std::size_t i = 0; i < run; ++i) out.push_back(static_cast<char>(rng() & 0xff));
    }
  }
  return out;
}

std::string Md5Of(std::string_view data) {
  crypto::Md5 md5;
  md5.Update(data);
  return md5.Finish();
}

std::string ReadWholeFile(const std::string& path) {
  auto r = ReadFile(path);
  REQUIRE(r.ok());
  return *r;
}

void WriteWholeFile(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
  REQUIRE(f.good());
}

struct Fixture {
  TempDir tmp;
  std::unique_ptr<crypto::RootKey> root = crypto::RootKey::FromKey(TestKey(7));
  std::unique_ptr<BlobStore> store;

  Fixture() {
    auto s = BlobStore::Open(tmp.path() + "/blobs", *root);
    REQUIRE(s.ok());
    store = std::move(*s);
  }

  BlobInfo Put(std::string_view data, EncodeOptions options = {}, std::size_t piece = 65536) {
    auto w = store->NewWriter(options);
    REQUIRE(w.ok());
    for (std::size_t pos = 0; pos < data.size(); pos += piece) {
      REQUIRE((*w)->Append(data.substr(pos, piece)).ok());
    }
    auto info = (*w)->Finish();
    REQUIRE(info.ok());
    return *info;
  }

  std::unique_ptr<BlobReader> Open(const BlobInfo& info) {
    auto r = store->OpenReader(info.id, &info.key, OuterKeyOf(info));
    REQUIRE(r.ok());
    return std::move(*r);
  }

  std::size_t TempCount() const {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(tmp.path() + "/blobs/tmp")) {
      (void)e;
      ++n;
    }
    return n;
  }
};

// Reads the whole blob, or returns the first failure.
Result<std::string> ReadAll(BlobReader& reader) {
  std::string out(reader.size(), '\0');
  auto n = reader.Read(0, out.data(), out.size());
  if (!n.ok()) return n.status();
  if (*n != out.size()) return Internal("short read");
  return out;
}

// After damage, the blob must either refuse to open or refuse to read as
// Corrupt; it must never return data that differs from the original.
void ExpectCorrupt(Fixture& f, const BlobInfo& info, const std::string& original) {
  auto r = f.store->OpenReader(info.id, &info.key, nullptr);
  if (!r.ok()) {
    CHECK(r.status().code() == Code::kCorrupt);
    return;
  }
  auto data = ReadAll(**r);
  if (data.ok()) {
    FAIL_CHECK("damaged blob read back without error");
    CHECK(*data == original);
  } else {
    CHECK(data.status().code() == Code::kCorrupt);
  }
}

}  // namespace

TEST_CASE("blobs of edge-case sizes round-trip with their MD5", "[blob]") {
  Fixture f;
  EncodeOptions options;
  options.chunk_size = 4096;
  for (std::size_t size : {0u, 1u, 4095u, 4096u, 4097u, 3u * 4096u, 3u * 4096u + 17u}) {
    CAPTURE(size);
    const std::string data = MixedData(size, static_cast<std::uint32_t>(size));
    for (std::size_t piece : {1000u, 4096u, 70000u}) {
      CAPTURE(piece);
      BlobInfo info = f.Put(data, options, piece);
      CHECK(info.id.size() == kBlobIdBytes);
      CHECK(info.size == size);
      CHECK(info.md5 == Md5Of(data));
      CHECK(info.stored_bytes == fs::file_size(f.store->PathOf(info.id)));
      auto reader = f.Open(info);
      CHECK(reader->size() == size);
      CHECK(reader->md5() == info.md5);
      auto back = ReadAll(*reader);
      REQUIRE(back.ok());
      CHECK(*back == data);
    }
  }
}

TEST_CASE("reads at random offsets match the source", "[blob]") {
  Fixture f;
  const std::string data = MixedData(5u << 20, 42);
  BlobInfo info = f.Put(data, {}, 100000);
  CHECK(info.md5 == Md5Of(data));
  auto reader = f.Open(info);
  std::mt19937 rng(1);
  std::string buf;
  for (int i = 0; i < 300; ++i) {
    const std::uint64_t offset = rng() % (data.size() + 10);
    const std::size_t len = rng() % 3 == 0 ? rng() % 700000 : rng() % 5000;
    buf.assign(len, '\0');
    auto n = reader->Read(offset, buf.data(), len);
    REQUIRE(n.ok());
    const std::size_t expect =
        offset >= data.size() ? 0 : std::min<std::size_t>(len, data.size() - offset);
    REQUIRE(*n == expect);
    CHECK(buf.compare(0, expect, data, offset, expect) == 0);
  }
  // Exactly at the end, and beyond.
  char c = 'x';
  CHECK(*reader->Read(data.size(), &c, 1) == 0);
  CHECK(*reader->Read(data.size() - 1, &c, 1) == 1);
  CHECK(c == data.back());
}

TEST_CASE("a reader serves many threads at once", "[blob]") {
  Fixture f;
  EncodeOptions options;
  options.chunk_size = 8192;
  const std::string data = MixedData(1u << 20, 9);
  BlobInfo info = f.Put(data, options);
  auto reader = f.Open(info);
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (std::uint32_t t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      std::string buf;
      for (int i = 0; i < 200; ++i) {
        const std::uint64_t offset = rng() % data.size();
        const std::size_t len = rng() % 20000;
        buf.assign(len, '\0');
        auto n = reader->Read(offset, buf.data(), len);
        if (!n.ok() || buf.compare(0, *n, data, offset, *n) != 0) ++bad;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(bad == 0);
}

TEST_CASE("incompressible chunks are stored raw and text is compressed", "[blob]") {
  Fixture f;
  EncodeOptions options;
  options.chunk_size = 16384;
  const std::size_t chunks = 5;
  const std::string noise = RandomData(chunks * options.chunk_size - 100, 3);
  BlobInfo info = f.Put(noise, options);
  // Raw chunks store exactly plaintext + tag; anything else would differ.
  const std::size_t expect = format::kHeaderBytes + noise.size() + chunks * crypto::kTagBytes +
                             chunks * format::kIndexEntryBytes + format::kIndexTrailerBytes +
                             crypto::kTagBytes + format::kFooterBytes;
  CHECK(info.stored_bytes == expect);

  const std::string text(1u << 20, 'a');
  BlobInfo small = f.Put(text, options);
  CHECK(small.stored_bytes < text.size() / 20);
  auto back = ReadAll(*f.Open(small));
  REQUIRE(back.ok());
  CHECK(*back == text);
}

TEST_CASE("damage anywhere in a blob file is Corrupt, never wrong data", "[blob]") {
  Fixture f;
  EncodeOptions options;
  options.chunk_size = 4096;
  const std::string data = MixedData(std::size_t{4} * 4096 + 1000, 5);
  BlobInfo info = f.Put(data, options);
  const std::string path = f.store->PathOf(info.id);
  const std::string pristine = ReadWholeFile(path);
  REQUIRE(pristine.size() == info.stored_bytes);
  const std::size_t footer_at = pristine.size() - format::kFooterBytes;
  const std::uint64_t index_at =
      LoadFixed64(reinterpret_cast<const unsigned char*>(pristine.data() + footer_at));

  auto flip_and_check = [&](std::size_t at) {
    CAPTURE(at);
    std::string bad = pristine;
    bad[at] = static_cast<char>(bad[at] ^ 0x04);
    WriteWholeFile(path, bad);
    ExpectCorrupt(f, info, data);
  };

  SECTION("every header byte") {
    for (std::size_t i = 0; i < format::kHeaderBytes; ++i) flip_and_check(i);
  }
  SECTION("bytes in chunks") {
    for (std::size_t i = format::kHeaderBytes; i < index_at; i += 97) flip_and_check(i);
    flip_and_check(index_at - 1);
  }
  SECTION("every index byte") {
    for (std::size_t i = index_at; i < footer_at; ++i) flip_and_check(i);
  }
  SECTION("every footer byte") {
    for (std::size_t i = footer_at; i < pristine.size(); ++i) flip_and_check(i);
  }
  SECTION("truncation at any length") {
    for (std::size_t n = 0; n < pristine.size();
         n += (n < 200 || n + 200 > pristine.size()) ? 1u : 61u) {
      CAPTURE(n);
      WriteWholeFile(path, pristine.substr(0, n));
      auto r = f.store->OpenReader(info.id, &info.key, nullptr);
      CHECK(r.status().code() == Code::kCorrupt);
    }
  }
  SECTION("appended garbage") {
    WriteWholeFile(path, pristine + "x");
    CHECK(f.store->OpenReader(info.id, &info.key, nullptr).status().code() == Code::kCorrupt);
  }
  SECTION("a damaged chunk fails only reads that touch it") {
    std::string bad = pristine;
    bad[format::kHeaderBytes + 10] = static_cast<char>(bad[format::kHeaderBytes + 10] ^ 1);
    WriteWholeFile(path, bad);
    auto reader = f.Open(info);
    char buf[100];
    CHECK(reader->Read(0, buf, sizeof buf).status().code() == Code::kCorrupt);
    auto n = reader->Read(4096, buf, sizeof buf);
    REQUIRE(n.ok());
    CHECK(std::string_view(buf, *n) == std::string_view(data).substr(4096, sizeof buf));
  }
}

TEST_CASE("swapping two equal-size chunks is Corrupt", "[blob]") {
  Fixture f;
  EncodeOptions options;
  options.chunk_size = 4096;
  const std::string data = RandomData(std::size_t{3} * 4096, 11);  // raw: equal stored sizes
  BlobInfo info = f.Put(data, options);
  const std::string path = f.store->PathOf(info.id);
  std::string file = ReadWholeFile(path);
  const std::size_t stored = 4096 + crypto::kTagBytes;
  const std::size_t c0 = format::kHeaderBytes;
  const std::size_t c1 = c0 + stored;
  const std::string first = file.substr(c0, stored);
  file.replace(c0, stored, file.substr(c1, stored));
  file.replace(c1, stored, first);
  WriteWholeFile(path, file);
  auto reader = f.Open(info);  // index and header are intact
  char buf[10];
  CHECK(reader->Read(0, buf, sizeof buf).status().code() == Code::kCorrupt);
  CHECK(reader->Read(4096, buf, sizeof buf).status().code() == Code::kCorrupt);
  auto n = reader->Read(8192, buf, sizeof buf);
  REQUIRE(n.ok());
  CHECK(std::string_view(buf, *n) == std::string_view(data).substr(8192, sizeof buf));
}

TEST_CASE("a blob file copied under another id's name is Corrupt", "[blob]") {
  Fixture f;
  BlobInfo a = f.Put("contents of a");
  BlobInfo b = f.Put("contents of b");
  fs::copy_file(f.store->PathOf(a.id), f.store->PathOf(b.id), fs::copy_options::overwrite_existing);
  CHECK(f.store->OpenReader(b.id, &b.key, nullptr).status().code() == Code::kCorrupt);
  CHECK(f.store->OpenReader(b.id, &a.key, nullptr).status().code() == Code::kCorrupt);

  // Rewriting the header's id to match the name does not help either.
  std::string file = ReadWholeFile(f.store->PathOf(a.id));
  file.replace(format::kHeaderMagic.size() + 6, kBlobIdBytes, b.id);
  WriteWholeFile(f.store->PathOf(b.id), file);
  CHECK(f.store->OpenReader(b.id, &b.key, nullptr).status().code() == Code::kCorrupt);
  CHECK(f.store->OpenReader(b.id, &a.key, nullptr).status().code() == Code::kCorrupt);
}

TEST_CASE("a blob opens only under its own data key", "[blob]") {
  Fixture f;
  BlobInfo a = f.Put("contents of a");
  BlobInfo b = f.Put("contents of b");
  CHECK(a.key.bytes != b.key.bytes);
  CHECK(f.store->OpenReader(a.id, &b.key, nullptr).status().code() == Code::kCorrupt);
  // A blob of the current format carries no key: without one it cannot open.
  CHECK(f.store->OpenReader(a.id, nullptr, nullptr).status().code() == Code::kCorrupt);
  // Nor is the key anywhere in the file.
  const std::string file = ReadWholeFile(f.store->PathOf(a.id));
  CHECK(file.find(std::string(a.key.bytes.begin(), a.key.bytes.end())) == std::string::npos);
}

TEST_CASE("a dual-layer blob is sealed twice, under two independent keys", "[blob]") {
  Fixture f;
  const std::string data = MixedData(300 * 1024 + 17, 31);
  BlobInfo info = f.Put(data, EncodeOptions{.chunk_size = 64 * 1024, .dual_layer = true});
  REQUIRE(info.outer_key.has_value());
  CHECK(info.outer_key->bytes != info.key.bytes);
  const std::string file = ReadWholeFile(f.store->PathOf(info.id));
  CHECK(static_cast<unsigned char>(file[format::kHeaderMagic.size()]) ==
        format::kDualLayerFormatVersion);
  auto all = ReadAll(*f.Open(info));
  REQUIRE(all.ok());
  CHECK(*all == data);
  // Both layers are needed: either key alone, or the two swapped, opens nothing.
  CHECK(f.store->OpenReader(info.id, &info.key, nullptr).status().code() == Code::kCorrupt);
  CHECK(f.store->OpenReader(info.id, &*info.outer_key, nullptr).status().code() == Code::kCorrupt);
  CHECK(f.store->OpenReader(info.id, &*info.outer_key, &info.key).status().code() ==
        Code::kCorrupt);
  const crypto::Key other = TestKey(9);
  CHECK(f.store->OpenReader(info.id, &info.key, &other).status().code() == Code::kCorrupt);
  CHECK(f.store->OpenReader(info.id, &other, &*info.outer_key).status().code() == Code::kCorrupt);
  // A single-layer blob does not pass for a dual-layer one, nor the reverse.
  BlobInfo single = f.Put(data);
  CHECK(f.store->OpenReader(single.id, &single.key, &*info.outer_key).status().code() ==
        Code::kCorrupt);
  // Each chunk carries one more tag than a single-layer one.
  CHECK(info.stored_bytes > single.stored_bytes);
}

TEST_CASE("every damaged byte of a dual-layer blob's chunks is Corrupt", "[blob]") {
  Fixture f;
  const std::string data = MixedData(10000, 5);
  BlobInfo info = f.Put(data, EncodeOptions{.chunk_size = 4096, .dual_layer = true});
  const std::string path = f.store->PathOf(info.id);
  const std::string file = ReadWholeFile(path);
  for (std::size_t at = format::kHeaderBytes; at < file.size(); at += 97) {
    std::string damaged = file;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x20);
    WriteWholeFile(path, damaged);
    auto r = f.store->OpenReader(info.id, &info.key, OuterKeyOf(info));
    if (r.ok()) CHECK(ReadAll(**r).status().code() == Code::kCorrupt);
  }
  WriteWholeFile(path, file);
  auto inline_writer = f.store->NewInlineWriter(EncodeOptions{.dual_layer = true});
  REQUIRE(inline_writer.ok());
  REQUIRE((*inline_writer)->Append("a small dual-layer object").ok());
  auto small = (*inline_writer)->Finish();
  REQUIRE(small.ok());
  auto r = f.store->OpenInline(small->image, &small->key, OuterKeyOf(*small));
  REQUIRE(r.ok());
  CHECK(*ReadAll(**r) == "a small dual-layer object");
  CHECK(f.store->OpenInline(small->image, &small->key, nullptr).status().code() == Code::kCorrupt);
}

// Rewrites a format-2 blob file as format 1: the data key wrapped by `root`
// for the blob id at the end of the header, and the index resealed with the
// longer header as its AAD. Chunk offsets move by the wrapped key's length.
std::string AsFormatOne(const std::string& file, const BlobInfo& info,
                        const crypto::RootKey& root) {
  format::Header header;
  REQUIRE(
      format::DecodeHeader(std::string_view(file).substr(0, format::kHeaderBytes), header).ok());
  auto wrapped = root.Wrap(info.key, info.id);
  REQUIRE(wrapped.ok());
  header.format = format::kLegacyFormatVersion;
  header.wrapped_key = *wrapped;
  const std::string new_header = format::EncodeHeader(header);
  const std::string_view old_header = std::string_view(file).substr(0, format::kHeaderBytes);

  format::Footer footer;
  REQUIRE(format::DecodeFooter(std::string_view(file).substr(file.size() - format::kFooterBytes),
                               file.size(), footer)
              .ok());
  std::string index_plain;
  REQUIRE(crypto::Open(info.key, format::IndexNonce(), old_header,
                       std::string_view(file).substr(footer.index_offset, footer.index_len),
                       index_plain)
              .ok());
  format::Index index;
  REQUIRE(format::DecodeIndex(index_plain, header.chunk_size, format::kHeaderBytes,
                              footer.index_offset, crypto::kTagBytes, index)
              .ok());
  const std::size_t shift = new_header.size() - format::kHeaderBytes;
  for (format::ChunkEntry& c : index.chunks) c.offset += shift;
  std::string sealed_index;
  REQUIRE(crypto::Seal(info.key, format::IndexNonce(), new_header, format::EncodeIndex(index),
                       sealed_index)
              .ok());
  std::string out = new_header;
  out += std::string_view(file).substr(format::kHeaderBytes,
                                       footer.index_offset - format::kHeaderBytes);
  const std::uint64_t index_offset = out.size();
  out += sealed_index;
  out += format::EncodeFooter(
      {.index_offset = index_offset, .index_len = static_cast<std::uint32_t>(sealed_index.size())});
  return out;
}

TEST_CASE("a format-1 blob (key in its header) still opens, with or without a key", "[blob]") {
  Fixture f;
  const std::string data = MixedData(200000, 5);
  BlobInfo info = f.Put(data);
  const std::string path = f.store->PathOf(info.id);
  WriteWholeFile(path, AsFormatOne(ReadWholeFile(path), info, *f.root));
  for (const crypto::Key* key : std::array<const crypto::Key*, 2>{nullptr, &info.key}) {
    auto r = f.store->OpenReader(info.id, key, nullptr);
    REQUIRE(r.ok());
    auto back = ReadAll(**r);
    REQUIRE(back.ok());
    CHECK(*back == data);
  }
  // Under another root key its header key does not unwrap.
  auto other_root = crypto::RootKey::FromKey(TestKey(8));
  auto other = BlobStore::Open(f.tmp.path() + "/blobs", *other_root);
  REQUIRE(other.ok());
  CHECK((*other)->OpenReader(info.id, nullptr, nullptr).status().code() == Code::kCorrupt);
  // Its header's wrapped key is covered too: a flipped byte there is Corrupt.
  std::string file = ReadWholeFile(path);
  file[format::kHeaderBytes + 20] = static_cast<char>(file[format::kHeaderBytes + 20] ^ 1);
  WriteWholeFile(path, file);
  CHECK(f.store->OpenReader(info.id, nullptr, nullptr).status().code() == Code::kCorrupt);
}

TEST_CASE("a missing blob is NoSuchKey", "[blob]") {
  Fixture f;
  CHECK(f.store->OpenReader(std::string(kBlobIdBytes, 'z'), nullptr, nullptr).status().code() ==
        Code::kNoSuchKey);
}

TEST_CASE("List, Remove and SweepTemporaries manage the files", "[blob]") {
  Fixture f;
  BlobInfo a = f.Put("a");
  BlobInfo b = f.Put("");
  BlobInfo c = f.Put(MixedData(300000, 1));
  auto listed = f.store->List();
  REQUIRE(listed.ok());
  std::vector<std::string> want = {a.id, b.id, c.id};
  std::sort(want.begin(), want.end());
  std::sort(listed->begin(), listed->end());
  CHECK(*listed == want);
  CHECK(f.store->PathOf(a.id) ==
        f.tmp.path() + "/blobs/" + HexEncode(a.id).substr(0, 2) + "/" + HexEncode(a.id));

  // Strays that are not blob names are skipped.
  const std::string blobs = f.tmp.path() + "/blobs";
  WriteWholeFile(blobs + "/stray", "x");
  fs::create_directory(blobs + "/zz");
  WriteWholeFile(blobs + "/zz/" + std::string(32, 'z'), "x");
  const std::string shard = HexEncode(a.id).substr(0, 2);
  WriteWholeFile(blobs + "/" + shard + "/not-a-blob", "x");
  WriteWholeFile(blobs + "/" + shard + "/" + std::string(32, 'A'), "x");

  REQUIRE(f.store->Remove(b.id).ok());
  REQUIRE(f.store->Remove(b.id).ok());  // already gone is fine
  CHECK(f.store->OpenReader(b.id, &b.key, nullptr).status().code() == Code::kNoSuchKey);
  listed = f.store->List();
  REQUIRE(listed.ok());
  CHECK(listed->size() == 2);

  // Temporaries: leftovers go, a live writer's file stays.
  WriteWholeFile(blobs + "/tmp/leftover1.tmp", "x");
  WriteWholeFile(blobs + "/tmp/leftover2.tmp", "y");
  auto live = f.store->NewWriter({});
  REQUIRE(live.ok());
  REQUIRE((*live)->Append("in progress").ok());
  CHECK(f.TempCount() == 3);
  auto swept = f.store->SweepTemporaries();
  REQUIRE(swept.ok());
  CHECK(*swept == 2);
  CHECK(f.TempCount() == 1);
  auto info = (*live)->Finish();
  REQUIRE(info.ok());
  CHECK(f.TempCount() == 0);
  auto back = ReadAll(*f.Open(*info));
  REQUIRE(back.ok());
  CHECK(*back == "in progress");
  CHECK(*f.store->SweepTemporaries() == 0);
}

TEST_CASE("a dropped writer leaves no temporary file", "[blob]") {
  Fixture f;
  {
    auto w = f.store->NewWriter({});
    REQUIRE(w.ok());
    REQUIRE((*w)->Append(MixedData(600000, 2)).ok());
    CHECK(f.TempCount() == 1);
  }
  CHECK(f.TempCount() == 0);
  auto listed = f.store->List();
  REQUIRE(listed.ok());
  CHECK(listed->empty());
}

TEST_CASE("a finished writer refuses more work", "[blob]") {
  Fixture f;
  auto w = f.store->NewWriter({});
  REQUIRE(w.ok());
  REQUIRE((*w)->Finish().ok());
  CHECK_FALSE((*w)->Append("x").ok());
  CHECK_FALSE((*w)->Finish().ok());
}

TEST_CASE("writer options out of range are InvalidArgument", "[blob]") {
  Fixture f;
  EncodeOptions zero;
  zero.chunk_size = 0;
  CHECK(f.store->NewWriter(zero).status().code() == Code::kInvalidArgument);
  EncodeOptions huge;
  huge.chunk_size = format::kMaxChunkSize + 1;
  CHECK(f.store->NewWriter(huge).status().code() == Code::kInvalidArgument);
  EncodeOptions level;
  level.zstd_level = 99;
  CHECK(f.store->NewWriter(level).status().code() == Code::kInvalidArgument);
}

}  // namespace shoal::tiers

namespace shoal::tiers {

TEST_CASE("inline blobs round-trip without a file and verify like files", "[blob]") {
  Fixture f;
  for (std::size_t size : {std::size_t{1}, std::size_t{4096}, std::size_t{70000}}) {
    const std::string data = MixedData(size, static_cast<std::uint32_t>(size));
    auto w = f.store->NewInlineWriter({.zstd_level = 1, .chunk_size = 65536});
    REQUIRE(w.ok());
    REQUIRE((*w)->Append(data).ok());
    auto info = (*w)->Finish();
    REQUIRE(info.ok());
    CHECK(info->size == size);
    CHECK(info->stored_bytes == info->image.size());
    CHECK(f.TempCount() == 0);
    auto listed = f.store->List();
    REQUIRE(listed.ok());
    CHECK(listed->empty());  // nothing on disk
    auto r = f.store->OpenInline(info->image, &info->key, nullptr);
    REQUIRE(r.ok());
    CHECK((*r)->md5() == info->md5);
    auto back = ReadAll(**r);
    REQUIRE(back.ok());
    CHECK(*back == data);

    // Any flipped byte: Corrupt, at open or at read, never other data.
    for (std::size_t at = 0; at < info->image.size(); at += 97) {
      std::string damaged = info->image;
      damaged[at] = static_cast<char>(damaged[at] ^ 0x20);
      auto bad = f.store->OpenInline(damaged, &info->key, nullptr);
      if (!bad.ok()) {
        CHECK(bad.status().code() == Code::kCorrupt);
        continue;
      }
      auto got = ReadAll(**bad);
      REQUIRE_FALSE(got.ok());
      CHECK(got.status().code() == Code::kCorrupt);
    }
    // Truncated: Corrupt.
    auto cut =
        f.store->OpenInline(info->image.substr(0, info->image.size() - 1), &info->key, nullptr);
    REQUIRE_FALSE(cut.ok());
    CHECK(cut.status().code() == Code::kCorrupt);
  }
}

TEST_CASE("an inline blob opens only under its own data key", "[blob]") {
  Fixture f;
  auto w = f.store->NewInlineWriter({});
  REQUIRE(w.ok());
  REQUIRE((*w)->Append("secret").ok());
  auto info = (*w)->Finish();
  REQUIRE(info.ok());
  CHECK(info->image.find("secret") == std::string::npos);
  const crypto::Key other_key = TestKey(8);
  auto r = f.store->OpenInline(info->image, &other_key, nullptr);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kCorrupt);
  CHECK(f.store->OpenInline(info->image, nullptr, nullptr).status().code() == Code::kCorrupt);
}

}  // namespace shoal::tiers
