#pragma once
// The encoded content behind a file entry, wherever it is kept: the entry's
// blob file, or for small objects the inline image in the metadata store's
// "contents" table, opened with the data key from the entry's key envelope
// (fs/content_keys.h). Shared by the daemon and fsck.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "fs/content_keys.h"
#include "fs/object_key.h"
#include "store/entry.h"
#include "store/meta_store.h"
#include "tiers/blob.h"

namespace shoal::fs {

// A verified reader of `e`'s content, `e` being a version of `key`; `now`
// and `uid` are for the KMS call an SSE-KMS envelope needs. `inline_image`
// is e's inline content if the caller read it in the same snapshot as `e`
// (else it is read here: an object rewritten in between then reads as
// Corrupt, its new image not opening under e's envelope).
// REQUIRES: e is a non-empty file; key.bucket_name is set. Corrupt when the
// inline image is missing or damaged, or the key envelope does not open for
// this object (damaged, or moved from another object); a KMS error when KMS
// refuses the key.
Result<std::unique_ptr<tiers::BlobReader>> OpenObjectContent(
    store::MetaStore& meta, tiers::BlobStore& blobs, ContentKeys& keys, const ObjectKey& key,
    const store::Entry& e, TimeNs now, std::uint32_t uid,
    std::optional<std::string> inline_image = std::nullopt);

}  // namespace shoal::fs
