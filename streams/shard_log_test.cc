#include "streams/shard_log.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include "base/file_util.h"
#include "streams/shard_log_testing.h"

namespace shoal::streams {
namespace {

namespace fs = std::filesystem;

constexpr TimeNs kSecond = 1'000'000'000;
constexpr TimeNs kT0 = 1'800'000'000 * kSecond;  // 2027-01-15T08:00:00Z
constexpr std::size_t kAll = std::size_t{1} << 40;

using testing::OpenLog;
using testing::ShardDir;
using testing::SmallSegments;

// What a test appended, to compare reads against.
struct Expected {
  std::uint64_t offset;
  TimeNs arrival;
  std::string key;
  std::string data;
};

std::string DataFor(std::uint64_t n, std::size_t size) {
  std::string s = "record-" + std::to_string(n) + ":";
  while (s.size() < size) s += static_cast<char>('a' + (s.size() + n) % 26);
  s.resize(size);
  return s;
}

// Appends `batches` batches of 1..max_batch records of 0..max_data bytes, the
// i-th at time `t0 + i * step`; returns what was appended.
std::vector<Expected> AppendMany(ShardLog& log, int batches, std::size_t max_batch,
                                 std::size_t max_data, TimeNs t0, TimeNs step, unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::vector<Expected> out;
  for (int i = 0; i < batches; ++i) {
    const std::size_t n = 1 + rng() % max_batch;
    std::vector<std::string> keys(n), data(n);
    std::vector<RecordIn> in(n);
    for (std::size_t j = 0; j < n; ++j) {
      const std::uint64_t id = log.next_offset() + j;
      keys[j] = "pk-" + std::to_string(rng() % 1000);
      data[j] = DataFor(id, rng() % (max_data + 1));
      in[j] = {.partition_key = keys[j], .data = data[j]};
    }
    const TimeNs t = t0 + i * step;
    auto first = log.Append(in, t);
    INFO(first.status().ToString());
    REQUIRE(first.ok());
    for (std::size_t j = 0; j < n; ++j) out.push_back({*first + j, t, keys[j], data[j]});
  }
  return out;
}

// Every retained record, read in chunks of `chunk`.
std::vector<LogRecord> ReadAll(const ShardLog& log, std::size_t chunk = 37) {
  std::vector<LogRecord> all;
  std::vector<LogRecord> part;
  std::uint64_t at = 0;
  for (;;) {
    auto r = log.Read(at, chunk, kAll, part);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    if (part.empty()) break;
    REQUIRE(part.front().offset == (all.empty() ? part.front().offset : all.back().offset + 1));
    for (LogRecord& rec : part) all.push_back(std::move(rec));
    at = r->next;
  }
  return all;
}

void RequireSame(const std::vector<LogRecord>& got, const std::vector<Expected>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("record " << i);
    REQUIRE(got[i].offset == want[i].offset);
    REQUIRE(got[i].arrival == want[i].arrival);
    REQUIRE(got[i].partition_key == want[i].key);
    REQUIRE(got[i].data == want[i].data);
  }
}

std::vector<std::string> FilesWithSuffix(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.size() > suffix.size() && name.ends_with(suffix)) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::uint64_t FileSize(const std::string& path) {
  return fs::file_size(path);
}

void FlipByte(const std::string& path, std::uint64_t pos) {
  const int fd = ::open(path.c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  char c = 0;
  REQUIRE(::pread(fd, &c, 1, static_cast<off_t>(pos)) == 1);
  c = static_cast<char>(c ^ 0x20);
  REQUIRE(::pwrite(fd, &c, 1, static_cast<off_t>(pos)) == 1);
  ::close(fd);
}

void AppendBytes(const std::string& path, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

bool Mentions(const std::vector<std::string>& lines, const std::string& what) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(what) != std::string::npos; });
}

TEST_CASE("records read back in order across segment rolls, with keys, data and times",
          "[shard_log]") {
  ShardDir tmp;
  auto log = OpenLog(tmp.shard());
  CHECK(log->next_offset() == 0);
  CHECK(log->first_offset() == 0);
  std::vector<Expected> want = AppendMany(*log, 300, 6, 300, kT0, kSecond);
  CHECK(log->segment_count() > 5);
  CHECK(log->next_offset() == want.size());
  CHECK(FilesWithSuffix(tmp.shard(), ".log").size() == log->segment_count());

  SECTION("in chunks of every size") {
    for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{100}, kAll}) {
      RequireSame(ReadAll(*log, chunk), want);
    }
  }
  SECTION("from any offset") {
    std::vector<LogRecord> part;
    for (std::uint64_t from = 0; from < want.size(); from += 13) {
      auto r = log->Read(from, 25, kAll, part);
      REQUIRE(r.ok());
      CHECK_FALSE(r->trimmed);
      const std::size_t n = std::min<std::size_t>(25, want.size() - from);
      REQUIRE(part.size() == n);
      CHECK(r->next == from + n);
      for (std::size_t i = 0; i < n; ++i) {
        REQUIRE(part[i].offset == from + i);
        REQUIRE(part[i].data == want[from + i].data);
      }
    }
  }
  SECTION("empty records and maximal keys round-trip") {
    const std::string key(256, 'k');
    const std::string big(5000, 'x');
    std::vector<RecordIn> in = {{.partition_key = "", .data = ""},
                                {.partition_key = key, .data = big}};
    auto first = log->Append(in, kT0 + 1000 * kSecond);
    REQUIRE(first.ok());
    std::vector<LogRecord> part;
    auto r = log->Read(*first, 10, kAll, part);
    REQUIRE(r.ok());
    REQUIRE(part.size() == 2);
    CHECK(part[0].partition_key.empty());
    CHECK(part[0].data.empty());
    CHECK(part[1].partition_key == key);
    CHECK(part[1].data == big);
  }
}

TEST_CASE("Read stops at its record and byte limits and refuses offsets past the end",
          "[shard_log]") {
  ShardDir tmp;
  auto log = OpenLog(tmp.shard());
  std::vector<std::string> data = {std::string(100, 'a'), std::string(100, 'b'),
                                   std::string(100, 'c')};
  std::vector<RecordIn> in;
  in.reserve(data.size());
  for (const std::string& d : data) in.push_back({.partition_key = "k", .data = d});
  REQUIRE(log->Append(in, kT0).ok());
  std::vector<LogRecord> out;

  auto r = log->Read(0, 2, kAll, out);
  REQUIRE(r.ok());
  CHECK(out.size() == 2);
  CHECK(r->next == 2);

  r = log->Read(0, 10, 202, out);  // key + data bytes: 101 each
  REQUIRE(r.ok());
  CHECK(out.size() == 2);

  r = log->Read(0, 10, 1, out);  // always at least one record
  REQUIRE(r.ok());
  CHECK(out.size() == 1);
  CHECK(r->next == 1);

  r = log->Read(3, 10, kAll, out);
  REQUIRE(r.ok());
  CHECK(out.empty());
  CHECK(r->next == 3);

  r = log->Read(4, 10, kAll, out);
  CHECK(r.status().code() == Code::kInvalidArgument);
}

TEST_CASE(
    "Visit hands records over as views, stops where the visitor says, and skips batches "
    "before its start unread",
    "[shard_log]") {
  ShardDir tmp;
  ShardLog::Options o;
  o.index_interval_bytes = std::size_t{1} << 20;  // one index entry: every read scans from it
  auto log = OpenLog(tmp.shard(), o);
  std::vector<std::string> data;
  for (std::uint64_t n = 0; n < 100; ++n) data.push_back(DataFor(n, 50));
  for (std::size_t b = 0; b < 10; ++b) {  // ten batches of ten records
    std::vector<RecordIn> in;
    for (std::size_t k = 0; k < 10; ++k)
      in.push_back({.partition_key = "k", .data = data[b * 10 + k]});
    REQUIRE(log->Append(in, kT0).ok());
  }
  std::vector<std::uint64_t> seen;
  auto visit_until = [&](std::uint64_t from, std::uint64_t last) {
    seen.clear();
    return log->Visit(from, kAll, kAll, [&](const RecordView& r) {
      CHECK(r.partition_key == "k");
      CHECK(r.data == data[r.offset]);
      CHECK(r.arrival == kT0);
      seen.push_back(r.offset);
      return r.offset < last;
    });
  };

  auto r = visit_until(0, 25);  // false at 25: 25 is visited, next is 26
  REQUIRE(r.ok());
  CHECK(r->next == 26);
  REQUIRE(seen.size() == 26);
  CHECK(seen.front() == 0);
  CHECK(seen.back() == 25);
  r = visit_until(37, 37);
  REQUIRE(r.ok());
  CHECK(seen == std::vector<std::uint64_t>{37});
  CHECK(r->next == 38);

  // Damage in the first batch: reads from it fail, visits that start in a
  // later batch pass over it by its header.
  const std::vector<std::string> segments = FilesWithSuffix(tmp.shard(), ".log");
  REQUIRE(segments.size() == 1);
  auto bytes = ReadFile(segments[0]);
  REQUIRE(bytes.ok());
  const std::size_t at = bytes->find("record-5:");
  REQUIRE(at != std::string::npos);
  FlipByte(segments[0], at + 3);
  std::vector<LogRecord> out;
  CHECK(log->Read(0, kAll, kAll, out).status().code() == Code::kCorrupt);
  r = visit_until(30, 1000);
  REQUIRE(r.ok());
  CHECK(r->next == 100);
  REQUIRE(seen.size() == 70);
  CHECK(seen.front() == 30);
  REQUIRE(log->Read(30, kAll, kAll, out).ok());
  CHECK(out.size() == 70);
}

TEST_CASE("a visit that starts in the batch the last one stopped in takes it from the cache",
          "[shard_log]") {
  ShardDir tmp;
  auto log = OpenLog(tmp.shard());
  std::vector<std::string> data;
  for (std::uint64_t n = 0; n < 30; ++n) data.push_back(DataFor(n, 40));
  for (std::size_t b = 0; b < 3; ++b) {  // three batches of ten
    std::vector<RecordIn> in;
    for (std::size_t k = 0; k < 10; ++k)
      in.push_back({.partition_key = "k", .data = data[b * 10 + k]});
    REQUIRE(log->Append(in, kT0).ok());
  }
  ShardLog::VisitCache cache;
  std::vector<std::uint64_t> seen;
  auto visit = [&](std::uint64_t from, std::size_t max_records, ShardLog::VisitCache* c) {
    seen.clear();
    return log->Visit(
        from, max_records, kAll,
        [&](const RecordView& r) {
          CHECK(r.data == data[r.offset]);
          seen.push_back(r.offset);
          return true;
        },
        c);
  };
  // Stops at record 14, inside the second batch: that batch is kept.
  auto r = visit(12, 3, &cache);
  REQUIRE(r.ok());
  CHECK(r->next == 15);

  // Damage the kept batch on disk. A visit without the cache meets it; one
  // with it takes the batch as it was checked, then reads the third.
  const std::vector<std::string> segments = FilesWithSuffix(tmp.shard(), ".log");
  REQUIRE(segments.size() == 1);
  auto bytes = ReadFile(segments[0]);
  REQUIRE(bytes.ok());
  const std::size_t at = bytes->find("record-16:");
  REQUIRE(at != std::string::npos);
  FlipByte(segments[0], at + 3);
  CHECK(visit(15, kAll, nullptr).status().code() == Code::kCorrupt);
  r = visit(15, kAll, &cache);
  REQUIRE(r.ok());
  CHECK(r->next == 30);
  REQUIRE(seen.size() == 15);
  CHECK(seen.front() == 15);
  CHECK(seen.back() == 29);
  // A visit elsewhere reads the log: the first batch is whole, and the
  // damaged one is met again once the cache no longer holds it.
  REQUIRE(visit(0, 5, &cache).ok());
  CHECK(visit(15, kAll, &cache).status().code() == Code::kCorrupt);
}

TEST_CASE("a visit cache does not keep a segment that retention deleted open", "[shard_log]") {
  ShardDir tmp;
  auto log = OpenLog(tmp.shard());  // 4 KiB segments
  for (int i = 0; i < 40; ++i) {
    const std::string d = DataFor(static_cast<std::uint64_t>(i), 400);
    std::vector<RecordIn> in{{.partition_key = "k", .data = d}, {.partition_key = "k", .data = d}};
    REQUIRE(log->Append(in, kT0 + i * kSecond).ok());
  }
  REQUIRE(log->segment_count() > 2);
  ShardLog::VisitCache cache;  // keeps the first batch, in the first segment
  REQUIRE(log->Visit(
                 0, 1, kAll, [](const RecordView&) { return true; }, &cache)
              .ok());
  REQUIRE(log->TrimBefore(kT0 + 20 * kSecond).value() > 0);
  // No descriptor of this process points at a deleted file of the shard.
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const std::string target = std::filesystem::read_symlink(e.path(), ec).string();
    INFO(target);
    CHECK_FALSE((target.starts_with(tmp.shard()) && target.ends_with("(deleted)")));
  }
}

TEST_CASE("Append refuses oversized keys and data and appends nothing of the batch",
          "[shard_log]") {
  ShardDir tmp;
  ShardLog::Options o = SmallSegments();
  o.max_data_bytes = 1000;
  auto log = OpenLog(tmp.shard(), o);
  const std::string big_key(257, 'k');
  const std::string big_data(1001, 'd');
  std::vector<RecordIn> bad_key = {{.partition_key = "ok", .data = "x"},
                                   {.partition_key = big_key, .data = "y"}};
  CHECK(log->Append(bad_key, kT0).status().code() == Code::kInvalidArgument);
  std::vector<RecordIn> bad_data = {{.partition_key = "ok", .data = "x"},
                                    {.partition_key = "ok", .data = big_data}};
  CHECK(log->Append(bad_data, kT0).status().code() == Code::kEntityTooLarge);
  CHECK(log->next_offset() == 0);
  const std::string max_data(1000, 'd');
  std::vector<RecordIn> fine = {{.partition_key = "ok", .data = max_data}};
  CHECK(log->Append(fine, kT0).ok());
  CHECK(log->Append({}, kT0).value() == 1);  // an empty batch appends nothing
  CHECK(log->next_offset() == 1);
}

TEST_CASE("arrival times are stored non-decreasing", "[shard_log]") {
  ShardDir tmp;
  auto log = OpenLog(tmp.shard());
  std::vector<RecordIn> one = {{.partition_key = "k", .data = "d"}};
  REQUIRE(log->Append(one, kT0 + 10).ok());
  REQUIRE(log->Append(one, kT0 + 5).ok());  // a writer that stamped earlier
  REQUIRE(log->Append(one, kT0 + 20).ok());
  std::vector<LogRecord> out;
  REQUIRE(log->Read(0, 10, kAll, out).ok());
  REQUIRE(out.size() == 3);
  CHECK(out[0].arrival == kT0 + 10);
  CHECK(out[1].arrival == kT0 + 10);
  CHECK(out[2].arrival == kT0 + 20);
  log.reset();
  log = OpenLog(tmp.shard());  // the last time survives a restart too
  REQUIRE(log->Append(one, kT0 + 1).ok());
  REQUIRE(log->Read(3, 10, kAll, out).ok());
  CHECK(out.at(0).arrival == kT0 + 20);
}

TEST_CASE("offsets continue after the log is reopened", "[shard_log]") {
  ShardDir tmp;
  std::vector<Expected> want;
  {
    auto log = OpenLog(tmp.shard());
    want = AppendMany(*log, 100, 5, 200, kT0, kSecond);
    SECTION("after a checkpoint, without scanning anything") {
      REQUIRE(log->Checkpoint().ok());
      log.reset();
      log = OpenLog(tmp.shard());
      CHECK(log->recovery().indexes_rebuilt == 0);
    }
    SECTION("after a sync, scanning only the last segment") {
      REQUIRE(log->Sync().ok());
      log.reset();
      log = OpenLog(tmp.shard());
      CHECK(log->recovery().indexes_rebuilt == 1);
    }
    SECTION("after an abrupt stop") {
      log.reset();
      log = OpenLog(tmp.shard());
    }
    CHECK(log->recovery().truncated_bytes == 0);
    CHECK(log->recovery().damage.empty());
    CHECK(log->next_offset() == want.size());
    CHECK(log->first_offset() == 0);
    std::vector<Expected> more = AppendMany(*log, 50, 5, 200, kT0 + 200 * kSecond, kSecond, 2);
    CHECK(more.front().offset == want.size());
    want.insert(want.end(), more.begin(), more.end());
    RequireSame(ReadAll(*log), want);
  }
  auto log = OpenLog(tmp.shard());
  CHECK(log->next_offset() == want.size());
  RequireSame(ReadAll(*log), want);
  auto check = ShardLog::Check(tmp.shard());
  REQUIRE(check.ok());
  CHECK(check->ok());
  CHECK(check->records == want.size());
  CHECK(check->next_offset == want.size());
}

TEST_CASE("a torn tail is cut off when the log is reopened", "[shard_log]") {
  ShardDir tmp;
  std::vector<Expected> want;
  std::string last_segment;
  std::uint64_t intact = 0;  // size of the last segment before the last batch
  {
    auto log = OpenLog(tmp.shard());
    want = AppendMany(*log, 40, 3, 100, kT0, kSecond);
    REQUIRE(log->Checkpoint().ok());  // the index covers all of it
    last_segment = FilesWithSuffix(tmp.shard(), ".log").back();
    intact = FileSize(last_segment);
    const std::string data(300, 'z');
    std::vector<RecordIn> in = {{.partition_key = "k", .data = data}};
    REQUIRE(log->Append(in, kT0 + 100 * kSecond).ok());  // not checkpointed
  }
  const std::uint64_t full = FileSize(last_segment);
  REQUIRE(full > intact + 300);

  SECTION("half a batch") {
    fs::resize_file(last_segment, intact + (full - intact) / 2);
  }
  SECTION("a batch with a bad checksum at the very end") {
    FlipByte(last_segment, full - 10);
  }
  SECTION("half a batch header") {
    fs::resize_file(last_segment, intact + 10);
  }
  SECTION("zeros after a crash") {
    fs::resize_file(last_segment, intact);
    AppendBytes(last_segment, std::string(5000, '\0'));
  }
  SECTION("garbage") {
    fs::resize_file(last_segment, intact);
    AppendBytes(last_segment, "SHB1 this is not a batch at all");
  }

  auto check = ShardLog::Check(tmp.shard());
  REQUIRE(check.ok());
  CHECK(check->ok());  // a torn tail is not damage
  CHECK(Mentions(check->notes, "torn tail"));

  const std::uint64_t torn = FileSize(last_segment);
  auto log = OpenLog(tmp.shard());
  CHECK(FileSize(last_segment) == intact);
  CHECK(log->recovery().truncated_bytes == torn - intact);
  CHECK(log->recovery().damage.empty());
  CHECK(log->next_offset() == want.size());
  RequireSame(ReadAll(*log), want);

  // Appending goes on where the valid records end.
  std::vector<Expected> more = AppendMany(*log, 5, 3, 100, kT0 + 200 * kSecond, kSecond, 3);
  want.insert(want.end(), more.begin(), more.end());
  log.reset();
  log = OpenLog(tmp.shard());
  CHECK(log->recovery().truncated_bytes == 0);
  RequireSame(ReadAll(*log), want);
}

TEST_CASE("a half-created last segment is rewritten when the log is reopened", "[shard_log]") {
  ShardDir tmp;
  std::vector<Expected> want;
  {
    auto log = OpenLog(tmp.shard());
    want = AppendMany(*log, 40, 3, 100, kT0, kSecond);
  }
  // A roll interrupted after creating the next segment, before its header.
  char name[32];
  std::snprintf(name, sizeof name, "/%020zu.log", want.size());
  const std::string next = tmp.shard() + name;
  {
    const int fd = ::open(next.c_str(), O_WRONLY | O_CREAT, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, "SHOALSEG\1\0", 10) == 10);
    ::close(fd);
  }
  auto log = OpenLog(tmp.shard());
  CHECK(log->recovery().damage.empty());
  CHECK(FileSize(next) == 32);
  CHECK(log->next_offset() == want.size());
  RequireSame(ReadAll(*log), want);
  std::vector<Expected> more = AppendMany(*log, 3, 3, 100, kT0 + 100 * kSecond, kSecond, 4);
  CHECK(more.front().offset == want.size());
}

TEST_CASE("damage inside the log is reported, never returned as data", "[shard_log]") {
  ShardDir tmp;
  std::vector<Expected> want;
  std::unique_ptr<ShardLog> log = OpenLog(tmp.shard());
  want = AppendMany(*log, 120, 4, 150, kT0, kSecond);
  REQUIRE(log->segment_count() >= 3);
  const std::vector<std::string> segments = FilesWithSuffix(tmp.shard(), ".log");

  // The byte to damage: inside the data of the record at `victim`, found by
  // its text ("record-<n>:") in the segment file.
  auto locate = [&](std::uint64_t victim, std::string& file) -> std::uint64_t {
    const std::string needle = "record-" + std::to_string(victim) + ":";
    for (const std::string& seg : segments) {
      auto bytes = ReadFile(seg);
      REQUIRE(bytes.ok());
      auto at = bytes->find(needle);
      if (at != std::string::npos) {
        file = seg;
        return at + 2;
      }
    }
    FAIL("record not found");
    return 0;
  };
  // Records long enough to carry the needle.
  auto victim_in = [&](std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) {
      if (want[i].data.size() >= 12) return want[i].offset;
    }
    FAIL("no victim");
    return std::uint64_t{0};
  };

  std::string file;
  std::uint64_t victim = 0;
  SECTION("in a sealed segment, with the log reopened") {
    victim = victim_in(5, 20);
    const std::uint64_t pos = locate(victim, file);
    REQUIRE(file == segments.front());
    REQUIRE(log->Checkpoint().ok());
    log.reset();
    FlipByte(file, pos);
    log = OpenLog(tmp.shard());
  }
  SECTION("in the active segment after a checkpoint: not mistaken for a torn tail") {
    victim = victim_in(want.size() - 14, want.size() - 10);
    const std::uint64_t pos = locate(victim, file);
    REQUIRE(file == segments.back());
    REQUIRE(log->Checkpoint().ok());
    log.reset();
    FlipByte(file, pos);
    log = OpenLog(tmp.shard());
    CHECK(log->recovery().truncated_bytes == 0);
  }
  SECTION("in the active segment without an index: valid batches after it keep it") {
    victim = victim_in(want.size() - 14, want.size() - 10);
    const std::uint64_t pos = locate(victim, file);
    REQUIRE(file == segments.back());
    log.reset();
    fs::remove(file.substr(0, file.size() - 4) + ".idx");
    FlipByte(file, pos);
    log = OpenLog(tmp.shard());
    CHECK(log->recovery().truncated_bytes == 0);
    CHECK(Mentions(log->recovery().damage, file));
  }
  SECTION("while the log is open") {
    victim = victim_in(30, 60);
    FlipByte(file, locate(victim, file));
  }

  CHECK(log->next_offset() == want.size());
  // Reading up to the damaged batch returns the records before it, then
  // reports the damage, naming the file.
  std::vector<LogRecord> out;
  std::uint64_t at = 0;
  Status failure;
  std::vector<LogRecord> all;
  for (;;) {
    auto r = log->Read(at, kAll, kAll, out);
    if (!r.ok()) {
      failure = r.status();
      break;
    }
    REQUIRE_FALSE(out.empty());
    all.insert(all.end(), out.begin(), out.end());
    at = r->next;
  }
  CHECK(failure.code() == Code::kCorrupt);
  CHECK(failure.message().find(file) != std::string::npos);
  REQUIRE(at <= victim);
  for (const LogRecord& rec : all) REQUIRE(rec.data == want[rec.offset].data);
  CHECK(log->Read(victim, 1, kAll, out).status().code() == Code::kCorrupt);

  // Records well after the damaged batch are still readable.
  auto r = log->Read(want.size() - 1, 1, kAll, out);
  REQUIRE(r.ok());
  CHECK(out.at(0).data == want.back().data);

  auto check = ShardLog::Check(tmp.shard());
  REQUIRE(check.ok());
  CHECK_FALSE(check->ok());
  CHECK(Mentions(check->problems, file + ": byte "));
}

TEST_CASE("a damaged last batch that a checkpoint covered is damage, not a torn tail",
          "[shard_log]") {
  ShardDir tmp;
  std::vector<Expected> want;
  {
    auto log = OpenLog(tmp.shard());
    want = AppendMany(*log, 30, 3, 100, kT0, kSecond);
    REQUIRE(log->Checkpoint().ok());
  }
  const std::string last = FilesWithSuffix(tmp.shard(), ".log").back();
  const std::uint64_t size = FileSize(last);
  FlipByte(last, size - 3);  // inside the last record's data
  auto check = ShardLog::Check(tmp.shard());
  REQUIRE(check.ok());
  CHECK(Mentions(check->problems, last + ": byte "));
  CHECK_FALSE(Mentions(check->notes, "torn tail"));

  auto log = OpenLog(tmp.shard());
  CHECK(log->recovery().truncated_bytes == 0);
  CHECK(FileSize(last) == size);
  CHECK(log->next_offset() == want.size());
  std::vector<LogRecord> out;
  CHECK(log->Read(want.size() - 1, 1, kAll, out).status().code() == Code::kCorrupt);
  // Appends go on after it.
  std::vector<RecordIn> one = {{.partition_key = "k", .data = "after"}};
  CHECK(log->Append(one, kT0 + 100 * kSecond).value() == want.size());
  REQUIRE(log->Read(want.size(), 1, kAll, out).ok());
  CHECK(out.at(0).data == "after");
}

TEST_CASE("a segment of an unknown format version is refused and nothing is changed",
          "[shard_log]") {
  ShardDir tmp;
  std::vector<Expected> want;
  {
    auto log = OpenLog(tmp.shard());
    want = AppendMany(*log, 60, 3, 100, kT0, kSecond);
  }
  std::vector<std::string> segments = FilesWithSuffix(tmp.shard(), ".log");
  REQUIRE(segments.size() >= 3);
  // Segment 0 rewritten as "version 2" (header checksum valid), with a
  // missing index, a stray temporary and a torn tail in the last segment:
  // Open must touch none of them.
  {
    auto bytes = ReadFile(segments[0]);
    REQUIRE(bytes.ok());
    std::string header = bytes->substr(0, 32);
    header[8] = 2;
    const auto crc =
        static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(header.data()), 28));
    for (std::size_t i = 0; i < 4; ++i) header[28 + i] = static_cast<char>((crc >> (8 * i)) & 0xff);
    const int fd = ::open(segments[0].c_str(), O_WRONLY);
    REQUIRE(fd >= 0);
    REQUIRE(::pwrite(fd, header.data(), header.size(), 0) == 32);
    ::close(fd);
  }
  fs::remove(segments[1].substr(0, segments[1].size() - 4) + ".idx");
  AppendBytes(tmp.shard() + "/SEALED.tmp", "x");
  AppendBytes(segments.back(), "torn");
  std::vector<std::string> before;
  for (const auto& e : fs::directory_iterator(tmp.shard())) {
    before.push_back(e.path().filename().string() + " " + std::to_string(e.file_size()));
  }
  std::sort(before.begin(), before.end());

  auto log = ShardLog::Open(tmp.shard(), SmallSegments());
  CHECK(log.status().code() == Code::kNotSupported);
  CHECK(log.status().message().find("version 2") != std::string::npos);
  std::vector<std::string> after;
  for (const auto& e : fs::directory_iterator(tmp.shard())) {
    after.push_back(e.path().filename().string() + " " + std::to_string(e.file_size()));
  }
  std::sort(after.begin(), after.end());
  CHECK(after == before);
  auto check = ShardLog::Check(tmp.shard());
  REQUIRE(check.ok());
  CHECK(Mentions(check->problems, "version 2"));
}

TEST_CASE("a lost segment in the middle is reported as missing offsets", "[shard_log]") {
  ShardDir tmp;
  std::vector<Expected> want;
  {
    auto log = OpenLog(tmp.shard());
    want = AppendMany(*log, 120, 4, 150, kT0, kSecond);
  }
  std::vector<std::string> segments = FilesWithSuffix(tmp.shard(), ".log");
  REQUIRE(segments.size() >= 3);
  fs::remove(segments[1]);
  auto log = OpenLog(tmp.shard());
  CHECK(Mentions(log->recovery().damage, "missing"));
  CHECK(log->next_offset() == want.size());
  std::vector<LogRecord> out;
  auto r = log->Read(0, kAll, kAll, out);
  REQUIRE(r.ok());
  const std::uint64_t gap = r->next;
  CHECK(log->Read(gap, 10, kAll, out).status().code() == Code::kCorrupt);
  auto check = ShardLog::Check(tmp.shard());
  REQUIRE(check.ok());
  CHECK(Mentions(check->problems, "missing"));
}

TEST_CASE("a missing or damaged index file is rebuilt with the same results", "[shard_log]") {
  ShardDir tmp;
  std::vector<Expected> want;
  {
    auto log = OpenLog(tmp.shard());
    want = AppendMany(*log, 200, 5, 120, kT0, 3 * kSecond);
    REQUIRE(log->Checkpoint().ok());
  }
  std::vector<std::string> indexes = FilesWithSuffix(tmp.shard(), ".idx");
  REQUIRE(indexes.size() >= 4);
  const std::string victim = indexes[1];
  const std::string last = indexes.back();

  SECTION("deleted") {
    fs::remove(victim);
    fs::remove(last);
  }
  SECTION("a flipped byte") {
    FlipByte(victim, FileSize(victim) / 2);
    FlipByte(last, 70);
  }
  SECTION("truncated") {
    fs::resize_file(victim, FileSize(victim) - 5);
    fs::resize_file(last, 10);
  }
  SECTION("another segment's index") {
    fs::copy_file(indexes[2], victim, fs::copy_options::overwrite_existing);
  }

  auto check = ShardLog::Check(tmp.shard());
  REQUIRE(check.ok());
  CHECK(check->ok());  // a damaged cache is not damaged data

  auto log = OpenLog(tmp.shard());
  CHECK(log->recovery().indexes_rebuilt >= 1);
  CHECK(log->recovery().damage.empty());
  CHECK(FileSize(victim) > 64);  // rewritten
  RequireSame(ReadAll(*log), want);
  std::vector<LogRecord> out;
  for (std::uint64_t from = 0; from < want.size(); from += 41) {
    REQUIRE(log->Read(from, 3, kAll, out).ok());
    REQUIRE(out.at(0).data == want[from].data);
  }
  for (TimeNs t = kT0 - kSecond; t < kT0 + 700 * kSecond; t += 7 * kSecond) {
    auto found = log->OffsetAtOrAfter(t);
    REQUIRE(found.ok());
    auto it =
        std::find_if(want.begin(), want.end(), [&](const Expected& e) { return e.arrival >= t; });
    REQUIRE(*found == (it == want.end() ? want.size() : it->offset));
  }
}

TEST_CASE("AT_TIMESTAMP finds the first record at or after a time", "[shard_log]") {
  ShardDir tmp;
  auto log = OpenLog(tmp.shard());
  // Uneven steps, several batches sharing a time.
  std::vector<Expected> want;
  std::mt19937 rng(7);
  TimeNs t = kT0;
  for (int i = 0; i < 150; ++i) {
    t += static_cast<TimeNs>(rng() % 3) * kSecond;
    auto part = AppendMany(*log, 1, 4, 200, t, 0, static_cast<unsigned>(i));
    want.insert(want.end(), part.begin(), part.end());
  }
  REQUIRE(log->segment_count() > 3);
  auto brute = [&](TimeNs at) -> std::uint64_t {
    for (const Expected& e : want) {
      if (e.arrival >= at && e.offset >= log->first_offset()) return e.offset;
    }
    return log->next_offset();
  };
  for (TimeNs at = kT0 - 2 * kSecond; at <= t + 2 * kSecond; at += kSecond / 2) {
    auto found = log->OffsetAtOrAfter(at);
    REQUIRE(found.ok());
    INFO("t = " << (at - kT0));
    REQUIRE(*found == brute(at));
  }
  CHECK(log->OffsetAtOrAfter(kT0 - 100 * kSecond).value() == 0);
  CHECK(log->OffsetAtOrAfter(t + 1).value() == log->next_offset());

  REQUIRE(log->TrimBefore(kT0 + 60 * kSecond).ok());
  for (TimeNs at = kT0; at <= t; at += 3 * kSecond)
    REQUIRE(log->OffsetAtOrAfter(at).value() == brute(at));
  CHECK(log->OffsetAtOrAfter(kT0).value() == log->first_offset());
}

TEST_CASE("retention drops whole segments whose newest record is older than the cutoff",
          "[shard_log]") {
  ShardDir tmp;
  auto log = OpenLog(tmp.shard());
  std::vector<Expected> want = AppendMany(*log, 200, 4, 100, kT0, kSecond);
  const std::size_t segments = log->segment_count();
  REQUIRE(segments >= 5);
  const std::uint64_t bytes = log->stored_bytes();

  SECTION("part of the log") {
    const TimeNs cutoff = kT0 + 90 * kSecond;
    auto removed = log->TrimBefore(cutoff);
    REQUIRE(removed.ok());
    CHECK(*removed > 0);
    CHECK(*removed < segments);
    CHECK(log->segment_count() == segments - *removed);
    CHECK(FilesWithSuffix(tmp.shard(), ".log").size() == log->segment_count());
    CHECK(FilesWithSuffix(tmp.shard(), ".idx").size() <= log->segment_count());
    CHECK(log->stored_bytes() < bytes);
    // Whole segments went, and records before the cutoff are invisible.
    auto first = std::find_if(want.begin(), want.end(),
                              [&](const Expected& e) { return e.arrival >= cutoff; });
    CHECK(log->first_offset() == first->offset);
    std::vector<LogRecord> out;
    auto r = log->Read(0, 5, kAll, out);
    REQUIRE(r.ok());
    CHECK(r->trimmed);
    CHECK(out.at(0).offset == first->offset);
    r = log->Read(first->offset, 5, kAll, out);
    REQUIRE(r.ok());
    CHECK_FALSE(r->trimmed);
    auto all = ReadAll(*log);
    RequireSame(all, std::vector<Expected>(first, want.end()));
    // The same cutoff again removes nothing more.
    CHECK(log->TrimBefore(cutoff).value() == 0);
    // Reopened, the stored records start at the first kept segment.
    log.reset();
    log = OpenLog(tmp.shard());
    CHECK(log->first_offset() <= first->offset);
    CHECK(log->next_offset() == want.size());
  }
  SECTION("all of it: offsets go on, also after a restart") {
    auto removed = log->TrimBefore(kT0 + 1000 * kSecond);
    REQUIRE(removed.ok());
    CHECK(*removed == segments);
    CHECK(log->segment_count() == 1);
    CHECK(log->first_offset() == want.size());
    CHECK(log->next_offset() == want.size());
    std::vector<LogRecord> out;
    auto r = log->Read(0, 5, kAll, out);
    REQUIRE(r.ok());
    CHECK(r->trimmed);
    CHECK(out.empty());
    log.reset();
    log = OpenLog(tmp.shard());
    CHECK(log->next_offset() == want.size());
    std::vector<RecordIn> one = {{.partition_key = "k", .data = "after"}};
    CHECK(log->Append(one, kT0 + 2000 * kSecond).value() == want.size());
  }
}

TEST_CASE("segments roll by age so that retention can free a slow stream", "[shard_log]") {
  ShardDir tmp;
  ShardLog::Options o = SmallSegments();
  o.segment_bytes = 1 << 20;
  o.segment_max_age = 3600 * kSecond;
  auto log = OpenLog(tmp.shard(), o);
  std::vector<RecordIn> one = {{.partition_key = "k", .data = "d"}};
  for (int h = 0; h < 10; ++h) REQUIRE(log->Append(one, kT0 + TimeNs{h} * 1800 * kSecond).ok());
  CHECK(log->segment_count() == 5);
  CHECK(log->TrimBefore(kT0 + TimeNs{4} * 3600 * kSecond).value() == 4);
  CHECK(log->first_offset() == 8);
}

TEST_CASE("a sealed log refuses appends and stays sealed and readable after a restart",
          "[shard_log]") {
  ShardDir tmp;
  std::vector<Expected> want;
  {
    auto log = OpenLog(tmp.shard());
    want = AppendMany(*log, 30, 3, 100, kT0, kSecond);
    REQUIRE(log->Seal().ok());
    REQUIRE(log->Seal().ok());  // idempotent
    CHECK(log->sealed());
    std::vector<RecordIn> one = {{.partition_key = "k", .data = "d"}};
    CHECK(log->Append(one, kT0).status().code() == Code::kInvalidRequest);
    CHECK(log->Append({}, kT0).status().code() == Code::kInvalidRequest);
    CHECK(log->WaitForAppend(want.size(), std::chrono::steady_clock::now() +
                                              std::chrono::seconds(10)) == WaitResult::kSealed);
  }
  auto log = OpenLog(tmp.shard());
  CHECK(log->sealed());
  CHECK(log->recovery().damage.empty());
  RequireSame(ReadAll(*log), want);
  std::vector<RecordIn> one = {{.partition_key = "k", .data = "d"}};
  CHECK(log->Append(one, kT0).status().code() == Code::kInvalidRequest);
  auto check = ShardLog::Check(tmp.shard());
  REQUIRE(check.ok());
  CHECK(check->ok());
  CHECK(check->sealed);
  // Retention still applies.
  CHECK(log->TrimBefore(kT0 + 1000 * kSecond).ok());
  CHECK(log->first_offset() == want.size());
}

TEST_CASE("WaitForAppend wakes a waiting reader when records arrive", "[shard_log]") {
  ShardDir tmp;
  auto log = OpenLog(tmp.shard());
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  CHECK(log->WaitForAppend(0, start + std::chrono::milliseconds(50)) == WaitResult::kTimeout);
  CHECK(Clock::now() - start >= std::chrono::milliseconds(50));

  std::atomic<int> result{-1};
  std::thread waiter([&] {
    result = static_cast<int>(log->WaitForAppend(0, Clock::now() + std::chrono::seconds(30)));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::vector<RecordIn> one = {{.partition_key = "k", .data = "d"}};
  REQUIRE(log->Append(one, kT0).ok());
  waiter.join();
  CHECK(result == static_cast<int>(WaitResult::kReady));
  CHECK(log->WaitForAppend(0, Clock::now()) == WaitResult::kReady);
}

TEST_CASE("a second open of the same directory is refused", "[shard_log]") {
  ShardDir tmp;
  auto log = OpenLog(tmp.shard());
  auto again = ShardLog::Open(tmp.shard(), SmallSegments());
  CHECK(again.status().code() == Code::kInvalidRequest);
  log.reset();
  CHECK(ShardLog::Open(tmp.shard(), SmallSegments()).ok());
}

TEST_CASE("Check reports a clean log as clean with its counts", "[shard_log]") {
  ShardDir tmp;
  std::vector<Expected> want;
  std::size_t segments = 0;
  {
    auto log = OpenLog(tmp.shard());
    want = AppendMany(*log, 80, 4, 100, kT0, kSecond);
    REQUIRE(log->TrimBefore(kT0 + 20 * kSecond).ok());
    segments = log->segment_count();
    REQUIRE(log->Checkpoint().ok());
  }
  auto check = ShardLog::Check(tmp.shard());
  REQUIRE(check.ok());
  INFO(check->problems.size() << " problems, first: "
                              << (check->problems.empty() ? "" : check->problems[0]));
  CHECK(check->ok());
  CHECK(check->notes.empty());
  CHECK(check->segments == segments);
  CHECK(check->next_offset == want.size());
  CHECK(check->records == want.size() - check->first_offset);
  CHECK_FALSE(check->sealed);
  CHECK(ShardLog::Check(tmp.path() + "/nope").status().code() == Code::kNoSuchKey);
}

// Record data for the concurrency tests: "<batch>/<index>/<count>/" padded
// with a pattern, so a reader can check each record and batch boundaries.
std::string ConcurrentData(std::uint64_t batch, std::size_t index, std::size_t count) {
  std::string s =
      std::to_string(batch) + "/" + std::to_string(index) + "/" + std::to_string(count) + "/";
  const std::size_t size = 20 + (batch * 7 + index) % 150;
  while (s.size() < size) s += static_cast<char>('A' + (batch + s.size()) % 26);
  return s;
}

struct Parsed {
  std::uint64_t batch = 0;
  std::size_t index = 0;
  std::size_t count = 0;
};

Parsed ParseData(const std::string& s) {
  Parsed p;
  std::sscanf(s.c_str(), "%lu/%zu/%zu/", &p.batch, &p.index, &p.count);
  return p;
}

// Appends batches 0..n-1 of 1..20 records, batch b at time kT0 + b seconds.
void WriteBatches(ShardLog& log, std::uint64_t n) {
  for (std::uint64_t b = 0; b < n; ++b) {
    const std::size_t count = 1 + b % 20;
    std::vector<std::string> data;
    data.reserve(count);
    for (std::size_t i = 0; i < count; ++i) data.push_back(ConcurrentData(b, i, count));
    std::vector<RecordIn> in;
    in.reserve(data.size());
    for (const std::string& d : data) in.push_back({.partition_key = "p", .data = d});
    auto r = log.Append(in, kT0 + static_cast<TimeNs>(b) * kSecond);
    if (!r.ok()) FAIL(r.status().ToString());
  }
}

// The first failure seen by a test's threads, for the report.
class ThreadErrors {
 public:
  void Add(std::string what) {
    std::lock_guard<std::mutex> lock(mu_);
    if (first_.empty()) first_ = std::move(what);
    ++count_;
  }
  int count() {
    std::lock_guard<std::mutex> lock(mu_);
    return count_;
  }
  std::string first() {
    std::lock_guard<std::mutex> lock(mu_);
    return first_;
  }

 private:
  std::mutex mu_;
  int count_ = 0;
  std::string first_;
};

TEST_CASE("readers beside a writer see whole batches and growing prefixes", "[shard_log]") {
  ShardDir tmp;
  ShardLog::Options o = SmallSegments();
  o.segment_bytes = 64 << 10;
  auto log = OpenLog(tmp.shard(), o);
  constexpr std::uint64_t kBatches = 3000;
  std::atomic<bool> done{false};
  ThreadErrors errors;
  std::atomic<std::uint64_t> snapshots{0};

  // Reads everything from 0 each time: the prefix never shrinks and ends at a
  // batch boundary.
  auto whole_reader = [&] {
    std::uint64_t seen = 0;
    std::vector<LogRecord> out;
    bool last_round = false;
    while (!last_round) {
      last_round = done.load();  // one more read after the writer finished
      auto r = log->Read(0, kAll, kAll, out);
      if (!r.ok()) return errors.Add("whole reader: " + r.status().ToString());
      if (out.size() < seen) {
        return errors.Add("whole reader: prefix shrank from " + std::to_string(seen) + " to " +
                          std::to_string(out.size()));
      }
      seen = out.size();
      for (std::size_t i = 0; i < out.size(); ++i) {
        const Parsed p = ParseData(out[i].data);
        if (out[i].offset != i || out[i].data != ConcurrentData(p.batch, p.index, p.count) ||
            out[i].arrival != kT0 + static_cast<TimeNs>(p.batch) * kSecond) {
          return errors.Add("whole reader: wrong record at " + std::to_string(i));
        }
      }
      if (!out.empty()) {
        const Parsed last = ParseData(out.back().data);
        if (last.index + 1 != last.count) {
          return errors.Add("whole reader: torn batch " + std::to_string(last.batch));
        }
      }
      ++snapshots;
    }
    if (seen != log->next_offset()) errors.Add("whole reader: missed the end");
  };
  // Follows the log with small reads and WaitForAppend, like tail -f.
  auto follower = [&] {
    std::uint64_t at = 0;
    std::uint64_t next_batch = 0;
    std::size_t next_index = 0;
    std::vector<LogRecord> out;
    for (;;) {
      const bool finished = done.load();  // before next_offset(): then nothing comes after
      if (finished && at >= log->next_offset()) break;
      auto r = log->Read(at, 17, 2000, out);
      if (!r.ok()) return errors.Add("follower: " + r.status().ToString());
      for (const LogRecord& rec : out) {
        const Parsed p = ParseData(rec.data);
        if (rec.offset != at || p.batch != next_batch || p.index != next_index) {
          return errors.Add("follower: at " + std::to_string(at) + " got offset " +
                            std::to_string(rec.offset) + ", batch " + std::to_string(p.batch) +
                            "/" + std::to_string(p.index) + ", expected " +
                            std::to_string(next_batch) + "/" + std::to_string(next_index));
        }
        ++at;
        if (++next_index == p.count) {
          ++next_batch;
          next_index = 0;
        }
      }
      if (out.empty()) {
        (void)log->WaitForAppend(at,
                                 std::chrono::steady_clock::now() + std::chrono::milliseconds(20));
      }
    }
    if (next_batch != kBatches) {
      errors.Add("follower: ended at batch " + std::to_string(next_batch));
    }
  };
  std::thread r1(whole_reader), r2(follower), r3(follower);
  WriteBatches(*log, kBatches);
  done = true;
  r1.join();
  r2.join();
  r3.join();
  INFO(errors.first());
  CHECK(errors.count() == 0);
  CHECK(snapshots > 0);
  CHECK(log->segment_count() > 10);
}

TEST_CASE("retention beside readers yields trimmed reads, never damage", "[shard_log]") {
  ShardDir tmp;
  ShardLog::Options o = SmallSegments();
  o.segment_bytes = 16 << 10;
  auto log = OpenLog(tmp.shard(), o);
  constexpr std::uint64_t kBatches = 2000;
  std::atomic<bool> done{false};
  ThreadErrors errors;
  std::atomic<std::uint64_t> trimmed_reads{0};
  auto reader = [&] {
    std::vector<LogRecord> out;
    while (!done.load()) {
      auto r = log->Read(0, kAll, kAll, out);
      if (!r.ok()) return errors.Add("reader: " + r.status().ToString());
      if (r->trimmed) ++trimmed_reads;
      for (std::size_t i = 0; i < out.size(); ++i) {
        const Parsed p = ParseData(out[i].data);
        if ((i > 0 && out[i].offset != out[i - 1].offset + 1) ||
            out[i].data != ConcurrentData(p.batch, p.index, p.count)) {
          return errors.Add("reader: wrong record at offset " + std::to_string(out[i].offset));
        }
      }
    }
  };
  auto trimmer = [&] {
    while (!done.load()) {
      // Keep the last ~100 simulated seconds of about half the batches
      // written (10.5 records per batch on average), so that the final trim
      // below is always the furthest.
      const TimeNs newest = kT0 + static_cast<TimeNs>(log->next_offset() / 21) * kSecond;
      auto trimmed = log->TrimBefore(newest - 100 * kSecond);
      if (!trimmed.ok()) errors.Add("trimmer: " + trimmed.status().ToString());
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  };
  std::thread r1(reader), r2(reader), t(trimmer);
  WriteBatches(*log, kBatches);
  done = true;
  r1.join();
  r2.join();
  t.join();
  INFO(errors.first());
  CHECK(errors.count() == 0);
  REQUIRE(log->TrimBefore(kT0 + static_cast<TimeNs>(kBatches - 100) * kSecond).ok());
  CHECK(log->first_offset() > 0);
  std::vector<LogRecord> kept = ReadAll(*log);
  REQUIRE_FALSE(kept.empty());
  CHECK(kept.front().offset == log->first_offset());
  CHECK(ParseData(kept.front().data).batch == kBatches - 100);
  CHECK(ParseData(kept.back().data).batch == kBatches - 1);
  auto check = ShardLog::Check(tmp.shard());
  REQUIRE(check.ok());
  CHECK(check->ok());
}

// Not run by default: `shoal_streams_tests "[.benchmark]"`.
TEST_CASE("append and read rates of 100-byte records", "[.benchmark]") {
  ShardDir tmp;
  ShardLog::Options o;  // the defaults: 64 MiB segments
  auto log = OpenLog(tmp.shard(), o);
  using Clock = std::chrono::steady_clock;
  const std::string data(100, 'x');
  const std::string key = "partition-key-0001";
  auto rate = [](std::uint64_t n, Clock::duration d) {
    return static_cast<double>(n) / std::chrono::duration<double>(d).count();
  };
  auto latency = [](std::vector<Clock::duration>& v) {
    std::sort(v.begin(), v.end());
    auto us = [](Clock::duration d) {
      return std::chrono::duration<double, std::micro>(d).count();
    };
    return "p50 " + std::to_string(us(v[v.size() / 2])) + " us, p99 " +
           std::to_string(us(v[v.size() * 99 / 100])) + " us, max " + std::to_string(us(v.back())) +
           " us";
  };

  std::vector<RecordIn> batch(600, RecordIn{.partition_key = key, .data = data});
  constexpr int kBatches = 2000;  // 1.2 M records
  std::vector<Clock::duration> lat;
  auto start = Clock::now();
  for (int i = 0; i < kBatches; ++i) {
    auto t0 = Clock::now();
    REQUIRE(log->Append(batch, kT0 + i).ok());
    lat.push_back(Clock::now() - t0);
  }
  auto took = Clock::now() - start;
  const double batched = rate(600ULL * kBatches, took);
  WARN("batched x600: " << batched << " records/s, "
                        << batched * static_cast<double>(100 + key.size()) / (1 << 20)
                        << " MiB/s of key+data; append " << latency(lat));

  constexpr int kSingles = 300000;
  lat.clear();
  start = Clock::now();
  for (int i = 0; i < kSingles; ++i) {
    auto t0 = Clock::now();
    REQUIRE(log->Append(std::span<const RecordIn>(batch.data(), 1), kT0 + kBatches + i).ok());
    lat.push_back(Clock::now() - t0);
  }
  took = Clock::now() - start;
  WARN("one per append: " << rate(kSingles, took) << " records/s; append " << latency(lat));

  const std::string big_data(64 << 10, 'y');
  std::vector<RecordIn> big(16, RecordIn{.partition_key = key, .data = big_data});
  start = Clock::now();
  for (int i = 0; i < 500; ++i) REQUIRE(log->Append(big, kT0 + 1'000'000 + i).ok());
  took = Clock::now() - start;
  WARN("1 MiB batches of 64 KiB records: " << rate(500, took) << " MiB/s");

  std::vector<LogRecord> out;
  std::uint64_t at = 0;
  std::uint64_t n = 0;
  start = Clock::now();
  while (at < log->next_offset()) {
    auto r = log->Read(at, 10000, 10 << 20, out);
    REQUIRE(r.ok());
    n += out.size();
    at = r->next;
  }
  took = Clock::now() - start;
  WARN("read back: " << rate(n, took) << " records/s");

  start = Clock::now();
  REQUIRE(log->Sync().ok());
  const double sync_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  WARN("sync: " << sync_ms << " ms; segments: " << log->segment_count());

  // Reopening: after a crash the active segment is scanned; after a
  // checkpoint nothing is.
  const std::uint64_t next = log->next_offset();
  log.reset();
  start = Clock::now();
  log = OpenLog(tmp.shard(), o);
  const double crash_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  REQUIRE(log->next_offset() == next);
  REQUIRE(log->Checkpoint().ok());
  log.reset();
  start = Clock::now();
  log = OpenLog(tmp.shard(), o);
  const double clean_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  REQUIRE(log->next_offset() == next);
  WARN("reopen after a crash: " << crash_ms << " ms; after a checkpoint: " << clean_ms << " ms");
}

}  // namespace
}  // namespace shoal::streams
