#pragma once
// A KMS key's configuration document (the key's config.json): what a user
// may change about a key, how such a document is read, and how a key is
// printed.
//
// The printed document holds the key's read-only facts too (KeyId, Arn,
// ...), so that a user can edit it in place: the parser accepts a read-only
// member whose value is the one printed and refuses a changed one.
//
// Thread-safety: plain functions over values; safe from any thread.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace shoal::crypto {

struct KmsKey;  // crypto/kms.h

// The wanted state of a key, as Kms::Configure applies it.
struct KmsKeyConfig {
  bool enabled = true;
  bool key_rotation_enabled = false;
  // 0: not pending deletion (or: cancel a pending deletion); else 7..30, the
  // waiting period before the key is deleted.
  std::int32_t pending_deletion_days = 0;

  friend bool operator==(const KmsKeyConfig&, const KmsKeyConfig&) = default;
};

inline constexpr std::int32_t kMinPendingWindowDays = 7;
inline constexpr std::int32_t kMaxPendingWindowDays = 30;
// A configuration document longer than this is refused before parsing.
inline constexpr std::size_t kMaxKmsKeyConfigBytes = 16 * 1024;

// The configuration `key` has now: its Enabled flag (false while pending
// deletion, as DescribeKey says), its rotation setting (kept while pending
// deletion, and back in force when the deletion is cancelled) and its
// waiting period (0 unless pending deletion).
KmsKeyConfig CurrentKmsKeyConfig(const KmsKey& key);

// OK when `days` is 0 or 7..30; else InvalidArgument with KMS's wording:
// "1 validation error detected: Value '5' at 'pendingWindowInDays' failed to
// satisfy constraint: Member must have value greater than or equal to 7"
// (or "less than or equal to 30").
Status ValidatePendingWindowDays(std::int64_t days);

// The configuration that the document `json` asks for, starting from
// CurrentKmsKeyConfig(current): a JSON object whose members are all
// optional; a member that is absent keeps its current value.
//   Enabled             bool
//   KeyRotationEnabled  bool
//   PendingDeletionDays integer, 0 or 7..30
// plus the read-only members that KmsKeyConfigJson prints (KeyId, Arn,
// AliasName, KeyState, KeyManager, CreationDate, NextRotationDate,
// DeletionDate), accepted only with the value printed for `current`.
// Errors: kMalformedJson for text that is not JSON, a value that is not an
// object, an unknown member or a member of the wrong type; kInvalidArgument
// for a document over kMaxKmsKeyConfigBytes, a waiting period out of range
// (ValidatePendingWindowDays) or a changed read-only member.
// Whether the change is allowed for this key (AWS-managed, pending
// deletion, ...) is Kms::Configure's to decide.
Result<KmsKeyConfig> ParseKmsKeyConfig(std::string_view json, const KmsKey& current);

// `key` as a pretty JSON object (two-space indents) ending in a newline,
// members in this order: KeyId, Arn, AliasName, KeyState, Enabled,
// KeyManager ("CUSTOMER" or "AWS"), CreationDate, KeyRotationEnabled,
// NextRotationDate (when rotation is on and the key is not pending
// deletion), PendingDeletionDays and DeletionDate (when pending deletion).
// Times are ISO-8601 UTC to the second ("2026-11-26T13:30:00Z").
std::string KmsKeyConfigJson(const KmsKey& key);

}  // namespace shoal::crypto
