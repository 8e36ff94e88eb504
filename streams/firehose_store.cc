#include "streams/firehose_store.h"

#include <sys/stat.h>

#include <charconv>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>
#include <utility>

#include "base/file_util.h"

namespace shoal::streams {
namespace {

constexpr mode_t kFileMode = 0600;
constexpr std::uint64_t kMiB = std::uint64_t{1024} * 1024;
constexpr TimeNs kSecond = 1'000'000'000;

Result<std::uint64_t> ParseVersion(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v == 0) {
    return Status(Code::kCorrupt, "version is not a positive number");
  }
  return v;
}

// The parts of a configuration the store cannot deliver yet are refused
// when set, so that none is accepted and then silently ignored.
Status CheckSupported(const FirehoseConfig& config) {
  const auto unsupported = [](std::string_view member) {
    return Status(Code::kNotSupported, std::string(member) +
                                           " is not supported yet: delivery streams take DirectPut "
                                           "records as they arrive, or as they are read from "
                                           "a Kinesis stream");
  };
  if (config.prefix.find("partitionKeyFromLambda") != std::string::npos) {
    return unsupported("!{partitionKeyFromLambda:...} (a transform's partition keys)");
  }
  if (!config.partition_keys.empty() && !config.transform_command.empty()) {
    return unsupported("DynamicPartitioning with a Transform");
  }
  return Status::Ok();
}

// source.json's positions, for a stream that reads `kinesis_stream`.
Result<SourcePositions> ParseSource(std::string_view text, std::string_view kinesis_stream) {
  const auto bad = [] { return Status(Code::kCorrupt, "source.json is damaged"); };
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("KinesisStream") ||
      !doc.contains("Shards") || !doc["Shards"].is_object()) {
    return bad();
  }
  if (doc["KinesisStream"] != kinesis_stream) {
    return Status(Code::kCorrupt, "source.json names another Kinesis stream than config.json");
  }
  SourcePositions out;
  for (const auto& item : doc["Shards"].items()) {
    if (!item.value().is_number_unsigned()) return bad();
    out[item.key()] = item.value().get<std::uint64_t>();
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<FirehoseStore>> FirehoseStore::Open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directory(dir, ec);
  if (ec) return PosixError("creating " + dir, ec.value());
  std::unique_ptr<FirehoseStore> store(new FirehoseStore(dir));
  for (const auto& item : std::filesystem::directory_iterator(dir, ec)) {
    if (!item.is_directory()) continue;
    const std::string name = item.path().filename().string();
    auto config_text = ReadFile(item.path() / "config.json");
    auto version_text = ReadFile(item.path() / "version");
    if (!config_text.ok() || !version_text.ok()) {
      store->problems_.push_back(name + ": config.json or version cannot be read");
      continue;
    }
    auto config = ParseFirehoseConfig(*config_text, FirehoseConfig{});
    auto version = ParseVersion(*version_text);
    auto queries = config.ok() ? QueriesFor(*config)
                               : Result<std::unique_ptr<PartitionQueries>>(config.status());
    if (!queries.ok() || !version.ok()) {
      store->problems_.push_back(name + ": " +
                                 (queries.ok() ? version.status() : queries.status()).ToString());
      continue;
    }
    SourcePositions source_read;
    if (!config->source_stream.empty()) {
      auto text = ReadFile(item.path() / "source.json");
      auto positions = text.ok() ? ParseSource(*text, config->source_stream)
                                 : Result<SourcePositions>(text.status());
      if (positions.ok()) {
        source_read = std::move(*positions);
      } else {
        // A crash between source.json and config.json, or damage: read
        // every shard from its start again (at least once, never lost).
        store->problems_.push_back(name + ": " + positions.status().ToString() +
                                   "; its Kinesis source is read again from the start");
      }
    }
    MutexLock lock(store->mu_);
    Stream& s = store->streams_[name];
    s.source_saved = source_read;
    s.source_read = std::move(source_read);
    s.config = *config;
    s.version = *version;
    s.queries = std::move(*queries);
    s.buffer = BufferFor(s.config);
  }
  if (ec) return PosixError("listing " + dir, ec.value());
  return store;
}

std::string FirehoseStore::PathOf(std::string_view name) const {
  return dir_ + "/" + std::string(name);
}

std::unique_ptr<DeliveryBuffer> FirehoseStore::BufferFor(const FirehoseConfig& config) {
  return std::make_unique<DeliveryBuffer>(static_cast<std::uint64_t>(config.buffer_size_mib) * kMiB,
                                          config.buffer_interval_seconds * kSecond,
                                          config.append_delimiter);
}

Result<std::unique_ptr<PartitionQueries>> FirehoseStore::QueriesFor(const FirehoseConfig& config) {
  if (config.partition_keys.empty()) return std::unique_ptr<PartitionQueries>();
  return PartitionQueries::Compile(config.partition_keys);
}

void FirehoseStore::AddToErrorOutput(Stream& stream, std::string_view data, TimeNs now,
                                     const PartitionFailure& failure) {
  const FailedRecord failed{.record = {std::string(data), now},
                            .error_code = failure.error_code,
                            .error_message = failure.error_message,
                            .attempts = 1,
                            .attempts_ended = now};
  constexpr std::string_view kType = "partitioning-failed";
  const std::string id = "\x01" + std::string(kType);  // no key name starts so
  (void)stream.buffer->Add({.id = id, .error_output_type = kType}, ErrorRecordJson(failed, ""),
                           now);
}

Status FirehoseStore::Save(std::string_view name, const FirehoseConfig& config,
                           std::uint64_t version) const {
  const std::string path = PathOf(name);
  Status s = WriteFileDurably(path + "/config.json", FirehoseConfigJson(config), kFileMode);
  if (s.ok()) s = WriteFileDurably(path + "/version", std::to_string(version) + "\n", kFileMode);
  return s;
}

Status FirehoseStore::Create(std::string_view name) {
  Status s = ValidateDeliveryStreamName(name);
  if (!s.ok()) return s;
  MutexLock lock(mu_);
  if (streams_.find(name) != streams_.end()) {
    return Status(Code::kAlreadyExists, "Firehose " + std::string(name) + " already exists");
  }
  const std::string path = PathOf(name);
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return PosixError("creating " + path, errno);
  }
  Stream stream;
  stream.buffer = BufferFor(stream.config);
  s = Save(name, stream.config, stream.version);
  if (!s.ok()) return s;
  s = SyncDirectory(dir_);
  if (!s.ok()) return s;
  streams_.emplace(std::string(name), std::move(stream));
  return Status::Ok();
}

Status FirehoseStore::Delete(std::string_view name) {
  MutexLock lock(mu_);
  auto it = streams_.find(name);
  if (it == streams_.end()) {
    return NoSuchKey("Firehose " + std::string(name) + " not found");
  }
  std::error_code ec;
  std::filesystem::remove_all(PathOf(name), ec);
  if (ec) return PosixError("removing " + PathOf(name), ec.value());
  streams_.erase(it);
  return SyncDirectory(dir_);
}

std::vector<std::string> FirehoseStore::Names() const {
  MutexLock lock(mu_);
  std::vector<std::string> names;
  for (const auto& [name, stream] : streams_) names.push_back(name);
  return names;
}

Result<FirehoseConfig> FirehoseStore::Config(std::string_view name) const {
  MutexLock lock(mu_);
  auto it = streams_.find(name);
  if (it == streams_.end()) return NoSuchKey("Firehose " + std::string(name) + " not found");
  return it->second.config;
}

Result<std::string> FirehoseStore::ConfigJson(std::string_view name) const {
  auto config = Config(name);
  if (!config.ok()) return config.status();
  return FirehoseConfigJson(*config);
}

Result<std::uint64_t> FirehoseStore::Version(std::string_view name) const {
  MutexLock lock(mu_);
  auto it = streams_.find(name);
  if (it == streams_.end()) return NoSuchKey("Firehose " + std::string(name) + " not found");
  return it->second.version;
}

Status FirehoseStore::PutConfig(std::string_view name, std::string_view json,
                                const LatestPositions& latest) {
  MutexLock lock(mu_);
  auto it = streams_.find(name);
  if (it == streams_.end()) return NoSuchKey("Firehose " + std::string(name) + " not found");
  auto config = ParseFirehoseConfig(json, it->second.config);
  if (!config.ok()) return config.status();
  Status supported = CheckSupported(*config);
  if (!supported.ok()) return supported;
  if (*config == it->second.config) return Status::Ok();
  auto queries = QueriesFor(*config);
  if (!queries.ok()) return queries.status();
  Stream& stream = it->second;
  std::optional<SourcePositions> attached;
  if (config->source_stream != stream.config.source_stream) {
    const std::string source = PathOf(name) + "/source.json";
    if (config->source_stream.empty()) {
      if (::unlink(source.c_str()) != 0 && errno != ENOENT) return PosixError(source, errno);
      attached = SourcePositions{};
    } else {
      auto positions = latest ? latest(config->source_stream)
                              : Result<SourcePositions>(Internal("no Kinesis streams to read"));
      if (!positions.ok()) return positions.status();
      Status saved = SaveSource(name, config->source_stream, *positions);
      if (!saved.ok()) return saved;
      attached = std::move(*positions);
      stream.source_saved = *attached;
    }
  }
  Status s = Save(name, *config, stream.version + 1);
  if (!s.ok()) return s;
  if (attached) stream.source_read = std::move(*attached);
  stream.config = *config;
  stream.queries = std::move(*queries);
  ++stream.version;
  // Buffered records stay, in their partitions; the new limits apply from
  // here on.
  auto buffer = BufferFor(stream.config);
  for (auto& batch : stream.buffer->TakeAll()) {
    const DeliveryBuffer::Partition partition{
        .id = batch.partition, .keys = &batch.keys, .error_output_type = batch.error_output_type};
    for (auto& record : batch.records) (void)buffer->Add(partition, record.data, record.arrival);
  }
  stream.buffer = std::move(buffer);
  return Status::Ok();
}

Status FirehoseStore::Put(std::string_view name, std::string_view data, TimeNs now) {
  MutexLock lock(mu_);
  auto it = streams_.find(name);
  if (it == streams_.end()) return NoSuchKey("Firehose " + std::string(name) + " not found");
  Stream& stream = it->second;
  if (data.size() > kMaxFirehoseRecordBytes) {
    return Status(Code::kRecordTooLarge,
                  "1 validation error detected: Value at 'record.data' failed to satisfy "
                  "constraint: Member must have length less than or equal to 1024000");
  }
  if (stream.config.bucket.empty()) {
    return InvalidArgument("Firehose " + std::string(name) +
                           " has no destination: set Bucket in its config.json");
  }
  if (!stream.config.source_stream.empty()) {
    return InvalidArgument(
        "This operation is not permitted on KinesisStreamAsSource delivery stream type.");
  }
  Buffer(stream, data, now);
  return Status::Ok();
}

std::vector<SourceCursor> FirehoseStore::SourceCursors() const {
  MutexLock lock(mu_);
  std::vector<SourceCursor> out;
  for (const auto& [name, stream] : streams_) {
    if (stream.config.source_stream.empty() || stream.config.bucket.empty()) continue;
    out.push_back({name, stream.config.source_stream, stream.source_read});
  }
  return out;
}

Status FirehoseStore::PutFromSource(std::string_view name, std::string_view kinesis_stream,
                                    std::string_view shard, std::span<const std::string> records,
                                    std::uint64_t next, TimeNs now) {
  MutexLock lock(mu_);
  auto it = streams_.find(name);
  if (it == streams_.end() || it->second.config.source_stream != kinesis_stream) {
    return NoSuchKey("Firehose " + std::string(name) + " no longer reads " +
                     std::string(kinesis_stream));
  }
  Stream& stream = it->second;
  for (const std::string& data : records) Buffer(stream, data, now);
  stream.source_read[std::string(shard)] = next;
  return Status::Ok();
}

Status FirehoseStore::Finished(std::string_view name) {
  MutexLock lock(mu_);
  auto it = streams_.find(name);
  if (it == streams_.end()) return Status::Ok();
  Stream& stream = it->second;
  if (stream.in_flight > 0) --stream.in_flight;
  if (stream.in_flight > 0 || !stream.buffer->empty() || stream.config.source_stream.empty() ||
      stream.source_read == stream.source_saved) {
    return Status::Ok();
  }
  Status s = SaveSource(name, stream.config.source_stream, stream.source_read);
  if (s.ok()) stream.source_saved = stream.source_read;
  return s;
}

Status FirehoseStore::SaveSource(std::string_view name, std::string_view kinesis_stream,
                                 const SourcePositions& positions) const {
  nlohmann::ordered_json doc = {{"KinesisStream", kinesis_stream},
                                {"Shards", nlohmann::ordered_json::object()}};
  for (const auto& [shard, next] : positions) doc["Shards"][shard] = next;
  return WriteFileDurably(PathOf(name) + "/source.json", doc.dump() + "\n", kFileMode);
}

void FirehoseStore::Buffer(Stream& stream, std::string_view data, TimeNs now) {
  ++stream.metrics.incoming_records;
  stream.metrics.incoming_bytes += data.size();
  if (!stream.queries) {
    (void)stream.buffer->Add("", data, now);  // one partition: never past the limit
    return;
  }
  PartitionKeys keys;
  PartitionFailure failure;
  if (!stream.queries->Evaluate(data, keys, failure)) {
    ++stream.metrics.partitioning_failed_records;
    AddToErrorOutput(stream, data, now, failure);
    return;
  }
  std::string id;
  for (const auto& [key, value] : keys) {
    id += key;
    id += '\0';
    id += value;
    id += '\0';
  }
  if (!stream.buffer->Add({.id = id, .keys = &keys}, data, now)) {
    ++stream.metrics.partition_limit_records;
    AddToErrorOutput(
        stream, data, now,
        {.error_code = "DynamicPartitioning.ActivePartitionsLimitExceeded",
         .error_message = "The number of active partitions has exceeded the configured limit"});
  }
}

std::vector<FirehoseBatch> FirehoseStore::Batches(const std::string& name, Stream& stream,
                                                  std::vector<DeliveryBatch> batches) {
  std::vector<FirehoseBatch> out;
  out.reserve(batches.size());
  for (auto& batch : batches) {
    out.push_back({.stream = name,
                   .config = stream.config,
                   .version = stream.version,
                   .batch = std::move(batch)});
  }
  stream.in_flight += out.size();
  return out;
}

FirehoseStore::Encoded FirehoseStore::Encode(const FirehoseBatch& b,
                                             const std::function<TimeNs()>& now,
                                             const std::function<std::string()>& uuid,
                                             const std::function<std::string()>& random_string) {
  const FirehoseConfig& config = b.config;
  Encoded out;
  auto prefixes = S3Prefix::ParsePair(config.prefix, config.error_output_prefix);
  // One object of `batch`, under `prefix` rendered with `error_type`.
  const auto object = [&](const DeliveryBatch& batch, std::string_view error_type) {
    FirehoseDelivery d;
    d.stream = b.stream;
    d.bucket = config.bucket;
    d.records = batch.records.size();
    d.plain_bytes = batch.bytes;
    const PrefixValues values{.timestamp = batch.oldest,
                              .error_output_type = error_type,
                              .query_keys = &batch.keys,
                              .random_string = random_string};
    auto prefix = !prefixes.ok()       ? Result<std::string>(prefixes.status())
                  : error_type.empty() ? prefixes->prefix.Render(values)
                                       : prefixes->error_output_prefix.Render(values);
    auto bytes = prefix.ok()
                     ? EncodeDeliveredObject(batch, config.append_delimiter || !error_type.empty(),
                                             config.compression)
                     : Result<std::string>(prefix.status());
    if (bytes.ok()) {
      d.key = *prefix + DeliveredObjectName(b.stream, b.version, batch.oldest, uuid(),
                                            CompressionExtension(config.compression));
      d.bytes = std::move(*bytes);
    } else {
      d.failure = bytes.status();
    }
    out.deliveries.push_back(std::move(d));
  };
  if (config.transform_command.empty()) {
    object(b.batch, b.batch.error_output_type);
    return out;
  }
  out.transform = RunTransform(config, b.stream, b.batch.records, now, uuid);
  TransformOutcome& t = out.transform;
  if (!t.ok.empty()) {
    DeliveryBatch transformed{.partition = b.batch.partition, .oldest = b.batch.oldest};
    for (const BufferedRecord& r : t.ok) {
      transformed.bytes += r.data.size() + (config.append_delimiter ? 1 : 0);
    }
    transformed.records = std::move(t.ok);
    object(transformed, "");
  }
  if (!t.failed.empty()) {
    DeliveryBatch errors{.partition = b.batch.partition, .oldest = b.batch.oldest};
    const std::string arn = TransformFunctionArn(config);
    for (const FailedRecord& f : t.failed) {
      errors.records.push_back({ErrorRecordJson(f, arn), f.record.arrival});
      errors.bytes += errors.records.back().data.size() + 1;
    }
    object(errors, "processing-failed");
  }
  return out;
}

void FirehoseStore::Transformed(std::string_view name, const TransformOutcome& t) {
  MutexLock lock(mu_);
  auto it = streams_.find(name);
  if (it == streams_.end()) return;
  FirehoseMetrics& m = it->second.metrics;
  m.transform_invocations += t.invocations;
  m.transform_failed_invocations += t.failed_invocations;
  m.transform_ok_records += t.ok_records;
  m.transform_ok_bytes += t.ok_bytes;
  m.transform_dropped_records += t.dropped;
  m.transform_failed_records += t.failed.size();
}

std::vector<FirehoseBatch> FirehoseStore::TakeDue(TimeNs now) {
  MutexLock lock(mu_);
  std::vector<FirehoseBatch> out;
  for (auto& [name, stream] : streams_) {
    for (auto& b : Batches(name, stream, stream.buffer->TakeDue(now))) out.push_back(std::move(b));
  }
  return out;
}

std::vector<FirehoseBatch> FirehoseStore::TakeAll(std::string_view name) {
  MutexLock lock(mu_);
  auto it = streams_.find(name);
  if (it == streams_.end()) return {};
  return Batches(it->first, it->second, it->second.buffer->TakeAll());
}

std::vector<FirehoseBatch> FirehoseStore::TakeAllStreams() {
  MutexLock lock(mu_);
  std::vector<FirehoseBatch> out;
  for (auto& [name, stream] : streams_) {
    for (auto& b : Batches(name, stream, stream.buffer->TakeAll())) out.push_back(std::move(b));
  }
  return out;
}

void FirehoseStore::Delivered(const FirehoseDelivery& d) {
  MutexLock lock(mu_);
  auto it = streams_.find(d.stream);
  if (it == streams_.end()) return;
  it->second.metrics.delivery_records += d.records;
  it->second.metrics.delivery_bytes += d.plain_bytes;
  ++it->second.metrics.delivery_objects;
}

void FirehoseStore::DeliveryFailed(const FirehoseDelivery& d) {
  MutexLock lock(mu_);
  auto it = streams_.find(d.stream);
  if (it != streams_.end()) ++it->second.metrics.delivery_failures;
}

std::optional<TimeNs> FirehoseStore::NextDeadline() const {
  MutexLock lock(mu_);
  std::optional<TimeNs> earliest;
  for (const auto& [name, stream] : streams_) {
    auto deadline = stream.buffer->NextDeadline();
    if (deadline && (!earliest || *deadline < *earliest)) earliest = deadline;
  }
  return earliest;
}

Result<FirehoseMetrics> FirehoseStore::Metrics(std::string_view name) const {
  MutexLock lock(mu_);
  auto it = streams_.find(name);
  if (it == streams_.end()) return NoSuchKey("Firehose " + std::string(name) + " not found");
  FirehoseMetrics m = it->second.metrics;
  m.active_partitions = it->second.buffer->partition_count();
  return m;
}

}  // namespace shoal::streams
