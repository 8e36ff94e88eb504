// libFuzzer target: the metadata value decoder. Any input either decodes or
// is Corrupt, never crashes; whatever decodes re-encodes to bytes that
// decode to the same entry.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "store/entry.h"

namespace {

bool SameEntry(const shoal::store::Entry& a, const shoal::store::Entry& b) {
  return a.id == b.id && a.kind == b.kind && a.mode == b.mode && a.uid == b.uid && a.gid == b.gid &&
         a.mtime == b.mtime && a.ctime == b.ctime && a.created == b.created &&
         a.marker == b.marker && a.size == b.size && a.blob_id == b.blob_id && a.md5 == b.md5 &&
         a.storage_class == b.storage_class && a.sse == b.sse && a.version_id == b.version_id &&
         a.symlink_target == b.symlink_target && a.xattrs == b.xattrs;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto decoded = shoal::store::DecodeEntry(input);
  if (!decoded.ok()) {
    if (decoded.status().code() != shoal::Code::kCorrupt) std::abort();
    return 0;
  }
  auto again = shoal::store::DecodeEntry(shoal::store::EncodeEntry(*decoded));
  if (!again.ok() || !SameEntry(*decoded, *again)) std::abort();
  return 0;
}
