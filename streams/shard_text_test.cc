#include "streams/shard_text.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/file_util.h"
#include "crypto/cse.h"
#include "streams/sequence_number.h"
#include "streams/shard_log_testing.h"
#include "streams/stream_store.h"

namespace shoal::streams {
namespace {

namespace fs = std::filesystem;

constexpr TimeNs kSecond = 1'000'000'000;
constexpr TimeNs kT0 = 1'800'000'000 * kSecond;  // 2027-01-15T08:00:00Z
constexpr std::size_t kAll = std::size_t{1} << 40;
constexpr ShardOrdinal kShard = 7;

class ShardDir : public testing::ShardDir {
 public:
  ShardDir() : testing::ShardDir("shoal-shardtext") {}
};
using testing::SmallSegments;

std::shared_ptr<ShardLog> OpenLog(const std::string& dir,
                                  const ShardLog::Options& options = SmallSegments()) {
  return testing::OpenLog(dir, options);
}

// Partition keys that need JSON escaping, or are not UTF-8 at all.
const std::vector<std::string>& OddKeys() {
  static const std::vector<std::string> keys = {
      "k",
      "ключ-раздела",
      "日本語のキー",
      "quote\"back\\slash",
      std::string("ctl\x01\x1f\ttab\nnl"),
      "bad\xff\xfeutf8",
      "emoji-\xF0\x9F\x90\x9F",
      std::string(256, 'z'),
  };
  return keys;
}

std::string KeyFor(std::mt19937& rng) {
  const auto& keys = OddKeys();
  if (rng() % 3 == 0) return keys[rng() % keys.size()];
  return "pk-" + std::to_string(rng() % 100000);
}

// Data that names its record: "record-<n>:" then filler.
std::string DataFor(std::uint64_t n, std::size_t size) {
  std::string s = "record-" + std::to_string(n) + ":";
  while (s.size() < size) s += static_cast<char>('a' + (s.size() + n) % 26);
  s.resize(size);
  return s;
}

// Appends `batches` batches of 1..max_batch records with 0..max_data bytes of
// data (one in 50 of 20..70 KB if `big`), the i-th at t0 + i * step; tells
// `noted` of each, as the stream store's appender does, if given.
void AppendMany(ShardLog& log, int batches, std::size_t max_batch, std::size_t max_data, TimeNs t0,
                TimeNs step, unsigned seed = 1, bool big = false, ShardText* noted = nullptr) {
  std::mt19937 rng(seed);
  for (int i = 0; i < batches; ++i) {
    const std::size_t n = 1 + rng() % max_batch;
    std::vector<std::string> keys(n), data(n);
    std::vector<RecordIn> in(n);
    for (std::size_t j = 0; j < n; ++j) {
      const std::uint64_t id = log.next_offset() + j;
      keys[j] = KeyFor(rng);
      const std::size_t size =
          big && rng() % 50 == 0 ? 20000 + rng() % 50000 : rng() % (max_data + 1);
      data[j] = DataFor(id, size);
      in[j] = {.partition_key = keys[j], .data = data[j]};
    }
    auto first = log.Append(in, t0 + i * step);
    INFO(first.status().ToString());
    REQUIRE(first.ok());
    if (noted != nullptr) noted->NoteAppended(*first, in);
  }
}

struct Reference {
  std::string text;
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;  // keys and data
  std::vector<std::uint64_t> line_starts;
};

// The text the view must show: the lines of every retained record.
Reference BuildReference(const ShardLog& log) {
  Reference ref;
  std::vector<LogRecord> out;
  std::uint64_t at = log.first_offset();
  for (;;) {
    auto r = log.Read(at, 1000, kAll, out);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    REQUIRE_FALSE(r->trimmed);
    if (out.empty()) break;
    for (const LogRecord& rec : out) {
      ref.line_starts.push_back(ref.text.size());
      ref.text += GetRecordsLine(rec.view(), kShard);
      ref.records += 1;
      ref.bytes += rec.partition_key.size() + rec.data.size();
    }
    at = r->next;
  }
  return ref;
}

// Default checkpoints, or one every 3 records or 400 bytes of text, so that
// a small shard has many and reads cross them.
ShardTextOptions Checkpoints(bool dense) {
  if (!dense) return {};
  return {.checkpoint_records = 3, .checkpoint_bytes = 400};
}

std::string ReadAt(ShardText& text, std::uint64_t offset, std::size_t size,
                   ShardText::Served* served = nullptr) {
  std::string buf(size, '\0');
  auto n = text.Read(offset, buf.data(), size, served);
  INFO(n.status().ToString());
  REQUIRE(n.ok());
  REQUIRE(*n <= size);
  buf.resize(*n);
  return buf;
}

// The expected result of reading `size` bytes at `offset` of `ref`.
std::string Slice(const std::string& ref, std::uint64_t offset, std::size_t size) {
  if (offset >= ref.size()) return "";
  return ref.substr(offset, size);
}

std::uint64_t SizeOf(ShardText& text) {
  auto size = text.Size();
  INFO(size.status().ToString());
  REQUIRE(size.ok());
  return *size;
}

// Reads the whole view front to back in `chunk`-byte reads, as cat does.
std::string ReadSequentially(ShardText& text, std::size_t chunk,
                             ShardText::Served* total = nullptr) {
  std::string all;
  for (;;) {
    ShardText::Served served;
    const std::string part = ReadAt(text, all.size(), chunk, &served);
    if (total != nullptr) {
      total->records += served.records;
      total->bytes += served.bytes;
    }
    if (part.empty()) break;
    all += part;
  }
  return all;
}

// Checks Size and a sample of reads against the reference.
void RequireMatches(ShardText& text, const Reference& ref, std::mt19937& rng, int reads = 200) {
  REQUIRE(SizeOf(text) == ref.text.size());
  REQUIRE(ReadAt(text, 0, ref.text.size() + 10) == ref.text);
  for (int i = 0; i < reads; ++i) {
    const std::uint64_t offset = rng() % (ref.text.size() + 100);
    const std::size_t size = 1 + rng() % (i % 2 == 0 ? 300 : 70000);
    INFO("offset " << offset << " size " << size);
    REQUIRE(ReadAt(text, offset, size) == Slice(ref.text, offset, size));
  }
}

// Errors seen on threads other than the test's (Catch2 is not thread-safe).
class ThreadErrors {
 public:
  void Add(std::string what) {
    std::lock_guard lock(mu_);
    if (first_.empty()) first_ = std::move(what);
    ++count_;
  }
  int count() {
    std::lock_guard lock(mu_);
    return count_;
  }
  std::string first() {
    std::lock_guard lock(mu_);
    return first_;
  }

 private:
  std::mutex mu_;
  std::string first_;
  int count_ = 0;
};

// Checks that `text` starts with whole lines of consecutive records of
// kShard from `first` on (the last line may be cut); returns the offset after
// the last whole line, or an error message.
std::string CheckLines(const std::string& text, std::uint64_t& next, bool& first_line) {
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t nl = text.find('\n', at);
    if (nl == std::string::npos) break;  // a line cut by the read's size
    const std::string line = text.substr(at, nl + 1 - at);
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.size() != 4 || !j.contains("SequenceNumber")) {
      return "not a GetRecords line at byte " + std::to_string(at) + ": " + line.substr(0, 80);
    }
    auto seq = ParseSequenceNumber(j["SequenceNumber"].get<std::string>());
    if (!seq.ok() || seq->shard != kShard) return "bad sequence number in " + line;
    if (!first_line && seq->offset != next) {
      return "offset " + std::to_string(seq->offset) + " where " + std::to_string(next) +
             " was expected";
    }
    first_line = false;
    next = seq->offset + 1;
    std::string data;
    if (!crypto::Base64Decode(j["Data"].get<std::string>(), data) ||
        data != DataFor(seq->offset, data.size())) {
      return "wrong data for offset " + std::to_string(seq->offset);
    }
    at = nl + 1;
  }
  return "";
}

TEST_CASE("GetRecordsLineLength is the length of GetRecordsLine", "[shard_text]") {
  std::mt19937 rng(5);
  for (const std::string& key : OddKeys()) {
    for (std::size_t size : {0U, 1U, 2U, 3U, 4U, 5U, 6U, 7U, 100U, 1000U, 65537U}) {
      for (TimeNs t : {TimeNs{0}, kT0, kT0 + 999'999'999, -kSecond - 1}) {
        LogRecord rec{.offset = rng(), .arrival = t, .partition_key = key, .data = {}};
        rec.data.resize(size);
        for (char& c : rec.data) c = static_cast<char>(rng());
        INFO("key " << key << " size " << size << " time " << t);
        REQUIRE(GetRecordsLineLength(rec.view(), kShard) ==
                GetRecordsLine(rec.view(), kShard).size());
      }
    }
  }
}

TEST_CASE("an empty log has an empty view", "[shard_text]") {
  ShardDir tmp;
  auto log = OpenLog(tmp.shard());
  ShardText text(log, kShard);
  CHECK(SizeOf(text) == 0);
  ShardText::Served served{.records = 9, .bytes = 9};
  CHECK(ReadAt(text, 0, 100, &served).empty());
  CHECK(served.records == 0);
  CHECK(served.bytes == 0);
  CHECK(ReadAt(text, 12345, 100).empty());
  CHECK(ReadAt(text, UINT64_MAX, 100).empty());
  CHECK(ReadAt(text, 0, 0).empty());

  SECTION("and then grows") {
    AppendMany(*log, 3, 2, 50, kT0, kSecond);
    const Reference ref = BuildReference(*log);
    CHECK(SizeOf(text) == ref.text.size());
    CHECK(ReadAt(text, 0, 1 << 20) == ref.text);
  }
  SECTION("sealed") {
    REQUIRE(log->Seal().ok());
    CHECK(SizeOf(text) == 0);
    CHECK(ReadAt(text, 0, 100).empty());
  }
}

TEST_CASE("reads at every offset of a small shard match the text", "[shard_text]") {
  ShardDir tmp;
  auto log = OpenLog(tmp.shard());
  AppendMany(*log, 8, 3, 120, kT0, kSecond / 3);
  const Reference ref = BuildReference(*log);
  REQUIRE(ref.records >= 8);
  const bool dense = GENERATE(false, true);
  INFO("dense checkpoints: " << dense);
  ShardText text(log, kShard, Checkpoints(dense));
  REQUIRE(SizeOf(text) == ref.text.size());
  if (dense) CHECK(text.checkpoint_count() > ref.records / 3);
  const std::size_t total = ref.text.size();

  SECTION("every offset, forwards and backwards") {
    // Each read finds its place from the checkpoints and the cursor,
    // wherever the previous read ended.
    for (std::size_t size : {std::size_t{1}, std::size_t{97}, std::size_t{333}, total, total + 1}) {
      for (std::uint64_t offset = 0; offset <= total + 3; ++offset) {
        INFO("offset " << offset << " size " << size);
        REQUIRE(ReadAt(text, offset, size) == Slice(ref.text, offset, size));
      }
      if (size > 97) continue;
      for (std::uint64_t offset = total + 3; offset-- > 0;) {
        INFO("backwards: offset " << offset << " size " << size);
        REQUIRE(ReadAt(text, offset, size) == Slice(ref.text, offset, size));
      }
    }
  }

  SECTION("served counts each line once, with the read that ends it") {
    ShardText::Served served;
    CHECK(ReadAt(text, 0, total, &served) == ref.text);
    CHECK(served.records == ref.records);
    CHECK(served.bytes == ref.bytes);

    // Reading the first line in two pieces: the record counts with the second.
    const std::uint64_t second_line = ref.line_starts.at(1);
    CHECK(ReadAt(text, 0, 10, &served).size() == 10);
    CHECK(served.records == 0);
    CHECK(ReadAt(text, 10, second_line - 10, &served).size() == second_line - 10);
    CHECK(served.records == 1);
    CHECK(served.bytes > 0);

    ShardText::Served sum;
    for (std::size_t chunk : {1U, 7U, 100U, 4096U}) {
      sum = {};
      CHECK(ReadSequentially(text, chunk, &sum) == ref.text);
      CHECK(sum.records == ref.records);
      CHECK(sum.bytes == ref.bytes);
    }
  }
  SECTION("a fresh view reads before it sizes") {
    ShardText fresh(log, kShard, Checkpoints(dense));
    CHECK(ReadAt(fresh, 100, 50) == Slice(ref.text, 100, 50));
    CHECK(ReadAt(fresh, total - 5, 50) == Slice(ref.text, total - 5, 50));
    CHECK(SizeOf(fresh) == total);
  }
}

TEST_CASE("appends between calls grow the view and keep its earlier bytes", "[shard_text]") {
  ShardDir tmp;
  auto log = OpenLog(tmp.shard());
  ShardText text(log, kShard);
  std::string seen;  // what a tail -f reader has read so far
  std::uint64_t last_size = 0;
  for (int round = 0; round < 40; ++round) {
    AppendMany(*log, 1 + round % 3, 5, 200, kT0 + round * kSecond, 1,
               static_cast<unsigned>(100 + round));
    const Reference ref = BuildReference(*log);
    const std::uint64_t size = SizeOf(text);
    REQUIRE(size == ref.text.size());
    REQUIRE(size > last_size);
    // The bytes before the old size did not change.
    REQUIRE(ReadAt(text, 0, last_size) == ref.text.substr(0, last_size));
    // tail -f: read from where it stopped until the end.
    for (;;) {
      const std::string part = ReadAt(text, seen.size(), 1000);
      if (part.empty()) break;
      seen += part;
    }
    REQUIRE(seen == ref.text);
    last_size = size;
  }
  CHECK(ReadAt(text, last_size, 10).empty());
  // A read past the last Size sees records appended since.
  AppendMany(*log, 1, 1, 10, kT0 + 100 * kSecond, 1);
  const Reference ref = BuildReference(*log);
  CHECK(ReadAt(text, last_size, 1 << 20) == ref.text.substr(last_size));
}

// Appends one batch of `n` records and tells `text` about it, as the
// stream store's appender does; returns the first offset.
std::uint64_t AppendNoted(ShardLog& log, ShardText& text, std::size_t n, std::uint64_t seed) {
  std::mt19937 rng(static_cast<unsigned>(seed));
  std::vector<std::string> keys(n), data(n);
  std::vector<RecordIn> in(n);
  for (std::size_t j = 0; j < n; ++j) {
    keys[j] = KeyFor(rng);
    data[j] = DataFor(log.next_offset() + j, rng() % 120);
    in[j] = {.partition_key = keys[j], .data = data[j]};
  }
  auto first = log.Append(in, kT0);
  REQUIRE(first.ok());
  text.NoteAppended(*first, in);
  return *first;
}

TEST_CASE("appends the view is told about are indexed without reading them back", "[shard_text]") {
  ShardDir tmp;
  auto log = OpenLog(tmp.shard());
  const bool dense = GENERATE(false, true);
  ShardText text(log, kShard, Checkpoints(dense));
  for (std::size_t b = 0; b < 40; ++b) AppendNoted(*log, text, 1 + b % 7, b);
  const Reference ref = BuildReference(*log);
  CHECK(SizeOf(text) == ref.text.size());
  CHECK(ReadSequentially(text, 777) == ref.text);

  // Proof that Size read nothing: damage in a noted batch leaves the size
  // whole (a scan would have ended the view before it); the read meets it.
  const std::uint64_t victim = AppendNoted(*log, text, 5, 99);
  const std::uint64_t size_before_damage = ref.text.size();
  std::string file;
  std::uint64_t pos = 0;
  const std::string needle = "record-" + std::to_string(victim) + ":";
  for (const auto& e : fs::directory_iterator(tmp.shard())) {
    if (e.path().extension() != ".log") continue;
    auto bytes = ReadFile(e.path().string());
    REQUIRE(bytes.ok());
    if (const std::size_t at = bytes->find(needle); at != std::string::npos) {
      file = e.path().string();
      pos = at + 2;
    }
  }
  REQUIRE_FALSE(file.empty());
  const int fd = ::open(file.c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  REQUIRE(::pwrite(fd, "#", 1, static_cast<off_t>(pos)) == 1);
  ::close(fd);
  CHECK(SizeOf(text) > size_before_damage);
  std::string buf(100, '\0');
  auto failed = text.Read(size_before_damage, buf.data(), buf.size());
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.status().code() == Code::kCorrupt);
}

TEST_CASE("an append noted out of order is left to the next scan", "[shard_text]") {
  ShardDir tmp;
  auto log = OpenLog(tmp.shard());
  ShardText text(log, kShard, Checkpoints(true));
  AppendNoted(*log, text, 4, 1);
  CHECK(SizeOf(text) == BuildReference(*log).text.size());
  // Two appends whose notes arrive in the wrong order: the second's note
  // comes first, when its records are not the next unscanned ones.
  std::vector<std::string> data = {DataFor(4, 30), DataFor(5, 40), DataFor(6, 50)};
  std::vector<RecordIn> one{{.partition_key = "a", .data = data[0]}};
  std::vector<RecordIn> two{{.partition_key = "b", .data = data[1]},
                            {.partition_key = "c", .data = data[2]}};
  REQUIRE(*log->Append(one, kT0) == 4);
  REQUIRE(*log->Append(two, kT0) == 5);
  text.NoteAppended(5, two);  // not next (4 is): ignored
  text.NoteAppended(4, one);  // next: indexed
  text.NoteAppended(4, one);  // already indexed: ignored
  const Reference ref = BuildReference(*log);
  CHECK(SizeOf(text) == ref.text.size());
  CHECK(ReadSequentially(text, 50) == ref.text);
}

TEST_CASE("a shard of 20k records reads back in random chunks", "[shard_text]") {
  ShardDir tmp;
  ShardLog::Options o;
  o.segment_bytes = 1 << 20;
  auto log = OpenLog(tmp.shard(), o);
  AppendMany(*log, 2000, 19, 400, kT0, kSecond / 10, 42, /*big=*/true);
  const Reference ref = BuildReference(*log);
  REQUIRE(ref.records >= 15000);
  ShardText text(log, kShard);
  std::mt19937 rng(7);

  SECTION("sized first") {
    REQUIRE(SizeOf(text) == ref.text.size());
    // One checkpoint per 512 records or 64 KiB of text, at most.
    const std::size_t bound = ref.records / 512 + ref.text.size() / (64 << 10) + 2;
    CHECK(text.checkpoint_count() <= bound);
    CHECK(text.checkpoint_count() >= ref.text.size() / (256 << 10));
    RequireMatches(text, ref, rng, 600);
  }
  SECTION("read first, in random order") {
    for (int i = 0; i < 500; ++i) {
      const std::uint64_t offset = rng() % (ref.text.size() + 10);
      const std::size_t size = 1 + rng() % 9000;
      INFO("offset " << offset << " size " << size);
      REQUIRE(ReadAt(text, offset, size) == Slice(ref.text, offset, size));
    }
    REQUIRE(SizeOf(text) == ref.text.size());
  }
  SECTION("cat, then tail -n reading backwards from the end") {
    ShardText::Served total;
    REQUIRE(ReadSequentially(text, 128 << 10, &total) == ref.text);
    CHECK(total.records == ref.records);
    CHECK(total.bytes == ref.bytes);
    const std::uint64_t size = SizeOf(text);
    std::string tail;
    for (std::uint64_t end = size; end > 0 && tail.size() < 200000;) {
      const std::uint64_t begin = end > 8192 ? end - 8192 : 0;
      tail.insert(0, ReadAt(text, begin, static_cast<std::size_t>(end - begin)));
      end = begin;
    }
    CHECK(tail == ref.text.substr(ref.text.size() - tail.size()));
  }
}

TEST_CASE("retention cuts the head and offsets move with it", "[shard_text]") {
  ShardDir tmp;
  auto log = OpenLog(tmp.shard());
  // 300 batches, one per simulated second: segments of 4 KiB roll often.
  AppendMany(*log, 300, 3, 150, kT0, kSecond, 3);
  REQUIRE(log->segment_count() > 10);
  std::mt19937 rng(11);
  const bool dense = GENERATE(false, true);
  INFO("dense checkpoints: " << dense);
  auto trim = [&](TimeNs cutoff) {
    auto trimmed = log->TrimBefore(cutoff);
    INFO(trimmed.status().ToString());
    REQUIRE(trimmed.ok());
  };

  SECTION("step by step, with the index built, the head landing anywhere") {
    ShardText text(log, kShard, Checkpoints(dense));
    Reference ref = BuildReference(*log);
    RequireMatches(text, ref, rng, 50);
    for (int second = 1; second < 300; second += 1 + static_cast<int>(rng() % 13)) {
      trim(kT0 + second * kSecond);
      INFO("trimmed before second " << second << ", first offset " << log->first_offset());
      const Reference now = BuildReference(*log);
      REQUIRE(now.text.size() < ref.text.size());
      // The view is the old one with its head cut.
      REQUIRE(ref.text.ends_with(now.text));
      RequireMatches(text, now, rng, 30);
      ref = now;
    }
  }
  SECTION("a view made after the trim") {
    trim(kT0 + 150 * kSecond);
    ShardText text(log, kShard, Checkpoints(dense));
    RequireMatches(text, BuildReference(*log), rng);
  }
  SECTION("a trim beyond what the view scanned") {
    ShardText text(log, kShard, Checkpoints(dense));
    const Reference before = BuildReference(*log);
    REQUIRE(ReadAt(text, 0, 100) == before.text.substr(0, 100));
    trim(kT0 + 200 * kSecond);
    RequireMatches(text, BuildReference(*log), rng);
  }
  SECTION("a sequential reader's cursor below the new head") {
    ShardText text(log, kShard, Checkpoints(dense));
    const Reference before = BuildReference(*log);
    const std::uint64_t mid = before.text.size() / 2;
    REQUIRE(ReadAt(text, mid, 1000) == before.text.substr(mid, 1000));
    trim(kT0 + 250 * kSecond);
    const Reference after = BuildReference(*log);
    CHECK(ReadAt(text, 0, 1000) == after.text.substr(0, 1000));
    RequireMatches(text, after, rng);
  }
  SECTION("everything expires, then new records arrive") {
    ShardText text(log, kShard, Checkpoints(dense));
    REQUIRE(SizeOf(text) == BuildReference(*log).text.size());
    trim(kT0 + 1000 * kSecond);
    REQUIRE(log->first_offset() == log->next_offset());
    CHECK(SizeOf(text) == 0);
    CHECK(ReadAt(text, 0, 100).empty());
    CHECK(text.checkpoint_count() == 1);  // the head
    AppendMany(*log, 20, 3, 100, kT0 + 2000 * kSecond, kSecond, 4);
    RequireMatches(text, BuildReference(*log), rng);
    trim(kT0 + 2010 * kSecond);
    RequireMatches(text, BuildReference(*log), rng);
  }
}

TEST_CASE("a sealed log reads like any other", "[shard_text]") {
  ShardDir tmp;
  auto log = OpenLog(tmp.shard());
  AppendMany(*log, 50, 4, 300, kT0, kSecond, 8);
  ShardText text(log, kShard);
  const std::uint64_t before = SizeOf(text);
  REQUIRE(log->Seal().ok());
  std::vector<RecordIn> more = {{.partition_key = "k", .data = "x"}};
  REQUIRE_FALSE(log->Append(more, kT0 + 100 * kSecond).ok());
  const Reference ref = BuildReference(*log);
  CHECK(before == ref.text.size());
  std::mt19937 rng(3);
  RequireMatches(text, ref, rng);
  CHECK(ReadSequentially(text, 1000) == ref.text);
}

TEST_CASE("damage stops the view and is reported by the read that meets it", "[shard_text]") {
  ShardDir tmp;
  auto log = OpenLog(tmp.shard());
  AppendMany(*log, 120, 4, 150, kT0, kSecond, 9);
  REQUIRE(log->segment_count() >= 3);
  ShardText text(log, kShard);
  std::mt19937 rng(4);
  const Reference whole = BuildReference(*log);
  bool indexed = false;
  SECTION("damage before the first call") {}
  SECTION("damage after the view has been read") {
    RequireMatches(text, whole, rng);
    indexed = true;
  }

  // Damage the data of a record in the middle, found by its text.
  std::vector<LogRecord> out;
  REQUIRE(log->Read(log->next_offset() / 2, kAll, kAll, out).ok());
  auto it =
      std::find_if(out.begin(), out.end(), [](const LogRecord& r) { return r.data.size() >= 12; });
  REQUIRE(it != out.end());
  const std::uint64_t victim = it->offset;
  const std::string needle = "record-" + std::to_string(victim) + ":";
  std::string file;
  std::uint64_t pos = 0;
  for (const auto& e : fs::directory_iterator(tmp.shard())) {
    if (e.path().extension() != ".log") continue;
    auto bytes = ReadFile(e.path().string());
    REQUIRE(bytes.ok());
    const std::size_t at = bytes->find(needle);
    if (at != std::string::npos) {
      file = e.path().string();
      pos = at + 2;
    }
  }
  REQUIRE_FALSE(file.empty());
  const int fd = ::open(file.c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  char c = 0;
  REQUIRE(::pread(fd, &c, 1, static_cast<off_t>(pos)) == 1);
  c = static_cast<char>(c ^ 0x20);
  REQUIRE(::pwrite(fd, &c, 1, static_cast<off_t>(pos)) == 1);
  ::close(fd);

  // The lines of the records before the damaged batch.
  std::string before;
  std::uint64_t at = 0;
  for (;;) {
    auto r = log->Read(at, 1, kAll, out);
    if (!r.ok() || out.empty()) break;
    before += GetRecordsLine(out[0].view(), kShard);
    at = r->next;
  }
  REQUIRE(at <= victim);
  REQUIRE(at > 0);

  // Damage met by the scan ends the view like a short file, stably; damage
  // that comes after the scan leaves the size as it was.
  const std::uint64_t size = indexed ? whole.text.size() : before.size();
  CHECK(SizeOf(text) == size);
  CHECK(SizeOf(text) == size);
  // A read up to the damage is short; the next one reports it.
  CHECK(ReadAt(text, 0, before.size() + 1000) == before);
  std::string buf(100, '\0');
  auto failed = text.Read(before.size(), buf.data(), buf.size());
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.status().code() == Code::kCorrupt);
  failed = text.Read(before.size() + 5000, buf.data(), buf.size());
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.status().code() == Code::kCorrupt);
  // Earlier bytes are still readable.
  CHECK(ReadAt(text, 10, 50) == before.substr(10, 50));
  CHECK(ReadAt(text, before.size() - 3, 3) == before.substr(before.size() - 3));
}

TEST_CASE("a reader follows a concurrent appender to the end", "[shard_text]") {
  ShardDir tmp;
  ShardLog::Options o;
  o.segment_bytes = 64 << 10;
  auto log = OpenLog(tmp.shard(), o);
  // The appender indexes what it appends (NoteAppended) or leaves it to
  // the reader's scans.
  const bool noted = GENERATE(false, true);
  ShardText text(log, kShard);
  std::atomic<bool> done{false};
  ThreadErrors errors;
  std::string seen;

  std::thread reader([&] {
    std::string buf(3000, '\0');
    for (;;) {
      const bool finished = done.load();
      auto n = text.Read(seen.size(), buf.data(), buf.size());
      if (!n.ok()) return errors.Add("reader: " + n.status().ToString());
      if (*n == 0) {
        if (finished) return;
        std::this_thread::yield();
        continue;
      }
      seen.append(buf.data(), *n);
    }
  });
  std::thread sizer([&] {
    std::uint64_t last = 0;
    while (!done.load()) {
      auto size = text.Size();
      if (!size.ok()) return errors.Add("sizer: " + size.status().ToString());
      if (*size < last) return errors.Add("sizer: the size went down");
      last = *size;
      // A line ends just before the size.
      char c = 0;
      auto n = text.Read(*size - 1, &c, 1);
      if (*size > 0 && (!n.ok() || *n != 1 || c != '\n')) {
        return errors.Add("sizer: no newline before the size");
      }
    }
  });
  AppendMany(*log, 3000, 5, 300, kT0, kSecond / 100, 13, false, noted ? &text : nullptr);
  done = true;
  reader.join();
  sizer.join();
  INFO(errors.first());
  REQUIRE(errors.count() == 0);

  const Reference ref = BuildReference(*log);
  REQUIRE(seen == ref.text);
  std::uint64_t next = 0;
  bool first_line = true;
  CHECK(CheckLines(seen, next, first_line).empty());
  CHECK(next == log->next_offset());
  CHECK(SizeOf(text) == ref.text.size());
}

TEST_CASE("reads beside appends and retention see whole lines from the head", "[shard_text]") {
  ShardDir tmp;
  ShardLog::Options o = SmallSegments();
  o.segment_bytes = 16 << 10;
  auto log = OpenLog(tmp.shard(), o);
  const bool dense = GENERATE(false, true);
  INFO("dense checkpoints: " << dense);
  ShardText text(log, kShard, Checkpoints(dense));
  constexpr int kSeconds = 800;  // of appends, 10 batches a second
  std::atomic<bool> done{false};
  ThreadErrors errors;

  auto reader = [&] {
    std::string buf(64 << 10, '\0');
    while (!done.load()) {
      const std::uint64_t head_before = log->first_offset();
      auto n = text.Read(0, buf.data(), buf.size());
      const std::uint64_t head_after = log->first_offset();
      if (!n.ok()) return errors.Add("reader: " + n.status().ToString());
      if (*n == 0) continue;
      std::uint64_t next = 0;
      bool first_line = true;
      const std::string got(buf.data(), *n);
      const std::string problem = CheckLines(got, next, first_line);
      if (!problem.empty()) return errors.Add("reader: " + problem);
      if (first_line) continue;  // one cut line only
      // The first line read is the head's, at some moment during the call.
      auto seq =
          ParseSequenceNumber(nlohmann::json::parse(got.substr(0, got.find('\n')))["SequenceNumber"]
                                  .get<std::string>());
      if (seq->offset < head_before || seq->offset > head_after) {
        return errors.Add("reader: the first line is record " + std::to_string(seq->offset) +
                          ", the head moved from " + std::to_string(head_before) + " to " +
                          std::to_string(head_after));
      }
    }
  };
  auto sequential = [&] {
    // A tail -f reader: its bytes are whole lines as long as no trim cuts
    // the head under it; here it only checks that reads never fail.
    std::string buf(5000, '\0');
    std::uint64_t at = 0;
    while (!done.load()) {
      auto size = text.Size();
      if (!size.ok()) return errors.Add("sequential: " + size.status().ToString());
      if (at > *size) at = 0;
      auto n = text.Read(at, buf.data(), buf.size());
      if (!n.ok()) return errors.Add("sequential: " + n.status().ToString());
      at += *n;
    }
  };
  auto trimmer = [&] {
    while (!done.load()) {
      // Keep about the last 20 simulated seconds (10 batches a second, 3
      // records a batch on average).
      const TimeNs newest = kT0 + static_cast<TimeNs>(log->next_offset() / 30) * kSecond;
      auto trimmed = log->TrimBefore(newest - 20 * kSecond);
      if (!trimmed.ok()) errors.Add("trimmer: " + trimmed.status().ToString());
      std::this_thread::yield();
    }
  };
  std::thread r1(reader), r2(sequential), t(trimmer);
  // A second of records at a time, with pauses for the readers to run.
  for (int second = 0; second < kSeconds; ++second) {
    AppendMany(*log, 10, 5, 200, kT0 + second * kSecond, kSecond / 10,
               static_cast<unsigned>(second));
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  done = true;
  r1.join();
  r2.join();
  t.join();
  INFO(errors.first());
  REQUIRE(errors.count() == 0);
  CHECK(log->first_offset() > 0);
  std::mt19937 rng(2);
  const Reference ref = BuildReference(*log);
  RequireMatches(text, ref, rng);
  // Memory follows what is retained, not what was ever scanned.
  const ShardTextOptions options = Checkpoints(dense);
  CHECK(text.checkpoint_count() <=
        ref.records / options.checkpoint_records + ref.text.size() / options.checkpoint_bytes + 2);
}

}  // namespace
}  // namespace shoal::streams
