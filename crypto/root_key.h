#pragma once
// The store's root key (SSE-S3): wraps each blob's data key.
//
// Kept in STORE/root.key, 32 raw bytes, mode 0600, created on first use.
// Thread-safety: immutable after Load; Wrap/Unwrap may run concurrently.

#include <memory>
#include <string>
#include <string_view>

#include "crypto/aead.h"

namespace shoal::crypto {

class RootKey {
 public:
  // Reads `path`, or creates it (durably, mode 0600) with a fresh random key
  // when absent. Corrupt if the file exists with the wrong size or is not a
  // regular file; AccessDenied if its mode lets group or others in.
  static Result<std::unique_ptr<RootKey>> LoadOrCreate(const std::string& path);
  // For tests.
  static std::unique_ptr<RootKey> FromKey(const Key& key);

  RootKey(const RootKey&) = delete;
  RootKey& operator=(const RootKey&) = delete;

  // Returns nonce || AES-256-GCM(data_key) bound to `context` (the blob id).
  Result<std::string> Wrap(const Key& data_key, std::string_view context) const;
  // Inverse of Wrap; Corrupt when the wrapped key or context does not verify.
  Result<Key> Unwrap(std::string_view wrapped, std::string_view context) const;

  static constexpr std::size_t kWrappedBytes = kNonceBytes + kKeyBytes + kTagBytes;

 private:
  RootKey() = default;
  Key key_;
};

}  // namespace shoal::crypto
