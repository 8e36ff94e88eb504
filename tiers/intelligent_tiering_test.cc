#include "tiers/intelligent_tiering.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tiers/restore.h"

namespace shoal::tiers {
namespace {

constexpr std::uint64_t kBig = 1 << 20;
constexpr TimeNs kT0 = 1'790'000'000LL * kNsPerSecond;  // 2026-09-21T14:13:20Z

TimeNs Day(std::int64_t d) {
  return kT0 + d * kNsPerDay;
}

ArchiveOptIn OptIn(std::optional<int> aa, std::optional<int> daa) {
  ArchiveOptIn o;
  o.archive_access_days = aa;
  o.deep_archive_access_days = daa;
  return o;
}

std::vector<ItConfiguration> Parse(std::string_view json) {
  Result<std::vector<ItConfiguration>> r = ParseItConfigurations(json);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

void Fails(std::string_view json, Code code, std::string_view message) {
  Result<std::vector<ItConfiguration>> r = ParseItConfigurations(json);
  INFO("input: " << std::string(json));
  REQUIRE_FALSE(r.ok());
  INFO("got: " << r.status().ToString());
  CHECK(r.status().code() == code);
  CHECK(r.status().message().find(message) != std::string::npos);
}

// A configuration with `body` spliced in after the Id, so that each bad
// input below differs from a valid one in one place.
std::string Config(std::string_view body) {
  return "{\"Id\":\"cfg\"," + std::string(body) + "}";
}
constexpr std::string_view kTierings = R"("Tierings":[{"Days":90,"AccessTier":"ARCHIVE_ACCESS"}])";

TEST_CASE("the documented configuration parses", "[tiers][intelligent-tiering]") {
  const auto configs = Parse(R"({
    "Id": "archive-logs",
    "Filter": {"And": {"Prefix": "logs/", "Tags": [{"Key": "k", "Value": "v"}]}},
    "Status": "Enabled",
    "Tierings": [
      {"Days": 90, "AccessTier": "ARCHIVE_ACCESS"},
      {"Days": 180, "AccessTier": "DEEP_ARCHIVE_ACCESS"}
    ]
  })");
  REQUIRE(configs.size() == 1);
  const ItConfiguration& c = configs[0];
  CHECK(c.id == "archive-logs");
  CHECK(c.enabled);
  CHECK(c.filter.kind == ItFilter::Kind::kAnd);
  CHECK(c.filter.has_prefix);
  CHECK(c.filter.prefix == "logs/");
  CHECK(c.filter.tags == std::vector<ObjectTag>{{"k", "v"}});
  CHECK(c.archive_access_days == 90);
  CHECK(c.deep_archive_access_days == 180);
}

TEST_CASE("the file holds one configuration, an array of them, or nothing",
          "[tiers][intelligent-tiering]") {
  CHECK(Parse("").empty());
  CHECK(Parse(" \n\t").empty());
  CHECK(Parse("[]").empty());
  const auto two = Parse(R"([
    {"Id":"a","Status":"Enabled","Filter":{"Prefix":"p/"},
     "Tierings":[{"Days":365,"AccessTier":"DEEP_ARCHIVE_ACCESS"}]},
    {"Id":"b","Status":"Disabled","Filter":{"Tag":{"Key":"team","Value":""}},
     "Tierings":[{"AccessTier":"ARCHIVE_ACCESS","Days":730}]}
  ])");
  REQUIRE(two.size() == 2);
  CHECK(two[0].filter.kind == ItFilter::Kind::kPrefix);
  CHECK(two[0].filter.prefix == "p/");
  CHECK_FALSE(two[0].archive_access_days);
  CHECK(two[0].deep_archive_access_days == 365);
  CHECK_FALSE(two[1].enabled);
  CHECK(two[1].filter.kind == ItFilter::Kind::kTag);
  CHECK(two[1].filter.tags == std::vector<ObjectTag>{{"team", ""}});
  CHECK(two[1].archive_access_days == 730);
  // No Filter: the whole bucket.
  const auto all = Parse(Config(R"("Status":"Enabled",)" + std::string(kTierings)));
  CHECK(all[0].filter.kind == ItFilter::Kind::kAll);
  const auto empty_filter =
      Parse(Config(R"("Filter":{},"Status":"Enabled",)" + std::string(kTierings)));
  CHECK(empty_filter[0].filter.kind == ItFilter::Kind::kAll);
}

TEST_CASE("configurations read back as the JSON that parses to them",
          "[tiers][intelligent-tiering]") {
  CHECK(ItConfigurationsToJson({}).empty());
  const auto one = Parse(R"({"Tierings":[{"Days":180,"AccessTier":"DEEP_ARCHIVE_ACCESS"},
                                          {"Days":90,"AccessTier":"ARCHIVE_ACCESS"}],
                             "Status":"Enabled","Filter":{"Prefix":"p/"},"Id":"x"})");
  CHECK(ItConfigurationsToJson(one) == R"({
  "Id": "x",
  "Filter": {
    "Prefix": "p/"
  },
  "Status": "Enabled",
  "Tierings": [
    {
      "Days": 90,
      "AccessTier": "ARCHIVE_ACCESS"
    },
    {
      "Days": 180,
      "AccessTier": "DEEP_ARCHIVE_ACCESS"
    }
  ]
}
)");
  const auto many = Parse(R"([
    {"Id":"all","Status":"Disabled","Tierings":[{"Days":100,"AccessTier":"ARCHIVE_ACCESS"}]},
    {"Id":"tag","Status":"Enabled","Filter":{"Tag":{"Key":"k","Value":"v"}},
     "Tierings":[{"Days":200,"AccessTier":"DEEP_ARCHIVE_ACCESS"}]},
    {"Id":"and","Status":"Enabled","Filter":{"And":{"Tags":[{"Key":"a","Value":"1"},{"Key":"b","Value":"2"}]}},
     "Tierings":[{"Days":90,"AccessTier":"ARCHIVE_ACCESS"},{"Days":181,"AccessTier":"DEEP_ARCHIVE_ACCESS"}]},
    {"Id":"and-prefix","Status":"Enabled","Filter":{"And":{"Prefix":"ü/","Tags":[{"Key":"ключ","Value":"v"}]}},
     "Tierings":[{"Days":90,"AccessTier":"ARCHIVE_ACCESS"}]}
  ])");
  REQUIRE(many.size() == 4);
  const std::string text = ItConfigurationsToJson(many);
  CHECK(text.front() == '[');
  CHECK(Parse(text) == many);
  CHECK(Parse(ItConfigurationsToJson(one)) == one);
}

TEST_CASE("malformed configurations are MalformedJSON", "[tiers][intelligent-tiering]") {
  const Code m = Code::kMalformedJson;
  Fails("{", m, "The JSON you provided was not well-formed: parse error at line 1, column 2");
  Fails("{\"Id\":\"x\",}", m, "not well-formed");
  Fails("{} {}", m, "not well-formed");
  Fails("\"Id\"", m, "must hold an IntelligentTieringConfiguration object or an array of them");
  Fails("42", m, "must hold an IntelligentTieringConfiguration object");
  Fails("[42]", m, "Configuration [0]: IntelligentTieringConfiguration must be a JSON object");
  Fails(std::string(100, '[') + std::string(100, ']'), m, "nests deeper than 64 levels");
  // A string full of brackets is not nesting.
  Fails(Config(R"("Status":"Enabled","Tierings":[],"X":")" + std::string(100, '[') + "\""), m,
        "Unknown field \"X\"");

  Fails(R"({"Status":"Enabled","Tierings":[{"Days":90,"AccessTier":"ARCHIVE_ACCESS"}]})", m,
        "Missing required field Id in IntelligentTieringConfiguration");
  Fails(R"({"Id":7,"Status":"Enabled"})", m,
        "Id in IntelligentTieringConfiguration must be a string");
  Fails(Config(kTierings), m, "Missing required field Status");
  Fails(Config(R"("Status":"enabled",)" + std::string(kTierings)), m,
        "Status must be Enabled or Disabled, not \"enabled\"");
  Fails(Config(R"("Status":true,)" + std::string(kTierings)), m, "Status in");
  Fails(Config(R"("Status":"Enabled")"), m, "Missing required field Tierings");
  Fails(Config(R"("Status":"Enabled","Tierings":{})"), m, "Tierings must be an array");
  Fails(Config(R"("Status":"Enabled","Tierings":[])"), m,
        "Tierings must list at least one Tiering");
  Fails(Config(R"("Status":"Enabled","Tierings":[90])"), m, "Each Tiering must be an object");
  Fails(Config(R"("Status":"Enabled","Tierings":[{"Days":90}])"), m,
        "Missing required field AccessTier in Tiering");
  Fails(Config(R"("Status":"Enabled","Tierings":[{"AccessTier":"ARCHIVE_ACCESS"}])"), m,
        "Missing required field Days in Tiering");
  Fails(Config(R"("Status":"Enabled","Tierings":[{"Days":90,"AccessTier":"GLACIER"}])"), m,
        "AccessTier must be ARCHIVE_ACCESS or DEEP_ARCHIVE_ACCESS, not \"GLACIER\"");
  Fails(Config(R"("Status":"Enabled","Tierings":[{"Days":"90","AccessTier":"ARCHIVE_ACCESS"}])"), m,
        "Days in Tiering must be an integer");
  Fails(Config(R"("Status":"Enabled","Tierings":[{"Days":90.5,"AccessTier":"ARCHIVE_ACCESS"}])"), m,
        "Days in Tiering must be an integer");
  Fails(
      Config(R"("Status":"Enabled","Tierings":[{"Days":90,"AccessTier":"ARCHIVE_ACCESS","X":1}])"),
      m, "Unknown field \"X\" in Tiering (expected Days, AccessTier)");
  Fails(Config(R"("Status":"Enabled","Rules":[],)" + std::string(kTierings)), m,
        "Unknown field \"Rules\" in IntelligentTieringConfiguration (expected Id, Filter, Status, "
        "Tierings)");
  Fails(Config(R"("Status":"Enabled","Filter":"p/",)" + std::string(kTierings)), m,
        "Filter must be an object");
  Fails(Config(R"("Status":"Enabled","Filter":{"Prefix":"p/","Tag":{"Key":"k","Value":"v"}},)" +
               std::string(kTierings)),
        m, "Filter must contain exactly one of Prefix, Tag or And");
  Fails(Config(R"("Status":"Enabled","Filter":{"Suffix":".log"},)" + std::string(kTierings)), m,
        "Unknown field \"Suffix\" in Filter");
  Fails(Config(R"("Status":"Enabled","Filter":{"Prefix":3},)" + std::string(kTierings)), m,
        "Prefix in Filter must be a string");
  Fails(Config(R"("Status":"Enabled","Filter":{"Tag":{"Key":"k"}},)" + std::string(kTierings)), m,
        "Missing required field Value in Filter.Tag");
  Fails(Config(R"("Status":"Enabled","Filter":{"Tag":["k","v"]},)" + std::string(kTierings)), m,
        "Filter.Tag must be an object");
  Fails(Config(R"("Status":"Enabled","Filter":{"And":[]},)" + std::string(kTierings)), m,
        "Filter.And must be an object");
  Fails(
      Config(
          R"("Status":"Enabled","Filter":{"And":{"Prefix":"p/","Tags":{"Key":"k","Value":"v"}}},)" +
          std::string(kTierings)),
      m, "Filter.And.Tags must be an array");
  Fails(
      Config(
          R"("Status":"Enabled","Filter":{"And":{"Prefix":"p/","Tag":{"Key":"k","Value":"v"}}},)" +
          std::string(kTierings)),
      m, "Unknown field \"Tag\" in Filter.And");
}

TEST_CASE("invalid configurations are InvalidArgument in S3's words",
          "[tiers][intelligent-tiering]") {
  const Code a = Code::kInvalidArgument;
  auto with_id = [](std::string_view id) {
    return R"({"Id":")" + std::string(id) + R"(","Status":"Enabled",)" + std::string(kTierings) +
           "}";
  };
  Fails(with_id(""), a, "Config Id cannot be null or empty.");
  CHECK(Parse(with_id(std::string(64, 'x')))[0].id.size() == 64);
  Fails(with_id(std::string(65, 'x')), a,
        "Config Id should be more than 1 character and less than 64 characters in length.");
  Fails(with_id("has space"), a, R"(Config Id does not match the pattern ^[a-zA-Z0-9\-_.]+$)");
  Fails(with_id("a/b"), a, "Config Id does not match the pattern");
  CHECK(Parse(with_id("A-z_0.9"))[0].id == "A-z_0.9");

  auto tierings = [](std::string_view t) {
    return Config(R"("Status":"Enabled","Tierings":[)" + std::string(t) + "]");
  };
  Fails(tierings(R"({"Days":89,"AccessTier":"ARCHIVE_ACCESS"})"), a,
        "Days specified in ARCHIVE_ACCESS tier should not be less than 90.");
  Fails(tierings(R"({"Days":-5,"AccessTier":"ARCHIVE_ACCESS"})"), a,
        "Days specified in ARCHIVE_ACCESS tier should not be less than 90.");
  Fails(tierings(R"({"Days":731,"AccessTier":"ARCHIVE_ACCESS"})"), a,
        "Days specified in ARCHIVE_ACCESS tier should not be more than 730.");
  Fails(tierings(R"({"Days":18446744073709551615,"AccessTier":"ARCHIVE_ACCESS"})"), a,
        "should not be more than 730.");
  Fails(tierings(R"({"Days":179,"AccessTier":"DEEP_ARCHIVE_ACCESS"})"), a,
        "Days specified in DEEP_ARCHIVE_ACCESS tier should not be less than 180.");
  Fails(tierings(R"({"Days":731,"AccessTier":"DEEP_ARCHIVE_ACCESS"})"), a,
        "Days specified in DEEP_ARCHIVE_ACCESS tier should not be more than 730.");
  Fails(
      tierings(
          R"({"Days":90,"AccessTier":"ARCHIVE_ACCESS"},{"Days":91,"AccessTier":"ARCHIVE_ACCESS"})"),
      a,
      "All Access Tiers in a configuration must be unique. Found duplicate entry for "
      "ARCHIVE_ACCESS.");
  Fails(
      tierings(
          R"({"Days":200,"AccessTier":"ARCHIVE_ACCESS"},{"Days":200,"AccessTier":"DEEP_ARCHIVE_ACCESS"})"),
      a,
      "Days specified in DEEP_ARCHIVE_ACCESS should be greater than days specified in "
      "ARCHIVE_ACCESS");
  CHECK(
      Parse(
          tierings(
              R"({"Days":730,"AccessTier":"DEEP_ARCHIVE_ACCESS"},{"Days":729,"AccessTier":"ARCHIVE_ACCESS"})"))
          .size() == 1);

  auto filter = [](std::string_view f) {
    return Config(R"("Status":"Enabled","Filter":)" + std::string(f) + "," +
                  std::string(kTierings));
  };
  Fails(filter(R"({"Prefix":""})"), a,
        "Filter Prefix should be set to a valid non-empty value or not set at all.");
  Fails(filter(R"({"And":{"Prefix":"","Tags":[{"Key":"k","Value":"v"}]}})"), a,
        "Filter Prefix should be set to a valid non-empty value");
  Fails(filter(R"({"Tag":{"Key":"","Value":"v"}})"), a, "The TagKey you have provided is invalid");
  Fails(filter(R"({"Tag":{"Key":")" + std::string(129, 'k') + R"(","Value":"v"}})"), a,
        "The TagKey you have provided is invalid");
  CHECK(Parse(filter(R"({"Tag":{"Key":")" + std::string(128, 'k') + R"(","Value":"v"}})")).size() ==
        1);
  Fails(filter(R"({"Tag":{"Key":"k","Value":")" + std::string(257, 'v') + R"("}})"), a,
        "The TagValue you have provided is invalid");
  // Characters, not bytes: 256 two-byte characters are fine.
  std::string umlauts;
  for (int i = 0; i < 256; ++i) umlauts += "ü";
  CHECK(Parse(filter(R"({"Tag":{"Key":"k","Value":")" + umlauts + R"("}})")).size() == 1);
  Fails(filter(R"({"And":{"Prefix":"p/"}})"), a,
        "Number of Prefixes and Tags combined cannot be less than 2. And cannot contain less "
        "than 2 elements.");
  Fails(filter(R"({"And":{"Tags":[{"Key":"k","Value":"v"}]}})"), a,
        "Number of Prefixes and Tags combined cannot be less than 2.");
  Fails(filter(R"({"And":{}})"), a, "Number of Prefixes and Tags combined cannot be less than 2.");
  Fails(filter(R"({"And":{"Tags":[{"Key":"k","Value":"1"},{"Key":"k","Value":"2"}]}})"), a,
        "All Tag Keys in an And must be unique. Found duplicate entry for \"k\".");

  Fails(R"([{"Id":"a","Status":"Enabled","Tierings":[{"Days":90,"AccessTier":"ARCHIVE_ACCESS"}]},
            {"Id":"a","Status":"Disabled","Tierings":[{"Days":180,"AccessTier":"DEEP_ARCHIVE_ACCESS"}]}])",
        a,
        "Configuration [1] (Id \"a\"): Duplicate Id \"a\": each Intelligent-Tiering "
        "configuration of a bucket needs its own Id");
  Fails(R"([{"Id":"ok","Status":"Enabled","Tierings":[{"Days":90,"AccessTier":"ARCHIVE_ACCESS"}]},
            {"Id":"bad","Status":"Enabled","Tierings":[{"Days":9,"AccessTier":"ARCHIVE_ACCESS"}]}])",
        a,
        "Configuration [1] (Id \"bad\"): Days specified in ARCHIVE_ACCESS tier should not be less "
        "than 90.");

  std::string many = "[";
  for (int i = 0; i <= 1000; ++i) {
    if (i > 0) many += ",";
    many += R"({"Id":"c)" + std::to_string(i) + R"(","Status":"Enabled",)" +
            std::string(kTierings) + "}";
  }
  many += "]";
  Fails(many, a,
        "You are attempting to create a new configuration but have already reached the "
        "1,000-configuration limit.");
}

TEST_CASE("filters match by prefix, tag, and both", "[tiers][intelligent-tiering]") {
  const std::vector<ObjectTag> none;
  const std::vector<ObjectTag> tags = {{"team", "data"}, {"env", "prod"}};
  ItFilter all;
  CHECK(ItFilterMatches(all, "anything", none));

  ItFilter prefix{.kind = ItFilter::Kind::kPrefix, .prefix = "logs/"};
  CHECK(ItFilterMatches(prefix, "logs/2026/a.gz", none));
  CHECK(ItFilterMatches(prefix, "logs/", none));
  CHECK_FALSE(ItFilterMatches(prefix, "logs", none));
  CHECK_FALSE(ItFilterMatches(prefix, "data/logs/a", none));

  ItFilter tag{.kind = ItFilter::Kind::kTag, .tags = {{"env", "prod"}}};
  CHECK(ItFilterMatches(tag, "x", tags));
  CHECK_FALSE(ItFilterMatches(tag, "x", {{"env", "dev"}}));
  CHECK_FALSE(ItFilterMatches(tag, "x", {{"ENV", "prod"}}));
  CHECK_FALSE(ItFilterMatches(tag, "x", none));

  ItFilter both{.kind = ItFilter::Kind::kAnd,
                .prefix = "logs/",
                .has_prefix = true,
                .tags = {{"team", "data"}, {"env", "prod"}}};
  CHECK(ItFilterMatches(both, "logs/a", tags));
  CHECK_FALSE(ItFilterMatches(both, "tmp/a", tags));
  CHECK_FALSE(ItFilterMatches(both, "logs/a", {{"team", "data"}}));

  ItFilter tags_only{.kind = ItFilter::Kind::kAnd, .tags = {{"team", "data"}, {"env", "prod"}}};
  CHECK(ItFilterMatches(tags_only, "anywhere", tags));
  CHECK_FALSE(ItFilterMatches(tags_only, "anywhere", {{"env", "prod"}}));
}

TEST_CASE("an object's opt-in is the earliest of the enabled matching configurations",
          "[tiers][intelligent-tiering]") {
  const auto configs = Parse(R"([
    {"Id":"bucket","Status":"Enabled","Tierings":[{"Days":365,"AccessTier":"ARCHIVE_ACCESS"}]},
    {"Id":"logs","Status":"Enabled","Filter":{"Prefix":"logs/"},
     "Tierings":[{"Days":120,"AccessTier":"ARCHIVE_ACCESS"},{"Days":400,"AccessTier":"DEEP_ARCHIVE_ACCESS"}]},
    {"Id":"cold","Status":"Enabled","Filter":{"Tag":{"Key":"cold","Value":"yes"}},
     "Tierings":[{"Days":180,"AccessTier":"DEEP_ARCHIVE_ACCESS"}]},
    {"Id":"off","Status":"Disabled","Filter":{"Prefix":"logs/"},
     "Tierings":[{"Days":90,"AccessTier":"ARCHIVE_ACCESS"},{"Days":180,"AccessTier":"DEEP_ARCHIVE_ACCESS"}]},
    {"Id":"both","Status":"Enabled","Filter":{"And":{"Prefix":"logs/eu/","Tags":[{"Key":"cold","Value":"yes"}]}},
     "Tierings":[{"Days":100,"AccessTier":"ARCHIVE_ACCESS"}]}
  ])");
  CHECK(OptInFor(configs, "img/a.png", {}) == OptIn(365, std::nullopt));
  CHECK(OptInFor(configs, "logs/a", {}) == OptIn(120, 400));
  CHECK(OptInFor(configs, "img/a.png", {{"cold", "yes"}}) == OptIn(365, 180));
  CHECK(OptInFor(configs, "logs/eu/a", {{"cold", "yes"}}) == OptIn(100, 180));
  CHECK(OptInFor(configs, "logs/eu/a", {{"cold", "no"}}) == OptIn(120, 400));
  CHECK(OptInFor({}, "logs/a", {}) == OptIn(std::nullopt, std::nullopt));
}

// Walks the schedule the way the scheduler will: from Frequent at
// last_access, one NextTierStep after another.
std::vector<std::pair<AccessTier, std::int64_t>> Walk(const ArchiveOptIn& opt_in,
                                                      std::uint64_t size = kBig) {
  std::vector<std::pair<AccessTier, std::int64_t>> steps;
  AccessTier tier = AccessTier::kFrequent;
  for (int i = 0; i < 10; ++i) {
    const std::optional<ItStep> step = NextTierStep(tier, Day(0), size, opt_in);
    if (!step) break;
    REQUIRE((step->at - kT0) % kNsPerDay == 0);
    steps.emplace_back(step->next, (step->at - kT0) / kNsPerDay);
    tier = step->next;
  }
  return steps;
}

TEST_CASE("a 200-day walk without access", "[tiers][intelligent-tiering]") {
  using S = std::vector<std::pair<AccessTier, std::int64_t>>;
  const AccessTier F = AccessTier::kFrequent;
  const AccessTier IA = AccessTier::kInfrequent;
  const AccessTier AIA = AccessTier::kArchiveInstant;
  const AccessTier AA = AccessTier::kArchiveAccess;
  const AccessTier DAA = AccessTier::kDeepArchiveAccess;

  SECTION("no opt-in: Infrequent at 30 days, Archive Instant at 90") {
    CHECK(Walk(OptIn(std::nullopt, std::nullopt)) == S{{IA, 30}, {AIA, 90}});
    const ArchiveOptIn o = OptIn(std::nullopt, std::nullopt);
    for (std::int64_t d = 0; d <= 200; ++d) {
      const AccessTier want = d < 30 ? F : d < 90 ? IA : AIA;
      INFO("day " << d);
      CHECK(TierAfter(Day(0), Day(d), kBig, o) == want);
    }
    CHECK(TierAfter(Day(0), Day(30) - 1, kBig, o) == F);
    CHECK(TierAfter(Day(0), Day(30), kBig, o) == IA);
  }
  SECTION("opted in at 90/180: Archive Access at 90 (skipping Archive Instant), Deep at 180") {
    const ArchiveOptIn o = OptIn(90, 180);
    CHECK(Walk(o) == S{{IA, 30}, {AA, 90}, {DAA, 180}});
    for (std::int64_t d = 0; d <= 200; ++d) {
      const AccessTier want = d < 30 ? F : d < 90 ? IA : d < 180 ? AA : DAA;
      INFO("day " << d);
      CHECK(TierAfter(Day(0), Day(d), kBig, o) == want);
    }
  }
  SECTION("Archive Access later than 90 days passes through Archive Instant") {
    CHECK(Walk(OptIn(120, std::nullopt)) == S{{IA, 30}, {AIA, 90}, {AA, 120}});
    CHECK(Walk(OptIn(120, 400)) == S{{IA, 30}, {AIA, 90}, {AA, 120}, {DAA, 400}});
  }
  SECTION("Deep Archive Access alone") {
    CHECK(Walk(OptIn(std::nullopt, 180)) == S{{IA, 30}, {AIA, 90}, {DAA, 180}});
  }
  SECTION("merged opt-ins whose deep tier comes first skip Archive Access") {
    CHECK(Walk(OptIn(300, 180)) == S{{IA, 30}, {AIA, 90}, {DAA, 180}});
  }
  SECTION("objects under 128 KiB never move") {
    CHECK(Walk(OptIn(90, 180), kIntelligentTieringMinBytes - 1).empty());
    CHECK(TierAfter(Day(0), Day(1000), kIntelligentTieringMinBytes - 1, OptIn(90, 180)) == F);
    CHECK(TierAfter(Day(0), Day(1000), 0, OptIn(90, 180)) == F);
    CHECK(Walk(OptIn(90, 180), kIntelligentTieringMinBytes) == S{{IA, 30}, {AA, 90}, {DAA, 180}});
  }
  SECTION("the deepest tier has no next step") {
    CHECK_FALSE(NextTierStep(DAA, Day(0), kBig, OptIn(90, 180)));
    CHECK_FALSE(NextTierStep(AA, Day(0), kBig, OptIn(90, std::nullopt)));
    CHECK_FALSE(NextTierStep(AIA, Day(0), kBig, OptIn(std::nullopt, std::nullopt)));
  }
}

TEST_CASE("accesses bring instant tiers back to Frequent and restart the clock",
          "[tiers][intelligent-tiering]") {
  const ArchiveOptIn o = OptIn(90, 180);
  CHECK(TierOnAccess(AccessTier::kFrequent) == AccessTier::kFrequent);
  CHECK(TierOnAccess(AccessTier::kInfrequent) == AccessTier::kFrequent);
  CHECK(TierOnAccess(AccessTier::kArchiveInstant) == AccessTier::kFrequent);
  CHECK(TierOnAccess(AccessTier::kArchiveAccess) == AccessTier::kArchiveAccess);
  CHECK(TierOnAccess(AccessTier::kDeepArchiveAccess) == AccessTier::kDeepArchiveAccess);

  // Day 45: read while Infrequent. Back to Frequent; the 30/90/180 count
  // starts again from day 45.
  AccessTier tier = TierAfter(Day(0), Day(45), kBig, o);
  REQUIRE(tier == AccessTier::kInfrequent);
  tier = TierOnAccess(tier);
  REQUIRE(tier == AccessTier::kFrequent);
  const TimeNs last_access = Day(45);
  CHECK(NextTierStep(tier, last_access, kBig, o) == ItStep{AccessTier::kInfrequent, Day(75)});
  CHECK(TierAfter(last_access, Day(134), kBig, o) == AccessTier::kInfrequent);
  CHECK(TierAfter(last_access, Day(135), kBig, o) == AccessTier::kArchiveAccess);
  CHECK(TierAfter(last_access, Day(225), kBig, o) == AccessTier::kDeepArchiveAccess);

  // Reads in the Frequent tier keep it there.
  for (std::int64_t d = 0; d <= 200; d += 20) {
    CHECK(TierAfter(Day(d), Day(d + 20), kBig, o) == AccessTier::kFrequent);
  }
}

TEST_CASE("an opt-in added late moves an object at once", "[tiers][intelligent-tiering]") {
  // In Archive Instant for a long time, then a configuration opts it in.
  const std::optional<ItStep> step =
      NextTierStep(AccessTier::kArchiveInstant, Day(0), kBig, OptIn(90, std::nullopt));
  REQUIRE(step);
  CHECK(step->next == AccessTier::kArchiveAccess);
  CHECK(step->at == Day(90));  // in the past at day 300: due now
  CHECK(TierAfter(Day(0), Day(300), kBig, OptIn(90, 180)) == AccessTier::kDeepArchiveAccess);
}

TEST_CASE("the archive tiers need a restore, which goes through restore.h",
          "[tiers][intelligent-tiering]") {
  CHECK_FALSE(AccessTierNeedsRestore(AccessTier::kArchiveInstant));
  CHECK(AccessTierNeedsRestore(AccessTier::kArchiveAccess));
  CHECK(AccessTierNeedsRestore(AccessTier::kDeepArchiveAccess));
  CHECK(ArchiveKindFor(StorageClass::kIntelligentTiering,
                       TierAfter(Day(0), Day(200), kBig, OptIn(90, 180))) ==
        ArchiveKind::kItDeepArchiveAccess);
}

}  // namespace
}  // namespace shoal::tiers
