#pragma once
// The price table and the billing meter behind MNT/.shoal/billing.json.
//
// Prices are data: tiers/prices.json (us-east-1) is embedded in the binary
// at build time and parsed into a PriceTable; a caller may parse another.
// The meter integrates stored bytes and KMS keys over simulated time and
// counts requests, retrievals, restores, transitions, early deletions and
// KMS requests, each priced from the table in force when it happened.
//
// Thread-safety: PriceTable is a value. BillingMeter may be used from many
// threads at once (one internal mutex, never held across I/O).

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/mutex.h"
#include "base/status.h"
#include "tiers/storage_class.h"

namespace shoal::tiers {

// What one restore tier costs for one class.
struct RestorePrice {
  bool offered = false;          // absent from the table: the tier is not sold
  double requests_per_1000 = 0;  // $ per 1,000 restore requests
  double retrieval_per_gb = 0;   // $ per GB restored
};

// One class's prices. Dollar amounts, all >= 0.
struct ClassPrices {
  // $ per GB-month. For INTELLIGENT_TIERING, one per access tier (indexed by
  // AccessTier); every other class uses only element 0.
  std::array<double, kAccessTierCount> storage_gb_month{};
  double monitoring_per_1000_objects_month = 0;           // INTELLIGENT_TIERING only
  double put_per_1000 = 0;                                // PUT, COPY, POST, LIST
  double get_per_1000 = 0;                                // GET, SELECT and all other requests
  double retrieval_per_gb = 0;                            // per-GB fee on reads
  double transition_per_1000 = 0;                         // lifecycle transitions into this class
  std::array<RestorePrice, kRestoreTierCount> restore{};  // indexed by RestoreTier
};

// AWS KMS, for SSE-KMS. Dollar amounts, all >= 0.
struct KmsPrices {
  double requests_per_10000 = 0;  // GenerateDataKey, Decrypt, ReEncrypt, ...
  double key_month = 0;           // per customer managed key per month
};

// Kinesis Data Streams, provisioned mode. Dollar amounts, all >= 0.
struct KinesisPrices {
  double shard_hour = 0;             // per open shard per hour
  double put_units_per_million = 0;  // PUT payload units (25 KB each, rounded up per record)
};

// Amazon Data Firehose, Direct PUT ingestion. Dollar amounts, all >= 0.
struct FirehosePrices {
  double ingested_per_gb = 0;  // per GB ingested, each record rounded up to 5 KB
};

// What Firehose bills for ingesting a record of `size` bytes: its size
// rounded up to a multiple of 5 KB.
inline constexpr std::uint64_t kFirehoseBillingIncrement = std::uint64_t{5} * 1024;
inline std::uint64_t FirehoseBilledBytes(std::uint64_t size) {
  return std::max<std::uint64_t>(
             1, (size + kFirehoseBillingIncrement - 1) / kFirehoseBillingIncrement) *
         kFirehoseBillingIncrement;
}

struct PriceTable {
  std::string region;                                // "us-east-1"
  std::string currency;                              // "USD"
  std::string source;                                // where the figures come from (free text)
  double month_hours = 730;                          // a billing month, as AWS prorates storage
  std::uint64_t gb_bytes = 1073741824;               // AWS's "GB" is 2^30 bytes
  std::array<ClassPrices, kStorageClassCount> s3{};  // indexed by StorageClass
  KmsPrices kms;
  KinesisPrices kinesis;
  FirehosePrices firehose;

  const ClassPrices& of(StorageClass c) const { return s3[static_cast<std::size_t>(c)]; }
  // $ per GB-month of class `c` (access tier `t` for INTELLIGENT_TIERING).
  double StorageRate(StorageClass c, AccessTier t = AccessTier::kFrequent) const;
  // The table in prices.json's schema; ParsePrices(ToJson()) gives it back.
  std::string ToJson() const;
};

// The contents of tiers/prices.json as built into the binary.
std::string_view DefaultPricesJson();

// Parses and validates a table in prices.json's schema: every class present
// with every field, every number finite and >= 0, month_hours and gb_bytes
// > 0, no unknown keys (a misspelt key is an error, not a silent zero).
// The "kms", "kinesis" and "firehose" sections, when present, must have all their
// prices; a table without one (saved before it was billed) takes the
// built-in table's prices for it. MalformedJson when `json` is not JSON; InvalidArgument naming the
// bad field ("prices: s3.GLACIER.restore.Bulk.retrieval_per_gb: ...",
// "prices: kms.key_month: missing") otherwise.
Result<PriceTable> ParsePrices(std::string_view json);

enum class RequestKind : std::uint8_t { kPut = 0, kCopy, kList, kGet, kTransition };
inline constexpr std::size_t kRequestKindCount = 5;
// "PUT", "COPY", "LIST", "GET", "TRANSITION".
std::string_view RequestKindName(RequestKind k);

// What one stored object version costs per unit of time.
struct Footprint {
  StorageClass cls = StorageClass::kStandard;
  AccessTier tier = AccessTier::kFrequent;  // INTELLIGENT_TIERING only
  std::uint64_t size = 0;                   // logical bytes
  std::uint64_t physical = 0;  // bytes on disk after compression (reported, not billed)
  bool restored_copy = false;  // a restored temporary copy exists, billed at STANDARD's rate
};

// Integrates the storage of every object over simulated time and prices all
// other usage as it happens. Time is always the caller's (simulated) TimeNs;
// the meter never reads a clock. Times passed should not decrease; an
// earlier time than one already seen counts as that time. A class, tier or
// kind outside its enumeration (damaged metadata) is ignored.
//
// Storage billing, as AWS bills it:
// - billable bytes: max(size, min_billable_bytes) at the class's rate;
//   GLACIER and DEEP_ARCHIVE add 32 KiB at the class's rate and 8 KiB at
//   STANDARD's; a restored copy adds `size` at STANDARD's rate;
// - INTELLIGENT_TIERING: objects under 128 KiB are billed at the Frequent
//   rate whatever `tier` says and are not monitored; larger ones pay their
//   tier's rate plus the monitoring fee per object-month; in the Archive and
//   Deep Archive Access tiers they add 8 KiB at STANDARD's rate;
// - GB-months = byte-seconds / (gb_bytes * month_hours * 3600).
// KMS keys accrue key-months the same way: key-seconds / (month_hours * 3600).
class BillingMeter {
 public:
  // The bill's period starts at `start`.
  BillingMeter(PriceTable prices, TimeNs start);
  ~BillingMeter();
  BillingMeter(const BillingMeter&) = delete;
  BillingMeter& operator=(const BillingMeter&) = delete;

  // An object version enters at `now` (PUT, commit, restore, class change,
  // mount-time recount).
  void Add(const Footprint& f, TimeNs now) EXCLUDES(mu_);
  // An object version leaves at `now`; `f` must equal what was added. If it
  // has been in its class since `class_since` for less than the class's
  // minimum duration, the remaining days are charged at once: remaining time
  // x (max(size, min_billable_bytes) + overhead_class_bytes) x the class's
  // rate, as AWS prorates early deletion. A footprint that was never added
  // is clamped away (no negative storage).
  void Remove(const Footprint& f, TimeNs now, TimeNs class_since) EXCLUDES(mu_);
  // An object version changes footprint within its class at `now` (a
  // restored copy appears or expires, an Intelligent-Tiering tier move, a
  // re-encode): Remove(from) + Add(to) without any early-deletion charge.
  void Replace(const Footprint& from, const Footprint& to, TimeNs now) EXCLUDES(mu_);
  // `n` requests of kind `k` against class `cls` (for kCopy and kTransition,
  // the destination class). Priced on arrival. `now` is not used yet: the
  // bill is one period.
  void Request(RequestKind k, StorageClass cls, TimeNs now, std::uint64_t n = 1) EXCLUDES(mu_);
  // `bytes` read from an object of class `cls`: the per-GB retrieval fee
  // where the class has one (STANDARD_IA, ONEZONE_IA, GLACIER_IR).
  void Retrieval(StorageClass cls, std::uint64_t bytes) EXCLUDES(mu_);
  // One restore request of `bytes` at `tier` for an archived object of
  // class `cls`: the request fee plus the per-GB fee. A tier the table does
  // not offer for the class (Expedited for DEEP_ARCHIVE) is counted at $0;
  // callers reject such restores before they get here.
  void Restore(StorageClass cls, RestoreTier tier, std::uint64_t bytes) EXCLUDES(mu_);
  // `n` KMS requests (GenerateDataKey, Decrypt, ReEncrypt, ... made on the
  // user's behalf) at requests_per_10000, priced on arrival; no free tier.
  // `now` is not used yet, as for Request.
  void KmsRequests(TimeNs now, std::uint64_t n = 1) EXCLUDES(mu_);
  // From `now` on, `customer_managed_keys` customer managed KMS keys exist,
  // each accruing key-months at key_month (AWS managed keys are free and
  // not counted). The count is current state, like a footprint: it starts
  // at 0, LoadState keeps it, and the mount sets it again after LoadState
  // (a time before the saved bill's end counts from that end).
  void SetKmsKeys(std::uint32_t customer_managed_keys, TimeNs now) EXCLUDES(mu_);
  // `n` Kinesis PUT payload units (one per started 25 KB of each record),
  // priced on arrival.
  void KinesisPutUnits(TimeNs now, std::uint64_t n) EXCLUDES(mu_);
  // From `now` on, `open_shards` Kinesis shards are open, each accruing
  // shard-hours (closed shards are not billed). Current state like the KMS
  // key count: LoadState keeps it, the mount sets it after.
  void SetKinesisShards(std::uint32_t open_shards, TimeNs now) EXCLUDES(mu_);
  // `records` ingested by Firehose, `bytes` in all with each record rounded
  // up to a multiple of 5 KB (FirehoseBilledBytes), priced on
  // arrival.
  void FirehoseIngested(TimeNs now, std::uint64_t records, std::uint64_t bytes) EXCLUDES(mu_);
  // Bills everything up to `now` at the old prices, then uses `prices`.
  void SetPrices(PriceTable prices, TimeNs now) EXCLUDES(mu_);

  // The itemised bill from the period's start to `now`, as billing.json:
  //   {"period":{"start","end","start_ns","end_ns","hours"},
  //    "region","currency",
  //    "storage":[{"class","tier"?,"item","gb_months","usd","objects",
  //                "logical_bytes","billable_bytes","physical_bytes"?,
  //                "compression_ratio"?}],
  //    "monitoring":{"objects","object_months","usd"},
  //    "requests":[{"class","kind","count","usd"}],
  //    "transitions":[{"class","count","usd"}],
  //    "retrievals":[{"class","bytes","gb","usd"}],
  //    "restores":[{"class","tier","count","bytes","gb","usd"}],
  //    "early_deletion":[{"class","count","gb_months","usd"}],
  //    "kms":{"keys","key_months","keys_usd","requests","requests_usd","usd"},
  //    "kinesis":{"open_shards","shard_hours","shard_hours_usd",
  //               "put_payload_units","put_payload_units_usd","usd"},
  //    "firehose":{"records","ingested_bytes","ingested_gb","usd"},
  //    "total_usd", "prices":{...the table in force...}}
  // "storage" has one "data" line per class (per access tier for
  // INTELLIGENT_TIERING), always present; "archive_overhead" (32 KiB per
  // object at the class's rate), "standard_overhead" (8 KiB per object at
  // STANDARD's rate) and "restored_copy" lines appear once used. objects,
  // logical/billable/physical bytes are current values; physical bytes and
  // compression_ratio (logical / physical) are on "data" lines. Other lists
  // hold only non-zero entries; "monitoring", "kms", "kinesis" and "firehose" are always present
  // ("keys" is the current count, "usd" = keys_usd + requests_usd).
  // total_usd is the sum of every item. Figures keep 12 significant digits.
  std::string ToJson(TimeNs now) const EXCLUDES(mu_);

  // The integrals and counters up to `now` (not the current footprints: the
  // mount recounts those from the objects), with past usage priced, so a
  // later price change does not re-price it.
  std::string SaveState(TimeNs now) const EXCLUDES(mu_);
  // Replaces the period start, integrals and counters with a saved state;
  // integration resumes from the time it was saved. Current footprints and
  // the current KMS key count are kept, so call it before the mount's Add
  // and SetKmsKeys calls. A state saved before KMS was billed loads with no
  // KMS usage. Corrupt if `saved` is not a state SaveState wrote; the meter
  // is then unchanged.
  Status LoadState(std::string_view saved) EXCLUDES(mu_);

  struct State;  // internal; defined in billing.cc

 private:
  mutable Mutex mu_;
  // Behind a pointer so that this header need not spell out the meters.
  const std::unique_ptr<State> state_ PT_GUARDED_BY(mu_);
};

}  // namespace shoal::tiers
