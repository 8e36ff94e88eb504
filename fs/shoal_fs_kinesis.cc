// ShoalFs: Kinesis data streams (DESIGN §2.5) as files.
//   MNT/.kinesis/<stream>/              mkdir creates the stream, rmdir
//                                       deletes it with its records
//   MNT/.kinesis/<stream>/config.json   read; replaced whole (resharding,
//                                       retention, throttling, ...)
//   MNT/.kinesis/<stream>/description.json, metrics.json   read-only
//   MNT/.kinesis/<stream>/records       write-only: one record per line
//   MNT/.kinesis/<stream>/keys/<key>    write-only, any valid partition key
//   MNT/.kinesis/<stream>/shards/<id>   read-only: the retained records
//   MNT/.kinesis/<stream>/shards/<id>@<iterator>   read-only, not listed: a
//                                       shard iterator that follows the shard
// The service itself is streams::StreamStore; the per-open behaviour is in
// fs/stream_sessions.h.

#include <set>

#include "fs/shoal_fs.h"
#include "fs/stream_sessions.h"
#include "streams/stream_config.h"

namespace shoal::fs {

Status ShoalFs::OpenStreams() {
  auto store = streams::StreamStore::Open(dir_->path() + "/streams", clock_, elapsed_);
  if (!store.ok()) return store.status();
  streams_ = std::move(*store);
  return Status::Ok();
}

Status ShoalFs::AdvanceStreams(TimeNs t) {
  return streams_->Tick(t);
}

void ShoalFs::ScaleStreams() {
  const auto real = std::chrono::steady_clock::now();
  if (real - streams_scaled_at_ < std::chrono::seconds(1)) return;
  streams_scaled_at_ = real;
  const TimeNs now = clock_.Now();
  Result<std::size_t> split = streams_->ScaleOnDemand(now);
  if (!split.ok()) {
    // Retried every second: a failure is logged when it first appears, not
    // each time it persists.
    std::string failure = split.status().ToString();
    if (failure != streams_scale_failure_) errors_.Record("/.kinesis", split.status());
    streams_scale_failure_ = std::move(failure);
    return;
  }
  streams_scale_failure_.clear();
  if (*split > 0) CountOpenShards(now);
}

void ShoalFs::CountOpenShards(TimeNs now) {
  meter_->SetKinesisShards(streams_->OpenShardCount(), now);
}

std::function<void(std::uint64_t, TimeNs)> ShoalFs::BillPutUnits() {
  return [this](std::uint64_t units, TimeNs now) {
    meter_->KinesisPutUnits(now, units);
    WakeFirehosePump();  // a delivery stream may read this Kinesis stream
  };
}

void ShoalFs::BuildKinesisTree(NodeId kinesis_dir) {
  for (const std::string& stream : streams_->ListStreams()) {
    AddStreamDir(control_, kinesis_dir, stream);
  }
}

ControlDir ShoalFs::KinesisDir() {
  return {.make = [this](ControlTree& tree, NodeId dir, std::string_view name) -> Status {
            const TimeNs now = clock_.Now();
            Status s = streams_->CreateStream(name, now);
            if (!s.ok()) return s;
            CountOpenShards(now);
            AddStreamDir(tree, dir, std::string(name));
            return Status::Ok();
          },
          .remove = [this](ControlTree& tree, NodeId dir, std::string_view name) -> Status {
            Status s = streams_->DeleteStream(name);
            if (!s.ok()) return s;
            CountOpenShards(clock_.Now());
            if (auto node = tree.Lookup(dir, name)) (void)tree.Remove(node->id);
            return Status::Ok();
          }};
}

void ShoalFs::AddStreamDir(ControlTree& tree, NodeId kinesis_dir, const std::string& stream) {
  auto dir = tree.AddDir(kinesis_dir, stream, {});
  if (!dir.ok()) return;
  (void)tree.AddFile(*dir, "config.json",
                     {.read = [this, stream] { return streams_->ConfigJson(stream); },
                      .replace =
                          [this, stream](std::string_view json) {
                            const TimeNs now = clock_.Now();
                            Status s = streams_->PutConfig(stream, json, now);
                            CountOpenShards(now);  // a failure past the commit point too
                            return s;
                          }});
  (void)tree.AddFile(*dir, "description.json",
                     {.read = [this, stream] { return streams_->DescribeJson(stream); }});
  (void)tree.AddFile(*dir, "metrics.json",
                     {.read = [this, stream] { return streams_->MetricsJson(stream); }});
  (void)tree.AddFile(
      *dir, "records",
      {.open_writer =
           [this, stream] {
             return Result<std::unique_ptr<ControlSession>>(std::make_unique<RecordSink>(
                 *streams_, stream, std::nullopt, clock_, BillPutUnits()));
           },
       .inode_per_lookup = true});
  (void)tree.AddDir(*dir, "keys", {.resolve = [this, stream](NodeId, std::string_view key) {
    std::shared_ptr<ControlNode> node;
    if (!streams::ValidatePartitionKey(key).ok()) return node;
    node = std::make_shared<ControlNode>();
    node->file.open_writer = [this, stream, k = std::string(key)] {
      return Result<std::unique_ptr<ControlSession>>(
          std::make_unique<RecordSink>(*streams_, stream, k, clock_, BillPutUnits()));
    };
    return node;
  }});
  (void)tree.AddDir(
      *dir, "shards",
      {.refresh = [this, stream](ControlTree& t,
                                 NodeId shards) { RefreshShardFiles(t, shards, stream); },
       .resolve =
           [this, stream](NodeId shards, std::string_view name) {
             return ResolveShardIterator(shards, stream, name);
           }});
}

void ShoalFs::RefreshShardFiles(ControlTree& tree, NodeId shards_dir, const std::string& stream) {
  auto ids = streams_->ShardIds(stream);
  if (!ids.ok()) return;
  const std::set<std::string> wanted(ids->begin(), ids->end());
  // Shards that retention removed go.
  for (const auto& child : tree.List(shards_dir)) {
    if (wanted.count(child->name) == 0) (void)tree.Remove(child->id);
  }
  for (const std::string& id : *ids) {
    if (tree.Lookup(shards_dir, id)) continue;
    (void)tree.AddFile(shards_dir, id,
                       {.open_reader =
                            [this, stream, id] {
                              return Result<std::unique_ptr<ControlSession>>(
                                  std::make_unique<ShardFileReader>(*streams_, stream, id));
                            },
                        .current_size = [this, stream, id]() -> std::uint64_t {
                          auto size = streams_->ShardTextSize(stream, id);
                          return size.ok() ? *size : 0;
                        }});
  }
}

std::shared_ptr<ControlNode> ShoalFs::ResolveShardIterator(NodeId shards_dir,
                                                           const std::string& stream,
                                                           std::string_view name) {
  auto parsed = ParseIteratorName(name);
  if (!parsed.ok()) {
    errors_.Record("/.kinesis/" + stream + "/shards/" + std::string(name), parsed.status());
    return nullptr;
  }
  if (!*parsed) return nullptr;
  const IteratorName it = **parsed;
  // The lookup refreshed the shard files just before (ShoalFs::Lookup).
  if (!control_.Lookup(shards_dir, it.shard_id)) return nullptr;
  auto node = std::make_shared<ControlNode>();
  node->file.open_reader = [this, stream, it]() -> Result<std::unique_ptr<ControlSession>> {
    auto start =
        streams_->StartOffset(stream, it.shard_id, it.type, it.sequence_number, it.timestamp);
    if (!start.ok()) return start.status();
    return std::unique_ptr<ControlSession>(std::make_unique<ShardIteratorReader>(
        *streams_, stream, it.shard_id, *start, waiting_iterator_reads_));
  };
  return node;
}

}  // namespace shoal::fs
