#include "lifecycle/lifecycle_config.h"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "base/sim_clock.h"
#include "tiers/json_document.h"
#include "tiers/restore.h"

// Where the messages come from. S3 documents almost none of its lifecycle
// errors. Unless marked otherwise below, a text is one S3 was seen to
// answer, quoted in public bug reports, Terraform / CloudFormation / boto
// logs, or LocalStack's snapshots validated against AWS:
//   "Rule ID must be unique. Found same ID for more than one rule",
//   "ID length should not exceed allowed limit of 255",
//   "'Days' in Transition action must be greater than or equal to 30 for
//   storageClass 'STANDARD_IA'", "'Date' must be at midnight GMT",
//   "'Days' for Expiration action must be a positive integer",
//   "'NoncurrentDays' for NoncurrentVersionExpiration action must be a
//   positive integer", "At least one action needs to be specified in a rule",
//   "AbortIncompleteMultipartUpload cannot be specified with Tags." (and
//   "... with Object Size."), "ExpiredObjectDeleteMarker cannot be specified
//   with Object Size.", "Duplicate Tag Keys are not allowed.",
//   "'ObjectSizeLessThan' should be between 1 and 1099511627776000.",
//   "'ObjectSizeLessThan' has to be a value greater than
//   'ObjectSizeGreaterThan'.", "'StorageClass' must be different for
//   'Transition' actions in same 'Rule' with filter '(prefix=)'", "Found
//   mixed 'Date' and 'Days' based Expiration and Transition actions in
//   lifecycle rule for filter '(prefix=)'", "'Days' in the Expiration action
//   for filter '(prefix=)' must be greater than 'Days' in the Transition
//   action", "'Days' in the 'Transition' action for StorageClass
//   'DEEP_ARCHIVE' for filter '(prefix=)' must be 90 days more than 'filter
//   '(prefix=)'' in the 'Transition' action for StorageClass 'GLACIER'" (and
//   "... 'GLACIER_IR'"), "Filter element can only be used in Lifecycle V2.",
//   "Base level prefix cannot be used in Lifecycle V2, prefixes are only
//   supported in the Filter.", "NewerNoncurrentVersions element can only be
//   used in Lifecycle V2.", "Found overlapping prefixes '' and 'a' for same
//   action type 'Expiration'", "Found two rules with same prefix '...'",
//   "Invalid TransitionDefaultMinimumObjectSize found: ...", and the
//   MalformedXML sentence.
// From S3's error-code table (InvalidRequest): "At least one lifecycle rule
// must be specified.", "The number of lifecycle rules must not exceed the
// allowed limit of 1000 rules."
// By analogy with a recorded sibling, or as S3 clones that copy S3's texts
// word them (Scality, NooBaa, OpenIO): the NoncurrentVersionTransition, Date
// and ObjectSizeGreaterThan variants of the recorded texts, "Found mixed
// 'Date' and 'Days' based Transition actions ...", "ExpiredObjectDeleteMarker
// cannot be specified with Tags.", "'DaysAfterInitiation' for
// AbortIncompleteMultipartUpload action must be a positive integer",
// "'NewerNoncurrentVersions' for ... must be a positive integer", "'Days' in
// Transition action must be nonnegative", "Invalid target Storage class for
// Transition action", "... must be at least one day apart from ..." (S3's
// older wording of the transition gap), the tag texts (S3's
// PutObjectTagging wording), and how a filter with tags or sizes is named.
// shoal's own, where S3 has no known text: NewerNoncurrentVersions over
// 100, GLACIER_IR after ONEZONE_IA in one rule, JSON syntax errors, and the
// detail in parentheses after the MalformedXML sentence.

namespace shoal::lifecycle {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;
using tiers::StorageClass;

constexpr std::string_view kSchemaSentence =
    "The XML you provided was not well-formed or did not validate against our published schema";
constexpr std::string_view kAll128KName = "all_storage_classes_128K";
constexpr std::string_view kVariesName = "varies_by_storage_class";
constexpr std::string_view kReducedRedundancy = "REDUCED_REDUNDANCY";

// S3 answers MalformedXML with one fixed sentence; the detail says where.
Status Malformed(const std::string& detail) {
  return {Code::kMalformedXml, std::string(kSchemaSentence) + " (" + detail + ")"};
}

Status BadRequest(std::string msg) {
  return {Code::kInvalidRequest, std::move(msg)};
}

// User text inside an S3-worded message, which quotes it bare: printable
// ASCII only and at most 64 characters, as QuoteForMessage does, so that a
// hostile value cannot break the one-line-per-error log.
std::string Bare(std::string_view text) {
  const std::string quoted = QuoteForMessage(text);
  return quoted.substr(1, quoted.size() - 2);
}

std::string Path(std::string_view where, std::string_view member) {
  std::string out(where);
  if (!out.empty()) out += '.';
  out += member;
  return out;
}

std::string Path(std::string_view where, std::size_t index) {
  return std::string(where) + "[" + std::to_string(index) + "]";
}

// The member `name` of the object `obj`, or nullptr.
const Json* Member(const Json& obj, std::string_view name) {
  const auto it = obj.find(name);
  return it == obj.end() ? nullptr : &*it;
}

Status OnlyMembers(const Json& obj, std::initializer_list<std::string_view> allowed,
                   std::string_view where) {
  const std::optional<std::string> unknown = tiers::FirstUnknownMember(obj, allowed);
  if (!unknown) return Status::Ok();
  return Malformed("unknown member " + QuoteForMessage(*unknown) + " in " +
                   std::string(where.empty() ? "the document" : where) + "; expected " +
                   tiers::JoinNames(allowed));
}

Status NeedObject(const Json& v, std::string_view where) {
  if (!v.is_object()) return Malformed(std::string(where) + " must be a JSON object");
  return Status::Ok();
}

Status ReadString(const Json& v, std::string_view where, std::string* out) {
  if (!v.is_string()) return Malformed(std::string(where) + " must be a string");
  *out = v.get<std::string>();
  return Status::Ok();
}

// An integer of the range [lo, hi] (S3's xs:int and xs:long).
Status ReadInteger(const Json& v, std::string_view where, std::int64_t lo, std::int64_t hi,
                   std::int64_t* out) {
  bool ok = false;
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    ok = u <= static_cast<std::uint64_t>(hi);
    if (ok) *out = static_cast<std::int64_t>(u);
  } else if (v.is_number_integer()) {
    *out = v.get<std::int64_t>();
    ok = *out >= lo && *out <= hi;
  }
  if (!ok) {
    return Malformed(std::string(where) + " must be an integer from " + std::to_string(lo) +
                     " to " + std::to_string(hi));
  }
  return Status::Ok();
}

Status ReadInt32(const Json& v, std::string_view where, std::int32_t* out) {
  std::int64_t n = 0;
  Status s = ReadInteger(v, where, std::numeric_limits<std::int32_t>::min(),
                         std::numeric_limits<std::int32_t>::max(), &n);
  if (!s.ok()) return s;
  *out = static_cast<std::int32_t>(n);
  return Status::Ok();
}

Status ReadLong(const Json& v, std::string_view where, std::int64_t* out) {
  return ReadInteger(v, where, std::numeric_limits<std::int64_t>::min(),
                     std::numeric_limits<std::int64_t>::max(), out);
}

// An ISO 8601 time (S3's xs:dateTime); whether it is a midnight is checked
// later, as S3 answers that with InvalidArgument.
Status ReadDate(const Json& v, std::string_view where, TimeNs* out) {
  std::string text;
  Status s = ReadString(v, where, &text);
  if (!s.ok()) return s;
  Result<TimeNs> t = ParseIso8601(text);
  if (!t.ok()) {
    return Malformed(std::string(where) + " must be an ISO 8601 time such as " +
                     "2026-01-01T00:00:00.000Z, not " + QuoteForMessage(text));
  }
  *out = *t;
  return Status::Ok();
}

// A rule as the document gives it: its schema is checked, its values not
// yet. S3 checks the whole document against its schema (MalformedXML)
// before it looks at any value, so values wait for the second pass.
struct GivenRule {
  Rule rule;                // everything but the filter's sizes and the classes
  bool has_filter = false;  // "Filter" (else the rule-level "Prefix")
  std::optional<std::int64_t> greater_than;
  std::optional<std::int64_t> less_than;
  std::vector<std::string> transition_classes;  // StorageClass names, as given
  std::vector<std::string> noncurrent_classes;
  bool marker_given = false;  // Expiration.ExpiredObjectDeleteMarker
};

Status ReadTag(const Json& j, std::string_view where, Tag* tag) {
  Status s = NeedObject(j, where);
  if (!s.ok()) return s;
  s = OnlyMembers(j, {"Key", "Value"}, where);
  if (!s.ok()) return s;
  const Json* key = Member(j, "Key");
  const Json* value = Member(j, "Value");
  if (key == nullptr || value == nullptr) {
    return Malformed(std::string(where) + " needs both Key and Value");
  }
  s = ReadString(*key, Path(where, "Key"), &tag->key);
  if (!s.ok()) return s;
  return ReadString(*value, Path(where, "Value"), &tag->value);
}

Status ReadFilter(const Json& j, std::string_view where, GivenRule* g) {
  Status s = NeedObject(j, where);
  if (!s.ok()) return s;
  s = OnlyMembers(j, {"Prefix", "Tag", "ObjectSizeGreaterThan", "ObjectSizeLessThan", "And"},
                  where);
  if (!s.ok()) return s;
  // "A Filter must have exactly one of Prefix, Tag, ObjectSizeGreaterThan,
  // ObjectSizeLessThan, or And specified" (or none: the whole bucket).
  if (j.size() > 1) {
    return Malformed(std::string(where) +
                     " may hold only one of Prefix, Tag, ObjectSizeGreaterThan, "
                     "ObjectSizeLessThan and And; combine predicates in And");
  }
  Filter& f = g->rule.filter;
  const Json* node = &j;
  std::string node_where(where);
  const Json* conj = Member(j, "And");
  if (conj != nullptr) {
    node_where = Path(where, "And");
    s = NeedObject(*conj, node_where);
    if (!s.ok()) return s;
    s = OnlyMembers(*conj, {"Prefix", "Tags", "ObjectSizeGreaterThan", "ObjectSizeLessThan"},
                    node_where);
    if (!s.ok()) return s;
    node = conj;
  }
  if (const Json* p = Member(*node, "Prefix")) {
    std::string prefix;
    s = ReadString(*p, Path(node_where, "Prefix"), &prefix);
    if (!s.ok()) return s;
    f.prefix = std::move(prefix);
  }
  if (const Json* t = Member(*node, "Tag")) {
    Tag tag;
    s = ReadTag(*t, Path(node_where, "Tag"), &tag);
    if (!s.ok()) return s;
    f.tags.push_back(std::move(tag));
  }
  if (const Json* tags = Member(*node, "Tags")) {
    const std::string tags_where = Path(node_where, "Tags");
    if (!tags->is_array()) return Malformed(tags_where + " must be an array");
    f.tags.reserve(tags->size());
    for (std::size_t i = 0; i < tags->size(); ++i) {
      Tag tag;
      s = ReadTag((*tags)[i], Path(tags_where, i), &tag);
      if (!s.ok()) return s;
      f.tags.push_back(std::move(tag));
    }
  }
  if (const Json* v = Member(*node, "ObjectSizeGreaterThan")) {
    std::int64_t n = 0;
    s = ReadLong(*v, Path(node_where, "ObjectSizeGreaterThan"), &n);
    if (!s.ok()) return s;
    g->greater_than = n;
  }
  if (const Json* v = Member(*node, "ObjectSizeLessThan")) {
    std::int64_t n = 0;
    s = ReadLong(*v, Path(node_where, "ObjectSizeLessThan"), &n);
    if (!s.ok()) return s;
    g->less_than = n;
  }
  if (conj != nullptr) {
    const std::size_t predicates = (f.prefix ? 1u : 0u) + f.tags.size() +
                                   (g->greater_than ? 1u : 0u) + (g->less_than ? 1u : 0u);
    if (predicates < 2) {
      return Malformed(node_where + " must combine at least two predicates");
    }
  }
  return Status::Ok();
}

Status ReadExpiration(const Json& j, std::string_view where, GivenRule* g) {
  Status s = NeedObject(j, where);
  if (!s.ok()) return s;
  s = OnlyMembers(j, {"Date", "Days", "ExpiredObjectDeleteMarker"}, where);
  if (!s.ok()) return s;
  // "ExpiredObjectDeleteMarker ... cannot be specified with Days or Date"
  // (S3 answers MalformedXML), and Days and Date are a choice.
  if (j.size() != 1) {
    return Malformed(std::string(where) +
                     " must hold exactly one of Days, Date and ExpiredObjectDeleteMarker");
  }
  Expiration e;
  if (const Json* v = Member(j, "Days")) {
    std::int32_t days = 0;
    s = ReadInt32(*v, Path(where, "Days"), &days);
    if (!s.ok()) return s;
    e.days = days;
  } else if (const Json* d = Member(j, "Date")) {
    TimeNs date = 0;
    s = ReadDate(*d, Path(where, "Date"), &date);
    if (!s.ok()) return s;
    e.date = date;
  } else if (const Json* m = Member(j, "ExpiredObjectDeleteMarker")) {
    if (!m->is_boolean()) {
      return Malformed(Path(where, "ExpiredObjectDeleteMarker") + " must be true or false");
    }
    e.expired_object_delete_marker = m->get<bool>();
    g->marker_given = true;
  }
  g->rule.expiration = e;
  return Status::Ok();
}

// The StorageClass of a transition: one of the names S3 knows; whether it
// is a valid target is a value check (S3 answers InvalidArgument for
// STANDARD).
Status ReadClass(const Json& j, std::string_view where, std::vector<std::string>* names) {
  const Json* v = Member(j, "StorageClass");
  if (v == nullptr) return Malformed(std::string(where) + " needs a StorageClass");
  std::string name;
  Status s = ReadString(*v, Path(where, "StorageClass"), &name);
  if (!s.ok()) return s;
  if (!tiers::ParseStorageClass(name) && name != kReducedRedundancy) {
    return Malformed(Path(where, "StorageClass") +
                     " must be one of STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR, "
                     "GLACIER, DEEP_ARCHIVE, not " +
                     QuoteForMessage(name));
  }
  names->push_back(std::move(name));
  return Status::Ok();
}

Status ReadTransitions(const Json& j, std::string_view where, GivenRule* g) {
  if (!j.is_array()) return Malformed(std::string(where) + " must be an array");
  g->rule.transitions.reserve(j.size());
  g->transition_classes.reserve(j.size());
  for (std::size_t i = 0; i < j.size(); ++i) {
    const Json& t = j[i];
    const std::string at = Path(where, i);
    Status s = NeedObject(t, at);
    if (!s.ok()) return s;
    s = OnlyMembers(t, {"Date", "Days", "StorageClass"}, at);
    if (!s.ok()) return s;
    s = ReadClass(t, at, &g->transition_classes);
    if (!s.ok()) return s;
    const Json* days = Member(t, "Days");
    const Json* date = Member(t, "Date");
    if ((days == nullptr) == (date == nullptr)) {
      return Malformed(at + " must hold exactly one of Days and Date");
    }
    Transition tr;
    if (days != nullptr) {
      std::int32_t n = 0;
      s = ReadInt32(*days, Path(at, "Days"), &n);
      if (!s.ok()) return s;
      tr.days = n;
    } else {
      TimeNs d = 0;
      s = ReadDate(*date, Path(at, "Date"), &d);
      if (!s.ok()) return s;
      tr.date = d;
    }
    g->rule.transitions.push_back(tr);
  }
  return Status::Ok();
}

// NoncurrentDays (required) and NewerNoncurrentVersions of `j`.
Status ReadNoncurrentCounts(const Json& j, std::string_view where, std::int32_t* days,
                            std::optional<std::int32_t>* newer) {
  const Json* d = Member(j, "NoncurrentDays");
  if (d == nullptr) return Malformed(std::string(where) + " needs NoncurrentDays");
  Status s = ReadInt32(*d, Path(where, "NoncurrentDays"), days);
  if (!s.ok()) return s;
  if (const Json* n = Member(j, "NewerNoncurrentVersions")) {
    std::int32_t count = 0;
    s = ReadInt32(*n, Path(where, "NewerNoncurrentVersions"), &count);
    if (!s.ok()) return s;
    *newer = count;
  }
  return Status::Ok();
}

Status ReadNoncurrentTransitions(const Json& j, std::string_view where, GivenRule* g) {
  if (!j.is_array()) return Malformed(std::string(where) + " must be an array");
  g->rule.noncurrent_transitions.reserve(j.size());
  g->noncurrent_classes.reserve(j.size());
  for (std::size_t i = 0; i < j.size(); ++i) {
    const Json& t = j[i];
    const std::string at = Path(where, i);
    Status s = NeedObject(t, at);
    if (!s.ok()) return s;
    s = OnlyMembers(t, {"NoncurrentDays", "StorageClass", "NewerNoncurrentVersions"}, at);
    if (!s.ok()) return s;
    s = ReadClass(t, at, &g->noncurrent_classes);
    if (!s.ok()) return s;
    NoncurrentTransition nt;
    s = ReadNoncurrentCounts(t, at, &nt.noncurrent_days, &nt.newer_noncurrent_versions);
    if (!s.ok()) return s;
    g->rule.noncurrent_transitions.push_back(nt);
  }
  return Status::Ok();
}

Result<GivenRule> ReadRule(const Json& j, std::string_view where) {
  Status s = NeedObject(j, where);
  if (!s.ok()) return s;
  s = OnlyMembers(j,
                  {"ID", "Filter", "Prefix", "Status", "Expiration", "Transitions",
                   "NoncurrentVersionTransitions", "NoncurrentVersionExpiration",
                   "AbortIncompleteMultipartUpload"},
                  where);
  if (!s.ok()) return s;
  GivenRule g;
  Rule& r = g.rule;
  if (const Json* id = Member(j, "ID")) {
    s = ReadString(*id, Path(where, "ID"), &r.id);
    if (!s.ok()) return s;
  }
  const Json* status = Member(j, "Status");
  if (status == nullptr) return Malformed(std::string(where) + " needs a Status");
  std::string status_text;
  s = ReadString(*status, Path(where, "Status"), &status_text);
  if (!s.ok()) return s;
  if (status_text != "Enabled" && status_text != "Disabled") {
    return Malformed(Path(where, "Status") + " must be Enabled or Disabled, not " +
                     QuoteForMessage(status_text));
  }
  r.enabled = status_text == "Enabled";

  const Json* filter = Member(j, "Filter");
  const Json* prefix = Member(j, "Prefix");
  if (filter == nullptr && prefix == nullptr) {
    return Malformed(std::string(where) + " needs a Filter ({} for the whole bucket)");
  }
  if (filter != nullptr && prefix != nullptr) {
    return Malformed(std::string(where) +
                     " has both a Filter and the deprecated rule-level Prefix; keep the Filter");
  }
  g.has_filter = filter != nullptr;
  if (prefix != nullptr) {
    std::string p;
    s = ReadString(*prefix, Path(where, "Prefix"), &p);
    if (!s.ok()) return s;
    r.filter.prefix = std::move(p);
    r.legacy_prefix = true;
  } else {
    s = ReadFilter(*filter, Path(where, "Filter"), &g);
    if (!s.ok()) return s;
  }

  if (const Json* e = Member(j, "Expiration")) {
    s = ReadExpiration(*e, Path(where, "Expiration"), &g);
    if (!s.ok()) return s;
  }
  if (const Json* t = Member(j, "Transitions")) {
    s = ReadTransitions(*t, Path(where, "Transitions"), &g);
    if (!s.ok()) return s;
  }
  if (const Json* ne = Member(j, "NoncurrentVersionExpiration")) {
    const std::string at = Path(where, "NoncurrentVersionExpiration");
    s = NeedObject(*ne, at);
    if (!s.ok()) return s;
    s = OnlyMembers(*ne, {"NoncurrentDays", "NewerNoncurrentVersions"}, at);
    if (!s.ok()) return s;
    NoncurrentExpiration e;
    s = ReadNoncurrentCounts(*ne, at, &e.noncurrent_days, &e.newer_noncurrent_versions);
    if (!s.ok()) return s;
    r.noncurrent_expiration = e;
  }
  if (const Json* nt = Member(j, "NoncurrentVersionTransitions")) {
    s = ReadNoncurrentTransitions(*nt, Path(where, "NoncurrentVersionTransitions"), &g);
    if (!s.ok()) return s;
  }
  if (const Json* a = Member(j, "AbortIncompleteMultipartUpload")) {
    const std::string at = Path(where, "AbortIncompleteMultipartUpload");
    s = NeedObject(*a, at);
    if (!s.ok()) return s;
    s = OnlyMembers(*a, {"DaysAfterInitiation"}, at);
    if (!s.ok()) return s;
    const Json* d = Member(*a, "DaysAfterInitiation");
    if (d == nullptr) return Malformed(at + " needs DaysAfterInitiation");
    std::int32_t days = 0;
    s = ReadInt32(*d, Path(at, "DaysAfterInitiation"), &days);
    if (!s.ok()) return s;
    r.abort_incomplete_multipart_days = days;
  }
  return g;
}

// How S3 names a rule's filter in its messages: "(prefix=logs/)",
// "(prefix=)" for an empty prefix, "()" for an empty Filter. S3 was seen
// writing only those; predicates joined by " and " and the tag and size
// forms follow NooBaa's S3 clone, which copies S3's messages.
std::string FilterText(const Rule& r) {
  std::vector<std::string> parts;
  const Filter& f = r.filter;
  parts.reserve(f.tags.size() + 3);
  if (f.prefix) parts.push_back("prefix=" + Bare(*f.prefix));
  for (const Tag& t : f.tags) {
    parts.push_back("tag={key=" + Bare(t.key) + ", value=" + Bare(t.value) + "}");
  }
  if (f.size_greater_than) {
    parts.push_back("objectsizegreaterthan=" + std::to_string(*f.size_greater_than));
  }
  if (f.size_less_than) parts.push_back("objectsizelessthan=" + std::to_string(*f.size_less_than));
  std::string out = "(";
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += " and ";
    out += parts[i];
  }
  out += ')';
  return out;
}

Status CheckTags(const std::vector<Tag>& tags) {
  for (const Tag& t : tags) {
    if (t.key.empty() || tiers::CharCount(t.key) > kMaxTagKeyChars) {
      return InvalidArgument("The TagKey you have provided is invalid");
    }
    if (tiers::CharCount(t.value) > kMaxTagValueChars) {
      return InvalidArgument("The TagValue you have provided is invalid");
    }
  }
  for (std::size_t i = 0; i < tags.size(); ++i) {
    for (std::size_t k = i + 1; k < tags.size(); ++k) {
      if (tags[i].key == tags[k].key) return BadRequest("Duplicate Tag Keys are not allowed.");
    }
  }
  return Status::Ok();
}

Status CheckSizes(GivenRule* g) {
  constexpr auto kMax = static_cast<std::int64_t>(kMaxFilterObjectSize);
  if (g->greater_than && (*g->greater_than < 0 || *g->greater_than > kMax)) {
    return BadRequest("'ObjectSizeGreaterThan' should be between 0 and " + std::to_string(kMax) +
                      ".");
  }
  if (g->less_than && (*g->less_than < 1 || *g->less_than > kMax)) {
    return BadRequest("'ObjectSizeLessThan' should be between 1 and " + std::to_string(kMax) + ".");
  }
  if (g->greater_than && g->less_than && *g->greater_than >= *g->less_than) {
    return BadRequest(
        "'ObjectSizeLessThan' has to be a value greater than 'ObjectSizeGreaterThan'.");
  }
  if (g->greater_than)
    g->rule.filter.size_greater_than = static_cast<std::uint64_t>(*g->greater_than);
  if (g->less_than) g->rule.filter.size_less_than = static_cast<std::uint64_t>(*g->less_than);
  return Status::Ok();
}

Status CheckMidnight(TimeNs date) {
  if (date % tiers::kNsPerDay != 0) return InvalidArgument("'Date' must be at midnight GMT");
  return Status::Ok();
}

// The target class named `name` (already known to be a class name).
Result<StorageClass> TargetClass(const std::string& name, std::string_view action) {
  const std::optional<StorageClass> cls = tiers::ParseStorageClass(name);
  if (!cls || *cls == StorageClass::kStandard) {
    return InvalidArgument("Invalid target Storage class for " + std::string(action) + " action");
  }
  return *cls;
}

bool InfrequentAccess(StorageClass c) {
  return c == StorageClass::kStandardIa || c == StorageClass::kOnezoneIa;
}

Status CheckNewer(const std::optional<std::int32_t>& newer, bool legacy, std::string_view action) {
  if (!newer) return Status::Ok();
  // "If you do not specify a Filter element, Amazon S3 will generate an
  // InvalidRequest error when you provide a maximum number of noncurrent
  // versions."
  if (legacy)
    return BadRequest("NewerNoncurrentVersions element can only be used in Lifecycle V2.");
  if (*newer < 1) {
    return InvalidArgument("'NewerNoncurrentVersions' for " + std::string(action) +
                           " action must be a positive integer");
  }
  // The API reference's limit; S3 has been seen accepting 500, but shoal
  // keeps to what AWS documents.
  if (*newer > kMaxNewerNoncurrentVersions) {
    return InvalidArgument("'NewerNoncurrentVersions' for " + std::string(action) +
                           " action must not be greater than " +
                           std::to_string(kMaxNewerNoncurrentVersions));
  }
  return Status::Ok();
}

// Position in the waterfall, for ordering a rule's transitions: each class
// can be reached from every class before it, except ONEZONE_IA ->
// GLACIER_IR.
int WaterfallRank(StorageClass c) {
  switch (c) {
    case StorageClass::kStandard: return 0;
    case StorageClass::kStandardIa: return 1;
    case StorageClass::kIntelligentTiering: return 2;
    case StorageClass::kOnezoneIa: return 3;
    case StorageClass::kGlacierIr: return 4;
    case StorageClass::kGlacier: return 5;
    case StorageClass::kDeepArchive: return 6;
  }
  return 0;
}

// One transition of a rule, current or noncurrent, for the checks they share.
struct Step {
  std::optional<std::int64_t> days;
  std::optional<TimeNs> date;
  StorageClass cls;
};

// A rule's transitions (current or noncurrent) against each other: one per
// class, all by Days or all by Date, and in waterfall order with each step
// at least the earlier class's minimum storage duration (at least a day)
// after the one before. S3 was seen answering 30 days after STANDARD_IA
// (the user guide's rule) and 90 after GLACIER_IR and GLACIER: the classes'
// minimum durations.
Status CheckSteps(const std::vector<Step>& steps, const std::string& filter, bool noncurrent) {
  const std::string action = noncurrent ? "NoncurrentVersionTransition" : "Transition";
  for (std::size_t i = 0; i < steps.size(); ++i) {
    for (std::size_t k = i + 1; k < steps.size(); ++k) {
      if (steps[i].cls == steps[k].cls) {
        return BadRequest("'StorageClass' must be different for '" + action +
                          "' actions in same 'Rule' with filter '" + filter + "'");
      }
    }
  }
  const bool any_days =
      std::any_of(steps.begin(), steps.end(), [](const Step& s) { return s.days.has_value(); });
  const bool any_date =
      std::any_of(steps.begin(), steps.end(), [](const Step& s) { return s.date.has_value(); });
  if (any_days && any_date) {
    return BadRequest("Found mixed 'Date' and 'Days' based Transition actions in lifecycle rule " +
                      std::string("for filter '") + filter + "'");
  }
  std::vector<Step> sorted = steps;
  std::sort(sorted.begin(), sorted.end(), [](const Step& a, const Step& b) {
    return WaterfallRank(a.cls) < WaterfallRank(b.cls);
  });
  const std::string field = noncurrent ? "NoncurrentDays" : any_date ? "Date" : "Days";
  for (std::size_t i = 1; i < sorted.size(); ++i) {
    const Step& warm = sorted[i - 1];
    const Step& cold = sorted[i];
    const std::string warm_name(tiers::StorageClassName(warm.cls));
    const std::string cold_name(tiers::StorageClassName(cold.cls));
    if (!CanTransition(warm.cls, cold.cls)) {
      return InvalidArgument("'StorageClass' '" + cold_name + "' in the '" + action +
                             "' action for filter '" + filter + "' cannot follow StorageClass '" +
                             warm_name + "': S3 Lifecycle does not transition " + warm_name +
                             " objects to " + cold_name);
    }
    const std::int64_t gap =
        any_date ? (*cold.date - *warm.date) / tiers::kNsPerDay : *cold.days - *warm.days;
    const std::int64_t need = std::max<std::int64_t>(1, tiers::InfoOf(warm.cls).min_storage_days);
    if (gap < need) {
      const std::string apart = need == 1 ? std::string("at least one day apart from")
                                          : std::to_string(need) + " days more than";
      return InvalidArgument("'" + field + "' in the '" + action + "' action for StorageClass '" +
                             cold_name + "' for filter '" + filter + "' must be " + apart +
                             " 'filter '" + filter + "'' in the '" + action +
                             "' action for StorageClass '" + warm_name + "'");
    }
  }
  return Status::Ok();
}

// The value checks of one rule, in the order S3 is believed to make them.
Status CheckRule(GivenRule* g, std::optional<bool>* first_has_filter, std::set<std::string>* ids) {
  Rule& r = g->rule;
  if (tiers::CharCount(r.id) > kMaxRuleIdChars) {
    return InvalidArgument("ID length should not exceed allowed limit of " +
                           std::to_string(kMaxRuleIdChars));
  }
  if (!r.id.empty() && !ids->insert(r.id).second) {
    return InvalidArgument("Rule ID must be unique. Found same ID for more than one rule");
  }
  // The first rule decides the configuration's form.
  if (!first_has_filter->has_value()) {
    *first_has_filter = g->has_filter;
  } else if (**first_has_filter != g->has_filter) {
    return BadRequest(**first_has_filter
                          ? "Base level prefix cannot be used in Lifecycle V2, prefixes are only "
                            "supported in the Filter."
                          : "Filter element can only be used in Lifecycle V2.");
  }
  Status s = CheckTags(r.filter.tags);
  if (!s.ok()) return s;
  s = CheckSizes(g);
  if (!s.ok()) return s;

  if (!r.expiration && g->transition_classes.empty() && !r.noncurrent_expiration &&
      g->noncurrent_classes.empty() && !r.abort_incomplete_multipart_days) {
    return BadRequest("At least one action needs to be specified in a rule");
  }
  if (r.expiration) {
    if (r.expiration->days && *r.expiration->days < 1) {
      return InvalidArgument("'Days' for Expiration action must be a positive integer");
    }
    if (r.expiration->date) {
      s = CheckMidnight(*r.expiration->date);
      if (!s.ok()) return s;
    }
  }
  for (std::size_t i = 0; i < r.transitions.size(); ++i) {
    Transition& t = r.transitions[i];
    Result<StorageClass> cls = TargetClass(g->transition_classes[i], "Transition");
    if (!cls.ok()) return cls.status();
    t.storage_class = *cls;
    if (t.days && *t.days < 0)
      return InvalidArgument("'Days' in Transition action must be nonnegative");
    if (t.date) {
      s = CheckMidnight(*t.date);
      if (!s.ok()) return s;
    }
    if (t.days && InfrequentAccess(t.storage_class) && *t.days < kInfrequentAccessMinDays) {
      return InvalidArgument("'Days' in Transition action must be greater than or equal to " +
                             std::to_string(kInfrequentAccessMinDays) + " for storageClass '" +
                             std::string(tiers::StorageClassName(t.storage_class)) + "'");
    }
  }
  if (r.noncurrent_expiration) {
    if (r.noncurrent_expiration->noncurrent_days < 1) {
      return InvalidArgument(
          "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer");
    }
    s = CheckNewer(r.noncurrent_expiration->newer_noncurrent_versions, r.legacy_prefix,
                   "NoncurrentVersionExpiration");
    if (!s.ok()) return s;
  }
  for (std::size_t i = 0; i < r.noncurrent_transitions.size(); ++i) {
    NoncurrentTransition& t = r.noncurrent_transitions[i];
    Result<StorageClass> cls = TargetClass(g->noncurrent_classes[i], "NoncurrentVersionTransition");
    if (!cls.ok()) return cls.status();
    t.storage_class = *cls;
    if (t.noncurrent_days < 0) {
      return InvalidArgument(
          "'NoncurrentDays' in NoncurrentVersionTransition action must be nonnegative");
    }
    if (InfrequentAccess(t.storage_class) && t.noncurrent_days < kInfrequentAccessMinDays) {
      return InvalidArgument(
          "'NoncurrentDays' in NoncurrentVersionTransition action must be greater than or equal "
          "to " +
          std::to_string(kInfrequentAccessMinDays) + " for storageClass '" +
          std::string(tiers::StorageClassName(t.storage_class)) + "'");
    }
    s = CheckNewer(t.newer_noncurrent_versions, r.legacy_prefix, "NoncurrentVersionTransition");
    if (!s.ok()) return s;
  }
  if (r.abort_incomplete_multipart_days && *r.abort_incomplete_multipart_days < 1) {
    return InvalidArgument(
        "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive "
        "integer");
  }

  // Actions on things that have no tags or sizes of their own: delete
  // markers and multipart uploads.
  const bool tags = !r.filter.tags.empty();
  const bool sizes = r.filter.size_greater_than || r.filter.size_less_than;
  if (g->marker_given && tags) {
    return BadRequest("ExpiredObjectDeleteMarker cannot be specified with Tags.");
  }
  if (g->marker_given && sizes) {
    return BadRequest("ExpiredObjectDeleteMarker cannot be specified with Object Size.");
  }
  if (r.abort_incomplete_multipart_days && tags) {
    return BadRequest("AbortIncompleteMultipartUpload cannot be specified with Tags.");
  }
  if (r.abort_incomplete_multipart_days && sizes) {
    return BadRequest("AbortIncompleteMultipartUpload cannot be specified with Object Size.");
  }

  const std::string filter = FilterText(r);
  std::vector<Step> steps;
  steps.reserve(r.transitions.size());
  for (const Transition& t : r.transitions) {
    steps.push_back(Step{.days = t.days, .date = t.date, .cls = t.storage_class});
  }
  s = CheckSteps(steps, filter, /*noncurrent=*/false);
  if (!s.ok()) return s;
  if (r.expiration && (r.expiration->days || r.expiration->date) && !r.transitions.empty()) {
    const bool any_days = std::any_of(r.transitions.begin(), r.transitions.end(),
                                      [](const Transition& t) { return t.days.has_value(); });
    const bool any_date = !any_days;
    if ((r.expiration->days && any_date) || (r.expiration->date && any_days)) {
      return BadRequest(
          "Found mixed 'Date' and 'Days' based Expiration and Transition actions in lifecycle "
          "rule for filter '" +
          filter + "'");
    }
    for (const Transition& t : r.transitions) {
      if (r.expiration->days && *t.days >= *r.expiration->days) {
        return InvalidArgument("'Days' in the Expiration action for filter '" + filter +
                               "' must be greater than 'Days' in the Transition action");
      }
      if (r.expiration->date && *t.date >= *r.expiration->date) {
        return InvalidArgument("'Date' in the Expiration action for filter '" + filter +
                               "' must be greater than 'Date' in the Transition action");
      }
    }
  }
  steps.clear();
  for (const NoncurrentTransition& t : r.noncurrent_transitions) {
    steps.push_back(Step{.days = t.noncurrent_days, .date = std::nullopt, .cls = t.storage_class});
  }
  s = CheckSteps(steps, filter, /*noncurrent=*/true);
  if (!s.ok()) return s;
  if (r.noncurrent_expiration) {
    for (const NoncurrentTransition& t : r.noncurrent_transitions) {
      if (t.noncurrent_days >= r.noncurrent_expiration->noncurrent_days) {
        return InvalidArgument(
            "'NoncurrentDays' in the NoncurrentVersionExpiration action for filter '" + filter +
            "' must be greater than 'NoncurrentDays' in the NoncurrentVersionTransition action");
      }
    }
  }
  return Status::Ok();
}

// Rule-level prefixes ("Lifecycle V1") may not repeat, nor overlap for one
// action type, as S3 answered before Filter existed and still answers for
// such configurations. Rules with a Filter may overlap freely.
Status CheckLegacyPrefixes(const std::vector<Rule>& rules) {
  struct Kind {
    std::string_view name;
    bool (*has)(const Rule&);
  };
  static constexpr std::array<Kind, 5> kKinds{{
      {"Expiration", [](const Rule& r) { return r.expiration.has_value(); }},
      {"Transition", [](const Rule& r) { return !r.transitions.empty(); }},
      {"NoncurrentVersionExpiration",
       [](const Rule& r) { return r.noncurrent_expiration.has_value(); }},
      {"NoncurrentVersionTransition",
       [](const Rule& r) { return !r.noncurrent_transitions.empty(); }},
      {"AbortIncompleteMultipartUpload",
       [](const Rule& r) { return r.abort_incomplete_multipart_days.has_value(); }},
  }};
  for (std::size_t i = 0; i < rules.size(); ++i) {
    for (std::size_t k = i + 1; k < rules.size(); ++k) {
      const std::string& a = rules[i].filter.prefix.value();
      const std::string& b = rules[k].filter.prefix.value();
      if (a == b) return BadRequest("Found two rules with same prefix '" + Bare(a) + "'");
      if (!std::string_view(a).starts_with(b) && !std::string_view(b).starts_with(a)) continue;
      for (const Kind& kind : kKinds) {
        if (kind.has(rules[i]) && kind.has(rules[k])) {
          return BadRequest("Found overlapping prefixes '" + Bare(a) + "' and '" + Bare(b) +
                            "' for same action type '" + std::string(kind.name) + "'");
        }
      }
    }
  }
  return Status::Ok();
}

// "2026-01-01T00:00:00.000Z", as S3 writes times and the CLI prints them.
std::string DateText(TimeNs t) {
  std::string s = FormatIso8601(t);
  if (!s.empty() && s.back() == 'Z') s.insert(s.size() - 1, ".000");
  return s;
}

OrderedJson TagJson(const Tag& t) {
  OrderedJson j = OrderedJson::object();
  j["Key"] = t.key;
  j["Value"] = t.value;
  return j;
}

OrderedJson FilterJson(const Filter& f) {
  OrderedJson j = OrderedJson::object();
  const std::size_t predicates = (f.prefix ? 1u : 0u) + f.tags.size() +
                                 (f.size_greater_than ? 1u : 0u) + (f.size_less_than ? 1u : 0u);
  if (predicates == 0) return j;
  if (predicates == 1) {
    if (f.prefix) j["Prefix"] = *f.prefix;
    if (!f.tags.empty()) j["Tag"] = TagJson(f.tags.front());
    if (f.size_greater_than) j["ObjectSizeGreaterThan"] = *f.size_greater_than;
    if (f.size_less_than) j["ObjectSizeLessThan"] = *f.size_less_than;
    return j;
  }
  OrderedJson a = OrderedJson::object();
  if (f.prefix) a["Prefix"] = *f.prefix;
  if (!f.tags.empty()) {
    OrderedJson tags = OrderedJson::array();
    for (const Tag& t : f.tags) tags.push_back(TagJson(t));
    a["Tags"] = std::move(tags);
  }
  if (f.size_greater_than) a["ObjectSizeGreaterThan"] = *f.size_greater_than;
  if (f.size_less_than) a["ObjectSizeLessThan"] = *f.size_less_than;
  j["And"] = std::move(a);
  return j;
}

// The rule as GetBucketLifecycleConfiguration gives it back.
OrderedJson RuleJson(const Rule& r) {
  OrderedJson j = OrderedJson::object();
  if (!r.id.empty()) j["ID"] = r.id;
  if (r.legacy_prefix) {
    j["Prefix"] = r.filter.prefix.value_or("");
  } else {
    j["Filter"] = FilterJson(r.filter);
  }
  j["Status"] = r.enabled ? "Enabled" : "Disabled";
  if (r.expiration) {
    OrderedJson e = OrderedJson::object();
    if (r.expiration->days) {
      e["Days"] = *r.expiration->days;
    } else if (r.expiration->date) {
      e["Date"] = DateText(*r.expiration->date);
    } else {
      e["ExpiredObjectDeleteMarker"] = r.expiration->expired_object_delete_marker;
    }
    j["Expiration"] = std::move(e);
  }
  if (!r.transitions.empty()) {
    OrderedJson ts = OrderedJson::array();
    for (const Transition& t : r.transitions) {
      OrderedJson o = OrderedJson::object();
      if (t.days) o["Days"] = *t.days;
      if (t.date) o["Date"] = DateText(*t.date);
      o["StorageClass"] = tiers::StorageClassName(t.storage_class);
      ts.push_back(std::move(o));
    }
    j["Transitions"] = std::move(ts);
  }
  if (r.noncurrent_expiration) {
    OrderedJson e = OrderedJson::object();
    e["NoncurrentDays"] = r.noncurrent_expiration->noncurrent_days;
    if (r.noncurrent_expiration->newer_noncurrent_versions) {
      e["NewerNoncurrentVersions"] = *r.noncurrent_expiration->newer_noncurrent_versions;
    }
    j["NoncurrentVersionExpiration"] = std::move(e);
  }
  if (!r.noncurrent_transitions.empty()) {
    OrderedJson ts = OrderedJson::array();
    for (const NoncurrentTransition& t : r.noncurrent_transitions) {
      OrderedJson o = OrderedJson::object();
      o["NoncurrentDays"] = t.noncurrent_days;
      o["StorageClass"] = tiers::StorageClassName(t.storage_class);
      if (t.newer_noncurrent_versions) o["NewerNoncurrentVersions"] = *t.newer_noncurrent_versions;
      ts.push_back(std::move(o));
    }
    j["NoncurrentVersionTransitions"] = std::move(ts);
  }
  if (r.abort_incomplete_multipart_days) {
    OrderedJson a = OrderedJson::object();
    a["DaysAfterInitiation"] = *r.abort_incomplete_multipart_days;
    j["AbortIncompleteMultipartUpload"] = std::move(a);
  }
  return j;
}

std::uint64_t Fnv1a(std::string_view text, std::uint64_t h) {
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::string Base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t chunk = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (i + 1 < bytes.size()) {
      chunk |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    }
    if (i + 2 < bytes.size()) chunk |= static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(chunk >> 18) & 63];
    out += kAlphabet[(chunk >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(chunk >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[chunk & 63] : '=';
  }
  return out;
}

// An ID for the rule at `index`, shaped as S3 makes them: the base64 of a
// lowercase, hyphenated version-4 UUID (48 characters), here derived from
// the rule's content instead of drawn at random.
std::string MakeRuleId(const Rule& r, std::size_t index, std::uint64_t salt) {
  const std::string text =
      RuleJson(r).dump() + "#" + std::to_string(index) + "#" + std::to_string(salt);
  const std::uint64_t hi = Fnv1a(text, 0xcbf29ce484222325ULL);
  const std::uint64_t lo = Fnv1a(text, 0x84222325cbf29ce4ULL);
  std::array<unsigned char, 16> b{};
  for (std::size_t i = 0; i < 8; ++i) {
    b[i] = static_cast<unsigned char>(hi >> (56 - 8 * i));
    b[i + 8] = static_cast<unsigned char>(lo >> (56 - 8 * i));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string uuid;
  uuid.reserve(36);
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) uuid += '-';
    uuid += kHex[b[i] >> 4];
    uuid += kHex[b[i] & 0x0f];
  }
  return Base64(uuid);
}

void AssignIds(std::vector<Rule>* rules, std::set<std::string>* taken) {
  for (std::size_t i = 0; i < rules->size(); ++i) {
    Rule& r = (*rules)[i];
    if (!r.id.empty()) continue;
    std::uint64_t salt = 0;
    std::string id = MakeRuleId(r, i, salt);
    while (taken->count(id) != 0) id = MakeRuleId(r, i, ++salt);
    taken->insert(id);
    r.id = std::move(id);
  }
}

}  // namespace

std::string_view MinimumSizePolicyName(MinimumSizePolicy p) {
  switch (p) {
    case MinimumSizePolicy::kAll128K: return kAll128KName;
    case MinimumSizePolicy::kVariesByStorageClass: return kVariesName;
  }
  return kAll128KName;
}

bool CanTransition(StorageClass from, StorageClass to) {
  switch (from) {
    case StorageClass::kStandard: return to != StorageClass::kStandard;
    case StorageClass::kStandardIa:
      return to == StorageClass::kIntelligentTiering || to == StorageClass::kOnezoneIa ||
             to == StorageClass::kGlacierIr || to == StorageClass::kGlacier ||
             to == StorageClass::kDeepArchive;
    case StorageClass::kIntelligentTiering:
      return to == StorageClass::kOnezoneIa || to == StorageClass::kGlacierIr ||
             to == StorageClass::kGlacier || to == StorageClass::kDeepArchive;
    case StorageClass::kOnezoneIa:
    case StorageClass::kGlacierIr:
      return to == StorageClass::kGlacier || to == StorageClass::kDeepArchive;
    case StorageClass::kGlacier: return to == StorageClass::kDeepArchive;
    case StorageClass::kDeepArchive: return false;
  }
  return false;
}

Result<LifecycleConfiguration> ParseLifecycleConfiguration(std::string_view json) {
  LifecycleConfiguration c;
  if (tiers::IsBlankJson(json)) return c;
  if (!tiers::DepthWithin(json, tiers::kMaxJsonDepth)) {
    return Malformed("the document nests deeper than " + std::to_string(tiers::kMaxJsonDepth) +
                     " levels");
  }
  // JSON syntax errors keep the wording of shoal's other JSON documents: the
  // AWS CLI rejects bad JSON before S3 sees it, so there is no S3 text.
  const Result<Json> parsed = tiers::ParseJsonDocument(json);
  if (!parsed.ok()) return parsed.status();
  const Json& doc = *parsed;
  if (!doc.is_object()) {
    return Malformed("the document must be a JSON object: {\"Rules\": [...]}");
  }
  Status s = OnlyMembers(doc, {"Rules", "TransitionDefaultMinimumObjectSize"}, "");
  if (!s.ok()) return s;
  const Json* rules = Member(doc, "Rules");
  if (rules == nullptr) return Malformed("the document needs Rules");
  if (!rules->is_array()) return Malformed("Rules must be an array");
  const Json* minimum = Member(doc, "TransitionDefaultMinimumObjectSize");
  std::string minimum_name(kAll128KName);
  if (minimum != nullptr) {
    s = ReadString(*minimum, "TransitionDefaultMinimumObjectSize", &minimum_name);
    if (!s.ok()) return s;
  }

  // The schema of every rule first, as S3 validates the XML before it
  // looks at the values.
  std::vector<GivenRule> given;
  given.reserve(std::min(rules->size(), kMaxRules + 1));
  for (std::size_t i = 0; i < rules->size(); ++i) {
    Result<GivenRule> g = ReadRule((*rules)[i], Path("Rules", i));
    if (!g.ok()) return g.status();
    given.push_back(std::move(*g));
  }

  if (minimum_name == kAll128KName) {
    c.minimum_size = MinimumSizePolicy::kAll128K;
  } else if (minimum_name == kVariesName) {
    c.minimum_size = MinimumSizePolicy::kVariesByStorageClass;
  } else {
    return BadRequest("Invalid TransitionDefaultMinimumObjectSize found: " + Bare(minimum_name));
  }
  if (given.empty()) return BadRequest("At least one lifecycle rule must be specified.");
  if (given.size() > kMaxRules) {
    return BadRequest("The number of lifecycle rules must not exceed the allowed limit of " +
                      std::to_string(kMaxRules) + " rules.");
  }
  std::optional<bool> first_has_filter;
  std::set<std::string> ids;
  c.rules.reserve(given.size());
  for (GivenRule& g : given) {
    s = CheckRule(&g, &first_has_filter, &ids);
    if (!s.ok()) return s;
    c.rules.push_back(std::move(g.rule));
  }
  if (first_has_filter == false) {
    s = CheckLegacyPrefixes(c.rules);
    if (!s.ok()) return s;
  }
  AssignIds(&c.rules, &ids);
  return c;
}

std::string LifecycleConfigurationToJson(const LifecycleConfiguration& c) {
  if (c.rules.empty()) return "";
  OrderedJson doc = OrderedJson::object();
  OrderedJson rules = OrderedJson::array();
  for (const Rule& r : c.rules) rules.push_back(RuleJson(r));
  doc["Rules"] = std::move(rules);
  doc["TransitionDefaultMinimumObjectSize"] = MinimumSizePolicyName(c.minimum_size);
  return tiers::JsonDocumentText(doc);
}

}  // namespace shoal::lifecycle
