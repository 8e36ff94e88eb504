// ShoalFs: delivery streams whose source is a Kinesis stream (DESIGN §2.6,
// "Source":{"KinesisStream":"<stream>"}). A new source is attached at
// LATEST: what its shards hold then is not read. From there a pump reads
// each shard's new records into the delivery stream's buffer: woken by
// every Kinesis write, each second, and before a flush, a clock advance and
// unmount. A shard that appears later (a reshard) is read from its start.
//
// At-least-once across crashes: the position read so far is written to
// STORE/firehose/<name>/source.json only when no batch taken from the
// stream is still in flight and its buffer is empty
// (FirehoseStore::Finished, told by FinishDelivery). A restart reads again
// from there, so records delivered after the last checkpoint may be
// delivered twice, and none is lost. A clean unmount pumps, delivers and
// checkpoints everything: nothing is read twice.

#include "fs/shoal_fs.h"

namespace shoal::fs {
namespace {

// What one pump reads of a shard at most per call: later calls read on.
constexpr std::size_t kPumpRecords = 10000;
constexpr std::size_t kPumpBytes = std::size_t{16} << 20;
// How often the pump looks when nothing wakes it.
constexpr auto kPumpInterval = std::chrono::seconds(1);

}  // namespace

Result<streams::SourcePositions> ShoalFs::LatestPositions(std::string_view kinesis_stream) {
  auto shards = streams_->ShardIds(kinesis_stream);
  if (!shards.ok()) {
    return InvalidArgument("Source KinesisStream " + std::string(kinesis_stream) +
                           ": no such Kinesis stream (" + shards.status().message() + ")");
  }
  streams::SourcePositions positions;
  for (const std::string& shard : *shards) {
    auto latest = streams_->StartOffset(kinesis_stream, shard, streams::IteratorType::kLatest);
    if (!latest.ok()) return latest.status();
    positions[shard] = *latest;
  }
  return positions;
}

void ShoalFs::ReportPumpProblem(const streams::SourceCursor& c, const Status& s) {
  std::string& last = firehose_pump_problems_[c.delivery_stream];
  if (s.ok() || s.message() == last) {
    if (s.ok()) last.clear();
    return;
  }
  last = s.message();
  errors_.Record(
      "/.firehose/" + c.delivery_stream,
      Status(s.code(), "reading Kinesis stream " + c.kinesis_stream + ": " + s.message()));
}

void ShoalFs::PumpFirehoseSources() {
  MutexLock pump(firehose_pump_mu_);
  for (const streams::SourceCursor& c : firehose_->SourceCursors()) {
    auto shards = streams_->ShardIds(c.kinesis_stream);
    if (!shards.ok()) {
      ReportPumpProblem(c, shards.status());
      continue;
    }
    Status problem;
    for (const std::string& shard : *shards) {
      auto at = c.next.find(shard);
      std::uint64_t from = at == c.next.end() ? 0 : at->second;
      std::vector<streams::LogRecord> records;
      auto read =
          streams_->ReadShard(c.kinesis_stream, shard, from, kPumpRecords, kPumpBytes, records);
      if (!read.ok()) {
        problem = read.status();
        continue;
      }
      if (read->trimmed) {
        problem = Status(Code::kNoSuchKey, shard + ": records past the retention period expired " +
                                               "before they were read");
      }
      if (records.empty() && read->next == from) continue;
      std::vector<std::string> data;
      data.reserve(records.size());
      for (auto& r : records) data.push_back(std::move(r.data));
      Status s = firehose_->PutFromSource(c.delivery_stream, c.kinesis_stream, shard, data,
                                          read->next, clock_.Now());
      if (!s.ok()) break;  // the source changed meanwhile: the next pump reads the new one
    }
    ReportPumpProblem(c, problem);
  }
}

void ShoalFs::WakeFirehosePump() {
  {
    std::lock_guard<std::mutex> lock(pump_wake_mu_);
    pump_woken_ = true;
  }
  pump_wake_cv_.notify_one();
}

void ShoalFs::StopFirehosePump() {
  {
    std::lock_guard<std::mutex> lock(pump_wake_mu_);
    pump_stop_ = true;
  }
  pump_wake_cv_.notify_one();
  if (firehose_pump_.joinable()) firehose_pump_.join();
}

void ShoalFs::RunFirehosePump() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(pump_wake_mu_);
      pump_wake_cv_.wait_for(lock, kPumpInterval, [&] { return pump_stop_ || pump_woken_; });
      if (pump_stop_) return;
      pump_woken_ = false;
    }
    PumpFirehoseSources();
    firehose_queue_->Queue(firehose_->TakeDue(clock_.Now()));
    // Reading on only once the deliveries have room keeps memory bounded.
    firehose_queue_->WaitForRoom();
  }
}

}  // namespace shoal::fs
