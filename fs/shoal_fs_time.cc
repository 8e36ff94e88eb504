// ShoalFs: the simulation's state — the simulated clock (DESIGN §2.2:
// MNT/.shoal/clock, advances, and the due work that runs, in time order, as
// the clock passes it) and the bill (DESIGN §2.9: billing.json, prices.json),
// both saved in the store.
#include <algorithm>
#include <chrono>
#include <limits>

#include "base/coding.h"
#include "fs/object_class.h"
#include "fs/shoal_fs.h"

namespace shoal::fs {

using store::Entry;
using store::EntryKind;
using store::Txn;

namespace {

constexpr std::string_view kClockState = "clock";
constexpr std::string_view kBillingState = "billing";
constexpr std::string_view kPricesState = "prices";
// A running clock looks for due work at least this often, and wakes for
// the next item at its time (but no sooner than kMinTick).
constexpr auto kMaxTick = std::chrono::seconds(1);
constexpr auto kMinTick = std::chrono::milliseconds(1);
// How often a running clock saves itself with the bill. (Due work saves the
// clock in its own transaction, and the clock resumes no earlier than the
// newest time an entry records, so a crash never undoes what was done.)
constexpr auto kSaveInterval = std::chrono::seconds(10);
// Due items run per write transaction: one commit (and sync) for many.
// (A lifecycle year over 200k objects: 512 per commit spends a third of
// its time in syncs; 4096 holds the write lock for some 40 ms.)
constexpr std::size_t kDueBatch = 4096;

TimeNs DecodeClock(std::string_view value) {
  return static_cast<TimeNs>(LoadFixed64(reinterpret_cast<const unsigned char*>(value.data())));
}

}  // namespace

Status ShoalFs::StartClock(const Options& options) {
  std::optional<std::string> saved;
  Status s = meta_->View([&](store::Txn& txn) {
    auto got = txn.GetState(kClockState);
    if (!got.ok()) return got.status();
    saved = std::move(*got);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  TimeNs saved_until = 0;
  if (saved) {
    if (saved->size() != 8) return Corrupt("saved clock has the wrong size");
    saved_until = DecodeClock(*saved);
    if (options.clock_start && *options.clock_start < saved_until) {
      return InvalidArgument("the store's clock is already at " + FormatIso8601(saved_until) +
                             " and never goes backwards: mount with a later --clock, or "
                             "without --clock to resume it");
    }
  }
  if (!options.clock_start) {
    s = clock_.AdvanceTo(saved ? saved_until : SystemClock().Now());
    if (!s.ok()) return s;
  }
  TimeNs newest = 0;
  s = StartBilling(&newest);
  if (!s.ok()) return s;
  if (newest > clock_.Now()) {
    // The daemon died after its last save: resume after what it did.
    if (options.clock_start) {
      return InvalidArgument("the store holds changes made at " + FormatIso8601(newest) +
                             ", and the clock never goes backwards: mount with a later --clock, "
                             "or without --clock to resume it");
    }
    s = clock_.AdvanceTo(newest);
    if (!s.ok()) return s;
  }
  mount_time_ = clock_.Now();
  {
    // Work that fell due while the store was not mounted runs now.
    MutexLock lock(advance_mu_);
    s = RunDueUpTo(clock_.Now());
    if (s.ok()) s = SaveSimulation();
  }
  if (!s.ok()) return s;
  clock_started_ = true;
  FlushDueEvents();
  ticker_ = std::thread([this] { Tick(); });
  firehose_pump_ = std::thread([this] { RunFirehosePump(); });
  return Status::Ok();
}

Status ShoalFs::SaveSimulation() {
  const TimeNs now = clock_.Now();
  std::string bill = meter_->SaveState(now);
  return meta_->Update([&](store::Txn& txn) {
    Status s = SaveClockIn(txn, now);
    if (!s.ok()) return s;
    return txn.PutState(kBillingState, bill);
  });
}

Status ShoalFs::SaveClockIn(store::Txn& txn, TimeNs t) {
  auto stored = txn.GetState(kClockState);
  if (!stored.ok()) return stored.status();
  if (*stored && (*stored)->size() == 8 && DecodeClock(**stored) >= t) return Status::Ok();
  std::string value;
  PutFixed64(value, static_cast<std::uint64_t>(t));
  return txn.PutState(kClockState, value);
}

Status ShoalFs::ApplyClockCommand(std::string_view data) {
  // One command per line; a write may carry several.
  while (!data.empty()) {
    std::size_t nl = data.find('\n');
    std::string_view line = data.substr(0, nl);
    data = nl == std::string_view::npos ? std::string_view() : data.substr(nl + 1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.remove_suffix(1);
    if (line.empty()) continue;
    auto cmd = ParseClockCommand(line);
    if (!cmd.ok()) return cmd.status();
    Status s;
    if (cmd->rate) {
      s = clock_.SetRate(*cmd->rate);
    } else if (cmd->advance_by) {
      TimeNs to = 0;
      if (__builtin_add_overflow(clock_.Now(), *cmd->advance_by, &to)) {
        return InvalidArgument("the clock cannot go past 2262-04-11, the end of its range");
      }
      s = AdvanceClockTo(to);
    } else {
      s = AdvanceClockTo(*cmd->move_to);
    }
    if (!s.ok()) return s;
    {
      // A new rate (or new due work) takes effect at once.
      std::lock_guard<std::mutex> lock(ticker_mu_);
      ++ticker_generation_;
    }
    ticker_cv_.notify_all();
  }
  return Status::Ok();
}

Status ShoalFs::AdvanceClockTo(TimeNs t) {
  Status s = RunClockTo(t);
  // What the advance made due is delivered when the write returns: the
  // buffers of its events' records too, which filled at their due times.
  FlushDueEvents();
  if (firehose_queue_) {
    firehose_queue_->Queue(firehose_->TakeDue(clock_.Now()));
    firehose_queue_->Drain();
  }
  FlushInvalidations();
  return s;
}

Status ShoalFs::RunClockTo(TimeNs t) {
  MutexLock lock(advance_mu_);
  const TimeNs now = clock_.Now();
  if (t < now) {
    return InvalidArgument("the clock never goes backwards: it is " + FormatIso8601(now) +
                           ", later than " + FormatIso8601(t));
  }
  Status s = RunDueUpTo(t);
  if (!s.ok()) return s;
  s = AdvanceKms(t);
  if (!s.ok()) return s;
  s = AdvanceStreams(t);
  if (!s.ok()) return s;
  // A running clock may have passed `t` while the work ran: then it stays.
  clock_.CatchUpTo(t);
  // Delivered at the new time: the objects' LastModified is `t`.
  s = AdvanceFirehose(t);
  if (!s.ok()) return s;
  return SaveSimulation();
}

void ShoalFs::ApplyDueChanges(const std::vector<DueChange>& changes) {
  for (const DueChange& c : changes) {
    if (c.event_key && !c.event_name.empty()) {
      MutexLock lock(notify_mu_);
      pending_events_.push_back({*c.event_key, c.event_name, c.event_entry, c.at, c.event_extra});
    }
    Bill(&c.before, c.after ? &*c.after : nullptr, c.at);
    if (c.transition) meter_->Request(tiers::RequestKind::kTransition, *c.transition, c.at);
    // Only a name whose inode the kernel knows can be in its cache.
    if (c.left_tree && inodes_.Find(c.before.id)) {
      Detach(c.before);
      MutexLock lock(pending_mu_);
      pending_invalidations_.emplace_back(c.parent, c.name);
    }
    if (!c.after && !c.before.blob_id.empty()) RemoveBlobAfterSync(c.before.blob_id);
  }
}

void ShoalFs::FlushDueEvents() {
  // One flush at a time, so that a key's events go out in their order.
  MutexLock sending(due_events_send_mu_);
  std::vector<PendingEvent> events;
  {
    MutexLock lock(notify_mu_);
    events.swap(pending_events_);
  }
  for (PendingEvent& e : events) {
    NotifyS3(e.key, e.name, e.entry ? &*e.entry : nullptr, e.at, std::move(e.extra));
  }
}

void ShoalFs::FlushInvalidations() {
  std::vector<std::pair<Ino, std::string>> names;
  {
    MutexLock lock(pending_mu_);
    names.swap(pending_invalidations_);
  }
  for (const auto& [parent, name] : names) InvalidateEntry(parent, name);
}

Status ShoalFs::RunDueUpTo(TimeNs limit) {
  // After a batch fails, items run one per transaction up to the one that
  // failed, which is then retried alone and, if it fails again, dropped.
  std::optional<store::DueItem> suspect;
  for (;;) {
    const std::size_t batch = suspect ? 1 : kDueBatch;
    std::vector<DueChange> changes;
    std::optional<store::DueItem> current;
    bool more = false;
    Status s = meta_->Update(
        [&](store::Txn& txn) -> Status {
          changes.clear();
          more = false;
          std::optional<TimeNs> ran;
          for (std::size_t n = 0; n < batch; ++n) {
            current.reset();  // a failure from here on is no item's fault
            auto first = txn.FirstDue();
            if (!first.ok()) return first.status();
            if (!*first || (*first)->at > limit) {
              return ran ? SaveClockIn(txn, *ran) : Status::Ok();
            }
            current = *first;
            clock_.CatchUpTo(current->at);
            Status r = RunDueItemIn(txn, *current, changes);
            if (!r.ok()) return r;
            ran = current->at;
          }
          more = true;
          // A crash never undoes work done: the clock is saved with it.
          return SaveClockIn(txn, *ran);
        },
        [&] { ApplyDueChanges(changes); });
    if (s.ok()) {
      if (suspect && current && *current == *suspect) suspect.reset();
      if (!more) return Status::Ok();
      continue;
    }
    if (!current) return s;  // not an item's fault
    if (!suspect || *current != *suspect) {
      suspect = current;  // run it alone before blaming it
      continue;
    }
    // Work that cannot run (damaged metadata, a full disk) is reported and
    // dropped, so one bad item cannot stop the clock forever.
    errors_.Record("(due work for entry " + std::to_string(current->id) + ")", s);
    s = meta_->Update([&](store::Txn& txn) { return txn.RemoveDue(*current); });
    if (!s.ok()) return s;
    suspect.reset();
  }
}

std::chrono::nanoseconds ShoalFs::NextTickWait() {
  const double rate = clock_.rate();
  if (rate == 0) return kMaxTick;
  std::optional<store::DueItem> item;
  Status s = meta_->View([&](store::Txn& txn) {
    auto got = txn.FirstDue();
    if (!got.ok()) return got.status();
    item = *got;
    return Status::Ok();
  });
  if (!s.ok() || !item) return kMaxTick;
  const double real_ns = static_cast<double>(item->at - clock_.Now()) / rate;
  if (real_ns <= static_cast<double>(kMinTick.count()) * 1e6) return kMinTick;
  if (real_ns >= static_cast<double>(kMaxTick.count()) * 1e9) return kMaxTick;
  return std::chrono::nanoseconds(static_cast<std::int64_t>(real_ns));
}

void ShoalFs::Tick() {
  auto last_save = std::chrono::steady_clock::now();
  bool failed = false;
  for (;;) {
    std::uint64_t seen = 0;
    {
      std::lock_guard<std::mutex> lock(ticker_mu_);
      seen = ticker_generation_;
    }
    // After a failure, wait the longest: the same failure would repeat.
    const std::chrono::nanoseconds wait = failed ? kMaxTick : NextTickWait();
    {
      std::unique_lock<std::mutex> lock(ticker_mu_);
      ticker_cv_.wait_for(lock, wait, [&] { return ticker_stop_ || ticker_generation_ != seen; });
      if (ticker_stop_) return;
    }
    ScaleStreams();  // on real time, whatever the simulated clock does
    if (clock_.rate() == 0) continue;
    {
      MutexLock advance(advance_mu_);
      Status s = RunDueUpTo(clock_.Now());
      if (s.ok()) s = AdvanceKms(clock_.Now());
      if (s.ok()) s = AdvanceStreams(clock_.Now());
      if (s.ok()) s = AdvanceFirehose(clock_.Now());
      failed = !s.ok();
      if (failed) errors_.Record("(due work)", s);
      if (std::chrono::steady_clock::now() - last_save >= kSaveInterval) {
        s = SaveSimulation();
        if (!s.ok()) errors_.Record("(saving the clock)", s);
        last_save = std::chrono::steady_clock::now();
      }
    }
    FlushDueEvents();
    FlushInvalidations();
  }
}

void ShoalFs::StopTicker() {
  {
    std::lock_guard<std::mutex> lock(ticker_mu_);
    ticker_stop_ = true;
  }
  ticker_cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
}

Status ShoalFs::StartBilling(TimeNs* newest) {
  std::optional<std::string> prices_json, saved_bill;
  Status s = meta_->View([&](Txn& txn) {
    auto p = txn.GetState(kPricesState);
    if (!p.ok()) return p.status();
    prices_json = std::move(*p);
    auto b = txn.GetState(kBillingState);
    if (!b.ok()) return b.status();
    saved_bill = std::move(*b);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  auto prices = tiers::ParsePrices(prices_json ? *prices_json : tiers::DefaultPricesJson());
  if (!prices.ok()) return Corrupt("saved prices: " + prices.status().message());
  const TimeNs now = clock_.Now();
  meter_ = std::make_unique<tiers::BillingMeter>(std::move(*prices), now);
  TimeNs counted_from = now;
  if (saved_bill) {
    s = meter_->LoadState(*saved_bill);
    if (!s.ok()) return s;
    // The objects were stored after the saved bill ends too (while not
    // mounted, or after its last save before a crash): count them from its
    // end, which the meter takes for any earlier time.
    counted_from = std::numeric_limits<TimeNs>::min();
  }
  CountKmsKeys(counted_from);
  CountOpenShards(counted_from);
  return meta_->View([&](Txn& txn) {
    Status scan = txn.ScanAll([&](store::EntryId, std::string_view, bool, Result<Entry> e) {
      if (!e.ok()) return Status::Ok();  // fsck names it
      // Times the daemon stamps (not mtime, which utimens may set anywhere).
      *newest = std::max(
          {*newest, e->ctime, e->created, e->class_since, e->last_access, e->restore.requested});
      if (e->kind == EntryKind::kFile) meter_->Add(FootprintOf(*e), counted_from);
      return Status::Ok();
    });
    if (!scan.ok()) return scan;
    // Noncurrent versions are stored, and billed, like current ones.
    return txn.ScanAllVersions([&](const store::VersionLocation&, Result<Entry> v) {
      if (!v.ok()) return Status::Ok();  // fsck names it
      *newest = std::max({*newest, v->ctime, v->created, v->class_since, v->noncurrent_since,
                          v->last_access, v->restore.requested});
      if (!v->delete_marker) meter_->Add(FootprintOf(*v), counted_from);
      return Status::Ok();
    });
  });
}

Result<std::string> ShoalFs::ReadPrices() {
  std::optional<std::string> saved;
  Status s = meta_->View([&](Txn& txn) {
    auto got = txn.GetState(kPricesState);
    if (!got.ok()) return got.status();
    saved = std::move(*got);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return saved.value_or(std::string(tiers::DefaultPricesJson()));
}

Status ShoalFs::ReplacePrices(std::string_view json) {
  auto prices = tiers::ParsePrices(json);
  if (!prices.ok()) return prices.status();
  std::string canonical = prices->ToJson();
  // The meter changes tables in commit order, so it uses what is stored.
  return meta_->Update([&](Txn& txn) { return txn.PutState(kPricesState, canonical); },
                       [&] { meter_->SetPrices(*prices, clock_.Now()); });
}

}  // namespace shoal::fs
