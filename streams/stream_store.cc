#include "streams/stream_store.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <system_error>
#include <thread>
#include <utility>

#include "base/file_util.h"
#include "base/json_text.h"
#include "crypto/cse.h"
#include "streams/token_bucket.h"

namespace shoal::streams {
namespace {

namespace fs = std::filesystem;

constexpr TimeNs kSecond = 1'000'000'000;
constexpr TimeNs kHour = 3600 * kSecond;
constexpr std::string_view kStreamSuffix = ".stream";
constexpr std::string_view kCreatingSuffix = ".creating";
constexpr std::string_view kDeletingSuffix = ".deleting";
constexpr std::string_view kConfigFile = "config.json";
constexpr std::string_view kMapFile = "shards.map";
// Kinesis bills PUT payload units per started 25 KB of a record.
constexpr std::uint64_t kPutPayloadUnitBytes = std::uint64_t{25} * 1024;
// Records are not JSON configuration, but a partition key is looked up in
// them: bound the nesting so that parsing and freeing stay cheap.
constexpr std::size_t kMaxRecordJsonDepth = 64;

Status FsError(std::string_view context, const std::error_code& ec) {
  return PosixError(context, ec.value());
}

Status StreamNotFound(std::string_view name) {
  return {Code::kNoSuchKey, "Stream " + std::string(name) + " under account " +
                                std::string(kAccountId) + " not found."};
}

Status ShardNotFound(std::string_view name, std::string_view shard_id) {
  return {Code::kNoSuchKey, "Shard " + QuoteForMessage(shard_id) + " in stream " +
                                std::string(name) + " under account " + std::string(kAccountId) +
                                " does not exist"};
}

ShardLog::Options LogOptions(bool create) {
  ShardLog::Options o;
  // 256 characters of UTF-8 (ValidatePartitionKey) take up to 1024 bytes.
  o.max_key_bytes = kMaxPartitionKeyChars * 4;
  o.max_data_bytes = std::size_t{kMaxMaxRecordSizeKiB} * 1024;
  o.create_if_missing = create;
  return o;
}

// A random partition key: 128 random bits in hex, as the Kinesis Agent
// and producer libraries draw them. A fixed array, so a batch's drawn keys
// need no allocation each.
constexpr std::size_t kRandomKeyChars = 32;
using RandomKey = std::array<char, kRandomKeyChars>;
void DrawPartitionKey(RandomKey& key) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t half = 0; half < 2; ++half) {
    std::uint64_t v = rng();
    for (std::size_t i = 0; i < 16; ++i) {
      key[half * 16 + i] = kHex[v & 15];
      v >>= 4;
    }
  }
}

// The partition keys of one batch as views: given keys are the caller's,
// extracted and drawn ones live here. Room for every record is reserved at
// the first of each kind, so the views stay valid while this object lives.
class BatchKeys {
 public:
  explicit BatchKeys(std::size_t records) : records_(records) { views_.reserve(records); }
  void AddGiven(std::string_view key) { views_.push_back(key); }
  void AddExtracted(std::string key) {
    if (extracted_.capacity() == 0) extracted_.reserve(records_);
    views_.push_back(extracted_.emplace_back(std::move(key)));
  }
  void AddDrawn() {
    if (drawn_.capacity() == 0) drawn_.reserve(records_);
    RandomKey& key = drawn_.emplace_back();
    DrawPartitionKey(key);
    views_.emplace_back(key.data(), key.size());
  }
  std::size_t size() const { return views_.size(); }
  std::string_view operator[](std::size_t i) const { return views_[i]; }

 private:
  std::size_t records_;
  std::vector<std::string_view> views_;
  std::vector<std::string> extracted_;
  std::vector<RandomKey> drawn_;
};

// The member of `data` (JSON) named by `path` ("$.a.b") as a partition key:
// a string as is, a number as nlohmann prints it. nullopt when `data` is not
// JSON, lacks the member, it has another type, or it is no valid key.
std::optional<std::string> KeyFromJson(std::string_view data, std::string_view path) {
  if (!path.starts_with("$.") || !DepthWithin(data, kMaxRecordJsonDepth)) return std::nullopt;
  const nlohmann::json doc = nlohmann::json::parse(data.begin(), data.end(), nullptr, false);
  if (doc.is_discarded()) return std::nullopt;
  const nlohmann::json* cur = &doc;
  std::string_view rest = path.substr(2);
  while (true) {
    const std::size_t dot = rest.find('.');
    const std::string_view field = rest.substr(0, dot);
    if (!cur->is_object()) return std::nullopt;
    const auto it = cur->find(std::string(field));
    if (it == cur->end()) return std::nullopt;
    cur = &*it;
    if (dot == std::string_view::npos) break;
    rest = rest.substr(dot + 1);
  }
  std::string key;
  if (cur->is_string()) {
    key = cur->get<std::string>();
  } else if (cur->is_number()) {
    key = cur->dump();
  } else {
    return std::nullopt;
  }
  if (!ValidatePartitionKey(key).ok()) return std::nullopt;
  return key;
}

std::uint64_t LastOffset(const ShardLog& log) {
  const std::uint64_t next = log.next_offset();
  return next == 0 ? 0 : next - 1;
}

double ShardHours(const Shard& shard, TimeNs now) {
  const TimeNs end = shard.closed_at.value_or(now);
  if (end <= shard.opened_at) return 0;
  return static_cast<double>(end - shard.opened_at) / static_cast<double>(kHour);
}

Status WriteMap(const std::string& stream_dir, const ShardMap& map) {
  return WriteFileDurably(stream_dir + "/" + std::string(kMapFile), map.Encode(), 0644);
}

Status WriteConfig(const std::string& stream_dir, const StreamConfig& config) {
  return WriteFileDurably(stream_dir + "/" + std::string(kConfigFile), StreamConfigJson(config),
                          0644);
}

// Entries of `dir` (names only); an I/O status if it cannot be listed.
Result<std::vector<std::string>> ListDir(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> names;
  fs::directory_iterator it(dir, ec);
  if (ec) return FsError("list " + dir, ec);
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return FsError("list " + dir, ec);
    names.push_back(it->path().filename().string());
  }
  if (ec) return FsError("list " + dir, ec);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

// Records and bytes (data plus partition keys) appended to one shard since
// Open, for on-demand scaling; and where its readers got to, for their lag.
struct ShardTraffic {
  std::atomic<std::uint64_t> records{0};
  std::atomic<std::uint64_t> bytes{0};
  // The offset after the last record a read returned, and that record's
  // arrival time (-1: nothing read since Open).
  std::atomic<std::uint64_t> read_next{0};
  std::atomic<TimeNs> read_arrival{-1};
};

struct ShardState {
  std::shared_ptr<ShardLog> log;
  std::shared_ptr<TokenBucket> bucket;
  std::shared_ptr<ShardText> text;  // the log as shards/<id> shows it
  std::shared_ptr<ShardTraffic> traffic;
};

namespace {

ShardState NewShardState(std::unique_ptr<ShardLog> log, ShardOrdinal ordinal,
                         const Clock& real_clock) {
  std::shared_ptr<ShardLog> shared(std::move(log));
  auto text = std::make_shared<ShardText>(shared, ordinal);
  return {.log = std::move(shared),
          .bucket = std::make_shared<TokenBucket>(real_clock),
          .text = std::move(text),
          .traffic = std::make_shared<ShardTraffic>()};
}

}  // namespace

struct StreamStore::Stream {
  std::string name;
  std::string dir;
  // Set while loading, constant afterwards: non-OK for a damaged stream.
  Status damage;

  mutable SharedMutex mu;
  bool deleted GUARDED_BY(mu) = false;
  StreamConfig config GUARDED_BY(mu);  // shard_count as the map has it
  std::optional<ShardMap> map GUARDED_BY(mu);
  std::map<ShardOrdinal, ShardState> shards GUARDED_BY(mu);  // every shard in the map
  double removed_shard_hours GUARDED_BY(mu) = 0;
  // On-demand scaling: when traffic was last measured (real time; 0: not
  // yet) and each open shard's ShardTraffic then.
  TimeNs traffic_seen_at GUARDED_BY(mu) = 0;
  std::map<ShardOrdinal, std::pair<std::uint64_t, std::uint64_t>> traffic_seen GUARDED_BY(mu);

  std::atomic<std::uint64_t> incoming_records{0};
  std::atomic<std::uint64_t> incoming_bytes{0};
  std::atomic<std::uint64_t> throttled_records{0};
  std::atomic<std::uint64_t> get_records{0};
  std::atomic<std::uint64_t> get_bytes{0};
  std::atomic<std::uint64_t> put_units{0};

  // OK when the stream can be used. REQUIRES: mu held (either way).
  Status Usable() const REQUIRES_SHARED(mu) {
    if (deleted) return StreamNotFound(name);
    return damage;
  }
  std::string ShardDir(ShardOrdinal ordinal) const { return dir + "/" + ShardIdName(ordinal); }
  // Changes the shard map by `change` (UpdateShardCount, SplitShards: given
  // a copy and the parents' ending offsets), with the map as the commit
  // point: logs of new shards are created, parents synced, the map written,
  // then parents sealed and config.shard_count set to the open shards. A
  // failure before the commit changes nothing; a seal that fails after it
  // is returned with the new map in force. Exclusive: no append is in
  // progress, so the ending offsets read from the logs are final.
  using MapChange = std::function<Status(ShardMap& map, const EndingOffsetFn& ending_offset)>;
  Status Reshard(const MapChange& change, const Clock& real_clock) REQUIRES(mu);
  // The shard named `shard_id`, or kNoSuchKey.
  Result<ShardState> FindShard(std::string_view shard_id) const REQUIRES_SHARED(mu) {
    const std::optional<ShardOrdinal> ordinal = ParseShardId(shard_id);
    if (!ordinal) return ShardNotFound(name, shard_id);
    const auto it = shards.find(*ordinal);
    if (it == shards.end()) return ShardNotFound(name, shard_id);
    return it->second;
  }
};

Status StreamStore::Stream::Reshard(const MapChange& change, const Clock& real_clock) {
  ShardMap next = *map;
  std::map<ShardOrdinal, std::uint64_t> last_offsets;
  for (const auto& [ordinal, shard] : shards) last_offsets[ordinal] = LastOffset(*shard.log);
  Status s = change(next, [&](const Shard& shard) -> std::uint64_t {
    const auto it = last_offsets.find(shard.ordinal);
    return it == last_offsets.end() ? 0 : it->second;
  });
  if (!s.ok()) return s;
  std::map<ShardOrdinal, ShardState> created;
  auto fail = [&](Status st) {
    for (auto& [ordinal, shard] : created) {
      shard.log.reset();
      std::error_code ec;
      fs::remove_all(ShardDir(ordinal), ec);
    }
    return st;
  };
  std::vector<ShardOrdinal> closing;
  for (const Shard& shard : next.shards()) {
    const Shard* old = map->Find(shard.ordinal);
    if (old != nullptr) {
      if (old->open() && !shard.open()) closing.push_back(shard.ordinal);
      continue;
    }
    Result<std::unique_ptr<ShardLog>> log =
        ShardLog::Open(ShardDir(shard.ordinal), LogOptions(true));
    if (!log.ok()) return fail(log.status());
    // A short-lived shard of the resharding: closed empty at once.
    s = shard.open() ? (*log)->Sync() : (*log)->Seal();
    if (!s.ok()) return fail(s);
    created.emplace(shard.ordinal, NewShardState(std::move(*log), shard.ordinal, real_clock));
  }
  for (ShardOrdinal ordinal : closing) {
    s = shards.at(ordinal).log->Sync();
    if (!s.ok()) return fail(s);
  }
  s = WriteMap(dir, next);
  if (!s.ok()) return fail(s);
  // Committed. A seal that fails here is redone by the next Open.
  map = std::move(next);
  shards.merge(created);
  for (ShardOrdinal ordinal : closing) {
    Status sealed = shards.at(ordinal).log->Seal();
    if (s.ok()) s = sealed;
  }
  config.shard_count = static_cast<std::int64_t>(map->open_shard_count());
  return s;
}

StreamStore::StreamStore(std::string dir, const Clock& sim_clock, const Clock& real_clock)
    : dir_(std::move(dir)), sim_clock_(sim_clock), real_clock_(real_clock) {}

StreamStore::~StreamStore() {
  ReaderLock table(table_mu_);
  for (const auto& [name, stream] : streams_) {
    ReaderLock l(stream->mu);
    if (!stream->Usable().ok()) continue;
    for (const auto& [ordinal, shard] : stream->shards) {
      // Best effort: a log that is not checkpointed is scanned at the next Open.
      (void)shard.log->Checkpoint();
    }
  }
}

Result<std::unique_ptr<StreamStore>> StreamStore::Open(const std::string& dir,
                                                       const Clock& sim_clock,
                                                       const Clock& real_clock) {
  std::error_code ec;
  fs::create_directory(dir, ec);
  if (ec) return FsError("create " + dir, ec);
  Result<std::vector<std::string>> names = ListDir(dir);
  if (!names.ok()) return names.status();
  std::unique_ptr<StreamStore> store(new StreamStore(dir, sim_clock, real_clock));
  for (const std::string& entry : *names) {
    if (entry.ends_with(kCreatingSuffix) || entry.ends_with(kDeletingSuffix)) {
      // An interrupted create or delete: never visible, so finish it by removal.
      fs::remove_all(dir + "/" + entry, ec);
      continue;
    }
    if (!entry.ends_with(kStreamSuffix)) continue;
    std::string name = entry.substr(0, entry.size() - kStreamSuffix.size());
    if (!ValidateStreamName(name).ok()) continue;
    StreamPtr stream = store->Load(name);
    WriterLock table(store->table_mu_);
    store->streams_.emplace(std::move(name), std::move(stream));
  }
  // Damage found by retention shows up again on use; Open itself succeeds.
  (void)store->Tick(sim_clock.Now());
  return store;
}

StreamStore::StreamPtr StreamStore::Load(const std::string& name) const {
  auto stream = std::make_shared<Stream>();
  stream->name = name;
  stream->dir = dir_ + "/" + name + std::string(kStreamSuffix);
  // Not shared yet: everything is built aside and moved in at the end.
  auto damaged = [&](const std::string& what) {
    stream->damage = Corrupt("stream " + name + " is damaged: " + what);
    return stream;
  };
  Result<std::string> config_text = ReadFile(stream->dir + "/" + std::string(kConfigFile));
  if (!config_text.ok()) return damaged(config_text.status().ToString());
  Result<StreamConfig> config = DecodeStreamConfig(*config_text);
  if (!config.ok()) return damaged(std::string(kConfigFile) + ": " + config.status().message());
  Result<std::string> map_text = ReadFile(stream->dir + "/" + std::string(kMapFile));
  if (!map_text.ok()) return damaged(map_text.status().ToString());
  Result<ShardMap> map = ShardMap::Decode(*map_text);
  if (!map.ok()) return damaged(std::string(kMapFile) + ": " + map.status().message());
  if (map->stream_name() != name) {
    return damaged(std::string(kMapFile) + " names stream " + QuoteForMessage(map->stream_name()));
  }
  std::map<ShardOrdinal, ShardState> shards;
  for (const Shard& shard : map->shards()) {
    Result<std::unique_ptr<ShardLog>> log =
        ShardLog::Open(stream->ShardDir(shard.ordinal), LogOptions(false));
    if (!log.ok()) return damaged(shard.id() + ": " + log.status().ToString());
    if (!shard.open() && !(*log)->sealed()) {
      // The map closed the shard but the crash came before its log was sealed.
      Status s = (*log)->Seal();
      if (!s.ok()) return damaged(shard.id() + ": " + s.ToString());
    }
    shards.emplace(shard.ordinal, NewShardState(std::move(*log), shard.ordinal, real_clock_));
  }
  // Logs of shards that a resharding created but never committed, or that
  // retention removed from the map before deleting them.
  Result<std::vector<std::string>> entries = ListDir(stream->dir);
  if (!entries.ok()) return damaged(entries.status().ToString());
  for (const std::string& entry : *entries) {
    const std::optional<ShardOrdinal> ordinal = ParseShardId(entry);
    if (ordinal && !map->Find(*ordinal)) {
      std::error_code ec;
      fs::remove_all(stream->dir + "/" + entry, ec);
    }
  }
  config->shard_count = static_cast<std::int64_t>(map->open_shard_count());
  WriterLock l(stream->mu);
  stream->config = *config;
  stream->map = std::move(*map);
  stream->shards = std::move(shards);
  return stream;
}

Result<StreamStore::StreamPtr> StreamStore::Find(std::string_view name) const {
  ReaderLock table(table_mu_);
  const auto it = streams_.find(name);
  if (it == streams_.end()) return StreamNotFound(name);
  return it->second;
}

Status StreamStore::CreateStream(std::string_view name, TimeNs now) {
  Status s = ValidateStreamName(name);
  if (!s.ok()) return s;
  const std::string sname(name);
  MutexLock admin(admin_mu_);
  {
    ReaderLock table(table_mu_);
    if (streams_.contains(name)) {
      return {Code::kAlreadyExists,
              "Stream " + sname + " under account " + std::string(kAccountId) + " already exists."};
    }
  }
  Result<ShardMap> map = ShardMap::Create(name, 1, now);
  if (!map.ok()) return map.status();
  StreamConfig config;
  config.shard_count = 1;

  // Built aside and renamed into place: a crash leaves the stream whole or absent.
  const std::string tmp = dir_ + "/" + sname + std::string(kCreatingSuffix);
  const std::string final_dir = dir_ + "/" + sname + std::string(kStreamSuffix);
  std::error_code ec;
  fs::remove_all(tmp, ec);
  if (!fs::create_directory(tmp, ec) || ec) return FsError("create " + tmp, ec);
  auto fail = [&](Status st) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    return st;
  };
  for (const Shard& shard : map->shards()) {
    Result<std::unique_ptr<ShardLog>> log =
        ShardLog::Open(tmp + "/" + shard.id(), LogOptions(true));
    if (!log.ok()) return fail(log.status());
    s = (*log)->Sync();
    if (!s.ok()) return fail(s);
  }
  s = WriteConfig(tmp, config);
  if (!s.ok()) return fail(s);
  s = WriteMap(tmp, *map);
  if (!s.ok()) return fail(s);
  fs::rename(tmp, final_dir, ec);
  if (ec) return fail(FsError("rename " + tmp, ec));
  // The stream exists from here on, even if the directory sync fails: a
  // reopen would find it, so the table shows it too.
  s = SyncDirectory(dir_);
  StreamPtr stream = Load(sname);
  if (s.ok()) s = stream->damage;
  WriterLock table(table_mu_);
  streams_.emplace(sname, std::move(stream));
  return s;
}

Status StreamStore::DeleteStream(std::string_view name) {
  MutexLock admin(admin_mu_);
  Result<StreamPtr> found = Find(name);
  if (!found.ok()) return found.status();
  Stream& stream = **found;
  const std::string gone = dir_ + "/" + std::string(name) + std::string(kDeletingSuffix);
  {
    // Waits for calls in progress; later ones see `deleted`.
    WriterLock l(stream.mu);
    std::error_code ec;
    fs::rename(stream.dir, gone, ec);
    if (ec) return FsError("rename " + stream.dir, ec);
    stream.deleted = true;
  }
  {
    WriterLock table(table_mu_);
    streams_.erase(streams_.find(name));
  }
  Status s = SyncDirectory(dir_);
  std::error_code ec;
  // Open logs keep working on their unlinked files until the last user goes.
  fs::remove_all(gone, ec);
  if (s.ok() && ec) s = FsError("remove " + gone, ec);
  return s;
}

std::vector<std::string> StreamStore::ListStreams() const {
  ReaderLock table(table_mu_);
  std::vector<std::string> names;
  names.reserve(streams_.size());
  for (const auto& [name, stream] : streams_) names.push_back(name);
  return names;
}

Result<std::string> StreamStore::ConfigJson(std::string_view name) const {
  Result<StreamPtr> found = Find(name);
  if (!found.ok()) return found.status();
  const Stream& stream = **found;
  ReaderLock l(stream.mu);
  Status s = stream.Usable();
  if (!s.ok()) return s;
  return StreamConfigJson(stream.config);
}

Result<std::string> StreamStore::DescribeJson(std::string_view name) const {
  Result<StreamPtr> found = Find(name);
  if (!found.ok()) return found.status();
  const Stream& stream = **found;
  ReaderLock l(stream.mu);
  Status s = stream.Usable();
  if (!s.ok()) return s;
  return DescribeStreamJson(*stream.map, stream.config);
}

Result<std::vector<std::string>> StreamStore::ShardIds(std::string_view name) const {
  Result<StreamPtr> found = Find(name);
  if (!found.ok()) return found.status();
  const Stream& stream = **found;
  ReaderLock l(stream.mu);
  Status s = stream.Usable();
  if (!s.ok()) return s;
  std::vector<std::string> ids;
  ids.reserve(stream.shards.size());
  for (const auto& [ordinal, shard] : stream.shards) ids.push_back(ShardIdName(ordinal));
  return ids;
}

Status StreamStore::PutConfig(std::string_view name, std::string_view json, TimeNs now) {
  Result<StreamPtr> found = Find(name);
  if (!found.ok()) return found.status();
  Stream& stream = **found;
  // Exclusive: no append runs while shards close, so the ending offsets
  // read from the logs are final.
  WriterLock l(stream.mu);
  Status s = stream.Usable();
  if (!s.ok()) return s;
  const StreamConfig before = stream.config;
  Result<StreamConfig> parsed = ParseStreamConfig(json, before, name);
  if (!parsed.ok()) return parsed.status();

  if (parsed->shard_count != stream.config.shard_count) {
    s = stream.Reshard(
        [&](ShardMap& map, const EndingOffsetFn& ending) {
          return map.UpdateShardCount(parsed->shard_count, now, ending);
        },
        real_clock_);
    // Failed before its commit point: nothing changed.
    if (!s.ok() && stream.config.shard_count == before.shard_count) return s;
    parsed->shard_count = stream.config.shard_count;
  }
  if (*parsed != before) {
    // Also for a ShardCount change alone, so that config.json stays honest.
    Status written = WriteConfig(stream.dir, *parsed);
    if (!written.ok()) return written;
    stream.config = *parsed;
  }
  return s;
}

PutRecordsResult StreamStore::PutRecords(std::string_view name,
                                         std::span<const PutRecordIn> records, TimeNs now) {
  PutRecordsResult out;
  Result<StreamPtr> found = Find(name);
  if (!found.ok()) {
    out.status = found.status();
    return out;
  }
  Stream& stream = **found;
  BatchKeys keys(records.size());
  std::vector<std::uint64_t> sizes;
  sizes.reserve(records.size());
  TimeNs wait = 0;
  ThrottleMode mode = ThrottleMode::kOff;
  {
    ReaderLock l(stream.mu);
    out.status = stream.Usable();
    if (!out.status.ok()) return out;
    const StreamConfig config = stream.config;
    mode = config.throttle;
    // Every key in `keys` is valid (ValidatePartitionKey).
    for (const PutRecordIn& record : records) {
      if (record.partition_key) {
        Status s = ValidatePartitionKey(*record.partition_key);
        if (!s.ok()) {
          out.status = std::move(s);
          break;
        }
        keys.AddGiven(*record.partition_key);
      } else if (std::optional<std::string> key;
                 config.partition_key_path &&
                 (key = KeyFromJson(record.data, *config.partition_key_path))) {
        keys.AddExtracted(std::move(*key));
      } else {
        keys.AddDrawn();
      }
      const std::string_view key = keys[keys.size() - 1];
      Status s = CheckRecordSize(config, name, key, record.data.size());
      if (!s.ok()) {
        out.status = Status(Code::kRecordTooLarge, s.message());
        break;
      }
      sizes.push_back(RecordBytes(key, record.data.size()));
    }
    if (mode == ThrottleMode::kBlock) {
      // Take capacity now, wait for it without the lock. If the stream is
      // resharded meanwhile the records go to the new shards, whose buckets
      // are then not charged: a one-off under-count at a rare moment.
      std::map<ShardOrdinal, std::pair<std::uint64_t, std::uint64_t>> demand;
      for (std::size_t i = 0; i < sizes.size(); ++i) {
        Result<ShardOrdinal> shard = stream.map->RouteValidPartitionKey(keys[i]);
        if (!shard.ok()) continue;  // reported when routed again below
        demand[*shard].first += 1;
        demand[*shard].second += sizes[i];
      }
      for (const auto& [ordinal, d] : demand) {
        const TimeNs w = stream.shards.at(ordinal).bucket->Reserve(d.first, d.second);
        if (w > 0) stream.throttled_records += d.first;
        wait = std::max(wait, w);
      }
    }
  }
  if (wait > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(wait));

  ReaderLock l(stream.mu);
  Status usable = stream.Usable();
  if (!usable.ok()) {
    out.status = std::move(usable);
    return out;
  }
  std::size_t limit = sizes.size();  // records with a valid key and size
  std::vector<ShardOrdinal> route(limit);
  for (std::size_t i = 0; i < limit; ++i) {
    // A run of one key (a keys/<key> write) is hashed once.
    if (i > 0 && keys[i].data() == keys[i - 1].data() && keys[i].size() == keys[i - 1].size()) {
      route[i] = route[i - 1];
      continue;
    }
    Result<ShardOrdinal> shard = stream.map->RouteValidPartitionKey(keys[i]);
    if (!shard.ok()) {
      out.status = shard.status();
      limit = i;
      break;
    }
    route[i] = *shard;
  }
  if (mode == ThrottleMode::kReject) {
    for (std::size_t i = 0; i < limit; ++i) {
      const std::uint64_t size = sizes[i];
      if (stream.shards.at(route[i]).bucket->TakeFitting(std::span(&size, 1)) == 0) {
        stream.throttled_records += limit - i;
        out.status = Status(Code::kThroughputExceeded, ThroughputExceededMessage(name, route[i]));
        limit = i;
        break;
      }
    }
  }

  // One append per shard, the shard's records in batch order.
  std::map<ShardOrdinal, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < limit; ++i) groups[route[i]].push_back(i);
  std::vector<std::uint64_t> offsets(limit);
  std::size_t failed_at = limit;
  Status failure;
  std::vector<RecordIn> batch;
  for (const auto& [ordinal, indexes] : groups) {
    batch.clear();
    for (std::size_t i : indexes) batch.push_back({keys[i], records[i].data});
    Result<std::uint64_t> first = stream.shards.at(ordinal).log->Append(batch, now);
    if (!first.ok()) {
      if (indexes.front() < failed_at) {
        failed_at = indexes.front();
        failure = first.status();
      }
      continue;
    }
    stream.shards.at(ordinal).text->NoteAppended(*first, batch);
    std::uint64_t group_bytes = 0;
    for (std::size_t k = 0; k < indexes.size(); ++k) {
      offsets[indexes[k]] = *first + k;
      group_bytes += sizes[indexes[k]];
    }
    ShardTraffic& traffic = *stream.shards.at(ordinal).traffic;
    traffic.records += indexes.size();
    traffic.bytes += group_bytes;
  }
  if (failed_at < limit) {
    limit = failed_at;
    out.status = std::move(failure);
  }

  std::uint64_t bytes = 0;
  std::uint64_t units = 0;
  out.accepted.reserve(limit);
  for (std::size_t i = 0; i < limit; ++i) {
    bytes += sizes[i];
    units +=
        std::max<std::uint64_t>(1, (sizes[i] + kPutPayloadUnitBytes - 1) / kPutPayloadUnitBytes);
    out.accepted.push_back(PutRecordOut{.shard = route[i], .offset = offsets[i]});
  }
  stream.incoming_records += limit;
  stream.incoming_bytes += bytes;
  stream.put_units += units;
  out.put_payload_units = units;
  return out;
}

Status StreamStore::Sync(std::string_view name) {
  Result<StreamPtr> found = Find(name);
  if (!found.ok()) return found.status();
  const Stream& stream = **found;
  ReaderLock l(stream.mu);
  Status s = stream.Usable();
  for (const auto& [ordinal, shard] : stream.shards) {
    if (!s.ok()) break;
    s = shard.log->Sync();
  }
  return s;
}

Result<ReadResult> StreamStore::ReadShard(std::string_view name, std::string_view shard_id,
                                          std::uint64_t from_offset, std::size_t max_records,
                                          std::size_t max_bytes, std::vector<LogRecord>& out) {
  out.clear();
  Result<ShardRef> ref = FindShardLog(name, shard_id);
  if (!ref.ok()) return ref.status();
  Stream& stream = *ref->stream;
  // Reads take no store lock: the log keeps readers apart from writers.
  Result<ReadResult> r = ref->log->Read(from_offset, max_records, max_bytes, out);
  if (!r.ok()) return r;
  std::uint64_t bytes = 0;
  for (const LogRecord& record : out) bytes += record.partition_key.size() + record.data.size();
  stream.get_records += out.size();
  stream.get_bytes += bytes;
  if (!out.empty()) {
    ref->traffic->read_next = r->next;
    ref->traffic->read_arrival = out.back().arrival;
  }
  return r;
}

Result<std::uint64_t> StreamStore::ShardTextSize(std::string_view name,
                                                 std::string_view shard_id) const {
  Result<ShardRef> ref = FindShardLog(name, shard_id);
  if (!ref.ok()) return ref.status();
  return ref->text->Size();
}

Result<std::size_t> StreamStore::ReadShardText(std::string_view name, std::string_view shard_id,
                                               std::uint64_t offset, char* buf, std::size_t size) {
  Result<ShardRef> ref = FindShardLog(name, shard_id);
  if (!ref.ok()) return ref.status();
  ShardText::Served served;
  Result<std::size_t> n = ref->text->Read(offset, buf, size, &served);
  if (!n.ok()) return n;
  ref->stream->get_records += served.records;
  ref->stream->get_bytes += served.bytes;
  if (served.records > 0) {
    ref->traffic->read_next = served.next_offset;
    ref->traffic->read_arrival = served.last_arrival;
  }
  return n;
}

Result<std::uint64_t> StreamStore::StartOffset(std::string_view name, std::string_view shard_id,
                                               IteratorType type, std::string_view sequence_number,
                                               TimeNs timestamp) const {
  Result<ShardRef> ref = FindShardLog(name, shard_id);
  if (!ref.ok()) return ref.status();
  const std::shared_ptr<ShardLog>& log = ref->log;
  const ShardOrdinal ordinal = ref->ordinal;
  switch (type) {
    case IteratorType::kTrimHorizon: return log->first_offset();
    case IteratorType::kLatest: return log->next_offset();
    case IteratorType::kAtTimestamp: return log->OffsetAtOrAfter(timestamp);
    case IteratorType::kAtSequenceNumber:
    case IteratorType::kAfterSequenceNumber: break;
  }
  Result<SequencePosition> pos =
      ParseSequenceNumber(sequence_number, {.member = "StartingSequenceNumber",
                                            .operation = "GetShardIterator",
                                            .stream = name,
                                            .shard = ordinal});
  if (!pos.ok()) return pos.status();
  std::uint64_t offset = pos->offset;
  if (type == IteratorType::kAfterSequenceNumber) {
    if (offset == kMaxSequenceOffset) {
      return InvalidArgument("StartingSequenceNumber " + std::string(sequence_number) +
                             " has no record after it");
    }
    ++offset;
  }
  if (offset > log->next_offset()) {
    return InvalidArgument("StartingSequenceNumber " + std::string(sequence_number) +
                           " used in GetShardIterator on shard " + std::string(shard_id) +
                           " in stream " + std::string(name) + " under account " +
                           std::string(kAccountId) + " is beyond the shard's last record.");
  }
  return offset;
}

Result<WaitResult> StreamStore::WaitForAppend(
    std::string_view name, std::string_view shard_id, std::uint64_t offset,
    std::chrono::steady_clock::time_point deadline) const {
  Result<ShardRef> ref = FindShardLog(name, shard_id);
  if (!ref.ok()) return ref.status();
  return ref->log->WaitForAppend(offset, deadline);
}

Result<StreamStore::ShardRef> StreamStore::FindShardLog(std::string_view name,
                                                        std::string_view shard_id) const {
  Result<StreamPtr> found = Find(name);
  if (!found.ok()) return found.status();
  const Stream& stream = **found;
  ReaderLock l(stream.mu);
  Status s = stream.Usable();
  if (!s.ok()) return s;
  Result<ShardState> shard = stream.FindShard(shard_id);
  if (!shard.ok()) return shard.status();
  return ShardRef{.stream = *found,
                  .log = shard->log,
                  .text = shard->text,
                  .traffic = shard->traffic,
                  .ordinal = *ParseShardId(shard_id)};
}

Status StreamStore::Tick(TimeNs now) {
  std::vector<StreamPtr> streams;
  {
    ReaderLock table(table_mu_);
    for (const auto& [name, stream] : streams_) streams.push_back(stream);
  }
  Status first_error;
  auto note = [&](const Status& s) {
    if (first_error.ok() && !s.ok()) first_error = s;
  };
  for (const StreamPtr& stream : streams) {
    bool any_expired = false;
    {
      ReaderLock l(stream->mu);
      if (!stream->Usable().ok()) continue;
      const std::int64_t hours = stream->config.retention_hours;
      for (const auto& [ordinal, shard] : stream->shards) {
        note(shard.log->TrimBefore(now - hours * kHour).status());
      }
      any_expired = !stream->map->ExpiredShards(now, hours).empty();
    }
    if (!any_expired) continue;
    std::vector<std::string> dropped;
    {
      WriterLock l(stream->mu);
      if (!stream->Usable().ok()) continue;
      const std::vector<ShardOrdinal> expired =
          stream->map->ExpiredShards(now, stream->config.retention_hours);
      ShardMap map = *stream->map;
      double hours = 0;
      for (ShardOrdinal ordinal : expired) {
        hours += ShardHours(*map.Find(ordinal), now);
        note(map.RemoveShard(ordinal));
      }
      Status s = WriteMap(stream->dir, map);
      if (!s.ok()) {
        note(s);
        continue;
      }
      stream->map = std::move(map);
      stream->removed_shard_hours += hours;
      for (ShardOrdinal ordinal : expired) {
        stream->shards.erase(ordinal);
        dropped.push_back(stream->ShardDir(ordinal));
      }
    }
    // After the map no longer names them (Open removes what a crash leaves).
    for (const std::string& dir : dropped) {
      std::error_code ec;
      fs::remove_all(dir, ec);
      if (ec) note(FsError("remove " + dir, ec));
    }
  }
  return first_error;
}

Result<StreamMetrics> StreamStore::Metrics(std::string_view name) const {
  Result<StreamPtr> found = Find(name);
  if (!found.ok()) return found.status();
  const Stream& stream = **found;
  ReaderLock l(stream.mu);
  Status s = stream.Usable();
  if (!s.ok()) return s;
  return CountersOf(stream);
}

StreamMetrics StreamStore::CountersOf(const Stream& stream) {
  return StreamMetrics{.incoming_records = stream.incoming_records.load(),
                       .incoming_bytes = stream.incoming_bytes.load(),
                       .write_throughput_exceeded = stream.throttled_records.load(),
                       .get_records_records = stream.get_records.load(),
                       .get_records_bytes = stream.get_bytes.load()};
}

Result<std::string> StreamStore::MetricsJson(std::string_view name) const {
  Result<StreamPtr> found = Find(name);
  if (!found.ok()) return found.status();
  const Stream& stream = **found;
  ReaderLock l(stream.mu);
  Status s = stream.Usable();
  if (!s.ok()) return s;
  const StreamMetrics m = CountersOf(stream);
  nlohmann::ordered_json j;
  j["IncomingRecords"] = m.incoming_records;
  j["IncomingBytes"] = m.incoming_bytes;
  j["WriteProvisionedThroughputExceeded"] = m.write_throughput_exceeded;
  j["GetRecords.Records"] = m.get_records_records;
  j["GetRecords.Bytes"] = m.get_records_bytes;
  const TimeNs now = sim_clock_.Now();
  nlohmann::ordered_json shards = nlohmann::ordered_json::object();
  for (const auto& [ordinal, shard] : stream.shards) {
    const std::uint64_t first = shard.log->first_offset();
    const std::uint64_t next = shard.log->next_offset();
    const TimeNs arrival = shard.traffic->read_arrival.load();
    const std::uint64_t read_to = std::max(first, shard.traffic->read_next.load());
    const std::uint64_t behind = next > read_to ? next - read_to : 0;
    nlohmann::ordered_json lag;
    if (arrival < 0) {
      lag["IteratorAgeMilliseconds"] = nullptr;
    } else {
      lag["IteratorAgeMilliseconds"] =
          behind == 0 ? 0 : std::max<TimeNs>(0, now - arrival) / 1'000'000;
    }
    lag["RecordsBehind"] = behind;
    shards[ShardIdName(ordinal)] = std::move(lag);
  }
  j["Shards"] = std::move(shards);
  return j.dump(2) + "\n";
}

Result<StreamBilling> StreamStore::Billing(std::string_view name, TimeNs now) const {
  Result<StreamPtr> found = Find(name);
  if (!found.ok()) return found.status();
  const Stream& stream = **found;
  ReaderLock l(stream.mu);
  Status s = stream.Usable();
  if (!s.ok()) return s;
  StreamBilling b;
  b.shard_hours = stream.removed_shard_hours;
  for (const Shard& shard : stream.map->shards()) b.shard_hours += ShardHours(shard, now);
  b.put_payload_units = stream.put_units.load();
  return b;
}

Result<std::size_t> StreamStore::ScaleOnDemand(TimeNs now) {
  std::vector<StreamPtr> streams;
  {
    ReaderLock table(table_mu_);
    for (const auto& [name, stream] : streams_) streams.push_back(stream);
  }
  std::size_t split = 0;
  Status first_error;
  for (const StreamPtr& stream : streams) {
    WriterLock l(stream->mu);
    if (!stream->Usable().ok() || stream->config.mode != StreamMode::kOnDemand) {
      stream->traffic_seen_at = 0;
      stream->traffic_seen.clear();
      continue;
    }
    const TimeNs real = real_clock_.Now();
    const bool measured = stream->traffic_seen_at != 0 && real > stream->traffic_seen_at;
    const double seconds = static_cast<double>(real - stream->traffic_seen_at) / 1e9;
    std::vector<ShardThroughput> observed;
    ThroughputRate total;
    std::map<ShardOrdinal, std::pair<std::uint64_t, std::uint64_t>> seen;
    for (const ShardOrdinal ordinal : stream->map->OpenShards()) {
      const ShardTraffic& traffic = *stream->shards.at(ordinal).traffic;
      const std::pair<std::uint64_t, std::uint64_t> now_seen{traffic.records.load(),
                                                             traffic.bytes.load()};
      seen[ordinal] = now_seen;
      const auto before = stream->traffic_seen.find(ordinal);
      if (!measured || before == stream->traffic_seen.end()) continue;
      const ThroughputRate rate{
          .bytes_per_second =
              static_cast<double>(now_seen.second - before->second.second) / seconds,
          .records_per_second =
              static_cast<double>(now_seen.first - before->second.first) / seconds};
      observed.push_back({.shard = ordinal, .rate = rate});
      total.bytes_per_second += rate.bytes_per_second;
      total.records_per_second += rate.records_per_second;
    }
    stream->traffic_seen = std::move(seen);
    stream->traffic_seen_at = real;
    if (!measured) continue;
    const ThroughputRate peak = stream->map->PeakThroughput(now);
    // Kept in memory; written with the map's next change.
    stream->map->RecordThroughput(now, total);
    const std::vector<ShardOrdinal> hot = PlanOnDemandSplits(*stream->map, observed, peak);
    if (hot.empty()) continue;
    const std::size_t open_before = stream->map->open_shard_count();
    Status s = stream->Reshard(
        [&](ShardMap& map, const EndingOffsetFn& ending) {
          return map.SplitShards(hot, now, ending);
        },
        real_clock_);
    if (stream->map->open_shard_count() != open_before) split += hot.size();
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  if (!first_error.ok()) return first_error;
  return split;
}

std::uint32_t StreamStore::OpenShardCount() const {
  std::vector<StreamPtr> streams;
  {
    ReaderLock table(table_mu_);
    for (const auto& [name, stream] : streams_) streams.push_back(stream);
  }
  std::uint32_t open = 0;
  for (const StreamPtr& stream : streams) {
    ReaderLock l(stream->mu);
    if (stream->Usable().ok()) open += static_cast<std::uint32_t>(stream->map->open_shard_count());
  }
  return open;
}

Result<StreamStore::CheckResult> StreamStore::Check(const std::string& dir) {
  CheckResult result;
  std::error_code missing;
  if (!fs::exists(dir, missing) && !missing) return result;
  Result<std::vector<std::string>> names = ListDir(dir);
  if (!names.ok()) return names.status();
  std::vector<std::string>& problems = result.problems;
  for (const std::string& entry : *names) {
    if (!entry.ends_with(kStreamSuffix)) continue;
    const std::string name = entry.substr(0, entry.size() - kStreamSuffix.size());
    if (!ValidateStreamName(name).ok()) continue;
    ++result.streams;
    const std::string sdir = dir + "/" + entry;
    auto problem = [&](const std::string& what) { problems.push_back(name + ": " + what); };
    Result<std::string> config_text = ReadFile(sdir + "/" + std::string(kConfigFile));
    if (!config_text.ok()) {
      problem(config_text.status().ToString());
    } else if (Result<StreamConfig> c = DecodeStreamConfig(*config_text); !c.ok()) {
      problem(std::string(kConfigFile) + ": " + c.status().message());
    }
    Result<std::string> map_text = ReadFile(sdir + "/" + std::string(kMapFile));
    if (!map_text.ok()) {
      problem(map_text.status().ToString());
      continue;
    }
    Result<ShardMap> map = ShardMap::Decode(*map_text);
    if (!map.ok()) {
      problem(std::string(kMapFile) + ": " + map.status().message());
      continue;
    }
    if (map->stream_name() != name) {
      problem(std::string(kMapFile) + " names stream " + QuoteForMessage(map->stream_name()));
    }
    for (const Shard& shard : map->shards()) {
      const std::string log_dir = sdir + "/" + shard.id();
      std::error_code ec;
      if (!fs::is_directory(log_dir, ec)) {
        problem(shard.id() + ": the shard's log is missing");
        continue;
      }
      Result<CheckReport> report = ShardLog::Check(log_dir);
      if (!report.ok()) {
        problem(shard.id() + ": " + report.status().ToString());
        continue;
      }
      for (const std::string& p : report->problems) problem(shard.id() + ": " + p);
    }
  }
  return result;
}

namespace {

constexpr std::string_view kLineStart = "{\"SequenceNumber\":\"";
constexpr std::string_view kAfterSequence = "\",\"ApproximateArrivalTimestamp\":\"";
constexpr std::string_view kAfterStamp = "Z\",\"PartitionKey\":";
constexpr std::string_view kAfterKey = ",\"Data\":\"";
constexpr std::string_view kLineEnd = "\"}\n";
// "2026-11-26T13:30:00.250" before its 'Z': years 1677 to 2262 have four digits.
constexpr std::size_t kStampLength = 23;

// Whether `key` goes into JSON as it is, between quotes.
bool PlainJsonString(std::string_view key) {
  return std::all_of(key.begin(), key.end(),
                     [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
}

std::string QuotedJson(std::string_view key) {
  return nlohmann::json(key).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::size_t GetRecordsLineLength(const RecordView& record, ShardOrdinal /*shard*/) {
  const std::size_t key = PlainJsonString(record.partition_key)
                              ? record.partition_key.size() + 2
                              : QuotedJson(record.partition_key).size();
  return kLineStart.size() + kSequenceNumberDigits + kAfterSequence.size() + kStampLength +
         kAfterStamp.size() + key + kAfterKey.size() + (record.data.size() + 2) / 3 * 4 +
         kLineEnd.size();
}

char* WriteGetRecordsLine(const RecordView& record, ShardOrdinal shard, char* out) {
  // Records of a batch share their arrival second: format it once.
  thread_local TimeNs stamp_secs = std::numeric_limits<TimeNs>::min();
  thread_local std::string stamp;  // "2026-11-26T13:30:00" (no 'Z')
  const TimeNs secs = record.arrival / kSecond - (record.arrival % kSecond < 0 ? 1 : 0);
  if (secs != stamp_secs) {
    stamp = FormatIso8601(secs * kSecond);
    stamp.pop_back();
    stamp_secs = secs;
  }
  const auto millis = static_cast<int>((record.arrival - secs * kSecond) / 1'000'000);
  auto put = [&out](std::string_view s) {
    std::memcpy(out, s.data(), s.size());
    out += s.size();
  };
  put(kLineStart);
  out = WriteSequenceNumber(shard, record.offset, out);
  put(kAfterSequence);
  put(stamp);
  *out++ = '.';
  *out++ = static_cast<char>('0' + millis / 100);
  *out++ = static_cast<char>('0' + millis / 10 % 10);
  *out++ = static_cast<char>('0' + millis % 10);
  put(kAfterStamp);
  if (PlainJsonString(record.partition_key)) {
    *out++ = '"';
    put(record.partition_key);
    *out++ = '"';
  } else {
    put(QuotedJson(record.partition_key));
  }
  put(kAfterKey);
  out = crypto::WriteBase64(record.data, out);
  put(kLineEnd);
  return out;
}

void AppendGetRecordsLine(const RecordView& record, ShardOrdinal shard, std::string& out) {
  const std::size_t start = out.size();
  out.resize(start + GetRecordsLineLength(record, shard));
  WriteGetRecordsLine(record, shard, out.data() + start);
}

std::string GetRecordsLine(const RecordView& record, ShardOrdinal shard) {
  std::string line;
  AppendGetRecordsLine(record, shard, line);
  return line;
}

}  // namespace shoal::streams
