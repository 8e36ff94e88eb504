// ShoalFs: Firehose delivery streams (DESIGN §2.6) as files.
//   MNT/.firehose/<name>/              mkdir creates the delivery stream,
//                                      rmdir deletes it (what it buffered
//                                      is lost, as on Firehose)
//   MNT/.firehose/<name>/config.json   read; replaced whole
//   MNT/.firehose/<name>/records       write-only: one record per line
//                                      (DirectPut)
//   MNT/.firehose/<name>/flush         write-only: any write delivers what
//                                      the stream buffers now
//   MNT/.firehose/<name>/metrics.json  read-only
// Deliveries are PUTs of the daemon into the configured bucket, through
// the same path as a writer's (default encryption, storage class,
// lifecycle, inventory and billing apply). They happen when a write fills
// a buffer, when the simulated clock passes a buffer's interval, on flush,
// and at unmount. Deliveries are encoded and written by a thread of their
// own (FirehoseQueue), beside the writers; flush, a clock advance and
// unmount wait for them. A delivery that fails (no such bucket, full disk)
// is retried at each later delivery and logged in .shoal/errors.

#include <fcntl.h>

#include <nlohmann/json.hpp>
#include <random>

#include "fs/line_sink.h"
#include "fs/shoal_fs.h"

namespace shoal::fs {
namespace {

// The longest line a delivery stream can take (its 1,000 KiB record).
constexpr std::size_t kMaxFirehoseLine = streams::kMaxFirehoseRecordBytes + 1;
// Records queued for delivery beyond this make writers deliver their own.
constexpr std::uint64_t kMaxQueuedDeliveryBytes = std::uint64_t{64} << 20;

// records: each line is put into the delivery stream's buffer; what a
// write fills goes to the delivery queue.
class FirehoseSink final : public LineSink {
 public:
  using AfterPut = std::function<void()>;
  // Bills `records` ingested, `bytes` as Firehose counts them.
  using Bill = std::function<void(std::uint64_t records, std::uint64_t bytes, TimeNs now)>;
  FirehoseSink(streams::FirehoseStore& store, std::string stream, const Clock& clock,
               AfterPut after_put, Bill bill)
      : LineSink(kMaxFirehoseLine, "a delivery stream"),
        store_(store),
        stream_(std::move(stream)),
        clock_(clock),
        after_put_(std::move(after_put)),
        bill_(std::move(bill)) {}

 private:
  Taken PutLines(std::span<const std::string_view> lines) override {
    Taken taken;
    const TimeNs now = clock_.Now();
    std::uint64_t billed = 0;
    for (std::string_view line : lines) {
      taken.status = store_.Put(stream_, line, now);
      if (!taken.status.ok()) break;
      ++taken.lines;
      billed += tiers::FirehoseBilledBytes(line.size());
    }
    if (taken.lines > 0) {
      bill_(taken.lines, billed, now);
      after_put_();
    }
    return taken;
  }

  streams::FirehoseStore& store_;
  const std::string stream_;
  const Clock& clock_;
  const AfterPut after_put_;
  const Bill bill_;
};

// A 36-character lowercase UUID (version 4), as Firehose names objects.
// Names need to be unique, not secret: a seeded PRNG per thread.
std::string RandomUuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  unsigned char b[16];
  for (int half = 0; half < 2; ++half) {
    std::uint64_t bits = rng();
    for (int i = 0; i < 8; ++i, bits >>= 8) b[half * 8 + i] = static_cast<unsigned char>(bits);
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 0x0f];
  }
  return out;
}

// 11 lowercase hex characters (!{firehose:random-string}).
std::string RandomString() {
  return RandomUuid().substr(0, streams::kRandomStringChars);
}

}  // namespace

Status ShoalFs::OpenFirehose() {
  auto store = streams::FirehoseStore::Open(dir_->path() + "/firehose");
  if (!store.ok()) return store.status();
  firehose_ = std::move(*store);
  firehose_queue_ = std::make_unique<FirehoseQueue>(
      [this](const streams::FirehoseBatch& batch) { DeliverFirehose(batch); },
      kMaxQueuedDeliveryBytes);
  for (const std::string& problem : firehose_->problems()) {
    errors_.Record("/.firehose", Status(Code::kCorrupt, problem));
  }
  return Status::Ok();
}

void ShoalFs::BuildFirehoseTree(NodeId firehose_dir) {
  for (const std::string& name : firehose_->Names()) {
    AddDeliveryStreamDir(control_, firehose_dir, name);
  }
}

ControlDir ShoalFs::FirehoseDir() {
  return {.make = [this](ControlTree& tree, NodeId dir, std::string_view name) -> Status {
            Status s = firehose_->Create(name);
            if (!s.ok()) return s;
            AddDeliveryStreamDir(tree, dir, std::string(name));
            return Status::Ok();
          },
          .remove = [this](ControlTree& tree, NodeId dir, std::string_view name) -> Status {
            Status s = firehose_->Delete(name);
            if (!s.ok()) return s;
            if (auto node = tree.Lookup(dir, name)) (void)tree.Remove(node->id);
            return Status::Ok();
          }};
}

void ShoalFs::AddDeliveryStreamDir(ControlTree& tree, NodeId firehose_dir,
                                   const std::string& name) {
  auto dir = tree.AddDir(firehose_dir, name, {});
  if (!dir.ok()) return;
  (void)tree.AddFile(
      *dir, "config.json",
      {.read = [this, name] { return firehose_->ConfigJson(name); },
       .replace =
           [this, name](std::string_view json) {
             Status s = firehose_->PutConfig(
                 name, json, [this](std::string_view kinesis) { return LatestPositions(kinesis); });
             if (s.ok()) WakeFirehosePump();
             return s;
           }});
  (void)tree.AddFile(*dir, "metrics.json",
                     {.read = [this, name] { return FirehoseMetricsJson(name); }});
  (void)tree.AddFile(
      *dir, "records",
      {.open_writer =
           [this, name] {
             return Result<std::unique_ptr<ControlSession>>(std::make_unique<FirehoseSink>(
                 *firehose_, name, clock_,
                 [this] { firehose_queue_->Submit(firehose_->TakeDue(clock_.Now())); },
                 [this](std::uint64_t records, std::uint64_t bytes, TimeNs now) {
                   meter_->FirehoseIngested(now, records, bytes);
                 }));
           },
       .inode_per_lookup = true});
  (void)tree.AddFile(*dir, "flush", {.append = [this, name](std::string_view) {
    PumpFirehoseSources();
    firehose_queue_->Queue(firehose_->TakeAll(name));
    firehose_queue_->Drain();
    WriteFirehose({});  // what failed before, even with nothing new
    return Status::Ok();
  }});
}

Result<std::string> ShoalFs::FirehoseMetricsJson(const std::string& name) {
  auto m = firehose_->Metrics(name);
  if (!m.ok()) return m.status();
  auto version = firehose_->Version(name);
  if (!version.ok()) return version.status();
  nlohmann::ordered_json doc = {
      {"DeliveryStreamName", name},
      {"VersionId", std::to_string(*version)},
      {"IncomingRecords", m->incoming_records},
      {"IncomingBytes", m->incoming_bytes},
      {"DeliveryToS3.Records", m->delivery_records},
      {"DeliveryToS3.Bytes", m->delivery_bytes},
      {"DeliveryToS3.Objects", m->delivery_objects},
      {"ExecuteProcessing.Invocations", m->transform_invocations},
      {"ExecuteProcessing.Success",
       m->transform_invocations == 0
           ? 1.0
           : static_cast<double>(m->transform_invocations - m->transform_failed_invocations) /
                 static_cast<double>(m->transform_invocations)},
      {"SucceedProcessing.Records", m->transform_ok_records},
      {"SucceedProcessing.Bytes", m->transform_ok_bytes},
      {"DroppedProcessing.Records", m->transform_dropped_records},
      {"FailedProcessing.Records", m->transform_failed_records},
      {"PartitionCount", m->active_partitions},
      {"PartitionCountExceeded", m->partition_limit_records > 0 ? 1 : 0},
      {"PartitioningFailed.Records", m->partitioning_failed_records},
      {"PartitionCountExceeded.Records", m->partition_limit_records},
      {"DeliveryToS3.Success",
       m->delivery_objects + m->delivery_failures == 0
           ? 1.0
           : static_cast<double>(m->delivery_objects) /
                 static_cast<double>(m->delivery_objects + m->delivery_failures)}};
  return doc.dump(2) + "\n";
}

Status ShoalFs::AdvanceFirehose(TimeNs t) {
  PumpFirehoseSources();
  firehose_queue_->Queue(firehose_->TakeDue(t));
  return Status::Ok();
}

void ShoalFs::DeliverFirehose(const streams::FirehoseBatch& batch) {
  auto encoded = streams::FirehoseStore::Encode(
      batch, [this] { return clock_.Now(); }, RandomUuid, RandomString);
  if (!batch.config.transform_command.empty()) {
    firehose_->Transformed(batch.stream, encoded.transform);
    if (!encoded.transform.problem.empty()) {
      errors_.Record("/.firehose/" + batch.stream,
                     Status(Code::kInvalidArgument, "Transform: " + encoded.transform.problem));
    }
  }
  if (encoded.deliveries.empty()) {  // the transform dropped every record
    FinishBatch(batch.stream);
    return;
  }
  auto left = std::make_shared<std::atomic<std::size_t>>(encoded.deliveries.size());
  for (auto& d : encoded.deliveries) d.batch_left = left;
  WriteFirehose(std::move(encoded.deliveries));
}

void ShoalFs::FinishBatch(const std::string& stream) {
  Status s = firehose_->Finished(stream);
  if (!s.ok()) errors_.Record("/.firehose/" + stream, s);
}

void ShoalFs::FinishDelivery(const streams::FirehoseDelivery& d) {
  if (d.batch_left && d.batch_left->fetch_sub(1) == 1) FinishBatch(d.stream);
}

void ShoalFs::WriteFirehose(std::vector<streams::FirehoseDelivery> deliveries) {
  {
    MutexLock lock(firehose_retry_mu_);
    for (auto& d : firehose_retry_) deliveries.push_back(std::move(d));
    firehose_retry_.clear();
  }
  std::vector<streams::FirehoseDelivery> failed;
  for (auto& d : deliveries) {
    if (!d.failure.ok()) {  // no object can hold them: lost, and said so
      firehose_->DeliveryFailed(d);
      errors_.Record(
          "/.firehose/" + d.stream,
          Status(d.failure.code(),
                 std::to_string(d.records) + " records not delivered: " + d.failure.message()));
      FinishDelivery(d);
      continue;
    }
    Status s = PutServiceObject(d.bucket, d.key, d.bytes);
    if (s.ok()) {
      firehose_->Delivered(d);
      FinishDelivery(d);
      continue;
    }
    firehose_->DeliveryFailed(d);
    errors_.Record("/.firehose/" + d.stream, s);
    failed.push_back(std::move(d));
  }
  if (!failed.empty()) {
    MutexLock lock(firehose_retry_mu_);
    for (auto& d : failed) firehose_retry_.push_back(std::move(d));
  }
  FlushInvalidations();
}

Status ShoalFs::PutServiceObject(const std::string& bucket, const std::string& key,
                                 std::string_view bytes) {
  const Caller service{.uid = owner_uid_, .gid = owner_gid_};
  // Every inode looked up or made here counts a lookup, as the kernel's
  // would: each is forgotten once on the way out.
  std::vector<Ino> learned;
  struct ForgetLearned {
    ShoalFs& fs;
    std::vector<Ino>& inos;
    ~ForgetLearned() {
      for (Ino ino : inos) fs.Forget(ino, 1);
    }
  } forget{*this, learned};

  auto found = Lookup(store::kRootId, bucket);
  if (!found.ok()) return found.status();
  learned.push_back(found->st_ino);
  Ino dir = found->st_ino;
  std::size_t start = 0;
  for (std::size_t slash = key.find('/'); slash != std::string::npos;
       slash = key.find('/', start)) {
    const std::string part = key.substr(start, slash - start);
    start = slash + 1;
    if (part.empty()) return InvalidArgument("the key " + key + " has an empty path segment");
    auto sub = Lookup(dir, part);
    if (!sub.ok() && sub.status().code() == Code::kNoSuchKey) {
      sub = Mkdir(service, dir, part, 0755);
      if (sub.ok()) {
        MutexLock lock(pending_mu_);
        pending_invalidations_.emplace_back(dir, part);
      }
    }
    if (!sub.ok()) return sub.status();
    learned.push_back(sub->st_ino);
    if (!S_ISDIR(sub->st_mode)) {
      return Status(Code::kNotADirectory, part + " in " + key + " is an object, not a prefix");
    }
    dir = sub->st_ino;
  }
  const std::string leaf = key.substr(start);
  auto created = Create(service, dir, leaf, 0644, O_WRONLY);
  if (!created.ok()) return created.status();
  learned.push_back(created->attr.st_ino);
  auto written = Write(created->handle, bytes, 0);
  Status s = written.ok() ? Flush(created->handle) : written.status();
  Status released = Release(created->handle);
  if (s.ok()) s = released;
  if (s.ok()) {
    MutexLock lock(pending_mu_);
    pending_invalidations_.emplace_back(dir, leaf);
  }
  return s;
}

void ShoalFs::DeliverAllFirehose() {
  if (!firehose_queue_) return;
  StopFirehosePump();
  // What the sources hold now goes out too (once the store was all set up:
  // a delivery is a PUT, which needs the clock and the bill).
  if (clock_started_) PumpFirehoseSources();
  // Twice: the deliveries' own event notifications (notification.json) may
  // buffer records; what those records' objects notify in turn stays
  // unsent. The queue outlives its worker: a late notification only
  // queues.
  for (int pass = 0; pass < 2; ++pass) {
    firehose_queue_->Queue(firehose_->TakeAllStreams());
    firehose_queue_->Drain();
  }
  firehose_queue_->Stop();
}

}  // namespace shoal::fs
