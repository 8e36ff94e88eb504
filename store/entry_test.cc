#include "store/entry.h"

#include <zlib.h>

#include <catch2/catch.hpp>
#include <random>

#include "base/coding.h"

namespace shoal::store {
namespace {

Entry Sample(EntryKind kind) {
  Entry e;
  e.id = 0x123456789ull;
  e.kind = kind;
  e.mode = 0755;
  e.uid = 1000;
  e.gid = 4294967295u;
  e.mtime = 1'700'000'000'123'456'789;
  e.ctime = -5;  // before the epoch: times are signed
  e.created = 42;
  e.marker = kind == EntryKind::kDirectory ? false : true;
  if (kind == EntryKind::kFile) {
    e.size = 1ull << 40;
    e.blob_id = std::string(16, '\xab');
    e.md5 = std::string("0123456789abcdef");
    e.storage_class = "GLACIER";
    e.sse = "aws:kms";
    e.version_id = "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY";
    e.class_since = 77;
    e.stored_bytes = 123456;
    e.access_tier = 3;
    e.last_access = 88;
    e.restore = {.phase = 2, .tier = 1, .days = 30000, .requested = 1, .ready_at = 2, .expiry = 3};
    e.delete_marker = true;
    e.noncurrent_since = -99;
    e.key_envelope = std::string("\1\1") + std::string(60, '\x5a');
  }
  if (kind == EntryKind::kSymlink) e.symlink_target = "../some/where";
  e.xattrs = {{"user.s3.meta.color", "blue"},
              {"user.s3.meta.empty", ""},
              {"user.z", std::string("\0\1\2", 3)}};
  return e;
}

void CheckSame(const Entry& a, const Entry& b) {
  CHECK(a.id == b.id);
  CHECK(a.kind == b.kind);
  CHECK(a.mode == b.mode);
  CHECK(a.uid == b.uid);
  CHECK(a.gid == b.gid);
  CHECK(a.mtime == b.mtime);
  CHECK(a.ctime == b.ctime);
  CHECK(a.created == b.created);
  CHECK(a.marker == b.marker);
  CHECK(a.size == b.size);
  CHECK(a.blob_id == b.blob_id);
  CHECK(a.md5 == b.md5);
  CHECK(a.storage_class == b.storage_class);
  CHECK(a.sse == b.sse);
  CHECK(a.version_id == b.version_id);
  CHECK(a.symlink_target == b.symlink_target);
  CHECK(a.xattrs == b.xattrs);
  CHECK(a.class_since == b.class_since);
  CHECK(a.stored_bytes == b.stored_bytes);
  CHECK(a.access_tier == b.access_tier);
  CHECK(a.last_access == b.last_access);
  CHECK(a.restore == b.restore);
  CHECK(a.delete_marker == b.delete_marker);
  CHECK(a.noncurrent_since == b.noncurrent_since);
  CHECK(a.key_envelope == b.key_envelope);
}

const EntryKind kAllKinds[] = {EntryKind::kBucket, EntryKind::kDirectory, EntryKind::kFile,
                               EntryKind::kSymlink};

TEST_CASE("every kind of entry survives an encode/decode round trip", "[store][entry]") {
  for (EntryKind kind : kAllKinds) {
    Entry e = Sample(kind);
    Result<Entry> d = DecodeEntry(EncodeEntry(e));
    REQUIRE(d.ok());
    CheckSame(e, *d);
  }
  Entry defaults;
  Result<Entry> d = DecodeEntry(EncodeEntry(defaults));
  REQUIRE(d.ok());
  CheckSame(defaults, *d);
}

TEST_CASE("every truncation of an encoded entry is Corrupt", "[store][entry]") {
  for (EntryKind kind : kAllKinds) {
    std::string enc = EncodeEntry(Sample(kind));
    for (std::size_t cut = 0; cut < enc.size(); ++cut) {
      Result<Entry> d = DecodeEntry(std::string_view(enc).substr(0, cut));
      REQUIRE_FALSE(d.ok());
      CHECK(d.status().code() == Code::kCorrupt);
    }
  }
}

TEST_CASE("trailing bytes, unknown versions and unknown kinds are Corrupt", "[store][entry]") {
  std::string enc = EncodeEntry(Sample(EntryKind::kFile));
  CHECK(DecodeEntry(enc + "x").status().code() == Code::kCorrupt);

  std::string bad_version = enc;
  bad_version[0] = 6;
  CHECK(DecodeEntry(bad_version).status().code() == Code::kCorrupt);

  Entry e = Sample(EntryKind::kFile);
  e.id = 1;  // one-byte varint, so the kind is byte 2
  std::string bad_kind = EncodeEntry(e);
  for (char k : {'\0', '\5', '\xff'}) {
    bad_kind[2] = k;
    CHECK(DecodeEntry(bad_kind).status().code() == Code::kCorrupt);
  }
}

TEST_CASE("out-of-range fields are Corrupt", "[store][entry]") {
  auto rejects = [](const Entry& e) {
    Result<Entry> d = DecodeEntry(EncodeEntry(e));
    return !d.ok() && d.status().code() == Code::kCorrupt;
  };
  Entry e = Sample(EntryKind::kFile);
  SECTION("mode above 07777") {
    e.mode = 010000;
    CHECK(rejects(e));
  }
  SECTION("blob id of neither 0 nor 16 bytes") {
    e.blob_id = std::string(15, 'b');
    CHECK(rejects(e));
  }
  SECTION("md5 of neither 0 nor 16 bytes") {
    e.md5 = std::string(17, 'm');
    CHECK(rejects(e));
  }
  SECTION("an xattr name over 255 bytes") {
    e.xattrs.emplace_back(std::string(256, 'n'), "v");
    CHECK(rejects(e));
  }
  SECTION("an xattr value over 64 KiB") {
    e.xattrs.emplace_back("user.big", std::string(std::size_t{64} * 1024 + 1, 'v'));
    CHECK(rejects(e));
  }
  SECTION("more than 4096 xattrs") {
    e.xattrs.assign(4097, {"n", "v"});
    CHECK(rejects(e));
  }
  SECTION("a symlink target over 4096 bytes") {
    e.kind = EntryKind::kSymlink;
    e.symlink_target = std::string(4097, 't');
    CHECK(rejects(e));
  }
  SECTION("the largest allowed values still decode") {
    e.mode = 07777;
    e.xattrs.assign(4096, {std::string(255, 'n'), "v"});
    e.xattrs.back().second = std::string(std::size_t{64} * 1024, 'v');
    CHECK_FALSE(rejects(e));
  }
}

TEST_CASE("any damaged byte of an entry is Corrupt, never a different entry", "[store][entry]") {
  for (EntryKind kind : kAllKinds) {
    const std::string enc = EncodeEntry(Sample(kind));
    for (std::size_t at = 0; at < enc.size(); ++at) {
      for (int flip : {0x01, 0x80, 0xff}) {
        std::string damaged = enc;
        damaged[at] = static_cast<char>(damaged[at] ^ flip);
        INFO("byte " << at << " xor " << flip);
        CHECK(DecodeEntry(damaged).status().code() == Code::kCorrupt);
      }
    }
  }
}

// The bytes of `e` as format `version` (1, 2 or 3) wrote them: without the
// version state, for versions 1 and 2 without the class state, and for
// version 1 without the CRC. REQUIRES: the state the old format lacks is
// what the decoder fills in for old entries.
std::string OlderEncoding(const Entry& e, int version) {
  std::string enc = EncodeEntry(e);
  std::string stored;
  PutVarint(stored, e.stored_bytes);
  std::string days;
  PutVarint(days, static_cast<std::uint32_t>(e.restore.days));
  REQUIRE(e.key_envelope.empty());  // one byte: its zero length
  const std::size_t envelope = 1;
  const std::size_t version_state = version >= 4 ? 0 : 1 + 8;
  const std::size_t class_state =
      version >= 3 ? 0 : 8 + stored.size() + 1 + 8 + 1 + 1 + days.size() + std::size_t{3} * 8;
  enc.resize(enc.size() - 4 - envelope - version_state - class_state);
  enc[0] = static_cast<char>(version);
  if (version >= 2) {
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(enc.data()), static_cast<uInt>(enc.size()));
    PutFixed32(enc, static_cast<std::uint32_t>(crc));
  }
  return enc;
}

TEST_CASE("entries of formats 1 (no checksum), 2 (no class state), 3 and 4 still decode",
          "[store][entry]") {
  Entry e = Sample(EntryKind::kFile);
  e.key_envelope.clear();  // what the decoder assumes for old entries
  {
    Result<Entry> d = DecodeEntry(OlderEncoding(e, 4));
    REQUIRE(d.ok());
    CHECK(EncodeEntry(*d) == EncodeEntry(e));
  }
  e.delete_marker = false;
  e.noncurrent_since = 0;
  {
    Result<Entry> d = DecodeEntry(OlderEncoding(e, 3));
    REQUIRE(d.ok());
    CHECK(EncodeEntry(*d) == EncodeEntry(e));
  }
  e.class_since = e.created;
  e.stored_bytes = e.size;
  e.last_access = e.created;
  e.access_tier = 0;
  e.restore = {};
  for (int version : {1, 2}) {
    Result<Entry> d = DecodeEntry(OlderEncoding(e, version));
    REQUIRE(d.ok());
    CHECK(EncodeEntry(*d) == EncodeEntry(e));
  }
}

TEST_CASE("random byte flips never crash the decoder", "[store][entry]") {
  std::mt19937 rng(12345);
  for (EntryKind kind : kAllKinds) {
    const std::string enc = EncodeEntry(Sample(kind));
    std::uniform_int_distribution<std::size_t> pos(0, enc.size() - 1);
    std::uniform_int_distribution<int> byte(0, 255);
    for (int i = 0; i < 5000; ++i) {
      std::string mutated = enc;
      int flips = 1 + i % 4;
      for (int f = 0; f < flips; ++f) mutated[pos(rng)] = static_cast<char>(byte(rng));
      Result<Entry> d = DecodeEntry(mutated);
      if (!d.ok()) REQUIRE(d.status().code() == Code::kCorrupt);
    }
  }
}

}  // namespace
}  // namespace shoal::store
