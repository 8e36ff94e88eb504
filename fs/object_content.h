#pragma once
// The encoded content behind a file entry, wherever it is kept: the entry's
// blob file, or for small objects the inline image in the metadata store's
// "contents" table, and the data key it is sealed under, from the entry's
// key envelope (crypto/envelope.h). Shared by the daemon and fsck.

#include <memory>
#include <string>

#include "base/status.h"
#include "crypto/envelope.h"
#include "crypto/root_key.h"
#include "fs/object_key.h"
#include "store/entry.h"
#include "store/meta_store.h"
#include "tiers/blob.h"

namespace shoal::fs {

// What the key envelope of version `e` of object `key` is sealed for.
// REQUIRES: key.bucket_name is set.
crypto::ObjectBinding BindingOf(const ObjectKey& key, const store::Entry& e);

// A verified reader of `e`'s content, `e` being a version of `key`.
// REQUIRES: e is a non-empty file; key.bucket_name is set. Corrupt when the
// inline image is missing or damaged, or the key envelope does not open for
// this object (damaged, or moved from another object).
Result<std::unique_ptr<tiers::BlobReader>> OpenObjectContent(store::MetaStore& meta,
                                                             tiers::BlobStore& blobs,
                                                             const crypto::RootKey& root,
                                                             const ObjectKey& key,
                                                             const store::Entry& e);

// The key envelope for new content sealed under `data_key`, as version
// `version_id` of `key`.
Result<std::string> SealContentKey(const crypto::RootKey& root, const crypto::Key& data_key,
                                   const ObjectKey& key, std::string_view version_id);

// `e`'s envelope re-sealed for its new place: version `e.version_id` of
// `to`, from version `from_version` of `from` (a rename). Empty stays empty.
Result<std::string> MoveContentKey(const crypto::RootKey& root, const store::Entry& e,
                                   const ObjectKey& from, std::string_view from_version,
                                   const ObjectKey& to);

}  // namespace shoal::fs
