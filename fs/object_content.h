#pragma once
// The encoded content behind a file entry, wherever it is kept: the entry's
// blob file, or for small objects the inline image in the metadata store's
// "contents" table. Shared by the daemon and fsck.

#include <memory>

#include "base/status.h"
#include "store/entry.h"
#include "store/meta_store.h"
#include "tiers/blob.h"

namespace shoal::fs {

// A verified reader of `e`'s content. REQUIRES: e is a non-empty file.
// Corrupt when the inline image is missing or damaged.
Result<std::unique_ptr<tiers::BlobReader>> OpenObjectContent(store::MetaStore& meta,
                                                             tiers::BlobStore& blobs,
                                                             const store::Entry& e);

}  // namespace shoal::fs
