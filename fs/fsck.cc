#include "fs/fsck.h"

#include <unistd.h>

#include <map>
#include <set>
#include <vector>

#include "base/clock.h"
#include "base/coding.h"
#include "crypto/aead.h"
#include "crypto/kms.h"
#include "crypto/root_key.h"
#include "fs/object_content.h"
#include "store/meta_store.h"
#include "store/store_dir.h"
#include "streams/stream_store.h"
#include "tiers/blob.h"

namespace shoal::fs {

namespace {

using store::Entry;
using store::EntryId;

struct Node {
  EntryId parent;
  std::string name;
};

// "/bucket/dir/key" from the parent links, or a placeholder for the broken.
std::string PathOf(const std::map<EntryId, Node>& nodes, EntryId id) {
  std::vector<const std::string*> parts;
  std::set<EntryId> seen;
  while (id != store::kRootId) {
    auto it = nodes.find(id);
    if (it == nodes.end() || !seen.insert(id).second)
      return "<detached>/" + (parts.empty() ? std::string() : *parts.front());
    parts.push_back(&it->second.name);
    id = it->second.parent;
  }
  std::string path;
  for (auto p = parts.rbegin(); p != parts.rend(); ++p) path += "/" + **p;
  return path;
}

// The object at `path` ("/bucket/a/b.txt").
ObjectKey ObjectAt(std::string_view path) {
  path.remove_prefix(1);
  const std::size_t slash = path.find('/');
  return {.key = std::string(path.substr(slash + 1)),
          .bucket_name = std::string(path.substr(0, slash))};
}

// Opens the key envelope, reads the whole blob, checking every chunk, and
// compares with the entry.
Status VerifyObject(store::MetaStore& meta, tiers::BlobStore& blobs, ContentKeys& keys,
                    const ObjectKey& key, const Entry& e, TimeNs now) {
  if (e.blob_id.empty() && e.size == 0) {
    crypto::Md5 md5;
    if (e.md5 != md5.Finish()) return Corrupt("ETag does not match empty content");
    return Status::Ok();
  }
  auto reader = OpenObjectContent(meta, blobs, keys, key, e, now, ::getuid());
  if (!reader.ok()) return reader.status();
  if ((*reader)->size() != e.size) {
    return Corrupt("data holds " + std::to_string((*reader)->size()) + " bytes, metadata says " +
                   std::to_string(e.size));
  }
  crypto::Md5 md5;
  std::vector<char> buf(1 << 20);
  std::uint64_t offset = 0;
  while (offset < e.size) {
    auto n = (*reader)->Read(offset, buf.data(), buf.size());
    if (!n.ok()) return n.status();
    if (*n == 0) return Corrupt("data ends early at byte " + std::to_string(offset));
    md5.Update(std::string_view(buf.data(), *n));
    offset += *n;
  }
  std::string digest = md5.Finish();
  if (digest != e.md5 || digest != (*reader)->md5()) {
    return Corrupt("content does not match its ETag \"" + HexEncode(e.md5) + "\"");
  }
  return Status::Ok();
}

}  // namespace

int RunFsck(const std::string& store_path, std::ostream& out, std::ostream& err) {
  auto dir = store::StoreDir::Open(store_path, store::StoreDir::Mode::kMustExist);
  if (!dir.ok()) {
    err << "shoal: " << dir.status().message() << "\n";
    return 2;
  }
  auto key = crypto::RootKey::LoadOrCreate((*dir)->root_key_path());
  if (!key.ok()) {
    out << "shoal fsck: root key: " << key.status().ToString() << "\n";
    return 1;
  }
  auto meta = store::MetaStore::Open((*dir)->meta_dir());
  if (!meta.ok()) {
    out << "shoal fsck: metadata: " << meta.status().ToString() << "\n";
    return 1;
  }
  auto blobs = tiers::BlobStore::Open((*dir)->blobs_dir(), **key);
  if (!blobs.ok()) {
    out << "shoal fsck: blobs: " << blobs.status().ToString() << "\n";
    return 1;
  }
  // KMS calls of a check are not audited, billed or throttled.
  auto kms = crypto::Kms::Open((*dir)->path() + "/kms", **key, {.requests_per_second = 0});
  if (!kms.ok()) {
    out << "shoal fsck: KMS keys: " << kms.status().ToString() << "\n";
    return 1;
  }
  ContentKeys content_keys(**key, **kms);
  const TimeNs now = SystemClock().Now();

  std::map<EntryId, Node> nodes;
  std::map<EntryId, bool> is_dir;
  std::vector<std::pair<EntryId, Entry>> objects;
  std::vector<std::string> problems;
  std::size_t buckets = 0, dirs = 0, symlinks = 0;
  Status s = (*meta)->View([&](store::Txn& txn) {
    return txn.ScanAll([&](EntryId parent, std::string_view name, bool dir_key,
                           Result<Entry> e) -> Status {
      if (!e.ok()) {
        problems.push_back("metadata of '" + std::string(name) + "' (in directory #" +
                           std::to_string(parent) + ") is damaged: " + e.status().message());
        return Status::Ok();
      }
      if (dir_key != e->is_dir()) {
        problems.push_back("metadata of '" + std::string(name) + "' disagrees about its kind");
      }
      nodes[e->id] = Node{parent, std::string(name)};
      is_dir[e->id] = e->is_dir();
      // Due work finds its entry by id: a missing or wrong location
      // would silently lose a restore or a tier move.
      auto where = txn.Locate(e->id);
      if (!where.ok() || !*where || (*where)->parent != parent || (*where)->name != name ||
          (*where)->is_dir != dir_key) {
        problems.push_back("the location record of '" + std::string(name) + "' (in directory #" +
                           std::to_string(parent) + ") is missing or wrong");
      }
      switch (e->kind) {
        case store::EntryKind::kBucket: ++buckets; break;
        case store::EntryKind::kDirectory: ++dirs; break;
        case store::EntryKind::kSymlink: ++symlinks; break;
        case store::EntryKind::kFile: objects.emplace_back(e->id, std::move(*e)); break;
      }
      return Status::Ok();
    });
  });
  // Kept versions of versioned buckets: their content is verified like the
  // current versions', and each must be findable by id (due work).
  struct KeptVersion {
    std::string label;
    store::EntryId bucket;
    std::string key;
    Entry entry;
  };
  std::vector<KeptVersion> versions;
  if (s.ok()) {
    s = (*meta)->View([&](store::Txn& txn) {
      return txn.ScanAllVersions([&](const store::VersionLocation& where, Result<Entry> v) {
        const std::string label =
            "version of '" + where.key + "' (in bucket #" + std::to_string(where.bucket) + ")";
        if (!v.ok()) {
          problems.push_back("metadata of a " + label + " is damaged: " + v.status().message());
          return Status::Ok();
        }
        auto located = txn.LocateVersion(v->id);
        if (!located.ok() || !*located || (*located)->bucket != where.bucket ||
            (*located)->key != where.key) {
          problems.push_back("the id record of a " + label + " is missing or wrong");
        }
        if (!v->delete_marker) {
          versions.push_back({.label = label + " " + v->version_id,
                              .bucket = where.bucket,
                              .key = where.key,
                              .entry = std::move(*v)});
        }
        return Status::Ok();
      });
    });
  }
  if (!s.ok()) {
    out << "shoal fsck: cannot scan metadata: " << s.ToString() << "\n";
    return 1;
  }
  for (const auto& [id, node] : nodes) {
    if (node.parent == store::kRootId) continue;
    auto p = is_dir.find(node.parent);
    if (p == is_dir.end() || !p->second) {
      problems.push_back(PathOf(nodes, id) + ": its directory #" + std::to_string(node.parent) +
                         " is missing");
    }
  }
  // Objects whose KMS key refuses (disabled, pending deletion, deleted), and
  // SSE-C objects (whose key the store never holds): not damaged, but not
  // verifiable either.
  std::vector<std::string> unverified;
  auto judge = [&](const std::string& name, const Status& v) {
    const Code c = v.code();
    if (c == Code::kKmsDisabled || c == Code::kKmsInvalidState || c == Code::kKmsNotFound ||
        c == Code::kAccessDenied) {
      unverified.push_back(name + ": " + v.ToString());
    } else {
      problems.push_back(name + ": " + v.ToString());
    }
  };
  std::set<std::string> referenced;
  std::uint64_t bytes = 0;
  for (const auto& [id, e] : objects) {
    if (!e.blob_id.empty()) referenced.insert(e.blob_id);
    Status v = VerifyObject(**meta, **blobs, content_keys, ObjectAt(PathOf(nodes, id)), e, now);
    if (!v.ok()) {
      judge(PathOf(nodes, id), v);
    } else {
      bytes += e.size;
    }
  }
  for (const auto& [label, bucket, object_key, v] : versions) {
    if (!v.blob_id.empty()) referenced.insert(v.blob_id);
    auto b = nodes.find(bucket);
    const ObjectKey at{.key = object_key,
                       .bucket_name = b == nodes.end() ? std::string() : b->second.name};
    Status c = VerifyObject(**meta, **blobs, content_keys, at, v, now);
    if (!c.ok()) {
      judge(label, c);
    } else {
      bytes += v.size;
    }
  }
  // Kinesis stream logs: every batch, offset and index of every shard.
  std::size_t streams = 0;
  auto stream_check = streams::StreamStore::Check((*dir)->path() + "/streams");
  if (!stream_check.ok()) {
    problems.push_back("streams: " + stream_check.status().ToString());
  } else {
    streams = stream_check->streams;
    for (const std::string& p : stream_check->problems) problems.push_back("stream " + p);
  }
  std::size_t orphans = 0;
  if (auto on_disk = (*blobs)->List(); on_disk.ok()) {
    for (const auto& id : *on_disk)
      if (referenced.count(id) == 0) ++orphans;
  }

  for (const auto& p : problems) out << "DAMAGED " << p << "\n";
  for (const auto& u : unverified) out << "UNVERIFIED " << u << "\n";
  out << "shoal fsck: " << buckets << " buckets, " << dirs << " directories, " << objects.size()
      << " objects and " << versions.size() << " noncurrent versions (" << bytes
      << " bytes verified), " << symlinks << " symlinks, " << streams << " streams; "
      << problems.size() << " damaged";
  if (!unverified.empty()) {
    out << "; " << unverified.size() << " not verifiable (SSE-C, or their KMS key refuses)";
  }
  if (orphans > 0) out << "; " << orphans << " unreferenced blobs (from interrupted commits)";
  out << "\n";
  return problems.empty() ? 0 : 1;
}

}  // namespace shoal::fs
