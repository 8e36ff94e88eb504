#pragma once
// A Firehose delivery stream's buffers (DESIGN §2.6): the records waiting
// to become S3 objects, grouped by partition, and Firehose's decision of
// when a group is delivered: once its size reaches SizeInMBs (uncompressed,
// delimiters counted) or IntervalInSeconds have passed since its oldest
// record arrived, whichever comes first; an interval of 0 delivers at once.
// Also what a delivered object holds: the records, each followed by a
// newline when AppendDelimiterToRecord is set, compressed as configured.
//
// A partition is one value of the dynamic partitioning keys (the empty
// string without them); the prefix is rendered when the group is
// delivered, from its oldest record's arrival time. At most
// `max_partitions` partitions buffer at once, as Firehose's active
// partition limit (500): a record for a further one is refused.
//
// Thread-safety: none; the owner serialises calls.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "streams/firehose_config.h"
#include "streams/firehose_prefix.h"

namespace shoal::streams {

inline constexpr std::size_t kMaxActivePartitions = 500;

struct BufferedRecord {
  std::string data;
  TimeNs arrival = 0;
};

// The records of one partition, in arrival order, ready to deliver.
struct DeliveryBatch {
  std::string partition;
  PartitionKeys keys;             // dynamic partitioning's values
  std::string error_output_type;  // set for records of the error output
  std::vector<BufferedRecord> records;
  TimeNs oldest = 0;        // the first record's arrival
  std::uint64_t bytes = 0;  // what the object holds before compression
};

class DeliveryBuffer {
 public:
  DeliveryBuffer(std::uint64_t size_limit_bytes, TimeNs interval, bool append_delimiter,
                 std::size_t max_partitions = kMaxActivePartitions);

  // Where a record goes: its partition's identity, and what its prefix is
  // rendered with.
  struct Partition {
    std::string_view id;  // "" without dynamic partitioning
    const PartitionKeys* keys = nullptr;
    // The error output's records (error-output-type), which do not count
    // as active partitions.
    std::string_view error_output_type;
  };
  // Buffers `data` in `partition`; false (nothing buffered) when the
  // partition is new and max_partitions are already buffering.
  bool Add(const Partition& partition, std::string_view data, TimeNs arrival);
  bool Add(std::string_view partition, std::string_view data, TimeNs arrival) {
    return Add(Partition{.id = partition}, data, arrival);
  }
  // The partitions due at `now` (size reached, or interval passed since
  // their oldest record), removed from the buffer, oldest first.
  std::vector<DeliveryBatch> TakeDue(TimeNs now);
  // Every partition, due or not (flush, unmount), oldest first.
  std::vector<DeliveryBatch> TakeAll();
  // When the earliest partition comes due by time; nullopt when empty.
  std::optional<TimeNs> NextDeadline() const;

  // Active partitions: those buffering, the error output's aside.
  std::size_t partition_count() const { return partitions_.size() - error_partitions_; }
  std::uint64_t buffered_bytes() const { return buffered_bytes_; }
  bool empty() const { return partitions_.empty(); }

 private:
  std::uint64_t RecordBytes(std::string_view data) const;
  bool Due(const DeliveryBatch& batch, TimeNs now) const;
  static void SortOldestFirst(std::vector<DeliveryBatch>& batches);

  std::uint64_t size_limit_bytes_;
  TimeNs interval_;
  bool append_delimiter_;
  std::size_t max_partitions_;
  std::map<std::string, DeliveryBatch, std::less<>> partitions_;
  std::size_t error_partitions_ = 0;  // of partitions_, the error output's
  std::uint64_t buffered_bytes_ = 0;
};

// The bytes of the object that delivers `batch`: its records, each
// followed by '\n' when `append_delimiter`, then compressed (GZIP: a gzip
// member that `zcat` reads; ZSTD: a zstd frame that `zstdcat` reads).
Result<std::string> EncodeDeliveredObject(const DeliveryBatch& batch, bool append_delimiter,
                                          Compression compression);

}  // namespace shoal::streams
