#include "tiers/intelligent_tiering.h"

#include <algorithm>
#include <array>
#include <limits>
#include <nlohmann/json.hpp>

#include "tiers/json_document.h"
#include "tiers/restore.h"

namespace shoal::tiers {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

constexpr std::size_t kMaxIdLength = 64;
constexpr std::size_t kMaxTagKeyChars = 128;
constexpr std::size_t kMaxTagValueChars = 256;

constexpr std::string_view kArchiveAccess = "ARCHIVE_ACCESS";
constexpr std::string_view kDeepArchiveAccess = "DEEP_ARCHIVE_ACCESS";

Status Malformed(std::string msg) {
  return {Code::kMalformedJson, std::move(msg)};
}

// Fails with MalformedJSON when `obj` has a member not in `allowed`.
Status OnlyFields(const Json& obj, std::initializer_list<std::string_view> allowed,
                  std::string_view where) {
  const std::optional<std::string> unknown = FirstUnknownMember(obj, allowed);
  if (!unknown) return Status::Ok();
  return Malformed("Unknown field " + QuoteForMessage(*unknown) + " in " + std::string(where) +
                   " (expected " + JoinNames(allowed) + ")");
}

// The string member `name` of `obj` into *out; *present says whether it was
// there. Wrong type: MalformedJSON.
Status OptionalString(const Json& obj, std::string_view name, std::string_view where,
                      std::string* out, bool* present) {
  const auto it = obj.find(name);
  *present = it != obj.end();
  if (!*present) return Status::Ok();
  if (!it->is_string()) {
    return Malformed(std::string(name) + " in " + std::string(where) + " must be a string");
  }
  *out = it->get<std::string>();
  return Status::Ok();
}

Status RequiredString(const Json& obj, std::string_view name, std::string_view where,
                      std::string* out) {
  bool present = false;
  Status s = OptionalString(obj, name, where, out, &present);
  if (!s.ok()) return s;
  if (!present) {
    return Malformed("Missing required field " + std::string(name) + " in " + std::string(where));
  }
  return Status::Ok();
}

Result<ObjectTag> ParseTag(const Json& j, std::string_view where) {
  if (!j.is_object()) return Malformed(std::string(where) + " must be an object");
  Status s = OnlyFields(j, {"Key", "Value"}, where);
  if (!s.ok()) return s;
  ObjectTag tag;
  s = RequiredString(j, "Key", where, &tag.first);
  if (!s.ok()) return s;
  s = RequiredString(j, "Value", where, &tag.second);
  if (!s.ok()) return s;
  if (tag.first.empty() || CharCount(tag.first) > kMaxTagKeyChars) {
    return InvalidArgument("The TagKey you have provided is invalid");
  }
  if (CharCount(tag.second) > kMaxTagValueChars) {
    return InvalidArgument("The TagValue you have provided is invalid");
  }
  return tag;
}

Status CheckPrefix(const std::string& prefix) {
  if (prefix.empty()) {
    return InvalidArgument(
        "Filter Prefix should be set to a valid non-empty value or not set at all.");
  }
  return Status::Ok();
}

Result<ItFilter> ParseFilter(const Json& j) {
  if (!j.is_object()) return Malformed("Filter must be an object");
  Status s = OnlyFields(j, {"Prefix", "Tag", "And"}, "Filter");
  if (!s.ok()) return s;
  if (j.size() > 1) return Malformed("Filter must contain exactly one of Prefix, Tag or And");
  ItFilter f;
  if (j.contains("Prefix")) {
    f.kind = ItFilter::Kind::kPrefix;
    bool present = false;
    s = OptionalString(j, "Prefix", "Filter", &f.prefix, &present);
    if (!s.ok()) return s;
    s = CheckPrefix(f.prefix);
    if (!s.ok()) return s;
  } else if (j.contains("Tag")) {
    f.kind = ItFilter::Kind::kTag;
    Result<ObjectTag> tag = ParseTag(j["Tag"], "Filter.Tag");
    if (!tag.ok()) return tag.status();
    f.tags.push_back(std::move(*tag));
  } else if (j.contains("And")) {
    f.kind = ItFilter::Kind::kAnd;
    const Json& a = j["And"];
    if (!a.is_object()) return Malformed("Filter.And must be an object");
    s = OnlyFields(a, {"Prefix", "Tags"}, "Filter.And");
    if (!s.ok()) return s;
    s = OptionalString(a, "Prefix", "Filter.And", &f.prefix, &f.has_prefix);
    if (!s.ok()) return s;
    if (f.has_prefix) {
      s = CheckPrefix(f.prefix);
      if (!s.ok()) return s;
    }
    if (const auto tags = a.find("Tags"); tags != a.end()) {
      if (!tags->is_array()) return Malformed("Filter.And.Tags must be an array");
      f.tags.reserve(tags->size());
      for (const Json& t : *tags) {
        Result<ObjectTag> tag = ParseTag(t, "Filter.And.Tags");
        if (!tag.ok()) return tag.status();
        for (const ObjectTag& seen : f.tags) {
          if (seen.first == tag->first) {
            return InvalidArgument(
                "All Tag Keys in an And must be unique. Found duplicate entry for " +
                QuoteForMessage(tag->first) + ".");
          }
        }
        f.tags.push_back(std::move(*tag));
      }
    }
    if ((f.has_prefix ? 1u : 0u) + f.tags.size() < 2) {
      return InvalidArgument(
          "Number of Prefixes and Tags combined cannot be less than 2. And cannot contain less "
          "than 2 elements.");
    }
  }
  return f;
}

Status ParseTierings(const Json& j, ItConfiguration* c) {
  if (!j.is_array()) return Malformed("Tierings must be an array");
  if (j.empty()) return Malformed("Tierings must list at least one Tiering");
  for (const Json& t : j) {
    if (!t.is_object()) return Malformed("Each Tiering must be an object");
    Status s = OnlyFields(t, {"Days", "AccessTier"}, "Tiering");
    if (!s.ok()) return s;
    std::string name;
    s = RequiredString(t, "AccessTier", "Tiering", &name);
    if (!s.ok()) return s;
    const bool deep = name == kDeepArchiveAccess;
    if (!deep && name != kArchiveAccess) {
      return Malformed("AccessTier must be ARCHIVE_ACCESS or DEEP_ARCHIVE_ACCESS, not " +
                       QuoteForMessage(name));
    }
    const auto days_it = t.find("Days");
    if (days_it == t.end()) return Malformed("Missing required field Days in Tiering");
    if (!days_it->is_number_integer()) return Malformed("Days in Tiering must be an integer");
    std::int64_t days = 0;
    if (days_it->is_number_unsigned()) {
      days = static_cast<std::int64_t>(std::min<std::uint64_t>(
          days_it->get<std::uint64_t>(),
          static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())));
    } else {
      days = days_it->get<std::int64_t>();
    }
    std::optional<int>& slot = deep ? c->deep_archive_access_days : c->archive_access_days;
    if (slot) {
      return InvalidArgument(
          "All Access Tiers in a configuration must be unique. Found duplicate entry for " + name +
          ".");
    }
    const int min_days = deep ? kItDeepArchiveAccessMinDays : kItArchiveAccessMinDays;
    if (days < min_days) {
      return InvalidArgument("Days specified in " + name + " tier should not be less than " +
                             std::to_string(min_days) + ".");
    }
    if (days > kItMaxDays) {
      return InvalidArgument("Days specified in " + name + " tier should not be more than " +
                             std::to_string(kItMaxDays) + ".");
    }
    slot = static_cast<int>(days);
  }
  if (c->archive_access_days && c->deep_archive_access_days &&
      *c->deep_archive_access_days <= *c->archive_access_days) {
    return InvalidArgument(
        "Days specified in DEEP_ARCHIVE_ACCESS should be greater than days specified in "
        "ARCHIVE_ACCESS");
  }
  return Status::Ok();
}

Result<ItConfiguration> ParseConfiguration(const Json& j) {
  constexpr std::string_view kWhere = "IntelligentTieringConfiguration";
  if (!j.is_object()) return Malformed(std::string(kWhere) + " must be a JSON object");
  Status s = OnlyFields(j, {"Id", "Filter", "Status", "Tierings"}, kWhere);
  if (!s.ok()) return s;
  ItConfiguration c;
  s = RequiredString(j, "Id", kWhere, &c.id);
  if (!s.ok()) return s;
  if (c.id.empty()) return InvalidArgument("Config Id cannot be null or empty.");
  if (c.id.size() > kMaxIdLength) {
    return InvalidArgument(
        "Config Id should be more than 1 character and less than 64 characters in length.");
  }
  for (char ch : c.id) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
    if (!ok) return InvalidArgument("Config Id does not match the pattern ^[a-zA-Z0-9\\-_.]+$");
  }
  std::string status;
  s = RequiredString(j, "Status", kWhere, &status);
  if (!s.ok()) return s;
  if (status != "Enabled" && status != "Disabled") {
    return Malformed("Status must be Enabled or Disabled, not " + QuoteForMessage(status));
  }
  c.enabled = status == "Enabled";
  if (const auto f = j.find("Filter"); f != j.end()) {
    Result<ItFilter> filter = ParseFilter(*f);
    if (!filter.ok()) return filter.status();
    c.filter = std::move(*filter);
  }
  const auto tierings = j.find("Tierings");
  if (tierings == j.end())
    return Malformed("Missing required field Tierings in " + std::string(kWhere));
  s = ParseTierings(*tierings, &c);
  if (!s.ok()) return s;
  return c;
}

// Names the configuration an error is about when the file holds several.
Status InConfiguration(const Status& s, std::size_t index, const Json& j) {
  std::string where = "Configuration [" + std::to_string(index) + "]";
  if (j.is_object()) {
    if (const auto id = j.find("Id"); id != j.end() && id->is_string()) {
      where += " (Id " + QuoteForMessage(id->get<std::string>()) + ")";
    }
  }
  return {s.code(), where + ": " + s.message()};
}

OrderedJson TagToJson(const ObjectTag& tag) {
  OrderedJson t = OrderedJson::object();
  t["Key"] = tag.first;
  t["Value"] = tag.second;
  return t;
}

OrderedJson ConfigurationToJson(const ItConfiguration& c) {
  OrderedJson j = OrderedJson::object();
  j["Id"] = c.id;
  switch (c.filter.kind) {
    case ItFilter::Kind::kAll: break;
    case ItFilter::Kind::kPrefix: j["Filter"] = {{"Prefix", c.filter.prefix}}; break;
    case ItFilter::Kind::kTag:
      if (!c.filter.tags.empty()) j["Filter"] = {{"Tag", TagToJson(c.filter.tags.front())}};
      break;
    case ItFilter::Kind::kAnd: {
      OrderedJson a = OrderedJson::object();
      if (c.filter.has_prefix) a["Prefix"] = c.filter.prefix;
      if (!c.filter.tags.empty()) {
        OrderedJson tags = OrderedJson::array();
        for (const ObjectTag& tag : c.filter.tags) tags.push_back(TagToJson(tag));
        a["Tags"] = std::move(tags);
      }
      j["Filter"] = {{"And", std::move(a)}};
      break;
    }
  }
  j["Status"] = c.enabled ? "Enabled" : "Disabled";
  OrderedJson tierings = OrderedJson::array();
  if (c.archive_access_days) {
    tierings.push_back({{"Days", *c.archive_access_days}, {"AccessTier", kArchiveAccess}});
  }
  if (c.deep_archive_access_days) {
    tierings.push_back({{"Days", *c.deep_archive_access_days}, {"AccessTier", kDeepArchiveAccess}});
  }
  j["Tierings"] = std::move(tierings);
  return j;
}

bool HasTag(const std::vector<ObjectTag>& tags, const ObjectTag& want) {
  return std::find(tags.begin(), tags.end(), want) != tags.end();
}

void TakeSmaller(std::optional<int>& into, const std::optional<int>& days) {
  if (days && (!into || *days < *into)) into = days;
}

int Rank(AccessTier t) {
  return static_cast<int>(t);
}

}  // namespace

Result<std::vector<ItConfiguration>> ParseItConfigurations(std::string_view json) {
  if (IsBlankJson(json)) return std::vector<ItConfiguration>{};
  if (!DepthWithin(json, kMaxJsonDepth)) {
    return Malformed("The JSON you provided nests deeper than " + std::to_string(kMaxJsonDepth) +
                     " levels");
  }
  const Result<Json> parsed = ParseJsonDocument(json);
  if (!parsed.ok()) return parsed.status();
  const Json& doc = *parsed;

  std::vector<ItConfiguration> out;
  if (doc.is_object()) {
    Result<ItConfiguration> c = ParseConfiguration(doc);
    if (!c.ok()) return c.status();
    out.push_back(std::move(*c));
    return out;
  }
  if (!doc.is_array()) {
    return Malformed(
        "intelligent-tiering.json must hold an IntelligentTieringConfiguration object or an array "
        "of them");
  }
  if (doc.size() > kItMaxConfigurations) {
    return InvalidArgument(
        "You are attempting to create a new configuration but have already reached the "
        "1,000-configuration limit.");
  }
  out.reserve(doc.size());
  for (std::size_t i = 0; i < doc.size(); ++i) {
    Result<ItConfiguration> c = ParseConfiguration(doc[i]);
    if (!c.ok()) return InConfiguration(c.status(), i, doc[i]);
    for (const ItConfiguration& seen : out) {
      if (seen.id == c->id) {
        return InConfiguration(
            InvalidArgument(
                "Duplicate Id " + QuoteForMessage(c->id) +
                ": each Intelligent-Tiering configuration of a bucket needs its own Id"),
            i, doc[i]);
      }
    }
    out.push_back(std::move(*c));
  }
  return out;
}

std::string ItConfigurationsToJson(const std::vector<ItConfiguration>& configs) {
  if (configs.empty()) return "";
  OrderedJson doc;
  if (configs.size() == 1) {
    doc = ConfigurationToJson(configs.front());
  } else {
    doc = OrderedJson::array();
    for (const ItConfiguration& c : configs) doc.push_back(ConfigurationToJson(c));
  }
  return JsonDocumentText(doc);
}

bool ItFilterMatches(const ItFilter& filter, std::string_view key,
                     const std::vector<ObjectTag>& tags) {
  switch (filter.kind) {
    case ItFilter::Kind::kAll: return true;
    case ItFilter::Kind::kPrefix: return key.starts_with(filter.prefix);
    case ItFilter::Kind::kTag: return !filter.tags.empty() && HasTag(tags, filter.tags.front());
    case ItFilter::Kind::kAnd:
      if (filter.has_prefix && !key.starts_with(filter.prefix)) return false;
      return std::all_of(filter.tags.begin(), filter.tags.end(),
                         [&](const ObjectTag& t) { return HasTag(tags, t); });
  }
  return false;
}

ArchiveOptIn OptInFor(const std::vector<ItConfiguration>& configs, std::string_view key,
                      const std::vector<ObjectTag>& tags) {
  ArchiveOptIn opt;
  for (const ItConfiguration& c : configs) {
    if (!c.enabled || !ItFilterMatches(c.filter, key, tags)) continue;
    TakeSmaller(opt.archive_access_days, c.archive_access_days);
    TakeSmaller(opt.deep_archive_access_days, c.deep_archive_access_days);
  }
  return opt;
}

std::optional<ItStep> NextTierStep(AccessTier current, TimeNs last_access, std::uint64_t size,
                                   const ArchiveOptIn& opt_in) {
  if (size < kIntelligentTieringMinBytes) return std::nullopt;
  struct Threshold {
    AccessTier tier;
    std::optional<int> days;
  };
  // Ordered from hottest to coldest, so that `<=` below lets the colder tier
  // win a tie.
  const std::array<Threshold, 4> thresholds = {{
      {AccessTier::kInfrequent, kItInfrequentDays},
      {AccessTier::kArchiveInstant, kItArchiveInstantDays},
      {AccessTier::kArchiveAccess, opt_in.archive_access_days},
      {AccessTier::kDeepArchiveAccess, opt_in.deep_archive_access_days},
  }};
  std::optional<Threshold> best;
  for (const Threshold& t : thresholds) {
    if (Rank(t.tier) <= Rank(current) || !t.days) continue;
    if (!best || *t.days <= *best->days) best = t;
  }
  if (!best) return std::nullopt;
  return ItStep{best->tier, AddDays(last_access, *best->days)};
}

AccessTier TierAfter(TimeNs last_access, TimeNs now, std::uint64_t size,
                     const ArchiveOptIn& opt_in) {
  AccessTier tier = AccessTier::kFrequent;
  // Each step goes strictly deeper, so this ends within four rounds.
  while (true) {
    const std::optional<ItStep> step = NextTierStep(tier, last_access, size, opt_in);
    if (!step || step->at > now) return tier;
    tier = step->next;
  }
}

AccessTier TierOnAccess(AccessTier tier) {
  switch (tier) {
    case AccessTier::kFrequent:
    case AccessTier::kInfrequent:
    case AccessTier::kArchiveInstant: return AccessTier::kFrequent;
    case AccessTier::kArchiveAccess:
    case AccessTier::kDeepArchiveAccess: return tier;
  }
  return tier;
}

}  // namespace shoal::tiers
