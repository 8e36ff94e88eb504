// libFuzzer target: the blob decoder under tampering. The input is split
// into a list of byte edits and a plaintext; the plaintext is encoded into a
// real blob (AES-256-GCM, zstd, small chunks), the edits are applied to the
// file, and the blob is read back. The property: a damaged blob is refused
// (Corrupt) or reads back exactly the plaintext, never other bytes.
//
// Input layout: u8 edit count n, then n edits of {u32 position, u8 xor mask,
// u8 kind (0 flip, 1 truncate here, 2 duplicate the byte)}, then plaintext.
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "base/file_util.h"
#include "tiers/blob.h"

namespace {

struct World {
  std::unique_ptr<shoal::crypto::RootKey> root;
  std::unique_ptr<shoal::tiers::BlobStore> store;
};

// One store for the whole run, on tmpfs when available (each blob is fsync'ed).
World& TheWorld() {
  static World* world = [] {
    auto* w = new World;
    shoal::crypto::Key key;
    key.bytes.fill(0x5a);
    w->root = shoal::crypto::RootKey::FromKey(key);
    std::string base = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
    static const std::string dir = base + "/shoal-blob-fuzz-" + std::to_string(::getpid());
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    });
    auto store = shoal::tiers::BlobStore::Open(dir, *w->root);
    if (!store.ok()) std::abort();
    w->store = std::move(*store);
    return w;
  }();
  return *world;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::size_t edits = data[0];
  std::size_t pos = 1 + edits * 6;
  if (pos > size) return 0;
  std::string plain(reinterpret_cast<const char*>(data) + pos, size - pos);

  World& w = TheWorld();
  auto writer = w.store->NewWriter({.zstd_level = 1, .chunk_size = 64});
  if (!writer.ok() || !(*writer)->Append(plain).ok()) std::abort();
  auto info = (*writer)->Finish();
  if (!info.ok()) std::abort();

  const std::string path = w.store->PathOf(info->id);
  auto file = shoal::ReadFile(path);
  if (!file.ok()) std::abort();
  std::string bytes = std::move(*file);
  for (std::size_t i = 0; i < edits && !bytes.empty(); ++i) {
    const std::uint8_t* e = data + 1 + i * 6;
    std::size_t at = (std::size_t{e[0]} | std::size_t{e[1]} << 8 | std::size_t{e[2]} << 16 |
                      std::size_t{e[3]} << 24) %
                     bytes.size();
    switch (e[5] % 3) {
      case 0: bytes[at] = static_cast<char>(bytes[at] ^ (e[4] | 1)); break;
      case 1: bytes.resize(at); break;
      default: bytes.insert(at, 1, bytes[at]); break;
    }
  }
  const bool damaged = edits > 0 && bytes != *file;
  if (damaged && !shoal::WriteFileDurably(path, bytes, 0600).ok()) std::abort();

  auto reader = w.store->OpenReader(info->id, &info->key, nullptr);
  if (reader.ok()) {
    std::string back(plain.size() + 1, '\0');
    auto n = (*reader)->Read(0, back.data(), back.size());
    if (n.ok()) {
      back.resize(*n);
      if (back != plain) std::abort();  // wrong data read back silently
    } else if (n.status().code() != shoal::Code::kCorrupt) {
      std::abort();
    }
  } else if (!damaged || reader.status().code() != shoal::Code::kCorrupt) {
    std::abort();
  }
  (void)w.store->Remove(info->id);
  return 0;
}
