#include "store/meta_store.h"

#include <lmdb.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "base/coding.h"
#include "base/mutex.h"
#include "base/raii.h"

namespace shoal::store {

namespace {

constexpr std::uint64_t kDefaultMapBytes = std::uint64_t{1} << 30;
// LMDB needs a handful of pages for its meta pages and the two DB roots.
constexpr std::uint64_t kMinMapBytes = std::uint64_t{64} * 1024;
// Doubling stops here: a metadata map this large means something is wrong,
// and the caller should see StoreFull rather than an ever-growing mmap.
constexpr std::uint64_t kMaxMapBytes = std::uint64_t{1} << 40;
// 2: entry values with a CRC-32 and the "contents" table. 3: the
// "locations", "due" and "configs" tables. Older stores are upgraded on
// open (their entries still decode; the locations are built by one scan);
// binaries that know only an older format refuse a newer store instead of
// misreading it. 4: the "versions" and "version_ids" tables (an older store
// has no kept versions, so its upgrade only writes the number).
constexpr std::uint32_t kStoreFormat = 4;
constexpr std::uint32_t kFormatWithLocations = 3;
constexpr std::uint32_t kOldestUpgradableFormat = 1;
constexpr EntryId kFirstFreeId = kRootId + 1;
constexpr std::size_t kMaxNameBytes = 255;
constexpr std::size_t kIdPrefixBytes = 8;

constexpr std::string_view kNextIdKey = "next_id";
constexpr std::string_view kFormatKey = "format";
constexpr std::string_view kStatePrefix = "state.";
constexpr std::size_t kDueKeyBytes = 8 + 8 + 1;
constexpr std::size_t kMaxConfigName = 64;

using MdbEnv = std::unique_ptr<MDB_env, Deleter<mdb_env_close>>;
using MdbTxnHandle = std::unique_ptr<MDB_txn, Deleter<mdb_txn_abort>>;
using MdbCursor = std::unique_ptr<MDB_cursor, Deleter<mdb_cursor_close>>;

// The one place an LMDB return code becomes a Status. MDB_NOTFOUND is a
// normal answer that callers test for before calling this; MDB_MAP_FULL
// is normally absorbed by growing the map and only reaches callers when
// growth is impossible.
Status MdbStatus(int rc, std::string_view what) {
  if (rc == MDB_SUCCESS) return Status::Ok();
  std::string msg(what);
  msg += ": ";
  msg += mdb_strerror(rc);
  if (rc == ENOSPC || rc == EDQUOT || rc == MDB_MAP_FULL) {
    return {Code::kStoreFull, std::move(msg)};
  }
  return {Code::kIOError, std::move(msg)};
}

// LMDB reports a short write as EIO, which is how a full disk usually shows
// up in a commit (the write that would have returned ENOSPC is cut short).
// Below this much free space, such a failure is the store being full.
constexpr std::uint64_t kNearlyFullBytes = std::uint64_t{16} << 20;

Status CommitFailure(int rc, MDB_env* env) {
  Status s = MdbStatus(rc, "commit");
  const char* path = nullptr;
  struct statvfs fs {};
  if (rc == EIO && mdb_env_get_path(env, &path) == MDB_SUCCESS && path != nullptr &&
      ::statvfs(path, &fs) == 0 &&
      static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize < kNearlyFullBytes) {
    return {Code::kStoreFull, "commit: the disk holding the store is full"};
  }
  return s;
}

// LMDB never writes through key or data pointers passed in, so casting away
// const here is safe; the API is just not const-correct.
MDB_val ToVal(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}

std::string_view FromVal(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

Status CheckName(std::string_view name) {
  if (name.empty()) return InvalidArgument("empty name");
  if (name.size() > kMaxNameBytes) return InvalidArgument("name longer than 255 bytes");
  if (name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    return InvalidArgument("name contains '/' or NUL");
  }
  return Status::Ok();
}

// Big-endian, so that a directory's children form one contiguous key range
// under memcmp ordering.
std::string IdPrefix(EntryId id) {
  std::string out(kIdPrefixBytes, '\0');
  for (std::size_t i = 0; i < kIdPrefixBytes; ++i) {
    out[kIdPrefixBytes - 1 - i] = static_cast<char>((id >> (8 * i)) & 0xff);
  }
  return out;
}

EntryId LoadIdPrefix(std::string_view key) {
  EntryId id = 0;
  for (std::size_t i = 0; i < kIdPrefixBytes; ++i) {
    id = (id << 8) | static_cast<unsigned char>(key[i]);
  }
  return id;
}

std::string EncodeKey(EntryId parent, std::string_view name, bool is_dir) {
  std::string key = IdPrefix(parent);
  key.append(name);
  if (is_dir) key.push_back('/');
  return key;
}

std::string DueKey(const DueItem& item) {
  // Flipping the sign bit makes signed times sort as unsigned bytes.
  std::string key = IdPrefix(static_cast<std::uint64_t>(item.at) ^ (std::uint64_t{1} << 63));
  key += IdPrefix(item.id);
  key.push_back(static_cast<char>(item.kind));
  return key;
}

std::string VersionKey(EntryId bucket, std::string_view key, EntryId id) {
  std::string out = IdPrefix(bucket);
  out.append(key);
  out.push_back('\0');
  out += IdPrefix(~id);
  return out;
}

// false when the key cannot have been written by VersionKey.
bool ParseVersionKey(std::string_view raw, VersionLocation& where, EntryId& id) {
  if (raw.size() < 2 * kIdPrefixBytes + 1) return false;
  const std::size_t sep = raw.size() - kIdPrefixBytes - 1;
  if (raw[sep] != '\0') return false;
  std::string_view key = raw.substr(kIdPrefixBytes, sep - kIdPrefixBytes);
  if (key.find('\0') != std::string_view::npos) return false;
  where.bucket = LoadIdPrefix(raw);
  where.key.assign(key);
  id = ~LoadIdPrefix(raw.substr(sep + 1));
  return true;
}

std::optional<DueItem> ParseDueKey(std::string_view key) {
  if (key.size() != kDueKeyBytes) return std::nullopt;
  DueItem item;
  item.at = static_cast<TimeNs>(LoadIdPrefix(key) ^ (std::uint64_t{1} << 63));
  item.id = LoadIdPrefix(key.substr(kIdPrefixBytes));
  item.kind = static_cast<std::uint8_t>(key[2 * kIdPrefixBytes]);
  return item;
}

// The id of the entry in an encoded value, without decoding the rest: the
// varint after the version byte (see entry.cc). 0 when unreadable.
EntryId EncodedEntryId(std::string_view value) {
  if (value.empty()) return 0;
  Decoder d(value.substr(1));
  std::uint64_t id = 0;
  return d.GetVarint(id) ? id : 0;
}

struct ParsedKey {
  EntryId parent = 0;
  std::string_view name;
  bool is_dir = false;
};

// false when the key cannot have been written by EncodeKey.
bool ParseKey(std::string_view key, ParsedKey& out) {
  if (key.size() <= kIdPrefixBytes) return false;
  out.parent = LoadIdPrefix(key);
  out.name = key.substr(kIdPrefixBytes);
  out.is_dir = out.name.back() == '/';
  if (out.is_dir) out.name.remove_suffix(1);
  return CheckName(out.name).ok();
}

// Decodes a value, which must describe an entry of the directory-ness its
// key says; the copy out of LMDB's memory happens here.
Result<Entry> DecodeValue(const MDB_val& v, bool is_dir) {
  Result<Entry> e = DecodeEntry(FromVal(v));
  if (e.ok() && e->is_dir() != is_dir) {
    return Corrupt("entry kind does not match its key");
  }
  return e;
}

// Shared hold on the map lock, taken through a turnstile. glibc's rwlock
// (under std::shared_mutex) prefers readers, so FUSE threads issuing one
// View after another could keep a map resize waiting forever; a grower
// holds the turnstile while it waits, which stops new holders queueing in
// front of it.
class SCOPED_CAPABILITY MapReadLock {
 public:
  MapReadLock(Mutex& turnstile, SharedMutex& map) ACQUIRE_SHARED(map) : map_(map) {
    MutexLock pass(turnstile);
    map_.LockShared();
  }
  ~MapReadLock() RELEASE() { map_.UnlockShared(); }
  MapReadLock(const MapReadLock&) = delete;
  MapReadLock& operator=(const MapReadLock&) = delete;

 private:
  SharedMutex& map_;
};

// The environment's tables (handles valid for its life once opened).
struct Tables {
  MDB_dbi entries = 0;
  MDB_dbi info = 0;
  MDB_dbi contents = 0;
  MDB_dbi locations = 0;
  MDB_dbi due = 0;
  MDB_dbi configs = 0;
  MDB_dbi versions = 0;
  MDB_dbi version_ids = 0;
};

class LmdbTxn final : public Txn {
 public:
  LmdbTxn(MDB_txn* txn, bool writable, const Tables& tables)
      : txn_(txn),
        writable_(writable),
        entries_(tables.entries),
        info_(tables.info),
        contents_(tables.contents),
        locations_(tables.locations),
        due_(tables.due),
        configs_(tables.configs),
        versions_(tables.versions),
        version_ids_(tables.version_ids) {}
  LmdbTxn(const LmdbTxn&) = delete;
  LmdbTxn& operator=(const LmdbTxn&) = delete;

  MDB_txn* raw() { return txn_.get(); }
  // True once any write hit MDB_MAP_FULL: the transaction is then dead and
  // Update must grow the map and start over, whatever fn returned.
  bool map_full() const { return map_full_; }
  void set_map_full() { map_full_ = true; }

  // Commits; the handle is freed whether or not commit succeeds.
  int Commit() { return mdb_txn_commit(txn_.release()); }

  Result<std::optional<Entry>> Lookup(EntryId parent, std::string_view name) override {
    Result<std::optional<Entry>> dir = Get(parent, name, true);
    if (!dir.ok() || dir->has_value()) return dir;
    return Get(parent, name, false);
  }

  Result<std::optional<Entry>> Get(EntryId parent, std::string_view name, bool is_dir) override {
    Status s = CheckName(name);
    if (!s.ok()) return s;
    std::string key = EncodeKey(parent, name, is_dir);
    MDB_val k = ToVal(key);
    MDB_val v{};
    int rc = mdb_get(txn_.get(), entries_, &k, &v);
    if (rc == MDB_NOTFOUND) return std::optional<Entry>();
    if (rc != MDB_SUCCESS) return MdbStatus(rc, "get entry");
    Result<Entry> e = DecodeValue(v, is_dir);
    if (!e.ok()) return e.status();
    return std::optional<Entry>(std::move(e).value());
  }

  Result<std::vector<Child>> List(EntryId dir, const std::optional<Cursor>& after,
                                  std::size_t limit) override {
    std::vector<Child> out;
    if (limit == 0) return out;
    const std::string prefix = IdPrefix(dir);
    std::string start = prefix;
    if (after.has_value()) {
      Status s = CheckName(after->name);
      if (!s.ok()) return s;
      start = EncodeKey(dir, after->name, after->is_dir);
    }
    Result<MdbCursor> cur = OpenCursor(entries_);
    if (!cur.ok()) return cur.status();
    MDB_val k = ToVal(start);
    MDB_val v{};
    int rc = mdb_cursor_get(cur->get(), &k, &v, MDB_SET_RANGE);
    // SET_RANGE lands on the cursor key itself when it still exists; the
    // listing resumes strictly after it.
    if (rc == MDB_SUCCESS && after.has_value() && FromVal(k) == start) {
      rc = mdb_cursor_get(cur->get(), &k, &v, MDB_NEXT);
    }
    while (rc == MDB_SUCCESS && out.size() < limit) {
      std::string_view key = FromVal(k);
      if (key.substr(0, kIdPrefixBytes) != prefix) break;
      ParsedKey parsed;
      if (!ParseKey(key, parsed)) return Corrupt("malformed entry key");
      Result<Entry> e = DecodeValue(v, parsed.is_dir);
      if (e.ok()) {
        out.push_back(Child{std::string(parsed.name), std::move(e).value()});
      } else if (e.status().code() == Code::kCorrupt) {
        Entry placeholder;
        placeholder.kind = parsed.is_dir ? EntryKind::kDirectory : EntryKind::kFile;
        out.push_back(Child{std::string(parsed.name), std::move(placeholder), /*damaged=*/true});
      } else {
        return e.status();
      }
      rc = mdb_cursor_get(cur->get(), &k, &v, MDB_NEXT);
    }
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) return MdbStatus(rc, "list entries");
    return out;
  }

  Result<bool> IsEmpty(EntryId dir) override {
    Result<MdbCursor> cur = OpenCursor(entries_);
    if (!cur.ok()) return cur.status();
    const std::string prefix = IdPrefix(dir);
    MDB_val k = ToVal(prefix);
    MDB_val v{};
    int rc = mdb_cursor_get(cur->get(), &k, &v, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND) return true;
    if (rc != MDB_SUCCESS) return MdbStatus(rc, "check directory");
    return FromVal(k).substr(0, kIdPrefixBytes) != prefix;
  }

  Status Put(EntryId parent, std::string_view name, const Entry& entry) override {
    if (!writable_) return Internal("Put in a read-only transaction");
    Status s = CheckName(name);
    if (!s.ok()) return s;
    std::string key = EncodeKey(parent, name, entry.is_dir());
    std::string value = EncodeEntry(entry);
    MDB_val k = ToVal(key);
    MDB_val v = ToVal(value);
    s = WriteStatus(mdb_put(txn_.get(), entries_, &k, &v, 0), "put entry");
    if (!s.ok() || entry.id == 0) return s;
    return PutLocation(entry.id, key);
  }

  Status Remove(EntryId parent, std::string_view name, bool is_dir) override {
    if (!writable_) return Internal("Remove in a read-only transaction");
    Status s = CheckName(name);
    if (!s.ok()) return s;
    std::string key = EncodeKey(parent, name, is_dir);
    MDB_val k = ToVal(key);
    MDB_val v{};
    int rc = mdb_get(txn_.get(), entries_, &k, &v);
    if (rc == MDB_NOTFOUND) return NoSuchKey("no entry " + std::string(name));
    if (rc != MDB_SUCCESS) return MdbStatus(rc, "get entry");
    const EntryId id = EncodedEntryId(FromVal(v));
    rc = mdb_del(txn_.get(), entries_, &k, nullptr);
    s = WriteStatus(rc, "remove entry");
    if (!s.ok() || id == 0) return s;
    // The entry may have been put at its new place already (a rename):
    // only a location that still names this key goes.
    std::string id_key = IdPrefix(id);
    MDB_val lk = ToVal(id_key);
    MDB_val lv{};
    rc = mdb_get(txn_.get(), locations_, &lk, &lv);
    if (rc == MDB_NOTFOUND || (rc == MDB_SUCCESS && FromVal(lv) != key)) return Status::Ok();
    if (rc != MDB_SUCCESS) return MdbStatus(rc, "get location");
    return WriteStatus(mdb_del(txn_.get(), locations_, &lk, nullptr), "remove location");
  }

  Status PutLocation(EntryId id, std::string_view key) {
    std::string id_key = IdPrefix(id);
    MDB_val k = ToVal(id_key);
    MDB_val v = ToVal(key);
    return WriteStatus(mdb_put(txn_.get(), locations_, &k, &v, 0), "put location");
  }

  Result<std::optional<Location>> Locate(EntryId id) override {
    std::string id_key = IdPrefix(id);
    MDB_val k = ToVal(id_key);
    MDB_val v{};
    int rc = mdb_get(txn_.get(), locations_, &k, &v);
    if (rc == MDB_NOTFOUND) return std::optional<Location>();
    if (rc != MDB_SUCCESS) return MdbStatus(rc, "get location");
    ParsedKey parsed;
    if (!ParseKey(FromVal(v), parsed))
      return Corrupt("malformed location of entry " + std::to_string(id));
    return std::optional<Location>(
        Location{parsed.parent, std::string(parsed.name), parsed.is_dir});
  }

  Status PutVersion(EntryId bucket, std::string_view key, const Entry& v) override {
    if (!writable_) return Internal("PutVersion in a read-only transaction");
    if (v.id == 0) return InvalidArgument("version record without an id");
    if (key.find('\0') != std::string_view::npos) return InvalidArgument("key contains NUL");
    std::string vkey = VersionKey(bucket, key, v.id);
    std::string value = EncodeEntry(v);
    MDB_val k = ToVal(vkey);
    MDB_val val = ToVal(value);
    Status s = WriteStatus(mdb_put(txn_.get(), versions_, &k, &val, 0), "put version");
    if (!s.ok()) return s;
    std::string id_key = IdPrefix(v.id);
    MDB_val ik = ToVal(id_key);
    return WriteStatus(mdb_put(txn_.get(), version_ids_, &ik, &k, 0), "put version id");
  }

  Status RemoveVersion(EntryId bucket, std::string_view key, EntryId id) override {
    if (!writable_) return Internal("RemoveVersion in a read-only transaction");
    std::string vkey = VersionKey(bucket, key, id);
    MDB_val k = ToVal(vkey);
    int rc = mdb_del(txn_.get(), versions_, &k, nullptr);
    if (rc == MDB_NOTFOUND) {
      return Status(Code::kNoSuchVersion, "The specified version does not exist.");
    }
    Status s = WriteStatus(rc, "remove version");
    if (!s.ok()) return s;
    std::string id_key = IdPrefix(id);
    MDB_val ik = ToVal(id_key);
    rc = mdb_del(txn_.get(), version_ids_, &ik, nullptr);
    if (rc == MDB_NOTFOUND) return Status::Ok();
    return WriteStatus(rc, "remove version id");
  }

  Result<std::optional<Entry>> GetVersion(EntryId bucket, std::string_view key,
                                          EntryId id) override {
    std::string vkey = VersionKey(bucket, key, id);
    MDB_val k = ToVal(vkey);
    MDB_val v{};
    int rc = mdb_get(txn_.get(), versions_, &k, &v);
    if (rc == MDB_NOTFOUND) return std::optional<Entry>();
    if (rc != MDB_SUCCESS) return MdbStatus(rc, "get version");
    Result<Entry> e = DecodeEntry(FromVal(v));
    if (!e.ok()) return e.status();
    return std::optional<Entry>(std::move(e).value());
  }

  Result<std::optional<VersionLocation>> LocateVersion(EntryId id) override {
    std::string id_key = IdPrefix(id);
    MDB_val k = ToVal(id_key);
    MDB_val v{};
    int rc = mdb_get(txn_.get(), version_ids_, &k, &v);
    if (rc == MDB_NOTFOUND) return std::optional<VersionLocation>();
    if (rc != MDB_SUCCESS) return MdbStatus(rc, "get version location");
    VersionLocation where;
    EntryId stored = 0;
    if (!ParseVersionKey(FromVal(v), where, stored) || stored != id) {
      return Corrupt("malformed location of version " + std::to_string(id));
    }
    return std::optional<VersionLocation>(std::move(where));
  }

  Result<std::vector<VersionRecord>> ListVersions(EntryId bucket, std::string_view prefix,
                                                  const std::optional<VersionCursor>& after,
                                                  std::size_t limit) override {
    std::vector<VersionRecord> out;
    if (limit == 0) return out;
    std::string start = IdPrefix(bucket);
    start.append(prefix);
    if (after.has_value()) {
      std::string from = VersionKey(bucket, after->key, after->id);
      if (from > start) start = std::move(from);
    }
    Result<MdbCursor> cur = OpenCursor(versions_);
    if (!cur.ok()) return cur.status();
    MDB_val k = ToVal(start);
    MDB_val v{};
    int rc = mdb_cursor_get(cur->get(), &k, &v, MDB_SET_RANGE);
    if (rc == MDB_SUCCESS && after.has_value() && FromVal(k) == start) {
      rc = mdb_cursor_get(cur->get(), &k, &v, MDB_NEXT);
    }
    while (rc == MDB_SUCCESS && out.size() < limit) {
      VersionLocation where;
      EntryId id = 0;
      if (!ParseVersionKey(FromVal(k), where, id)) return Corrupt("malformed version key");
      if (where.bucket != bucket || where.key.compare(0, prefix.size(), prefix) != 0) break;
      Result<Entry> e = DecodeEntry(FromVal(v));
      if (!e.ok()) return e.status();
      out.push_back(VersionRecord{std::move(where.key), std::move(e).value()});
      rc = mdb_cursor_get(cur->get(), &k, &v, MDB_NEXT);
    }
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) return MdbStatus(rc, "list versions");
    return out;
  }

  Status ScanAllVersions(
      const std::function<Status(const VersionLocation& where, Result<Entry> v)>& fn) override {
    Result<MdbCursor> cur = OpenCursor(versions_);
    if (!cur.ok()) return cur.status();
    MDB_val k{};
    MDB_val v{};
    int rc = mdb_cursor_get(cur->get(), &k, &v, MDB_FIRST);
    while (rc == MDB_SUCCESS) {
      VersionLocation where;
      EntryId id = 0;
      Status s = ParseVersionKey(FromVal(k), where, id)
                     ? fn(where, DecodeEntry(FromVal(v)))
                     : fn(where, Result<Entry>(Corrupt("malformed version key")));
      if (!s.ok()) return s;
      rc = mdb_cursor_get(cur->get(), &k, &v, MDB_NEXT);
    }
    if (rc != MDB_NOTFOUND) return MdbStatus(rc, "scan versions");
    return Status::Ok();
  }

  Status AddDue(const DueItem& item) override {
    if (!writable_) return Internal("AddDue in a read-only transaction");
    std::string key = DueKey(item);
    MDB_val k = ToVal(key);
    MDB_val v = ToVal("");
    return WriteStatus(mdb_put(txn_.get(), due_, &k, &v, 0), "add due work");
  }

  Status RemoveDue(const DueItem& item) override {
    if (!writable_) return Internal("RemoveDue in a read-only transaction");
    std::string key = DueKey(item);
    MDB_val k = ToVal(key);
    int rc = mdb_del(txn_.get(), due_, &k, nullptr);
    if (rc == MDB_NOTFOUND) return Status::Ok();
    return WriteStatus(rc, "remove due work");
  }

  Result<std::optional<DueItem>> FirstDue() override {
    Result<MdbCursor> cur = OpenCursor(due_);
    if (!cur.ok()) return cur.status();
    MDB_val k{};
    MDB_val v{};
    int rc = mdb_cursor_get(cur->get(), &k, &v, MDB_FIRST);
    if (rc == MDB_NOTFOUND) return std::optional<DueItem>();
    if (rc != MDB_SUCCESS) return MdbStatus(rc, "read due work");
    std::optional<DueItem> item = ParseDueKey(FromVal(k));
    if (!item) return Corrupt("malformed due-work key");
    return item;
  }

  Status PutConfig(EntryId bucket, std::string_view name, std::string_view value) override {
    if (!writable_) return Internal("PutConfig in a read-only transaction");
    if (name.empty() || name.size() > kMaxConfigName) return InvalidArgument("bad config name");
    std::string key = IdPrefix(bucket);
    key.append(name);
    MDB_val k = ToVal(key);
    MDB_val v = ToVal(value);
    return WriteStatus(mdb_put(txn_.get(), configs_, &k, &v, 0), "put bucket configuration");
  }

  Result<std::optional<std::string>> GetConfig(EntryId bucket, std::string_view name) override {
    std::string key = IdPrefix(bucket);
    key.append(name);
    MDB_val k = ToVal(key);
    MDB_val v{};
    int rc = mdb_get(txn_.get(), configs_, &k, &v);
    if (rc == MDB_NOTFOUND) return std::optional<std::string>();
    if (rc != MDB_SUCCESS) return MdbStatus(rc, "get bucket configuration");
    return std::optional<std::string>(std::string(FromVal(v)));
  }

  Status RemoveConfig(EntryId bucket, std::string_view name) override {
    if (!writable_) return Internal("RemoveConfig in a read-only transaction");
    std::string key = IdPrefix(bucket);
    key.append(name);
    MDB_val k = ToVal(key);
    int rc = mdb_del(txn_.get(), configs_, &k, nullptr);
    if (rc == MDB_NOTFOUND) return Status::Ok();
    return WriteStatus(rc, "remove bucket configuration");
  }

  Status RemoveConfigs(EntryId bucket) override {
    if (!writable_) return Internal("RemoveConfigs in a read-only transaction");
    Result<MdbCursor> cur = OpenCursor(configs_);
    if (!cur.ok()) return cur.status();
    const std::string prefix = IdPrefix(bucket);
    for (;;) {
      MDB_val k = ToVal(prefix);
      MDB_val v{};
      int rc = mdb_cursor_get(cur->get(), &k, &v, MDB_SET_RANGE);
      if (rc == MDB_NOTFOUND) return Status::Ok();
      if (rc != MDB_SUCCESS) return MdbStatus(rc, "list bucket configuration");
      if (FromVal(k).substr(0, kIdPrefixBytes) != prefix) return Status::Ok();
      rc = mdb_cursor_del(cur->get(), 0);
      if (rc != MDB_SUCCESS) return WriteStatus(rc, "remove bucket configuration");
    }
  }

  Status PutState(std::string_view name, std::string_view value) override {
    if (!writable_) return Internal("PutState in a read-only transaction");
    std::string key(kStatePrefix);
    key.append(name);
    MDB_val k = ToVal(key);
    MDB_val v = ToVal(value);
    return WriteStatus(mdb_put(txn_.get(), info_, &k, &v, 0), "put saved state");
  }

  Result<std::optional<std::string>> GetState(std::string_view name) override {
    std::string key(kStatePrefix);
    key.append(name);
    MDB_val k = ToVal(key);
    MDB_val v{};
    int rc = mdb_get(txn_.get(), info_, &k, &v);
    if (rc == MDB_NOTFOUND) return std::optional<std::string>();
    if (rc != MDB_SUCCESS) return MdbStatus(rc, "get saved state");
    return std::optional<std::string>(std::string(FromVal(v)));
  }

  Result<EntryId> NewId() override {
    if (!writable_) return Internal("NewId in a read-only transaction");
    MDB_val k = ToVal(kNextIdKey);
    MDB_val v{};
    int rc = mdb_get(txn_.get(), info_, &k, &v);
    if (rc == MDB_NOTFOUND) return Corrupt("store info has no next_id");
    if (rc != MDB_SUCCESS) return MdbStatus(rc, "read next_id");
    if (v.mv_size != 8) return Corrupt("store info next_id has the wrong size");
    EntryId id = LoadFixed64(static_cast<const unsigned char*>(v.mv_data));
    if (id < kFirstFreeId || id == UINT64_MAX) return Corrupt("store info next_id out of range");
    std::string next;
    PutFixed64(next, id + 1);
    MDB_val nv = ToVal(next);
    Status s = WriteStatus(mdb_put(txn_.get(), info_, &k, &nv, 0), "write next_id");
    if (!s.ok()) return s;
    return id;
  }

  Status PutContent(EntryId id, std::string_view bytes) override {
    if (!writable_) return Internal("PutContent in a read-only transaction");
    std::string key = IdPrefix(id);
    MDB_val k = ToVal(key);
    MDB_val v = ToVal(bytes);
    return WriteStatus(mdb_put(txn_.get(), contents_, &k, &v, 0), "put content");
  }

  Result<std::optional<std::string>> GetContent(EntryId id) override {
    std::string key = IdPrefix(id);
    MDB_val k = ToVal(key);
    MDB_val v{};
    int rc = mdb_get(txn_.get(), contents_, &k, &v);
    if (rc == MDB_NOTFOUND) return std::optional<std::string>();
    if (rc != MDB_SUCCESS) return MdbStatus(rc, "get content");
    return std::optional<std::string>(std::string(FromVal(v)));
  }

  Status RemoveContent(EntryId id) override {
    if (!writable_) return Internal("RemoveContent in a read-only transaction");
    std::string key = IdPrefix(id);
    MDB_val k = ToVal(key);
    int rc = mdb_del(txn_.get(), contents_, &k, nullptr);
    if (rc == MDB_NOTFOUND) return Status::Ok();
    return WriteStatus(rc, "remove content");
  }

  Status ScanAll(const std::function<Status(EntryId parent, std::string_view name, bool is_dir,
                                            Result<Entry> entry)>& fn) override {
    Result<MdbCursor> cur = OpenCursor(entries_);
    if (!cur.ok()) return cur.status();
    MDB_val k{};
    MDB_val v{};
    int rc = mdb_cursor_get(cur->get(), &k, &v, MDB_FIRST);
    while (rc == MDB_SUCCESS) {
      std::string_view key = FromVal(k);
      ParsedKey parsed;
      Status s;
      if (ParseKey(key, parsed)) {
        s = fn(parsed.parent, parsed.name, parsed.is_dir, DecodeValue(v, parsed.is_dir));
      } else {
        // fsck still hears about a key it can only partly read.
        EntryId parent = key.size() >= kIdPrefixBytes ? LoadIdPrefix(key) : 0;
        std::string_view name = key.size() > kIdPrefixBytes ? key.substr(kIdPrefixBytes) : "";
        s = fn(parent, name, false, Result<Entry>(Corrupt("malformed entry key")));
      }
      if (!s.ok()) return s;
      rc = mdb_cursor_get(cur->get(), &k, &v, MDB_NEXT);
    }
    if (rc != MDB_NOTFOUND) return MdbStatus(rc, "scan entries");
    return Status::Ok();
  }

 private:
  Result<MdbCursor> OpenCursor(MDB_dbi dbi) {
    MDB_cursor* c = nullptr;
    int rc = mdb_cursor_open(txn_.get(), dbi, &c);
    if (rc != MDB_SUCCESS) return MdbStatus(rc, "open cursor");
    return MdbCursor(c);
  }

  Status WriteStatus(int rc, std::string_view what) {
    if (rc == MDB_MAP_FULL) map_full_ = true;
    return MdbStatus(rc, what);
  }

  MdbTxnHandle txn_;
  const bool writable_;
  const MDB_dbi entries_;
  const MDB_dbi info_;
  const MDB_dbi contents_;
  const MDB_dbi locations_;
  const MDB_dbi due_;
  const MDB_dbi configs_;
  const MDB_dbi versions_;
  const MDB_dbi version_ids_;
  bool map_full_ = false;
};

class LmdbMetaStore final : public MetaStore {
 public:
  explicit LmdbMetaStore(MdbEnv env) : env_(std::move(env)) {}
  LmdbMetaStore(const LmdbMetaStore&) = delete;
  LmdbMetaStore& operator=(const LmdbMetaStore&) = delete;

  // Opens the tables and checks, upgrades or writes the store format.
  Status Init() {
    return WriteLoop(
        [this](LmdbTxn& txn) {
          Tables t;
          const std::pair<const char*, MDB_dbi*> tables[] = {
              {"entries", &t.entries},   {"contents", &t.contents},
              {"info", &t.info},         {"locations", &t.locations},
              {"due", &t.due},           {"configs", &t.configs},
              {"versions", &t.versions}, {"version_ids", &t.version_ids}};
          for (const auto& [name, dbi] : tables) {
            int rc = mdb_dbi_open(txn.raw(), name, MDB_CREATE, dbi);
            if (rc == MDB_MAP_FULL) txn.set_map_full();
            if (rc != MDB_SUCCESS) return MdbStatus(rc, std::string("open ") + name + " table");
          }
          Status s = CheckFormat(txn, t);
          if (!s.ok()) return s;
          // Handles opened in a committed transaction stay valid for the
          // life of the environment; a retried attempt overwrites these.
          tables_ = t;
          return Status::Ok();
        },
        {});
  }

  Status View(const std::function<Status(Txn&)>& fn) override {
    MapReadLock map(turnstile_, map_mu_);
    MDB_txn* raw = nullptr;
    int rc = mdb_txn_begin(env_.get(), nullptr, MDB_RDONLY, &raw);
    if (rc != MDB_SUCCESS) return MdbStatus(rc, "begin read transaction");
    LmdbTxn txn(raw, /*writable=*/false, tables_);
    // Aborting a read-only transaction is how LMDB ends it; the destructor
    // does that, before the map lock is released.
    return fn(txn);
  }

  Status Update(const std::function<Status(Txn&)>& fn,
                const std::function<void()>& after_commit) override {
    return WriteLoop([&fn](LmdbTxn& txn) { return fn(txn); }, after_commit);
  }

  Status Sync() override {
    int rc = mdb_env_sync(env_.get(), 1);
    if (rc != MDB_SUCCESS) return MdbStatus(rc, "sync metadata");
    return Status::Ok();
  }

  std::uint64_t MapSize() const override {
    MapReadLock map(turnstile_, map_mu_);
    MDB_envinfo info{};
    MDB_stat stat{};
    if (mdb_env_info(env_.get(), &info) != MDB_SUCCESS ||
        mdb_env_stat(env_.get(), &stat) != MDB_SUCCESS) {
      return 0;
    }
    return (std::uint64_t{info.me_last_pgno} + 1) * stat.ms_psize;
  }

 private:
  static Status Write(LmdbTxn& txn, MDB_dbi dbi, std::string_view key, std::string_view value,
                      std::string_view what) {
    MDB_val k = ToVal(key);
    MDB_val v = ToVal(value);
    int rc = mdb_put(txn.raw(), dbi, &k, &v, 0);
    if (rc == MDB_MAP_FULL) txn.set_map_full();
    return MdbStatus(rc, what);
  }

  // A new store gets the current format; an older one is upgraded.
  static Status CheckFormat(LmdbTxn& txn, const Tables& t) {
    MDB_val k = ToVal(kFormatKey);
    MDB_val v{};
    int rc = mdb_get(txn.raw(), t.info, &k, &v);
    std::string current;
    PutFixed32(current, kStoreFormat);
    if (rc == MDB_NOTFOUND) {
      std::string next_id;
      PutFixed64(next_id, kFirstFreeId);
      Status s = Write(txn, t.info, kFormatKey, current, "write store format");
      if (!s.ok()) return s;
      return Write(txn, t.info, kNextIdKey, next_id, "write next_id");
    }
    if (rc != MDB_SUCCESS) return MdbStatus(rc, "read store format");
    if (v.mv_size != 4) return Corrupt("store format has the wrong size");
    std::uint32_t format = LoadFixed32(static_cast<const unsigned char*>(v.mv_data));
    if (format == kStoreFormat) return Status::Ok();
    if (format < kOldestUpgradableFormat || format > kStoreFormat) {
      return Status(Code::kInvalidRequest, "unknown store format " + std::to_string(format));
    }
    if (format < kFormatWithLocations) {
      Status s = BuildLocations(txn, t);
      if (!s.ok()) return s;
    }
    return Write(txn, t.info, kFormatKey, current, "upgrade store format");
  }

  // Upgrade to format 3: one location per entry whose value names its id.
  static Status BuildLocations(LmdbTxn& txn, const Tables& t) {
    MDB_cursor* raw = nullptr;
    int rc = mdb_cursor_open(txn.raw(), t.entries, &raw);
    if (rc != MDB_SUCCESS) return MdbStatus(rc, "open cursor");
    MdbCursor cur(raw);
    MDB_val k{};
    MDB_val v{};
    for (rc = mdb_cursor_get(raw, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(raw, &k, &v, MDB_NEXT)) {
      const EntryId id = EncodedEntryId(FromVal(v));
      if (id == 0) continue;  // unreadable: fsck reports it
      Status s = Write(txn, t.locations, IdPrefix(id), FromVal(k), "build locations");
      if (!s.ok()) return s;
    }
    if (rc != MDB_NOTFOUND) return MdbStatus(rc, "scan entries");
    return Status::Ok();
  }

  // Runs fn in a write transaction and commits, growing the map and
  // starting over whenever LMDB reports it full.
  Status WriteLoop(const std::function<Status(LmdbTxn&)>& fn,
                   const std::function<void()>& after_commit) EXCLUDES(write_mu_) {
    // Held across begin, fn, commit and after_commit, so after_commit
    // finishes before the next write transaction begins. LMDB would
    // serialise writers by itself, but only from begin to commit.
    MutexLock writer(write_mu_);
    for (;;) {
      bool full = false;
      {
        MapReadLock map(turnstile_, map_mu_);
        MDB_txn* raw = nullptr;
        int rc = mdb_txn_begin(env_.get(), nullptr, 0, &raw);
        if (rc != MDB_SUCCESS) return MdbStatus(rc, "begin write transaction");
        LmdbTxn txn(raw, /*writable=*/true, tables_);
        Status s = fn(txn);
        if (txn.map_full()) {
          full = true;  // txn aborts on leaving this scope
        } else if (!s.ok()) {
          return s;
        } else {
          rc = txn.Commit();
          if (rc == MDB_MAP_FULL) {
            full = true;
          } else if (rc != MDB_SUCCESS) {
            return CommitFailure(rc, env_.get());
          }
        }
      }
      if (!full) break;
      Status s = GrowMap();
      if (!s.ok()) return s;
    }
    if (after_commit) after_commit();
    return Status::Ok();
  }

  // Doubles the map. LMDB allows resizing only with no transaction open in
  // the process, which the exclusive map lock guarantees: every transaction
  // holds it shared.
  Status GrowMap() REQUIRES(write_mu_) {
    MutexLock pass(turnstile_);
    WriterLock map(map_mu_);
    MDB_envinfo info{};
    int rc = mdb_env_info(env_.get(), &info);
    if (rc != MDB_SUCCESS) return MdbStatus(rc, "read map size");
    std::uint64_t size = info.me_mapsize;
    if (size >= kMaxMapBytes) {
      return Status(Code::kStoreFull, "metadata map is full at " + std::to_string(size) + " bytes");
    }
    rc = mdb_env_set_mapsize(env_.get(), static_cast<std::size_t>(size * 2));
    return MdbStatus(rc, "grow map");
  }

  MdbEnv env_;
  Tables tables_;  // set once by Init, then read-only
  Mutex write_mu_;
  mutable Mutex turnstile_;  // see MapReadLock
  mutable SharedMutex map_mu_;
};

}  // namespace

Result<std::unique_ptr<MetaStore>> MetaStore::Open(const std::string& dir) {
  return Open(dir, kDefaultMapBytes);
}

Result<std::unique_ptr<MetaStore>> MetaStore::Open(const std::string& dir,
                                                   std::uint64_t initial_map_bytes) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return PosixError("create metadata directory " + dir, errno);
  }
  MDB_env* raw = nullptr;
  int rc = mdb_env_create(&raw);
  if (rc != MDB_SUCCESS) return MdbStatus(rc, "create LMDB environment");
  MdbEnv env(raw);  // closes the environment on every failure path below

  // LMDB wants the map size a multiple of the OS page size.
  const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  std::uint64_t map_bytes = initial_map_bytes < kMinMapBytes ? kMinMapBytes : initial_map_bytes;
  map_bytes = (map_bytes + page - 1) / page * page;

  rc = mdb_env_set_maxdbs(env.get(), 12);
  if (rc != MDB_SUCCESS) return MdbStatus(rc, "set max DBs");
  rc = mdb_env_set_mapsize(env.get(), static_cast<std::size_t>(map_bytes));
  if (rc != MDB_SUCCESS) return MdbStatus(rc, "set map size");
  // MDB_NOTLS: FUSE runs read transactions on pool threads, and LMDB's
  // default per-thread reader slot would forbid two live snapshots on one
  // thread. MDB_NOMETASYNC: a commit syncs its data pages but not the meta
  // page, one flush instead of two; LMDB keeps its integrity, and a system
  // crash can undo only the last commit before a Sync.
  rc = mdb_env_open(env.get(), dir.c_str(), MDB_NOTLS | MDB_NOMETASYNC, 0600);
  if (rc != MDB_SUCCESS) return MdbStatus(rc, "open LMDB environment " + dir);

  auto store = std::make_unique<LmdbMetaStore>(std::move(env));
  Status s = store->Init();
  if (!s.ok()) return s;
  return std::unique_ptr<MetaStore>(std::move(store));
}

}  // namespace shoal::store
