#include "crypto/kms.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/coding.h"
#include "base/file_util.h"
#include "base/temp_dir.h"

namespace shoal::crypto {
namespace {

constexpr TimeNs kSecond = 1'000'000'000;
constexpr TimeNs kDay = 86'400 * kSecond;
constexpr TimeNs kYear = 365 * kDay;
// 2027-01-15T08:00:00Z
constexpr TimeNs kT0 = 1'800'000'000 * kSecond;
constexpr std::uint32_t kUid = 1000;

// A fresh directory, removed with its contents at scope exit.

std::unique_ptr<RootKey> TestRoot(unsigned char fill = 7) {
  Key key;
  key.bytes.fill(fill);
  return RootKey::FromKey(key);
}

// The audit records a Kms emits, from any thread.
class AuditLog {
 public:
  void Add(const KmsAuditRecord& r) {
    std::lock_guard<std::mutex> l(mu_);
    records_.push_back(r);
  }
  std::vector<KmsAuditRecord> Take() {
    std::lock_guard<std::mutex> l(mu_);
    return std::exchange(records_, {});
  }

 private:
  std::mutex mu_;
  std::vector<KmsAuditRecord> records_;
};

// A steady clock that moves only when told, and a sleep that records.
struct FakeTime {
  std::atomic<std::int64_t> now{1'000 * kSecond};
  std::mutex mu;
  std::vector<std::int64_t> sleeps;
  bool sleep_advances_clock = false;
};

// A Kms over `dir` with a fake steady clock, no quota unless given one, and
// its audit records in `log`.
struct Env {
  explicit Env(double rps = 0, KmsOptions::QuotaMode mode = KmsOptions::QuotaMode::kReject)
      : root(TestRoot()) {
    options.requests_per_second = rps;
    options.quota_mode = mode;
    options.steady_now_ns = [this] { return time.now.load(); };
    options.sleep_ns = [this](std::int64_t ns) {
      std::lock_guard<std::mutex> l(time.mu);
      time.sleeps.push_back(ns);
      if (time.sleep_advances_clock) time.now += ns;
    };
    options.audit = [this](const KmsAuditRecord& r) { log.Add(r); };
    Reopen();
  }
  void Reopen() {
    kms.reset();
    auto opened = Kms::Open(dir.path() + "/kms", *root, options);
    REQUIRE(opened.ok());
    kms = std::move(opened).value();
  }
  std::string KeyFile(const KmsKey& key) const { return dir.path() + "/kms/keys/" + key.id; }

  TempDir dir;
  std::unique_ptr<RootKey> root;
  FakeTime time;
  AuditLog log;
  KmsOptions options;
  std::unique_ptr<Kms> kms;
};

KmsKey MustCreate(Kms& kms, std::string_view name, TimeNs now = kT0) {
  auto key = kms.CreateKey(name, now, kUid);
  REQUIRE(key.ok());
  return *key;
}

DataKey MustGenerate(Kms& kms, std::string_view ref, const EncryptionContext& ctx = {},
                     TimeNs now = kT0) {
  auto dk = kms.GenerateDataKey(ref, ctx, now, kUid);
  REQUIRE(dk.ok());
  return std::move(dk).value();
}

std::uint32_t BlobVersion(const std::string& blob) {
  REQUIRE(blob.size() == kKmsBlobBytes);
  return LoadFixed32(reinterpret_cast<const unsigned char*>(blob.data()) + 40);
}

KmsKeyConfig Config(bool enabled, bool rotation, std::int32_t days = 0) {
  return {.enabled = enabled, .key_rotation_enabled = rotation, .pending_deletion_days = days};
}

bool StartsWith(const std::string& s, std::string_view prefix) {
  return s.starts_with(prefix);
}

}  // namespace

TEST_CASE("a data key round-trips through GenerateDataKey and Decrypt", "[crypto][kms]") {
  Env env;
  const KmsKey key = MustCreate(*env.kms, "data");
  const EncryptionContext ctx = {{"aws:s3:arn", "arn:aws:s3:::bucket/key"}, {"a", ""}};
  const DataKey dk = MustGenerate(*env.kms, "alias/data", ctx);
  CHECK(dk.key_arn == key.arn);
  REQUIRE(dk.ciphertext_blob.size() == kKmsBlobBytes);
  CHECK(dk.ciphertext_blob.substr(0, 4) == "SKM1");
  CHECK(dk.ciphertext_blob.substr(4, 36) == key.id);
  CHECK(BlobVersion(dk.ciphertext_blob) == 1);

  auto back = env.kms->Decrypt(dk.ciphertext_blob, ctx, kT0, kUid);
  REQUIRE(back.ok());
  CHECK(back->bytes == dk.plaintext.bytes);

  const DataKey other = MustGenerate(*env.kms, key.id, ctx);
  CHECK(other.plaintext.bytes != dk.plaintext.bytes);
  CHECK(other.ciphertext_blob != dk.ciphertext_blob);
}

TEST_CASE("Decrypt with another encryption context is InvalidCiphertextException",
          "[crypto][kms]") {
  Env env;
  MustCreate(*env.kms, "ctx");
  const EncryptionContext ctx = {{"k1", "v1"}, {"k2", "v2"}};
  const DataKey dk = MustGenerate(*env.kms, "alias/ctx", ctx);
  const std::vector<EncryptionContext> wrong = {
      {},
      {{"k1", "v1"}},
      {{"k1", "v1"}, {"k2", "v2"}, {"k3", "v3"}},
      {{"k1", "v1"}, {"k2", "V2"}},
      {{"k1", "v1"}, {"K2", "v2"}},
      {{"k1", "v1"}, {"k3", "v2"}},
      // Pairs must not run into each other: the lengths are encoded.
      {{"k1", "v1k2"}, {"v2", ""}},
  };
  for (const EncryptionContext& c : wrong) {
    auto r = env.kms->Decrypt(dk.ciphertext_blob, c, kT0, kUid);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kCorrupt);
    CHECK(StartsWith(r.status().message(), "InvalidCiphertextException"));
  }
  CHECK(env.kms->Decrypt(dk.ciphertext_blob, ctx, kT0, kUid).ok());
}

TEST_CASE("no damaged byte of a ciphertext blob yields a key", "[crypto][kms]") {
  Env env;
  MustCreate(*env.kms, "flip");
  const EncryptionContext ctx = {{"bucket", "b"}};
  const DataKey dk = MustGenerate(*env.kms, "alias/flip", ctx);
  for (std::size_t i = 0; i < dk.ciphertext_blob.size(); ++i) {
    for (const unsigned char mask : {std::uint8_t{0x01}, std::uint8_t{0x80}}) {
      std::string bad = dk.ciphertext_blob;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      auto r = env.kms->Decrypt(bad, ctx, kT0, kUid);
      INFO("byte " << i << " mask " << int{mask});
      REQUIRE_FALSE(r.ok());
      CHECK(r.status().code() == Code::kCorrupt);
      CHECK(StartsWith(r.status().message(), "InvalidCiphertextException"));
    }
  }
  for (const std::string& bad : {dk.ciphertext_blob.substr(1), dk.ciphertext_blob + "x",
                                 std::string(), std::string("SKM1")}) {
    auto r = env.kms->Decrypt(bad, ctx, kT0, kUid);
    CHECK(r.status().code() == Code::kCorrupt);
  }
  CHECK(env.kms->Decrypt(dk.ciphertext_blob, ctx, kT0, kUid).ok());
}

TEST_CASE("a disabled key refuses both calls until it is enabled again", "[crypto][kms]") {
  Env env;
  const KmsKey key = MustCreate(*env.kms, "toggle");
  const DataKey dk = MustGenerate(*env.kms, key.arn);
  REQUIRE(env.kms->Configure(key.id, Config(false, false), kT0, kUid).ok());
  CHECK(env.kms->Describe(key.id)->KeyState() == "Disabled");

  auto gen = env.kms->GenerateDataKey(key.id, {}, kT0, kUid);
  CHECK(gen.status().code() == Code::kKmsDisabled);
  CHECK(gen.status().message() == key.arn + " is disabled.");
  auto dec = env.kms->Decrypt(dk.ciphertext_blob, {}, kT0, kUid);
  CHECK(dec.status().code() == Code::kKmsDisabled);
  CHECK(dec.status().message() == key.arn + " is disabled.");

  REQUIRE(env.kms->Configure(key.id, Config(true, false), kT0, kUid).ok());
  CHECK(env.kms->GenerateDataKey(key.id, {}, kT0, kUid).ok());
  auto again = env.kms->Decrypt(dk.ciphertext_blob, {}, kT0, kUid);
  REQUIRE(again.ok());
  CHECK(again->bytes == dk.plaintext.bytes);
}

TEST_CASE("a deletion waits 7 to 30 days", "[crypto][kms]") {
  Env env;
  const KmsKey key = MustCreate(*env.kms, "window");
  Status s = env.kms->Configure(key.id, Config(false, false, 6), kT0, kUid);
  CHECK(s.code() == Code::kInvalidArgument);
  CHECK(s.message() ==
        "1 validation error detected: Value '6' at 'pendingWindowInDays' failed to satisfy "
        "constraint: Member must have value greater than or equal to 7");
  s = env.kms->Configure(key.id, Config(false, false, 31), kT0, kUid);
  CHECK(s.code() == Code::kInvalidArgument);
  CHECK(s.message() ==
        "1 validation error detected: Value '31' at 'pendingWindowInDays' failed to satisfy "
        "constraint: Member must have value less than or equal to 30");
  CHECK(env.kms->Describe(key.id)->KeyState() == "Enabled");

  for (std::int32_t days : {7, 30}) {
    REQUIRE(env.kms->Configure(key.id, Config(false, false, days), kT0, kUid).ok());
    auto pending = env.kms->Describe(key.id);
    REQUIRE(pending.ok());
    CHECK(pending->KeyState() == "PendingDeletion");
    CHECK_FALSE(pending->enabled);
    CHECK(pending->pending_window_days == days);
    CHECK(pending->deletion_date == kT0 + days * kDay);
    REQUIRE(env.kms->Configure(key.id, Config(false, false, 0), kT0, kUid).ok());
  }
}

TEST_CASE("a key pending deletion refuses use and changes other than a cancel", "[crypto][kms]") {
  Env env;
  const KmsKey key = MustCreate(*env.kms, "doomed");
  const DataKey dk = MustGenerate(*env.kms, key.id);
  REQUIRE(env.kms->Configure(key.id, Config(true, false, 10), kT0, kUid).ok());
  auto gen = env.kms->GenerateDataKey(key.id, {}, kT0, kUid);
  CHECK(gen.status().code() == Code::kKmsInvalidState);
  CHECK(gen.status().message() == key.arn + " is pending deletion.");
  CHECK(env.kms->Decrypt(dk.ciphertext_blob, {}, kT0, kUid).status().code() ==
        Code::kKmsInvalidState);
  for (const KmsKeyConfig& c :
       {Config(false, true, 10), Config(false, false, 20), Config(true, true, 7)}) {
    Status s = env.kms->Configure(key.id, c, kT0, kUid);
    CHECK(s.code() == Code::kKmsInvalidState);
    CHECK(s.message() == key.arn + " is pending deletion.");
  }
  CHECK(env.kms->Describe(key.id)->deletion_date == kT0 + 10 * kDay);
}

TEST_CASE("a cancelled deletion leaves the key disabled, and it can be enabled", "[crypto][kms]") {
  Env env;
  const KmsKey key = MustCreate(*env.kms, "saved");
  const DataKey dk = MustGenerate(*env.kms, key.id);
  REQUIRE(env.kms->Configure(key.id, Config(false, false, 7), kT0, kUid).ok());
  REQUIRE(env.kms->Configure(key.id, Config(false, false, 0), kT0 + 6 * kDay, kUid).ok());
  auto cancelled = env.kms->Describe(key.id);
  REQUIRE(cancelled.ok());
  CHECK(cancelled->KeyState() == "Disabled");
  CHECK(cancelled->deletion_date == 0);
  CHECK(cancelled->pending_window_days == 0);
  // The old deletion date passes without effect.
  auto next = env.kms->Advance(kT0 + 8 * kDay);
  REQUIRE(next.ok());
  CHECK(*next == 0);
  REQUIRE(env.kms->Configure(key.id, Config(true, false), kT0 + 8 * kDay, kUid).ok());
  CHECK(env.kms->Describe(key.id)->KeyState() == "Enabled");
  CHECK(env.kms->Decrypt(dk.ciphertext_blob, {}, kT0, kUid).ok());
}

TEST_CASE("Advance deletes a key exactly at its deletion date", "[crypto][kms]") {
  Env env;
  const KmsKey key = MustCreate(*env.kms, "gone");
  const DataKey dk = MustGenerate(*env.kms, key.id);
  REQUIRE(env.kms->Configure(key.id, Config(false, false, 7), kT0, kUid).ok());
  const TimeNs date = kT0 + 7 * kDay;

  auto next = env.kms->Advance(date - 1);
  REQUIRE(next.ok());
  CHECK(*next == date);
  CHECK(env.kms->Describe(key.id).ok());

  env.log.Take();
  next = env.kms->Advance(date);
  REQUIRE(next.ok());
  CHECK(*next == 0);
  const auto records = env.log.Take();
  REQUIRE(records.size() == 1);
  CHECK(records[0].event_name == "DeleteKey");
  CHECK(records[0].event_time == date);
  CHECK(records[0].by_service);
  CHECK_FALSE(std::filesystem::exists(env.KeyFile(key)));

  for (const std::string& ref : {key.id, key.arn}) {
    auto d = env.kms->Describe(ref);
    CHECK(d.status().code() == Code::kKmsNotFound);
    CHECK(d.status().message() == "Key '" + key.arn + "' does not exist");
  }
  CHECK(env.kms->Describe("alias/gone").status().message() ==
        "Alias arn:aws:kms:us-east-1:000000000000:alias/gone is not found.");
  CHECK(env.kms->GenerateDataKey(key.id, {}, date, kUid).status().code() == Code::kKmsNotFound);
  auto dec = env.kms->Decrypt(dk.ciphertext_blob, {}, date, kUid);
  CHECK(dec.status().code() == Code::kKmsNotFound);
  CHECK(env.kms->List().empty());

  // Still so after a restart, and the alias is free again.
  env.Reopen();
  CHECK(env.kms->Describe(key.id).status().code() == Code::kKmsNotFound);
  CHECK(env.kms->Decrypt(dk.ciphertext_blob, {}, date, kUid).status().code() == Code::kKmsNotFound);
  const KmsKey reborn = MustCreate(*env.kms, "gone", date);
  CHECK(reborn.id != key.id);
}

TEST_CASE("rotation adds a material version each year and old blobs still decrypt",
          "[crypto][kms]") {
  Env env;
  const KmsKey key = MustCreate(*env.kms, "rot");
  const DataKey v1 = MustGenerate(*env.kms, key.id);
  REQUIRE(env.kms->Configure(key.id, Config(true, true), kT0, kUid).ok());
  auto on = env.kms->Describe(key.id);
  REQUIRE(on.ok());
  CHECK(on->rotation_enabled);
  CHECK(on->next_rotation == kT0 + kYear);

  auto next = env.kms->Advance(kT0 + kYear - 1);
  REQUIRE(next.ok());
  CHECK(*next == kT0 + kYear);
  CHECK(env.kms->Describe(key.id)->material_versions == 1);

  env.log.Take();
  next = env.kms->Advance(kT0 + kYear);
  REQUIRE(next.ok());
  CHECK(*next == kT0 + 2 * kYear);
  auto rotated = env.kms->Describe(key.id);
  CHECK(rotated->material_versions == 2);
  CHECK(rotated->next_rotation == kT0 + 2 * kYear);
  auto records = env.log.Take();
  REQUIRE(records.size() == 1);
  CHECK(records[0].event_name == "RotateKey");

  const DataKey v2 = MustGenerate(*env.kms, key.id, {}, kT0 + kYear);
  CHECK(BlobVersion(v2.ciphertext_blob) == 2);
  for (const DataKey* dk : {&v1, &v2}) {
    auto back = env.kms->Decrypt(dk->ciphertext_blob, {}, kT0 + kYear, kUid);
    REQUIRE(back.ok());
    CHECK(back->bytes == dk->plaintext.bytes);
  }

  // A long step rotates once for each year passed, in order.
  env.log.Take();
  next = env.kms->Advance(kT0 + 4 * kYear + kDay);
  REQUIRE(next.ok());
  CHECK(*next == kT0 + 5 * kYear);
  CHECK(env.kms->Describe(key.id)->material_versions == 5);
  records = env.log.Take();
  REQUIRE(records.size() == 3);
  for (std::size_t i = 0; i < records.size(); ++i) {
    CHECK(records[i].event_time == kT0 + static_cast<TimeNs>(i + 2) * kYear);
  }
  CHECK(BlobVersion(MustGenerate(*env.kms, key.id).ciphertext_blob) == 5);
  CHECK(env.kms->Decrypt(v1.ciphertext_blob, {}, kT0, kUid).ok());

  // Turned off, nothing is scheduled.
  REQUIRE(env.kms->Configure(key.id, Config(true, false), kT0 + 5 * kYear, kUid).ok());
  CHECK(env.kms->Describe(key.id)->next_rotation == 0);
  next = env.kms->Advance(kT0 + 10 * kYear);
  REQUIRE(next.ok());
  CHECK(*next == 0);
  CHECK(env.kms->Describe(key.id)->material_versions == 5);
}

TEST_CASE("a disabled key does not rotate; an overdue rotation happens once it is enabled",
          "[crypto][kms]") {
  Env env;
  const KmsKey key = MustCreate(*env.kms, "sleepy");
  REQUIRE(env.kms->Configure(key.id, Config(true, true), kT0, kUid).ok());
  REQUIRE(env.kms->Configure(key.id, Config(false, true), kT0 + kDay, kUid).ok());
  auto next = env.kms->Advance(kT0 + 2 * kYear);
  REQUIRE(next.ok());
  CHECK(*next == 0);
  CHECK(env.kms->Describe(key.id)->material_versions == 1);
  // Rotation cannot be changed while the key is disabled.
  Status s = env.kms->Configure(key.id, Config(false, false), kT0 + 2 * kYear, kUid);
  CHECK(s.code() == Code::kKmsDisabled);

  const TimeNs back = kT0 + 2 * kYear + kDay;
  REQUIRE(env.kms->Configure(key.id, Config(true, true), back, kUid).ok());
  CHECK(env.kms->Describe(key.id)->next_rotation == back);
  next = env.kms->Advance(back);
  REQUIRE(next.ok());
  CHECK(*next == back + kYear);
  CHECK(env.kms->Describe(key.id)->material_versions == 2);
}

TEST_CASE("Configure makes one audited call per change, in KMS's order", "[crypto][kms]") {
  Env env;
  const KmsKey key = MustCreate(*env.kms, "steps");
  env.log.Take();
  auto names = [&] {
    std::vector<std::string> out;
    for (const KmsAuditRecord& r : env.log.Take()) {
      out.push_back(r.event_name + (r.error_code.empty() ? "" : ":" + r.error_code));
    }
    return out;
  };
  using V = std::vector<std::string>;
  // The rotation changes while the key is still enabled.
  REQUIRE(env.kms->Configure(key.id, Config(false, true), kT0, kUid).ok());
  CHECK(names() == V{"EnableKeyRotation", "DisableKey"});
  REQUIRE(env.kms->Configure(key.id, Config(false, true), kT0, kUid).ok());
  CHECK(names().empty());
  REQUIRE(env.kms->Configure(key.id, Config(false, true, 7), kT0, kUid).ok());
  CHECK(names() == V{"ScheduleKeyDeletion"});
  CHECK(env.kms->Configure(key.id, Config(false, false, 7), kT0, kUid).code() ==
        Code::kKmsInvalidState);
  CHECK(names() == V{"DisableKeyRotation:KMSInvalidStateException"});
  // Cancel, enable and turn rotation off in one go.
  REQUIRE(env.kms->Configure(key.id, Config(true, false, 0), kT0, kUid).ok());
  CHECK(names() == V{"CancelKeyDeletion", "EnableKey", "DisableKeyRotation"});
  REQUIRE(env.kms->Configure(key.id, Config(false, false, 30), kT0, kUid).ok());
  CHECK(names() == V{"ScheduleKeyDeletion"});
  // Enabled says nothing about a key pending deletion: applying the same
  // wish again is no change.
  REQUIRE(env.kms->Configure(key.id, Config(true, false, 30), kT0, kUid).ok());
  CHECK(names().empty());
  // A refusal changes nothing, and says which call was refused.
  CHECK(env.kms->Configure(key.id, Config(false, true, 0), kT0, kUid).code() == Code::kKmsDisabled);
  CHECK(names() == V{"EnableKeyRotation:DisabledException"});
  CHECK(env.kms->Describe(key.id)->KeyState() == "PendingDeletion");
  CHECK(env.kms->Configure("alias/absent", Config(true, false), kT0, kUid).code() ==
        Code::kKmsNotFound);
  CHECK(names().empty());
}

TEST_CASE("a reopened Kms has the same keys, states and material", "[crypto][kms]") {
  Env env;
  const KmsKey plain = MustCreate(*env.kms, "plain");
  const KmsKey off = MustCreate(*env.kms, "off");
  const KmsKey rotating = MustCreate(*env.kms, "rotating");
  const KmsKey doomed = MustCreate(*env.kms, "doomed");
  const DataKey a = MustGenerate(*env.kms, plain.id, {{"x", "1"}});
  const DataKey b = MustGenerate(*env.kms, off.id);
  const DataKey c = MustGenerate(*env.kms, rotating.id);
  REQUIRE(env.kms->Configure(rotating.id, Config(true, true), kT0, kUid).ok());
  REQUIRE(env.kms->Advance(kT0 + kYear).ok());
  const DataKey c2 = MustGenerate(*env.kms, rotating.id);
  REQUIRE(env.kms->Configure(off.id, Config(false, false), kT0 + kYear, kUid).ok());
  REQUIRE(env.kms->Configure(doomed.id, Config(false, false, 9), kT0 + kYear, kUid).ok());
  REQUIRE(env.kms->AwsManagedKey("s3", kT0, kUid).ok());
  const std::vector<KmsKey> before = env.kms->List();
  REQUIRE(before.size() == 5);

  struct stat st {};
  REQUIRE(::stat(env.KeyFile(plain).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat((env.dir.path() + "/kms").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);

  env.Reopen();
  const std::vector<KmsKey> after = env.kms->List();
  REQUIRE(after.size() == before.size());
  for (std::size_t i = 0; i < after.size(); ++i) {
    const KmsKey& x = before[i];
    const KmsKey& y = after[i];
    CHECK(x.id == y.id);
    CHECK(x.arn == y.arn);
    CHECK(x.alias == y.alias);
    CHECK(x.aws_managed == y.aws_managed);
    CHECK(x.created == y.created);
    CHECK(x.enabled == y.enabled);
    CHECK(x.rotation_enabled == y.rotation_enabled);
    CHECK(x.next_rotation == y.next_rotation);
    CHECK(x.deletion_date == y.deletion_date);
    CHECK(x.pending_window_days == y.pending_window_days);
    CHECK(x.material_versions == y.material_versions);
    CHECK(x.KeyState() == y.KeyState());
  }
  CHECK(env.kms->Describe(rotating.id)->material_versions == 2);
  CHECK(env.kms->Describe(off.id)->KeyState() == "Disabled");
  CHECK(env.kms->Describe(doomed.id)->KeyState() == "PendingDeletion");

  for (const auto& [dk, ctx] : std::vector<std::pair<const DataKey*, EncryptionContext>>{
           {&a, {{"x", "1"}}}, {&c, {}}, {&c2, {}}}) {
    auto back = env.kms->Decrypt(dk->ciphertext_blob, ctx, kT0 + kYear, kUid);
    REQUIRE(back.ok());
    CHECK(back->bytes == dk->plaintext.bytes);
  }
  CHECK(env.kms->Decrypt(b.ciphertext_blob, {}, kT0, kUid).status().code() == Code::kKmsDisabled);
  // The deletion still falls due after the restart.
  auto next = env.kms->Advance(kT0 + kYear + 9 * kDay);
  REQUIRE(next.ok());
  CHECK(env.kms->Describe(doomed.id).status().code() == Code::kKmsNotFound);
}

TEST_CASE("a damaged key file makes Open fail as Corrupt", "[crypto][kms]") {
  Env env;
  const KmsKey key = MustCreate(*env.kms, "fragile");
  REQUIRE(env.kms->Configure(key.id, Config(true, true), kT0, kUid).ok());
  REQUIRE(env.kms->Advance(kT0 + kYear).ok());
  env.kms.reset();
  const std::string path = env.KeyFile(key);
  auto good = ReadFile(path);
  REQUIRE(good.ok());
  auto open = [&] { return Kms::Open(env.dir.path() + "/kms", *env.root, env.options); };

  for (std::size_t i = 0; i < good->size(); ++i) {
    std::string bad = *good;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    REQUIRE(WriteFileDurably(path, bad, 0600).ok());
    INFO("byte " << i);
    CHECK(open().status().code() == Code::kCorrupt);
  }
  for (std::size_t size : {std::size_t{0}, std::size_t{31}, good->size() - 1}) {
    REQUIRE(WriteFileDurably(path, good->substr(0, size), 0600).ok());
    CHECK(open().status().code() == Code::kCorrupt);
  }
  // Another root key cannot unwrap the material.
  REQUIRE(WriteFileDurably(path, *good, 0600).ok());
  auto other_root = TestRoot(8);
  CHECK(Kms::Open(env.dir.path() + "/kms", *other_root, env.options).status().code() ==
        Code::kCorrupt);
  // A stray file is refused; a leftover temporary file is cleaned up.
  const std::string stray = env.dir.path() + "/kms/keys/notes.txt";
  REQUIRE(WriteFileDurably(stray, "hello", 0600).ok());
  CHECK(open().status().code() == Code::kCorrupt);
  REQUIRE(std::filesystem::remove(stray));
  const std::string tmp = path + ".tmp";
  REQUIRE(WriteFileDurably(tmp, "half", 0600).ok());
  auto reopened = open();
  REQUIRE(reopened.ok());
  CHECK_FALSE(std::filesystem::exists(tmp));
  CHECK((*reopened)->Describe(key.id)->material_versions == 2);
}

TEST_CASE("keys are found by id, key ARN, alias and alias ARN", "[crypto][kms]") {
  Env env;
  const KmsKey key = MustCreate(*env.kms, "team/blue_1-x");
  CHECK(key.alias == "alias/team/blue_1-x");
  CHECK(key.arn == "arn:aws:kms:us-east-1:000000000000:key/" + key.id);
  CHECK(key.id.size() == 36);
  CHECK(key.id[14] == '4');
  CHECK(std::string("89ab").find(key.id[19]) != std::string::npos);
  for (const std::string& ref :
       {key.id, key.arn, key.alias, "arn:aws:kms:us-east-1:000000000000:" + key.alias}) {
    auto found = env.kms->Describe(ref);
    REQUIRE(found.ok());
    CHECK(found->id == key.id);
  }
  struct Miss {
    std::string ref;
    std::string message;
  };
  const std::string absent = "00000000-0000-4000-8000-000000000000";
  for (const Miss& m : std::vector<Miss>{
           {absent, "Key 'arn:aws:kms:us-east-1:000000000000:key/" + absent + "' does not exist"},
           {"arn:aws:kms:us-east-1:000000000000:key/" + absent,
            "Key 'arn:aws:kms:us-east-1:000000000000:key/" + absent + "' does not exist"},
           {"alias/other", "Alias arn:aws:kms:us-east-1:000000000000:alias/other is not found."},
           {"arn:aws:kms:us-east-1:000000000000:alias/other",
            "Alias arn:aws:kms:us-east-1:000000000000:alias/other is not found."},
           {"team/blue_1-x", "Invalid keyId \"team/blue_1-x\""},
           {"", "Invalid keyId \"\""},
           {key.id.substr(1), "Invalid keyId \"" + key.id.substr(1) + "\""},
           {"arn:aws:kms:us-west-2:000000000000:" + key.alias,
            "Invalid keyId \"arn:aws:kms:us-west-2:000000000000:" + key.alias + "\""},
       }) {
    auto r = env.kms->Describe(m.ref);
    INFO(m.ref);
    CHECK(r.status().code() == Code::kKmsNotFound);
    CHECK(r.status().message() == m.message);
  }
}

TEST_CASE("CreateKey refuses a taken alias and names KMS would refuse", "[crypto][kms]") {
  Env env;
  MustCreate(*env.kms, "dup");
  auto again = env.kms->CreateKey("dup", kT0, kUid);
  CHECK(again.status().code() == Code::kAlreadyExists);
  CHECK(again.status().message() ==
        "AlreadyExistsException: An alias with the name "
        "arn:aws:kms:us-east-1:000000000000:alias/dup already exists");

  const std::string longest(250, 'n');
  CHECK(env.kms->CreateKey(longest, kT0, kUid).ok());
  auto too_long = env.kms->CreateKey(longest + "n", kT0, kUid);
  CHECK(too_long.status().code() == Code::kInvalidArgument);
  CHECK(too_long.status().message().find("Member must have length less than or equal to 256") !=
        std::string::npos);
  for (std::string_view bad : {"", "a b", "x:y", "caf\xc3\xa9", "new\nline"}) {
    auto r = env.kms->CreateKey(bad, kT0, kUid);
    INFO(bad);
    CHECK(r.status().code() == Code::kInvalidArgument);
    CHECK(StartsWith(r.status().message(), "1 validation error detected: Value 'alias/"));
  }
  auto reserved = env.kms->CreateKey("aws/s3", kT0, kUid);
  CHECK(reserved.status().code() == Code::kInvalidArgument);
  CHECK(StartsWith(reserved.status().message(), "NotAuthorizedException"));
  CHECK(env.kms->List().size() == 2);
}

TEST_CASE("the AWS managed key for s3 is made on first use, once, and cannot be changed",
          "[crypto][kms]") {
  Env env;
  CHECK(env.kms->Describe("alias/aws/s3").status().code() == Code::kKmsNotFound);
  auto first = env.kms->AwsManagedKey("s3", kT0, kUid);
  REQUIRE(first.ok());
  CHECK(first->alias == "alias/aws/s3");
  CHECK(first->aws_managed);
  CHECK(first->enabled);
  CHECK(first->rotation_enabled);
  CHECK(first->next_rotation == kT0 + kYear);
  auto second = env.kms->AwsManagedKey("s3", kT0 + kDay, kUid + 1);
  REQUIRE(second.ok());
  CHECK(second->id == first->id);
  auto records = env.log.Take();
  REQUIRE(records.size() == 1);
  CHECK(records[0].event_name == "CreateKey");
  CHECK(records[0].key_arn == first->arn);
  CHECK(records[0].uid == kUid);
  CHECK(records[0].error_code.empty());

  CHECK(env.kms->AwsManagedKey("S3", kT0, kUid).status().code() == Code::kInvalidArgument);
  CHECK(env.kms->AwsManagedKey("", kT0, kUid).status().code() == Code::kInvalidArgument);

  for (const KmsKeyConfig& c : {Config(false, true), Config(true, false), Config(true, true, 7)}) {
    Status s = env.kms->Configure("alias/aws/s3", c, kT0, kUid);
    CHECK(s.code() == Code::kInvalidArgument);
    CHECK(StartsWith(s.message(), "UnsupportedOperationException"));
  }
  records = env.log.Take();
  REQUIRE(records.size() == 3);
  CHECK(records[0].error_code == "UnsupportedOperationException");
  CHECK(env.kms->Configure("alias/aws/s3", Config(true, true), kT0, kUid).ok());

  // AWS rotates it every year.
  REQUIRE(env.kms->Advance(kT0 + kYear).ok());
  CHECK(env.kms->Describe("alias/aws/s3")->material_versions == 2);
}

TEST_CASE("kReject lets a burst through, then throttles until the bucket refills",
          "[crypto][kms]") {
  Env env(5, KmsOptions::QuotaMode::kReject);
  const KmsKey key = MustCreate(*env.kms, "quota");
  std::vector<DataKey> made;
  made.reserve(5);
  for (int i = 0; i < 5; ++i) made.push_back(MustGenerate(*env.kms, key.id));
  auto over = env.kms->GenerateDataKey(key.id, {}, kT0, kUid);
  CHECK(over.status().code() == Code::kKmsThrottling);
  CHECK(over.status().message() == "Rate exceeded");
  // Decrypt shares the quota.
  CHECK(env.kms->Decrypt(made[0].ciphertext_blob, {}, kT0, kUid).status().code() ==
        Code::kKmsThrottling);

  env.time.now += 200'000'000;  // one token at 5 per second
  CHECK(env.kms->Decrypt(made[0].ciphertext_blob, {}, kT0, kUid).ok());
  CHECK(env.kms->GenerateDataKey(key.id, {}, kT0, kUid).status().code() == Code::kKmsThrottling);

  env.time.now += 60 * kSecond;  // the bucket holds one second's worth
  int ok = 0;
  for (int i = 0; i < 10; ++i) ok += env.kms->GenerateDataKey(key.id, {}, kT0, kUid).ok() ? 1 : 0;
  CHECK(ok == 5);
  CHECK(env.time.sleeps.empty());

  // Throttled calls are audited but not billed.
  int throttled = 0;
  for (const KmsAuditRecord& r : env.log.Take()) {
    if (r.error_code == "ThrottlingException") {
      ++throttled;
      CHECK_FALSE(r.billable);
      CHECK(r.key_arn == key.arn);
    } else if (r.event_name != "CreateKey") {
      CHECK(r.billable);
    }
  }
  CHECK(throttled == 8);
}

TEST_CASE("SetQuota changes the rate and the mode from then on", "[crypto][kms]") {
  Env env;  // no quota
  const KmsKey key = MustCreate(*env.kms, "quota");
  for (int i = 0; i < 20; ++i) CHECK(env.kms->GenerateDataKey(key.id, {}, kT0, kUid).ok());
  env.kms->SetQuota(3, KmsOptions::QuotaMode::kReject);
  int ok = 0;
  for (int i = 0; i < 10; ++i) ok += env.kms->GenerateDataKey(key.id, {}, kT0, kUid).ok() ? 1 : 0;
  CHECK(ok == 3);  // a full bucket: one second's worth
  env.kms->SetQuota(3, KmsOptions::QuotaMode::kPace);
  CHECK(env.kms->GenerateDataKey(key.id, {}, kT0, kUid).ok());  // waits instead
  CHECK(env.time.sleeps.size() == 1);
  env.kms->SetQuota(0, KmsOptions::QuotaMode::kReject);  // off again
  for (int i = 0; i < 20; ++i) CHECK(env.kms->GenerateDataKey(key.id, {}, kT0, kUid).ok());
  CHECK(env.time.sleeps.size() == 1);
}

TEST_CASE("kPace sleeps for the tokens it lacks, outside the lock", "[crypto][kms]") {
  SECTION("with time standing still, each call waits one token longer") {
    Env env(5, KmsOptions::QuotaMode::kPace);
    const KmsKey key = MustCreate(*env.kms, "pace");
    // Sleeping must not hold the Kms's lock: the sleeper looks a key up.
    env.options.sleep_ns = [&](std::int64_t ns) {
      CHECK(env.kms->Describe(key.id).ok());
      std::lock_guard<std::mutex> l(env.time.mu);
      env.time.sleeps.push_back(ns);
    };
    env.Reopen();
    for (int i = 0; i < 7; ++i) MustGenerate(*env.kms, key.id);
    CHECK(env.time.sleeps == std::vector<std::int64_t>{200'000'000, 400'000'000});
  }
  SECTION("when the sleeps pass, each call over the burst waits one token's time") {
    Env env(4, KmsOptions::QuotaMode::kPace);
    env.time.sleep_advances_clock = true;
    const KmsKey key = MustCreate(*env.kms, "pace");
    const DataKey dk = MustGenerate(*env.kms, key.id);
    for (int i = 0; i < 3; ++i) MustGenerate(*env.kms, key.id);
    CHECK(env.time.sleeps.empty());
    for (int i = 0; i < 3; ++i) REQUIRE(env.kms->Decrypt(dk.ciphertext_blob, {}, kT0, kUid).ok());
    CHECK(env.time.sleeps == std::vector<std::int64_t>{250'000'000, 250'000'000, 250'000'000});
  }
}

TEST_CASE("every call is audited once, and its JSON line reads like CloudTrail's",
          "[crypto][kms]") {
  Env env;
  const KmsKey key = MustCreate(*env.kms, "audited", kT0);
  const EncryptionContext ctx = {{"bucket", "b"}, {"key", "k\"\n"}};
  const DataKey dk = MustGenerate(*env.kms, "alias/audited", ctx, kT0 + kSecond);
  REQUIRE(env.kms->Decrypt(dk.ciphertext_blob, ctx, kT0 + 2 * kSecond, kUid + 1).ok());
  CHECK_FALSE(env.kms->Decrypt(dk.ciphertext_blob, {}, kT0, kUid).ok());
  CHECK_FALSE(env.kms->Decrypt("garbage", {}, kT0, kUid).ok());
  CHECK_FALSE(env.kms->GenerateDataKey("alias/nope", {}, kT0, kUid).ok());
  REQUIRE(env.kms->Configure(key.id, Config(false, false), kT0 + 3 * kSecond, kUid).ok());
  CHECK_FALSE(env.kms->GenerateDataKey(key.id, ctx, kT0, kUid).ok());
  CHECK(env.kms->Describe(key.id).ok());  // not an audited call

  const auto records = env.log.Take();
  struct Want {
    std::string event;
    std::string arn;
    std::string error;
    bool billable;
    std::uint32_t uid;
  };
  const std::vector<Want> want = {
      {"CreateKey", key.arn, "", false, kUid},
      {"GenerateDataKey", key.arn, "", true, kUid},
      {"Decrypt", key.arn, "", true, kUid + 1},
      {"Decrypt", key.arn, "InvalidCiphertextException", true, kUid},
      {"Decrypt", "", "InvalidCiphertextException", true, kUid},
      {"GenerateDataKey", "", "NotFoundException", true, kUid},
      {"DisableKey", key.arn, "", false, kUid},
      {"GenerateDataKey", key.arn, "DisabledException", true, kUid},
  };
  REQUIRE(records.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO("record " << i);
    CHECK(records[i].event_name == want[i].event);
    CHECK(records[i].key_arn == want[i].arn);
    CHECK(records[i].error_code == want[i].error);
    CHECK(records[i].billable == want[i].billable);
    CHECK(records[i].uid == want[i].uid);
    CHECK_FALSE(records[i].by_service);
  }
  CHECK(records[1].context == ctx);
  CHECK(records[2].event_time == kT0 + 2 * kSecond);

  using Json = nlohmann::json;
  const std::string line = AuditJsonLine(records[1]);
  CHECK(line.find('\n') == std::string::npos);
  const Json j = Json::parse(line);
  CHECK(j["eventTime"] == "2027-01-15T08:00:01Z");
  CHECK(j["eventSource"] == "kms.amazonaws.com");
  CHECK(j["eventName"] == "GenerateDataKey");
  CHECK(j["userIdentity"]["type"] == "LocalUser");
  CHECK(j["userIdentity"]["uid"] == kUid);
  CHECK(j["requestParameters"]["keyId"] == key.arn);
  CHECK(j["requestParameters"]["encryptionContext"]["key"] == "k\"\n");
  CHECK(j["requestParameters"]["encryptionContext"].size() == 2);
  CHECK_FALSE(j.contains("errorCode"));
  CHECK(j["readOnly"] == true);
  REQUIRE(j["resources"].size() == 1);
  CHECK(j["resources"][0]["ARN"] == key.arn);
  CHECK(j["resources"][0]["type"] == "AWS::KMS::Key");

  const Json failed = Json::parse(AuditJsonLine(records.back()));
  CHECK(failed["errorCode"] == "DisabledException");
  const Json garbled = Json::parse(AuditJsonLine(records[4]));
  CHECK_FALSE(garbled["requestParameters"].contains("keyId"));
  CHECK_FALSE(garbled["requestParameters"].contains("encryptionContext"));
  CHECK_FALSE(garbled.contains("resources"));
  const Json admin = Json::parse(AuditJsonLine(records[6]));
  CHECK(admin["eventName"] == "DisableKey");
  CHECK(admin["readOnly"] == false);

  KmsAuditRecord rotate;
  rotate.event_time = kT0;
  rotate.event_name = "RotateKey";
  rotate.key_arn = key.arn;
  rotate.by_service = true;
  rotate.context = {{"bad", "\xff"}};
  const Json service = Json::parse(AuditJsonLine(rotate));
  CHECK(service["userIdentity"]["type"] == "AWSService");
  CHECK(service["userIdentity"]["invokedBy"] == "kms.amazonaws.com");
  CHECK(service["requestParameters"]["encryptionContext"]["bad"] == "\xef\xbf\xbd");
}

TEST_CASE("data keys from four threads, with rotations alongside, all decrypt", "[crypto][kms]") {
  Env env(1e9, KmsOptions::QuotaMode::kPace);
  const KmsKey key = MustCreate(*env.kms, "busy");
  REQUIRE(env.kms->Configure(key.id, Config(true, true), kT0, kUid).ok());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  std::atomic<int> failures{0};
  std::atomic<bool> stop{false};
  std::thread rotator([&] {
    for (int year = 1; !stop.load(); ++year) {
      if (!env.kms->Advance(kT0 + year * kYear).ok()) ++failures;
      if (year > 50) break;
    }
  });
  std::vector<std::thread> workers;
  workers.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      const EncryptionContext ctx = {{"thread", std::to_string(t)}};
      for (int i = 0; i < kPerThread; ++i) {
        auto dk = env.kms->GenerateDataKey(key.arn, ctx, kT0, kUid);
        if (!dk.ok()) {
          ++failures;
          continue;
        }
        auto back = env.kms->Decrypt(dk->ciphertext_blob, ctx, kT0, kUid);
        if (!back.ok() || back->bytes != dk->plaintext.bytes) ++failures;
      }
    });
  }
  for (std::thread& w : workers) w.join();
  stop = true;
  rotator.join();
  CHECK(failures.load() == 0);
  std::size_t data_records = 0;
  for (const KmsAuditRecord& r : env.log.Take()) {
    if (r.event_name == "GenerateDataKey" || r.event_name == "Decrypt") ++data_records;
  }
  CHECK(data_records == std::size_t{2} * kThreads * kPerThread);
}

}  // namespace shoal::crypto
