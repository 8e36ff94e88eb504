// ShardLog: segment files of checksummed batches, a lock-free sparse index
// per segment, and recovery that tells a torn tail from damage. The byte
// layout is specified in LOG_FORMAT.md; keep the two in step.

#include "streams/shard_log.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <mutex>
#include <optional>
#include <utility>

#include "base/coding.h"
#include "base/file_util.h"

namespace shoal::streams {
namespace {

using Dir = std::unique_ptr<DIR, Deleter<closedir>>;

constexpr mode_t kDirMode = 0700;
constexpr mode_t kFileMode = 0600;

constexpr std::uint32_t kFormatVersion = 1;
constexpr std::string_view kSegmentMagic = "SHOALSEG";
constexpr std::string_view kIndexMagic = "SHOALIDX";
constexpr std::string_view kBatchMagicBytes = "SHB1";
constexpr std::uint32_t kBatchMagic = 0x31424853;  // "SHB1" read little-endian
constexpr std::size_t kSegmentHeaderBytes = 32;
constexpr std::size_t kBatchHeaderBytes = 32;
constexpr std::size_t kRecordHeaderBytes = 6;  // u32 data length, u16 key length
constexpr std::size_t kIndexHeaderBytes = 64;
constexpr std::size_t kIndexEntryBytes = 16;
constexpr std::size_t kMaxBatchBytes = std::size_t{1} << 30;
constexpr std::uint64_t kMaxSegmentBytes = std::uint64_t{1} << 30;
constexpr std::size_t kNameDigits = 20;
constexpr std::string_view kSegmentSuffix = ".log";
constexpr std::string_view kIndexSuffix = ".idx";
constexpr std::string_view kTempSuffix = ".tmp";
constexpr std::string_view kSealedName = "SEALED";
constexpr TimeNs kNoTime = std::numeric_limits<TimeNs>::min();

// Batches up to this size are encoded in a per-thread buffer that is reused;
// larger ones get a buffer of their own, so no thread keeps a huge one.
constexpr std::size_t kKeepBufferBytes = std::size_t{1} << 20;
// Reads start small (a tail -f reader wants a few records) and double.
constexpr std::size_t kFirstReadBytes = std::size_t{64} << 10;
constexpr std::size_t kScanReadBytes = std::size_t{1} << 20;
constexpr std::size_t kMaxReadBytes = std::size_t{1} << 20;

std::uint32_t Crc32(const char* p, std::size_t n, std::uint32_t crc = 0) {
  return static_cast<std::uint32_t>(crc32_z(crc, reinterpret_cast<const Bytef*>(p), n));
}

void Store16(char* p, std::uint16_t v) {
  p[0] = static_cast<char>(v & 0xff);
  p[1] = static_cast<char>(v >> 8);
}
void Store32(char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
void Store64(char* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
const unsigned char* Bytes(const char* p) {
  return reinterpret_cast<const unsigned char*>(p);
}
std::uint16_t Load16(const char* p) {
  return static_cast<std::uint16_t>(Bytes(p)[0] | (Bytes(p)[1] << 8));
}
std::uint32_t Load32(const char* p) {
  return LoadFixed32(Bytes(p));
}
std::uint64_t Load64(const char* p) {
  return LoadFixed64(Bytes(p));
}
TimeNs LoadTime(const char* p) {
  return static_cast<TimeNs>(Load64(p));
}

// a - b >= d, for a > b, without overflow.
bool AtLeastApart(TimeNs a, TimeNs b, TimeNs d) {
  return a > b && static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b) >=
                      static_cast<std::uint64_t>(d);
}

std::string BaseName(std::uint64_t base) {
  std::string digits = std::to_string(base);
  return std::string(kNameDigits - digits.size(), '0') + digits;
}
std::string SegmentFileName(std::uint64_t base) {
  return BaseName(base) + std::string(kSegmentSuffix);
}
std::string IndexFileName(std::uint64_t base) {
  return BaseName(base) + std::string(kIndexSuffix);
}

// The base offset of a canonical "<20 digits><suffix>" name.
std::optional<std::uint64_t> ParseName(std::string_view name, std::string_view suffix) {
  if (name.size() != kNameDigits + suffix.size() || !name.ends_with(suffix)) return std::nullopt;
  std::uint64_t v = 0;
  const char* first = name.data();
  const char* last = name.data() + kNameDigits;
  if (std::any_of(first, last, [](char c) { return c < '0' || c > '9'; })) return std::nullopt;
  auto [ptr, ec] = std::from_chars(first, last, v);
  if (ec != std::errc() || ptr != last) return std::nullopt;  // overflows u64
  return v;
}

std::string EncodeSegmentHeader(std::uint64_t base) {
  std::string h(kSegmentMagic);
  PutFixed32(h, kFormatVersion);
  PutFixed32(h, 0);
  PutFixed64(h, base);
  PutFixed32(h, 0);
  PutFixed32(h, Crc32(h.data(), h.size()));
  return h;
}

enum class HeaderCheck { kOk, kBad, kUnknownVersion };

HeaderCheck CheckSegmentHeader(const char* h, std::uint64_t base, std::string& why) {
  if (std::string_view(h, kSegmentMagic.size()) != kSegmentMagic) {
    why = "not a segment header (bad magic)";
    return HeaderCheck::kBad;
  }
  if (Crc32(h, 28) != Load32(h + 28)) {
    why = "segment header checksum mismatch";
    return HeaderCheck::kBad;
  }
  if (Load32(h + 8) != kFormatVersion) {
    why = "segment format version " + std::to_string(Load32(h + 8)) + " is not supported";
    return HeaderCheck::kUnknownVersion;
  }
  if (Load64(h + 16) != base) {
    why = "segment header says base offset " + std::to_string(Load64(h + 16)) + ", the file name " +
          std::to_string(base);
    return HeaderCheck::kBad;
  }
  return HeaderCheck::kOk;
}

// One sparse index entry: the batch starting at file position `pos` holds
// the record at offset base + rel_offset first, and arrived at `time`.
struct IndexEntry {
  std::uint32_t rel_offset = 0;
  std::uint32_t pos = 0;
  TimeNs time = 0;
};

// An append-only array with one writer and lock-free readers: entries live in
// fixed blocks that never move, and a reader sees the first size() entries
// completely (they were written before the release store of the size).
class SparseIndex {
 public:
  static constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();

  explicit SparseIndex(std::size_t capacity) : blocks_((capacity + kBlock - 1) / kBlock) {}

  std::size_t size() const { return size_.load(std::memory_order_acquire); }
  const IndexEntry& operator[](std::size_t i) const { return blocks_[i / kBlock][i % kBlock]; }

  // Writer only. False when full: the index just gets sparser.
  bool Add(const IndexEntry& e) {
    const std::size_t n = size_.load(std::memory_order_relaxed);
    if (n / kBlock >= blocks_.size()) return false;
    std::unique_ptr<IndexEntry[]>& block = blocks_[n / kBlock];
    if (!block) block = std::make_unique<IndexEntry[]>(kBlock);
    block[n % kBlock] = e;
    size_.store(n + 1, std::memory_order_release);
    return true;
  }

  // The last entry for which `before(entry)` holds (a prefix of the entries
  // satisfies it), or kNone.
  template <class Pred>
  std::size_t Last(Pred before) const {
    std::size_t lo = 0;
    std::size_t hi = size();
    while (lo < hi) {
      const std::size_t mid = lo + (hi - lo) / 2;
      if (before((*this)[mid])) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo == 0 ? kNone : lo - 1;
  }

 private:
  static constexpr std::size_t kBlock = 256;
  std::vector<std::unique_ptr<IndexEntry[]>> blocks_;  // sized once, never reallocated
  std::atomic<std::size_t> size_{0};
};

// A batch as read back. `body` points into the reader's buffer and is valid
// until its next call.
struct BatchView {
  std::uint64_t pos = 0;
  std::uint32_t length = 0;
  std::uint32_t count = 0;
  std::uint32_t crc = 0;
  std::uint64_t base = 0;
  TimeNs arrival = 0;
  const char* body = nullptr;
};

// Reads and verifies the batches of one segment file in order, from `pos` up
// to `end` (the published or stat'ed end), through a growing buffer.
class BatchReader {
 public:
  enum class Step { kBatch, kEnd, kBad, kIoError };

  BatchReader(int fd, const std::string& path, std::uint64_t pos, std::uint64_t end,
              std::size_t first_read)
      : fd_(fd), path_(&path), pos_(pos), end_(end), next_read_(first_read) {}

  // kBatch: `v` is the next batch, verified (checksum and framing); but a
  // batch whose header puts all its records below `wanted_from` is only
  // framed by its header, unverified, with `v.body` null (a reader skips
  // it). kEnd at `end`. kBad: no valid batch starts at pos() (why() says
  // how). kIoError: TakeStatus() says why.
  Step Next(BatchView& v, std::uint64_t wanted_from = 0) {
    if (pos_ >= end_) return Step::kEnd;
    const std::uint64_t left = end_ - pos_;
    if (left < kBatchHeaderBytes) {
      return Bad("incomplete batch header (" + std::to_string(left) + " bytes before the end)");
    }
    const char* p = nullptr;
    Step s = Fill(pos_, kBatchHeaderBytes, p);
    if (s != Step::kBatch) return s;
    if (Load32(p) != kBatchMagic) return Bad("no batch starts here (bad magic)");
    const std::uint32_t length = Load32(p + 8);
    const std::uint32_t count = Load32(p + 12);
    if (length < kBatchHeaderBytes + kRecordHeaderBytes || count == 0 ||
        count > (length - kBatchHeaderBytes) / kRecordHeaderBytes) {
      return Bad("inconsistent batch header (length " + std::to_string(length) + ", " +
                 std::to_string(count) + " records)");
    }
    if (length > left) {
      return Bad("batch of " + std::to_string(length) + " bytes runs past the end (" +
                 std::to_string(left) + " bytes left)");
    }
    const std::uint64_t base = Load64(p + 16);
    if (base + count <= wanted_from) {
      v = BatchView{.pos = pos_, .length = length, .count = count, .base = base};
      pos_ += length;
      return Step::kBatch;
    }
    s = Fill(pos_, length, p);
    if (s != Step::kBatch) return s;
    const std::uint32_t crc = Load32(p + 4);
    if (Crc32(p + 8, length - 8) != crc) return Bad("batch checksum mismatch");
    const char* q = p + kBatchHeaderBytes;
    std::size_t rem = length - kBatchHeaderBytes;
    for (std::uint32_t i = 0; i < count; ++i) {
      if (rem < kRecordHeaderBytes) return Bad("records overrun the batch");
      const std::size_t n = std::size_t{Load32(q)} + Load16(q + 4);
      rem -= kRecordHeaderBytes;
      if (n > rem) return Bad("records overrun the batch");
      rem -= n;
      q += kRecordHeaderBytes + n;
    }
    if (rem != 0) return Bad("records do not fill the batch");
    v = BatchView{.pos = pos_,
                  .length = length,
                  .count = count,
                  .crc = crc,
                  .base = base,
                  .arrival = LoadTime(p + 24),
                  .body = p + kBatchHeaderBytes};
    pos_ += length;
    return Step::kBatch;
  }

  std::uint64_t pos() const { return pos_; }
  const std::string& why() const { return why_; }
  Status TakeStatus() { return std::move(status_); }

 private:
  Step Bad(std::string why) {
    why_ = std::move(why);
    return Step::kBad;
  }

  // Points `p` at file bytes [pos, pos + n), reading if they are not
  // buffered. REQUIRES: n <= end_ - pos.
  Step Fill(std::uint64_t pos, std::size_t n, const char*& p) {
    if (pos >= buf_pos_ && pos + n <= buf_pos_ + buf_len_) {
      p = buf_.get() + (pos - buf_pos_);
      return Step::kBatch;
    }
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(std::max(n, next_read_), end_ - pos));
    if (want > cap_) {
      buf_ = std::make_unique_for_overwrite<char[]>(want);
      cap_ = want;
    }
    Result<std::size_t> got = PreadFull(fd_, buf_.get(), want, static_cast<off_t>(pos), *path_);
    if (!got.ok()) {
      status_ = got.status();
      return Step::kIoError;
    }
    buf_pos_ = pos;
    buf_len_ = *got;
    next_read_ = std::min(next_read_ * 2, kMaxReadBytes);
    if (buf_len_ < n) {
      return Bad("the file ends at byte " + std::to_string(pos + buf_len_) + ", inside a batch");
    }
    p = buf_.get();
    return Step::kBatch;
  }

  int fd_;
  const std::string* path_;
  std::uint64_t pos_;
  std::uint64_t end_;
  std::size_t next_read_;
  std::unique_ptr<char[]> buf_;
  std::size_t cap_ = 0;
  std::uint64_t buf_pos_ = 0;
  std::size_t buf_len_ = 0;
  std::string why_;
  Status status_;
};

// Where a valid batch starts again after damage at `from`: the first
// position after it holding a verified batch with base offset >= min_base.
struct Resync {
  std::uint64_t pos = 0;
  std::uint64_t base = 0;
};

Result<std::optional<Resync>> FindNextBatch(int fd, const std::string& path, std::uint64_t from,
                                            std::uint64_t end, std::uint64_t min_base) {
  constexpr std::size_t kWindow = std::size_t{1} << 20;
  std::string window;
  for (std::uint64_t w = from; w + kBatchMagicBytes.size() <= end; w += kWindow) {
    const auto n = static_cast<std::size_t>(
        std::min<std::uint64_t>(kWindow + kBatchMagicBytes.size() - 1, end - w));
    window.resize(n);
    Result<std::size_t> got = PreadFull(fd, window.data(), n, static_cast<off_t>(w), path);
    if (!got.ok()) return got.status();
    window.resize(*got);
    for (std::size_t i = window.find(kBatchMagicBytes); i != std::string::npos && i < kWindow;
         i = window.find(kBatchMagicBytes, i + 1)) {
      BatchReader r(fd, path, w + i, end, kFirstReadBytes);
      BatchView v;
      const BatchReader::Step step = r.Next(v);
      if (step == BatchReader::Step::kIoError) return r.TakeStatus();
      if (step == BatchReader::Step::kBatch && v.base >= min_base) {
        return std::optional<Resync>(Resync{.pos = w + i, .base = v.base});
      }
    }
  }
  return std::optional<Resync>();
}

// Where a scan starts: after the header, or where a trusted index ends.
struct ScanStart {
  std::uint64_t base = 0;  // the segment's base offset
  std::uint64_t pos = kSegmentHeaderBytes;
  std::uint64_t offset = 0;
  TimeNs last_time = kNoTime;
  std::uint64_t last_index_pos = 0;
  bool have_entry = false;  // an index entry precedes `pos`
  std::uint64_t last_batch_pos = 0;
  std::uint32_t last_batch_crc = 0;
};

struct BatchInfo {
  std::uint64_t pos = 0;
  std::uint64_t base = 0;
  TimeNs time = 0;
};

struct ScanResult {
  std::vector<IndexEntry> entries;  // new entries for the scanned range
  std::uint64_t end_pos = 0;        // just past the last valid batch
  std::uint64_t end_offset = 0;
  TimeNs last_time = kNoTime;
  std::uint64_t last_batch_pos = 0;
  std::uint32_t last_batch_crc = 0;
  std::uint64_t records = 0;
  // Damage with valid batches after it: "<path>: byte N: why; ...".
  std::vector<std::string> damage;
  // Arrival times that go backwards (only a tampered or buggy log has them).
  std::vector<std::string> time_problems;
  // Invalid bytes from here to the end with no valid batch after them: a torn
  // tail in the last segment, damage elsewhere.
  std::optional<std::uint64_t> torn_at;
  std::string torn_why;
  std::vector<BatchInfo> batches;  // every valid batch, when asked for
};

// Scans [start.pos, size) of a segment file, indexing every
// `interval` bytes and stepping over damage to the next valid batch.
Status ScanSegment(int fd, const std::string& path, const ScanStart& start, std::uint64_t size,
                   std::uint32_t interval, bool collect, ScanResult& out) {
  out.end_pos = start.pos;
  out.end_offset = start.offset;
  out.last_time = start.last_time;
  out.last_batch_pos = start.last_batch_pos;
  out.last_batch_crc = start.last_batch_crc;
  if (start.pos >= size) return Status::Ok();
  BatchReader reader(fd, path, start.pos, size, kScanReadBytes);
  std::uint64_t expected = start.offset;
  std::uint64_t last_index_pos = start.last_index_pos;
  bool need_entry = !start.have_entry;
  for (;;) {
    const std::uint64_t at = reader.pos();
    BatchView v;
    const BatchReader::Step step = reader.Next(v);
    if (step == BatchReader::Step::kEnd) break;
    if (step == BatchReader::Step::kIoError) return reader.TakeStatus();
    if (step == BatchReader::Step::kBatch && v.base == expected) {
      if (out.last_time != kNoTime && v.arrival < out.last_time) {
        out.time_problems.push_back(path + ": byte " + std::to_string(at) + ": arrival time of " +
                                    "offset " + std::to_string(v.base) +
                                    " is earlier than the record before it");
      }
      if (need_entry || at >= last_index_pos + interval) {
        out.entries.push_back({.rel_offset = static_cast<std::uint32_t>(v.base - start.base),
                               .pos = static_cast<std::uint32_t>(at),
                               .time = v.arrival});
        last_index_pos = at;
        need_entry = false;
      }
      expected = v.base + v.count;
      out.last_time = std::max(out.last_time, v.arrival);
      out.last_batch_pos = at;
      out.last_batch_crc = v.crc;
      out.records += v.count;
      if (collect) out.batches.push_back({.pos = at, .base = v.base, .time = v.arrival});
      continue;
    }
    std::string why = step == BatchReader::Step::kBad
                          ? reader.why()
                          : "batch holds offsets from " + std::to_string(v.base) + ", expected " +
                                std::to_string(expected);
    Result<std::optional<Resync>> next = FindNextBatch(fd, path, at + 1, size, expected);
    if (!next.ok()) return next.status();
    if (!next->has_value()) {
      out.torn_at = at;
      out.torn_why = std::move(why);
      out.end_pos = at;
      out.end_offset = expected;
      return Status::Ok();
    }
    const Resync r = **next;
    std::string msg = path + ": byte " + std::to_string(at) + ": " + why + "; bytes " +
                      std::to_string(at) + ".." + std::to_string(r.pos - 1) + " skipped";
    if (r.base > expected) {
      msg += ", offsets " + std::to_string(expected) + ".." + std::to_string(r.base - 1) +
             " unreadable";
    }
    out.damage.push_back(std::move(msg));
    expected = r.base;
    reader = BatchReader(fd, path, r.pos, size, kScanReadBytes);
    need_entry = true;  // so that reads can start after the damage
  }
  out.end_pos = reader.pos();
  out.end_offset = expected;
  return Status::Ok();
}

// The index side file of a segment: a cache of its sparse index, and of
// where its verified bytes end.
struct IndexFile {
  std::uint64_t base = 0;
  std::uint64_t covered = 0;     // bytes [0, covered) of the segment are indexed
  std::uint64_t end_offset = 0;  // offset after the last record in them
  TimeNs last_time = kNoTime;
  std::uint64_t last_batch_pos = 0;
  std::uint32_t last_batch_crc = 0;
  std::vector<IndexEntry> entries;
};

std::string EncodeIndexFile(const IndexFile& f) {
  std::string out(kIndexMagic);
  out.reserve(kIndexHeaderBytes + f.entries.size() * kIndexEntryBytes + 4);
  PutFixed32(out, kFormatVersion);
  PutFixed32(out, static_cast<std::uint32_t>(f.entries.size()));
  PutFixed64(out, f.base);
  PutFixed64(out, f.covered);
  PutFixed64(out, f.end_offset);
  PutFixed64(out, static_cast<std::uint64_t>(f.last_time));
  PutFixed64(out, f.last_batch_pos);
  PutFixed32(out, f.last_batch_crc);
  PutFixed32(out, 0);
  for (const IndexEntry& e : f.entries) {
    PutFixed32(out, e.rel_offset);
    PutFixed32(out, e.pos);
    PutFixed64(out, static_cast<std::uint64_t>(e.time));
  }
  PutFixed32(out, Crc32(out.data(), out.size()));
  return out;
}

// Decodes and sanity-checks an index file for segment `base`; false (and
// `why`) if it is not one.
bool DecodeIndexFile(std::string_view in, std::uint64_t base, IndexFile& f, std::string& why) {
  if (in.size() < kIndexHeaderBytes + 4 || in.substr(0, kIndexMagic.size()) != kIndexMagic) {
    why = "not an index file";
    return false;
  }
  const char* p = in.data();
  const std::uint32_t count = Load32(p + 12);
  if (in.size() != kIndexHeaderBytes + std::size_t{count} * kIndexEntryBytes + 4) {
    why = "index file has the wrong size";
    return false;
  }
  if (Crc32(p, in.size() - 4) != Load32(p + in.size() - 4)) {
    why = "index file checksum mismatch";
    return false;
  }
  if (Load32(p + 8) != kFormatVersion) {
    why = "index file version " + std::to_string(Load32(p + 8)) + " is not supported";
    return false;
  }
  f.base = Load64(p + 16);
  f.covered = Load64(p + 24);
  f.end_offset = Load64(p + 32);
  f.last_time = LoadTime(p + 40);
  f.last_batch_pos = Load64(p + 48);
  f.last_batch_crc = Load32(p + 56);
  if (f.base != base || f.covered < kSegmentHeaderBytes || f.end_offset < base) {
    why = "index file header does not fit its segment";
    return false;
  }
  f.entries.resize(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const char* e = p + kIndexHeaderBytes + std::size_t{i} * kIndexEntryBytes;
    f.entries[i] = {.rel_offset = Load32(e), .pos = Load32(e + 4), .time = LoadTime(e + 8)};
    const IndexEntry& cur = f.entries[i];
    const bool ordered =
        i == 0 || (cur.rel_offset > f.entries[i - 1].rel_offset && cur.pos > f.entries[i - 1].pos &&
                   cur.time >= f.entries[i - 1].time);
    if (!ordered || cur.pos < kSegmentHeaderBytes || cur.pos >= f.covered ||
        cur.rel_offset >= f.end_offset - base) {
      why = "index file entries are out of order or out of range";
      return false;
    }
  }
  const bool empty = f.end_offset == base;
  if (empty ? (f.covered != kSegmentHeaderBytes || count != 0)
            : (f.last_batch_pos < kSegmentHeaderBytes || f.last_batch_pos >= f.covered ||
               count == 0)) {
    why = "index file header is inconsistent";
    return false;
  }
  return true;
}

// Whether the index file of segment `base` can stand in for scanning bytes
// [0, covered) of the segment (`fd`, `size` bytes): it decodes, it is not
// ahead of the file, and it ends exactly at the batch it names. A non-last
// segment never changes, so its index must cover all of it.
bool LoadUsableIndex(const std::string& dir, int fd, std::uint64_t base, std::uint64_t size,
                     bool is_last, IndexFile& f, std::string& why) {
  Result<std::string> bytes = ReadFile(dir + "/" + IndexFileName(base));
  if (!bytes.ok()) {
    why = bytes.status().code() == Code::kNoSuchKey ? "missing" : bytes.status().message();
    return false;
  }
  if (!DecodeIndexFile(*bytes, base, f, why)) return false;
  if (f.covered > size || (!is_last && f.covered != size)) {
    why = "stale (it describes " + std::to_string(f.covered) + " bytes, the segment has " +
          std::to_string(size) + ")";
    return false;
  }
  if (f.end_offset == base) return true;
  char h[kBatchHeaderBytes];
  Result<std::size_t> got =
      PreadFull(fd, h, sizeof h, static_cast<off_t>(f.last_batch_pos), "index check");
  if (!got.ok() || *got != sizeof h || Load32(h) != kBatchMagic ||
      Load32(h + 4) != f.last_batch_crc || f.last_batch_pos + Load32(h + 8) != f.covered ||
      Load64(h + 16) + Load32(h + 12) != f.end_offset || LoadTime(h + 24) != f.last_time) {
    why = "stale (its last batch does not match the segment)";
    return false;
  }
  return true;
}

// What a shard directory holds.
struct Listing {
  std::vector<std::uint64_t> segments;  // sorted
  std::vector<std::uint64_t> indexes;
  std::vector<std::string> temporaries;
  bool sealed = false;
};

Status ListShardDir(const std::string& dir, Listing& out) {
  Dir d(::opendir(dir.c_str()));
  if (!d) return PosixError(dir, errno);
  for (;;) {
    errno = 0;
    const struct dirent* entry = ::readdir(d.get());
    if (entry == nullptr) {
      if (const int err = errno; err != 0) return PosixError("readdir " + dir, err);
      break;
    }
    const std::string_view name(entry->d_name);
    if (auto base = ParseName(name, kSegmentSuffix)) {
      out.segments.push_back(*base);
    } else if (auto ibase = ParseName(name, kIndexSuffix)) {
      out.indexes.push_back(*ibase);
    } else if (name.ends_with(kTempSuffix)) {
      out.temporaries.emplace_back(name);
    } else if (name == kSealedName) {
      out.sealed = true;
    }
  }
  std::sort(out.segments.begin(), out.segments.end());
  return Status::Ok();
}

// The end offset recorded in a seal marker ("end_offset=N\n").
std::optional<std::uint64_t> ParseSealMarker(std::string_view text) {
  constexpr std::string_view kKey = "end_offset=";
  if (!text.starts_with(kKey) || !text.ends_with('\n')) return std::nullopt;
  text.remove_prefix(kKey.size());
  text.remove_suffix(1);
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

std::string Range(std::uint64_t from, std::uint64_t to) {  // [from, to)
  return to == from + 1 ? std::to_string(from)
                        : std::to_string(from) + ".." + std::to_string(to - 1);
}

}  // namespace

// One segment file and its in-memory index. The fields other than the
// published atomics are written by the log's writer only (under write_mu_, or
// before the segment is published by Open).
class ShardLog::Segment {
 public:
  Segment(std::uint64_t base_offset, std::string file_path, std::size_t index_capacity)
      : base(base_offset), path(std::move(file_path)), index(index_capacity) {}

  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  // The file, opened on first use (only the active segment's is kept open
  // from the start, so a long log does not pin one descriptor per segment
  // until it is read).
  Result<int> Fd() EXCLUDES(mu_) {
    const int fd = raw_fd_.load(std::memory_order_acquire);
    if (fd >= 0) return fd;
    MutexLock lock(mu_);
    if (fd_.valid()) return fd_.get();
    UniqueFd opened(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!opened.valid()) return PosixError(path, errno);
    fd_ = std::move(opened);
    raw_fd_.store(fd_.get(), std::memory_order_release);
    return fd_.get();
  }

  void Adopt(UniqueFd fd) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    raw_fd_.store(fd.get(), std::memory_order_release);
    fd_ = std::move(fd);
  }

  bool empty() const { return end_offset.load(std::memory_order_acquire) == base; }

  IndexFile Describe() const {
    IndexFile f{.base = base,
                .covered = end_pos.load(std::memory_order_acquire),
                .end_offset = end_offset.load(std::memory_order_acquire),
                .last_time = last_time.load(std::memory_order_acquire),
                .last_batch_pos = last_batch_pos,
                .last_batch_crc = last_batch_crc};
    const std::size_t n = index.size();
    f.entries.reserve(n);
    for (std::size_t i = 0; i < n; ++i) f.entries.push_back(index[i]);
    return f;
  }

  const std::uint64_t base;
  const std::string path;
  SparseIndex index;
  // Published by the writer in this order (end_pos, end_offset, last_time)
  // with release stores after the bytes are written; a reader that loads them
  // in the reverse order sees bytes at least up to what they describe.
  std::atomic<std::uint64_t> end_pos{kSegmentHeaderBytes};
  std::atomic<std::uint64_t> end_offset{0};
  std::atomic<TimeNs> last_time{kNoTime};
  std::atomic<bool> removed{false};  // set by retention before the unlink

  // Writer only.
  std::uint64_t last_batch_pos = 0;
  std::uint32_t last_batch_crc = 0;
  bool index_clean = false;  // its index file matches (it was loaded or written)
  bool damaged = false;      // Open found damage in it

 private:
  Mutex mu_;
  UniqueFd fd_ GUARDED_BY(mu_);
  std::atomic<int> raw_fd_{-1};
};

namespace {

// Writes a segment's index file: temp file and rename, not synced (it is a
// cache: a lost or torn one is detected by its checksum and rebuilt).
Status WriteIndexFile(const std::string& dir, const IndexFile& f) {
  const std::string path = dir + "/" + IndexFileName(f.base);
  const std::string tmp = path + std::string(kTempSuffix);
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, kFileMode));
  if (!fd.valid()) return PosixError(tmp, errno);
  Status s = PwriteAll(fd.get(), EncodeIndexFile(f), 0, tmp);
  if (!s.ok()) return s;
  fd.Reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) return PosixError("rename " + tmp, errno);
  return Status::Ok();
}

Status ValidateOptions(const ShardLog::Options& o) {
  if (o.segment_bytes < 4096 || o.segment_bytes > kMaxSegmentBytes) {
    return InvalidArgument("segment_bytes must be between 4 KiB and 1 GiB");
  }
  if (o.index_interval_bytes == 0) return InvalidArgument("index_interval_bytes must be > 0");
  if (o.max_key_bytes > std::numeric_limits<std::uint16_t>::max()) {
    return InvalidArgument("max_key_bytes must be < 64 KiB");
  }
  if (o.max_data_bytes + o.max_key_bytes + kBatchHeaderBytes + kRecordHeaderBytes >
      kMaxBatchBytes) {
    return InvalidArgument("max_data_bytes must be below 1 GiB");
  }
  if (o.segment_max_age < 0) return InvalidArgument("segment_max_age must be >= 0");
  return Status::Ok();
}

}  // namespace

ShardLog::ShardLog(std::string dir, const Options& options, UniqueFd dir_fd)
    : dir_(std::move(dir)), options_(options), dir_fd_(std::move(dir_fd)), last_time_(kNoTime) {}

ShardLog::~ShardLog() = default;

Result<std::unique_ptr<ShardLog>> ShardLog::Open(const std::string& dir, const Options& options) {
  Status s = ValidateOptions(options);
  if (!s.ok()) return s;
  if (options.create_if_missing) {
    if (::mkdir(dir.c_str(), kDirMode) == 0) {
      const auto slash = dir.find_last_of('/');
      s = SyncDirectory(slash == std::string::npos ? "." : dir.substr(0, slash == 0 ? 1 : slash));
      if (!s.ok()) return s;
    } else if (const int err = errno; err != EEXIST) {
      return PosixError("mkdir " + dir, err);
    }
  }
  UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid()) return PosixError(dir, errno);
  if (::flock(dir_fd.get(), LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK) return Status(Code::kInvalidRequest, dir + ": shard log already open");
    return PosixError("flock " + dir, err);
  }
  Listing listing;
  s = ListShardDir(dir, listing);
  if (!s.ok()) return s;
  std::unique_ptr<ShardLog> log(new ShardLog(dir, options, std::move(dir_fd)));
  std::optional<std::uint64_t> sealed_end;
  if (listing.sealed) {
    Result<std::string> marker = ReadFile(dir + "/" + std::string(kSealedName));
    if (!marker.ok()) return marker.status();
    sealed_end = ParseSealMarker(*marker);
    if (!sealed_end) log->recovery_.damage.push_back(dir + "/SEALED: unreadable seal marker");
  }
  // Nothing is changed on disk before every segment is known to be of a
  // format this code reads (LoadSegments loads the last one, which it may
  // repair, last).
  s = log->LoadSegments(listing.segments, sealed_end.value_or(0));
  if (!s.ok()) return s;
  // Leftovers of interrupted index or marker writes, and indexes of segments
  // that retention deleted.
  const int dfd = log->dir_fd_.get();
  for (const std::string& name : listing.temporaries) ::unlinkat(dfd, name.c_str(), 0);
  for (std::uint64_t base : listing.indexes) {
    if (!std::binary_search(listing.segments.begin(), listing.segments.end(), base)) {
      ::unlinkat(dfd, IndexFileName(base).c_str(), 0);
    }
  }
  if (listing.sealed) {
    log->sealed_.store(true);
    const std::uint64_t next = log->next_offset();
    if (sealed_end && *sealed_end != next) {
      log->recovery_.damage.push_back(dir + "/SEALED: sealed at offset " +
                                      std::to_string(*sealed_end) + " but the records end at " +
                                      std::to_string(next));
    }
  }
  return log;
}

Status ShardLog::LoadSegments(const std::vector<std::uint64_t>& bases, std::uint64_t sealed_end) {
  std::vector<SegmentPtr> loaded;
  if (bases.empty()) {
    Result<SegmentPtr> seg = CreateSegment(sealed_end);
    if (!seg.ok()) return seg.status();
    if (::fsync(dir_fd_.get()) != 0) return PosixError("fsync " + dir_, errno);
    loaded.push_back(std::move(*seg));
  }
  for (std::size_t i = 0; i < bases.size(); ++i) {
    Result<SegmentPtr> seg = LoadSegment(bases[i], i + 1 == bases.size());
    if (!seg.ok()) return seg.status();
    loaded.push_back(std::move(*seg));
  }
  TimeNs last_time = kNoTime;
  for (std::size_t i = 0; i < loaded.size(); ++i) {
    last_time = std::max(last_time, loaded[i]->last_time.load());
    if (i + 1 == loaded.size()) break;
    const std::uint64_t end = loaded[i]->end_offset.load();
    const std::uint64_t next = loaded[i + 1]->base;
    if (end < next) {
      recovery_.damage.push_back(loaded[i]->path + ": offsets " + Range(end, next) +
                                 " are missing (the next segment starts at " +
                                 std::to_string(next) + ")");
    } else if (end > next) {
      recovery_.damage.push_back(loaded[i]->path + ": records run to offset " +
                                 std::to_string(end - 1) + ", past the next segment's start " +
                                 std::to_string(next));
    }
  }
  // Segments before the last were synced when rolled, so their rebuilt
  // index can be written now; a failure only means scanning again next time.
  for (std::size_t i = 0; i + 1 < loaded.size(); ++i) {
    Segment& seg = *loaded[i];
    if (!seg.index_clean && !seg.damaged) {
      seg.index_clean = WriteIndexFile(dir_, seg.Describe()).ok();
    }
  }
  MutexLock w(write_mu_);
  active_ = loaded.back();
  last_time_ = last_time;
  next_offset_.store(active_->end_offset.load());
  first_offset_.store(loaded.front()->base);
  MutexLock l(segments_mu_);
  segments_ = std::move(loaded);
  return Status::Ok();
}

Result<ShardLog::SegmentPtr> ShardLog::LoadSegment(std::uint64_t base, bool is_last) {
  const std::string path = dir_ + "/" + SegmentFileName(base);
  UniqueFd fd(::open(path.c_str(), (is_last ? O_RDWR : O_RDONLY) | O_CLOEXEC));
  if (!fd.valid()) return PosixError(path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return PosixError(path, errno);
  auto size = static_cast<std::uint64_t>(st.st_size);

  std::string header_why;
  bool header_ok = false;
  if (size >= kSegmentHeaderBytes) {
    char h[kSegmentHeaderBytes];
    Result<std::size_t> got = PreadFull(fd.get(), h, sizeof h, 0, path);
    if (!got.ok()) return got.status();
    const HeaderCheck check = CheckSegmentHeader(h, base, header_why);
    if (check == HeaderCheck::kUnknownVersion) {
      return Status(Code::kNotSupported, path + ": " + header_why);
    }
    header_ok = check == HeaderCheck::kOk;
  } else {
    header_why = "shorter than a segment header";
  }

  IndexFile idx;
  std::string index_why;
  const bool use_index =
      header_ok && LoadUsableIndex(dir_, fd.get(), base, size, is_last, idx, index_why);
  ScanStart start{.base = base, .offset = base};
  if (use_index) {
    start.pos = idx.covered;
    start.offset = idx.end_offset;
    start.last_time = idx.last_time;
    start.last_batch_pos = idx.last_batch_pos;
    start.last_batch_crc = idx.last_batch_crc;
    start.have_entry = !idx.entries.empty();
    if (start.have_entry) start.last_index_pos = idx.entries.back().pos;
  } else {
    ++recovery_.indexes_rebuilt;
  }
  ScanResult scan;
  Status s = ScanSegment(fd.get(), path, start, size, options_.index_interval_bytes,
                         /*collect=*/false, scan);
  if (!s.ok()) return s;

  std::uint64_t end_pos = size;
  if (is_last) {
    bool changed = false;
    if (scan.torn_at) {
      // An append that never completed (or was never synced before a crash):
      // nothing valid follows it, so it is cut off, Kafka-style.
      if (::ftruncate(fd.get(), static_cast<off_t>(*scan.torn_at)) != 0) {
        return PosixError("truncate " + path, errno);
      }
      recovery_.truncated_bytes += size - *scan.torn_at;
      size = *scan.torn_at;
      changed = true;
    }
    if (!header_ok && scan.end_offset == base && scan.damage.empty()) {
      // A segment whose creation was interrupted: no records, so its header
      // can be written afresh.
      const std::string header = EncodeSegmentHeader(base);
      if (::ftruncate(fd.get(), 0) != 0) return PosixError("truncate " + path, errno);
      s = PwriteAll(fd.get(), header, 0, path);
      if (!s.ok()) return s;
      recovery_.truncated_bytes += size;
      size = header.size();
      header_ok = true;
      changed = true;
    }
    if (changed && ::fdatasync(fd.get()) != 0) return PosixError("fdatasync " + path, errno);
    end_pos = size;
  } else if (scan.torn_at) {
    recovery_.damage.push_back(path + ": byte " + std::to_string(*scan.torn_at) + ": " +
                               scan.torn_why + "; the rest of the segment is unreadable");
  }
  if (!header_ok) recovery_.damage.push_back(path + ": " + header_why);
  for (std::string& d : scan.damage) recovery_.damage.push_back(std::move(d));

  std::vector<IndexEntry> entries = std::move(idx.entries);
  entries.insert(entries.end(), scan.entries.begin(), scan.entries.end());
  const std::size_t capacity =
      entries.size() +
      (is_last ? options_.segment_bytes / options_.index_interval_bytes + 2 : std::size_t{0});
  auto seg = std::make_shared<Segment>(base, path, capacity);
  for (const IndexEntry& e : entries) (void)seg->index.Add(e);
  seg->end_pos.store(end_pos);
  seg->end_offset.store(scan.end_offset);
  seg->last_time.store(scan.last_time);
  seg->last_batch_pos = scan.last_batch_pos;
  seg->last_batch_crc = scan.last_batch_crc;
  seg->index_clean = use_index && scan.end_pos == idx.covered;
  seg->damaged = !header_ok || scan.torn_at || !scan.damage.empty();
  if (is_last) seg->Adopt(std::move(fd));
  return seg;
}

Result<ShardLog::SegmentPtr> ShardLog::CreateSegment(std::uint64_t base) {
  const std::string path = dir_ + "/" + SegmentFileName(base);
  // O_TRUNC: a file of this name can only be the leftover of a roll that
  // failed before the segment was used.
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, kFileMode));
  if (!fd.valid()) return PosixError(path, errno);
  Status s = PwriteAll(fd.get(), EncodeSegmentHeader(base), 0, path);
  if (!s.ok()) {
    ::unlink(path.c_str());
    return s;
  }
  auto seg = std::make_shared<Segment>(base, path,
                                       options_.segment_bytes / options_.index_interval_bytes + 2);
  seg->end_offset.store(base);
  seg->Adopt(std::move(fd));
  return seg;
}

Status ShardLog::Fail(Status s) {
  failed_ = s;
  return s;
}

Status ShardLog::Roll() {
  const SegmentPtr old = active_;
  Result<int> fd = old->Fd();
  if (!fd.ok()) return fd.status();
  // Synced before the next segment exists, so that after a crash only the
  // last segment can have a torn tail.
  if (::fdatasync(*fd) != 0) return Fail(PosixError("fdatasync " + old->path, errno));
  old->index_clean = WriteIndexFile(dir_, old->Describe()).ok();  // a cache: best effort
  Result<SegmentPtr> seg = CreateSegment(next_offset_.load());
  if (!seg.ok()) return seg.status();
  {
    MutexLock l(segments_mu_);
    segments_.push_back(*seg);
  }
  active_ = std::move(*seg);
  dir_dirty_ = true;
  return Status::Ok();
}

Result<std::uint64_t> ShardLog::Append(std::span<const RecordIn> records, TimeNs arrival) {
  std::size_t total = kBatchHeaderBytes;
  for (const RecordIn& r : records) {
    if (r.partition_key.size() > options_.max_key_bytes) {
      return InvalidArgument("partition key of " + std::to_string(r.partition_key.size()) +
                             " bytes is longer than the limit of " +
                             std::to_string(options_.max_key_bytes));
    }
    if (r.data.size() > options_.max_data_bytes) {
      return Status(Code::kEntityTooLarge, "record of " + std::to_string(r.data.size()) +
                                               " bytes is larger than the limit of " +
                                               std::to_string(options_.max_data_bytes));
    }
    total += kRecordHeaderBytes + r.partition_key.size() + r.data.size();
    if (total > kMaxBatchBytes) return InvalidArgument("batch is larger than 1 GiB");
  }
  if (records.empty()) {
    if (sealed()) return Status(Code::kInvalidRequest, dir_ + ": shard is closed");
    return next_offset();
  }
  // Encode and checksum the records before taking the lock; only the header
  // (offset, time) is filled in under it, its CRC combined with the body's.
  thread_local std::string tls_buf;
  std::string own_buf;
  std::string& buf = total <= kKeepBufferBytes ? tls_buf : own_buf;
  buf.resize(total);
  char* p = buf.data() + kBatchHeaderBytes;
  for (const RecordIn& r : records) {
    Store32(p, static_cast<std::uint32_t>(r.data.size()));
    Store16(p + 4, static_cast<std::uint16_t>(r.partition_key.size()));
    p += kRecordHeaderBytes;
    if (!r.partition_key.empty()) std::memcpy(p, r.partition_key.data(), r.partition_key.size());
    p += r.partition_key.size();
    if (!r.data.empty()) std::memcpy(p, r.data.data(), r.data.size());
    p += r.data.size();
  }
  const std::uint32_t body_crc = Crc32(buf.data() + kBatchHeaderBytes, total - kBatchHeaderBytes);
  const auto count = static_cast<std::uint32_t>(records.size());

  MutexLock w(write_mu_);
  if (!failed_.ok()) return failed_;
  if (sealed_.load()) return Status(Code::kInvalidRequest, dir_ + ": shard is closed");
  arrival = std::max(arrival, last_time_);
  const Segment& active = *active_;
  const std::uint64_t pos = active.end_pos.load(std::memory_order_relaxed);
  if (!active.empty()) {
    const bool full = pos + total > options_.segment_bytes;
    const bool old = options_.segment_max_age > 0 && active.index.size() > 0 &&
                     AtLeastApart(arrival, active.index[0].time, options_.segment_max_age);
    if (full || old) {
      Status s = Roll();
      if (!s.ok()) return s;
    }
  }
  std::uint64_t base = 0;
  Status s = WriteBatch(buf, body_crc, count, arrival, base);
  if (!s.ok()) return s;
  return base;
}

Status ShardLog::WriteBatch(std::string& buf, std::uint32_t body_crc, std::uint32_t count,
                            TimeNs arrival, std::uint64_t& base) {
  Segment& seg = *active_;
  base = next_offset_.load(std::memory_order_relaxed);
  const std::uint64_t pos = seg.end_pos.load(std::memory_order_relaxed);
  const std::size_t total = buf.size();
  char* h = buf.data();
  Store32(h, kBatchMagic);
  Store32(h + 8, static_cast<std::uint32_t>(total));
  Store32(h + 12, count);
  Store64(h + 16, base);
  Store64(h + 24, static_cast<std::uint64_t>(arrival));
  const auto crc =
      static_cast<std::uint32_t>(crc32_combine(Crc32(h + 8, kBatchHeaderBytes - 8), body_crc,
                                               static_cast<z_off_t>(total - kBatchHeaderBytes)));
  Store32(h + 4, crc);
  Result<int> fd = seg.Fd();
  if (!fd.ok()) return fd.status();
  Status s = PwriteAll(*fd, buf, static_cast<off_t>(pos), seg.path);
  if (!s.ok()) {
    // Cut off whatever part was written, so the next batch starts clean.
    if (::ftruncate(*fd, static_cast<off_t>(pos)) != 0) return Fail(s);
    return s;
  }
  const IndexEntry* last = seg.index.size() > 0 ? &seg.index[seg.index.size() - 1] : nullptr;
  if (last == nullptr || pos >= std::uint64_t{last->pos} + options_.index_interval_bytes) {
    (void)seg.index.Add({.rel_offset = static_cast<std::uint32_t>(base - seg.base),
                         .pos = static_cast<std::uint32_t>(pos),
                         .time = arrival});
  }
  seg.last_batch_pos = pos;
  seg.last_batch_crc = crc;
  seg.index_clean = false;
  seg.end_pos.store(pos + total, std::memory_order_release);
  seg.end_offset.store(base + count, std::memory_order_release);
  seg.last_time.store(arrival, std::memory_order_release);
  last_time_ = arrival;
  next_offset_.store(base + count, std::memory_order_seq_cst);
  NotifyWaiters();
  return Status::Ok();
}

void ShardLog::NotifyWaiters() const {
  // Pairs with WaitForAppend: the waiter registers, then checks; we publish,
  // then check for waiters. Both seq_cst, so one of us sees the other.
  if (waiters_.load(std::memory_order_seq_cst) == 0) return;
  std::lock_guard<std::mutex> lock(wait_mu_.native());
  wait_cv_.notify_all();
}

WaitResult ShardLog::WaitForAppend(std::uint64_t offset,
                                   std::chrono::steady_clock::time_point deadline) const {
  auto check = [&]() -> std::optional<WaitResult> {
    if (next_offset_.load(std::memory_order_seq_cst) > offset) return WaitResult::kReady;
    if (sealed_.load(std::memory_order_seq_cst)) return WaitResult::kSealed;
    return std::nullopt;
  };
  if (auto r = check()) return *r;
  waiters_.fetch_add(1, std::memory_order_seq_cst);
  WaitResult result = WaitResult::kTimeout;
  {
    std::unique_lock<std::mutex> lock(wait_mu_.native());
    for (;;) {
      if (auto r = check()) {
        result = *r;
        break;
      }
      if (wait_cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
        result = check().value_or(WaitResult::kTimeout);
        break;
      }
    }
  }
  waiters_.fetch_sub(1, std::memory_order_seq_cst);
  return result;
}

Status ShardLog::Sync() {
  SegmentPtr seg;
  bool dir = false;
  {
    MutexLock w(write_mu_);
    if (!failed_.ok()) return failed_;
    seg = active_;
    dir = std::exchange(dir_dirty_, false);
  }
  // Outside the lock: appends go on meanwhile. A roll in between synced
  // `seg` itself, so everything appended before this call is covered.
  Result<int> fd = seg->Fd();
  if (!fd.ok()) return fd.status();
  if (::fdatasync(*fd) != 0) {
    const int err = errno;
    // After a failed fsync the kernel may have dropped the dirty pages, so a
    // retry could falsely succeed: the failure sticks.
    MutexLock w(write_mu_);
    return Fail(PosixError("fdatasync " + seg->path, err));
  }
  if (dir && ::fsync(dir_fd_.get()) != 0) {
    const int err = errno;
    MutexLock w(write_mu_);
    dir_dirty_ = true;
    return Fail(PosixError("fsync " + dir_, err));
  }
  return Status::Ok();
}

Status ShardLog::Checkpoint() {
  MutexLock w(write_mu_);
  if (!failed_.ok()) return failed_;
  Result<int> fd = active_->Fd();
  if (!fd.ok()) return fd.status();
  if (::fdatasync(*fd) != 0) return Fail(PosixError("fdatasync " + active_->path, errno));
  if (!active_->index_clean) {
    Status s = WriteIndexFile(dir_, active_->Describe());
    if (!s.ok()) return s;
    active_->index_clean = true;
  }
  if (::fsync(dir_fd_.get()) != 0) return Fail(PosixError("fsync " + dir_, errno));
  dir_dirty_ = false;
  return Status::Ok();
}

Status ShardLog::Seal() {
  {
    MutexLock w(write_mu_);
    if (sealed_.load()) return Status::Ok();
    if (!failed_.ok()) return failed_;
    Result<int> fd = active_->Fd();
    if (!fd.ok()) return fd.status();
    if (::fdatasync(*fd) != 0) return Fail(PosixError("fdatasync " + active_->path, errno));
    if (!active_->index_clean) {
      active_->index_clean = WriteIndexFile(dir_, active_->Describe()).ok();  // a cache
    }
    // WriteFileDurably syncs the directory too, covering earlier creates.
    Status s = WriteFileDurably(dir_ + "/" + std::string(kSealedName),
                                "end_offset=" + std::to_string(next_offset()) + "\n", kFileMode);
    if (!s.ok()) return s;
    dir_dirty_ = false;
    sealed_.store(true, std::memory_order_seq_cst);
  }
  NotifyWaiters();
  return Status::Ok();
}

ShardLog::SegmentPtr ShardLog::Locate(std::uint64_t& offset, bool& trimmed) const {
  MutexLock l(segments_mu_);
  const std::uint64_t first = first_offset_.load(std::memory_order_acquire);
  if (offset < first) {
    offset = first;
    trimmed = true;
  }
  auto it = std::upper_bound(segments_.begin(), segments_.end(), offset,
                             [](std::uint64_t o, const SegmentPtr& s) { return o < s->base; });
  if (it == segments_.begin()) return nullptr;
  return *(it - 1);
}

Result<ReadResult> ShardLog::Read(std::uint64_t from, std::size_t max_records,
                                  std::size_t max_bytes, std::vector<LogRecord>& out) const {
  out.clear();
  return Visit(from, max_records, max_bytes, [&out](const RecordView& r) {
    out.push_back(LogRecord{.offset = r.offset,
                            .arrival = r.arrival,
                            .partition_key = std::string(r.partition_key),
                            .data = std::string(r.data)});
    return true;
  });
}

Result<ReadResult> ShardLog::Visit(std::uint64_t from, std::size_t max_records,
                                   std::size_t max_bytes, const Visitor& visit,
                                   VisitCache* cache) const {
  const std::uint64_t stop = next_offset();
  if (from > stop) {
    return InvalidArgument("offset " + std::to_string(from) + " is beyond the end of the shard (" +
                           std::to_string(stop) + ")");
  }
  ReadResult result{.next = from};
  std::uint64_t& at = result.next;
  std::size_t visited = 0;
  std::size_t bytes = 0;
  bool full = max_records == 0;
  // Visits the records of a checked batch from `at` on; sets `full` when
  // the visit is to stop inside or at the end of it.
  auto visit_batch = [&](std::uint64_t base, std::uint32_t count, TimeNs arrival,
                         const char* body) {
    const char* p = body;
    for (std::uint32_t k = 0; k < count; ++k) {
      const std::uint32_t data_len = Load32(p);
      const std::uint16_t key_len = Load16(p + 4);
      const char* key = p + kRecordHeaderBytes;
      p = key + key_len + data_len;
      const std::uint64_t offset = base + k;
      if (offset < at) continue;
      const std::size_t size = std::size_t{key_len} + data_len;
      // `stop`: a batch may be visible through end_pos before next_offset_
      // says so; visiting it would let `next` run past next_offset().
      if (offset >= stop || visited >= max_records || (visited > 0 && bytes + size > max_bytes)) {
        full = true;
        return;
      }
      visited += 1;
      bytes += size;
      at = offset + 1;
      if (!visit(RecordView{.offset = offset,
                            .arrival = arrival,
                            .partition_key = std::string_view(key, key_len),
                            .data = std::string_view(key + key_len, data_len)})) {
        full = true;
        return;
      }
    }
  };
  while (!full && at < stop) {
    bool trimmed = false;
    std::uint64_t located = at;
    SegmentPtr seg = Locate(located, trimmed);
    if (trimmed) {
      // Retention passed `from`, or overtook this read; in the latter case
      // return what was read and let the next call report it.
      if (visited > 0) break;
      result.trimmed = true;
      at = located;
      if (at >= stop) break;
    }
    if (seg == nullptr) return Internal(dir_ + ": no segment holds offset " + std::to_string(at));
    const std::uint64_t seg_end = seg->end_offset.load(std::memory_order_acquire);
    const std::uint64_t end_pos = seg->end_pos.load(std::memory_order_acquire);
    if (at >= seg_end) {
      if (visited > 0) break;
      return Corrupt(seg->path + ": offset " + std::to_string(at) +
                     " is missing (the segment ends at " + std::to_string(seg_end) + ")");
    }
    Result<int> fd = seg->Fd();
    if (!fd.ok()) {
      if (seg->removed.load()) continue;  // retention deleted it: Locate now skips it
      return fd.status();
    }
    std::uint64_t pos = kSegmentHeaderBytes;
    std::uint64_t expected = seg->base;
    if (cache != nullptr && cache->segment.lock() == seg && at >= cache->base &&
        at < cache->base + cache->count) {
      // The batch the last visit stopped in: its records are at hand.
      visit_batch(cache->base, cache->count, cache->arrival, cache->body.data());
      if (full) break;
      pos = cache->pos + cache->length;
      expected = cache->base + cache->count;
    } else {
      const std::size_t i = seg->index.Last(
          [rel = at - seg->base](const IndexEntry& e) { return e.rel_offset <= rel; });
      if (i != SparseIndex::kNone) {
        pos = seg->index[i].pos;
        expected = seg->base + seg->index[i].rel_offset;
      }
    }
    BatchReader reader(*fd, seg->path, pos, end_pos, kFirstReadBytes);
    for (;;) {
      const std::uint64_t batch_pos = reader.pos();
      BatchView v;
      const BatchReader::Step step = reader.Next(v, at);
      if (step == BatchReader::Step::kEnd) break;
      if (step == BatchReader::Step::kIoError) return reader.TakeStatus();
      if (step == BatchReader::Step::kBad || v.base != expected) {
        if (visited > 0) return result;  // stop before the damage
        const std::string why = step == BatchReader::Step::kBad
                                    ? reader.why()
                                    : "batch holds offsets from " + std::to_string(v.base);
        return Corrupt(seg->path + ": byte " + std::to_string(batch_pos) + ": " + why +
                       " (reading offset " + std::to_string(at) + ", expected batch from " +
                       std::to_string(expected) + ")");
      }
      expected = v.base + v.count;
      if (expected <= at) continue;  // skipped by its header
      visit_batch(v.base, v.count, v.arrival, v.body);
      if (full) {
        if (cache != nullptr) {
          cache->segment = seg;
          cache->pos = v.pos;
          cache->length = v.length;
          cache->base = v.base;
          cache->count = v.count;
          cache->arrival = v.arrival;
          cache->body.assign(v.body, v.length - kBatchHeaderBytes);
        }
        break;
      }
    }
    if (full) break;
    if (expected < seg_end) {  // the segment ended early: its end is damaged
      if (visited > 0) break;
      return Corrupt(seg->path + ": offsets " + Range(expected, seg_end) + " are unreadable");
    }
    at = std::max(at, expected);
  }
  return result;
}

Result<std::uint64_t> ShardLog::OffsetAtOrAfter(TimeNs t) const {
  // Loaded first: any batch below it is visible in the segment scan below.
  const std::uint64_t next = next_offset();
  SegmentPtr seg;
  {
    MutexLock l(segments_mu_);
    for (const SegmentPtr& s : segments_) {
      if (!s->empty() && s->last_time.load(std::memory_order_acquire) >= t) {
        seg = s;
        break;
      }
    }
  }
  if (seg == nullptr) return next;
  const std::uint64_t end_pos = seg->end_pos.load(std::memory_order_acquire);
  Result<int> fd = seg->Fd();
  if (!fd.ok()) {
    if (seg->removed.load()) return first_offset();  // expired while we looked
    return fd.status();
  }
  std::uint64_t pos = kSegmentHeaderBytes;
  std::uint64_t expected = seg->base;
  const std::size_t i = seg->index.Last([t](const IndexEntry& e) { return e.time < t; });
  if (i != SparseIndex::kNone) {
    pos = seg->index[i].pos;
    expected = seg->base + seg->index[i].rel_offset;
  }
  BatchReader reader(*fd, seg->path, pos, end_pos, kFirstReadBytes);
  for (;;) {
    const std::uint64_t batch_pos = reader.pos();
    BatchView v;
    const BatchReader::Step step = reader.Next(v);
    if (step == BatchReader::Step::kEnd) break;
    if (step == BatchReader::Step::kIoError) return reader.TakeStatus();
    if (step == BatchReader::Step::kBad || v.base != expected) {
      return Corrupt(seg->path + ": byte " + std::to_string(batch_pos) + ": " +
                     (step == BatchReader::Step::kBad ? reader.why() : "offsets out of sequence") +
                     " (searching for a time)");
    }
    if (v.arrival >= t) return std::max(v.base, first_offset());
    expected = v.base + v.count;
  }
  return std::max(expected, first_offset());
}

Result<std::size_t> ShardLog::TrimBefore(TimeNs cutoff) {
  std::vector<SegmentPtr> doomed;
  {
    MutexLock w(write_mu_);
    if (!active_->empty() && active_->last_time.load() < cutoff && failed_.ok()) {
      Status s = Roll();
      if (!s.ok()) return s;
    }
    MutexLock l(segments_mu_);
    while (segments_.size() > 1 && segments_.front()->last_time.load() < cutoff) {
      segments_.front()->removed.store(true);
      doomed.push_back(std::move(segments_.front()));
      segments_.erase(segments_.begin());
    }
    const std::uint64_t front = segments_.front()->base;
    if (first_offset_.load() < front) first_offset_.store(front, std::memory_order_release);
    if (!doomed.empty()) dir_dirty_ = true;
  }
  // Within the first remaining segment, records before the cutoff become
  // invisible now even though their bytes go only with the whole segment.
  // Only trimmers write first_offset_, and only upwards.
  Result<std::uint64_t> first = OffsetAtOrAfter(cutoff);
  if (first.ok()) {
    std::uint64_t cur = first_offset_.load();
    while (cur < *first && !first_offset_.compare_exchange_weak(cur, *first)) {
    }
  }
  // Readers still holding a doomed segment keep its open file.
  for (const SegmentPtr& seg : doomed) {
    if (::unlink(seg->path.c_str()) != 0 && errno != ENOENT) {
      return PosixError("unlink " + seg->path, errno);
    }
    const std::string index = dir_ + "/" + IndexFileName(seg->base);
    if (::unlink(index.c_str()) != 0 && errno != ENOENT)
      return PosixError("unlink " + index, errno);
  }
  return doomed.size();
}

std::size_t ShardLog::segment_count() const {
  MutexLock l(segments_mu_);
  return segments_.size();
}

std::uint64_t ShardLog::stored_bytes() const {
  MutexLock l(segments_mu_);
  std::uint64_t total = 0;
  for (const SegmentPtr& s : segments_) total += s->end_pos.load(std::memory_order_acquire);
  return total;
}

Result<CheckReport> ShardLog::Check(const std::string& dir) {
  Listing listing;
  Status s = ListShardDir(dir, listing);
  if (!s.ok()) return s;
  CheckReport rep;
  rep.segments = listing.segments.size();
  rep.sealed = listing.sealed;
  for (const std::string& name : listing.temporaries) {
    rep.notes.push_back(dir + "/" + name + ": leftover temporary file, removed at next open");
  }
  if (listing.segments.empty()) rep.notes.push_back(dir + ": no segments");
  // The end offset of the segment before, when it could be read.
  bool have_prev = false;
  std::uint64_t prev_end = 0;
  TimeNs prev_time = kNoTime;
  for (std::size_t i = 0; i < listing.segments.size(); ++i) {
    const std::uint64_t base = listing.segments[i];
    const bool is_last = i + 1 == listing.segments.size();
    const std::string path = dir + "/" + SegmentFileName(base);
    if (i == 0) rep.first_offset = base;
    if (have_prev && prev_end != base) {
      rep.problems.push_back(
          path + ": " +
          (prev_end < base ? "offsets " + Range(prev_end, base) + " are missing before it"
                           : "starts at " + std::to_string(base) + " but the segment before it " +
                                 "runs to offset " + std::to_string(prev_end - 1)));
    }
    have_prev = false;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (!fd.valid() || ::fstat(fd.get(), &st) != 0) {
      rep.problems.push_back(PosixError(path, errno).message());
      continue;
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    rep.bytes += size;
    std::string why;
    HeaderCheck header = HeaderCheck::kBad;
    if (size >= kSegmentHeaderBytes) {
      char h[kSegmentHeaderBytes];
      Result<std::size_t> got = PreadFull(fd.get(), h, sizeof h, 0, path);
      if (!got.ok()) return got.status();
      header = CheckSegmentHeader(h, base, why);
    } else {
      why = "shorter than a segment header";
    }
    if (header == HeaderCheck::kUnknownVersion) {
      rep.problems.push_back(path + ": " + why);
      continue;
    }
    ScanResult scan;
    s = ScanSegment(fd.get(), path, ScanStart{.base = base, .offset = base}, size,
                    std::numeric_limits<std::uint32_t>::max(), /*collect=*/true, scan);
    if (!s.ok()) {
      rep.problems.push_back(s.message());
      continue;
    }
    rep.records += scan.records;
    for (std::string& d : scan.damage) rep.problems.push_back(std::move(d));
    for (std::string& d : scan.time_problems) rep.problems.push_back(std::move(d));
    if (!scan.batches.empty() && prev_time != kNoTime && scan.batches.front().time < prev_time) {
      rep.problems.push_back(path + ": its first arrival time is earlier than the last one before");
    }
    if (!scan.batches.empty()) prev_time = scan.last_time;

    IndexFile idx;
    std::string index_why;
    const bool usable = header == HeaderCheck::kOk &&
                        LoadUsableIndex(dir, fd.get(), base, size, is_last, idx, index_why);
    if (header != HeaderCheck::kOk) {
      if (is_last && scan.records == 0 && scan.damage.empty()) {
        rep.notes.push_back(path + ": " + why + " and no records (an interrupted roll); " +
                            "rewritten at next open");
      } else {
        rep.problems.push_back(path + ": " + why);
      }
    }
    if (scan.torn_at) {
      const std::string what = path + ": byte " + std::to_string(*scan.torn_at) + ": " +
                               scan.torn_why + "; " + std::to_string(size - *scan.torn_at) +
                               " bytes to the end";
      if (is_last && (!usable || *scan.torn_at >= idx.covered)) {
        rep.notes.push_back(what +
                            " are a torn tail (an interrupted append), cut off at next open");
      } else {
        rep.problems.push_back(what + " are unreadable");
      }
    }
    if (usable) {
      for (const IndexEntry& e : idx.entries) {
        auto it = std::lower_bound(scan.batches.begin(), scan.batches.end(), e.pos,
                                   [](const BatchInfo& b, std::uint64_t p) { return b.pos < p; });
        if (it == scan.batches.end() || it->pos != e.pos || it->base != base + e.rel_offset ||
            it->time != e.time) {
          rep.problems.push_back(dir + "/" + IndexFileName(base) + ": entry for offset " +
                                 std::to_string(base + e.rel_offset) + " does not match byte " +
                                 std::to_string(e.pos) + " of the segment (delete the file to " +
                                 "rebuild it)");
          break;
        }
      }
    } else if (header == HeaderCheck::kOk && !(is_last && index_why == "missing")) {
      rep.notes.push_back(dir + "/" + IndexFileName(base) + ": " + index_why +
                          "; rebuilt at next open");
    }
    have_prev = true;
    prev_end = scan.end_offset;
    rep.next_offset = scan.end_offset;
  }
  if (listing.sealed) {
    Result<std::string> marker = ReadFile(dir + "/" + std::string(kSealedName));
    std::optional<std::uint64_t> end;
    if (marker.ok()) end = ParseSealMarker(*marker);
    if (!end) {
      rep.problems.push_back(dir + "/SEALED: unreadable seal marker");
    } else if (*end != rep.next_offset) {
      rep.problems.push_back(dir + "/SEALED: sealed at offset " + std::to_string(*end) +
                             " but the records end at " + std::to_string(rep.next_offset));
    }
  }
  return rep;
}

}  // namespace shoal::streams
