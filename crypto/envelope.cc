#include "crypto/envelope.h"

#include "base/coding.h"

namespace shoal::crypto {
namespace {

constexpr unsigned char kEnvelopeFormat = 1;
constexpr std::string_view kAadLabel = "shoal envelope";

// The two header bytes of an SSE-S3 envelope.
std::string SseS3Header() {
  return {static_cast<char>(kEnvelopeFormat), static_cast<char>(EnvelopeMode::kSseS3)};
}

void PutField(std::string& out, std::string_view field) {
  PutFixed32(out, static_cast<std::uint32_t>(field.size()));
  out += field;
}

// label | header | bucket | key | version id, each field length-prefixed.
std::string AssociatedData(std::string_view header, const ObjectBinding& object) {
  std::string aad(kAadLabel);
  aad += header;
  PutField(aad, object.bucket);
  PutField(aad, object.key);
  PutField(aad, object.version_id);
  return aad;
}

}  // namespace

Result<std::string> SealEnvelope(const RootKey& root, const Key& data_key,
                                 const ObjectBinding& object) {
  std::string envelope = SseS3Header();
  auto wrapped = root.Wrap(data_key, AssociatedData(envelope, object));
  if (!wrapped.ok()) return wrapped.status();
  envelope += *wrapped;
  return envelope;
}

Result<Key> OpenEnvelope(const RootKey& root, std::string_view envelope,
                         const ObjectBinding& object) {
  const std::string header = SseS3Header();
  if (envelope.size() != kSseS3EnvelopeBytes || envelope.substr(0, header.size()) != header) {
    return Corrupt("key envelope is damaged or of an unknown kind");
  }
  auto key = root.Unwrap(envelope.substr(header.size()), AssociatedData(header, object));
  if (!key.ok() && key.status().code() == Code::kCorrupt) {
    return Corrupt("key envelope does not open for this object (moved, damaged or tampered)");
  }
  return key;
}

Result<std::string> RebindEnvelope(const RootKey& root, std::string_view envelope,
                                   const ObjectBinding& from, const ObjectBinding& to) {
  auto key = OpenEnvelope(root, envelope, from);
  if (!key.ok()) return key.status();
  return SealEnvelope(root, *key, to);
}

}  // namespace shoal::crypto
