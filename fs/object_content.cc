#include "fs/object_content.h"

#include <optional>
#include <string>

namespace shoal::fs {

crypto::ObjectBinding BindingOf(const ObjectKey& key, const store::Entry& e) {
  return {.bucket = key.bucket_name, .key = key.key, .version_id = e.version_id};
}

Result<std::unique_ptr<tiers::BlobReader>> OpenObjectContent(store::MetaStore& meta,
                                                             tiers::BlobStore& blobs,
                                                             const crypto::RootKey& root,
                                                             const ObjectKey& key,
                                                             const store::Entry& e) {
  if (key.bucket_name.empty()) return Internal("opening content without its bucket's name");
  std::optional<crypto::Key> data_key;
  if (!e.key_envelope.empty()) {
    auto opened = crypto::OpenEnvelope(root, e.key_envelope, BindingOf(key, e));
    if (!opened.ok()) return opened.status();
    data_key = *opened;
  }
  const crypto::Key* given = data_key ? &*data_key : nullptr;
  if (!e.blob_id.empty()) return blobs.OpenReader(e.blob_id, given);
  std::optional<std::string> image;
  Status s = meta.View([&](store::Txn& txn) {
    auto got = txn.GetContent(e.id);
    if (!got.ok()) return got.status();
    image = std::move(*got);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (!image) return Corrupt("object has size " + std::to_string(e.size) + " but no data");
  return blobs.OpenInline(std::move(*image), given);
}

Result<std::string> SealContentKey(const crypto::RootKey& root, const crypto::Key& data_key,
                                   const ObjectKey& key, std::string_view version_id) {
  if (key.bucket_name.empty()) return Internal("sealing a key without its bucket's name");
  return crypto::SealEnvelope(
      root, data_key, {.bucket = key.bucket_name, .key = key.key, .version_id = version_id});
}

Result<std::string> MoveContentKey(const crypto::RootKey& root, const store::Entry& e,
                                   const ObjectKey& from, std::string_view from_version,
                                   const ObjectKey& to) {
  if (e.key_envelope.empty()) return std::string();
  if (from.bucket_name.empty() || to.bucket_name.empty()) {
    return Internal("moving a key without its bucket's name");
  }
  return crypto::RebindEnvelope(
      root, e.key_envelope,
      {.bucket = from.bucket_name, .key = from.key, .version_id = from_version}, BindingOf(to, e));
}

}  // namespace shoal::fs
