#include "fs/object_content.h"

#include <optional>
#include <string>

namespace shoal::fs {

Result<std::unique_ptr<tiers::BlobReader>> OpenObjectContent(
    store::MetaStore& meta, tiers::BlobStore& blobs, ContentKeys& keys, const ObjectKey& key,
    const store::Entry& e, TimeNs now, std::uint32_t uid, std::optional<std::string> inline_image) {
  std::optional<DataKeys> data_keys;
  if (!e.key_envelope.empty()) {
    auto opened = keys.Open(e.key_envelope, key, e.version_id, now, uid);
    if (!opened.ok()) return opened.status();
    data_keys = std::move(*opened);
  }
  const crypto::Key* given = data_keys ? &data_keys->key : nullptr;
  const crypto::Key* outer = data_keys ? data_keys->outer_or_null() : nullptr;
  if (!e.blob_id.empty()) return blobs.OpenReader(e.blob_id, given, outer);
  std::optional<std::string> image = std::move(inline_image);
  if (!image) {
    Status s = meta.View([&](store::Txn& txn) {
      auto got = txn.GetContent(e.id);
      if (!got.ok()) return got.status();
      image = std::move(*got);
      return Status::Ok();
    });
    if (!s.ok()) return s;
  }
  if (!image) return Corrupt("object has size " + std::to_string(e.size) + " but no data");
  return blobs.OpenInline(std::move(*image), given, outer);
}

}  // namespace shoal::fs
