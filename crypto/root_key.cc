#include "crypto/root_key.h"

#include <openssl/crypto.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>

#include "base/file_util.h"

namespace shoal::crypto {

Result<std::unique_ptr<RootKey>> RootKey::LoadOrCreate(const std::string& path) {
  std::unique_ptr<RootKey> root(new RootKey());
  // The key decrypts every object: like ssh with a private key, refuse one
  // that others may read or replace.
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) return Corrupt(path + ": the root key is not a regular file");
    if ((st.st_mode & 077) != 0) {
      char mode[8];
      std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
      return Status(Code::kAccessDenied, path + ": the root key is open to group or others (mode " +
                                             mode + "); it decrypts every object: chmod 600 " +
                                             path);
    }
  }
  Result<std::string> data = ReadFile(path);
  if (data.ok()) {
    std::string& bytes = data.value();
    if (bytes.size() != kKeyBytes) {
      OPENSSL_cleanse(bytes.data(), bytes.size());
      return Corrupt(path + ": root key has " + std::to_string(bytes.size()) + " bytes, expected " +
                     std::to_string(kKeyBytes));
    }
    std::copy_n(reinterpret_cast<const unsigned char*>(bytes.data()), kKeyBytes,
                root->key_.bytes.begin());
    OPENSSL_cleanse(bytes.data(), bytes.size());
    return root;
  }
  if (data.status().code() != Code::kNoSuchKey) return data.status();

  // Absent: first use of this store. WriteFileDurably renames over `path`, so
  // this relies on one process owning the store (the store's lock).
  Status s = RandomBytes(root->key_.bytes);
  if (!s.ok()) return s;
  std::string_view raw(reinterpret_cast<const char*>(root->key_.bytes.data()), kKeyBytes);
  s = WriteFileDurably(path, raw, 0600);
  if (!s.ok()) return s;
  return root;
}

std::unique_ptr<RootKey> RootKey::FromKey(const Key& key) {
  std::unique_ptr<RootKey> root(new RootKey());
  root->key_.bytes = key.bytes;
  return root;
}

Result<std::string> RootKey::Wrap(const Key& data_key, std::string_view context) const {
  // Random nonces: a root key wraps one data key per blob, far below the 2^32
  // wraps at which random 96-bit GCM nonces start to risk a collision.
  Nonce nonce;
  Status s = RandomBytes(nonce);
  if (!s.ok()) return s;
  std::string out(reinterpret_cast<const char*>(nonce.data()), nonce.size());
  std::string_view plain(reinterpret_cast<const char*>(data_key.bytes.data()), kKeyBytes);
  s = Seal(key_, nonce, context, plain, out);
  if (!s.ok()) return s;
  return out;
}

Result<Key> RootKey::Unwrap(std::string_view wrapped, std::string_view context) const {
  if (wrapped.size() != kWrappedBytes) {
    return Corrupt("wrapped key has " + std::to_string(wrapped.size()) + " bytes, expected " +
                   std::to_string(kWrappedBytes));
  }
  Nonce nonce;
  std::copy_n(reinterpret_cast<const unsigned char*>(wrapped.data()), kNonceBytes, nonce.begin());
  std::string plain;
  Status s = Open(key_, nonce, context, wrapped.substr(kNonceBytes), plain);
  if (!s.ok()) {
    if (s.code() != Code::kCorrupt) return s;
    return Corrupt("data key does not unwrap (wrong root key, context or damage)");
  }
  Key key;
  std::copy_n(reinterpret_cast<const unsigned char*>(plain.data()), kKeyBytes, key.bytes.begin());
  OPENSSL_cleanse(plain.data(), plain.size());
  return key;
}

}  // namespace shoal::crypto
