#include "streams/sequence_number.h"

#include <array>
#include <cstdio>
#include <cstring>

#include "streams/stream_config.h"
#include "streams/validation_error.h"

namespace shoal::streams {
namespace {

constexpr std::string_view kShardIdPrefix = "shardId-";
constexpr std::size_t kShardIdDigits = 12;
constexpr std::uint64_t kEnvelopeNibble = 0x2;  // first hex digit, as Kinesis's
constexpr std::uint64_t kLayoutVersion = 0x2;   // last hex digit
constexpr std::string_view kPattern = "0|([1-9]\\d{0,128})";
constexpr std::size_t kMaxPatternDigits = 129;

// Bit positions of the fields in the 188-bit number (bit 0 least
// significant).
constexpr unsigned kVersionBit = 0;
constexpr unsigned kCheckBit = 4;
constexpr unsigned kCheckLowBits = 64;
constexpr unsigned kCheckHighBits = 20;
constexpr unsigned kOffsetBit = 88;
constexpr unsigned kShardBit = 152;
constexpr unsigned kEnvelopeBit = 184;

// A 192-bit unsigned integer, least significant word first.
struct U192 {
  std::array<std::uint64_t, 3> w{};
  friend bool operator==(const U192&, const U192&) = default;
};

// Puts the low `width` (<= 64) bits of `value` at bit `pos` of `x`, whose
// bits there are zero.
void SetBits(U192& x, unsigned pos, unsigned width, std::uint64_t value) {
  if (width < 64) value &= (std::uint64_t{1} << width) - 1;
  const unsigned word = pos / 64;
  const unsigned shift = pos % 64;
  x.w[word] |= value << shift;
  if (shift != 0 && shift + width > 64) x.w[word + 1] |= value >> (64 - shift);
}

std::uint64_t GetBits(const U192& x, unsigned pos, unsigned width) {
  const unsigned word = pos / 64;
  const unsigned shift = pos % 64;
  std::uint64_t v = x.w[word] >> shift;
  if (shift != 0 && shift + width > 64) v |= x.w[word + 1] << (64 - shift);
  if (width < 64) v &= (std::uint64_t{1} << width) - 1;
  return v;
}

// SplitMix64's finaliser: a bijective mix of 64 bits.
std::uint64_t Mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15u;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
  return x ^ (x >> 31);
}

// The 84-bit check of (shard, offset): 64 low bits and 20 high bits. Part
// of the format: changing it invalidates every sequence number handed out.
std::pair<std::uint64_t, std::uint64_t> Check(ShardOrdinal shard, std::uint64_t offset) {
  const std::uint64_t a = Mix(offset ^ Mix(0x73686f616c000000u ^ shard));  // "shoal"
  const std::uint64_t b = Mix(a ^ 0x6b696e6573697300u);                    // "kinesis"
  return {a, b & ((std::uint64_t{1} << kCheckHighBits) - 1)};
}

U192 Encode(ShardOrdinal shard, std::uint64_t offset) {
  U192 x;
  const auto [check_low, check_high] = Check(shard, offset);
  SetBits(x, kVersionBit, 4, kLayoutVersion);
  SetBits(x, kCheckBit, kCheckLowBits, check_low);
  SetBits(x, kCheckBit + kCheckLowBits, kCheckHighBits, check_high);
  SetBits(x, kOffsetBit, 64, offset);
  SetBits(x, kShardBit, 32, shard);
  SetBits(x, kEnvelopeBit, 4, kEnvelopeNibble);
  return x;
}

// (hi * 2^64 + lo) / d, its remainder in `rem`. REQUIRES: hi < d, so that
// the quotient fits in 64 bits.
std::uint64_t Divide128By64(std::uint64_t hi, std::uint64_t lo, std::uint64_t d,
                            std::uint64_t& rem) {
#if defined(__x86_64__)
  // One DIV instruction; the compiler would call __udivmodti4 instead.
  std::uint64_t q = 0;
  __asm__("divq %4" : "=a"(q), "=d"(rem) : "a"(lo), "d"(hi), "r"(d) : "cc");
  return q;
#else
  __extension__ typedef unsigned __int128 U128;
  const U128 cur = (static_cast<U128>(hi) << 64) | lo;
  rem = static_cast<std::uint64_t>(cur % d);
  return static_cast<std::uint64_t>(cur / d);
#endif
}

constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "4041424344454647484950515253545556575859606162636465666768697071727374757677787980"
    "81828384858687888990919293949596979899";

// The two digits of v (< 100).
inline const char* DigitPair(std::uint32_t v) {
  return kDigitPairs + std::size_t{2} * v;
}

// n (< 10^8) as exactly 8 digits. The four pairs come from two independent
// divisions, not a chain of eight: the CPU works on them side by side.
inline void Write8Digits(std::uint32_t n, char* out) {
  const std::uint32_t hi = n / 10000;
  const std::uint32_t lo = n % 10000;
  std::memcpy(out, DigitPair(hi / 100), 2);
  std::memcpy(out + 2, DigitPair(hi % 100), 2);
  std::memcpy(out + 4, DigitPair(lo / 100), 2);
  std::memcpy(out + 6, DigitPair(lo % 100), 2);
}

// n (< 10^19) as exactly 19 digits: 3 + 8 + 8.
inline void Write19Digits(std::uint64_t n, char* out) {
  constexpr std::uint64_t k8 = 100'000'000;
  constexpr std::uint64_t k16 = k8 * k8;
  const auto top = static_cast<std::uint32_t>(n / k16);  // < 1000
  const std::uint64_t rest = n % k16;
  out[0] = static_cast<char>('0' + top / 100);
  std::memcpy(out + 1, DigitPair(top % 100), 2);
  Write8Digits(static_cast<std::uint32_t>(rest / k8), out + 3);
  Write8Digits(static_cast<std::uint32_t>(rest % k8), out + 11);
}

// The 57 decimal digits of x (< 10^57), leading zeros included.
void WriteDecimal57(U192 x, char* buf) {
  // Repeated division by 10^19, the largest power of ten in 64 bits: 188
  // bits < 10^57, so three chunks of 19 digits hold it. No printf: every
  // line of a shard file formats one.
  constexpr std::uint64_t kChunk = 10'000'000'000'000'000'000u;
  std::size_t top = 2;  // the highest word that may be non-zero
  while (top > 0 && x.w[top] == 0) --top;
  for (std::size_t c = 3; c-- > 0;) {  // the last 19 digits first
    std::uint64_t rem = 0;
    if (top == 0) {  // 64 bits left: the compiler divides by multiplying
      rem = x.w[0] % kChunk;
      x.w[0] /= kChunk;
    } else {
      for (std::size_t i = top + 1; i-- > 0;) x.w[i] = Divide128By64(rem, x.w[i], kChunk, rem);
      if (x.w[top] == 0) --top;
    }
    Write19Digits(rem, buf + std::size_t{19} * c);
  }
}

// `digits` (all '0'..'9', at most 56 of them) as a number.
U192 FromDecimal(std::string_view digits) {
  U192 x;
  for (const char c : digits) {
    __extension__ typedef unsigned __int128 U128;
    U128 carry = static_cast<unsigned>(c - '0');
    for (std::uint64_t& word : x.w) {
      const U128 cur = static_cast<U128>(word) * 10u + carry;
      word = static_cast<std::uint64_t>(cur);
      carry = cur >> 64;
    }
  }
  return x;
}

bool MatchesPattern(std::string_view text) {
  if (text.empty() || text.size() > kMaxPatternDigits) return false;
  if (text.size() > 1 && text.front() == '0') return false;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string LowerFirst(std::string_view s) {
  std::string out(s);
  if (!out.empty() && out[0] >= 'A' && out[0] <= 'Z')
    out[0] = static_cast<char>(out[0] - 'A' + 'a');
  return out;
}

Status NotOurs(std::string_view text, const SequenceNumberUse& use) {
  std::string msg(use.member);
  msg += ' ';
  msg += text;
  msg += " used in ";
  msg += use.operation;
  if (use.shard) {
    msg += " on shard ";
    msg += ShardIdName(*use.shard);
  }
  if (!use.stream.empty()) {
    msg += " in stream ";
    const std::string quoted = QuoteForMessage(use.stream);
    msg += quoted.substr(1, quoted.size() - 2);
    msg += " under account ";
    msg += kAccountId;
  }
  msg += " is invalid.";
  return InvalidArgument(std::move(msg));
}

}  // namespace

std::string ShardIdName(ShardOrdinal ordinal) {
  char buf[32];
  const int n = std::snprintf(buf, sizeof buf, "%012u", static_cast<unsigned>(ordinal));
  std::string out(kShardIdPrefix);
  out.append(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

std::optional<ShardOrdinal> ParseShardId(std::string_view shard_id) {
  if (!shard_id.starts_with(kShardIdPrefix)) return std::nullopt;
  const std::string_view digits = shard_id.substr(kShardIdPrefix.size());
  if (digits.size() != kShardIdDigits) return std::nullopt;
  std::uint64_t v = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v > UINT32_MAX) return std::nullopt;
  return static_cast<ShardOrdinal>(v);
}

std::string FormatSequenceNumber(ShardOrdinal shard, std::uint64_t offset) {
  std::string out(kSequenceNumberDigits, '0');
  WriteSequenceNumber(shard, offset, out.data());
  return out;
}

char* WriteSequenceNumber(ShardOrdinal shard, std::uint64_t offset, char* out) {
  // The envelope puts every number in [2^185, 1.5 * 2^185): 56 digits, so
  // the 57th (leading) digit is always 0.
  static_assert(kSequenceNumberDigits == 56);
  char digits[kSequenceNumberDigits + 1];
  WriteDecimal57(Encode(shard, offset), digits);
  std::memcpy(out, digits + 1, kSequenceNumberDigits);
  return out + kSequenceNumberDigits;
}

Result<SequencePosition> ParseSequenceNumber(std::string_view text, const SequenceNumberUse& use) {
  if (!MatchesPattern(text)) {
    return ValidationError(text, LowerFirst(use.member),
                           "satisfy regular expression pattern: " + std::string(kPattern));
  }
  if (text.size() != kSequenceNumberDigits) return NotOurs(text, use);
  const U192 x = FromDecimal(text);
  // Rebuilding the number from the fields it claims to hold checks the
  // envelope, the version and the check at once.
  SequencePosition pos;
  pos.shard = static_cast<ShardOrdinal>(GetBits(x, kShardBit, 32));
  pos.offset = GetBits(x, kOffsetBit, 64);
  if (!(Encode(pos.shard, pos.offset) == x)) return NotOurs(text, use);
  if (use.shard && *use.shard != pos.shard) {
    return InvalidArgument(
        "Invalid " + std::string(use.member) + ". It encodes " + ShardIdName(pos.shard) +
        ", while it was used in a call to a shard with " + ShardIdName(*use.shard));
  }
  return pos;
}

}  // namespace shoal::streams
