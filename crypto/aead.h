#pragma once
// AES-256-GCM sealing, random bytes and MD5, over OpenSSL 3.
//
// Thread-safety: free functions; safe from any thread.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"

namespace shoal::crypto {

inline constexpr std::size_t kKeyBytes = 32;
inline constexpr std::size_t kNonceBytes = 12;
inline constexpr std::size_t kTagBytes = 16;

// A 256-bit key that wipes itself when destroyed.
struct Key {
  std::array<unsigned char, kKeyBytes> bytes{};
  ~Key();
};
using Nonce = std::array<unsigned char, kNonceBytes>;

// Fills `out` from OpenSSL's CSPRNG.
Status RandomBytes(std::span<unsigned char> out);
Result<Key> RandomKey();

// Appends ciphertext || 16-byte tag of `plaintext` to `out`.
Status Seal(const Key& key, const Nonce& nonce, std::string_view aad, std::string_view plaintext,
            std::string& out);
// Verifies and decrypts `sealed` (ciphertext || tag) into `out` (replaced).
// Corrupt when the tag does not verify (wrong key, nonce, aad, or tampering).
Status Open(const Key& key, const Nonce& nonce, std::string_view aad, std::string_view sealed,
            std::string& out);
// As Open, into `out`, which holds sealed.size() - kTagBytes bytes (sealed
// must hold at least the tag). On failure `out` is wiped.
Status OpenInto(const Key& key, const Nonce& nonce, std::string_view aad, std::string_view sealed,
                char* out);

// True only in the unsealed benchmark baseline build (CMake option
// SHOAL_UNSEALED_BASELINE, preset `unsealed`), where Seal and Open do no AES
// and data is stored in the clear; scripts/bench measures encryption's cost
// against it. The command line refuses to run such a build unless asked to.
bool IsUnsealedBaseline();

// MD5 of `data` in one call into `out`; false if the digest failed. Takes
// no lock and allocates nothing after a thread's first call (Kinesis routes
// every record by the MD5 of its partition key).
bool Md5Digest(std::string_view data, std::array<unsigned char, 16>& out);

// Streaming MD5 (ETags are MD5 of the content).
class Md5 {
 public:
  Md5();
  ~Md5();
  Md5(const Md5&) = delete;
  Md5& operator=(const Md5&) = delete;
  void Update(std::string_view data);
  // 16 raw bytes. The object must not be used afterwards.
  std::string Finish();

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace shoal::crypto
