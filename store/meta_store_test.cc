#include "store/meta_store.h"

#include <lmdb.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <thread>

#include "base/coding.h"
#include "base/temp_dir.h"

namespace shoal::store {
namespace {

// A fresh directory under $TMPDIR, removed with everything in it.
// A store directory for the tests: a TempDir whose metadata lives in meta/.
class StoreDir : public TempDir {
 public:
  StoreDir() : TempDir("shoal-store") {}
  std::string meta() const { return path() + "/meta"; }
};

std::unique_ptr<MetaStore> OpenOrDie(const std::string& dir) {
  Result<std::unique_ptr<MetaStore>> s = MetaStore::Open(dir);
  INFO(s.status().ToString());
  REQUIRE(s.ok());
  return std::move(s).value();
}

Entry MakeFile(EntryId id) {
  Entry e;
  e.id = id;
  e.kind = EntryKind::kFile;
  return e;
}

Entry MakeDir(EntryId id) {
  Entry e;
  e.id = id;
  e.kind = EntryKind::kDirectory;
  e.mode = 0755;
  return e;
}

std::vector<std::string> Names(const std::vector<Child>& children) {
  std::vector<std::string> out;
  out.reserve(children.size());
  for (const Child& c : children) out.push_back(c.name + (c.entry.is_dir() ? "/" : ""));
  return out;
}

TEST_CASE("a directory lists in S3 key order", "[store]") {
  StoreDir tmp;
  auto store = OpenOrDie(tmp.meta());
  const EntryId dir = 7;
  REQUIRE(store
              ->Update([&](Txn& t) {
                for (const char* f : {"b.txt", "a", "b-c"}) {
                  Status s = t.Put(dir, f, MakeFile(100));
                  if (!s.ok()) return s;
                }
                for (const char* d : {"b", "a.d"}) {
                  Status s = t.Put(dir, d, MakeDir(200));
                  if (!s.ok()) return s;
                }
                // Neighbouring directories must not leak into the listing.
                Status s = t.Put(dir - 1, "zz", MakeFile(300));
                if (!s.ok()) return s;
                return t.Put(dir + 1, "0", MakeFile(301));
              })
              .ok());

  const std::vector<std::string> want = {"a", "a.d/", "b-c", "b.txt", "b/"};
  REQUIRE(store
              ->View([&](Txn& t) {
                Result<std::vector<Child>> all = t.List(dir, std::nullopt, 100);
                REQUIRE(all.ok());
                CHECK(Names(*all) == want);

                SECTION("paging with a cursor and a limit visits each child once") {
                  std::vector<std::string> paged;
                  std::optional<Txn::Cursor> after;
                  for (int pages = 0; pages < 10; ++pages) {
                    Result<std::vector<Child>> page = t.List(dir, after, 2);
                    REQUIRE(page.ok());
                    CHECK(page->size() <= 2);
                    if (page->empty()) break;
                    for (const auto& n : Names(*page)) paged.push_back(n);
                    after = Txn::Cursor{page->back().name, page->back().entry.is_dir()};
                  }
                  CHECK(paged == want);
                }
                SECTION("a cursor that names no child resumes after where it would be") {
                  Result<std::vector<Child>> page = t.List(dir, Txn::Cursor{"a.c", false}, 100);
                  REQUIRE(page.ok());
                  CHECK(Names(*page) == std::vector<std::string>{"a.d/", "b-c", "b.txt", "b/"});
                  // "b" the file does not exist; it would sort first of the
                  // "b" names, "b/" last.
                  page = t.List(dir, Txn::Cursor{"b", false}, 100);
                  REQUIRE(page.ok());
                  CHECK(Names(*page) == std::vector<std::string>{"b-c", "b.txt", "b/"});
                  page = t.List(dir, Txn::Cursor{"b", true}, 100);
                  REQUIRE(page.ok());
                  CHECK(page->empty());
                }
                SECTION("a zero limit lists nothing") {
                  Result<std::vector<Child>> page = t.List(dir, std::nullopt, 0);
                  REQUIRE(page.ok());
                  CHECK(page->empty());
                }
                Result<bool> empty = t.IsEmpty(dir);
                REQUIRE(empty.ok());
                CHECK_FALSE(*empty);
                empty = t.IsEmpty(dir + 100);
                REQUIRE(empty.ok());
                CHECK(*empty);
                return Status::Ok();
              })
              .ok());
}

TEST_CASE("Lookup prefers the directory over a file of the same name", "[store]") {
  StoreDir tmp;
  auto store = OpenOrDie(tmp.meta());
  REQUIRE(store
              ->Update([](Txn& t) {
                Status s = t.Put(kRootId, "x", MakeFile(10));
                if (!s.ok()) return s;
                s = t.Put(kRootId, "only-file", MakeFile(12));
                if (!s.ok()) return s;
                return t.Put(kRootId, "x", MakeDir(11));
              })
              .ok());
  REQUIRE(store
              ->View([](Txn& t) {
                Result<std::optional<Entry>> e = t.Lookup(kRootId, "x");
                REQUIRE(e.ok());
                REQUIRE(e->has_value());
                CHECK((*e)->id == 11);
                e = t.Get(kRootId, "x", false);
                REQUIRE(e.ok());
                REQUIRE(e->has_value());
                CHECK((*e)->id == 10);
                e = t.Lookup(kRootId, "only-file");
                REQUIRE(e.ok());
                REQUIRE(e->has_value());
                CHECK((*e)->id == 12);
                e = t.Lookup(kRootId, "absent");
                REQUIRE(e.ok());
                CHECK_FALSE(e->has_value());
                return Status::Ok();
              })
              .ok());
}

TEST_CASE("bad names are InvalidArgument", "[store]") {
  StoreDir tmp;
  auto store = OpenOrDie(tmp.meta());
  Status s = store->Update([](Txn& t) {
    for (const std::string& name :
         {std::string(), std::string("a/b"), std::string("a\0b", 3), std::string(256, 'n')}) {
      CHECK(t.Put(kRootId, name, MakeFile(5)).code() == Code::kInvalidArgument);
      CHECK(t.Lookup(kRootId, name).status().code() == Code::kInvalidArgument);
    }
    return t.Put(kRootId, std::string(255, 'n'), MakeDir(5));
  });
  CHECK(s.ok());
}

TEST_CASE("removing an absent entry is NoSuchKey", "[store]") {
  StoreDir tmp;
  auto store = OpenOrDie(tmp.meta());
  Status s = store->Update([](Txn& t) { return t.Remove(kRootId, "nope", false); });
  CHECK(s.code() == Code::kNoSuchKey);
  s = store->Update([](Txn& t) {
    Status put = t.Put(kRootId, "f", MakeFile(3));
    if (!put.ok()) return put;
    // Directory-ness is part of the name: "f/" does not exist.
    CHECK(t.Remove(kRootId, "f", true).code() == Code::kNoSuchKey);
    return t.Remove(kRootId, "f", false);
  });
  CHECK(s.ok());
}

TEST_CASE("inline contents are kept by entry id and survive a reopen", "[store]") {
  StoreDir tmp;
  const std::string image(5000, 'x');
  {
    auto store = OpenOrDie(tmp.meta());
    REQUIRE(store->Update([&](Txn& t) { return t.PutContent(42, image); }).ok());
    REQUIRE(store->Sync().ok());
  }
  auto store = OpenOrDie(tmp.meta());
  Status s = store->View([&](Txn& t) {
    auto got = t.GetContent(42);
    REQUIRE(got.ok());
    REQUIRE(got->has_value());
    CHECK(**got == image);
    auto absent = t.GetContent(43);
    REQUIRE(absent.ok());
    CHECK_FALSE(absent->has_value());
    CHECK(t.PutContent(43, "y").code() == Code::kInternal);  // read-only
    return Status::Ok();
  });
  CHECK(s.ok());
  REQUIRE(store
              ->Update([](Txn& t) {
                Status r = t.RemoveContent(42);
                if (!r.ok()) return r;
                return t.RemoveContent(42);  // absent: still fine
              })
              .ok());
  s = store->View([](Txn& t) {
    auto got = t.GetContent(42);
    REQUIRE(got.ok());
    CHECK_FALSE(got->has_value());
    return Status::Ok();
  });
  CHECK(s.ok());
}

TEST_CASE("an Update whose callback fails leaves nothing behind", "[store]") {
  StoreDir tmp;
  auto store = OpenOrDie(tmp.meta());
  bool ran_after = false;
  Status s = store->Update(
      [](Txn& t) {
        Status put = t.Put(kRootId, "f", MakeFile(3));
        if (!put.ok()) return put;
        Result<EntryId> id = t.NewId();
        if (!id.ok()) return id.status();
        return Status(Code::kAccessDenied, "changed my mind");
      },
      [&] { ran_after = true; });
  CHECK(s.code() == Code::kAccessDenied);
  CHECK_FALSE(ran_after);
  CHECK(store
            ->View([](Txn& t) {
              Result<bool> empty = t.IsEmpty(kRootId);
              REQUIRE(empty.ok());
              CHECK(*empty);
              return Status::Ok();
            })
            .ok());
  // The aborted NewId was not consumed.
  CHECK(store
            ->Update([](Txn& t) {
              Result<EntryId> id = t.NewId();
              REQUIRE(id.ok());
              CHECK(*id == kRootId + 1);
              return Status::Ok();
            })
            .ok());
}

TEST_CASE("after_commit runs after a successful commit", "[store]") {
  StoreDir tmp;
  auto store = OpenOrDie(tmp.meta());
  int calls = 0;
  Status s = store->Update([](Txn& t) { return t.Put(kRootId, "f", MakeFile(3)); },
                           [&] {
                             ++calls;
                             // The write is already visible to readers.
                             CHECK(store
                                       ->View([](Txn& t) {
                                         Result<std::optional<Entry>> e =
                                             t.Get(kRootId, "f", false);
                                         REQUIRE(e.ok());
                                         CHECK(e->has_value());
                                         return Status::Ok();
                                       })
                                       .ok());
                           });
  CHECK(s.ok());
  CHECK(calls == 1);
}

TEST_CASE("a read-only transaction refuses writes", "[store]") {
  StoreDir tmp;
  auto store = OpenOrDie(tmp.meta());
  CHECK(store
            ->View([](Txn& t) {
              CHECK(t.Put(kRootId, "f", MakeFile(3)).code() == Code::kInternal);
              CHECK(t.Remove(kRootId, "f", false).code() == Code::kInternal);
              CHECK(t.NewId().status().code() == Code::kInternal);
              return Status::Ok();
            })
            .ok());
}

TEST_CASE("data and ids survive reopening, and ids are never reused", "[store]") {
  StoreDir tmp;
  std::set<EntryId> seen;
  auto take_ids = [&](MetaStore& store, int n) {
    REQUIRE(store
                .Update([&](Txn& t) {
                  for (int i = 0; i < n; ++i) {
                    Result<EntryId> id = t.NewId();
                    REQUIRE(id.ok());
                    CHECK(*id > kRootId);
                    CHECK(seen.insert(*id).second);
                  }
                  return Status::Ok();
                })
                .ok());
  };
  {
    auto store = OpenOrDie(tmp.meta());
    take_ids(*store, 5);
    Entry e = MakeFile(*seen.begin());
    e.xattrs = {{"user.k", "v"}};
    REQUIRE(store->Update([&](Txn& t) { return t.Put(kRootId, "kept", e); }).ok());
  }
  auto store = OpenOrDie(tmp.meta());
  take_ids(*store, 5);
  CHECK(seen.size() == 10);
  CHECK(store
            ->View([&](Txn& t) {
              Result<std::optional<Entry>> e = t.Get(kRootId, "kept", false);
              REQUIRE(e.ok());
              REQUIRE(e->has_value());
              CHECK((*e)->id == *seen.begin());
              CHECK((*e)->xattrs.size() == 1);
              return Status::Ok();
            })
            .ok());
}

TEST_CASE("the map grows when a tiny map fills up", "[store]") {
  StoreDir tmp;
  Result<std::unique_ptr<MetaStore>> opened = MetaStore::Open(tmp.meta(), std::uint64_t{64} * 1024);
  REQUIRE(opened.ok());
  auto& store = *opened;
  const std::string value(std::size_t{60} * 1024, 'v');
  auto entry = [&](int i) {
    Entry e = MakeFile(static_cast<EntryId>(i));
    e.xattrs = {{"user.pad", value}};
    return e;
  };
  // One transaction far larger than the map: it must be retried several times.
  int attempts = 0;
  Status s = store->Update([&](Txn& t) {
    ++attempts;
    for (int i = 0; i < 100; ++i) {
      Status put = t.Put(kRootId, "big" + std::to_string(i), entry(i));
      if (!put.ok()) return put;
    }
    return Status::Ok();
  });
  INFO(s.ToString());
  REQUIRE(s.ok());
  CHECK(attempts > 1);
  // Many small transactions whose callbacks swallow the error: growth must
  // not depend on fn passing the status on.
  for (int i = 0; i < 100; ++i) {
    s = store->Update([&](Txn& t) {
      (void)t.Put(kRootId, "small" + std::to_string(i), entry(i));
      return Status::Ok();
    });
    REQUIRE(s.ok());
  }
  CHECK(store->MapSize() > std::uint64_t{10} * 1024 * 1024);
  CHECK(store
            ->View([&](Txn& t) {
              Result<std::vector<Child>> all = t.List(kRootId, std::nullopt, 1000);
              REQUIRE(all.ok());
              CHECK(all->size() == 200);
              return Status::Ok();
            })
            .ok());
}

TEST_CASE("readers run concurrently with writers", "[store]") {
  StoreDir tmp;
  Result<std::unique_ptr<MetaStore>> opened = MetaStore::Open(tmp.meta(), std::uint64_t{64} * 1024);
  REQUIRE(opened.ok());
  MetaStore& store = **opened;
  constexpr int kWrites = 300;
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  readers.reserve(4);
  for (int r = 0; r < 4; ++r) {
    readers.emplace_back([&] {
      while (!done.load()) {
        Status s = store.View([&](Txn& t) {
          Result<std::vector<Child>> all = t.List(kRootId, std::nullopt, kWrites + 1);
          if (!all.ok()) return all.status();
          // Each write adds the next name, so a snapshot is a prefix.
          for (std::size_t i = 0; i < all->size(); ++i) {
            if ((*all)[i].entry.id != EntryId{100000} + static_cast<EntryId>(i)) ++bad;
          }
          return Status::Ok();
        });
        if (!s.ok()) ++bad;
      }
    });
  }
  const std::string pad(2000, 'p');
  for (int i = 0; i < kWrites; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "k%06d", i);
    Entry e = MakeFile(EntryId{100000} + static_cast<EntryId>(i));
    e.xattrs = {{"user.pad", pad}};
    REQUIRE(store.Update([&](Txn& t) { return t.Put(kRootId, name, e); }).ok());
  }
  done = true;
  for (auto& th : readers) th.join();
  CHECK(bad.load() == 0);
}

TEST_CASE("ScanAll reports corrupt values and stops when fn fails", "[store]") {
  StoreDir tmp;
  {
    auto store = OpenOrDie(tmp.meta());
    REQUIRE(store
                ->Update([](Txn& t) {
                  Status s = t.Put(kRootId, "a", MakeFile(2));
                  if (!s.ok()) return s;
                  s = t.Put(kRootId, "b", MakeDir(3));
                  if (!s.ok()) return s;
                  return t.Put(3, "c", MakeFile(4));
                })
                .ok());
  }
  // Damage the value of "a" behind the store's back.
  {
    MDB_env* env = nullptr;
    REQUIRE(mdb_env_create(&env) == 0);
    REQUIRE(mdb_env_set_maxdbs(env, 4) == 0);
    REQUIRE(mdb_env_open(env, tmp.meta().c_str(), 0, 0600) == 0);
    MDB_txn* txn = nullptr;
    REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
    MDB_dbi dbi = 0;
    REQUIRE(mdb_dbi_open(txn, "entries", 0, &dbi) == 0);
    std::string key(7, '\0');
    key += '\1';
    key += 'a';
    MDB_val k{key.size(), key.data()};
    char junk[] = "\x01garbage";
    MDB_val v{sizeof junk - 1, junk};
    REQUIRE(mdb_put(txn, dbi, &k, &v, 0) == 0);
    REQUIRE(mdb_txn_commit(txn) == 0);
    mdb_env_close(env);
  }
  auto store = OpenOrDie(tmp.meta());
  int seen = 0, corrupt = 0;
  Status s = store->View([&](Txn& t) {
    return t.ScanAll(
        [&](EntryId parent, std::string_view name, bool is_dir, const Result<Entry>& e) {
          ++seen;
          if (!e.ok()) {
            ++corrupt;
            CHECK(e.status().code() == Code::kCorrupt);
            CHECK(parent == kRootId);
            CHECK(name == "a");
            CHECK_FALSE(is_dir);
          }
          return Status::Ok();
        });
  });
  CHECK(s.ok());
  CHECK(seen == 3);
  CHECK(corrupt == 1);

  seen = 0;
  s = store->View([&](Txn& t) {
    return t.ScanAll([&](EntryId, std::string_view, bool, const Result<Entry>&) {
      ++seen;
      return Status(Code::kInternal, "stop");
    });
  });
  CHECK(s.code() == Code::kInternal);
  CHECK(seen == 1);
  // Lookups of the damaged entry report it rather than crash.
  CHECK(store->View([](Txn& t) { return t.Lookup(kRootId, "a").status(); }).code() ==
        Code::kCorrupt);
}

// Writes `format` straight into the info table of the store at `meta`, as
// an older binary would have left it; `drop_locations` empties the table
// that format 3 added, so the upgrade must rebuild it.
void WriteFormat(const std::string& meta, std::uint32_t format, bool drop_locations = false) {
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  REQUIRE(mdb_env_set_maxdbs(env, 12) == 0);
  REQUIRE(mdb_env_open(env, meta.c_str(), 0, 0600) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, 0, &txn) == 0);
  MDB_dbi dbi = 0;
  REQUIRE(mdb_dbi_open(txn, "info", 0, &dbi) == 0);
  std::string key = "format";
  std::string value;
  PutFixed32(value, format);
  MDB_val k{key.size(), key.data()};
  MDB_val v{value.size(), value.data()};
  REQUIRE(mdb_put(txn, dbi, &k, &v, 0) == 0);
  if (drop_locations) {
    MDB_dbi locations = 0;
    REQUIRE(mdb_dbi_open(txn, "locations", 0, &locations) == 0);
    REQUIRE(mdb_drop(txn, locations, 0) == 0);
  }
  REQUIRE(mdb_txn_commit(txn) == 0);
  mdb_env_close(env);
}

std::uint32_t ReadFormat(const std::string& meta) {
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  REQUIRE(mdb_env_set_maxdbs(env, 8) == 0);
  REQUIRE(mdb_env_open(env, meta.c_str(), MDB_RDONLY, 0600) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn) == 0);
  MDB_dbi dbi = 0;
  REQUIRE(mdb_dbi_open(txn, "info", 0, &dbi) == 0);
  std::string key = "format";
  MDB_val k{key.size(), key.data()};
  MDB_val v{};
  REQUIRE(mdb_get(txn, dbi, &k, &v) == 0);
  REQUIRE(v.mv_size == 4);
  std::uint32_t format = LoadFixed32(static_cast<const unsigned char*>(v.mv_data));
  mdb_txn_abort(txn);
  mdb_env_close(env);
  return format;
}

TEST_CASE("a store of an unknown format is refused", "[store]") {
  StoreDir tmp;
  { auto store = OpenOrDie(tmp.meta()); }
  WriteFormat(tmp.meta(), 5);
  Result<std::unique_ptr<MetaStore>> s = MetaStore::Open(tmp.meta());
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == Code::kInvalidRequest);
  CHECK(s.status().message() == "unknown store format 5");
}

TEST_CASE("format-1, 2 and 3 stores are upgraded on open, locations rebuilt", "[store]") {
  for (std::uint32_t old_format : {1u, 2u, 3u}) {
    StoreDir tmp;
    {
      auto store = OpenOrDie(tmp.meta());
      REQUIRE(store->Update([](Txn& t) { return t.Put(kRootId, "f", MakeFile(3)); }).ok());
    }
    WriteFormat(tmp.meta(), old_format, /*drop_locations=*/old_format < 3);
    { auto store = OpenOrDie(tmp.meta()); }
    CHECK(ReadFormat(tmp.meta()) == 4);
    auto store = OpenOrDie(tmp.meta());
    Status s = store->View([](Txn& t) {
      auto got = t.Get(kRootId, "f", false);
      REQUIRE(got.ok());
      CHECK(got->has_value());
      auto where = t.Locate(3);
      REQUIRE(where.ok());
      REQUIRE(where->has_value());
      CHECK((*where)->parent == kRootId);
      CHECK((*where)->name == "f");
      return Status::Ok();
    });
    CHECK(s.ok());
  }
}

TEST_CASE("Locate follows an entry through puts, renames and removal", "[store]") {
  StoreDir tmp;
  auto store = OpenOrDie(tmp.meta());
  auto where = [&](EntryId id) {
    std::optional<Location> out;
    REQUIRE(store
                ->View([&](Txn& t) {
                  auto got = t.Locate(id);
                  if (!got.ok()) return got.status();
                  out = *got;
                  return Status::Ok();
                })
                .ok());
    return out;
  };
  REQUIRE(store
              ->Update([](Txn& t) {
                Status s = t.Put(kRootId, "d", MakeDir(5));
                if (!s.ok()) return s;
                return t.Put(5, "f", MakeFile(6));
              })
              .ok());
  REQUIRE(where(5));
  CHECK(where(5)->is_dir);
  CHECK(where(6)->parent == 5);
  // A rename puts the new key first, then removes the old one.
  REQUIRE(store
              ->Update([](Txn& t) {
                Status s = t.Put(kRootId, "g", MakeFile(6));
                if (!s.ok()) return s;
                return t.Remove(5, "f", false);
              })
              .ok());
  REQUIRE(where(6));
  CHECK(where(6)->parent == kRootId);
  CHECK(where(6)->name == "g");
  REQUIRE(store->Update([](Txn& t) { return t.Remove(kRootId, "g", false); }).ok());
  CHECK_FALSE(where(6));
  CHECK_FALSE(where(99));
}

TEST_CASE("kept versions list by key, newest first, and are found by id", "[store]") {
  StoreDir tmp;
  auto store = OpenOrDie(tmp.meta());
  auto version = [](EntryId id, bool marker) {
    Entry e = MakeFile(id);
    e.delete_marker = marker;
    e.noncurrent_since = static_cast<TimeNs>(id) * 10;
    return e;
  };
  // Keys chosen so that byte order and "key, then versions" order differ
  // from naive string order: "a" < "a!" < "a/b" < "ab".
  REQUIRE(store
              ->Update([&](Txn& t) {
                for (const auto& [key, id] : std::vector<std::pair<std::string, EntryId>>{
                         {"a", 10}, {"ab", 11}, {"a/b", 12}, {"a", 13}, {"a!", 14}, {"a", 15}}) {
                  Status s = t.PutVersion(7, key, version(id, id == 15));
                  if (!s.ok()) return s;
                }
                return t.PutVersion(8, "a", version(16, false));  // another bucket
              })
              .ok());
  auto list = [&](std::string_view prefix, std::optional<Txn::VersionCursor> after,
                  std::size_t limit) {
    std::vector<std::pair<std::string, EntryId>> out;
    REQUIRE(store
                ->View([&](Txn& t) {
                  auto got = t.ListVersions(7, prefix, after, limit);
                  if (!got.ok()) return got.status();
                  for (const auto& r : *got) out.emplace_back(r.key, r.entry.id);
                  return Status::Ok();
                })
                .ok());
    return out;
  };
  using V = std::vector<std::pair<std::string, EntryId>>;
  CHECK(list("", std::nullopt, 100) ==
        V{{"a", 15}, {"a", 13}, {"a", 10}, {"a!", 14}, {"a/b", 12}, {"ab", 11}});
  CHECK(list("a/", std::nullopt, 100) == V{{"a/b", 12}});
  CHECK(list("", Txn::VersionCursor{"a", 13}, 2) == V{{"a", 10}, {"a!", 14}});
  // Seeking past every key under "a/" ('/' + 1 == '0').
  CHECK(list("", Txn::VersionCursor{"a0", UINT64_MAX}, 100) == V{{"ab", 11}});
  REQUIRE(store
              ->View([&](Txn& t) {
                auto where = t.LocateVersion(12);
                REQUIRE(where.ok());
                REQUIRE(where->has_value());
                CHECK((*where)->bucket == 7);
                CHECK((*where)->key == "a/b");
                auto got = t.GetVersion(7, "a", 15);
                REQUIRE(got.ok());
                REQUIRE(got->has_value());
                CHECK((*got)->delete_marker);
                CHECK((*got)->noncurrent_since == 150);
                return Status::Ok();
              })
              .ok());
  REQUIRE(store->Update([](Txn& t) { return t.RemoveVersion(7, "a", 13); }).ok());
  CHECK(store->Update([](Txn& t) { return t.RemoveVersion(7, "a", 13); }).code() ==
        Code::kNoSuchVersion);
  CHECK(list("a", std::nullopt, 3) == V{{"a", 15}, {"a", 10}, {"a!", 14}});
  REQUIRE(store
              ->View([&](Txn& t) {
                auto where = t.LocateVersion(13);
                REQUIRE(where.ok());
                CHECK_FALSE(where->has_value());
                return Status::Ok();
              })
              .ok());
}

TEST_CASE("due work comes out earliest first, including times before the epoch", "[store]") {
  StoreDir tmp;
  auto store = OpenOrDie(tmp.meta());
  const std::vector<DueItem> items = {{.at = 500, .id = 2, .kind = 1},
                                      {.at = -7, .id = 9, .kind = 0},
                                      {.at = 500, .id = 1, .kind = 3},
                                      {.at = 1'800'000'000'000'000'000, .id = 1, .kind = 0}};
  REQUIRE(store
              ->Update([&](Txn& t) {
                for (const DueItem& i : items) {
                  Status s = t.AddDue(i);
                  if (!s.ok()) return s;
                }
                return t.AddDue(items[0]);  // idempotent
              })
              .ok());
  std::vector<DueItem> order;
  for (;;) {
    std::optional<DueItem> first;
    REQUIRE(store
                ->Update([&](Txn& t) {
                  auto got = t.FirstDue();
                  if (!got.ok()) return got.status();
                  first = *got;
                  return first ? t.RemoveDue(*first) : Status::Ok();
                })
                .ok());
    if (!first) break;
    order.push_back(*first);
  }
  REQUIRE(order.size() == 4);
  CHECK(order[0] == items[1]);
  CHECK(order[1] == items[2]);
  CHECK(order[2] == items[0]);
  CHECK(order[3] == items[3]);
  CHECK(store->Update([&](Txn& t) { return t.RemoveDue(items[0]); }).ok());
}

TEST_CASE("bucket configurations and saved state are kept by name", "[store]") {
  StoreDir tmp;
  {
    auto store = OpenOrDie(tmp.meta());
    REQUIRE(store
                ->Update([](Txn& t) {
                  Status s = t.PutConfig(7, "a.json", "A");
                  if (s.ok()) s = t.PutConfig(7, "b.json", "B");
                  if (s.ok()) s = t.PutConfig(8, "a.json", "other bucket");
                  if (s.ok()) s = t.PutState("clock", "123");
                  return s;
                })
                .ok());
  }
  auto store = OpenOrDie(tmp.meta());
  auto config = [&](EntryId bucket, std::string_view name) {
    std::optional<std::string> out;
    REQUIRE(store
                ->View([&](Txn& t) {
                  auto got = t.GetConfig(bucket, name);
                  if (!got.ok()) return got.status();
                  out = *got;
                  return Status::Ok();
                })
                .ok());
    return out;
  };
  CHECK(config(7, "a.json") == "A");
  CHECK(config(7, "b.json") == "B");
  CHECK_FALSE(config(7, "c.json"));
  REQUIRE(store->Update([](Txn& t) { return t.RemoveConfig(7, "a.json"); }).ok());
  CHECK_FALSE(config(7, "a.json"));
  REQUIRE(store->Update([](Txn& t) { return t.RemoveConfigs(7); }).ok());
  CHECK_FALSE(config(7, "b.json"));
  CHECK(config(8, "a.json") == "other bucket");
  std::optional<std::string> clock;
  REQUIRE(store
              ->View([&](Txn& t) {
                auto got = t.GetState("clock");
                if (!got.ok()) return got.status();
                clock = *got;
                return Status::Ok();
              })
              .ok());
  CHECK(clock == "123");
}

TEST_CASE("opening under a missing parent directory fails cleanly", "[store]") {
  StoreDir tmp;
  Result<std::unique_ptr<MetaStore>> s = MetaStore::Open(tmp.path() + "/no/such/meta");
  CHECK_FALSE(s.ok());
}

}  // namespace
}  // namespace shoal::store
