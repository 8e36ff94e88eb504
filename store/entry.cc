#include "store/entry.h"

#include <zlib.h>

#include "base/coding.h"

namespace shoal::store {

namespace {

// Version 2 ends with a CRC-32 of all bytes before it, so a damaged value
// is Corrupt instead of a plausible wrong mode, owner or size. Version 3
// adds the storage-class state after the xattrs, version 4 the version
// state after that, version 5 the key envelope last. Versions 1 (without
// the CRC), 2, 3 and 4 are still read; the state they lack takes the
// defaults (no envelope: the blob is of format 1 and carries its own key).
constexpr std::uint8_t kFormatVersion = 5;
constexpr std::uint8_t kVersionWithoutEnvelope = 4;
constexpr std::uint8_t kVersionWithoutVersionState = 3;
constexpr std::uint8_t kVersionWithoutClassState = 2;
constexpr std::uint8_t kUncheckedVersion = 1;
constexpr std::uint64_t kMaxAccessTier = 4;
constexpr std::uint64_t kMaxRestorePhase = 2;
constexpr std::uint64_t kMaxRestoreTier = 2;
constexpr std::size_t kCrcBytes = 4;

std::uint32_t Crc32(std::string_view bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size()));
  return static_cast<std::uint32_t>(crc);
}

// Bounds for DecodeEntry. They are far above anything fs/ writes, and exist
// so that a corrupt length never turns into a huge allocation.
constexpr std::uint64_t kMaxMode = 07777;
constexpr std::size_t kIdBytes = 16;           // blob_id and md5: absent or 16 bytes
constexpr std::size_t kMaxShortString = 1024;  // storage class, sse, version id
constexpr std::size_t kMaxSymlinkTarget = 4096;
constexpr std::uint64_t kMaxXattrs = 4096;
constexpr std::size_t kMaxXattrName = 255;
constexpr std::size_t kMaxXattrValue = std::size_t{64} * 1024;
constexpr std::size_t kMaxEnvelope = 4096;

// Times are signed; a two's-complement cast to fixed64 keeps every value,
// including times before the epoch, without zigzag's branchiness.
void PutTime(std::string& out, TimeNs t) {
  PutFixed64(out, static_cast<std::uint64_t>(t));
}

bool GetTime(Decoder& d, TimeNs& t) {
  std::uint64_t v = 0;
  if (!d.GetFixed64(v)) return false;
  t = static_cast<TimeNs>(v);
  return true;
}

bool GetBoundedBytes(Decoder& d, std::size_t max, std::string& out) {
  std::string_view v;
  if (!d.GetBytes(v) || v.size() > max) return false;
  out.assign(v);
  return true;
}

// Absent (empty) or exactly kIdBytes long.
bool GetIdBytes(Decoder& d, std::string& out) {
  std::string_view v;
  if (!d.GetBytes(v) || (!v.empty() && v.size() != kIdBytes)) return false;
  out.assign(v);
  return true;
}

bool ValidKind(std::uint8_t k) {
  return k >= static_cast<std::uint8_t>(EntryKind::kBucket) &&
         k <= static_cast<std::uint8_t>(EntryKind::kSymlink);
}

Status DecodeClassState(Decoder& d, Entry& e) {
  std::uint64_t tier = 0, phase = 0, restore_tier = 0, days = 0;
  std::uint8_t byte = 0;
  if (!GetTime(d, e.class_since) || !d.GetVarint(e.stored_bytes)) {
    return Corrupt("entry: bad class state");
  }
  if (!d.GetFixed8(byte) || (tier = byte) > kMaxAccessTier || !GetTime(d, e.last_access)) {
    return Corrupt("entry: bad access tier");
  }
  if (!d.GetFixed8(byte) || (phase = byte) > kMaxRestorePhase || !d.GetFixed8(byte) ||
      (restore_tier = byte) > kMaxRestoreTier || !d.GetVarintBounded(INT32_MAX, days) ||
      !GetTime(d, e.restore.requested) || !GetTime(d, e.restore.ready_at) ||
      !GetTime(d, e.restore.expiry)) {
    return Corrupt("entry: bad restore state");
  }
  e.access_tier = static_cast<std::uint8_t>(tier);
  e.restore.phase = static_cast<std::uint8_t>(phase);
  e.restore.tier = static_cast<std::uint8_t>(restore_tier);
  e.restore.days = static_cast<std::int32_t>(days);
  return Status::Ok();
}

}  // namespace

std::string EncodeEntry(const Entry& e) {
  std::string out;
  out.reserve(96 + e.symlink_target.size());
  out.push_back(static_cast<char>(kFormatVersion));
  PutVarint(out, e.id);
  out.push_back(static_cast<char>(e.kind));
  PutVarint(out, e.mode);
  PutVarint(out, e.uid);
  PutVarint(out, e.gid);
  PutTime(out, e.mtime);
  PutTime(out, e.ctime);
  PutTime(out, e.created);
  out.push_back(e.marker ? '\1' : '\0');
  PutVarint(out, e.size);
  PutBytes(out, e.blob_id);
  PutBytes(out, e.md5);
  PutBytes(out, e.storage_class);
  PutBytes(out, e.sse);
  PutBytes(out, e.version_id);
  PutBytes(out, e.symlink_target);
  PutVarint(out, e.xattrs.size());
  for (const auto& [name, value] : e.xattrs) {
    PutBytes(out, name);
    PutBytes(out, value);
  }
  PutTime(out, e.class_since);
  PutVarint(out, e.stored_bytes);
  out.push_back(static_cast<char>(e.access_tier));
  PutTime(out, e.last_access);
  out.push_back(static_cast<char>(e.restore.phase));
  out.push_back(static_cast<char>(e.restore.tier));
  PutVarint(out, static_cast<std::uint32_t>(e.restore.days));
  PutTime(out, e.restore.requested);
  PutTime(out, e.restore.ready_at);
  PutTime(out, e.restore.expiry);
  out.push_back(e.delete_marker ? '\1' : '\0');
  PutTime(out, e.noncurrent_since);
  PutBytes(out, e.key_envelope);
  PutFixed32(out, Crc32(out));
  return out;
}

Result<Entry> DecodeEntry(std::string_view bytes) {
  if (bytes.empty()) return Corrupt("entry: empty value");
  const auto version = static_cast<std::uint8_t>(bytes[0]);
  if (version == kFormatVersion || version == kVersionWithoutEnvelope ||
      version == kVersionWithoutVersionState || version == kVersionWithoutClassState) {
    if (bytes.size() < 1 + kCrcBytes) return Corrupt("entry: truncated");
    std::string_view body = bytes.substr(0, bytes.size() - kCrcBytes);
    Decoder crc(bytes.substr(body.size()));
    std::uint32_t stored = 0;
    if (!crc.GetFixed32(stored) || stored != Crc32(body)) {
      return Corrupt("entry: checksum mismatch (damaged metadata)");
    }
    bytes = body;
  } else if (version != kUncheckedVersion) {
    return Corrupt("entry: unknown format version " + std::to_string(version));
  }
  Decoder d(bytes.substr(1));

  Entry e;
  std::uint8_t kind = 0;
  std::uint64_t mode = 0, uid = 0, gid = 0;
  std::uint8_t marker = 0;
  if (!d.GetVarint(e.id) || !d.GetFixed8(kind)) return Corrupt("entry: truncated header");
  if (!ValidKind(kind)) return Corrupt("entry: unknown kind " + std::to_string(kind));
  e.kind = static_cast<EntryKind>(kind);
  if (!d.GetVarintBounded(kMaxMode, mode)) return Corrupt("entry: bad mode");
  if (!d.GetVarintBounded(UINT32_MAX, uid) || !d.GetVarintBounded(UINT32_MAX, gid)) {
    return Corrupt("entry: bad owner");
  }
  e.mode = static_cast<std::uint32_t>(mode);
  e.uid = static_cast<std::uint32_t>(uid);
  e.gid = static_cast<std::uint32_t>(gid);
  if (!GetTime(d, e.mtime) || !GetTime(d, e.ctime) || !GetTime(d, e.created)) {
    return Corrupt("entry: truncated times");
  }
  if (!d.GetFixed8(marker) || marker > 1) return Corrupt("entry: bad marker flag");
  e.marker = marker == 1;
  if (!d.GetVarint(e.size)) return Corrupt("entry: bad size");
  if (!GetIdBytes(d, e.blob_id)) return Corrupt("entry: bad blob id");
  if (!GetIdBytes(d, e.md5)) return Corrupt("entry: bad md5");
  if (!GetBoundedBytes(d, kMaxShortString, e.storage_class) ||
      !GetBoundedBytes(d, kMaxShortString, e.sse) ||
      !GetBoundedBytes(d, kMaxShortString, e.version_id)) {
    return Corrupt("entry: bad object attributes");
  }
  if (!GetBoundedBytes(d, kMaxSymlinkTarget, e.symlink_target)) {
    return Corrupt("entry: bad symlink target");
  }
  std::uint64_t nxattrs = 0;
  if (!d.GetVarintBounded(kMaxXattrs, nxattrs)) return Corrupt("entry: bad xattr count");
  // Each xattr takes at least two bytes, so a count the input cannot hold is
  // rejected before reserving for it.
  if (nxattrs > d.remaining() / 2) return Corrupt("entry: truncated xattrs");
  e.xattrs.reserve(static_cast<std::size_t>(nxattrs));
  for (std::uint64_t i = 0; i < nxattrs; ++i) {
    std::string name, value;
    if (!GetBoundedBytes(d, kMaxXattrName, name) || !GetBoundedBytes(d, kMaxXattrValue, value)) {
      return Corrupt("entry: bad xattr");
    }
    e.xattrs.emplace_back(std::move(name), std::move(value));
  }
  if (version >= kVersionWithoutVersionState) {
    Status s = DecodeClassState(d, e);
    if (!s.ok()) return s;
  } else {
    e.class_since = e.created;
    e.stored_bytes = e.size;
    e.last_access = e.created;
  }
  if (version >= kVersionWithoutEnvelope) {
    std::uint8_t flag = 0;
    if (!d.GetFixed8(flag) || flag > 1 || !GetTime(d, e.noncurrent_since)) {
      return Corrupt("entry: bad version state");
    }
    e.delete_marker = flag == 1;
  }
  if (version == kFormatVersion && !GetBoundedBytes(d, kMaxEnvelope, e.key_envelope)) {
    return Corrupt("entry: bad key envelope");
  }
  if (!d.done()) return Corrupt("entry: trailing bytes");
  return e;
}

}  // namespace shoal::store
