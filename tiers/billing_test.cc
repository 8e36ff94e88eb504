#include "tiers/billing.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace shoal::tiers {
namespace {

using Json = nlohmann::json;

constexpr std::uint64_t kKiB = 1024;
constexpr std::uint64_t kMiB = 1024 * kKiB;
constexpr std::uint64_t kGiB = 1024 * kMiB;  // AWS's "GB"
constexpr TimeNs kHour = TimeNs{3600} * 1000000000;
constexpr TimeNs kDay = 24 * kHour;
constexpr TimeNs kMonth = 730 * kHour;  // prices.json's month_hours
// 2026-11-26T00:00:00Z.
constexpr TimeNs kT0 = TimeNs{1795651200} * 1000000000;

PriceTable Prices() {
  auto p = ParsePrices(DefaultPricesJson());
  REQUIRE(p.ok());
  return *p;
}

Json Bill(const BillingMeter& m, TimeNs now) {
  Json j = Json::parse(m.ToJson(now), nullptr, /*allow_exceptions=*/false);
  REQUIRE(j.is_object());
  return j;
}

// The storage line of the bill for (class, tier, item); null if absent.
Json Line(const Json& bill, std::string_view cls, std::string_view item = "data",
          std::string_view tier = "") {
  for (const Json& line : bill["storage"]) {
    if (line["class"] != cls || line["item"] != item) continue;
    if (!tier.empty() && (!line.contains("tier") || line["tier"] != tier)) continue;
    return line;
  }
  return nullptr;
}

// The entry of list `list` whose fields match `match`; null if absent.
Json Entry(const Json& bill, const char* list, const Json& match) {
  for (const Json& e : bill[list]) {
    bool all = true;
    for (const auto& field : match.items())
      all = all && e.contains(field.key()) && e[field.key()] == field.value();
    if (all) return e;
  }
  return nullptr;
}

double Usd(const Json& j) {
  return j["usd"].get<double>();
}

// Every item's usd in `bill`, added up: what total_usd must equal.
double SumOfItems(const Json& bill) {
  double sum =
      Usd(bill["monitoring"]) + Usd(bill["kms"]) + Usd(bill["kinesis"]) + Usd(bill["firehose"]);
  for (const char* list :
       {"storage", "requests", "transitions", "retrievals", "restores", "early_deletion"}) {
    for (const Json& e : bill[list]) sum += Usd(e);
  }
  return sum;
}

// ---------------------------------------------------------------------------
// The price table.

TEST_CASE("the embedded price table parses and holds us-east-1's figures", "[tiers][billing]") {
  PriceTable p = Prices();
  CHECK(p.region == "us-east-1");
  CHECK(p.currency == "USD");
  CHECK(p.month_hours == 730);
  CHECK(p.gb_bytes == kGiB);
  CHECK(p.StorageRate(StorageClass::kStandard) == 0.023);
  CHECK(p.StorageRate(StorageClass::kStandardIa) == 0.0125);
  CHECK(p.StorageRate(StorageClass::kOnezoneIa) == 0.01);
  CHECK(p.StorageRate(StorageClass::kGlacierIr) == 0.004);
  CHECK(p.StorageRate(StorageClass::kGlacier) == 0.0036);
  CHECK(p.StorageRate(StorageClass::kDeepArchive) == 0.00099);
  CHECK(p.StorageRate(StorageClass::kIntelligentTiering, AccessTier::kFrequent) == 0.023);
  CHECK(p.StorageRate(StorageClass::kIntelligentTiering, AccessTier::kInfrequent) == 0.0125);
  CHECK(p.StorageRate(StorageClass::kIntelligentTiering, AccessTier::kArchiveInstant) == 0.004);
  CHECK(p.StorageRate(StorageClass::kIntelligentTiering, AccessTier::kArchiveAccess) == 0.0036);
  CHECK(p.StorageRate(StorageClass::kIntelligentTiering, AccessTier::kDeepArchiveAccess) ==
        0.00099);
  CHECK(p.of(StorageClass::kIntelligentTiering).monitoring_per_1000_objects_month == 0.0025);
  CHECK(p.of(StorageClass::kStandard).put_per_1000 == 0.005);
  CHECK(p.of(StorageClass::kStandard).get_per_1000 == 0.0004);
  CHECK(p.of(StorageClass::kStandardIa).retrieval_per_gb == 0.01);
  CHECK(p.of(StorageClass::kOnezoneIa).retrieval_per_gb == 0.01);
  CHECK(p.of(StorageClass::kGlacierIr).retrieval_per_gb == 0.03);
  CHECK(p.of(StorageClass::kDeepArchive).transition_per_1000 == 0.05);

  const auto& glacier = p.of(StorageClass::kGlacier).restore;
  CHECK(glacier[0].offered);
  CHECK(glacier[0].requests_per_1000 == 10.0);  // Expedited
  CHECK(glacier[0].retrieval_per_gb == 0.03);
  CHECK(glacier[1].requests_per_1000 == 0.05);  // Standard
  CHECK(glacier[1].retrieval_per_gb == 0.01);
  CHECK(glacier[2].requests_per_1000 == 0);  // Bulk is free
  CHECK(glacier[2].retrieval_per_gb == 0);
  const auto& deep = p.of(StorageClass::kDeepArchive).restore;
  CHECK_FALSE(deep[0].offered);
  CHECK(deep[1].requests_per_1000 == 0.10);
  CHECK(deep[1].retrieval_per_gb == 0.02);
  CHECK(deep[2].requests_per_1000 == 0.025);
  CHECK(deep[2].retrieval_per_gb == 0.0025);

  CHECK(p.kms.requests_per_10000 == 0.03);
  CHECK(p.kms.key_month == 1.0);
}

TEST_CASE("a price table survives ToJson and ParsePrices unchanged", "[tiers][billing]") {
  PriceTable p = Prices();
  auto again = ParsePrices(p.ToJson());
  REQUIRE(again.ok());
  CHECK(again->ToJson() == p.ToJson());
  CHECK(Json::parse(p.ToJson()) == Json::parse(DefaultPricesJson()));
}

TEST_CASE("bad price tables are refused with the bad field named", "[tiers][billing]") {
  const Json good = Json::parse(DefaultPricesJson());
  auto refuse = [](const Json& j, Code code, const std::string& needle) {
    auto r = ParsePrices(j.dump());
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == code);
    CAPTURE(r.status().message());
    CHECK(r.status().message().find(needle) != std::string::npos);
  };

  SECTION("not JSON") {
    auto r = ParsePrices("{\"s3\": ");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kMalformedJson);
    CHECK_FALSE(ParsePrices("").ok());
    CHECK_FALSE(ParsePrices("[]").ok());
  }
  SECTION("a missing class") {
    Json j = good;
    j["s3"].erase("DEEP_ARCHIVE");
    refuse(j, Code::kInvalidArgument, "s3.DEEP_ARCHIVE");
  }
  SECTION("an unknown class") {
    Json j = good;
    j["s3"]["REDUCED_REDUNDANCY"] = j["s3"]["STANDARD"];
    refuse(j, Code::kInvalidArgument, "s3.REDUCED_REDUNDANCY");
  }
  SECTION("a negative price") {
    Json j = good;
    j["s3"]["GLACIER"]["restore"]["Bulk"]["retrieval_per_gb"] = -0.01;
    refuse(j, Code::kInvalidArgument, "s3.GLACIER.restore.Bulk.retrieval_per_gb");
  }
  SECTION("a price that is not a number") {
    Json j = good;
    j["s3"]["STANDARD"]["storage_gb_month"] = "0.023";
    refuse(j, Code::kInvalidArgument, "s3.STANDARD.storage_gb_month");
  }
  SECTION("a missing field") {
    Json j = good;
    j["s3"]["ONEZONE_IA"].erase("retrieval_per_gb");
    refuse(j, Code::kInvalidArgument, "s3.ONEZONE_IA.retrieval_per_gb");
  }
  SECTION("a misspelt field") {
    Json j = good;
    j["s3"]["STANDARD_IA"]["retreival_per_gb"] = 0.01;
    refuse(j, Code::kInvalidArgument, "s3.STANDARD_IA.retreival_per_gb");
  }
  SECTION("a missing Intelligent-Tiering access tier") {
    Json j = good;
    j["s3"]["INTELLIGENT_TIERING"]["storage_gb_month"].erase("ARCHIVE_INSTANT_ACCESS");
    refuse(j, Code::kInvalidArgument,
           "s3.INTELLIGENT_TIERING.storage_gb_month.ARCHIVE_INSTANT_ACCESS");
  }
  SECTION("a restore tier S3 does not sell") {
    Json j = good;
    j["s3"]["DEEP_ARCHIVE"]["restore"]["Expedited"] = {{"requests_per_1000", 1},
                                                       {"retrieval_per_gb", 1}};
    refuse(j, Code::kInvalidArgument, "s3.DEEP_ARCHIVE.restore.Expedited");
  }
  SECTION("restore prices on a class without restores") {
    Json j = good;
    j["s3"]["STANDARD"]["restore"] = j["s3"]["GLACIER"]["restore"];
    refuse(j, Code::kInvalidArgument, "s3.STANDARD.restore");
  }
  SECTION("a zero month or GB") {
    Json j = good;
    j["month_hours"] = 0;
    refuse(j, Code::kInvalidArgument, "month_hours");
    j = good;
    j["gb_bytes"] = 0;
    refuse(j, Code::kInvalidArgument, "gb_bytes");
    j["gb_bytes"] = 1.5;
    refuse(j, Code::kInvalidArgument, "gb_bytes");
  }
  SECTION("a negative KMS price") {
    Json j = good;
    j["kms"]["requests_per_10000"] = -0.03;
    refuse(j, Code::kInvalidArgument,
           "prices: kms.requests_per_10000: must be a finite number >= 0");
    j = good;
    j["kms"]["key_month"] = -1;
    refuse(j, Code::kInvalidArgument, "prices: kms.key_month: must be a finite number >= 0");
  }
  SECTION("a missing KMS price") {
    Json j = good;
    j["kms"].erase("key_month");
    refuse(j, Code::kInvalidArgument, "prices: kms.key_month: missing");
    j = good;
    j["kms"].erase("requests_per_10000");
    refuse(j, Code::kInvalidArgument, "prices: kms.requests_per_10000: missing");
  }
  SECTION("a misspelt or malformed KMS section") {
    Json j = good;
    j["kms"]["requests_per_1000"] = 0.003;
    refuse(j, Code::kInvalidArgument, "kms.requests_per_1000: unknown field");
    j = good;
    j["kms"]["key_month"] = "1.00";
    refuse(j, Code::kInvalidArgument, "kms.key_month: must be a number");
    j = good;
    j["kms"] = 0.03;
    refuse(j, Code::kInvalidArgument, "kms: must be an object");
  }
}

TEST_CASE("a price table saved before KMS was billed takes the built-in KMS prices",
          "[tiers][billing]") {
  Json old = Json::parse(DefaultPricesJson());
  old.erase("kms");
  old["s3"]["STANDARD"]["storage_gb_month"] = 0.05;
  auto p = ParsePrices(old.dump());
  REQUIRE(p.ok());
  CHECK(p->StorageRate(StorageClass::kStandard) == 0.05);
  CHECK(p->kms.requests_per_10000 == 0.03);
  CHECK(p->kms.key_month == 1.0);
  // Written back, the table names the KMS prices it uses.
  CHECK(Json::parse(p->ToJson())["kms"] == Json::parse(DefaultPricesJson())["kms"]);
}

// ---------------------------------------------------------------------------
// Storage.

TEST_CASE("1 GiB in STANDARD for 730 hours costs $0.023", "[tiers][billing]") {
  BillingMeter m(Prices(), kT0);
  m.Add({.cls = StorageClass::kStandard, .size = kGiB, .physical = kGiB / 4}, kT0);
  Json bill = Bill(m, kT0 + kMonth);
  Json line = Line(bill, "STANDARD");
  REQUIRE(line.is_object());
  CHECK(line["gb_months"].get<double>() == Approx(1.0));  // 1 GB x 1 month
  CHECK(Usd(line) == Approx(0.023));                      // 1 GB-month x $0.023
  CHECK(line["objects"] == 1);
  CHECK(line["logical_bytes"] == kGiB);
  CHECK(line["billable_bytes"] == kGiB);
  CHECK(line["physical_bytes"] == kGiB / 4);
  CHECK(line["compression_ratio"].get<double>() == Approx(4.0));
  CHECK(bill["total_usd"].get<double>() == Approx(0.023));
  CHECK(bill["period"]["start"] == "2026-11-26T00:00:00Z");
  CHECK(bill["period"]["end"] == "2026-12-26T10:00:00Z");  // + 30 days 10 hours
  CHECK(bill["period"]["hours"].get<double>() == Approx(730));
  CHECK(bill["prices"] == Json::parse(DefaultPricesJson()));

  // Half a month is half the price.
  CHECK(Bill(m, kT0 + kMonth / 2)["total_usd"].get<double>() == Approx(0.0115));
}

TEST_CASE("a 1 KiB STANDARD_IA object is billed as 128 KiB", "[tiers][billing]") {
  BillingMeter m(Prices(), kT0);
  m.Add({.cls = StorageClass::kStandardIa, .size = kKiB, .physical = 600}, kT0);
  Json line = Line(Bill(m, kT0 + kMonth), "STANDARD_IA");
  CHECK(line["logical_bytes"] == kKiB);
  CHECK(line["billable_bytes"] == 128 * kKiB);
  // 128 KiB = 1/8192 GB; x 1 month x $0.0125 = $0.00000152587890625.
  CHECK(line["gb_months"].get<double>() == Approx(1.0 / 8192));
  CHECK(Usd(line) == Approx(0.0125 / 8192));
}

TEST_CASE("GLACIER objects pay 32 KiB at the GLACIER rate and 8 KiB at STANDARD's",
          "[tiers][billing]") {
  BillingMeter m(Prices(), kT0);
  m.Add({.cls = StorageClass::kGlacier, .size = kMiB, .physical = kMiB / 2}, kT0);
  Json bill = Bill(m, kT0 + kMonth);
  // 1 MiB = 1/1024 GB: $0.0036 / 1024 = $0.000003515625.
  CHECK(Usd(Line(bill, "GLACIER")) == Approx(0.0036 / 1024));
  // 32 KiB = 1/32768 GB: $0.0036 / 32768 = $0.0000001098632812.
  Json overhead = Line(bill, "GLACIER", "archive_overhead");
  CHECK(overhead["billable_bytes"] == 32 * kKiB);
  CHECK(Usd(overhead) == Approx(0.0036 / 32768));
  // 8 KiB = 1/131072 GB at STANDARD's $0.023: $0.0000001754760742.
  Json standard = Line(bill, "GLACIER", "standard_overhead");
  CHECK(standard["billable_bytes"] == 8 * kKiB);
  CHECK(Usd(standard) == Approx(0.023 / 131072));
  CHECK(bill["total_usd"].get<double>() == Approx(0.0036 / 1024 + 0.0036 / 32768 + 0.023 / 131072));
}

TEST_CASE("a DEEP_ARCHIVE object carries 40 KiB of overhead", "[tiers][billing]") {
  BillingMeter m(Prices(), kT0);
  // An empty object pays nothing but the overhead.
  m.Add({.cls = StorageClass::kDeepArchive, .size = 0}, kT0);
  Json bill = Bill(m, kT0 + kMonth);
  CHECK(Usd(Line(bill, "DEEP_ARCHIVE")) == 0);
  Json overhead = Line(bill, "DEEP_ARCHIVE", "archive_overhead");
  Json standard = Line(bill, "DEEP_ARCHIVE", "standard_overhead");
  CHECK(overhead["billable_bytes"].get<std::uint64_t>() +
            standard["billable_bytes"].get<std::uint64_t>() ==
        40 * kKiB);
  // 32 KiB x $0.00099 / 32768 = $0.0000000302124023;
  // 8 KiB x $0.023 / 131072 = $0.0000001754760742.
  CHECK(Usd(overhead) == Approx(0.00099 / 32768));
  CHECK(Usd(standard) == Approx(0.023 / 131072));
  CHECK(bill["total_usd"].get<double>() == Approx(0.00099 / 32768 + 0.023 / 131072));
}

TEST_CASE("an Intelligent-Tiering object under 128 KiB is never monitored nor tiered",
          "[tiers][billing]") {
  BillingMeter m(Prices(), kT0);
  // Whatever tier the caller names, a 100 KiB object stays Frequent.
  m.Add({.cls = StorageClass::kIntelligentTiering,
         .tier = AccessTier::kArchiveInstant,
         .size = 100 * kKiB},
        kT0);
  Json bill = Bill(m, kT0 + kMonth);
  CHECK(bill["monitoring"]["objects"] == 0);
  CHECK(Usd(bill["monitoring"]) == 0);
  Json frequent = Line(bill, "INTELLIGENT_TIERING", "data", "FREQUENT");
  CHECK(frequent["objects"] == 1);
  // 100 KiB = 100/1048576 GB x $0.023 = $0.0000021934509277.
  CHECK(Usd(frequent) == Approx(100.0 / 1048576 * 0.023));
  CHECK(Line(bill, "INTELLIGENT_TIERING", "data", "ARCHIVE_INSTANT_ACCESS")["objects"] == 0);
}

TEST_CASE("a monitored Intelligent-Tiering object pays its tier's rate and the fee",
          "[tiers][billing]") {
  BillingMeter m(Prices(), kT0);
  const Footprint frequent{
      .cls = StorageClass::kIntelligentTiering, .tier = AccessTier::kFrequent, .size = kGiB};
  Footprint infrequent = frequent;
  infrequent.tier = AccessTier::kInfrequent;
  m.Add(frequent, kT0);
  // After half a month the object moves to Infrequent Access.
  m.Replace(frequent, infrequent, kT0 + kMonth / 2);
  Json bill = Bill(m, kT0 + kMonth);
  // 1 GB x 0.5 month x $0.023 = $0.0115.
  CHECK(Usd(Line(bill, "INTELLIGENT_TIERING", "data", "FREQUENT")) == Approx(0.0115));
  // 1 GB x 0.5 month x $0.0125 = $0.00625.
  CHECK(Usd(Line(bill, "INTELLIGENT_TIERING", "data", "INFREQUENT")) == Approx(0.00625));
  // 1 object-month x $0.0025 / 1000 = $0.0000025, whatever the tier.
  CHECK(bill["monitoring"]["objects"] == 1);
  CHECK(bill["monitoring"]["object_months"].get<double>() == Approx(1.0));
  CHECK(Usd(bill["monitoring"]) == Approx(0.0000025));
  CHECK(bill["total_usd"].get<double>() == Approx(0.0115 + 0.00625 + 0.0000025));

  SECTION("the Archive Access tier adds 8 KiB at STANDARD's rate") {
    Footprint archived = frequent;
    archived.tier = AccessTier::kArchiveAccess;
    BillingMeter a(Prices(), kT0);
    a.Add(archived, kT0);
    Json b = Bill(a, kT0 + kMonth);
    // 1 GB-month x $0.0036.
    CHECK(Usd(Line(b, "INTELLIGENT_TIERING", "data", "ARCHIVE_ACCESS")) == Approx(0.0036));
    // 8 KiB = 1/131072 GB x $0.023.
    Json meta = Line(b, "INTELLIGENT_TIERING", "standard_overhead", "ARCHIVE_ACCESS");
    CHECK(meta["billable_bytes"] == 8 * kKiB);
    CHECK(Usd(meta) == Approx(0.023 / 131072));
    CHECK(Line(b, "INTELLIGENT_TIERING", "archive_overhead").is_null());
  }
}

TEST_CASE("a restored copy is billed at STANDARD's rate while it exists", "[tiers][billing]") {
  BillingMeter m(Prices(), kT0);
  const Footprint archived{.cls = StorageClass::kGlacier, .size = kGiB};
  Footprint restored = archived;
  restored.restored_copy = true;
  m.Add(archived, kT0);
  m.Replace(archived, restored, kT0 + 10 * kDay);
  m.Replace(restored, archived, kT0 + 10 * kDay + 73 * kHour);  // 73 h = 0.1 month
  Json bill = Bill(m, kT0 + kMonth);
  Json copy = Line(bill, "GLACIER", "restored_copy");
  CHECK(copy["objects"] == 0);
  // 1 GB x 0.1 month x $0.023 = $0.0023.
  CHECK(copy["gb_months"].get<double>() == Approx(0.1));
  CHECK(Usd(copy) == Approx(0.0023));
  // Replace never charges early deletion.
  CHECK(bill["early_deletion"].empty());
  // The archive itself for the whole month: 1 GB x $0.0036.
  CHECK(Usd(Line(bill, "GLACIER")) == Approx(0.0036));
}

// ---------------------------------------------------------------------------
// Early deletion.

TEST_CASE("a 1 GiB GLACIER object deleted after 10 days pays for 80 more", "[tiers][billing]") {
  BillingMeter m(Prices(), kT0);
  const Footprint f{.cls = StorageClass::kGlacier, .size = kGiB};
  m.Add(f, kT0);
  m.Remove(f, kT0 + 10 * kDay, kT0);
  Json bill = Bill(m, kT0 + kMonth);
  // Stored: 10 days = 240 h = 240/730 month.
  //   data: 1 GB x 240/730 x $0.0036 = $0.0011835616
  CHECK(Usd(Line(bill, "GLACIER")) == Approx(240.0 / 730 * 0.0036));
  CHECK(Line(bill, "GLACIER")["objects"] == 0);
  // Early deletion: 80 days = 1920 h = 1920/730 month of the class-rate
  // billable size, 1 GiB + 32 KiB = (1 + 1/32768) GB:
  //   (1 + 1/32768) x 1920/730 x $0.0036 = $0.0094687821
  Json early = Entry(bill, "early_deletion", {{"class", "GLACIER"}});
  REQUIRE(early.is_object());
  CHECK(early["count"] == 1);
  CHECK(early["gb_months"].get<double>() == Approx((1 + 1.0 / 32768) * 1920 / 730));
  CHECK(Usd(early) == Approx((1 + 1.0 / 32768) * 1920 / 730 * 0.0036));
}

TEST_CASE("an object removed after its minimum duration pays no early deletion",
          "[tiers][billing]") {
  BillingMeter m(Prices(), kT0);
  const Footprint ia{.cls = StorageClass::kStandardIa, .size = kGiB};
  const Footprint deep{.cls = StorageClass::kDeepArchive, .size = kGiB};
  const Footprint standard{.cls = StorageClass::kStandard, .size = kGiB};
  m.Add(ia, kT0 + 40 * kDay);
  m.Add(deep, kT0 + 40 * kDay);
  m.Add(standard, kT0 + 40 * kDay);
  // In the class since long before this meter started: no charge.
  m.Remove(ia, kT0 + 41 * kDay, kT0 - 30 * kDay);
  m.Remove(deep, kT0 + 41 * kDay, std::numeric_limits<TimeNs>::min());
  m.Remove(standard, kT0 + 41 * kDay, kT0 + 41 * kDay);  // STANDARD has no minimum
  CHECK(Bill(m, kT0 + 50 * kDay)["early_deletion"].empty());

  // Exactly 30 days is enough for STANDARD_IA; one second less is not.
  m.Add(ia, kT0 + 50 * kDay);
  m.Remove(ia, kT0 + 80 * kDay, kT0 + 50 * kDay);
  CHECK(Bill(m, kT0 + 80 * kDay)["early_deletion"].empty());
  m.Add(ia, kT0 + 80 * kDay);
  m.Remove(ia, kT0 + 110 * kDay - 1000000000, kT0 + 80 * kDay);
  Json early = Entry(Bill(m, kT0 + 120 * kDay), "early_deletion", {{"class", "STANDARD_IA"}});
  // 1 second of 1 GB: 1/(730 x 3600) month x $0.0125 = $0.0000000047565.
  CHECK(Usd(early) == Approx(0.0125 / (730.0 * 3600)));
}

TEST_CASE("Remove takes off what Add put on, whenever it was added", "[tiers][billing]") {
  BillingMeter m(Prices(), kT0);
  const Footprint f{.cls = StorageClass::kStandard, .size = kGiB, .physical = kGiB / 2};
  m.Add(f, kT0);
  m.Add(f, kT0 + kMonth / 2);          // a second version, half a month later
  m.Remove(f, kT0 + kMonth / 2, kT0);  // the first leaves as the second arrives
  Json bill = Bill(m, kT0 + kMonth);
  // One GB the whole month: 1 GB-month x $0.023.
  CHECK(Usd(Line(bill, "STANDARD")) == Approx(0.023));
  CHECK(Line(bill, "STANDARD")["objects"] == 1);
  CHECK(Line(bill, "STANDARD")["physical_bytes"] == kGiB / 2);

  SECTION("a STANDARD_IA object removed after 15 days pays 15 more") {
    const Footprint ia{.cls = StorageClass::kStandardIa, .size = kGiB};
    m.Add(ia, kT0 + 20 * kDay);
    m.Remove(ia, kT0 + 35 * kDay, kT0 + 20 * kDay);
    Json b = Bill(m, kT0 + kMonth * 2);
    // Stored 15 days = 360 h: 360/730 x $0.0125 = $0.0061643836.
    CHECK(Usd(Line(b, "STANDARD_IA")) == Approx(360.0 / 730 * 0.0125));
    // Early: 15 days more, the same again.
    CHECK(Usd(Entry(b, "early_deletion", {{"class", "STANDARD_IA"}})) ==
          Approx(360.0 / 730 * 0.0125));
  }
  SECTION("removing what was never added bills nothing negative") {
    m.Remove({.cls = StorageClass::kGlacierIr, .size = kGiB}, kT0 + kMonth, kT0 - 365 * kDay);
    Json b = Bill(m, kT0 + 2 * kMonth);
    CHECK(Line(b, "GLACIER_IR")["billable_bytes"] == 0);
    CHECK(Usd(Line(b, "GLACIER_IR")) == 0);
    CHECK(b["total_usd"].get<double>() == Approx(0.023 * 2));
  }
}

// ---------------------------------------------------------------------------
// Requests, retrievals, restores.

TEST_CASE("requests are priced per thousand by class and kind", "[tiers][billing]") {
  BillingMeter m(Prices(), kT0);
  m.Request(RequestKind::kPut, StorageClass::kStandard, kT0, 1000);            // 1 x $0.005
  m.Request(RequestKind::kList, StorageClass::kStandard, kT0);                 // $0.000005
  m.Request(RequestKind::kGet, StorageClass::kGlacierIr, kT0, 2000);           // 2 x $0.01
  m.Request(RequestKind::kCopy, StorageClass::kStandardIa, kT0, 500);          // 0.5 x $0.01
  m.Request(RequestKind::kTransition, StorageClass::kDeepArchive, kT0, 1000);  // 1 x $0.05
  Json bill = Bill(m, kT0);
  CHECK(Usd(Entry(bill, "requests", {{"class", "STANDARD"}, {"kind", "PUT"}})) == Approx(0.005));
  CHECK(Entry(bill, "requests", {{"class", "STANDARD"}, {"kind", "PUT"}})["count"] == 1000);
  CHECK(Usd(Entry(bill, "requests", {{"class", "STANDARD"}, {"kind", "LIST"}})) ==
        Approx(0.000005));
  CHECK(Usd(Entry(bill, "requests", {{"class", "GLACIER_IR"}, {"kind", "GET"}})) == Approx(0.02));
  CHECK(Usd(Entry(bill, "requests", {{"class", "STANDARD_IA"}, {"kind", "COPY"}})) ==
        Approx(0.005));
  Json transition = Entry(bill, "transitions", {{"class", "DEEP_ARCHIVE"}});
  CHECK(transition["count"] == 1000);
  CHECK(Usd(transition) == Approx(0.05));
  CHECK(bill["requests"].size() == 4);  // transitions are listed apart
  CHECK(bill["total_usd"].get<double>() == Approx(0.005 + 0.000005 + 0.02 + 0.005 + 0.05));
}

TEST_CASE("reads pay the per-GB retrieval fee where the class has one", "[tiers][billing]") {
  BillingMeter m(Prices(), kT0);
  m.Retrieval(StorageClass::kStandardIa, kGiB);     // 1 GB x $0.01
  m.Retrieval(StorageClass::kOnezoneIa, kGiB / 2);  // 0.5 GB x $0.01
  m.Retrieval(StorageClass::kGlacierIr, 2 * kGiB);  // 2 GB x $0.03
  m.Retrieval(StorageClass::kStandard, 5 * kGiB);   // free
  Json bill = Bill(m, kT0);
  CHECK(Usd(Entry(bill, "retrievals", {{"class", "STANDARD_IA"}})) == Approx(0.01));
  CHECK(Usd(Entry(bill, "retrievals", {{"class", "ONEZONE_IA"}})) == Approx(0.005));
  Json ir = Entry(bill, "retrievals", {{"class", "GLACIER_IR"}});
  CHECK(ir["bytes"] == 2 * kGiB);
  CHECK(ir["gb"].get<double>() == Approx(2));
  CHECK(Usd(ir) == Approx(0.06));
  CHECK(Usd(Entry(bill, "retrievals", {{"class", "STANDARD"}})) == 0);
  CHECK(bill["total_usd"].get<double>() == Approx(0.075));
}

TEST_CASE("restores pay a request fee and a per-GB fee by tier", "[tiers][billing]") {
  BillingMeter m(Prices(), kT0);
  m.Restore(StorageClass::kGlacier, RestoreTier::kStandard, kGiB);
  m.Restore(StorageClass::kGlacier, RestoreTier::kExpedited, 2 * kGiB);
  m.Restore(StorageClass::kGlacier, RestoreTier::kBulk, 100 * kGiB);
  m.Restore(StorageClass::kDeepArchive, RestoreTier::kBulk, kGiB);
  m.Restore(StorageClass::kDeepArchive, RestoreTier::kStandard, 4 * kGiB);
  Json bill = Bill(m, kT0);
  // $0.05 / 1000 + 1 GB x $0.01 = $0.01005.
  CHECK(Usd(Entry(bill, "restores", {{"class", "GLACIER"}, {"tier", "Standard"}})) ==
        Approx(0.01005));
  // $10 / 1000 + 2 GB x $0.03 = $0.07.
  CHECK(Usd(Entry(bill, "restores", {{"class", "GLACIER"}, {"tier", "Expedited"}})) ==
        Approx(0.07));
  // Bulk from GLACIER is free.
  Json bulk = Entry(bill, "restores", {{"class", "GLACIER"}, {"tier", "Bulk"}});
  CHECK(bulk["count"] == 1);
  CHECK(bulk["gb"].get<double>() == Approx(100));
  CHECK(Usd(bulk) == 0);
  // $0.025 / 1000 + 1 GB x $0.0025 = $0.002525.
  CHECK(Usd(Entry(bill, "restores", {{"class", "DEEP_ARCHIVE"}, {"tier", "Bulk"}})) ==
        Approx(0.002525));
  // $0.10 / 1000 + 4 GB x $0.02 = $0.0801.
  CHECK(Usd(Entry(bill, "restores", {{"class", "DEEP_ARCHIVE"}, {"tier", "Standard"}})) ==
        Approx(0.0801));
  CHECK(bill["total_usd"].get<double>() == Approx(0.01005 + 0.07 + 0.002525 + 0.0801));

  SECTION("a tier the class does not offer is counted at $0") {
    m.Restore(StorageClass::kDeepArchive, RestoreTier::kExpedited, kGiB);
    Json b = Bill(m, kT0);
    CHECK(Entry(b, "restores", {{"class", "DEEP_ARCHIVE"}, {"tier", "Expedited"}})["count"] == 1);
    CHECK(b["total_usd"].get<double>() == Approx(0.01005 + 0.07 + 0.002525 + 0.0801));
  }
}

// ---------------------------------------------------------------------------
// KMS.

TEST_CASE("25,000 KMS requests cost $0.075", "[tiers][billing]") {
  BillingMeter m(Prices(), kT0);
  m.KmsRequests(kT0, 20000);
  m.KmsRequests(kT0 + kDay, 4999);
  m.KmsRequests(kT0 + 2 * kDay);  // one by default
  Json bill = Bill(m, kT0 + kMonth);
  const Json& kms = bill["kms"];
  CHECK(kms["requests"] == 25000);
  // 25,000 / 10,000 x $0.03 = $0.075, with no free tier.
  CHECK(kms["requests_usd"].get<double>() == Approx(0.075));
  CHECK(kms["keys"] == 0);
  CHECK(kms["key_months"] == 0);
  CHECK(kms["keys_usd"] == 0);
  CHECK(Usd(kms) == Approx(0.075));
  CHECK(bill["total_usd"].get<double>() == Approx(0.075));
  CHECK(bill["prices"]["kms"]["requests_per_10000"] == 0.03);
  CHECK(bill["prices"]["kms"]["key_month"] == 1.0);
}

TEST_CASE("3 keys for half a month then 1 key for a month are 2.5 key-months, $2.50",
          "[tiers][billing]") {
  BillingMeter m(Prices(), kT0);
  m.SetKmsKeys(3, kT0);
  // Half-way: 3 keys x 0.5 month = 1.5 key-months, $1.50.
  Json half = Bill(m, kT0 + kMonth / 2);
  CHECK(half["kms"]["keys"] == 3);
  CHECK(half["kms"]["key_months"].get<double>() == Approx(1.5));
  CHECK(half["kms"]["keys_usd"].get<double>() == Approx(1.5));
  m.SetKmsKeys(1, kT0 + kMonth / 2);
  // Then 1 key x 1 month: 1.5 + 1 = 2.5 key-months x $1 = $2.50.
  Json bill = Bill(m, kT0 + kMonth / 2 + kMonth);
  const Json& kms = bill["kms"];
  CHECK(kms["keys"] == 1);
  CHECK(kms["key_months"].get<double>() == Approx(2.5));
  CHECK(kms["keys_usd"].get<double>() == Approx(2.5));
  CHECK(kms["requests"] == 0);
  CHECK(Usd(kms) == Approx(2.5));
  CHECK(bill["total_usd"].get<double>() == Approx(2.5));

  SECTION("deleting every key stops the charge") {
    m.SetKmsKeys(0, kT0 + kMonth / 2 + kMonth);
    CHECK(Bill(m, kT0 + 10 * kMonth)["kms"]["keys_usd"].get<double>() == Approx(2.5));
  }
  SECTION("a time earlier than one already seen counts as that time") {
    // Bills do not advance the meter: the latest time it has seen is
    // kT0 + 0.5 month, so 2 keys from then: 1.5 + 2 x 2 = 5.5 key-months.
    m.SetKmsKeys(2, kT0);
    CHECK(Bill(m, kT0 + kMonth / 2 + 2 * kMonth)["kms"]["key_months"].get<double>() == Approx(5.5));
  }
}

TEST_CASE("Kinesis: 2 shards for a day then 4 for a day, and 3 million PUT payload units",
          "[tiers][billing]") {
  BillingMeter m(Prices(), kT0);
  m.SetKinesisShards(2, kT0);
  m.KinesisPutUnits(kT0, 2'000'000);
  m.SetKinesisShards(4, kT0 + kDay);
  m.KinesisPutUnits(kT0 + kDay, 1'000'000);
  Json bill = Bill(m, kT0 + 2 * kDay);
  const Json& k = bill["kinesis"];
  CHECK(k["open_shards"] == 4);
  // 2 x 24 + 4 x 24 = 144 shard-hours x $0.015 = $2.16.
  CHECK(k["shard_hours"].get<double>() == Approx(144));
  CHECK(k["shard_hours_usd"].get<double>() == Approx(2.16));
  // 3,000,000 units x $0.014 per million = $0.042.
  CHECK(k["put_payload_units"] == 3'000'000);
  CHECK(k["put_payload_units_usd"].get<double>() == Approx(0.042));
  CHECK(Usd(k) == Approx(2.202));
  CHECK(bill["total_usd"].get<double>() == Approx(2.202));
  CHECK(bill["prices"]["kinesis"]["shard_hour"] == 0.015);

  SECTION("a saved bill keeps its Kinesis usage; the shard count is set again") {
    BillingMeter again(Prices(), kT0);
    REQUIRE(again.LoadState(m.SaveState(kT0 + 2 * kDay)).ok());
    again.SetKinesisShards(1, kT0 + 2 * kDay);
    Json later = Bill(again, kT0 + 3 * kDay);
    CHECK(later["kinesis"]["shard_hours"].get<double>() == Approx(144 + 24));
    CHECK(later["kinesis"]["put_payload_units"] == 3'000'000);
    CHECK(Usd(later["kinesis"]) == Approx(2.202 + 24 * 0.015));
  }
  SECTION("a state saved before Kinesis was billed loads with none") {
    Json old = Json::parse(m.SaveState(kT0 + 2 * kDay));
    old.erase("kinesis");
    BillingMeter fresh(Prices(), kT0);
    REQUIRE(fresh.LoadState(old.dump()).ok());
    CHECK(Bill(fresh, kT0 + 2 * kDay)["kinesis"]["usd"] == 0);
  }
}

TEST_CASE("a price table saved before Kinesis was billed takes the built-in Kinesis prices",
          "[tiers][billing]") {
  Json old = Json::parse(DefaultPricesJson());
  old.erase("kinesis");
  auto p = ParsePrices(old.dump());
  REQUIRE(p.ok());
  CHECK(p->kinesis.shard_hour == 0.015);
  CHECK(p->kinesis.put_units_per_million == 0.014);
  old["kinesis"] = {{"shard_hour", 0.015}};
  CHECK(ParsePrices(old.dump()).status().code() == Code::kInvalidArgument);
}

TEST_CASE("Firehose: GB ingested, each record rounded up to 5 KB", "[tiers][billing]") {
  CHECK(FirehoseBilledBytes(0) == 5120);
  CHECK(FirehoseBilledBytes(1) == 5120);
  CHECK(FirehoseBilledBytes(5120) == 5120);
  CHECK(FirehoseBilledBytes(5121) == 10240);
  CHECK(FirehoseBilledBytes(std::uint64_t{12} * 1024) ==
        std::uint64_t{15} * 1024);  // AWS's 12 KB record
  BillingMeter m(Prices(), kT0);
  // 2^20 records of 100 bytes bill as 5 GiB: 5 x $0.029.
  m.FirehoseIngested(kT0, std::uint64_t{1} << 20,
                     (std::uint64_t{1} << 20) * FirehoseBilledBytes(100));
  Json bill = Bill(m, kT0 + kDay);
  const Json& f = bill["firehose"];
  CHECK(f["records"] == std::uint64_t{1} << 20);
  CHECK(f["ingested_gb"].get<double>() == Approx(5));
  CHECK(Usd(f) == Approx(5 * 0.029));
  CHECK(bill["total_usd"].get<double>() == Approx(5 * 0.029));
  CHECK(bill["prices"]["firehose"]["ingested_per_gb"] == 0.029);

  SECTION("a saved bill keeps it") {
    BillingMeter again(Prices(), kT0);
    REQUIRE(again.LoadState(m.SaveState(kT0 + kDay)).ok());
    CHECK(Usd(Bill(again, kT0 + kDay)["firehose"]) == Approx(5 * 0.029));
  }
  SECTION("a state or price table from before Firehose was billed loads") {
    Json old = Json::parse(m.SaveState(kT0 + kDay));
    old.erase("firehose");
    BillingMeter fresh(Prices(), kT0);
    REQUIRE(fresh.LoadState(old.dump()).ok());
    CHECK(Bill(fresh, kT0 + kDay)["firehose"]["usd"] == 0);
    Json prices = Json::parse(DefaultPricesJson());
    prices.erase("firehose");
    auto p = ParsePrices(prices.dump());
    REQUIRE(p.ok());
    CHECK(p->firehose.ingested_per_gb == 0.029);
    prices["firehose"] = {{"ingested_per_gb", -1}};
    CHECK(ParsePrices(prices.dump()).status().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("a KMS price change applies from when it is made", "[tiers][billing]") {
  BillingMeter m(Prices(), kT0);
  m.SetKmsKeys(1, kT0);
  m.KmsRequests(kT0, 10000);  // $0.03
  PriceTable doubled = Prices();
  doubled.kms.requests_per_10000 = 0.06;
  doubled.kms.key_month = 2.0;
  m.SetPrices(doubled, kT0 + kMonth / 2);
  m.KmsRequests(kT0 + kMonth / 2, 10000);  // $0.06
  Json bill = Bill(m, kT0 + kMonth);
  // 0.5 key-month x $1 + 0.5 key-month x $2 = $1.50.
  CHECK(bill["kms"]["key_months"].get<double>() == Approx(1.0));
  CHECK(bill["kms"]["keys_usd"].get<double>() == Approx(1.5));
  CHECK(bill["kms"]["requests_usd"].get<double>() == Approx(0.09));
  CHECK(Usd(bill["kms"]) == Approx(1.59));
  CHECK(bill["total_usd"].get<double>() == Approx(1.59));
  CHECK(bill["prices"]["kms"]["key_month"] == 2.0);
}

TEST_CASE("the total is the sum of every item, KMS included", "[tiers][billing]") {
  BillingMeter m(Prices(), kT0);
  const Footprint glacier{.cls = StorageClass::kGlacier, .size = kGiB};
  m.Add(glacier, kT0);
  m.Add({.cls = StorageClass::kIntelligentTiering, .size = kGiB}, kT0);
  m.SetKmsKeys(2, kT0);
  m.Request(RequestKind::kPut, StorageClass::kStandard, kT0, 1000);
  m.Request(RequestKind::kTransition, StorageClass::kGlacier, kT0, 10);
  m.Retrieval(StorageClass::kStandardIa, kGiB);
  m.Restore(StorageClass::kGlacier, RestoreTier::kStandard, kGiB);
  m.Remove(glacier, kT0 + 10 * kDay, kT0);
  m.KmsRequests(kT0, 12345);
  Json bill = Bill(m, kT0 + kMonth);
  // Hand-computed: GLACIER 1 GB + 32 KiB for 10 days (240/730 month) at
  // $0.0036 and 80 days early (1920/730), 8 KiB at $0.023 for 10 days; IT
  // 1 GB Frequent a month at $0.023 and one object-month at $0.0025 / 1000;
  // PUT $0.005; 10 transitions $0.0003; 1 GB from STANDARD_IA $0.01; the
  // restore $0.01005; 2 key-months $2; 12,345 KMS requests $0.0370350.
  const double expected = (1 + 1.0 / 32768) * (240.0 + 1920.0) / 730 * 0.0036 +
                          240.0 / 730 * 0.023 / 131072 + 0.023 + 0.0025 / 1000 + 0.005 + 0.0003 +
                          0.01 + 0.01005 + 2.0 + 1.2345 * 0.03;
  CHECK(bill["total_usd"].get<double>() == Approx(expected));
  CHECK(bill["total_usd"].get<double>() == Approx(SumOfItems(bill)));
  CHECK(Usd(bill["kms"]) ==
        Approx(bill["kms"]["keys_usd"].get<double>() + bill["kms"]["requests_usd"].get<double>()));
}

// ---------------------------------------------------------------------------
// Prices, time and saved state.

TEST_CASE("a price change applies from when it is made", "[tiers][billing]") {
  BillingMeter m(Prices(), kT0);
  m.Add({.cls = StorageClass::kStandard, .size = kGiB}, kT0);
  m.Request(RequestKind::kPut, StorageClass::kStandard, kT0, 1000);  // $0.005
  PriceTable doubled = Prices();
  doubled.s3[0].storage_gb_month[0] = 0.046;
  doubled.s3[0].put_per_1000 = 0.01;
  m.SetPrices(doubled, kT0 + kMonth / 2);
  m.Request(RequestKind::kPut, StorageClass::kStandard, kT0 + kMonth / 2, 1000);  // $0.01
  Json bill = Bill(m, kT0 + kMonth);
  // 0.5 GB-month x $0.023 + 0.5 GB-month x $0.046 = $0.0345.
  CHECK(Usd(Line(bill, "STANDARD")) == Approx(0.0345));
  CHECK(Usd(Entry(bill, "requests", {{"class", "STANDARD"}, {"kind", "PUT"}})) == Approx(0.015));
  CHECK(bill["prices"]["s3"]["STANDARD"]["storage_gb_month"] == 0.046);
}

TEST_CASE("time never runs backwards in the meter", "[tiers][billing]") {
  BillingMeter m(Prices(), kT0);
  m.Add({.cls = StorageClass::kStandard, .size = kGiB}, kT0 + kMonth);
  // An earlier time counts as the latest one seen.
  m.Add({.cls = StorageClass::kStandard, .size = kGiB}, kT0);
  Json bill = Bill(m, kT0);
  CHECK(bill["period"]["end_ns"] == kT0 + kMonth);
  CHECK(bill["total_usd"] == 0);
  // 2 GB for one month: 2 x $0.023.
  CHECK(Bill(m, kT0 + 2 * kMonth)["total_usd"].get<double>() == Approx(0.046));
}

TEST_CASE("SaveState and LoadState carry a bill across a remount", "[tiers][billing]") {
  const Footprint glacier{.cls = StorageClass::kGlacier, .size = kGiB, .physical = kMiB};
  const Footprint it{
      .cls = StorageClass::kIntelligentTiering, .tier = AccessTier::kInfrequent, .size = 10 * kMiB};
  BillingMeter before(Prices(), kT0);
  before.Add(glacier, kT0);
  before.Add(it, kT0);
  before.SetKmsKeys(3, kT0);
  before.Add({.cls = StorageClass::kOnezoneIa, .size = kGiB}, kT0);
  before.Remove({.cls = StorageClass::kOnezoneIa, .size = kGiB}, kT0 + kDay, kT0);
  before.Request(RequestKind::kPut, StorageClass::kGlacier, kT0, 3);
  before.Request(RequestKind::kTransition, StorageClass::kGlacier, kT0, 7);
  before.Retrieval(StorageClass::kGlacierIr, kGiB);
  before.Restore(StorageClass::kGlacier, RestoreTier::kStandard, kGiB);
  before.KmsRequests(kT0, 25000);
  const TimeNs saved_at = kT0 + kMonth / 3;
  const std::string saved = before.SaveState(saved_at);

  // The next mount: load, then recount the objects and keys.
  BillingMeter after(Prices(), saved_at);
  REQUIRE(after.LoadState(saved).ok());
  after.Add(glacier, saved_at);
  after.Add(it, saved_at);
  after.SetKmsKeys(3, saved_at);

  const Json a = Bill(before, kT0 + kMonth);
  const Json b = Bill(after, kT0 + kMonth);
  CHECK(b["period"] == a["period"]);
  CHECK(b["total_usd"].get<double>() == Approx(a["total_usd"].get<double>()));
  CHECK(b["requests"] == a["requests"]);
  CHECK(b["transitions"] == a["transitions"]);
  CHECK(b["retrievals"] == a["retrievals"]);
  CHECK(b["restores"] == a["restores"]);
  CHECK(b["early_deletion"] == a["early_deletion"]);
  CHECK(b["kms"]["keys"] == 3);
  CHECK(b["kms"]["requests"] == 25000);
  CHECK(b["kms"]["requests_usd"] == a["kms"]["requests_usd"]);
  CHECK(b["kms"]["key_months"].get<double>() == Approx(3.0));
  CHECK(b["kms"]["keys_usd"].get<double>() == Approx(a["kms"]["keys_usd"].get<double>()));
  CHECK(b["monitoring"]["objects"] == 1);
  CHECK(b["monitoring"]["usd"].get<double>() == Approx(a["monitoring"]["usd"].get<double>()));
  REQUIRE(b["storage"].size() == a["storage"].size());
  for (std::size_t i = 0; i < a["storage"].size(); ++i) {
    const Json& x = a["storage"][i];
    const Json& y = b["storage"][i];
    CAPTURE(x.dump());
    CHECK(y["class"] == x["class"]);
    CHECK(y["item"] == x["item"]);
    CHECK(y["objects"] == x["objects"]);
    CHECK(y["billable_bytes"] == x["billable_bytes"]);
    CHECK(y["gb_months"].get<double>() == Approx(x["gb_months"].get<double>()));
    CHECK(y["usd"].get<double>() == Approx(x["usd"].get<double>()));
  }
  // The hand-computed total: GLACIER 1 GB + 32 KiB for a month at $0.0036,
  // 8 KiB at $0.023; IT 10 MiB Infrequent at $0.0125 plus one object-month of
  // monitoring; ONEZONE_IA 1 day stored + 29 days early = 30 days = 720/730
  // month at $0.01; 3 PUT + 7 transitions into GLACIER at $0.03 per 1000; 1 GB from
  // GLACIER_IR at $0.03; a Standard GLACIER restore of 1 GB, $0.01005; 3
  // KMS keys for a month at $1; 25,000 KMS requests at $0.03 per 10,000.
  const double expected = (1 + 1.0 / 32768) * 0.0036 + 0.023 / 131072 + 10.0 / 1024 * 0.0125 +
                          0.0025 / 1000 + 720.0 / 730 * 0.01 + 10 * 0.03 / 1000 + 0.03 + 0.01005 +
                          3.0 + 0.075;
  CHECK(b["total_usd"].get<double>() == Approx(expected));
  CHECK(b["total_usd"].get<double>() == Approx(SumOfItems(b)));

  SECTION("saved usage keeps the prices it was billed at") {
    BillingMeter repriced(Prices(), saved_at);
    PriceTable p = Prices();
    p.s3[static_cast<std::size_t>(StorageClass::kGlacier)].storage_gb_month[0] = 1.0;
    repriced.SetPrices(p, saved_at);
    REQUIRE(repriced.LoadState(saved).ok());
    Json c = Bill(repriced, saved_at);
    // A third of a month of 1 GB + 32 KiB at the old $0.0036.
    CHECK(Usd(Line(c, "GLACIER")) == Approx(0.0036 / 3));
  }
  SECTION("saved KMS usage keeps the prices it was billed at") {
    BillingMeter repriced(Prices(), saved_at);
    PriceTable p = Prices();
    p.kms.key_month = 10.0;
    p.kms.requests_per_10000 = 1.0;
    repriced.SetPrices(p, saved_at);
    REQUIRE(repriced.LoadState(saved).ok());
    repriced.SetKmsKeys(3, saved_at);
    Json c = Bill(repriced, kT0 + kMonth);
    // A third of a month of 3 keys at $1, two thirds at $10; the requests
    // at the old $0.03 per 10,000.
    CHECK(c["kms"]["keys_usd"].get<double>() == Approx(1.0 + 20.0));
    CHECK(c["kms"]["requests_usd"].get<double>() == Approx(0.075));
  }
  SECTION("a state saved before KMS was billed loads with no KMS usage") {
    Json old = Json::parse(saved);
    old.erase("kms");
    BillingMeter m(Prices(), saved_at);
    m.SetKmsKeys(2, saved_at);
    REQUIRE(m.LoadState(old.dump()).ok());
    Json c = Bill(m, kT0 + kMonth);
    CHECK(c["kms"]["requests"] == 0);
    // The current count is kept: 2 keys from the saved end, 2/3 month.
    CHECK(c["kms"]["keys"] == 2);
    CHECK(c["kms"]["key_months"].get<double>() == Approx(4.0 / 3));
    CHECK(c["requests"] == a["requests"]);
  }
}

TEST_CASE("LoadState refuses anything SaveState did not write", "[tiers][billing]") {
  BillingMeter m(Prices(), kT0);
  m.Add({.cls = StorageClass::kStandard, .size = kGiB}, kT0);
  m.Request(RequestKind::kGet, StorageClass::kStandard, kT0, 10);
  m.SetKmsKeys(1, kT0);
  m.KmsRequests(kT0, 7);
  const std::string before = m.ToJson(kT0 + kMonth);
  const Json good = Json::parse(m.SaveState(kT0 + kDay));

  std::vector<std::string> bad{"", "not json", "[]", "{}", "{\"format\":\"shoal-billing\"}"};
  Json j = good;
  j["version"] = 2;
  bad.push_back(j.dump());
  j = good;
  j["storage"][0]["usd"] = -1;
  bad.push_back(j.dump());
  j = good;
  j["storage"][0]["class"] = "standard";
  bad.push_back(j.dump());
  j = good;
  j["storage"].push_back(j["storage"][0]);
  bad.push_back(j.dump());
  j = good;
  j["requests"][0]["count"] = -3;
  bad.push_back(j.dump());
  j = good;
  j["requests"][0]["kind"] = "DELETE";
  bad.push_back(j.dump());
  j = good;
  j["saved_at"] = kT0 - 1;
  bad.push_back(j.dump());
  j = good;
  j.erase("monitoring");
  bad.push_back(j.dump());
  j = good;
  j["kms"]["requests_usd"] = -0.5;
  bad.push_back(j.dump());
  j = good;
  j["kms"].erase("key_ns");
  bad.push_back(j.dump());
  j = good;
  j["kms"] = "none";
  bad.push_back(j.dump());
  for (const std::string& text : bad) {
    CAPTURE(text);
    Status s = m.LoadState(text);
    CHECK(s.code() == Code::kCorrupt);
  }
  CHECK(m.ToJson(kT0 + kMonth) == before);
  CHECK(m.LoadState(good.dump()).ok());
}

TEST_CASE("values outside the enumerations are ignored, never indexed", "[tiers][billing]") {
  BillingMeter m(Prices(), kT0);
  m.Add({.cls = static_cast<StorageClass>(7), .size = kGiB}, kT0);
  m.Add(
      {.cls = StorageClass::kIntelligentTiering, .tier = static_cast<AccessTier>(9), .size = kGiB},
      kT0);
  m.Remove({.cls = static_cast<StorageClass>(200), .size = kGiB}, kT0, kT0);
  m.Request(static_cast<RequestKind>(5), StorageClass::kStandard, kT0);
  m.Request(RequestKind::kGet, static_cast<StorageClass>(7), kT0);
  m.Retrieval(static_cast<StorageClass>(8), kGiB);
  m.Restore(StorageClass::kGlacier, static_cast<RestoreTier>(3), kGiB);
  Json bill = Bill(m, kT0 + kMonth);
  CHECK(bill["total_usd"] == 0);
  CHECK(bill["requests"].empty());
  CHECK(bill["restores"].empty());
}

TEST_CASE("the meter counts correctly from many threads at once", "[tiers][billing]") {
  BillingMeter m(Prices(), kT0);
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&m] {
      for (int i = 0; i < 1000; ++i) {
        m.Add({.cls = StorageClass::kStandard, .size = kMiB}, kT0);
        m.Request(RequestKind::kPut, StorageClass::kStandard, kT0);
        m.KmsRequests(kT0);
        (void)m.ToJson(kT0);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  Json bill = Bill(m, kT0 + kMonth);
  CHECK(Line(bill, "STANDARD")["objects"] == 4000);
  CHECK(Entry(bill, "requests", {{"class", "STANDARD"}, {"kind", "PUT"}})["count"] == 4000);
  CHECK(bill["kms"]["requests"] == 4000);
  // 4000 MiB = 3.90625 GB-months x $0.023 + 4 x $0.005 + 0.4 x $0.03.
  CHECK(bill["total_usd"].get<double>() == Approx(4000.0 / 1024 * 0.023 + 0.02 + 0.012));
}

}  // namespace
}  // namespace shoal::tiers
