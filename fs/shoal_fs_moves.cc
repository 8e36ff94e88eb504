// ShoalFs: the key envelopes of renamed objects. S3 has no rename: a
// rename is a copy to the new key, so each moved object's data key is
// re-wrapped for its new place (crypto/FORMAT.md binds every envelope to
// its bucket, key and version id). Under SSE-KMS and DSSE-KMS that costs a
// Decrypt and a GenerateDataKey, as S3's copy does; those calls, which may
// wait for the KMS quota, are made before the rename's metadata transaction
// (PrepareMoves), so that a paced KMS never holds up every other writer.

#include "fs/shoal_fs.h"

namespace shoal::fs {

using store::Entry;
using store::Txn;

namespace {

// An object a rename moves whose envelope asks KMS.
struct KmsMove {
  store::EntryId id;
  std::string envelope;
  ObjectKey from, to;
  std::string version_id;
};

// Calls fn(child, its key before, its key after, the id of its directory)
// for every object below directory `dir`, which moves from `from` to `to`;
// the first failure stops the walk.
template <typename Fn>
Status ForEachObjectBelow(Txn& txn, store::EntryId dir, const ObjectKey& from, const ObjectKey& to,
                          Fn&& fn) {
  struct Pending {
    store::EntryId dir;
    ObjectKey from, to;
  };
  std::vector<Pending> todo{{dir, from, to}};
  constexpr std::size_t kBatch = 1024;
  while (!todo.empty()) {
    Pending p = std::move(todo.back());
    todo.pop_back();
    std::optional<Txn::Cursor> after;
    for (;;) {
      auto children = txn.List(p.dir, after, kBatch);
      if (!children.ok()) return children.status();
      for (store::Child& c : *children) {
        if (c.damaged) continue;  // fsck reports it; it cannot be read anyway
        ObjectKey child_from = p.from;
        ObjectKey child_to = p.to;
        child_from.key += (child_from.key.empty() ? "" : "/") + c.name;
        child_to.key += (child_to.key.empty() ? "" : "/") + c.name;
        if (c.entry.is_dir()) {
          todo.push_back({c.entry.id, std::move(child_from), std::move(child_to)});
          continue;
        }
        Status s = fn(c, child_from, child_to, p.dir);
        if (!s.ok()) return s;
      }
      if (children->size() < kBatch) break;
      after = Txn::Cursor{.name = children->back().name, .is_dir = children->back().entry.is_dir()};
    }
  }
  return Status::Ok();
}

// Whether a refusal means the object can never be re-wrapped (its KMS key
// is deleted, its envelope damaged), rather than not now.
bool Unmovable(Code code) {
  return code == Code::kKmsNotFound || code == Code::kCorrupt;
}

}  // namespace

Result<ShoalFs::PreparedMoves> ShoalFs::PrepareMoves(Ino parent, std::string_view name,
                                                     Ino new_parent, std::string_view new_name,
                                                     TimeNs now) {
  std::vector<KmsMove> todo;
  bool whole_directory = false;
  Status s = meta_->View([&](Txn& txn) -> Status {
    todo.clear();
    auto src = txn.Lookup(parent, name);
    if (!src.ok()) return src.status();
    if (!*src) return Status::Ok();  // the transaction says so
    const Entry& e = **src;
    if (e.kind == store::EntryKind::kSymlink) return Status::Ok();
    if (!e.is_dir() && !ContentKeys::MoveAsksKms(e.key_envelope)) return Status::Ok();
    auto from = KeyIn(txn, parent, name);
    if (!from.ok()) return from.status();
    auto to = KeyIn(txn, new_parent, new_name);
    if (!to.ok()) return to.status();
    if (e.is_dir()) {
      whole_directory = true;
      return ForEachObjectBelow(txn, e.id, *from, *to,
                                [&](store::Child& c, const ObjectKey& child_from,
                                    const ObjectKey& child_to, store::EntryId /*dir*/) {
                                  if (ContentKeys::MoveAsksKms(c.entry.key_envelope)) {
                                    todo.push_back({.id = c.entry.id,
                                                    .envelope = std::move(c.entry.key_envelope),
                                                    .from = child_from,
                                                    .to = child_to,
                                                    .version_id = std::move(c.entry.version_id)});
                                  }
                                  return Status::Ok();
                                });
    }
    todo.push_back({.id = e.id,
                    .envelope = e.key_envelope,
                    .from = std::move(*from),
                    .to = std::move(*to),
                    .version_id = e.version_id});
    return Status::Ok();
  });
  if (!s.ok()) return s;
  PreparedMoves moves;
  for (KmsMove& m : todo) {
    auto prepared =
        content_keys_->PrepareMove(m.envelope, m.from, m.version_id, m.to, now, RequestUid());
    if (!prepared.ok() && whole_directory && Unmovable(prepared.status().code())) {
      // Unreadable for good: it moves as it is and stays unreadable; one
      // such object must not pin the whole directory.
      errors_.Record("/" + m.to.bucket_name + "/" + m.to.key, prepared.status());
      moves.unmovable.insert(m.id);
      continue;
    }
    if (!prepared.ok()) return prepared.status();
    moves.ready.emplace(m.id, std::make_pair(std::move(m.envelope), std::move(*prepared)));
  }
  return moves;
}

Result<std::string> ShoalFs::MovedEnvelope(const PreparedMoves& moves, const Entry& e,
                                           const ObjectKey& from, std::string_view from_version,
                                           const ObjectKey& to, std::string_view to_version,
                                           TimeNs now) {
  if (auto it = moves.ready.find(e.id);
      it != moves.ready.end() && it->second.first == e.key_envelope) {
    auto sealed =
        content_keys_->SealWith(it->second.second.wrapping, it->second.second.keys, to, to_version);
    // kInvalidRequest: prepared for another place (it moved meanwhile).
    if (sealed.ok() || sealed.status().code() != Code::kInvalidRequest) return sealed;
  }
  // Not prepared: rewritten or moved since (a race), or an envelope that
  // needs no KMS call (SSE-S3, SSE-C).
  return content_keys_->Move(e.key_envelope, from, from_version, to, to_version, now, RequestUid());
}

Status ShoalFs::MoveContentKeysBelow(Txn& txn, const PreparedMoves& moves, store::EntryId dir,
                                     const ObjectKey& from, const ObjectKey& to, TimeNs now) {
  return ForEachObjectBelow(
      txn, dir, from, to,
      [&](store::Child& c, const ObjectKey& child_from, const ObjectKey& child_to,
          store::EntryId parent) -> Status {
        if (c.entry.key_envelope.empty() || moves.unmovable.count(c.entry.id) != 0) {
          return Status::Ok();
        }
        auto envelope = MovedEnvelope(moves, c.entry, child_from, c.entry.version_id, child_to,
                                      c.entry.version_id, now);
        if (!envelope.ok() && Unmovable(envelope.status().code())) {
          errors_.Record("/" + child_to.bucket_name + "/" + child_to.key, envelope.status());
          return Status::Ok();
        }
        if (!envelope.ok()) return envelope.status();
        c.entry.key_envelope = std::move(*envelope);
        return txn.Put(parent, c.name, c.entry);
      });
}

}  // namespace shoal::fs
