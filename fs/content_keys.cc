#include "fs/content_keys.h"

#include "base/coding.h"

namespace shoal::fs {
namespace {

constexpr std::string_view kArnContextKey = "aws:s3:arn";

crypto::ObjectBinding Binding(const ObjectKey& key, std::string_view version_id) {
  return {.bucket = key.bucket_name, .key = key.key, .version_id = version_id};
}

Status NeedBucketName(const ObjectKey& key) {
  if (key.bucket_name.empty()) return Internal("an object key without its bucket's name");
  return Status::Ok();
}

// A cached Bucket Key made at `made` may still be used at `now`.
bool Fresh(TimeNs made, TimeNs now) {
  return now >= made && now - made < kBucketKeyLifetime;
}

std::string KeyArnOfBlob(std::string_view blob) {
  // crypto/kms.h: the key id follows the 4-byte magic.
  return std::string(crypto::kKmsArnPrefix) + "key/" +
         std::string(blob.substr(4, crypto::kKmsKeyIdBytes));
}

}  // namespace

static_assert(crypto::kKmsBlobInEnvelopeBytes == crypto::kKmsBlobBytes);

crypto::EncryptionContext ObjectContext(const ObjectKey& key) {
  return {{std::string(kArnContextKey), "arn:aws:s3:::" + key.bucket_name + "/" + key.key}};
}

crypto::EncryptionContext BucketContext(std::string_view bucket) {
  return {{std::string(kArnContextKey), "arn:aws:s3:::" + std::string(bucket)}};
}

Result<EnvelopeSummary> SummarizeEnvelope(std::string_view envelope) {
  if (envelope.empty()) return EnvelopeSummary{};  // a format-1 blob: SSE-S3
  auto info = crypto::InspectEnvelope(envelope);
  if (!info.ok()) return info.status();
  if (info->mode == crypto::EnvelopeMode::kSseS3) return EnvelopeSummary{};
  if (info->mode == crypto::EnvelopeMode::kSseC) {
    return EnvelopeSummary{.sse = "SSE-C", .sse_c_salt = info->sse_c_salt};
  }
  const bool dual = info->mode == crypto::EnvelopeMode::kDsseKms;
  return EnvelopeSummary{.sse = dual ? std::string(kDsseKms) : "aws:kms",
                         .kms_key_arn = KeyArnOfBlob(info->kms_blob),
                         .bucket_key = info->bucket_key};
}

Result<std::string> ContentKeys::KeyArnFor(const EncryptionChoice& how, TimeNs now,
                                           std::uint32_t uid) {
  auto key = how.kms_key.empty() ? kms_.AwsManagedKey("s3", now, uid) : kms_.Describe(how.kms_key);
  if (!key.ok()) return key.status();
  return key->arn;
}

Result<ContentKeys::Wrapping> ContentKeys::Prepare(const ObjectKey& key,
                                                   const EncryptionChoice& how, TimeNs now,
                                                   std::uint32_t uid) {
  Status s = NeedBucketName(key);
  if (!s.ok()) return s;
  Wrapping w{.how = how, .made_for = key};
  if (IsDualLayer(how)) w.how.bucket_key = false;  // S3 Bucket Keys do not apply to DSSE-KMS
  if (how.sse == "AES256") return w;
  if (how.sse == "SSE-C") {
    auto customer = CustomerKey(key);
    if (!customer.ok()) return customer.status();
    w.kek = *customer;
    return w;
  }
  if (how.sse != "aws:kms" && !IsDualLayer(how)) {
    return Status(Code::kNotSupported, "server-side encryption " + how.sse + " is not supported");
  }
  auto arn = KeyArnFor(how, now, uid);
  if (!arn.ok()) return arn.status();
  if (w.how.bucket_key) {
    auto bucket_key = BucketKeyFor(key.bucket_name, *arn, now, uid);
    if (!bucket_key.ok()) return bucket_key.status();
    w.kek = bucket_key->key;
    w.kms_blob = std::move(bucket_key->blob);
    return w;
  }
  auto made = kms_.GenerateDataKey(*arn, ObjectContext(key), now, uid);
  if (!made.ok()) return made.status();
  w.kek = made->plaintext;
  w.kms_blob = std::move(made->ciphertext_blob);
  return w;
}

Result<std::string> ContentKeys::SealWith(const Wrapping& w, const DataKeys& keys,
                                          const ObjectKey& key, std::string_view version_id) const {
  Status s = NeedBucketName(key);
  if (!s.ok()) return s;
  if (IsDualLayer(w.how) != keys.outer.has_value()) {
    return Internal("a " + std::string(keys.outer ? "dual" : "single") +
                    "-layer blob cannot be sealed for " + w.how.sse);
  }
  const crypto::Key& data_key = keys.key;
  if (w.how.sse == "AES256") return crypto::SealEnvelope(root_, data_key, Binding(key, version_id));
  if (w.how.sse == "SSE-C") {
    if (w.made_for.bucket != key.bucket) {
      return Status(Code::kInvalidRequest, "the object moved while its key was made");
    }
    return crypto::SealSseCEnvelope(w.kek, data_key, Binding(key, version_id));
  }
  // A Bucket Key serves its whole bucket; any other KMS data key, the one
  // ARN it was made for (its encryption context).
  const bool fits =
      w.made_for.bucket_name == key.bucket_name && (w.how.bucket_key || w.made_for.key == key.key);
  if (!fits) return Status(Code::kInvalidRequest, "the object moved while its key was made");
  if (keys.outer) {
    return crypto::SealDsseEnvelope(w.kek, w.kms_blob, root_, data_key, *keys.outer,
                                    Binding(key, version_id));
  }
  return crypto::SealKmsEnvelope(w.kek, w.kms_blob, w.how.bucket_key, data_key,
                                 Binding(key, version_id));
}

Result<std::string> ContentKeys::Seal(const DataKeys& keys, const ObjectKey& key,
                                      std::string_view version_id, const EncryptionChoice& how,
                                      TimeNs now, std::uint32_t uid) {
  auto w = Prepare(key, how, now, uid);
  if (!w.ok()) return w.status();
  return SealWith(*w, keys, key, version_id);
}

Result<DataKeys> ContentKeys::Open(std::string_view envelope, const ObjectKey& key,
                                   std::string_view version_id, TimeNs now, std::uint32_t uid) {
  Status s = NeedBucketName(key);
  if (!s.ok()) return s;
  auto info = crypto::InspectEnvelope(envelope);
  if (!info.ok()) return info.status();
  const crypto::ObjectBinding object = Binding(key, version_id);
  auto single = [](Result<crypto::Key> k) -> Result<DataKeys> {
    if (!k.ok()) return k.status();
    return DataKeys{.key = *k};
  };
  if (info->mode == crypto::EnvelopeMode::kSseS3) {
    return single(crypto::OpenEnvelope(root_, envelope, object));
  }
  if (info->mode == crypto::EnvelopeMode::kSseC) {
    auto customer = CustomerKey(key);
    if (!customer.ok()) return customer.status();
    return single(crypto::OpenSseCEnvelope(*customer, envelope, object));
  }
  Result<crypto::Key> kms_key = info->bucket_key
                                    ? OpenBucketKey(key.bucket_name, info->kms_blob, now, uid)
                                    : kms_.Decrypt(info->kms_blob, ObjectContext(key), now, uid);
  if (!kms_key.ok()) {
    if (kms_key.status().code() == Code::kCorrupt) {
      return Corrupt("key envelope does not open for this object (moved, damaged or tampered): " +
                     kms_key.status().message());
    }
    return kms_key.status();
  }
  if (info->mode == crypto::EnvelopeMode::kDsseKms) {
    auto both = crypto::OpenDsseEnvelope(*kms_key, root_, envelope, object);
    if (!both.ok()) return both.status();
    return DataKeys{.key = both->inner, .outer = both->outer};
  }
  return single(crypto::OpenKmsEnvelope(*kms_key, envelope, object));
}

Result<ContentKeys::PreparedMove> ContentKeys::PrepareMove(std::string_view envelope,
                                                           const ObjectKey& from,
                                                           std::string_view from_version,
                                                           const ObjectKey& to, TimeNs now,
                                                           std::uint32_t uid) {
  auto summary = SummarizeEnvelope(envelope);
  if (!summary.ok()) return summary.status();
  auto keys = Open(envelope, from, from_version, now, uid);
  if (!keys.ok()) return keys.status();
  const EncryptionChoice same{
      .sse = summary->sse, .kms_key = summary->kms_key_arn, .bucket_key = summary->bucket_key};
  auto wrapping = Prepare(to, same, now, uid);
  if (!wrapping.ok()) return wrapping.status();
  return PreparedMove{.keys = std::move(*keys), .wrapping = std::move(*wrapping)};
}

Result<std::string> ContentKeys::Move(std::string_view envelope, const ObjectKey& from,
                                      std::string_view from_version, const ObjectKey& to,
                                      std::string_view to_version, TimeNs now, std::uint32_t uid) {
  auto prepared = PrepareMove(envelope, from, from_version, to, now, uid);
  if (!prepared.ok()) return prepared.status();
  return SealWith(prepared->wrapping, prepared->keys, to, to_version);
}

bool ContentKeys::MoveAsksKms(std::string_view envelope) {
  auto info = crypto::InspectEnvelope(envelope);
  return info.ok() && (info->mode == crypto::EnvelopeMode::kSseKms ||
                       info->mode == crypto::EnvelopeMode::kDsseKms);
}

std::string EtagHexOf(const store::Entry& e) {
  if (e.sse != "SSE-C") return HexEncode(e.md5);
  auto summary = SummarizeEnvelope(e.key_envelope);
  crypto::Md5 md5;
  md5.Update(summary.ok() ? summary->sse_c_salt : std::string());
  md5.Update(e.md5);
  return HexEncode(md5.Finish());
}

void ContentKeys::SetCustomerKey(store::EntryId bucket, const std::optional<crypto::Key>& key) {
  MutexLock lock(mu_);
  if (key) {
    customer_keys_[bucket] = *key;
  } else {
    customer_keys_.erase(bucket);
  }
}

bool ContentKeys::HasCustomerKey(store::EntryId bucket) {
  MutexLock lock(mu_);
  return customer_keys_.count(bucket) != 0;
}

Result<crypto::Key> ContentKeys::CustomerKey(const ObjectKey& key) {
  MutexLock lock(mu_);
  auto it = customer_keys_.find(key.bucket);
  if (it == customer_keys_.end()) {
    return Status(Code::kAccessDenied, "the object is encrypted with SSE-C: write its key to .s3/" +
                                           key.bucket_name + "/sse-c-key to read it");
  }
  return it->second;
}

void ContentKeys::ForgetBucketKeys() {
  MutexLock lock(mu_);
  ++generation_;
  write_keys_.clear();
  read_keys_.clear();
}

void ContentKeys::Remember(std::map<std::pair<std::string, std::string>, CachedKey>& cache,
                           std::pair<std::string, std::string> id, const CachedKey& key,
                           std::uint64_t generation) {
  if (generation != generation_) return;  // a key changed meanwhile: ask KMS next time
  // Expired entries go, so that no unwrapped key outlives its use by long.
  std::erase_if(cache, [&](const auto& kv) { return !Fresh(kv.second.made, key.made); });
  cache[std::move(id)] = key;
}

Result<ContentKeys::CachedKey> ContentKeys::BucketKeyFor(const std::string& bucket,
                                                         const std::string& arn, TimeNs now,
                                                         std::uint32_t uid) {
  auto id = std::make_pair(bucket, arn);
  std::uint64_t generation = 0;
  {
    MutexLock lock(mu_);
    auto it = write_keys_.find(id);
    if (it != write_keys_.end() && Fresh(it->second.made, now)) return it->second;
    generation = generation_;
  }
  auto made = kms_.GenerateDataKey(arn, BucketContext(bucket), now, uid);
  if (!made.ok()) return made.status();
  CachedKey fresh{.key = made->plaintext, .blob = made->ciphertext_blob, .made = now};
  MutexLock lock(mu_);
  Remember(write_keys_, std::move(id), fresh, generation);
  Remember(read_keys_, {bucket, fresh.blob}, fresh, generation);
  return fresh;
}

Result<crypto::Key> ContentKeys::OpenBucketKey(const std::string& bucket, const std::string& blob,
                                               TimeNs now, std::uint32_t uid) {
  auto id = std::make_pair(bucket, blob);
  std::uint64_t generation = 0;
  {
    MutexLock lock(mu_);
    auto it = read_keys_.find(id);
    if (it != read_keys_.end() && Fresh(it->second.made, now)) return it->second.key;
    generation = generation_;
  }
  auto key = kms_.Decrypt(blob, BucketContext(bucket), now, uid);
  if (!key.ok()) return key.status();
  MutexLock lock(mu_);
  Remember(read_keys_, std::move(id), CachedKey{.key = *key, .blob = blob, .made = now},
           generation);
  return *key;
}

}  // namespace shoal::fs
