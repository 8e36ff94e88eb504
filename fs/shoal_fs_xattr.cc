// ShoalFs: extended attributes — the S3 view of an object (user.s3.*) and
// stored user attributes (user.s3.meta.* is x-amz-meta-*).
#include <sys/xattr.h>

#include <algorithm>

#include "base/coding.h"
#include "fs/object_class.h"
#include "fs/object_tagging.h"
#include "fs/shoal_fs.h"

namespace shoal::fs {

using store::Entry;
using store::EntryKind;
using store::Txn;

namespace {

constexpr std::size_t kMaxUserMetadataBytes = 2048;  // S3's limit on x-amz-meta-*
constexpr std::size_t kMaxXattrValue = std::size_t{64} << 10;
constexpr std::string_view kS3Prefix = "user.s3.";
constexpr std::string_view kMetaPrefix = "user.s3.meta.";
constexpr std::string_view kTaggingXattr = "user.s3.tagging";

// setfattr passes values as given; a trailing newline from a script's
// $(...) or echo is not part of an S3 name.
std::string_view TrimmedValue(std::string_view v) {
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r' || v.back() == ' ')) {
    v.remove_suffix(1);
  }
  return v;
}

bool StartsWith(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

std::string QuotedEtag(const Entry& e) {
  return "\"" + EtagHexOf(e) + "\"";
}

}  // namespace

Result<std::string> ShoalFs::GetXattr(Ino ino, std::string_view name) {
  // Answered without a metadata read: `ls -l` asks for the SELinux label and
  // the POSIX ACL of every entry unless the first answer says "unsupported".
  if (!StartsWith(name, "user.")) {
    return Status(Code::kNotSupported, "only user.* extended attributes are stored");
  }
  if (IsControlId(ino)) {
    if (auto node = control_.Find(ino)) {
      for (const auto& [k, v] : node->file.xattrs) {
        if (k == name) return v;
      }
    }
    return Status(Code::kNoSuchAttribute, "no such attribute");
  }
  if (ino == store::kRootId) return Status(Code::kNoSuchAttribute, "no such attribute");
  auto e = EntryOf(ino);
  if (!e.ok()) return e.status();
  if (e->kind == EntryKind::kFile) {
    if (name == "user.s3.etag") return QuotedEtag(*e);
    if (name == "user.s3.version_id") return e->version_id;
    if (name == "user.s3.storage_class") return e->storage_class;
    if (name == "user.s3.sse") return e->sse;
    if (name == "user.s3.sse_kms_key_id") {
      auto summary = SummarizeEnvelope(e->key_envelope);
      if (!summary.ok()) return summary.status();
      if (summary->kms_key_arn.empty()) return Status(Code::kNoSuchAttribute, "not SSE-KMS");
      return summary->kms_key_arn;
    }
    if (name == "user.s3.restore") {
      std::string header = tiers::RestoreHeader(RestoreAt(*e, clock_.Now()));
      if (header.empty()) return Status(Code::kNoSuchAttribute, "no restore was requested");
      return header;
    }
    if (name == "user.s3.expiration") return ExpirationOf(ino, *e);
  }
  for (const auto& [k, v] : e->xattrs) {
    if (k == name) return v;
  }
  return Status(Code::kNoSuchAttribute, "no such attribute");
}

Result<std::string> ShoalFs::ListXattr(Ino ino) {
  std::string out;
  if (IsControlId(ino)) {
    if (auto node = control_.Find(ino)) {
      for (const auto& [k, v] : node->file.xattrs) {
        out += k;
        out += '\0';
      }
    }
    return out;
  }
  if (ino == store::kRootId) return out;
  auto e = EntryOf(ino);
  if (!e.ok()) return e.status();
  if (e->kind == EntryKind::kFile) {
    for (const char* n :
         {"user.s3.etag", "user.s3.version_id", "user.s3.storage_class", "user.s3.sse"}) {
      out += n;
      out += '\0';
    }
    if (auto summary = SummarizeEnvelope(e->key_envelope);
        summary.ok() && !summary->kms_key_arn.empty()) {
      out += "user.s3.sse_kms_key_id";
      out += '\0';
    }
    if (RestoreAt(*e, clock_.Now()).phase != tiers::RestoreState::Phase::kNone) {
      out += "user.s3.restore";
      out += '\0';
    }
    if (ExpirationOf(ino, *e).ok()) {
      out += "user.s3.expiration";
      out += '\0';
    }
  }
  for (const auto& [k, v] : e->xattrs) {
    out += k;
    out += '\0';
  }
  return out;
}

Status ShoalFs::SetXattr(Ino ino, std::string_view name, std::string_view value, int flags) {
  if (IsControlId(ino) || ino == store::kRootId) {
    return {Code::kNotSupported, "control files have no extended attributes"};
  }
  if (!StartsWith(name, "user.")) {
    return {Code::kNotSupported, "only user.* extended attributes are stored"};
  }
  if (StartsWith(name, kS3Prefix) && !StartsWith(name, kMetaPrefix)) {
    if (name == "user.s3.etag" || name == "user.s3.version_id" || name == "user.s3.expiration") {
      return InvalidArgument(std::string(name) + " is read-only");
    }
    if (name == "user.s3.storage_class") {
      auto cls = tiers::ParseStorageClass(TrimmedValue(value));
      if (!cls) {
        return {Code::kInvalidStorageClass, "The storage class you specified is not valid"};
      }
      return ChangeStorageClass(ino, *cls);
    }
    if (name == "user.s3.restore") return RequestRestore(ino, value);
    if (name == "user.s3.tagging") return SetTagging(ino, value);
    if (name == "user.s3.sse" || name == "user.s3.sse_kms_key_id") {
      return ChangeEncryption(ino, name, TrimmedValue(value));
    }
    return InvalidArgument(std::string(name) + " is not an S3 attribute");
  }
  if (name.size() > 255) return {Code::kRange, "attribute name too long"};
  if (value.size() > kMaxXattrValue) return {Code::kEntityTooLarge, "attribute value too large"};
  TimeNs now = clock_.Now();
  return meta_->Update([&](Txn& txn) -> Status {
    auto e = EntryAt(txn, ino);
    if (!e.ok()) return e.status();
    auto& attrs = e->xattrs;
    auto it = std::lower_bound(attrs.begin(), attrs.end(), name,
                               [](const auto& kv, std::string_view n) { return kv.first < n; });
    bool exists = it != attrs.end() && it->first == name;
    if ((flags & XATTR_CREATE) != 0 && exists) return {Code::kAlreadyExists, "attribute exists"};
    if ((flags & XATTR_REPLACE) != 0 && !exists) {
      return {Code::kNoSuchAttribute, "no such attribute"};
    }
    if (exists) {
      it->second = std::string(value);
    } else {
      attrs.insert(it, {std::string(name), std::string(value)});
    }
    std::size_t meta_bytes = 0;
    for (const auto& [k, v] : attrs) {
      if (StartsWith(k, kMetaPrefix)) meta_bytes += k.size() - kMetaPrefix.size() + v.size();
    }
    if (meta_bytes > kMaxUserMetadataBytes) {
      return InvalidArgument(
          "MetadataTooLarge: Your metadata headers exceed the maximum allowed metadata size "
          "(2 KB)");
    }
    e->ctime = now;
    auto where = inodes_.Where(ino);
    return txn.Put(where->parent, where->name, *e);
  });
}

Status ShoalFs::SetTagging(Ino ino, std::string_view value) {
  auto tags = ParseTagging(value);
  if (!tags.ok()) return tags.status();
  const std::string canonical = FormatTagging(*tags);
  TimeNs now = clock_.Now();
  return meta_->Update([&](Txn& txn) -> Status {
    auto e = EntryAt(txn, ino);
    if (!e.ok()) return e.status();
    if (e->kind != EntryKind::kFile) return {Code::kNotSupported, "only objects have tags"};
    auto& attrs = e->xattrs;
    auto it = std::lower_bound(attrs.begin(), attrs.end(), kTaggingXattr,
                               [](const auto& kv, std::string_view n) { return kv.first < n; });
    const bool exists = it != attrs.end() && it->first == kTaggingXattr;
    if (canonical.empty()) {
      if (exists) attrs.erase(it);
    } else if (exists) {
      it->second = canonical;
    } else {
      attrs.insert(it, {std::string(kTaggingXattr), canonical});
    }
    e->ctime = now;
    auto where = inodes_.Where(ino);
    Status s = txn.Put(where->parent, where->name, *e);
    if (!s.ok()) return s;
    // Tag filters may now select it, or no longer.
    return ScheduleClassWork(txn, *e);
  });
}

Status ShoalFs::RemoveXattr(Ino ino, std::string_view name) {
  if (IsControlId(ino) || ino == store::kRootId) {
    return {Code::kNotSupported, "control files have no extended attributes"};
  }
  if (StartsWith(name, kS3Prefix) && !StartsWith(name, kMetaPrefix)) {
    return InvalidArgument(std::string(name) + " cannot be removed");
  }
  TimeNs now = clock_.Now();
  return meta_->Update([&](Txn& txn) -> Status {
    auto e = EntryAt(txn, ino);
    if (!e.ok()) return e.status();
    auto& attrs = e->xattrs;
    auto it =
        std::find_if(attrs.begin(), attrs.end(), [&](const auto& kv) { return kv.first == name; });
    if (it == attrs.end()) return {Code::kNoSuchAttribute, "no such attribute"};
    attrs.erase(it);
    e->ctime = now;
    auto where = inodes_.Where(ino);
    return txn.Put(where->parent, where->name, *e);
  });
}

}  // namespace shoal::fs
