#include "fs/stream_sessions.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <utility>
#include <vector>

#include "base/sim_clock.h"
#include "streams/stream_config.h"

namespace shoal::fs {
namespace {

// A partial line longer than any record a stream accepts (10 MiB with its
// key) can never become a record.
constexpr std::size_t kMaxLine = static_cast<std::size_t>(streams::kMaxMaxRecordSizeKiB) * 1024 + 1;

// How long one wait at the end of a shard lasts before the reader checks
// whether its caller gave up.
constexpr auto kWaitSlice = std::chrono::milliseconds(200);

// Records and bytes one read of an iterator asks the log for at most.
constexpr std::size_t kReadRecords = 1000;
constexpr std::size_t kMinReadBytes = std::size_t{64} << 10;

// "1800000000" or "1800000000.25" (up to nanoseconds) as a time; nullopt
// for anything else, or a time past 2262.
std::optional<TimeNs> ParseEpochSeconds(std::string_view text) {
  const std::size_t dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || (dot != std::string_view::npos && frac.empty()) || frac.size() > 9) {
    return std::nullopt;
  }
  std::uint64_t seconds = 0;
  auto [end, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), seconds);
  if (ec != std::errc() || end != whole.data() + whole.size()) return std::nullopt;
  std::uint64_t nanos = 0;
  if (!frac.empty()) {
    auto [fend, fec] = std::from_chars(frac.data(), frac.data() + frac.size(), nanos);
    if (fec != std::errc() || fend != frac.data() + frac.size()) return std::nullopt;
    for (std::size_t i = frac.size(); i < 9; ++i) nanos *= 10;
  }
  constexpr std::uint64_t kMaxSeconds = INT64_MAX / 1'000'000'000 - 1;
  if (seconds > kMaxSeconds) return std::nullopt;
  return static_cast<TimeNs>(seconds * 1'000'000'000 + nanos);
}

}  // namespace

RecordSink::RecordSink(streams::StreamStore& store, std::string stream,
                       std::optional<std::string> partition_key, const Clock& clock, BillFn bill)
    : LineSink(kMaxLine, "a stream"),
      store_(store),
      stream_(std::move(stream)),
      partition_key_(std::move(partition_key)),
      clock_(clock),
      bill_(std::move(bill)) {}

LineSink::Taken RecordSink::PutLines(std::span<const std::string_view> lines) {
  std::vector<streams::PutRecordIn> records;
  records.reserve(lines.size());
  for (std::string_view line : lines) {
    records.push_back({.partition_key = partition_key_
                                            ? std::optional<std::string_view>(*partition_key_)
                                            : std::nullopt,
                       .data = line});
  }
  const TimeNs now = clock_.Now();
  streams::PutRecordsResult put = store_.PutRecords(stream_, records, now);
  if (put.put_payload_units > 0 && bill_) bill_(put.put_payload_units, now);
  return {.lines = put.accepted.size(), .status = put.status};
}

Status RecordSink::Fsync() {
  return store_.Sync(stream_);
}

ShardFileReader::ShardFileReader(streams::StreamStore& store, std::string stream, std::string shard)
    : store_(store), stream_(std::move(stream)), shard_(std::move(shard)) {}

Result<std::size_t> ShardFileReader::Read(char* buf, std::size_t size, std::uint64_t offset,
                                          const std::function<bool()>& /*interrupted*/) {
  return store_.ReadShardText(stream_, shard_, offset, buf, size);
}

Result<std::optional<IteratorName>> ParseIteratorName(std::string_view name) {
  const std::size_t at = name.find('@');
  if (at == std::string_view::npos) return std::optional<IteratorName>();
  IteratorName it;
  it.shard_id = std::string(name.substr(0, at));
  const std::string_view spec = name.substr(at + 1);
  const std::size_t eq = spec.find('=');
  const std::string_view type = spec.substr(0, eq);
  const std::string_view arg = eq == std::string_view::npos ? "" : spec.substr(eq + 1);
  const bool has_arg = eq != std::string_view::npos;
  auto no_arg = [&](streams::IteratorType t) -> Result<std::optional<IteratorName>> {
    if (has_arg) return InvalidArgument(std::string(type) + " takes no argument");
    it.type = t;
    return std::optional<IteratorName>(it);
  };
  if (type == "TRIM_HORIZON") return no_arg(streams::IteratorType::kTrimHorizon);
  if (type == "LATEST") return no_arg(streams::IteratorType::kLatest);
  if (type == "AT_SEQUENCE_NUMBER" || type == "AFTER_SEQUENCE_NUMBER") {
    if (arg.empty()) {
      return InvalidArgument(std::string(type) + " needs a sequence number: " + std::string(type) +
                             "=<SequenceNumber>");
    }
    it.type = type == "AT_SEQUENCE_NUMBER" ? streams::IteratorType::kAtSequenceNumber
                                           : streams::IteratorType::kAfterSequenceNumber;
    it.sequence_number = std::string(arg);
    return std::optional<IteratorName>(it);
  }
  if (type == "AT_TIMESTAMP") {
    it.type = streams::IteratorType::kAtTimestamp;
    if (std::optional<TimeNs> t = ParseEpochSeconds(arg)) {
      it.timestamp = *t;
      return std::optional<IteratorName>(it);
    }
    Result<TimeNs> t = ParseIso8601(arg);
    if (!t.ok()) {
      return InvalidArgument("AT_TIMESTAMP needs an ISO-8601 time or epoch seconds: " +
                             t.status().message());
    }
    it.timestamp = *t;
    return std::optional<IteratorName>(it);
  }
  return InvalidArgument(
      "unknown shard iterator type " + QuoteForMessage(type) +
      " (TRIM_HORIZON, LATEST, AT_SEQUENCE_NUMBER=n, AFTER_SEQUENCE_NUMBER=n, AT_TIMESTAMP=t)");
}

ShardIteratorReader::ShardIteratorReader(streams::StreamStore& store, std::string stream,
                                         std::string shard, std::uint64_t start,
                                         std::atomic<int>& waiting)
    : store_(store),
      stream_(std::move(stream)),
      shard_(std::move(shard)),
      waiting_(waiting),
      next_(start) {}

Result<std::size_t> ShardIteratorReader::Read(char* buf, std::size_t size, std::uint64_t /*offset*/,
                                              const std::function<bool()>& interrupted) {
  MutexLock lock(mu_);
  std::vector<streams::LogRecord> records;
  for (;;) {
    if (lines_pos_ < lines_.size()) {
      const std::size_t n = std::min(size, lines_.size() - lines_pos_);
      std::copy_n(lines_.data() + lines_pos_, n, buf);
      lines_pos_ += n;
      return n;
    }
    lines_.clear();
    lines_pos_ = 0;
    Result<streams::ReadResult> r = store_.ReadShard(stream_, shard_, next_, kReadRecords,
                                                     std::max(size, kMinReadBytes), records);
    if (!r.ok()) return r.status();
    next_ = r->next;
    if (!records.empty()) {
      const auto ordinal = streams::ParseShardId(shard_);
      for (const streams::LogRecord& record : records) {
        streams::AppendGetRecordsLine(record.view(), ordinal.value_or(0), lines_);
      }
      continue;
    }
    // At the end: wait for the next record, a slice at a time.
    if (interrupted()) return std::size_t{0};
    if (waiting_.fetch_add(1) >= kMaxWaitingIteratorReads) {
      waiting_.fetch_sub(1);
      return Status(Code::kThroughputExceeded,
                    "more than " + std::to_string(kMaxWaitingIteratorReads) +
                        " readers wait at the end of shards at once; close one");
    }
    Result<streams::WaitResult> w =
        store_.WaitForAppend(stream_, shard_, next_, std::chrono::steady_clock::now() + kWaitSlice);
    waiting_.fetch_sub(1);
    if (!w.ok()) return w.status();
    if (*w == streams::WaitResult::kSealed) return std::size_t{0};
  }
}

}  // namespace shoal::fs
