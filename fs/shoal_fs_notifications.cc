// ShoalFs: S3 event notifications (DESIGN §2.3, MNT/.s3/<bucket>/
// notification.json). A bucket's document names Kinesis streams and
// Firehose delivery streams and the events each wants; every event of an
// object whose key passes a target's filter goes to it as S3's event
// message ({"Records":[...]}, one line): a Kinesis record (partition key:
// the object key) or a Firehose record. Events are sent after the change
// commits, in the thread that made it; a target that cannot take one (gone,
// throttled, no bucket) is reported in .shoal/errors and the change stands.
//
// The document is stored in the bucket's configs (MetaStore) and cached
// here. Its targets must exist when it is written, as S3 validates its
// destinations.

#include "fs/shoal_fs.h"

namespace shoal::fs {

using store::Txn;

namespace {

constexpr std::string_view kNotificationFile = "notification.json";
// A Kinesis partition key is at most 256 characters: a longer object key
// gets a random one.
constexpr std::size_t kMaxPartitionKey = 256;
constexpr std::size_t kBucketBatch = 1000;

}  // namespace

Status ShoalFs::LoadNotifications() {
  std::map<store::EntryId, BucketNotifications> loaded;
  Status s = meta_->View([&](Txn& txn) -> Status {
    std::optional<Txn::Cursor> after;
    for (;;) {
      auto buckets = txn.List(store::kRootId, after, kBucketBatch);
      if (!buckets.ok()) return buckets.status();
      for (const auto& b : *buckets) {
        if (b.damaged) continue;
        auto doc = txn.GetConfig(b.entry.id, kNotificationFile);
        if (!doc.ok()) return doc.status();
        if (!*doc) continue;
        auto parsed = streams::ParseNotificationConfig(**doc);
        if (!parsed.ok()) {  // stored only after validation: damage
          errors_.Record("/.s3/" + b.name + "/" + std::string(kNotificationFile), parsed.status());
          continue;
        }
        loaded[b.entry.id] = {b.name, std::move(*parsed)};
      }
      if (buckets->size() < kBucketBatch) return Status::Ok();
      after = Txn::Cursor{buckets->back().name, true};
    }
  });
  if (!s.ok()) return s;
  MutexLock lock(notify_mu_);
  notifications_ = std::move(loaded);
  any_notifications_ = !notifications_.empty();
  return Status::Ok();
}

Result<std::string> ShoalFs::ReadNotification(const std::string& bucket) {
  std::optional<std::string> doc;
  Status s = meta_->View([&](Txn& txn) -> Status {
    auto e = txn.Get(store::kRootId, bucket, true);
    if (!e.ok()) return e.status();
    if (!*e) return Status(Code::kNoSuchBucket, "The specified bucket does not exist");
    auto got = txn.GetConfig((*e)->id, kNotificationFile);
    if (!got.ok()) return got.status();
    doc = std::move(*got);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return doc ? *doc : streams::NotificationConfigJson({});
}

Status ShoalFs::ReplaceNotification(const std::string& bucket, std::string_view json) {
  // An empty document, or one without targets, sends nothing.
  const bool blank = json.find_first_not_of(" \t\r\n") == std::string_view::npos;
  streams::NotificationConfig config;
  if (!blank) {
    auto parsed = streams::ParseNotificationConfig(json);
    if (!parsed.ok()) return parsed.status();
    config = std::move(*parsed);
  }
  // S3 checks that it can deliver to each destination when the document is
  // written ("Unable to validate the following destination configurations").
  for (const streams::NotificationTarget& t : config.targets) {
    const bool kinesis = t.kind == streams::NotificationTarget::Kind::kKinesis;
    const Status exists =
        kinesis ? streams_->ShardIds(t.stream).status() : firehose_->Config(t.stream).status();
    if (!exists.ok()) {
      return InvalidArgument("Unable to validate the following destination configurations: " +
                             std::string(kinesis ? "Kinesis stream " : "Firehose ") + t.stream +
                             " does not exist");
    }
  }
  const std::string canonical = streams::NotificationConfigJson(config);
  store::EntryId bucket_id = 0;
  return meta_->Update(
      [&](Txn& txn) -> Status {
        auto e = txn.Get(store::kRootId, bucket, true);
        if (!e.ok()) return e.status();
        if (!*e) return Status(Code::kNoSuchBucket, "The specified bucket does not exist");
        bucket_id = (*e)->id;
        return config.targets.empty() ? txn.RemoveConfig(bucket_id, kNotificationFile)
                                      : txn.PutConfig(bucket_id, kNotificationFile, canonical);
      },
      [&] {
        MutexLock lock(notify_mu_);
        if (config.targets.empty()) {
          notifications_.erase(bucket_id);
        } else {
          notifications_[bucket_id] = {bucket, config};
        }
        any_notifications_ = !notifications_.empty();
      });
}

void ShoalFs::NotifyS3(const ObjectKey& key, std::string_view name, const store::Entry* e,
                       TimeNs now, streams::S3Event extra) {
  if (!any_notifications_.load(std::memory_order_relaxed)) return;
  std::vector<streams::NotificationTarget> targets;
  std::string bucket;
  {
    MutexLock lock(notify_mu_);
    auto it = notifications_.find(key.bucket);
    if (it == notifications_.end()) return;
    bucket = it->second.bucket;
    for (const auto& t : it->second.config.targets) {
      if (streams::Wants(t, name, key.key)) targets.push_back(t);
    }
  }
  if (targets.empty()) return;
  streams::S3Event event = std::move(extra);
  event.name = std::string(name);
  event.time = now;
  event.bucket = bucket;
  event.key = key.key;
  if (e != nullptr && !e->delete_marker) {
    event.size = e->size;
    event.etag = EtagHexOf(*e);
  }
  if (e != nullptr) event.version_id = e->version_id;
  // The sequencer orders the events of a key: a hexadecimal that grows.
  std::uint64_t seq = last_sequencer_.load();
  std::uint64_t next = 0;
  do {
    next = std::max<std::uint64_t>(seq + 1, static_cast<std::uint64_t>(now));
  } while (!last_sequencer_.compare_exchange_weak(seq, next));
  char hex[24];
  std::snprintf(hex, sizeof hex, "%018llX", static_cast<unsigned long long>(next));
  event.sequencer = hex;

  const std::string path = "/.s3/" + bucket + "/" + std::string(kNotificationFile);
  for (const streams::NotificationTarget& t : targets) {
    event.configuration_id = t.id;
    const std::string message = streams::S3EventJson(event);
    if (t.kind == streams::NotificationTarget::Kind::kKinesis) {
      const streams::PutRecordIn record{
          .partition_key = key.key.size() <= kMaxPartitionKey
                               ? std::optional<std::string_view>(key.key)
                               : std::nullopt,
          .data = message};
      streams::PutRecordsResult put =
          streams_->PutRecords(t.stream, std::span<const streams::PutRecordIn>(&record, 1), now);
      if (put.put_payload_units > 0) BillPutUnits()(put.put_payload_units, now);
      if (!put.status.ok()) {
        errors_.Record(path, Status(put.status.code(), "an " + event.name + " event for " +
                                                           t.stream + ": " + put.status.message()));
      }
      continue;
    }
    Status s = firehose_->Put(t.stream, message, now);
    if (!s.ok()) {
      errors_.Record(path, Status(s.code(), "an " + event.name + " event for Firehose " + t.stream +
                                                ": " + s.message()));
      continue;
    }
    meter_->FirehoseIngested(now, 1, tiers::FirehoseBilledBytes(message.size()));
    // Queued, never delivered here: a delivery is a PUT, whose event would
    // nest another delivery.
    firehose_queue_->Queue(firehose_->TakeDue(now));
  }
}

void ShoalFs::SetTransitionEvent(DueChange& c, const ObjectKey& key, const store::Entry& after,
                                 tiers::StorageClass to) {
  c.event_key = key;
  c.event_name = "LifecycleTransition";
  c.event_entry = after;
  c.event_extra.transition_class = std::string(tiers::StorageClassName(to));
}

store::Entry ShoalFs::VersionOnly(const std::string& version_id) {
  store::Entry e;
  e.delete_marker = true;  // no size, no eTag
  e.version_id = version_id;
  return e;
}

void ShoalFs::NotifyRemoval(const ObjectKey& key, std::string_view prefix,
                            const std::string& marker_version, TimeNs now) {
  if (!any_notifications_.load(std::memory_order_relaxed)) return;
  if (marker_version.empty()) {
    NotifyS3(key, std::string(prefix) + ":Delete", nullptr, now);
    return;
  }
  const store::Entry marker = VersionOnly(marker_version);
  NotifyS3(key, std::string(prefix) + ":DeleteMarkerCreated", &marker, now);
}

}  // namespace shoal::fs
