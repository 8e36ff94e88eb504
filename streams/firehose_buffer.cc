#include "streams/firehose_buffer.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <utility>

namespace shoal::streams {
namespace {

// zstd's default level: delivery favours speed, as Firehose's does.
constexpr int kZstdLevel = 3;
// deflate's window bits plus 16: a gzip header and trailer around it.
constexpr int kGzipWindowBits = 15 + 16;
constexpr int kGzipMemLevel = 8;

Result<std::string> Gzip(std::string_view plain) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, kGzipWindowBits, kGzipMemLevel,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return Internal("gzip: deflateInit2 failed");
  }
  std::string out(deflateBound(&z, static_cast<uLong>(plain.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  z.avail_in = static_cast<uInt>(plain.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  const std::size_t written = out.size() - z.avail_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return Internal("gzip: deflate did not finish");
  out.resize(written);
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

bool DeliveryBuffer::Add(std::string_view partition, std::string_view data, TimeNs arrival) {
  auto it = partitions_.find(partition);
  if (it == partitions_.end()) {
    if (partitions_.size() >= max_partitions_) return false;
    DeliveryBatch batch;
    batch.partition = std::string(partition);
    batch.oldest = arrival;
    it = partitions_.emplace(batch.partition, std::move(batch)).first;
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
