#include "fs/object_content.h"

#include <optional>
#include <string>

namespace shoal::fs {

Result<std::unique_ptr<tiers::BlobReader>> OpenObjectContent(store::MetaStore& meta,
                                                             tiers::BlobStore& blobs,
                                                             const store::Entry& e) {
  if (!e.blob_id.empty()) return blobs.OpenReader(e.blob_id);
  std::optional<std::string> image;
  Status s = meta.View([&](store::Txn& txn) {
    auto got = txn.GetContent(e.id);
    if (!got.ok()) return got.status();
    image = std::move(*got);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (!image) return Corrupt("object has size " + std::to_string(e.size) + " but no data");
  return blobs.OpenInline(std::move(*image));
}

}  // namespace shoal::fs
