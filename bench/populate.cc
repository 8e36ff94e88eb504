// shoal_populate: fills a directory of an unmounted store with many small
// objects in large transactions, as the benchmarks need (a million objects
// through FUSE would take longer than the work being measured). Each object
// is what a PUT through the mount makes: an entry with its location, MD5,
// class state and inline encoded content.
//
//   shoal_populate STORE BUCKET DIR COUNT SIZE CREATED
//
// BUCKET/DIR must exist (mkdir through a mount); objects are named
// DIR/obj-0000000 ... with SIZE bytes each and LastModified CREATED (an
// ISO-8601 time).
#include <cstdio>
#include <string>

#include "base/sim_clock.h"
#include "crypto/envelope.h"
#include "crypto/root_key.h"
#include "store/meta_store.h"
#include "store/store_dir.h"
#include "tiers/blob.h"
#include "tiers/storage_class.h"

namespace {

using shoal::Status;
namespace store = shoal::store;
namespace tiers = shoal::tiers;
namespace crypto = shoal::crypto;

constexpr std::size_t kPerTransaction = 10000;

int Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "shoal_populate: %s: %s\n", what.c_str(), s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: shoal_populate STORE BUCKET DIR COUNT SIZE CREATED\n");
    return 2;
  }
  const std::string bucket = argv[2];
  const std::string dir_name = argv[3];
  const std::size_t count = std::stoul(argv[4]);
  const std::size_t size = std::stoul(argv[5]);
  auto created = shoal::ParseIso8601(argv[6]);
  if (!created.ok()) return Fail("CREATED", created.status());

  auto dir = store::StoreDir::Open(argv[1], store::StoreDir::Mode::kMustExist);
  if (!dir.ok()) return Fail("store", dir.status());
  auto key = shoal::crypto::RootKey::LoadOrCreate((*dir)->root_key_path());
  if (!key.ok()) return Fail("root key", key.status());
  auto meta = store::MetaStore::Open((*dir)->meta_dir());
  if (!meta.ok()) return Fail("metadata", meta.status());
  auto blobs = tiers::BlobStore::Open((*dir)->blobs_dir(), **key);
  if (!blobs.ok()) return Fail("blobs", blobs.status());

  store::EntryId parent = 0;
  Status s = (*meta)->View([&](store::Txn& txn) -> Status {
    auto b = txn.Get(store::kRootId, bucket, true);
    if (!b.ok()) return b.status();
    if (!*b) return shoal::NoSuchKey("no bucket " + bucket);
    auto d = txn.Get((*b)->id, dir_name, true);
    if (!d.ok()) return d.status();
    if (!*d) return shoal::NoSuchKey("no directory " + dir_name);
    parent = (*d)->id;
    return Status::Ok();
  });
  if (!s.ok()) return Fail("find " + bucket + "/" + dir_name, s);

  const tiers::StorageClass cls = tiers::StorageClass::kStandard;
  for (std::size_t first = 0; first < count; first += kPerTransaction) {
    const std::size_t last = std::min(count, first + kPerTransaction);
    s = (*meta)->Update([&](store::Txn& txn) -> Status {
      for (std::size_t i = first; i < last; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "obj-%07zu", i);
        std::string content(size, 'x');
        for (std::size_t j = 0; j < size && j < 8; ++j) content[j] = name[4 + j % 7];
        auto writer = (*blobs)->NewInlineWriter(tiers::InfoOf(cls).encoding);
        if (!writer.ok()) return writer.status();
        Status a = (*writer)->Append(content);
        if (!a.ok()) return a;
        auto blob = (*writer)->Finish();
        if (!blob.ok()) return blob.status();
        auto id = txn.NewId();
        if (!id.ok()) return id.status();
        store::Entry e;
        e.id = *id;
        e.kind = store::EntryKind::kFile;
        e.mode = 0644;
        e.mtime = e.ctime = e.created = e.class_since = e.last_access = *created;
        e.size = blob->size;
        e.md5 = blob->md5;
        e.stored_bytes = blob->stored_bytes;
        e.storage_class = std::string(tiers::StorageClassName(cls));
        auto envelope = crypto::SealEnvelope(
            **key, blob->key,
            {.bucket = bucket, .key = dir_name + "/" + name, .version_id = "null"});
        if (!envelope.ok()) return envelope.status();
        e.key_envelope = std::move(*envelope);
        a = txn.PutContent(e.id, blob->image);
        if (a.ok()) a = txn.Put(parent, name, e);
        if (!a.ok()) return a;
      }
      return Status::Ok();
    });
    if (!s.ok()) return Fail("populate", s);
  }
  return (*meta)->Sync().ok() ? 0 : 1;
}
