#include "crypto/kms.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <queue>
#include <thread>
#include <tuple>
#include <utility>

#include "base/coding.h"
#include "base/file_util.h"
#include "base/raii.h"
#include "crypto/ssl_status.h"

namespace shoal::crypto {
namespace {

constexpr TimeNs kNsPerDay = TimeNs{86'400} * 1'000'000'000;

constexpr std::string_view kBlobMagic = "SKM1";
constexpr std::string_view kBlobAadLabel = "shoal-kms-v1";
constexpr std::size_t kBlobHeaderBytes = kBlobMagic.size() + kKmsKeyIdBytes + 4;

constexpr std::string_view kKeyFileMagic = "SKK1";
constexpr std::size_t kChecksumBytes = 32;
constexpr std::uint8_t kFlagAwsManaged = 1;
constexpr std::uint8_t kFlagEnabled = 2;
constexpr std::uint8_t kFlagRotation = 4;
// More versions than 300 years of yearly rotations is damage, not history.
constexpr std::uint32_t kMaxMaterialVersions = 1000;
// A key file with that many versions stays far below this.
constexpr std::size_t kMaxKeyFileBytes = 1 << 20;

constexpr std::string_view kAliasPrefix = "alias/";
constexpr std::string_view kAwsAliasPrefix = "alias/aws/";
// AliasName is at most 256 characters, "alias/" included.
constexpr std::size_t kMaxAliasNameChars = 250;
constexpr std::size_t kMaxServiceChars = 64;
constexpr std::string_view kAliasPattern = "^[a-zA-Z0-9:/_-]+$";

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

bool IsKeyId(std::string_view s) {
  if (s.size() != kKmsKeyIdBytes) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

bool IsAliasChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
         c == '_' || c == '-';
}

// "alias/NAME" with NAME 1..250 alias characters.
bool IsAliasName(std::string_view alias) {
  if (!alias.starts_with(kAliasPrefix)) return false;
  const std::string_view name = alias.substr(kAliasPrefix.size());
  return !name.empty() && name.size() <= kMaxAliasNameChars &&
         std::all_of(name.begin(), name.end(), IsAliasChar);
}

std::string KeyArn(std::string_view id) {
  return std::string(kKmsArnPrefix) + "key/" + std::string(id);
}

std::string AliasArn(std::string_view alias) {
  return std::string(kKmsArnPrefix) + std::string(alias);
}

// User text in KMS's 'Value ...' position: QuoteForMessage's safe text, in
// KMS's single quotes.
std::string SingleQuoted(std::string_view text) {
  std::string q = QuoteForMessage(text);
  q.front() = '\'';
  q.back() = '\'';
  return q;
}

Status KeyNotFound(std::string_view arn) {
  return {Code::kKmsNotFound, "Key '" + std::string(arn) + "' does not exist"};
}

Status InvalidKeyId(std::string_view ref) {
  return {Code::kKmsNotFound, "Invalid keyId " + QuoteForMessage(ref)};
}

Status KeyDisabled(std::string_view arn) {
  return {Code::kKmsDisabled, std::string(arn) + " is disabled."};
}

Status KeyPendingDeletion(std::string_view arn) {
  return {Code::kKmsInvalidState, std::string(arn) + " is pending deletion."};
}

// KMS says nothing more than the exception's name; the detail is ours.
Status InvalidCiphertext(std::string_view why) {
  return Corrupt("InvalidCiphertextException: " + std::string(why));
}

Status AwsManagedRefusal(std::string_view arn) {
  return InvalidArgument("UnsupportedOperationException: " + std::string(arn) +
                         " is an AWS managed key: AWS keeps it enabled, rotates it every year "
                         "and never deletes it; none of that can be changed");
}

// The name CloudTrail's errorCode would show for `s`.
std::string ExceptionName(const Status& s) {
  switch (s.code()) {
    case Code::kOk: return "";
    case Code::kKmsDisabled: return "DisabledException";
    case Code::kKmsNotFound: return "NotFoundException";
    case Code::kKmsInvalidState: return "KMSInvalidStateException";
    case Code::kKmsThrottling: return "ThrottlingException";
    case Code::kAlreadyExists: return "AlreadyExistsException";
    case Code::kInvalidArgument:
      for (std::string_view name : {"NotAuthorizedException", "UnsupportedOperationException"}) {
        if (s.message().starts_with(name)) return std::string(name);
      }
      return "ValidationException";
    case Code::kCorrupt:
      if (s.message().starts_with("InvalidCiphertextException"))
        return "InvalidCiphertextException";
      return "KMSInternalException";
    default: return "KMSInternalException";
  }
}

KmsAuditRecord Record(TimeNs now, std::string_view event, std::string arn, std::uint32_t uid,
                      const Status& s = Status::Ok()) {
  KmsAuditRecord r;
  r.event_time = now;
  r.event_name = std::string(event);
  r.key_arn = std::move(arn);
  r.uid = uid;
  r.error_code = ExceptionName(s);
  return r;
}

// `name` as CreateKey takes it: the part after "alias/".
Status ValidateAliasName(std::string_view name) {
  const std::string alias = std::string(kAliasPrefix) + std::string(name);
  if (name.size() > kMaxAliasNameChars) {
    return InvalidArgument("1 validation error detected: Value " + SingleQuoted(alias) +
                           " at 'aliasName' failed to satisfy constraint: Member must have "
                           "length less than or equal to 256");
  }
  if (name.empty() || !std::all_of(name.begin(), name.end(), IsAliasChar)) {
    return InvalidArgument("1 validation error detected: Value " + SingleQuoted(alias) +
                           " at 'aliasName' failed to satisfy constraint: Member must satisfy "
                           "regular expression pattern: " +
                           std::string(kAliasPattern));
  }
  if (alias.starts_with(kAwsAliasPrefix)) {
    return InvalidArgument("NotAuthorizedException: " + alias +
                           ": alias names that begin with alias/aws/ are reserved for AWS "
                           "managed keys");
  }
  return Status::Ok();
}

Result<std::string> NewKeyId() {
  std::array<unsigned char, 16> b{};
  Status s = RandomBytes(b);
  if (!s.ok()) return s;
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string hex = HexEncode(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

std::string MaterialContext(std::string_view id, std::uint32_t version) {
  return "kms-key|" + std::string(id) + "|" + std::to_string(version);
}

std::string BlobHeader(std::string_view id, std::uint32_t version) {
  std::string h(kBlobMagic);
  h += id;
  PutFixed32(h, version);
  return h;
}

Result<std::string> BlobAad(std::string_view header, const EncryptionContext& ctx) {
  std::string aad(kBlobAadLabel);
  aad += header;
  for (const auto& [k, v] : ctx) {
    if (k.size() > std::numeric_limits<std::uint32_t>::max() ||
        v.size() > std::numeric_limits<std::uint32_t>::max()) {
      return InvalidArgument("an encryption context entry is longer than 4 GiB");
    }
    PutFixed32(aad, static_cast<std::uint32_t>(k.size()));
    aad += k;
    PutFixed32(aad, static_cast<std::uint32_t>(v.size()));
    aad += v;
  }
  return aad;
}

Result<std::string> Sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1 ||
      len != kChecksumBytes) {
    return SslStatus("SHA-256");
  }
  return std::string(reinterpret_cast<const char*>(md), len);
}

// Reads fixed-size fields off a byte string; any read past the end fails it.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  std::string_view Take(std::size_t n) {
    if (failed_ || in_.size() - pos_ < n) {
      failed_ = true;
      return {};
    }
    std::string_view out = in_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  std::uint8_t U8() {
    std::string_view b = Take(1);
    return b.empty() ? 0 : static_cast<std::uint8_t>(b[0]);
  }
  std::uint32_t U32() {
    std::string_view b = Take(4);
    return b.empty() ? 0 : LoadFixed32(Bytes(b));
  }
  std::int64_t I64() {
    std::string_view b = Take(8);
    return b.empty() ? 0 : static_cast<std::int64_t>(LoadFixed64(Bytes(b)));
  }
  std::string_view Varbytes() {
    Decoder d(in_.substr(failed_ ? in_.size() : pos_));
    std::string_view v;
    if (failed_ || !d.GetBytes(v)) {
      failed_ = true;
      return {};
    }
    pos_ = in_.size() - d.remaining();
    return v;
  }
  bool failed() const { return failed_; }
  bool done() const { return !failed_ && pos_ == in_.size(); }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
  bool failed_ = false;
};

std::int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void SleepNs(std::int64_t ns) {
  std::this_thread::sleep_for(std::chrono::nanoseconds(ns));
}

Status MakeDirectory(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return Status::Ok();
  return PosixError("mkdir " + path, errno);
}

// The names in `dir`, or the OS error.
Result<std::vector<std::string>> ListDirectory(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  if (ec) return PosixError("list " + dir, ec.value());
  std::sort(names.begin(), names.end());
  return names;
}

Status Unlink(const std::string& path) {
  if (::unlink(path.c_str()) == 0 || errno == ENOENT) return Status::Ok();
  return PosixError("unlink " + path, errno);
}

}  // namespace

std::string KmsKey::KeyState() const {
  if (deletion_date != 0) return "PendingDeletion";
  return enabled ? "Enabled" : "Disabled";
}

std::string AuditJsonLine(const KmsAuditRecord& r) {
  using Json = nlohmann::ordered_json;
  const bool data_call = r.event_name == "GenerateDataKey" || r.event_name == "Decrypt";
  Json j;
  j["eventTime"] = FormatIso8601(r.event_time);
  j["eventSource"] = "kms.amazonaws.com";
  j["eventName"] = r.event_name;
  j["awsRegion"] = "us-east-1";
  if (r.by_service) {
    j["userIdentity"] = {{"type", "AWSService"}, {"invokedBy", "kms.amazonaws.com"}};
  } else {
    j["userIdentity"] = {{"type", "LocalUser"}, {"uid", r.uid}};
  }
  Json params = Json::object();
  if (!r.key_arn.empty()) params["keyId"] = r.key_arn;
  if (r.event_name == "GenerateDataKey") params["keySpec"] = "AES_256";
  if (!r.context.empty()) {
    Json ctx = Json::object();
    for (const auto& [k, v] : r.context) ctx[k] = v;
    params["encryptionContext"] = std::move(ctx);
  }
  j["requestParameters"] = std::move(params);
  if (!r.error_code.empty()) j["errorCode"] = r.error_code;
  j["readOnly"] = data_call;
  if (!r.key_arn.empty()) {
    j["resources"] = Json::array({{{"ARN", r.key_arn}, {"type", "AWS::KMS::Key"}}});
  }
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// ---- opening and files ----

Kms::Kms(std::string dir, const RootKey& root, KmsOptions options)
    : dir_(std::move(dir)), root_(root), options_(std::move(options)) {
  MutexLock l(quota_mu_);
  rate_ = options_.requests_per_second;
  mode_ = options_.quota_mode;
  tokens_ = std::max(1.0, rate_);
  refilled_at_ns_ = options_.steady_now_ns();
}

Kms::~Kms() = default;

Result<std::unique_ptr<Kms>> Kms::Open(const std::string& dir, const RootKey& root,
                                       KmsOptions options) {
  if (!options.steady_now_ns) options.steady_now_ns = SteadyNowNs;
  if (!options.sleep_ns) options.sleep_ns = SleepNs;
  std::unique_ptr<Kms> kms(new Kms(dir, root, std::move(options)));
  Status s = kms->Load();
  if (!s.ok()) return s;
  return kms;
}

Status Kms::Load() {
  for (const std::string& d : {dir_, dir_ + "/keys", dir_ + "/deleted"}) {
    Status s = MakeDirectory(d);
    if (!s.ok()) return s;
  }
  std::set<std::string, std::less<>> deleted;
  auto tombstones = ListDirectory(dir_ + "/deleted");
  if (!tombstones.ok()) return tombstones.status();
  for (const std::string& name : *tombstones) {
    if (!IsKeyId(name)) {
      return Corrupt(dir_ + "/deleted/" + name +
                     ": not a key id (only deleted keys' ids belong "
                     "in deleted/)");
    }
    deleted.insert(name);
  }

  std::map<std::string, KeyRecord, std::less<>> keys;
  std::map<std::string, std::string, std::less<>> aliases;
  auto names = ListDirectory(dir_ + "/keys");
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    const std::string path = dir_ + "/keys/" + name;
    if (name.size() == kKmsKeyIdBytes + 4 && name.ends_with(".tmp") &&
        IsKeyId(std::string_view(name).substr(0, kKmsKeyIdBytes))) {
      // WriteFileDurably's temporary file from a write that did not finish:
      // the key file it was to replace is still whole.
      Status s = Unlink(path);
      if (!s.ok()) return s;
      continue;
    }
    if (!IsKeyId(name)) return Corrupt(path + ": not a key file (its name is not a key id)");
    if (deleted.contains(name)) {
      // The deletion stopped between its tombstone and the unlink.
      Status s = Unlink(path);
      if (!s.ok()) return s;
      continue;
    }
    Result<KeyRecord> rec = ReadKeyFile(path, name);
    if (!rec.ok()) return rec.status();
    auto [it, added] = aliases.emplace(rec->meta.alias, name);
    if (!added) {
      return Corrupt(path + ": alias " + rec->meta.alias + " is also the alias of key " +
                     it->second);
    }
    keys.emplace(name, std::move(rec).value());
  }
  MutexLock l(mu_);
  keys_ = std::move(keys);
  aliases_ = std::move(aliases);
  deleted_ = std::move(deleted);
  return Status::Ok();
}

Result<Kms::KeyRecord> Kms::ReadKeyFile(const std::string& path, std::string_view id) const {
  Result<std::string> data = ReadFile(path);
  if (!data.ok()) return data.status();
  const std::string_view all = *data;
  auto damaged = [&](std::string_view what) {
    return Corrupt(path + ": damaged key file (" + std::string(what) + ")");
  };
  if (all.size() < kChecksumBytes || all.size() > kMaxKeyFileBytes) return damaged("size");
  const std::string_view body = all.substr(0, all.size() - kChecksumBytes);
  Result<std::string> sum = Sha256(body);
  if (!sum.ok()) return sum.status();
  if (*sum != all.substr(body.size())) return damaged("checksum mismatch");

  Reader in(body);
  KeyRecord rec;
  KmsKey& m = rec.meta;
  if (in.Take(kKeyFileMagic.size()) != kKeyFileMagic) return damaged("magic");
  m.id = std::string(in.Take(kKmsKeyIdBytes));
  if (m.id != id) return damaged("the key id is not the file's name");
  m.arn = KeyArn(m.id);
  const std::uint8_t flags = in.U8();
  m.aws_managed = (flags & kFlagAwsManaged) != 0;
  m.enabled = (flags & kFlagEnabled) != 0;
  m.rotation_enabled = (flags & kFlagRotation) != 0;
  m.created = in.I64();
  m.next_rotation = in.I64();
  m.deletion_date = in.I64();
  const std::uint32_t window = in.U32();
  m.alias = std::string(in.Varbytes());
  const std::uint32_t count = in.U32();
  if (in.failed()) return damaged("truncated");
  if ((flags & ~(kFlagAwsManaged | kFlagEnabled | kFlagRotation)) != 0) return damaged("flags");
  if (window > static_cast<std::uint32_t>(kMaxPendingWindowDays)) return damaged("window");
  m.pending_window_days = static_cast<std::int32_t>(window);
  if (count == 0 || count > kMaxMaterialVersions) return damaged("material count");
  m.material_versions = count;

  // Only states that the methods below can reach.
  const bool pending = m.deletion_date != 0;
  if (!IsAliasName(m.alias) || m.aws_managed != m.alias.starts_with(kAwsAliasPrefix) ||
      pending != (window != 0) || (pending && window < kMinPendingWindowDays) ||
      (pending && m.enabled) || m.rotation_enabled != (m.next_rotation != 0) ||
      (m.aws_managed && (!m.enabled || !m.rotation_enabled || pending))) {
    return damaged("impossible state");
  }

  for (std::uint32_t v = 1; v <= count; ++v) {
    Material mat;
    mat.created = in.I64();
    mat.wrapped = std::string(in.Take(RootKey::kWrappedBytes));
    if (in.failed()) return damaged("truncated");
    Result<Key> key = root_.Unwrap(mat.wrapped, MaterialContext(m.id, v));
    if (!key.ok()) {
      return Corrupt(path + ": key material version " + std::to_string(v) +
                     " does not unwrap (another root key, or damage)");
    }
    mat.key = *key;
    rec.materials.push_back(std::move(mat));
  }
  if (!in.done()) return damaged("trailing bytes");
  return rec;
}

Status Kms::WriteKeyFile(const KeyRecord& rec) const {
  const KmsKey& m = rec.meta;
  std::string out(kKeyFileMagic);
  out += m.id;
  std::uint8_t flags = 0;
  if (m.aws_managed) flags |= kFlagAwsManaged;
  if (m.enabled) flags |= kFlagEnabled;
  if (m.rotation_enabled) flags |= kFlagRotation;
  out.push_back(static_cast<char>(flags));
  PutFixed64(out, static_cast<std::uint64_t>(m.created));
  PutFixed64(out, static_cast<std::uint64_t>(m.next_rotation));
  PutFixed64(out, static_cast<std::uint64_t>(m.deletion_date));
  PutFixed32(out, static_cast<std::uint32_t>(m.pending_window_days));
  PutBytes(out, m.alias);
  PutFixed32(out, static_cast<std::uint32_t>(rec.materials.size()));
  for (const Material& mat : rec.materials) {
    PutFixed64(out, static_cast<std::uint64_t>(mat.created));
    out += mat.wrapped;
  }
  Result<std::string> sum = Sha256(out);
  if (!sum.ok()) return sum.status();
  out += *sum;
  return WriteFileDurably(dir_ + "/keys/" + m.id, out, 0600);
}

Status Kms::DeleteKeyFile(const std::string& id) const {
  // The tombstone first: a crash between the two steps leaves both, and
  // Load finishes the deletion.
  const std::string tombstone = dir_ + "/deleted/" + id;
  UniqueFd fd(::open(tombstone.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return PosixError(tombstone, errno);
  fd.Reset();
  Status s = SyncDirectory(dir_ + "/deleted");
  if (!s.ok()) return s;
  s = Unlink(dir_ + "/keys/" + id);
  if (!s.ok()) return s;
  return SyncDirectory(dir_ + "/keys");
}

Status Kms::AddMaterial(KeyRecord& rec, TimeNs now) const {
  Result<Key> key = RandomKey();
  if (!key.ok()) return key.status();
  const auto version = static_cast<std::uint32_t>(rec.materials.size() + 1);
  Result<std::string> wrapped = root_.Wrap(*key, MaterialContext(rec.meta.id, version));
  if (!wrapped.ok()) return wrapped.status();
  Material mat;
  mat.created = now;
  mat.key = *key;
  mat.wrapped = std::move(wrapped).value();
  rec.materials.push_back(std::move(mat));
  rec.meta.material_versions = version;
  return Status::Ok();
}

Result<Kms::KeyRecord> Kms::NewKey(std::string alias, bool aws_managed, TimeNs now) const {
  Result<std::string> id = NewKeyId();
  if (!id.ok()) return id.status();
  KeyRecord rec;
  KmsKey& m = rec.meta;
  m.id = std::move(id).value();
  m.arn = KeyArn(m.id);
  m.alias = std::move(alias);
  m.aws_managed = aws_managed;
  m.created = now;
  m.enabled = true;
  m.rotation_enabled = aws_managed;
  m.next_rotation = aws_managed ? now + kKmsRotationPeriod : 0;
  Status s = AddMaterial(rec, now);
  if (!s.ok()) return s;
  return rec;
}

void Kms::Emit(const std::vector<KmsAuditRecord>& records) const {
  if (!options_.audit) return;
  for (const KmsAuditRecord& r : records) options_.audit(r);
}

// ---- lookups ----

Result<std::string> Kms::Resolve(std::string_view key_ref) const {
  std::string_view rest = key_ref;
  const bool arn = rest.starts_with(kKmsArnPrefix);
  if (arn) rest.remove_prefix(kKmsArnPrefix.size());
  std::string_view id;
  if (arn && rest.starts_with("key/")) {
    id = rest.substr(4);
  } else if (rest.starts_with(kAliasPrefix)) {
    if (!IsAliasName(rest)) return InvalidKeyId(key_ref);
    auto it = aliases_.find(rest);
    if (it == aliases_.end()) {
      return Status(Code::kKmsNotFound, "Alias " + AliasArn(rest) + " is not found.");
    }
    return it->second;
  } else if (!arn) {
    id = rest;
  }
  if (!IsKeyId(id)) return InvalidKeyId(key_ref);
  if (!keys_.contains(id)) return KeyNotFound(KeyArn(id));
  return std::string(id);
}

Result<KmsKey> Kms::Describe(std::string_view key_ref) const {
  MutexLock l(mu_);
  Result<std::string> id = Resolve(key_ref);
  if (!id.ok()) return id.status();
  return keys_.find(*id)->second.meta;
}

std::vector<KmsKey> Kms::List() const {
  std::vector<KmsKey> out;
  MutexLock l(mu_);
  out.reserve(aliases_.size());
  for (const auto& [alias, id] : aliases_) out.push_back(keys_.find(id)->second.meta);
  return out;
}

// ---- key creation ----

Result<KmsKey> Kms::CreateLocked(std::string alias, bool aws_managed, TimeNs now, std::uint32_t uid,
                                 std::vector<KmsAuditRecord>& audit) {
  {
    MutexLock l(mu_);
    auto it = aliases_.find(alias);
    if (it != aliases_.end()) {
      if (aws_managed) return keys_.find(it->second)->second.meta;
      Status s(Code::kAlreadyExists, "AlreadyExistsException: An alias with the name " +
                                         AliasArn(alias) + " already exists");
      audit.push_back(Record(now, "CreateKey", "", uid, s));
      return s;
    }
  }
  Result<KeyRecord> rec = NewKey(std::move(alias), aws_managed, now);
  Status s = rec.ok() ? WriteKeyFile(*rec) : rec.status();
  if (!s.ok()) {
    audit.push_back(Record(now, "CreateKey", "", uid, s));
    return s;
  }
  KmsKey meta = rec->meta;
  audit.push_back(Record(now, "CreateKey", meta.arn, uid));
  MutexLock l(mu_);
  aliases_.emplace(meta.alias, meta.id);
  keys_.emplace(meta.id, std::move(rec).value());
  return meta;
}

Result<KmsKey> Kms::CreateKey(std::string_view name, TimeNs now, std::uint32_t uid) {
  std::vector<KmsAuditRecord> audit;
  Result<KmsKey> out = [&]() -> Result<KmsKey> {
    Status s = ValidateAliasName(name);
    if (!s.ok()) {
      audit.push_back(Record(now, "CreateKey", "", uid, s));
      return s;
    }
    MutexLock admin(admin_mu_);
    return CreateLocked(std::string(kAliasPrefix) + std::string(name), false, now, uid, audit);
  }();
  Emit(audit);
  return out;
}

Result<KmsKey> Kms::AwsManagedKey(std::string_view service, TimeNs now, std::uint32_t uid) {
  if (service.empty() || service.size() > kMaxServiceChars ||
      !std::all_of(service.begin(), service.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
      })) {
    return InvalidArgument(
        "AWS managed keys are named after a service such as s3 (1 to 64 of "
        "a-z, 0-9 and -), not " +
        QuoteForMessage(service));
  }
  std::vector<KmsAuditRecord> audit;
  Result<KmsKey> out = [&] {
    MutexLock admin(admin_mu_);
    return CreateLocked(std::string(kAwsAliasPrefix) + std::string(service), true, now, uid, audit);
  }();
  Emit(audit);
  return out;
}

// ---- configuration ----

Status Kms::ConfigureLocked(std::string_view key_ref, const KmsKeyConfig& wanted, TimeNs now,
                            std::uint32_t uid, std::vector<KmsAuditRecord>& audit) {
  KeyRecord rec;
  {
    MutexLock l(mu_);
    Result<std::string> id = Resolve(key_ref);
    if (!id.ok()) return id.status();
    rec = keys_.find(*id)->second;
  }
  KmsKey& m = rec.meta;
  const KmsKeyConfig current = CurrentKmsKeyConfig(m);
  // A key pending deletion is never enabled: when `wanted` schedules or
  // keeps a deletion, its Enabled flag has nothing to say (so a document
  // that scheduled one can be applied again without error).
  KmsKeyConfig want = wanted;
  const bool deleting = want.pending_deletion_days != 0;
  if (deleting) want.enabled = false;
  if (want == current) return Status::Ok();
  auto refuse = [&](std::string_view event, Status s) {
    audit.push_back(Record(now, event, m.arn, uid, s));
    return s;
  };
  const std::string_view rotation_event =
      want.key_rotation_enabled ? "EnableKeyRotation" : "DisableKeyRotation";
  const bool rotation_change = want.key_rotation_enabled != current.key_rotation_enabled;

  Status valid = ValidatePendingWindowDays(want.pending_deletion_days);
  if (!valid.ok()) return refuse("ScheduleKeyDeletion", valid);
  if (m.aws_managed) {
    const std::string_view event = deleting          ? "ScheduleKeyDeletion"
                                   : rotation_change ? rotation_event
                                   : want.enabled    ? "EnableKey"
                                                     : "DisableKey";
    return refuse(event, AwsManagedRefusal(m.arn));
  }

  // The KMS calls that take the key from `current` to `want`, checked
  // against the state each leaves, before any is made.
  std::vector<std::string_view> steps;
  bool enabled = current.enabled;
  if (current.pending_deletion_days != 0) {
    if (deleting) {
      // It stays pending deletion, and such a key takes no other change.
      const std::string_view event = want.pending_deletion_days != current.pending_deletion_days
                                         ? "ScheduleKeyDeletion"
                                         : rotation_event;
      return refuse(event, KeyPendingDeletion(m.arn));
    }
    steps.push_back("CancelKeyDeletion");
    enabled = false;
  }
  if (want.enabled && !enabled) {
    steps.push_back("EnableKey");
    enabled = true;
  }
  if (rotation_change) {
    if (!enabled) return refuse(rotation_event, KeyDisabled(m.arn));
    steps.push_back(rotation_event);
  }
  // ScheduleKeyDeletion takes an enabled key as well as a disabled one.
  if (deleting) {
    steps.push_back("ScheduleKeyDeletion");
  } else if (!want.enabled && enabled) {
    steps.push_back("DisableKey");
  }

  for (std::string_view step : steps) {
    if (step == "CancelKeyDeletion") {
      m.deletion_date = 0;
      m.pending_window_days = 0;
      m.enabled = false;
    } else if (step == "EnableKey") {
      m.enabled = true;
      // A rotation that fell due while the key could not rotate happens now.
      if (m.rotation_enabled && m.next_rotation < now) m.next_rotation = now;
    } else if (step == "EnableKeyRotation") {
      m.rotation_enabled = true;
      m.next_rotation = now + kKmsRotationPeriod;
    } else if (step == "DisableKeyRotation") {
      m.rotation_enabled = false;
      m.next_rotation = 0;
    } else if (step == "DisableKey") {
      m.enabled = false;
    } else if (step == "ScheduleKeyDeletion") {
      m.enabled = false;
      m.pending_window_days = want.pending_deletion_days;
      m.deletion_date = now + TimeNs{want.pending_deletion_days} * kNsPerDay;
    }
  }
  Status s = WriteKeyFile(rec);
  if (!s.ok()) return refuse(steps.front(), s);
  for (std::string_view step : steps) audit.push_back(Record(now, step, m.arn, uid));
  MutexLock l(mu_);
  keys_.find(m.id)->second = std::move(rec);
  return Status::Ok();
}

Status Kms::Configure(std::string_view key_ref, const KmsKeyConfig& wanted, TimeNs now,
                      std::uint32_t uid) {
  std::vector<KmsAuditRecord> audit;
  Status s = [&] {
    MutexLock admin(admin_mu_);
    return ConfigureLocked(key_ref, wanted, now, uid, audit);
  }();
  Emit(audit);
  return s;
}

// ---- scheduled work ----

Result<TimeNs> Kms::AdvanceLocked(TimeNs now, std::vector<KmsAuditRecord>& audit) {
  auto rotation_due = [](const KmsKey& m, TimeNs t) {
    return m.enabled && m.rotation_enabled && m.next_rotation != 0 && m.next_rotation <= t;
  };
  auto deletion_due = [](const KmsKey& m, TimeNs t) {
    return m.deletion_date != 0 && m.deletion_date <= t;
  };
  std::map<std::string, KeyRecord, std::less<>> work;
  {
    MutexLock l(mu_);
    for (const auto& [id, rec] : keys_) {
      if (rotation_due(rec.meta, now) || deletion_due(rec.meta, now)) work.emplace(id, rec);
    }
  }

  // Events in time order (then by key id); a rotation queues the next one.
  using Event = std::tuple<TimeNs, std::string, bool /*deletion*/>;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> due;
  for (const auto& [id, rec] : work) {
    if (deletion_due(rec.meta, now)) due.emplace(rec.meta.deletion_date, id, true);
    if (rotation_due(rec.meta, now)) due.emplace(rec.meta.next_rotation, id, false);
  }
  std::map<std::string, std::vector<KmsAuditRecord>, std::less<>> records;
  std::set<std::string, std::less<>> deleting;
  while (!due.empty()) {
    auto [t, id, deletion] = due.top();
    due.pop();
    KeyRecord& rec = work.find(id)->second;
    KmsAuditRecord r = Record(t, deletion ? "DeleteKey" : "RotateKey", rec.meta.arn, 0);
    r.by_service = true;
    records[id].push_back(std::move(r));
    if (deletion) {
      deleting.insert(id);
      continue;
    }
    Status s = AddMaterial(rec, t);
    if (!s.ok()) return s;
    rec.meta.next_rotation += kKmsRotationPeriod;
    if (rotation_due(rec.meta, now)) due.emplace(rec.meta.next_rotation, id, false);
  }

  // Each changed key is written once, then installed; a failure keeps what
  // was done before it.
  Status failed;
  for (auto& [id, rec] : work) {
    const bool gone = deleting.contains(id);
    failed = gone ? DeleteKeyFile(id) : WriteKeyFile(rec);
    if (!failed.ok()) break;
    auto& done = records[id];
    audit.insert(audit.end(), done.begin(), done.end());
    MutexLock l(mu_);
    if (gone) {
      aliases_.erase(rec.meta.alias);
      keys_.erase(id);
      deleted_.insert(id);
    } else {
      keys_.find(id)->second = std::move(rec);
    }
  }
  std::stable_sort(audit.begin(), audit.end(),
                   [](const auto& a, const auto& b) { return a.event_time < b.event_time; });
  if (!failed.ok()) return failed;

  TimeNs next = 0;
  MutexLock l(mu_);
  for (const auto& [id, rec] : keys_) {
    const KmsKey& m = rec.meta;
    for (TimeNs t : {m.enabled && m.rotation_enabled ? m.next_rotation : 0, m.deletion_date}) {
      if (t != 0 && (next == 0 || t < next)) next = t;
    }
  }
  return next;
}

Result<TimeNs> Kms::Advance(TimeNs now) {
  std::vector<KmsAuditRecord> audit;
  Result<TimeNs> next = [&] {
    MutexLock admin(admin_mu_);
    return AdvanceLocked(now, audit);
  }();
  Emit(audit);
  return next;
}

// ---- data keys ----

void Kms::SetQuota(double requests_per_second, KmsOptions::QuotaMode mode) {
  MutexLock l(quota_mu_);
  const bool was_off = !(rate_ > 0);
  rate_ = requests_per_second;
  mode_ = mode;
  const double burst = std::max(1.0, rate_);
  tokens_ = was_off ? burst : std::min(tokens_, burst);
}

bool Kms::AcquireQuota() {
  std::int64_t wait_ns = 0;
  {
    MutexLock l(quota_mu_);
    const double rate = rate_;
    if (!(rate > 0)) return true;
    const double burst = std::max(1.0, rate);
    const std::int64_t now = options_.steady_now_ns();
    if (now > refilled_at_ns_) {
      tokens_ = std::min(burst, tokens_ + static_cast<double>(now - refilled_at_ns_) * rate / 1e9);
      refilled_at_ns_ = now;
    }
    if (mode_ == KmsOptions::QuotaMode::kReject) {
      if (tokens_ < 1) return false;
      tokens_ -= 1;
      return true;
    }
    // kPace: take the token now, even into debt, and wait until the debt
    // would have been repaid; later callers queue behind it.
    tokens_ -= 1;
    if (tokens_ < 0) wait_ns = static_cast<std::int64_t>(std::ceil(-tokens_ * 1e9 / rate));
  }
  if (wait_ns > 0) options_.sleep_ns(wait_ns);
  return true;
}

Result<DataKey> Kms::GenerateDataKey(std::string_view key_ref, const EncryptionContext& ctx,
                                     TimeNs now, std::uint32_t uid) {
  KmsAuditRecord rec = Record(now, "GenerateDataKey", "", uid);
  rec.context = ctx;
  rec.billable = true;
  const bool throttled = !AcquireQuota();
  Status s;
  Key material;
  std::string id;
  std::uint32_t version = 0;
  {
    MutexLock l(mu_);
    Result<std::string> found = Resolve(key_ref);
    if (found.ok()) {
      const KeyRecord& k = keys_.find(*found)->second;
      rec.key_arn = k.meta.arn;
      if (k.meta.deletion_date != 0) {
        s = KeyPendingDeletion(k.meta.arn);
      } else if (!k.meta.enabled) {
        s = KeyDisabled(k.meta.arn);
      } else {
        id = k.meta.id;
        version = static_cast<std::uint32_t>(k.materials.size());
        material = k.materials.back().key;
      }
    } else {
      s = found.status();
    }
  }
  if (throttled) {
    s = Status(Code::kKmsThrottling, "Rate exceeded");
    rec.billable = false;
  }
  DataKey out;
  if (s.ok()) {
    Result<Key> data_key = RandomKey();
    Nonce nonce{};
    s = data_key.ok() ? RandomBytes(nonce) : data_key.status();
    const std::string header = BlobHeader(id, version);
    Result<std::string> aad = BlobAad(header, ctx);
    if (s.ok()) s = aad.status();
    if (s.ok()) {
      out.plaintext = *data_key;
      out.key_arn = rec.key_arn;
      out.ciphertext_blob = header;
      out.ciphertext_blob.append(reinterpret_cast<const char*>(nonce.data()), nonce.size());
      s = Seal(material, nonce, *aad,
               std::string_view(reinterpret_cast<const char*>(data_key->bytes.data()), kKeyBytes),
               out.ciphertext_blob);
    }
  }
  rec.error_code = ExceptionName(s);
  Emit({rec});
  if (!s.ok()) return s;
  return out;
}

Result<Key> Kms::Decrypt(std::string_view ciphertext_blob, const EncryptionContext& ctx, TimeNs now,
                         std::uint32_t uid) {
  KmsAuditRecord rec = Record(now, "Decrypt", "", uid);
  rec.context = ctx;
  rec.billable = true;
  const bool throttled = !AcquireQuota();
  Status s;
  std::string_view id;
  std::uint32_t version = 0;
  if (ciphertext_blob.size() != kKmsBlobBytes || !ciphertext_blob.starts_with(kBlobMagic)) {
    s = InvalidCiphertext("the ciphertext blob is not one that KMS made");
  } else {
    id = ciphertext_blob.substr(kBlobMagic.size(), kKmsKeyIdBytes);
    version = LoadFixed32(Bytes(ciphertext_blob.substr(kBlobMagic.size() + kKmsKeyIdBytes)));
    if (!IsKeyId(id)) s = InvalidCiphertext("the ciphertext blob is damaged");
  }
  Key material;
  if (s.ok()) {
    MutexLock l(mu_);
    auto it = keys_.find(id);
    if (it == keys_.end()) {
      if (deleted_.contains(id)) {
        rec.key_arn = KeyArn(id);
        s = KeyNotFound(rec.key_arn);
      } else {
        // Key ids are random: one that never existed is a damaged blob.
        s = InvalidCiphertext("the ciphertext blob is damaged");
      }
    } else {
      const KeyRecord& k = it->second;
      rec.key_arn = k.meta.arn;
      if (k.meta.deletion_date != 0) {
        s = KeyPendingDeletion(k.meta.arn);
      } else if (!k.meta.enabled) {
        s = KeyDisabled(k.meta.arn);
      } else if (version == 0 || version > k.materials.size()) {
        s = InvalidCiphertext("the ciphertext blob is damaged");
      } else {
        material = k.materials[version - 1].key;
      }
    }
  }
  if (throttled) {
    s = Status(Code::kKmsThrottling, "Rate exceeded");
    rec.billable = false;
  }
  Key out;
  if (s.ok()) {
    Nonce nonce{};
    std::copy_n(Bytes(ciphertext_blob.substr(kBlobHeaderBytes)), kNonceBytes, nonce.begin());
    Result<std::string> aad = BlobAad(ciphertext_blob.substr(0, kBlobHeaderBytes), ctx);
    s = aad.status();
    if (s.ok()) {
      s = OpenInto(material, nonce, *aad, ciphertext_blob.substr(kBlobHeaderBytes + kNonceBytes),
                   reinterpret_cast<char*>(out.bytes.data()));
    }
    if (s.code() == Code::kCorrupt) {
      s = InvalidCiphertext(
          "the encryption context is not the one the data key was made with, or the "
          "ciphertext blob is damaged");
    }
  }
  rec.error_code = ExceptionName(s);
  Emit({rec});
  if (!s.ok()) return s;
  return out;
}

}  // namespace shoal::crypto
