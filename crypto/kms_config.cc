#include "crypto/kms_config.h"

#include <array>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/json_text.h"
#include "crypto/kms.h"

namespace shoal::crypto {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

constexpr std::string_view kWritable = "Enabled, KeyRotationEnabled, PendingDeletionDays";
constexpr std::array<std::string_view, 8> kReadOnly = {
    "KeyId",      "Arn",          "AliasName",        "KeyState",
    "KeyManager", "CreationDate", "NextRotationDate", "DeletionDate"};

Status Malformed(std::string msg) {
  return {Code::kMalformedJson, std::move(msg)};
}

OrderedJson KeyDocument(const KmsKey& key) {
  const bool pending = key.deletion_date != 0;
  OrderedJson j;
  j["KeyId"] = key.id;
  j["Arn"] = key.arn;
  j["AliasName"] = key.alias;
  j["KeyState"] = key.KeyState();
  j["Enabled"] = key.enabled;
  j["KeyManager"] = key.aws_managed ? "AWS" : "CUSTOMER";
  j["CreationDate"] = FormatIso8601(key.created);
  j["KeyRotationEnabled"] = key.rotation_enabled;
  if (key.rotation_enabled && key.next_rotation != 0 && !pending) {
    j["NextRotationDate"] = FormatIso8601(key.next_rotation);
  }
  if (pending) {
    j["PendingDeletionDays"] = key.pending_window_days;
    j["DeletionDate"] = FormatIso8601(key.deletion_date);
  }
  return j;
}

Status ValidationError(std::string_view value, std::string_view constraint) {
  return InvalidArgument("1 validation error detected: Value '" + std::string(value) +
                         "' at 'pendingWindowInDays' failed to satisfy constraint: Member must "
                         "have value " +
                         std::string(constraint));
}

Status ReadBool(const Json& value, std::string_view name, bool& out) {
  if (!value.is_boolean()) return Malformed(std::string(name) + " must be true or false");
  out = value.get<bool>();
  return Status::Ok();
}

}  // namespace

KmsKeyConfig CurrentKmsKeyConfig(const KmsKey& key) {
  return {.enabled = key.enabled,
          .key_rotation_enabled = key.rotation_enabled,
          .pending_deletion_days = key.pending_window_days};
}

Status ValidatePendingWindowDays(std::int64_t days) {
  if (days == 0) return Status::Ok();
  if (days < kMinPendingWindowDays) {
    return ValidationError(std::to_string(days), "greater than or equal to 7");
  }
  if (days > kMaxPendingWindowDays) {
    return ValidationError(std::to_string(days), "less than or equal to 30");
  }
  return Status::Ok();
}

Result<KmsKeyConfig> ParseKmsKeyConfig(std::string_view json, const KmsKey& current) {
  if (json.size() > kMaxKmsKeyConfigBytes) {
    return InvalidArgument("the key configuration is " + std::to_string(json.size()) +
                           " bytes; at most " + std::to_string(kMaxKmsKeyConfigBytes) +
                           " are allowed");
  }
  auto document = ParseJsonDocument(json);
  if (!document.ok()) return document.status();
  const Json& doc = *document;
  if (!doc.is_object()) {
    return Malformed("the key configuration must be a JSON object such as {\"Enabled\": false}");
  }
  const OrderedJson printed = KeyDocument(current);
  KmsKeyConfig out = CurrentKmsKeyConfig(current);
  for (const auto& item : doc.items()) {
    const std::string& name = item.key();
    const Json& value = item.value();
    if (name == "Enabled") {
      Status s = ReadBool(value, name, out.enabled);
      if (!s.ok()) return s;
    } else if (name == "KeyRotationEnabled") {
      Status s = ReadBool(value, name, out.key_rotation_enabled);
      if (!s.ok()) return s;
    } else if (name == "PendingDeletionDays") {
      if (!value.is_number_integer()) {
        return Malformed(
            "PendingDeletionDays must be a whole number of days: 7 to 30 to "
            "schedule the key's deletion, 0 for none (or to cancel one)");
      }
      if (value.is_number_unsigned() &&
          value.get<std::uint64_t>() > static_cast<std::uint64_t>(kMaxPendingWindowDays)) {
        return ValidationError(value.dump(), "less than or equal to 30");
      }
      const auto days = value.get<std::int64_t>();
      Status s = ValidatePendingWindowDays(days);
      if (!s.ok()) return s;
      out.pending_deletion_days = static_cast<std::int32_t>(days);
    } else if (std::find(kReadOnly.begin(), kReadOnly.end(), name) != kReadOnly.end()) {
      const auto shown = printed.find(name);
      if (shown == printed.end()) {
        return InvalidArgument(name + " is read-only, and this key has none; change " +
                               std::string(kWritable) + " instead");
      }
      if (!value.is_string() || value.get<std::string>() != shown->get<std::string>()) {
        return InvalidArgument(name + " is read-only (it is " +
                               QuoteForMessage(shown->get<std::string>()) +
                               " for this key); change " + std::string(kWritable) + " instead");
      }
    } else {
      return Malformed("Unknown field " + QuoteForMessage(name) +
                       " in the key configuration (expected " + std::string(kWritable) + ")");
    }
  }
  return out;
}

std::string KmsKeyConfigJson(const KmsKey& key) {
  std::string text = KeyDocument(key).dump(2, ' ', false, OrderedJson::error_handler_t::replace);
  text += '\n';
  return text;
}

}  // namespace shoal::crypto
