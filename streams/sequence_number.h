#pragma once
// Kinesis sequence numbers and shard ids as shoal writes them.
//
// A shard log (streams/shard_log.h) numbers its records 0, 1, 2, ... (the
// offset); the sequence number that Kinesis clients see is a function of the
// shard and that offset, so nothing but the offset is ever stored.
//
// Layout. Kinesis's sequence numbers are 56-digit decimals: a 188-bit
// integer (47 hex digits) whose first hex digit is 2, which puts it between
// 2^185 and 1.5 * 2^185, so every one has exactly 56 digits and starts with
// 49..73 (kinesalite's db/index.js decodes Kinesis's own fields: shard
// creation time, shard index, a per-shard counter, arrival time, a version
// nibble). shoal keeps that envelope and puts its own fields in it, most
// significant first:
//
//   hex digit  0       1..8          9..24          25..45          46
//   bits       4       32            64             84              4
//   value      0x2     shard ordinal offset         check           0x2
//
// so, read as numbers (and, all being 56 digits, as strings):
//   - within a shard, sequence numbers increase strictly with the offset;
//   - every record of a child shard sorts after every record of its
//     parents, as on Kinesis, because children get higher ordinals;
//   - the check (84 bits computed from the ordinal and the offset, see
//     sequence_number.cc) makes a mistyped or invented number fail to
//     parse instead of pointing at some other record.
// The last nibble is the layout's version: a future layout uses another.
// The format is a contract: clients store sequence numbers (checkpoints).
//
// Thread-safety: plain functions over values; safe from any thread.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace shoal::streams {

// A shard's number within its stream, as in "shardId-000000000007": 0 for
// the first shard created, one more for each shard created after it.
using ShardOrdinal = std::uint32_t;

inline constexpr std::size_t kSequenceNumberDigits = 56;
// The largest offset a sequence number can carry.
inline constexpr std::uint64_t kMaxSequenceOffset = UINT64_MAX;

// "shardId-" and the ordinal in 12 digits: "shardId-000000000007".
std::string ShardIdName(ShardOrdinal ordinal);
// The ordinal of exactly that form (12 digits, in range); else nullopt.
std::optional<ShardOrdinal> ParseShardId(std::string_view shard_id);

struct SequencePosition {
  ShardOrdinal shard = 0;
  std::uint64_t offset = 0;

  friend bool operator==(const SequencePosition&, const SequencePosition&) = default;
};

// The 56-digit sequence number of record `offset` of shard `shard`.
std::string FormatSequenceNumber(ShardOrdinal shard, std::uint64_t offset);
// The same, written to out[0, kSequenceNumberDigits) (every sequence
// number has that many digits); returns out + kSequenceNumberDigits. For
// renderers of many lines (shard files).
char* WriteSequenceNumber(ShardOrdinal shard, std::uint64_t offset, char* out);

// Where a sequence number was given, for the wording of errors. The
// defaults fit a number read for a shard iterator.
struct SequenceNumberUse {
  std::string_view member = "StartingSequenceNumber";  // the request member
  std::string_view operation = "GetShardIterator";
  std::string_view stream;            // empty: not named in messages
  std::optional<ShardOrdinal> shard;  // the shard the number was used on
};

// The shard and offset that FormatSequenceNumber encoded in `text`.
// Errors, all kInvalidArgument, in Kinesis's words (kinesalite's
// getShardIterator.js and validations, checked against Kinesis):
//  - not digits without leading zeros, or over 129 digits: the
//    ValidationException "1 validation error detected: Value 'x' at
//    'startingSequenceNumber' failed to satisfy constraint: Member must
//    satisfy regular expression pattern: 0|([1-9]\d{0,128})";
//  - digits that shoal never wrote: "StartingSequenceNumber 123 used in
//    GetShardIterator on shard shardId-000000000000 in stream s under
//    account 000000000000 is invalid." (the shard and stream parts only
//    when `use` names them);
//  - a number of another shard than `use.shard`: "Invalid
//    StartingSequenceNumber. It encodes shardId-000000000001, while it was
//    used in a call to a shard with shardId-000000000000".
Result<SequencePosition> ParseSequenceNumber(std::string_view text,
                                             const SequenceNumberUse& use = {});

}  // namespace shoal::streams
