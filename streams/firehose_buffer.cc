#include "streams/firehose_buffer.h"

#include <libdeflate.h>
#include <zstd.h>

#include <algorithm>
#include <memory>
#include <utility>

namespace shoal::streams {
namespace {

// zstd's default level: delivery favours speed, as Firehose's does.
constexpr int kZstdLevel = 3;
// libdeflate's level 1: on 100-byte JSON records it packs tighter than
// zlib's level 3 and runs four times as fast as zlib's default (scripts/
// bench's firehose rows); the objects are plain gzip members either way.
constexpr int kGzipLevel = 1;

Result<std::string> Gzip(std::string_view plain) {
  const std::unique_ptr<libdeflate_compressor, decltype(&libdeflate_free_compressor)> c(
      libdeflate_alloc_compressor(kGzipLevel), &libdeflate_free_compressor);
  if (c == nullptr) return Internal("gzip: no memory for a compressor");
  std::string out(libdeflate_gzip_compress_bound(c.get(), plain.size()), '\0');
  const std::size_t n =
      libdeflate_gzip_compress(c.get(), plain.data(), plain.size(), out.data(), out.size());
  if (n == 0) return Internal("gzip: the output did not fit its bound");
  out.resize(n);
  return out;
}

Result<std::string> Zstd(std::string_view plain) {
  std::string out(ZSTD_compressBound(plain.size()), '\0');
  const std::size_t n =
      ZSTD_compress(out.data(), out.size(), plain.data(), plain.size(), kZstdLevel);
  if (ZSTD_isError(n) != 0) return Internal(std::string("zstd: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

}  // namespace

DeliveryBuffer::DeliveryBuffer(std::uint64_t size_limit_bytes, TimeNs interval,
                               bool append_delimiter, std::size_t max_partitions)
    : size_limit_bytes_(size_limit_bytes),
      interval_(interval),
      append_delimiter_(append_delimiter),
      max_partitions_(max_partitions) {}

std::uint64_t DeliveryBuffer::RecordBytes(std::string_view data) const {
  return data.size() + (append_delimiter_ ? 1 : 0);
}

bool DeliveryBuffer::Add(const Partition& partition, std::string_view data, TimeNs arrival) {
  auto it = partitions_.find(partition.id);
  if (it == partitions_.end()) {
    const bool is_error = !partition.error_output_type.empty();
    if (!is_error && partition_count() >= max_partitions_) return false;
    DeliveryBatch batch;
    batch.partition = std::string(partition.id);
    if (partition.keys != nullptr) batch.keys = *partition.keys;
    batch.error_output_type = std::string(partition.error_output_type);
    batch.oldest = arrival;
    it = partitions_.emplace(batch.partition, std::move(batch)).first;
    if (is_error) ++error_partitions_;
  }
  DeliveryBatch& batch = it->second;
  batch.records.push_back({std::string(data), arrival});
  batch.bytes += RecordBytes(data);
  buffered_bytes_ += RecordBytes(data);
  return true;
}

bool DeliveryBuffer::Due(const DeliveryBatch& batch, TimeNs now) const {
  return batch.bytes >= size_limit_bytes_ || now - batch.oldest >= interval_;
}

void DeliveryBuffer::SortOldestFirst(std::vector<DeliveryBatch>& batches) {
  std::stable_sort(
      batches.begin(), batches.end(),
      [](const DeliveryBatch& a, const DeliveryBatch& b) { return a.oldest < b.oldest; });
}

std::vector<DeliveryBatch> DeliveryBuffer::TakeDue(TimeNs now) {
  std::vector<DeliveryBatch> due;
  for (auto it = partitions_.begin(); it != partitions_.end();) {
    if (Due(it->second, now)) {
      buffered_bytes_ -= it->second.bytes;
      if (!it->second.error_output_type.empty()) --error_partitions_;
      due.push_back(std::move(it->second));
      it = partitions_.erase(it);
    } else {
      ++it;
    }
  }
  SortOldestFirst(due);
  return due;
}

std::vector<DeliveryBatch> DeliveryBuffer::TakeAll() {
  std::vector<DeliveryBatch> all;
  all.reserve(partitions_.size());
  for (auto& [name, batch] : partitions_) all.push_back(std::move(batch));
  partitions_.clear();
  error_partitions_ = 0;
  buffered_bytes_ = 0;
  SortOldestFirst(all);
  return all;
}

std::optional<TimeNs> DeliveryBuffer::NextDeadline() const {
  std::optional<TimeNs> earliest;
  for (const auto& [name, batch] : partitions_) {
    const TimeNs deadline = batch.oldest + interval_;
    if (!earliest || deadline < *earliest) earliest = deadline;
  }
  return earliest;
}

Result<std::string> EncodeDeliveredObject(const DeliveryBatch& batch, bool append_delimiter,
                                          Compression compression) {
  std::string plain;
  plain.reserve(batch.bytes);
  for (const BufferedRecord& record : batch.records) {
    plain += record.data;
    if (append_delimiter) plain += '\n';
  }
  switch (compression) {
    case Compression::kUncompressed: return plain;
    case Compression::kGzip: return Gzip(plain);
    case Compression::kZstd: return Zstd(plain);
  }
  return plain;
}

}  // namespace shoal::streams
