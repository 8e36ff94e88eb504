#pragma once
// Client-side encryption in the S3 Encryption Client's V2 format, with a raw
// AES-256 wrapping key ("AES/GCM" key wrap). The layout and its sources are in
// crypto/CSE_FORMAT.md:
//
//   content       = AES-256-GCM(CEK, IV, no AAD)(plaintext) || 16-byte tag
//   x-amz-key-v2  = base64(nonce(12) || AES-256-GCM(KEK, nonce,
//                          AAD = "AES/GCM/NoPadding")(CEK) || tag(16))
//   x-amz-iv      = base64(IV), 12 bytes
//   x-amz-cek-alg = AES/GCM/NoPadding, x-amz-wrap-alg = AES/GCM,
//   x-amz-tag-len = 128, x-amz-matdesc = {},
//   x-amz-unencrypted-content-length = the plaintext's length in bytes.
//
// Thread-safety: free functions are safe from any thread; a GcmEncryptor or
// GcmDecryptor is used by one thread at a time.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "crypto/aead.h"

namespace shoal::crypto {

// Metadata names as the S3 Encryption Client stores them: S3 user metadata
// (x-amz-meta-NAME, in a shoal mount the xattr user.s3.meta.NAME), or keys of
// a JSON instruction file.
inline constexpr std::string_view kCseKeyV2 = "x-amz-key-v2";
inline constexpr std::string_view kCseIv = "x-amz-iv";
inline constexpr std::string_view kCseCekAlg = "x-amz-cek-alg";
inline constexpr std::string_view kCseWrapAlg = "x-amz-wrap-alg";
inline constexpr std::string_view kCseTagLen = "x-amz-tag-len";
inline constexpr std::string_view kCseMatDesc = "x-amz-matdesc";
inline constexpr std::string_view kCseUnencryptedLength = "x-amz-unencrypted-content-length";
// Present only in the V1 format, which this implementation does not read.
inline constexpr std::string_view kCseKeyV1 = "x-amz-key";

// The values this implementation writes (and the only ones it reads).
inline constexpr std::string_view kCseAesGcmNoPadding = "AES/GCM/NoPadding";
inline constexpr std::string_view kCseWrapAesGcm = "AES/GCM";
inline constexpr std::string_view kCseTagBits = "128";
inline constexpr std::string_view kCseEmptyMatDesc = "{}";

// nonce || wrapped CEK || tag.
inline constexpr std::size_t kCseWrappedKeyBytes = kNonceBytes + kKeyBytes + kTagBytes;
// GCM's limit on one message: 2^39 - 256 bits (NIST SP 800-38D).
inline constexpr std::uint64_t kCseMaxPlaintextBytes = (std::uint64_t{1} << 36) - 32;

// Standard base64 (RFC 4648 §4) with padding.
std::string Base64Encode(std::string_view bytes);
// Base64Encode, appended to `out`.
void AppendBase64(std::string_view bytes, std::string& out);
// Base64Encode, written to out[0, (bytes.size() + 2) / 3 * 4); returns the
// end.
char* WriteBase64(std::string_view bytes, char* out);
// Strict: only the standard alphabet, length a multiple of 4, at most two '='
// at the end, zero unused bits. Returns false (and leaves `out` unspecified)
// on anything else.
bool Base64Decode(std::string_view text, std::string& out);

// The content metadata of one encrypted object.
struct CseEnvelope {
  std::string wrapped_key;  // kCseWrappedKeyBytes raw bytes
  Nonce iv{};               // content IV
  std::string mat_desc = std::string(kCseEmptyMatDesc);
  std::optional<std::uint64_t> unencrypted_length;

  // name → value, every name above that has a value.
  std::map<std::string, std::string> ToMap() const;
  // Validates and decodes `meta` (names as in ToMap; others are ignored).
  // InvalidArgument when required names are missing or malformed; NotSupported
  // for other S3EC formats (V1, AES-CBC content, KMS or RSA key wrap).
  static Result<CseEnvelope> FromMap(const std::map<std::string, std::string>& meta);
};

// The key file's content: 32 raw bytes, or the base64 of 32 bytes (44
// characters) optionally followed by one newline ("\n" or "\r\n").
// InvalidArgument with a message that says what was found otherwise.
Result<Key> ParseKeyFile(std::string_view contents);
// Reads and parses `path`. Refuses a regular file that group or others may
// read or write (as ssh refuses such private keys); pipes and other
// non-regular files (e.g. bash's <(...)) are read as they are.
Result<Key> LoadKeyFile(const std::string& path);

// Wraps `cek` under `kek` with a fresh random nonce: kCseWrappedKeyBytes.
Result<std::string> WrapKey(const Key& kek, const Key& cek);
// Unwraps `wrapped`; `cek_alg` is the object's x-amz-cek-alg, the AAD.
// AccessDenied when the tag does not verify (wrong key, or tampered
// x-amz-key-v2 or x-amz-cek-alg); InvalidArgument when not 60 bytes.
Result<Key> UnwrapKey(const Key& kek, std::string_view wrapped, std::string_view cek_alg);

// One AES-256-GCM encryption without AAD, fed in pieces.
class GcmEncryptor {
 public:
  static Result<std::unique_ptr<GcmEncryptor>> Create(const Key& key, const Nonce& iv);
  ~GcmEncryptor();
  GcmEncryptor(const GcmEncryptor&) = delete;
  GcmEncryptor& operator=(const GcmEncryptor&) = delete;

  // Appends the ciphertext of `plaintext` (same length) to `out`.
  // InvalidArgument past kCseMaxPlaintextBytes in total.
  Status Update(std::string_view plaintext, std::string& out);
  // Appends the 16-byte tag to `out`. Nothing may be fed afterwards.
  Status Finish(std::string& out);

 private:
  struct Impl;
  explicit GcmEncryptor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// One AES-256-GCM decryption without AAD of ciphertext || tag, fed in pieces
// of any size: the last 16 bytes fed are taken as the tag. Plaintext handed
// out by Update is unverified until Finish succeeds.
class GcmDecryptor {
 public:
  static Result<std::unique_ptr<GcmDecryptor>> Create(const Key& key, const Nonce& iv);
  ~GcmDecryptor();
  GcmDecryptor(const GcmDecryptor&) = delete;
  GcmDecryptor& operator=(const GcmDecryptor&) = delete;

  // Appends the plaintext of all but the last 16 bytes fed so far to `out`.
  Status Update(std::string_view sealed, std::string& out);
  // Verifies the tag. Corrupt when fewer than 16 bytes were fed or the tag
  // does not verify.
  Status Finish();
  // Bytes of plaintext handed out so far.
  std::uint64_t plaintext_bytes() const;

 private:
  struct Impl;
  explicit GcmDecryptor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Encrypts everything readable from `in_fd` (from its current offset) and
// writes ciphertext || tag to `out_fd` at its current offset, in bounded
// memory, under a fresh content key wrapped by `kek`. Returns the envelope.
Result<CseEnvelope> EncryptStream(const Key& kek, int in_fd, int out_fd);
// Decrypts `in_fd` (ciphertext || tag) into `out_fd`. AccessDenied when the
// data key does not unwrap (as UnwrapKey); Corrupt when the content fails
// authentication (tampered content, tag or x-amz-iv) or its length
// contradicts x-amz-unencrypted-content-length. On failure, bytes already
// written to `out_fd` are unverified and the caller must discard them.
Status DecryptStream(const Key& kek, const CseEnvelope& envelope, int in_fd, int out_fd);

}  // namespace shoal::crypto
