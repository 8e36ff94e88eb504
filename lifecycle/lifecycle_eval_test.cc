#include "lifecycle/lifecycle_eval.h"

#include <time.h>

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "tiers/restore.h"

namespace shoal::lifecycle {
namespace {

using tiers::StorageClass;
using K = ActionKind;

constexpr std::uint64_t kBig = 1 << 20;
constexpr std::uint64_t kKiB = 1024;

// "2026-11-26T13:30:00Z" -> TimeNs, through the C library (independent of
// the code under test).
TimeNs T(const std::string& iso) {
  std::tm tm{};
  REQUIRE(strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) != nullptr);
  return static_cast<TimeNs>(timegm(&tm)) * tiers::kNsPerSecond;
}

LifecycleConfiguration Config(const std::string& json) {
  Result<LifecycleConfiguration> c = ParseLifecycleConfiguration(json);
  INFO(json);
  INFO(c.status().ToString());
  REQUIRE(c.ok());
  return *c;
}

// Enabled rules with a Filter: {id, filter, actions} each.
struct R {
  std::string id;
  std::string filter = "{}";
  std::string actions;
  bool enabled = true;
};
std::string Rules(const std::vector<R>& rules, std::string_view minimum = "") {
  std::string doc = "{";
  if (!minimum.empty())
    doc += R"("TransitionDefaultMinimumObjectSize":")" + std::string(minimum) + "\",";
  doc += R"("Rules":[)";
  for (std::size_t i = 0; i < rules.size(); ++i) {
    if (i > 0) doc += ",";
    doc += R"({"ID":")" + rules[i].id + R"(","Filter":)" + rules[i].filter + R"(,"Status":")" +
           (rules[i].enabled ? "Enabled" : "Disabled") + "\"," + rules[i].actions + "}";
  }
  return doc + "]}";
}
std::string One(std::string_view actions, std::string_view filter = "{}") {
  return Rules({{.id = "r", .filter = std::string(filter), .actions = std::string(actions)}});
}

// A version, with times as ISO text.
struct Facts {
  std::string key = "logs/a.gz";
  std::uint64_t size = kBig;
  std::vector<Tag> tags;
  StorageClass cls = StorageClass::kStandard;
  std::string created = "2026-01-15T10:30:00Z";
  bool current = true;
  bool marker = false;
  std::string noncurrent_since;
  std::int32_t newer = 0;
  bool has_versions = false;
  bool versioned = false;
};

struct Want {
  ActionKind kind;
  std::string due;
  StorageClass to = StorageClass::kStandard;
  std::string rule = "r";
};

struct Case {
  std::string name;
  std::string config;
  Facts facts;
  std::optional<Want> want;  // nullopt: no action, ever
};

VersionFacts View(const Facts& f) {
  VersionFacts v;
  v.key = f.key;
  v.size = f.size;
  v.tags = f.tags.empty() ? nullptr : &f.tags;
  v.storage_class = f.cls;
  v.created = T(f.created);
  v.is_current = f.current;
  v.is_delete_marker = f.marker;
  v.noncurrent_since = f.noncurrent_since.empty() ? 0 : T(f.noncurrent_since);
  v.newer_noncurrent = f.newer;
  v.has_noncurrent_versions = f.has_versions;
  v.versioned_bucket = f.versioned;
  return v;
}

const StorageClass kStd = StorageClass::kStandard;
const StorageClass kIa = StorageClass::kStandardIa;
const StorageClass kOz = StorageClass::kOnezoneIa;
const StorageClass kIt = StorageClass::kIntelligentTiering;
const StorageClass kGir = StorageClass::kGlacierIr;
const StorageClass kGl = StorageClass::kGlacier;
const StorageClass kDa = StorageClass::kDeepArchive;

std::vector<Case> Cases() {
  const std::string exp3 = R"("Expiration":{"Days":3})";
  const std::string exp1 = R"("Expiration":{"Days":1})";
  return {
      // Due times: Days are added, then rounded up to the next midnight UTC.
      {"created 10:30 + 3 days: midnight four days later (the user guide's example)",
       One(exp3),
       {.created = "2026-01-15T10:30:00Z"},
       Want{K::kExpire, "2026-01-19T00:00:00Z"}},
      {"created exactly at midnight + 3 days: a whole day more",
       One(exp3),
       {.created = "2026-01-15T00:00:00Z"},
       Want{K::kExpire, "2026-01-19T00:00:00Z"}},
      {"created a second before midnight + 3 days",
       One(exp3),
       {.created = "2026-01-15T23:59:59Z"},
       Want{K::kExpire, "2026-01-19T00:00:00Z"}},
      {"Jan 31 + 30 days crosses a 28-day February",
       One(R"("Expiration":{"Days":30})"),
       {.created = "2026-01-31T12:00:00Z"},
       Want{K::kExpire, "2026-03-03T00:00:00Z"}},
      {"2028-02-28 08:00 + 1 day lands on the leap day, due March 1",
       One(exp1),
       {.created = "2028-02-28T08:00:00Z"},
       Want{K::kExpire, "2028-03-01T00:00:00Z"}},
      {"2028-02-28 00:00 + 1 day is the leap day's midnight, due March 1",
       One(exp1),
       {.created = "2028-02-28T00:00:00Z"},
       Want{K::kExpire, "2028-03-01T00:00:00Z"}},
      {"2028-02-29 + 365 days is 2029-02-28",
       One(R"("Expiration":{"Days":365})"),
       {.created = "2028-02-29T12:00:00Z"},
       Want{K::kExpire, "2029-03-01T00:00:00Z"}},
      {"Days 0 transitions at the next midnight",
       One(R"("Transitions":[{"Days":0,"StorageClass":"GLACIER_IR"}])"),
       {.created = "2026-03-01T09:00:00Z"},
       Want{K::kTransition, "2026-03-02T00:00:00Z", kGir}},
      {"STANDARD_IA after 30 days",
       One(R"("Transitions":[{"Days":30,"StorageClass":"STANDARD_IA"}])"),
       {.created = "2026-03-01T09:00:00Z"},
       Want{K::kTransition, "2026-04-01T00:00:00Z", kIa}},

      // Dates.
      {"a Date after creation: due on the Date",
       One(R"("Expiration":{"Date":"2026-06-01"})"),
       {.created = "2026-01-10T08:00:00Z"},
       Want{K::kExpire, "2026-06-01T00:00:00Z"}},
      {"a Date before creation: the first midnight after creation",
       One(R"("Expiration":{"Date":"2026-06-01"})"),
       {.created = "2026-07-04T15:00:00Z"},
       Want{K::kExpire, "2026-07-05T00:00:00Z"}},
      {"created on the Date's midnight: the next midnight",
       One(R"("Expiration":{"Date":"2026-06-01"})"),
       {.created = "2026-06-01T00:00:00Z"},
       Want{K::kExpire, "2026-06-02T00:00:00Z"}},
      {"a transition Date already past",
       One(R"("Transitions":[{"Date":"2026-02-01","StorageClass":"GLACIER"}])"),
       {.created = "2026-03-10T10:00:00Z"},
       Want{K::kTransition, "2026-03-11T00:00:00Z", kGl}},

      // Conflicts on one day.
      {"unversioned: expiration (permanent deletion) beats a transition",
       Rules({{.id = "tr", .actions = R"("Transitions":[{"Days":60,"StorageClass":"GLACIER"}])"},
              {.id = "exp", .actions = R"("Expiration":{"Days":60})"}}),
       {.created = "2026-01-01T10:00:00Z"},
       Want{K::kExpire, "2026-03-03T00:00:00Z", kStd, "exp"}},
      {"versioned: a transition beats delete-marker creation",
       Rules({{.id = "exp", .actions = R"("Expiration":{"Days":60})"},
              {.id = "tr", .actions = R"("Transitions":[{"Days":60,"StorageClass":"GLACIER"}])"}}),
       {.created = "2026-01-01T10:00:00Z", .versioned = true},
       Want{K::kTransition, "2026-03-03T00:00:00Z", kGl, "tr"}},
      {"GLACIER beats STANDARD_IA",
       Rules(
           {{.id = "ia", .actions = R"("Transitions":[{"Days":30,"StorageClass":"STANDARD_IA"}])"},
            {.id = "gl", .actions = R"("Transitions":[{"Days":30,"StorageClass":"GLACIER"}])"}}),
       {.created = "2026-01-01T10:00:00Z"},
       Want{K::kTransition, "2026-02-01T00:00:00Z", kGl, "gl"}},
      {"INTELLIGENT_TIERING beats GLACIER_IR, though dearer",
       Rules(
           {{.id = "gir", .actions = R"("Transitions":[{"Days":30,"StorageClass":"GLACIER_IR"}])"},
            {.id = "it",
             .actions = R"("Transitions":[{"Days":30,"StorageClass":"INTELLIGENT_TIERING"}])"}}),
       {.created = "2026-01-01T10:00:00Z"},
       Want{K::kTransition, "2026-02-01T00:00:00Z", kIt, "it"}},
      {"INTELLIGENT_TIERING beats STANDARD_IA",
       Rules(
           {{.id = "ia", .actions = R"("Transitions":[{"Days":30,"StorageClass":"STANDARD_IA"}])"},
            {.id = "it",
             .actions = R"("Transitions":[{"Days":30,"StorageClass":"INTELLIGENT_TIERING"}])"}}),
       {.created = "2026-01-01T10:00:00Z"},
       Want{K::kTransition, "2026-02-01T00:00:00Z", kIt, "it"}},
      {"GLACIER beats INTELLIGENT_TIERING",
       Rules({{.id = "it",
               .actions = R"("Transitions":[{"Days":30,"StorageClass":"INTELLIGENT_TIERING"}])"},
              {.id = "gl", .actions = R"("Transitions":[{"Days":30,"StorageClass":"GLACIER"}])"}}),
       {.created = "2026-01-01T10:00:00Z"},
       Want{K::kTransition, "2026-02-01T00:00:00Z", kGl, "gl"}},
      {"DEEP_ARCHIVE beats GLACIER",
       Rules({{.id = "gl", .actions = R"("Transitions":[{"Days":30,"StorageClass":"GLACIER"}])"},
              {.id = "da",
               .actions = R"("Transitions":[{"Days":30,"StorageClass":"DEEP_ARCHIVE"}])"}}),
       {.created = "2026-01-01T10:00:00Z"},
       Want{K::kTransition, "2026-02-01T00:00:00Z", kDa, "da"}},
      {"the cheaper GLACIER_IR beats ONEZONE_IA",
       Rules({{.id = "oz", .actions = R"("Transitions":[{"Days":30,"StorageClass":"ONEZONE_IA"}])"},
              {.id = "gir",
               .actions = R"("Transitions":[{"Days":30,"StorageClass":"GLACIER_IR"}])"}}),
       {.created = "2026-01-01T10:00:00Z"},
       Want{K::kTransition, "2026-02-01T00:00:00Z", kGir, "gir"}},
      {"two expirations on one day: the rule listed first",
       Rules({{.id = "a", .actions = R"("Expiration":{"Days":10})"},
              {.id = "b", .actions = R"("Expiration":{"Days":10})"}}),
       {.created = "2026-01-01T10:00:00Z"},
       Want{K::kExpire, "2026-01-12T00:00:00Z", kStd, "a"}},
      {"the shorter expiration wins",
       Rules({{.id = "long", .actions = R"("Expiration":{"Days":100})"},
              {.id = "short", .actions = R"("Expiration":{"Days":50})"}}),
       {.created = "2026-01-01T10:00:00Z"},
       Want{K::kExpire, "2026-02-21T00:00:00Z", kStd, "short"}},
      {"an earlier transition comes before a later expiration",
       One(R"("Transitions":[{"Days":30,"StorageClass":"STANDARD_IA"}],"Expiration":{"Days":365})"),
       {.created = "2026-01-01T10:00:00Z"},
       Want{K::kTransition, "2026-02-01T00:00:00Z", kIa}},

      // The waterfall.
      {"an object already in GLACIER does not go up to STANDARD_IA",
       One(R"("Transitions":[{"Days":30,"StorageClass":"STANDARD_IA"}])"),
       {.cls = kGl},
       std::nullopt},
      {"an object in GLACIER skips STANDARD_IA and waits for DEEP_ARCHIVE",
       One(R"("Transitions":[{"Days":30,"StorageClass":"STANDARD_IA"},{"Days":180,"StorageClass":"DEEP_ARCHIVE"}])"),
       {.cls = kGl, .created = "2026-01-01T10:00:00Z"},
       Want{K::kTransition, "2026-07-01T00:00:00Z", kDa}},
      {"an object in STANDARD_IA skips its own class",
       One(R"("Transitions":[{"Days":30,"StorageClass":"STANDARD_IA"},{"Days":60,"StorageClass":"GLACIER"}])"),
       {.cls = kIa, .created = "2026-01-01T10:00:00Z"},
       Want{K::kTransition, "2026-03-03T00:00:00Z", kGl}},
      {"INTELLIGENT_TIERING never moves to STANDARD_IA",
       One(R"("Transitions":[{"Days":30,"StorageClass":"STANDARD_IA"}])"),
       {.cls = kIt},
       std::nullopt},
      {"ONEZONE_IA never moves to GLACIER_IR",
       One(R"("Transitions":[{"Days":0,"StorageClass":"GLACIER_IR"}])"),
       {.cls = kOz},
       std::nullopt},
      {"DEEP_ARCHIVE objects still expire",
       One(exp3),
       {.cls = kDa, .created = "2026-01-15T10:30:00Z"},
       Want{K::kExpire, "2026-01-19T00:00:00Z", kDa}},

      // The 128 KiB minimum.
      {"a 100 KiB object does not transition by default",
       One(R"("Transitions":[{"Days":0,"StorageClass":"GLACIER"}])"),
       {.size = 100 * kKiB},
       std::nullopt},
      {"an object of exactly 128 KiB transitions",
       One(R"("Transitions":[{"Days":0,"StorageClass":"GLACIER"}])"),
       {.size = 128 * kKiB, .created = "2026-01-15T10:30:00Z"},
       Want{K::kTransition, "2026-01-16T00:00:00Z", kGl}},
      {"varies_by_storage_class: a 100 KiB object goes to GLACIER",
       Rules({{.id = "r", .actions = R"("Transitions":[{"Days":0,"StorageClass":"GLACIER"}])"}},
             "varies_by_storage_class"),
       {.size = 100 * kKiB, .created = "2026-01-15T10:30:00Z"},
       Want{K::kTransition, "2026-01-16T00:00:00Z", kGl}},
      {"varies_by_storage_class: a 100 KiB object stays out of GLACIER_IR",
       Rules({{.id = "r", .actions = R"("Transitions":[{"Days":0,"StorageClass":"GLACIER_IR"}])"}},
             "varies_by_storage_class"),
       {.size = 100 * kKiB},
       std::nullopt},
      {"ObjectSizeGreaterThan 1000 lets a 100 KiB object transition",
       One(R"("Transitions":[{"Days":0,"StorageClass":"GLACIER_IR"}])",
           R"({"ObjectSizeGreaterThan":1000})"),
       {.size = 100 * kKiB, .created = "2026-01-15T10:30:00Z"},
       Want{K::kTransition, "2026-01-16T00:00:00Z", kGir}},
      {"expiration ignores the minimum size",
       One(exp1),
       {.size = 10, .created = "2026-01-15T10:30:00Z"},
       Want{K::kExpire, "2026-01-17T00:00:00Z"}},

      // Filters.
      {"a prefix that does not match",
       One(exp1, R"({"Prefix":"tmp/"})"),
       {.key = "logs/a"},
       std::nullopt},
      {"a prefix that matches",
       One(exp1, R"({"Prefix":"logs/"})"),
       {.key = "logs/a"},
       Want{K::kExpire, "2026-01-17T00:00:00Z"}},
      {"a tag the object carries, among others",
       One(exp1, R"({"Tag":{"Key":"k","Value":"v"}})"),
       {.tags = {{"x", "y"}, {"k", "v"}}},
       Want{K::kExpire, "2026-01-17T00:00:00Z"}},
      {"a tag with another value",
       One(exp1, R"({"Tag":{"Key":"k","Value":"v"}})"),
       {.tags = {{"k", "w"}}},
       std::nullopt},
      {"a tag filter and an untagged object",
       One(exp1, R"({"Tag":{"Key":"k","Value":"v"}})"),
       {},
       std::nullopt},
      {"And: prefix and tag both met",
       One(exp1, R"({"And":{"Prefix":"logs/","Tags":[{"Key":"k","Value":"v"}]}})"),
       {.key = "logs/x", .tags = {{"k", "v"}}},
       Want{K::kExpire, "2026-01-17T00:00:00Z"}},
      {"And: the prefix fails",
       One(exp1, R"({"And":{"Prefix":"logs/","Tags":[{"Key":"k","Value":"v"}]}})"),
       {.key = "tmp/x", .tags = {{"k", "v"}}},
       std::nullopt},
      {"size bounds are strict: at the lower bound",
       One(exp1, R"({"And":{"ObjectSizeGreaterThan":1000,"ObjectSizeLessThan":2000}})"),
       {.size = 1000},
       std::nullopt},
      {"size bounds are strict: inside",
       One(exp1, R"({"And":{"ObjectSizeGreaterThan":1000,"ObjectSizeLessThan":2000}})"),
       {.size = 1500},
       Want{K::kExpire, "2026-01-17T00:00:00Z"}},
      {"size bounds are strict: at the upper bound",
       One(exp1, R"({"And":{"ObjectSizeGreaterThan":1000,"ObjectSizeLessThan":2000}})"),
       {.size = 2000},
       std::nullopt},
      {"a disabled rule does nothing",
       Rules({{.id = "off", .actions = exp1, .enabled = false}}),
       {},
       std::nullopt},
      {"a disabled rule is passed over for an enabled one",
       Rules({{.id = "off", .actions = exp1, .enabled = false},
              {.id = "on", .actions = R"("Expiration":{"Days":5})"}}),
       {},
       Want{K::kExpire, "2026-01-21T00:00:00Z", kStd, "on"}},

      // Noncurrent versions.
      {"a noncurrent version expires NoncurrentDays after its successor (the user guide's example)",
       One(R"("NoncurrentVersionExpiration":{"NoncurrentDays":5})"),
       {.created = "2026-01-01T10:30:00Z",
        .current = false,
        .noncurrent_since = "2026-01-02T11:30:00Z"},
       Want{K::kNoncurrentExpire, "2026-01-08T00:00:00Z"}},
      {"NewerNoncurrentVersions 2 keeps a version with one newer",
       One(R"("NoncurrentVersionExpiration":{"NoncurrentDays":5,"NewerNoncurrentVersions":2})"),
       {.current = false, .noncurrent_since = "2026-01-02T11:30:00Z", .newer = 1},
       std::nullopt},
      {"NewerNoncurrentVersions 2 lets a version with two newer go",
       One(R"("NoncurrentVersionExpiration":{"NoncurrentDays":5,"NewerNoncurrentVersions":2})"),
       {.current = false, .noncurrent_since = "2026-01-02T11:30:00Z", .newer = 2},
       Want{K::kNoncurrentExpire, "2026-01-08T00:00:00Z"}},
      {"a noncurrent transition",
       One(R"("NoncurrentVersionTransitions":[{"NoncurrentDays":0,"StorageClass":"GLACIER"}])"),
       {.current = false, .noncurrent_since = "2026-03-03T05:00:00Z"},
       Want{K::kNoncurrentTransition, "2026-03-04T00:00:00Z", kGl}},
      {"a noncurrent transition waits for NewerNoncurrentVersions",
       One(R"("NoncurrentVersionTransitions":[{"NoncurrentDays":0,"StorageClass":"GLACIER","NewerNoncurrentVersions":3}])"),
       {.current = false, .noncurrent_since = "2026-03-03T05:00:00Z", .newer = 2},
       std::nullopt},
      {"noncurrent expiration beats a noncurrent transition on one day",
       Rules(
           {{.id = "tr",
             .actions =
                 R"("NoncurrentVersionTransitions":[{"NoncurrentDays":10,"StorageClass":"GLACIER"}])"},
            {.id = "ex", .actions = R"("NoncurrentVersionExpiration":{"NoncurrentDays":10})"}}),
       {.current = false, .noncurrent_since = "2026-03-03T05:00:00Z"},
       Want{K::kNoncurrentExpire, "2026-03-14T00:00:00Z", kStd, "ex"}},
      {"current-version actions leave noncurrent versions alone",
       One(R"("Expiration":{"Days":1},"Transitions":[{"Days":0,"StorageClass":"GLACIER"}])"),
       {.current = false, .noncurrent_since = "2026-03-03T05:00:00Z"},
       std::nullopt},
      {"noncurrent actions leave the current version alone",
       One(R"("NoncurrentVersionExpiration":{"NoncurrentDays":1})"),
       {},
       std::nullopt},
      {"a noncurrent delete marker expires",
       One(R"("NoncurrentVersionExpiration":{"NoncurrentDays":1})"),
       {.size = 0, .current = false, .marker = true, .noncurrent_since = "2026-03-03T05:00:00Z"},
       Want{K::kNoncurrentExpire, "2026-03-05T00:00:00Z"}},
      {"a noncurrent delete marker does not transition",
       One(R"("NoncurrentVersionTransitions":[{"NoncurrentDays":0,"StorageClass":"GLACIER"}])"),
       {.current = false, .marker = true, .noncurrent_since = "2026-03-03T05:00:00Z"},
       std::nullopt},

      // Delete markers.
      {"an expired object delete marker is removed",
       One(R"("Expiration":{"ExpiredObjectDeleteMarker":true})"),
       {.size = 0, .created = "2026-02-01T13:00:00Z", .marker = true},
       Want{K::kRemoveExpiredDeleteMarker, "2026-02-02T00:00:00Z"}},
      {"a delete marker with versions beneath it stays",
       One(R"("Expiration":{"ExpiredObjectDeleteMarker":true})"),
       {.size = 0, .marker = true, .has_versions = true},
       std::nullopt},
      {"Expiration Days also removes old expired delete markers",
       One(R"("Expiration":{"Days":10})"),
       {.size = 0, .created = "2026-02-01T13:00:00Z", .marker = true},
       Want{K::kRemoveExpiredDeleteMarker, "2026-02-12T00:00:00Z"}},
      {"ExpiredObjectDeleteMarker false does nothing",
       One(R"("Expiration":{"ExpiredObjectDeleteMarker":false})"),
       {.size = 0, .marker = true},
       std::nullopt},
      {"a delete marker is never transitioned",
       One(R"("Transitions":[{"Days":0,"StorageClass":"GLACIER"}])"),
       {.marker = true},
       std::nullopt},

      {"multipart rules do nothing to objects",
       One(R"("AbortIncompleteMultipartUpload":{"DaysAfterInitiation":1})"),
       {},
       std::nullopt},
  };
}

TEST_CASE("the next lifecycle action of a version, and when it is due", "[lifecycle][eval]") {
  for (const Case& c : Cases()) {
    INFO(c.name);
    const LifecycleConfiguration config = Config(c.config);
    const std::optional<Action> got = NextAction(config, View(c.facts));
    if (!c.want) {
      CHECK_FALSE(got.has_value());
      if (got) INFO("got due " << FormatIso8601(got->due));
      continue;
    }
    REQUIRE(got.has_value());
    CHECK(got->kind == c.want->kind);
    CHECK(FormatIso8601(got->due) == c.want->due);
    CHECK(got->to == c.want->to);
    CHECK(got->rule_id == c.want->rule);
  }
}

TEST_CASE("applying each action in turn walks the object down the waterfall", "[lifecycle][eval]") {
  const LifecycleConfiguration c = Config(One(
      R"("Transitions":[{"Days":30,"StorageClass":"STANDARD_IA"},{"Days":60,"StorageClass":"GLACIER"},
         {"Days":150,"StorageClass":"DEEP_ARCHIVE"}],"Expiration":{"Days":365})"));
  Facts f{.created = "2026-01-01T10:00:00Z"};
  std::vector<std::pair<ActionKind, std::string>> steps;
  for (int i = 0; i < 10; ++i) {
    const std::optional<Action> a = NextAction(c, View(f));
    if (!a) break;
    steps.emplace_back(a->kind, FormatIso8601(a->due));
    if (a->kind != K::kTransition) break;
    f.cls = a->to;
  }
  CHECK(steps == std::vector<std::pair<ActionKind, std::string>>{
                     {K::kTransition, "2026-02-01T00:00:00Z"},
                     {K::kTransition, "2026-03-03T00:00:00Z"},
                     {K::kTransition, "2026-06-01T00:00:00Z"},
                     {K::kExpire, "2027-01-02T00:00:00Z"},
                 });
  CHECK(f.cls == kDa);
}

TEST_CASE("filters match by prefix, tags and strict size bounds", "[lifecycle][eval]") {
  const std::vector<Tag> tags = {{"team", "data"}, {"env", "prod"}};
  VersionFacts v;
  v.key = "logs/2026/a.gz";
  v.size = 500;
  CHECK(Matches(Filter{}, v));
  CHECK(Matches(Filter{.prefix = ""}, v));
  CHECK(Matches(Filter{.prefix = "logs/"}, v));
  CHECK_FALSE(Matches(Filter{.prefix = "logs/2027"}, v));
  CHECK_FALSE(Matches(Filter{.tags = {{"env", "prod"}}}, v));  // no tags
  v.tags = &tags;
  CHECK(Matches(Filter{.tags = {{"env", "prod"}}}, v));
  CHECK(Matches(Filter{.tags = {{"env", "prod"}, {"team", "data"}}}, v));
  CHECK_FALSE(Matches(Filter{.tags = {{"env", "dev"}}}, v));
  CHECK_FALSE(Matches(Filter{.tags = {{"ENV", "prod"}}}, v));
  CHECK_FALSE(Matches(Filter{.tags = {{"env", "prod"}, {"owner", "x"}}}, v));
  CHECK(Matches(Filter{.size_greater_than = 499}, v));
  CHECK_FALSE(Matches(Filter{.size_greater_than = 500}, v));
  CHECK(Matches(Filter{.size_less_than = 501}, v));
  CHECK_FALSE(Matches(Filter{.size_less_than = 500}, v));
  CHECK(Matches(Filter{.prefix = "logs/",
                       .tags = {{"team", "data"}},
                       .size_greater_than = 0,
                       .size_less_than = 1000},
                v));
}

TEST_CASE("x-amz-expiration names the earliest expiration and its rule", "[lifecycle][eval]") {
  Facts f{.created = "2026-01-15T10:30:00Z"};
  CHECK(ExpirationHeader(
            Config(Rules({{.id = "Delete after 3 days", .actions = R"("Expiration":{"Days":3})"}})),
            View(f)) ==
        R"(expiry-date="Mon, 19 Jan 2026 00:00:00 GMT", rule-id="Delete after 3 days")");
  // The HeadObject sample's date, which was a Friday.
  CHECK(ExpirationHeader(Config(Rules({{.id = "Rule for testfile.txt",
                                        .actions = R"("Expiration":{"Date":"2012-12-21"})"}})),
                         View(Facts{.created = "2012-11-01T08:00:00Z"})) ==
        R"(expiry-date="Fri, 21 Dec 2012 00:00:00 GMT", rule-id="Rule for testfile.txt")");
  const LifecycleConfiguration two = Config(Rules(
      {{.id = "year", .actions = R"("Expiration":{"Days":365})"},
       {.id = "logs", .filter = R"({"Prefix":"logs/"})", .actions = R"("Expiration":{"Days":7})"},
       {.id = "week", .actions = R"("Expiration":{"Days":7})"},
       {.id = "glacier", .actions = R"("Transitions":[{"Days":1,"StorageClass":"GLACIER"}])"}}));
  CHECK(ExpirationHeader(two, View(f)) ==
        R"(expiry-date="Fri, 23 Jan 2026 00:00:00 GMT", rule-id="logs")");
  Facts elsewhere = f;
  elsewhere.key = "img/a.png";
  CHECK(ExpirationHeader(two, View(elsewhere)) ==
        R"(expiry-date="Fri, 23 Jan 2026 00:00:00 GMT", rule-id="week")");

  const LifecycleConfiguration c = Config(One(R"("Expiration":{"Days":3})"));
  CHECK_FALSE(ExpirationHeader(c, View(Facts{.marker = true})));
  CHECK_FALSE(ExpirationHeader(
      c, View(Facts{.current = false, .noncurrent_since = "2026-01-20T00:00:00Z"})));
  CHECK(ExpirationHeader(c, View(Facts{.key = "x", .size = 1})).has_value());
  CHECK_FALSE(
      ExpirationHeader(Config(One(R"("Expiration":{"ExpiredObjectDeleteMarker":true})")), View(f)));
  CHECK_FALSE(ExpirationHeader(
      Config(One(R"("Transitions":[{"Days":0,"StorageClass":"GLACIER"}])")), View(f)));
  CHECK_FALSE(ExpirationHeader(
      Config(Rules({{.id = "off", .actions = R"("Expiration":{"Days":3})", .enabled = false}})),
      View(f)));
  CHECK_FALSE(ExpirationHeader(LifecycleConfiguration{}, View(f)));
}

TEST_CASE("incomplete multipart uploads are aborted by the earliest matching rule",
          "[lifecycle][eval]") {
  const LifecycleConfiguration c = Config(Rules({
      {.id = "bucket", .actions = R"("AbortIncompleteMultipartUpload":{"DaysAfterInitiation":10})"},
      {.id = "uploads",
       .filter = R"({"Prefix":"uploads/"})",
       .actions = R"("AbortIncompleteMultipartUpload":{"DaysAfterInitiation":7})"},
      {.id = "tmp",
       .filter = R"({"Prefix":"tmp/"})",
       .actions = R"("AbortIncompleteMultipartUpload":{"DaysAfterInitiation":1})",
       .enabled = false},
      {.id = "expire", .actions = R"("Expiration":{"Days":1})"},
  }));
  const TimeNs initiated = T("2026-05-05T18:00:00Z");
  CHECK(AbortDeadline(c, "uploads/big.iso", initiated) ==
        Deadline{.at = T("2026-05-13T00:00:00Z"), .rule_id = "uploads"});
  CHECK(AbortDeadline(c, "other/big.iso", initiated) ==
        Deadline{.at = T("2026-05-16T00:00:00Z"), .rule_id = "bucket"});
  CHECK(AbortDeadline(c, "tmp/x", initiated) ==
        Deadline{.at = T("2026-05-16T00:00:00Z"), .rule_id = "bucket"});
  CHECK(tiers::FormatHttpDate(AbortDeadline(c, "uploads/x", initiated)->at) ==
        "Wed, 13 May 2026 00:00:00 GMT");

  const LifecycleConfiguration prefixed = Config(One(
      R"("AbortIncompleteMultipartUpload":{"DaysAfterInitiation":3})", R"({"Prefix":"uploads/"})"));
  CHECK_FALSE(AbortDeadline(prefixed, "logs/x", initiated));
  CHECK(AbortDeadline(prefixed, "uploads/x", T("2026-05-05T00:00:00Z"))->at ==
        T("2026-05-09T00:00:00Z"));
  CHECK_FALSE(AbortDeadline(LifecycleConfiguration{}, "x", initiated));
}

}  // namespace
}  // namespace shoal::lifecycle
