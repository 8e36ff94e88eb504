// ShoalFs: the simulated KMS (DESIGN §2.4) as files.
//   MNT/.kms/keys/NAME/          a customer managed key, alias/NAME:
//                                mkdir creates it; rmdir is refused (KMS
//                                deletes only after a waiting period: write
//                                PendingDeletionDays to config.json)
//   MNT/.kms/keys/NAME/config.json  the key: Enabled, KeyRotationEnabled,
//                                PendingDeletionDays (read, replace whole)
//   MNT/.kms/keys/aws/s3/        the AWS managed key, once S3 has used it
//   MNT/.kms/quota.json          {"RequestsPerSecond": N, "Mode": "pace"|"reject"}
// Every KMS call lands in .shoal/audit.log and, if billable, on the bill.

#include <unistd.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "crypto/kms_config.h"
#include "fs/shoal_fs.h"

namespace shoal::fs {

using store::Entry;
using store::EntryKind;
using store::Txn;
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kQuotaState = "kms_quota";
constexpr double kDefaultRequestsPerSecond = 50000;
constexpr double kMaxRequestsPerSecond = 1e9;
constexpr std::string_view kAliasPrefix = "alias/";

thread_local std::uint32_t request_uid = ::getuid();

struct Quota {
  double requests_per_second = kDefaultRequestsPerSecond;
  crypto::KmsOptions::QuotaMode mode = crypto::KmsOptions::QuotaMode::kPace;
};

std::string QuotaJson(const Quota& q) {
  Json j;
  j["RequestsPerSecond"] = q.requests_per_second;
  j["Mode"] = q.mode == crypto::KmsOptions::QuotaMode::kPace ? "pace" : "reject";
  return j.dump(2) + "\n";
}

Result<Quota> ParseQuota(std::string_view text) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status(Code::kMalformedJson, "quota.json must be a JSON object");
  }
  Quota q;
  for (const auto& [name, value] : j.items()) {
    if (name == "RequestsPerSecond") {
      if (!value.is_number() || !(value.get<double>() >= 1) ||
          value.get<double>() > kMaxRequestsPerSecond) {
        return InvalidArgument("RequestsPerSecond must be a number from 1 to 1e9");
      }
      q.requests_per_second = value.get<double>();
    } else if (name == "Mode") {
      if (value == "pace") {
        q.mode = crypto::KmsOptions::QuotaMode::kPace;
      } else if (value == "reject") {
        q.mode = crypto::KmsOptions::QuotaMode::kReject;
      } else {
        return InvalidArgument(
            "Mode must be \"pace\" (wait for the quota) or \"reject\" "
            "(ThrottlingException)");
      }
    } else {
      return InvalidArgument("quota.json has no member " + name +
                             " (RequestsPerSecond and Mode are known)");
    }
  }
  return q;
}

}  // namespace

void SetRequestUid(std::uint32_t uid) {
  request_uid = uid;
}

std::uint32_t RequestUid() {
  return request_uid;
}

Status ShoalFs::OpenKms() {
  Status s = audit_log_.Open(dir_->path() + "/audit.log");
  if (!s.ok()) return s;
  std::optional<std::string> saved;
  s = meta_->View([&](Txn& txn) {
    auto got = txn.GetState(kQuotaState);
    if (!got.ok()) return got.status();
    saved = std::move(*got);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  Quota quota;
  if (saved) {
    auto parsed = ParseQuota(*saved);
    if (!parsed.ok()) return Corrupt("saved KMS quota: " + parsed.status().message());
    quota = *parsed;
  }
  crypto::KmsOptions options;
  options.requests_per_second = quota.requests_per_second;
  options.quota_mode = quota.mode;
  options.audit = [this](const crypto::KmsAuditRecord& r) { OnKmsCall(r); };
  auto kms = crypto::Kms::Open(dir_->path() + "/kms", *root_key_, std::move(options));
  if (!kms.ok()) return kms.status();
  kms_ = std::move(*kms);
  content_keys_ = std::make_unique<ContentKeys>(*root_key_, *kms_);
  return Status::Ok();
}

void ShoalFs::CountKmsKeys(TimeNs now) {
  std::uint32_t billed = 0;
  for (const crypto::KmsKey& k : kms_->List()) {
    if (!k.aws_managed && k.deletion_date == 0) ++billed;
  }
  meter_->SetKmsKeys(billed, now);
}

void ShoalFs::OnKmsCall(const crypto::KmsAuditRecord& r) {
  Status s = audit_log_.Append(crypto::AuditJsonLine(r));
  if (!s.ok()) errors_.Record(".shoal/audit.log", s);
  if (meter_) {
    if (r.billable) meter_->KmsRequests(r.event_time);
    if (r.error_code.empty() &&
        (r.event_name == "CreateKey" || r.event_name == "ScheduleKeyDeletion" ||
         r.event_name == "CancelKeyDeletion" || r.event_name == "DeleteKey")) {
      CountKmsKeys(r.event_time);
    }
  }
  // A key that stops working must stop working now, Bucket Keys included.
  if (r.error_code.empty() &&
      (r.event_name == "DisableKey" || r.event_name == "ScheduleKeyDeletion" ||
       r.event_name == "DeleteKey" || r.event_name == "RotateKey") &&
      content_keys_) {
    content_keys_->ForgetBucketKeys();
  }
}

Status ShoalFs::AdvanceKms(TimeNs t) {
  auto next = kms_->Advance(t);
  return next.status();
}

void ShoalFs::BuildKmsTree(NodeId kms_dir) {
  (void)control_.AddDir(
      kms_dir, "keys",
      {.make = [this](ControlTree& tree, NodeId dir, std::string_view name) -> Status {
         if (name == "aws") {
           return InvalidArgument(
               "NotAuthorizedException: alias/aws/ is reserved for AWS managed keys");
         }
         auto key = kms_->CreateKey(name, clock_.Now(), RequestUid());
         if (!key.ok()) return key.status();
         RefreshKmsKeys(tree, dir);
         return Status::Ok();
       },
       .remove = [](ControlTree&, NodeId, std::string_view) -> Status {
         return {Code::kNotPermitted,
                 "KMS deletes a key only after a waiting period: write "
                 "{\"PendingDeletionDays\": 7..30} to its config.json"};
       },
       .refresh = [this](ControlTree& tree, NodeId dir) { RefreshKmsKeys(tree, dir); }});
  (void)control_.AddFile(
      kms_dir, "quota.json",
      {.read = [this] { return ReadKmsQuota(); },
       .replace = [this](std::string_view json) { return ReplaceKmsQuota(json); }});
}

void ShoalFs::RefreshKmsKeys(ControlTree& tree, NodeId keys_dir) {
  // Wanted: alias path below keys/ ("k1", "aws/s3") -> key id.
  std::map<std::string, std::string> wanted;
  for (const crypto::KmsKey& k : kms_->List()) {
    std::string_view alias = k.alias;
    if (alias.starts_with(kAliasPrefix)) alias.remove_prefix(kAliasPrefix.size());
    wanted.emplace(std::string(alias), k.id);
  }
  // Directories for each alias component; config.json in the last one.
  std::set<NodeId> keep;
  for (const auto& [alias, id] : wanted) {
    NodeId dir = keys_dir;
    std::size_t start = 0;
    for (;;) {
      const std::size_t slash = alias.find('/', start);
      const std::string part =
          alias.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
      auto node = tree.Lookup(dir, part);
      if (!node) {
        auto made = tree.AddDir(dir, part, {});
        if (!made.ok()) break;
        dir = *made;
      } else {
        dir = node->id;
      }
      keep.insert(dir);
      if (slash == std::string::npos) break;
      start = slash + 1;
    }
    if (!tree.Lookup(dir, "config.json")) {
      const std::string key_id = id;
      (void)tree.AddFile(
          dir, "config.json",
          {.read = [this, key_id]() -> Result<std::string> {
             auto key = kms_->Describe(key_id);
             if (!key.ok()) return key.status();
             return crypto::KmsKeyConfigJson(*key);
           },
           .replace = [this, key_id](
                          std::string_view json) { return ReplaceKmsKeyConfig(key_id, json); }});
    }
  }
  // Keys deleted since: their directories go (deepest first).
  std::vector<NodeId> stack{keys_dir};
  std::vector<NodeId> gone;
  while (!stack.empty()) {
    const NodeId dir = stack.back();
    stack.pop_back();
    for (const auto& child : tree.List(dir)) {
      if (!child->is_dir) continue;
      if (keep.count(child->id) == 0) {
        gone.push_back(child->id);
      } else {
        stack.push_back(child->id);
      }
    }
  }
  for (NodeId id : gone) (void)tree.Remove(id);
}

Status ShoalFs::ReplaceKmsKeyConfig(const std::string& key_id, std::string_view json) {
  auto key = kms_->Describe(key_id);
  if (!key.ok()) return key.status();
  auto wanted = crypto::ParseKmsKeyConfig(json, *key);
  if (!wanted.ok()) return wanted.status();
  return kms_->Configure(key_id, *wanted, clock_.Now(), RequestUid());
}

Result<std::string> ShoalFs::ReadKmsQuota() {
  std::optional<std::string> saved;
  Status s = meta_->View([&](Txn& txn) {
    auto got = txn.GetState(kQuotaState);
    if (!got.ok()) return got.status();
    saved = std::move(*got);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  if (!saved) return QuotaJson(Quota{});
  auto parsed = ParseQuota(*saved);
  if (!parsed.ok()) return parsed.status();
  return QuotaJson(*parsed);
}

Status ShoalFs::ReplaceKmsQuota(std::string_view json) {
  auto quota = ParseQuota(json);
  if (!quota.ok()) return quota.status();
  const std::string canonical = QuotaJson(*quota);
  Status s = meta_->Update([&](Txn& txn) { return txn.PutState(kQuotaState, canonical); });
  if (!s.ok()) return s;
  kms_->SetQuota(quota->requests_per_second, quota->mode);
  return Status::Ok();
}

}  // namespace shoal::fs
