// The price table's parser and the billing meter. Storage is integrated as
// byte-nanoseconds in doubles: 53 bits of mantissa keep every bill exact to
// far below a cent, and the sums cannot overflow as 64-bit integers would
// (1 TiB for one year is 3.5e28 byte-ns).

#include "tiers/billing.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "tiers/json_document.h"

namespace shoal::tiers {

// What the meter knows, copied out under the lock to render bills.
struct BillingMeter::State {
  // The parts of a footprint, each billed on its own line.
  enum class Item : std::uint8_t {
    kData = 0,          // max(size, min_billable_bytes) at the class (tier) rate
    kArchiveOverhead,   // 32 KiB per archived object at the class rate
    kStandardOverhead,  // 8 KiB per archived object at STANDARD's rate
    kRestoredCopy,      // the restored copy's size at STANDARD's rate
  };
  static constexpr std::size_t kItemCount = 4;
  static constexpr std::array<std::string_view, kItemCount> kItemNames{
      "data", "archive_overhead", "standard_overhead", "restored_copy"};

  struct StorageLine {
    // Current values.
    std::uint64_t objects = 0;
    std::uint64_t logical = 0;
    std::uint64_t billable = 0;
    std::uint64_t physical = 0;
    // Integrals.
    double byte_ns = 0;           // over the whole period
    double byte_ns_unpriced = 0;  // since `prices` took effect
    double usd_priced = 0;        // under earlier prices
  };

  struct Counter {
    std::uint64_t count = 0;
    std::uint64_t bytes = 0;
    double byte_ns = 0;  // early deletion: remaining time x billable bytes
    double usd = 0;      // priced on arrival
  };

  static constexpr std::size_t kStorageLines = kStorageClassCount * kAccessTierCount * kItemCount;

  PriceTable prices;
  TimeNs start = 0;
  TimeNs last = 0;  // integrals run up to here
  std::array<StorageLine, kStorageLines> storage{};
  std::uint64_t monitored_objects = 0;
  double monitored_object_ns = 0;
  double monitored_object_ns_unpriced = 0;
  double monitoring_usd_priced = 0;
  std::array<Counter, kStorageClassCount * kRequestKindCount> requests{};
  std::array<Counter, kStorageClassCount> retrievals{};
  std::array<Counter, kStorageClassCount * kRestoreTierCount> restores{};
  std::array<Counter, kStorageClassCount> early_deletion{};
  // KMS: the customer managed keys that exist now, integrated like storage;
  // requests priced on arrival (count and usd only).
  std::uint64_t kms_keys = 0;
  double kms_key_ns = 0;
  double kms_key_ns_unpriced = 0;
  double kms_keys_usd_priced = 0;
  Counter kms_requests;
  // Kinesis: open shards integrated like KMS keys; PUT payload units priced
  // on arrival.
  std::uint64_t kinesis_shards = 0;
  double kinesis_shard_ns = 0;
  double kinesis_shard_ns_unpriced = 0;
  double kinesis_shards_usd_priced = 0;
  Counter kinesis_put_units;
  // Firehose: records (count) and billed bytes ingested, priced on arrival.
  Counter firehose_ingested;

  static std::size_t LineIndex(StorageClass c, AccessTier t, Item item) {
    return (static_cast<std::size_t>(c) * kAccessTierCount + static_cast<std::size_t>(t)) *
               kItemCount +
           static_cast<std::size_t>(item);
  }
  static StorageClass LineClass(std::size_t i) {
    return static_cast<StorageClass>(i / (kAccessTierCount * kItemCount));
  }
  static AccessTier LineTier(std::size_t i) {
    return static_cast<AccessTier>(i / kItemCount % kAccessTierCount);
  }
  static Item LineItem(std::size_t i) { return static_cast<Item>(i % kItemCount); }

  double NsPerMonth() const { return prices.month_hours * 3600.0 * 1e9; }
  double GbMonths(double byte_ns) const {
    return byte_ns / (static_cast<double>(prices.gb_bytes) * NsPerMonth());
  }
  double LineRate(std::size_t i) const {
    switch (LineItem(i)) {
      case Item::kData:
      case Item::kArchiveOverhead: return prices.StorageRate(LineClass(i), LineTier(i));
      case Item::kStandardOverhead:
      case Item::kRestoredCopy: return prices.StorageRate(StorageClass::kStandard);
    }
    return 0;
  }
  double LineUsd(std::size_t i) const {
    return storage[i].usd_priced + GbMonths(storage[i].byte_ns_unpriced) * LineRate(i);
  }
  double KmsKeysUsd() const {
    return kms_keys_usd_priced + kms_key_ns_unpriced / NsPerMonth() * prices.kms.key_month;
  }
  double KinesisShardsUsd() const {
    return kinesis_shards_usd_priced +
           kinesis_shard_ns_unpriced / (3600.0 * 1e9) * prices.kinesis.shard_hour;
  }
  double MonitoringUsd() const {
    const double object_months = monitored_object_ns_unpriced / NsPerMonth();
    return monitoring_usd_priced +
           object_months / 1000.0 *
               prices.of(StorageClass::kIntelligentTiering).monitoring_per_1000_objects_month;
  }

  // Accumulates the integrals from `last` to `now`; returns the time now
  // stands at (never earlier than before).
  TimeNs Advance(TimeNs now) {
    if (now <= last) return last;
    const auto dt = static_cast<double>(now - last);
    for (StorageLine& line : storage) {
      if (line.billable == 0) continue;
      const double add = static_cast<double>(line.billable) * dt;
      line.byte_ns += add;
      line.byte_ns_unpriced += add;
    }
    const double objects_add = static_cast<double>(monitored_objects) * dt;
    monitored_object_ns += objects_add;
    monitored_object_ns_unpriced += objects_add;
    const double keys_add = static_cast<double>(kms_keys) * dt;
    kms_key_ns += keys_add;
    kms_key_ns_unpriced += keys_add;
    const double shards_add = static_cast<double>(kinesis_shards) * dt;
    kinesis_shard_ns += shards_add;
    kinesis_shard_ns_unpriced += shards_add;
    last = now;
    return last;
  }

  // Prices everything integrated so far under `prices`, so a price change
  // applies only from here on.
  void FoldPrices() {
    for (std::size_t i = 0; i < storage.size(); ++i) {
      storage[i].usd_priced = LineUsd(i);
      storage[i].byte_ns_unpriced = 0;
    }
    monitoring_usd_priced = MonitoringUsd();
    monitored_object_ns_unpriced = 0;
    kms_keys_usd_priced = KmsKeysUsd();
    kms_key_ns_unpriced = 0;
    kinesis_shards_usd_priced = KinesisShardsUsd();
    kinesis_shard_ns_unpriced = 0;
  }

  // Calls fn(line index, logical, billable, physical) for each part of `f`;
  // returns whether `f` pays the monitoring fee.
  template <typename Fn>
  static bool ForEachPart(const Footprint& f, Fn&& fn) {
    const ClassInfo& info = InfoOf(f.cls);
    AccessTier tier = AccessTier::kFrequent;
    bool monitored = false;
    if (f.cls == StorageClass::kIntelligentTiering && f.size >= kIntelligentTieringMinBytes) {
      tier = f.tier;
      monitored = true;
    }
    fn(LineIndex(f.cls, tier, Item::kData), f.size, std::max(f.size, info.min_billable_bytes),
       f.physical);
    if (info.overhead_class_bytes != 0) {
      fn(LineIndex(f.cls, tier, Item::kArchiveOverhead), 0, info.overhead_class_bytes, 0);
    }
    std::uint64_t standard_overhead = info.overhead_standard_bytes;
    if (monitored && AccessTierNeedsRestore(tier)) {
      standard_overhead += kIntelligentTieringArchiveOverheadBytes;
    }
    if (standard_overhead != 0) {
      fn(LineIndex(f.cls, tier, Item::kStandardOverhead), 0, standard_overhead, 0);
    }
    if (f.restored_copy) fn(LineIndex(f.cls, tier, Item::kRestoredCopy), f.size, f.size, 0);
    return monitored;
  }

  void AddFootprint(const Footprint& f) {
    const bool monitored = ForEachPart(f, [&](std::size_t i, std::uint64_t logical,
                                              std::uint64_t billable, std::uint64_t physical) {
      StorageLine& line = storage[i];
      line.objects += 1;
      line.logical += logical;
      line.billable += billable;
      line.physical += physical;
    });
    if (monitored) monitored_objects += 1;
  }

  void RemoveFootprint(const Footprint& f) {
    // Clamped: a footprint that was never added must not wrap a total
    // around to 2^64 bytes and bill for it.
    auto sub = [](std::uint64_t& total, std::uint64_t n) { total -= std::min(total, n); };
    const bool monitored = ForEachPart(f, [&](std::size_t i, std::uint64_t logical,
                                              std::uint64_t billable, std::uint64_t physical) {
      StorageLine& line = storage[i];
      sub(line.objects, 1);
      sub(line.logical, logical);
      sub(line.billable, billable);
      sub(line.physical, physical);
    });
    if (monitored) sub(monitored_objects, 1);
  }
};

namespace {

using Json = nlohmann::json;
// Output keeps the order in which fields are written.
using OrderedJson = nlohmann::ordered_json;
using State = BillingMeter::State;

constexpr std::array<std::string_view, kRequestKindCount> kRequestKindNames{"PUT", "COPY", "LIST",
                                                                            "GET", "TRANSITION"};

// Figures in bills keep 12 significant digits, so that a sum of binary
// fractions reads as the decimal it stands for (0.023, not
// 0.022999999999999996) and the smallest charges keep their precision.
double Round(double x) {
  if (x == 0 || !std::isfinite(x)) return x;
  const int shift = 11 - static_cast<int>(std::floor(std::log10(std::fabs(x))));
  // Powers of ten up to 1e22 are exact doubles; beyond, leave x alone.
  if (shift > 22 || shift < -22) return x;
  const double p = std::pow(10.0, std::abs(shift));
  return shift >= 0 ? std::round(x * p) / p : std::round(x / p) * p;
}

std::string Key(std::string_view s) {
  return std::string(s);
}

// ---------------------------------------------------------------------------
// Price table parsing.

class PriceParser {
 public:
  Result<PriceTable> Parse(std::string_view text) {
    Json root = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (root.is_discarded()) return Status(Code::kMalformedJson, "prices: not valid JSON");
    PriceTable out;
    Status s = Top(root, out);
    if (!s.ok()) return s;
    return out;
  }

 private:
  static Status Bad(const std::string& path, std::string_view what) {
    std::string msg = "prices: ";
    msg += path;
    msg += ": ";
    msg += what;
    return InvalidArgument(std::move(msg));
  }

  static std::string Join(const std::string& path, std::string_view key) {
    if (path.empty()) return std::string(key);
    return path + "." + std::string(key);
  }

  static Status Object(const Json& j, const std::string& path) {
    if (!j.is_object()) return Bad(path.empty() ? "(top level)" : path, "must be an object");
    return Status::Ok();
  }

  // Every key of `j` must be among `allowed`.
  static Status KnownKeys(const Json& j, const std::string& path,
                          std::initializer_list<std::string_view> allowed) {
    const std::optional<std::string> unknown = FirstUnknownMember(j, allowed);
    if (unknown) return Bad(Join(path, *unknown), "unknown field");
    return Status::Ok();
  }

  static Status Price(const Json& j, const std::string& path, double& out) {
    if (!j.is_number()) return Bad(path, "must be a number");
    const auto v = j.get<double>();
    if (!std::isfinite(v) || v < 0) return Bad(path, "must be a finite number >= 0");
    out = v;
    return Status::Ok();
  }

  static Status Field(const Json& obj, const std::string& path, std::string_view key, double& out) {
    auto it = obj.find(Key(key));
    if (it == obj.end()) return Bad(Join(path, key), "missing");
    return Price(*it, Join(path, key), out);
  }

  static Status Text(const Json& obj, std::string_view key, bool required, std::string& out) {
    auto it = obj.find(Key(key));
    if (it == obj.end()) return required ? Bad(Key(key), "missing") : Status::Ok();
    if (!it->is_string()) return Bad(Key(key), "must be a string");
    out = it->get<std::string>();
    return Status::Ok();
  }

  static Status Top(const Json& root, PriceTable& out) {
    Status s = Object(root, "");
    if (!s.ok()) return s;
    s = KnownKeys(root, "",
                  {"region", "currency", "source", "month_hours", "gb_bytes", "s3", "kms",
                   "kinesis", "firehose"});
    if (!s.ok()) return s;
    s = Text(root, "region", true, out.region);
    if (!s.ok()) return s;
    s = Text(root, "currency", true, out.currency);
    if (!s.ok()) return s;
    s = Text(root, "source", false, out.source);
    if (!s.ok()) return s;
    s = Field(root, "", "month_hours", out.month_hours);
    if (!s.ok()) return s;
    if (out.month_hours <= 0) return Bad("month_hours", "must be > 0");
    auto gb = root.find("gb_bytes");
    if (gb == root.end()) return Bad("gb_bytes", "missing");
    if (!gb->is_number_unsigned() || gb->get<std::uint64_t>() == 0) {
      return Bad("gb_bytes", "must be an integer > 0");
    }
    out.gb_bytes = gb->get<std::uint64_t>();

    auto s3 = root.find("s3");
    if (s3 == root.end()) return Bad("s3", "missing");
    s = Object(*s3, "s3");
    if (!s.ok()) return s;
    for (const auto& item : s3->items()) {
      if (!ParseStorageClass(item.key())) return Bad("s3." + item.key(), "unknown storage class");
    }
    for (const ClassInfo& info : AllClasses()) {
      const std::string path = Join("s3", info.name);
      auto cls = s3->find(Key(info.name));
      if (cls == s3->end()) return Bad(path, "missing");
      s = Class(*cls, path, info, out.s3[static_cast<std::size_t>(info.id)]);
      if (!s.ok()) return s;
    }

    // Tables saved before KMS or Kinesis was billed lack its section;
    // refusing them would refuse to mount such a store, and $0 would be a
    // silent zero. They get the built-in table's prices for it, which
    // ToJson then shows. (The built-in table itself must have them.)
    Json builtin = Json::parse(DefaultPricesJson(), nullptr, /*allow_exceptions=*/false);
    auto section = [&](const char* name) -> const Json* {
      auto it = root.find(name);
      if (it != root.end()) return &*it;
      if (!builtin.is_object() || !builtin.contains(name)) return nullptr;
      return &builtin[name];
    };
    const Json* kms = section("kms");
    if (kms == nullptr) return Bad("kms", "missing");
    s = Kms(*kms, out.kms);
    if (!s.ok()) return s;
    const Json* kinesis = section("kinesis");
    if (kinesis == nullptr) return Bad("kinesis", "missing");
    s = Kinesis(*kinesis, out.kinesis);
    if (!s.ok()) return s;
    const Json* firehose = section("firehose");
    if (firehose == nullptr) return Bad("firehose", "missing");
    return Firehose(*firehose, out.firehose);
  }

  static Status Firehose(const Json& j, FirehosePrices& out) {
    const std::string path = "firehose";
    Status s = Object(j, path);
    if (!s.ok()) return s;
    s = KnownKeys(j, path, {"ingested_per_gb"});
    if (!s.ok()) return s;
    return Field(j, path, "ingested_per_gb", out.ingested_per_gb);
  }

  static Status Kinesis(const Json& j, KinesisPrices& out) {
    const std::string path = "kinesis";
    Status s = Object(j, path);
    if (!s.ok()) return s;
    s = KnownKeys(j, path, {"shard_hour", "put_units_per_million"});
    if (!s.ok()) return s;
    s = Field(j, path, "shard_hour", out.shard_hour);
    if (!s.ok()) return s;
    return Field(j, path, "put_units_per_million", out.put_units_per_million);
  }

  static Status Kms(const Json& j, KmsPrices& out) {
    const std::string path = "kms";
    Status s = Object(j, path);
    if (!s.ok()) return s;
    s = KnownKeys(j, path, {"requests_per_10000", "key_month"});
    if (!s.ok()) return s;
    s = Field(j, path, "requests_per_10000", out.requests_per_10000);
    if (!s.ok()) return s;
    return Field(j, path, "key_month", out.key_month);
  }

  static Status Class(const Json& j, const std::string& path, const ClassInfo& info,
                      ClassPrices& out) {
    Status s = Object(j, path);
    if (!s.ok()) return s;
    const bool it = info.id == StorageClass::kIntelligentTiering;
    if (it) {
      s = KnownKeys(
          j, path,
          {"storage_gb_month", "monitoring_per_1000_objects_month", "put_copy_post_list_per_1000",
           "get_select_other_per_1000", "retrieval_per_gb", "transition_per_1000"});
    } else if (info.needs_restore) {
      s = KnownKeys(j, path,
                    {"storage_gb_month", "put_copy_post_list_per_1000", "get_select_other_per_1000",
                     "retrieval_per_gb", "transition_per_1000", "restore"});
    } else {
      s = KnownKeys(j, path,
                    {"storage_gb_month", "put_copy_post_list_per_1000", "get_select_other_per_1000",
                     "retrieval_per_gb", "transition_per_1000"});
    }
    if (!s.ok()) return s;

    const std::string storage_path = Join(path, "storage_gb_month");
    auto storage = j.find("storage_gb_month");
    if (storage == j.end()) return Bad(storage_path, "missing");
    if (it) {
      // One rate per access tier.
      s = Object(*storage, storage_path);
      if (!s.ok()) return s;
      for (const auto& tier : storage->items()) {
        if (!ParseAccessTier(tier.key())) {
          return Bad(Join(storage_path, tier.key()), "unknown access tier");
        }
      }
      for (std::size_t t = 0; t < kAccessTierCount; ++t) {
        s = Field(*storage, storage_path, AccessTierName(static_cast<AccessTier>(t)),
                  out.storage_gb_month[t]);
        if (!s.ok()) return s;
      }
      s = Field(j, path, "monitoring_per_1000_objects_month",
                out.monitoring_per_1000_objects_month);
      if (!s.ok()) return s;
    } else {
      s = Price(*storage, storage_path, out.storage_gb_month[0]);
      if (!s.ok()) return s;
    }
    s = Field(j, path, "put_copy_post_list_per_1000", out.put_per_1000);
    if (!s.ok()) return s;
    s = Field(j, path, "get_select_other_per_1000", out.get_per_1000);
    if (!s.ok()) return s;
    s = Field(j, path, "retrieval_per_gb", out.retrieval_per_gb);
    if (!s.ok()) return s;
    s = Field(j, path, "transition_per_1000", out.transition_per_1000);
    if (!s.ok()) return s;
    if (info.needs_restore) return Restore(j, path, info, out);
    return Status::Ok();
  }

  // The restore tiers S3 offers for an archive class, each with a request
  // fee and a per-GB fee.
  static Status Restore(const Json& j, const std::string& path, const ClassInfo& info,
                        ClassPrices& out) {
    const std::string restore_path = Join(path, "restore");
    auto restore = j.find("restore");
    if (restore == j.end()) return Bad(restore_path, "missing");
    Status s = Object(*restore, restore_path);
    if (!s.ok()) return s;
    for (const auto& item : restore->items()) {
      auto tier = ParseRestoreTier(item.key());
      if (!tier) return Bad(Join(restore_path, item.key()), "unknown restore tier");
      if (*tier == RestoreTier::kExpedited && !info.expedited_restore) {
        return Bad(Join(restore_path, item.key()), "S3 offers no such restore tier for this class");
      }
    }
    for (std::size_t t = 0; t < kRestoreTierCount; ++t) {
      const auto tier = static_cast<RestoreTier>(t);
      if (tier == RestoreTier::kExpedited && !info.expedited_restore) continue;
      const std::string tier_path = Join(restore_path, RestoreTierName(tier));
      auto entry = restore->find(Key(RestoreTierName(tier)));
      if (entry == restore->end()) return Bad(tier_path, "missing");
      s = Object(*entry, tier_path);
      if (!s.ok()) return s;
      s = KnownKeys(*entry, tier_path, {"requests_per_1000", "retrieval_per_gb"});
      if (!s.ok()) return s;
      RestorePrice& price = out.restore[t];
      price.offered = true;
      s = Field(*entry, tier_path, "requests_per_1000", price.requests_per_1000);
      if (!s.ok()) return s;
      s = Field(*entry, tier_path, "retrieval_per_gb", price.retrieval_per_gb);
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }
};

OrderedJson PricesJson(const PriceTable& p) {
  OrderedJson root;
  root["region"] = p.region;
  root["currency"] = p.currency;
  if (!p.source.empty()) root["source"] = p.source;
  root["month_hours"] = p.month_hours;
  root["gb_bytes"] = p.gb_bytes;
  OrderedJson s3 = OrderedJson::object();
  for (const ClassInfo& info : AllClasses()) {
    const ClassPrices& c = p.of(info.id);
    OrderedJson j;
    if (info.id == StorageClass::kIntelligentTiering) {
      OrderedJson tiers;
      for (std::size_t t = 0; t < kAccessTierCount; ++t) {
        tiers[Key(AccessTierName(static_cast<AccessTier>(t)))] = c.storage_gb_month[t];
      }
      j["storage_gb_month"] = std::move(tiers);
      j["monitoring_per_1000_objects_month"] = c.monitoring_per_1000_objects_month;
    } else {
      j["storage_gb_month"] = c.storage_gb_month[0];
    }
    j["put_copy_post_list_per_1000"] = c.put_per_1000;
    j["get_select_other_per_1000"] = c.get_per_1000;
    j["retrieval_per_gb"] = c.retrieval_per_gb;
    j["transition_per_1000"] = c.transition_per_1000;
    if (info.needs_restore) {
      OrderedJson restore = OrderedJson::object();
      for (std::size_t t = 0; t < kRestoreTierCount; ++t) {
        if (!c.restore[t].offered) continue;
        restore[Key(RestoreTierName(static_cast<RestoreTier>(t)))] = {
            {"requests_per_1000", c.restore[t].requests_per_1000},
            {"retrieval_per_gb", c.restore[t].retrieval_per_gb}};
      }
      j["restore"] = std::move(restore);
    }
    s3[Key(info.name)] = std::move(j);
  }
  root["s3"] = std::move(s3);
  root["kms"] = {{"requests_per_10000", p.kms.requests_per_10000}, {"key_month", p.kms.key_month}};
  root["kinesis"] = {{"shard_hour", p.kinesis.shard_hour},
                     {"put_units_per_million", p.kinesis.put_units_per_million}};
  root["firehose"] = {{"ingested_per_gb", p.firehose.ingested_per_gb}};
  return root;
}

double PerThousand(std::uint64_t n, double price) {
  return static_cast<double>(n) / 1000.0 * price;
}

double PerTenThousand(std::uint64_t n, double price) {
  return static_cast<double>(n) / 10000.0 * price;
}

double RequestPrice(const ClassPrices& c, RequestKind k) {
  switch (k) {
    case RequestKind::kPut:
    case RequestKind::kCopy:
    case RequestKind::kList: return c.put_per_1000;
    case RequestKind::kGet: return c.get_per_1000;
    case RequestKind::kTransition: return c.transition_per_1000;
  }
  return 0;
}

// Enumerators only: a value cast from damaged metadata must not index past
// the meter's arrays.
bool Known(StorageClass c) {
  return static_cast<std::size_t>(c) < kStorageClassCount;
}
bool Known(const Footprint& f) {
  return Known(f.cls) && static_cast<std::size_t>(f.tier) < kAccessTierCount;
}

std::size_t RequestIndex(StorageClass c, RequestKind k) {
  return static_cast<std::size_t>(c) * kRequestKindCount + static_cast<std::size_t>(k);
}

std::size_t RestoreIndex(StorageClass c, RestoreTier t) {
  return static_cast<std::size_t>(c) * kRestoreTierCount + static_cast<std::size_t>(t);
}

// ---------------------------------------------------------------------------
// Bill rendering.

std::string RenderBill(const State& s) {
  const double gb = static_cast<double>(s.prices.gb_bytes);
  double total = 0;
  OrderedJson root;
  root["period"] = {{"start", FormatIso8601(s.start)},
                    {"end", FormatIso8601(s.last)},
                    {"start_ns", s.start},
                    {"end_ns", s.last},
                    {"hours", static_cast<double>(s.last - s.start) / 3.6e12}};
  root["region"] = s.prices.region;
  root["currency"] = s.prices.currency;

  OrderedJson storage = OrderedJson::array();
  for (std::size_t i = 0; i < s.storage.size(); ++i) {
    const State::StorageLine& line = s.storage[i];
    const StorageClass cls = State::LineClass(i);
    const AccessTier tier = State::LineTier(i);
    const State::Item item = State::LineItem(i);
    const bool it = cls == StorageClass::kIntelligentTiering;
    if (!it && tier != AccessTier::kFrequent) continue;  // other classes have one tier
    const bool used = line.objects != 0 || line.byte_ns != 0 || line.usd_priced != 0;
    if (item != State::Item::kData && !used) continue;
    const double usd = s.LineUsd(i);
    total += usd;
    OrderedJson j;
    j["class"] = StorageClassName(cls);
    if (it) j["tier"] = AccessTierName(tier);
    j["item"] = State::kItemNames[static_cast<std::size_t>(item)];
    j["gb_months"] = Round(s.GbMonths(line.byte_ns));
    j["usd"] = Round(usd);
    j["objects"] = line.objects;
    j["logical_bytes"] = line.logical;
    j["billable_bytes"] = line.billable;
    if (item == State::Item::kData) {
      j["physical_bytes"] = line.physical;
      if (line.physical != 0) {
        j["compression_ratio"] =
            Round(static_cast<double>(line.logical) / static_cast<double>(line.physical));
      } else {
        j["compression_ratio"] = nullptr;
      }
    }
    storage.push_back(std::move(j));
  }
  root["storage"] = std::move(storage);

  const double monitoring_usd = s.MonitoringUsd();
  total += monitoring_usd;
  root["monitoring"] = {{"objects", s.monitored_objects},
                        {"object_months", Round(s.monitored_object_ns / s.NsPerMonth())},
                        {"usd", Round(monitoring_usd)}};

  OrderedJson requests = OrderedJson::array();
  OrderedJson transitions = OrderedJson::array();
  for (const ClassInfo& info : AllClasses()) {
    for (std::size_t k = 0; k < kRequestKindCount; ++k) {
      const auto kind = static_cast<RequestKind>(k);
      const State::Counter& c = s.requests[RequestIndex(info.id, kind)];
      if (c.count == 0) continue;
      total += c.usd;
      if (kind == RequestKind::kTransition) {
        transitions.push_back({{"class", info.name}, {"count", c.count}, {"usd", Round(c.usd)}});
      } else {
        requests.push_back({{"class", info.name},
                            {"kind", RequestKindName(kind)},
                            {"count", c.count},
                            {"usd", Round(c.usd)}});
      }
    }
  }
  root["requests"] = std::move(requests);
  root["transitions"] = std::move(transitions);

  OrderedJson retrievals = OrderedJson::array();
  for (const ClassInfo& info : AllClasses()) {
    const State::Counter& c = s.retrievals[static_cast<std::size_t>(info.id)];
    if (c.count == 0) continue;
    total += c.usd;
    retrievals.push_back({{"class", info.name},
                          {"bytes", c.bytes},
                          {"gb", Round(static_cast<double>(c.bytes) / gb)},
                          {"usd", Round(c.usd)}});
  }
  root["retrievals"] = std::move(retrievals);

  OrderedJson restores = OrderedJson::array();
  for (const ClassInfo& info : AllClasses()) {
    for (std::size_t t = 0; t < kRestoreTierCount; ++t) {
      const auto tier = static_cast<RestoreTier>(t);
      const State::Counter& c = s.restores[RestoreIndex(info.id, tier)];
      if (c.count == 0) continue;
      total += c.usd;
      restores.push_back({{"class", info.name},
                          {"tier", RestoreTierName(tier)},
                          {"count", c.count},
                          {"bytes", c.bytes},
                          {"gb", Round(static_cast<double>(c.bytes) / gb)},
                          {"usd", Round(c.usd)}});
    }
  }
  root["restores"] = std::move(restores);

  OrderedJson early = OrderedJson::array();
  for (const ClassInfo& info : AllClasses()) {
    const State::Counter& c = s.early_deletion[static_cast<std::size_t>(info.id)];
    if (c.count == 0) continue;
    total += c.usd;
    early.push_back({{"class", info.name},
                     {"count", c.count},
                     {"gb_months", Round(s.GbMonths(c.byte_ns))},
                     {"usd", Round(c.usd)}});
  }
  root["early_deletion"] = std::move(early);

  const double keys_usd = s.KmsKeysUsd();
  const double kms_usd = keys_usd + s.kms_requests.usd;
  total += kms_usd;
  root["kms"] = {{"keys", s.kms_keys},
                 {"key_months", Round(s.kms_key_ns / s.NsPerMonth())},
                 {"keys_usd", Round(keys_usd)},
                 {"requests", s.kms_requests.count},
                 {"requests_usd", Round(s.kms_requests.usd)},
                 {"usd", Round(kms_usd)}};
  const double shards_usd = s.KinesisShardsUsd();
  const double kinesis_usd = shards_usd + s.kinesis_put_units.usd;
  total += kinesis_usd;
  root["kinesis"] = {{"open_shards", s.kinesis_shards},
                     {"shard_hours", Round(s.kinesis_shard_ns / (3600.0 * 1e9))},
                     {"shard_hours_usd", Round(shards_usd)},
                     {"put_payload_units", s.kinesis_put_units.count},
                     {"put_payload_units_usd", Round(s.kinesis_put_units.usd)},
                     {"usd", Round(kinesis_usd)}};
  total += s.firehose_ingested.usd;
  root["firehose"] = {{"records", s.firehose_ingested.count},
                      {"ingested_bytes", s.firehose_ingested.bytes},
                      {"ingested_gb", Round(static_cast<double>(s.firehose_ingested.bytes) /
                                            static_cast<double>(s.prices.gb_bytes))},
                      {"usd", Round(s.firehose_ingested.usd)}};
  root["total_usd"] = Round(total);
  root["prices"] = PricesJson(s.prices);
  return root.dump(2);
}

// ---------------------------------------------------------------------------
// Saved state: the integrals and counters, with storage already priced.

constexpr std::string_view kStateFormat = "shoal-billing";
constexpr int kStateVersion = 1;

std::string RenderState(const State& s) {
  OrderedJson root;
  root["format"] = kStateFormat;
  root["version"] = kStateVersion;
  root["start"] = s.start;
  root["saved_at"] = s.last;
  OrderedJson storage = OrderedJson::array();
  for (std::size_t i = 0; i < s.storage.size(); ++i) {
    const State::StorageLine& line = s.storage[i];
    const double usd = s.LineUsd(i);
    if (line.byte_ns == 0 && usd == 0) continue;
    OrderedJson j;
    j["class"] = StorageClassName(State::LineClass(i));
    j["tier"] = AccessTierName(State::LineTier(i));
    j["item"] = State::kItemNames[static_cast<std::size_t>(State::LineItem(i))];
    j["byte_ns"] = line.byte_ns;
    j["usd"] = usd;
    storage.push_back(std::move(j));
  }
  root["storage"] = std::move(storage);
  root["monitoring"] = {{"object_ns", s.monitored_object_ns}, {"usd", s.MonitoringUsd()}};
  auto counters = [](auto&& name_of, const auto& array) {
    OrderedJson out = OrderedJson::array();
    for (std::size_t i = 0; i < array.size(); ++i) {
      const State::Counter& c = array[i];
      if (c.count == 0 && c.usd == 0 && c.byte_ns == 0) continue;
      OrderedJson j = name_of(i);
      j["count"] = c.count;
      j["bytes"] = c.bytes;
      j["byte_ns"] = c.byte_ns;
      j["usd"] = c.usd;
      out.push_back(std::move(j));
    }
    return out;
  };
  root["requests"] = counters(
      [](std::size_t i) {
        return OrderedJson{
            {"class", StorageClassName(static_cast<StorageClass>(i / kRequestKindCount))},
            {"kind", RequestKindName(static_cast<RequestKind>(i % kRequestKindCount))}};
      },
      s.requests);
  root["retrievals"] = counters(
      [](std::size_t i) {
        return OrderedJson{{"class", StorageClassName(static_cast<StorageClass>(i))}};
      },
      s.retrievals);
  root["restores"] = counters(
      [](std::size_t i) {
        return OrderedJson{
            {"class", StorageClassName(static_cast<StorageClass>(i / kRestoreTierCount))},
            {"tier", RestoreTierName(static_cast<RestoreTier>(i % kRestoreTierCount))}};
      },
      s.restores);
  root["early_deletion"] = counters(
      [](std::size_t i) {
        return OrderedJson{{"class", StorageClassName(static_cast<StorageClass>(i))}};
      },
      s.early_deletion);
  // Added after version 1 was in use, so optional on load: a version-1
  // state without it is one saved before KMS was billed.
  root["kms"] = {{"requests", s.kms_requests.count},
                 {"requests_usd", s.kms_requests.usd},
                 {"key_ns", s.kms_key_ns},
                 {"keys_usd", s.KmsKeysUsd()}};
  // Optional on load too: a state without it was saved before Kinesis.
  root["kinesis"] = {{"put_units", s.kinesis_put_units.count},
                     {"put_units_usd", s.kinesis_put_units.usd},
                     {"shard_ns", s.kinesis_shard_ns},
                     {"shards_usd", s.KinesisShardsUsd()}};
  // Optional on load too: a state without it was saved before Firehose.
  root["firehose"] = {{"records", s.firehose_ingested.count},
                      {"bytes", s.firehose_ingested.bytes},
                      {"usd", s.firehose_ingested.usd}};
  return root.dump();
}

// Reads a saved state into `s` (whose prices and footprints it leaves);
// Corrupt naming what is wrong.
class StateParser {
 public:
  static Status Parse(std::string_view text, State& s) {
    Json root = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (root.is_discarded() || !root.is_object()) return Bad("not a JSON object");
    auto format = root.find("format");
    if (format == root.end() || !format->is_string() ||
        format->get<std::string>() != kStateFormat) {
      return Bad("not a billing state");
    }
    auto version = root.find("version");
    if (version == root.end() || !version->is_number_integer() ||
        version->get<std::int64_t>() != kStateVersion) {
      return Bad("unknown billing state version");
    }
    Status st = Time(root, "start", s.start);
    if (!st.ok()) return st;
    st = Time(root, "saved_at", s.last);
    if (!st.ok()) return st;
    if (s.last < s.start) return Bad("saved_at is before start");

    st = Storage(root, s);
    if (!st.ok()) return st;
    auto monitoring = root.find("monitoring");
    if (monitoring == root.end() || !monitoring->is_object()) return Bad("monitoring missing");
    st = Amount(*monitoring, "object_ns", s.monitored_object_ns);
    if (!st.ok()) return st;
    st = Amount(*monitoring, "usd", s.monitoring_usd_priced);
    if (!st.ok()) return st;

    st = Counters(root, "requests", s.requests, [](const Json& j) -> std::optional<std::size_t> {
      auto cls = ClassOf(j);
      auto kind = NameOf(j, "kind", kRequestKindNames);
      if (!cls || !kind) return std::nullopt;
      return static_cast<std::size_t>(*cls) * kRequestKindCount + *kind;
    });
    if (!st.ok()) return st;
    st =
        Counters(root, "retrievals", s.retrievals, [](const Json& j) -> std::optional<std::size_t> {
          auto cls = ClassOf(j);
          if (!cls) return std::nullopt;
          return static_cast<std::size_t>(*cls);
        });
    if (!st.ok()) return st;
    st = Counters(root, "restores", s.restores, [](const Json& j) -> std::optional<std::size_t> {
      auto cls = ClassOf(j);
      auto tier = j.find("tier");
      if (!cls || tier == j.end() || !tier->is_string()) return std::nullopt;
      auto t = ParseRestoreTier(tier->get<std::string>());
      if (!t) return std::nullopt;
      return RestoreIndex(*cls, *t);
    });
    if (!st.ok()) return st;
    st = Counters(root, "early_deletion", s.early_deletion,
                  [](const Json& j) -> std::optional<std::size_t> {
                    auto cls = ClassOf(j);
                    if (!cls) return std::nullopt;
                    return static_cast<std::size_t>(*cls);
                  });
    if (!st.ok()) return st;
    st = Kms(root, s);
    if (!st.ok()) return st;
    st = Kinesis(root, s);
    if (!st.ok()) return st;
    return Firehose(root, s);
  }

  static Status Firehose(const Json& root, State& s) {
    auto f = root.find("firehose");
    if (f == root.end()) return Status::Ok();  // saved before Firehose was billed
    if (!f->is_object()) return Bad("firehose is not an object");
    Status st = Count(*f, "records", s.firehose_ingested.count);
    if (!st.ok()) return st;
    st = Count(*f, "bytes", s.firehose_ingested.bytes);
    if (!st.ok()) return st;
    return Amount(*f, "usd", s.firehose_ingested.usd);
  }

 private:
  static Status Bad(std::string_view what) {
    std::string msg = "billing state: ";
    msg += what;
    return Corrupt(std::move(msg));
  }

  static Status Time(const Json& obj, const char* key, TimeNs& out) {
    auto it = obj.find(key);
    if (it == obj.end() || !it->is_number_integer()) {
      return Bad(std::string(key) + " missing or not an integer");
    }
    out = it->get<TimeNs>();
    return Status::Ok();
  }

  static Status Amount(const Json& obj, const char* key, double& out) {
    auto it = obj.find(key);
    if (it == obj.end() || !it->is_number()) return Bad(std::string(key) + " missing");
    const auto v = it->get<double>();
    if (!std::isfinite(v) || v < 0) return Bad(std::string(key) + " out of range");
    out = v;
    return Status::Ok();
  }

  static Status Count(const Json& obj, const char* key, std::uint64_t& out) {
    auto it = obj.find(key);
    if (it == obj.end() || !it->is_number_unsigned()) {
      return Bad(std::string(key) + " missing or not a count");
    }
    out = it->get<std::uint64_t>();
    return Status::Ok();
  }

  template <std::size_t N>
  static std::optional<std::size_t> NameOf(const Json& j, const char* key,
                                           const std::array<std::string_view, N>& names) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    const auto& name = it->get_ref<const std::string&>();
    for (std::size_t i = 0; i < N; ++i) {
      if (names[i] == name) return i;
    }
    return std::nullopt;
  }

  static std::optional<StorageClass> ClassOf(const Json& j) {
    auto it = j.find("class");
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return ParseStorageClass(it->get_ref<const std::string&>());
  }

  static Status Storage(const Json& root, State& s) {
    auto list = root.find("storage");
    if (list == root.end() || !list->is_array()) return Bad("storage missing");
    std::array<bool, State::kStorageLines> seen{};
    for (const Json& j : *list) {
      if (!j.is_object()) return Bad("storage entry is not an object");
      auto cls = ClassOf(j);
      auto tier_it = j.find("tier");
      std::optional<AccessTier> tier;
      if (tier_it != j.end() && tier_it->is_string()) {
        tier = ParseAccessTier(tier_it->get_ref<const std::string&>());
      }
      auto item = NameOf(j, "item", State::kItemNames);
      if (!cls || !tier || !item) return Bad("storage entry names no known line");
      const std::size_t i = State::LineIndex(*cls, *tier, static_cast<State::Item>(*item));
      if (seen[i]) return Bad("storage line listed twice");
      seen[i] = true;
      State::StorageLine& line = s.storage[i];
      Status st = Amount(j, "byte_ns", line.byte_ns);
      if (!st.ok()) return st;
      st = Amount(j, "usd", line.usd_priced);
      if (!st.ok()) return st;
    }
    return Status::Ok();
  }

  static Status Kms(const Json& root, State& s) {
    auto kms = root.find("kms");
    if (kms == root.end()) return Status::Ok();  // saved before KMS was billed
    if (!kms->is_object()) return Bad("kms is not an object");
    Status st = Count(*kms, "requests", s.kms_requests.count);
    if (!st.ok()) return st;
    st = Amount(*kms, "requests_usd", s.kms_requests.usd);
    if (!st.ok()) return st;
    st = Amount(*kms, "key_ns", s.kms_key_ns);
    if (!st.ok()) return st;
    return Amount(*kms, "keys_usd", s.kms_keys_usd_priced);
  }

  static Status Kinesis(const Json& root, State& s) {
    auto k = root.find("kinesis");
    if (k == root.end()) return Status::Ok();  // saved before Kinesis was billed
    if (!k->is_object()) return Bad("kinesis is not an object");
    Status st = Count(*k, "put_units", s.kinesis_put_units.count);
    if (!st.ok()) return st;
    st = Amount(*k, "put_units_usd", s.kinesis_put_units.usd);
    if (!st.ok()) return st;
    st = Amount(*k, "shard_ns", s.kinesis_shard_ns);
    if (!st.ok()) return st;
    return Amount(*k, "shards_usd", s.kinesis_shards_usd_priced);
  }

  template <std::size_t N, typename IndexOf>
  static Status Counters(const Json& root, const char* key, std::array<State::Counter, N>& out,
                         IndexOf&& index_of) {
    auto list = root.find(key);
    if (list == root.end() || !list->is_array()) return Bad(std::string(key) + " missing");
    std::array<bool, N> seen{};
    for (const Json& j : *list) {
      if (!j.is_object()) return Bad(std::string(key) + " entry is not an object");
      std::optional<std::size_t> i = index_of(j);
      if (!i || *i >= N) return Bad(std::string(key) + " entry names no known counter");
      if (seen[*i]) return Bad(std::string(key) + " entry listed twice");
      seen[*i] = true;
      State::Counter& c = out[*i];
      Status st = Count(j, "count", c.count);
      if (!st.ok()) return st;
      st = Count(j, "bytes", c.bytes);
      if (!st.ok()) return st;
      st = Amount(j, "byte_ns", c.byte_ns);
      if (!st.ok()) return st;
      st = Amount(j, "usd", c.usd);
      if (!st.ok()) return st;
    }
    return Status::Ok();
  }
};

}  // namespace

// ---------------------------------------------------------------------------

double PriceTable::StorageRate(StorageClass c, AccessTier t) const {
  const ClassPrices& p = of(c);
  if (c == StorageClass::kIntelligentTiering)
    return p.storage_gb_month[static_cast<std::size_t>(t)];
  return p.storage_gb_month[0];
}

std::string PriceTable::ToJson() const {
  return PricesJson(*this).dump(2);
}

Result<PriceTable> ParsePrices(std::string_view json) {
  return PriceParser().Parse(json);
}

std::string_view RequestKindName(RequestKind k) {
  return kRequestKindNames[static_cast<std::size_t>(k)];
}

BillingMeter::BillingMeter(PriceTable prices, TimeNs start) : state_(std::make_unique<State>()) {
  state_->prices = std::move(prices);
  state_->start = start;
  state_->last = start;
}

BillingMeter::~BillingMeter() = default;

void BillingMeter::Add(const Footprint& f, TimeNs now) {
  if (!Known(f)) return;
  MutexLock lock(mu_);
  state_->Advance(now);
  state_->AddFootprint(f);
}

void BillingMeter::Remove(const Footprint& f, TimeNs now, TimeNs class_since) {
  if (!Known(f)) return;
  MutexLock lock(mu_);
  State& s = *state_;
  const TimeNs at = s.Advance(now);
  s.RemoveFootprint(f);

  const ClassInfo& info = InfoOf(f.cls);
  if (info.min_storage_days <= 0) return;
  const TimeNs min_ns = TimeNs{info.min_storage_days} * 86400 * 1000000000;
  // Written so that a class_since far in the past cannot overflow.
  if (class_since <= at - min_ns) return;
  const TimeNs remaining = class_since >= at ? min_ns : min_ns - (at - class_since);
  // The class-rate part of the billable size; the 8 KiB at STANDARD's rate
  // has no minimum duration.
  const std::uint64_t billable =
      std::max(f.size, info.min_billable_bytes) + info.overhead_class_bytes;
  const double byte_ns = static_cast<double>(billable) * static_cast<double>(remaining);
  State::Counter& c = s.early_deletion[static_cast<std::size_t>(f.cls)];
  c.count += 1;
  c.bytes += billable;
  c.byte_ns += byte_ns;
  c.usd += s.GbMonths(byte_ns) * s.prices.StorageRate(f.cls, f.tier);
}

void BillingMeter::Replace(const Footprint& from, const Footprint& to, TimeNs now) {
  if (!Known(from) || !Known(to)) return;
  MutexLock lock(mu_);
  state_->Advance(now);
  state_->RemoveFootprint(from);
  state_->AddFootprint(to);
}

void BillingMeter::Request(RequestKind k, StorageClass cls, TimeNs /*now*/, std::uint64_t n) {
  if (!Known(cls) || static_cast<std::size_t>(k) >= kRequestKindCount) return;
  MutexLock lock(mu_);
  State& s = *state_;
  State::Counter& c = s.requests[RequestIndex(cls, k)];
  c.count += n;
  c.usd += PerThousand(n, RequestPrice(s.prices.of(cls), k));
}

void BillingMeter::Retrieval(StorageClass cls, std::uint64_t bytes) {
  if (!Known(cls)) return;
  MutexLock lock(mu_);
  State& s = *state_;
  State::Counter& c = s.retrievals[static_cast<std::size_t>(cls)];
  c.count += 1;
  c.bytes += bytes;
  c.usd += static_cast<double>(bytes) / static_cast<double>(s.prices.gb_bytes) *
           s.prices.of(cls).retrieval_per_gb;
}

void BillingMeter::Restore(StorageClass cls, RestoreTier tier, std::uint64_t bytes) {
  if (!Known(cls) || static_cast<std::size_t>(tier) >= kRestoreTierCount) return;
  MutexLock lock(mu_);
  State& s = *state_;
  const RestorePrice& price = s.prices.of(cls).restore[static_cast<std::size_t>(tier)];
  State::Counter& c = s.restores[RestoreIndex(cls, tier)];
  c.count += 1;
  c.bytes += bytes;
  if (!price.offered) return;
  c.usd += PerThousand(1, price.requests_per_1000) + static_cast<double>(bytes) /
                                                         static_cast<double>(s.prices.gb_bytes) *
                                                         price.retrieval_per_gb;
}

void BillingMeter::KmsRequests(TimeNs /*now*/, std::uint64_t n) {
  MutexLock lock(mu_);
  State& s = *state_;
  s.kms_requests.count += n;
  s.kms_requests.usd += PerTenThousand(n, s.prices.kms.requests_per_10000);
}

void BillingMeter::SetKmsKeys(std::uint32_t customer_managed_keys, TimeNs now) {
  MutexLock lock(mu_);
  state_->Advance(now);
  state_->kms_keys = customer_managed_keys;
}

void BillingMeter::FirehoseIngested(TimeNs /*now*/, std::uint64_t records, std::uint64_t bytes) {
  MutexLock lock(mu_);
  State& s = *state_;
  s.firehose_ingested.count += records;
  s.firehose_ingested.bytes += bytes;
  s.firehose_ingested.usd += static_cast<double>(bytes) / static_cast<double>(s.prices.gb_bytes) *
                             s.prices.firehose.ingested_per_gb;
}

void BillingMeter::KinesisPutUnits(TimeNs /*now*/, std::uint64_t n) {
  MutexLock lock(mu_);
  State& s = *state_;
  s.kinesis_put_units.count += n;
  s.kinesis_put_units.usd += static_cast<double>(n) / 1e6 * s.prices.kinesis.put_units_per_million;
}

void BillingMeter::SetKinesisShards(std::uint32_t open_shards, TimeNs now) {
  MutexLock lock(mu_);
  state_->Advance(now);
  state_->kinesis_shards = open_shards;
}

void BillingMeter::SetPrices(PriceTable prices, TimeNs now) {
  MutexLock lock(mu_);
  state_->Advance(now);
  state_->FoldPrices();
  state_->prices = std::move(prices);
}

std::string BillingMeter::ToJson(TimeNs now) const {
  State snapshot;
  {
    MutexLock lock(mu_);
    snapshot = *state_;
  }
  snapshot.Advance(now);
  return RenderBill(snapshot);
}

std::string BillingMeter::SaveState(TimeNs now) const {
  State snapshot;
  {
    MutexLock lock(mu_);
    snapshot = *state_;
  }
  snapshot.Advance(now);
  return RenderState(snapshot);
}

Status BillingMeter::LoadState(std::string_view saved) {
  State loaded;
  Status s = StateParser::Parse(saved, loaded);
  if (!s.ok()) return s;
  MutexLock lock(mu_);
  State& cur = *state_;
  cur.start = loaded.start;
  cur.last = loaded.last;
  for (std::size_t i = 0; i < cur.storage.size(); ++i) {
    cur.storage[i].byte_ns = loaded.storage[i].byte_ns;
    cur.storage[i].byte_ns_unpriced = 0;
    cur.storage[i].usd_priced = loaded.storage[i].usd_priced;
  }
  cur.monitored_object_ns = loaded.monitored_object_ns;
  cur.monitored_object_ns_unpriced = 0;
  cur.monitoring_usd_priced = loaded.monitoring_usd_priced;
  cur.requests = loaded.requests;
  cur.retrievals = loaded.retrievals;
  cur.restores = loaded.restores;
  cur.early_deletion = loaded.early_deletion;
  cur.kms_requests = loaded.kms_requests;
  cur.kms_key_ns = loaded.kms_key_ns;
  cur.kms_key_ns_unpriced = 0;
  cur.kms_keys_usd_priced = loaded.kms_keys_usd_priced;
  cur.kinesis_put_units = loaded.kinesis_put_units;
  cur.kinesis_shard_ns = loaded.kinesis_shard_ns;
  cur.kinesis_shard_ns_unpriced = 0;
  cur.kinesis_shards_usd_priced = loaded.kinesis_shards_usd_priced;
  cur.firehose_ingested = loaded.firehose_ingested;
  return Status::Ok();
}

}  // namespace shoal::tiers
