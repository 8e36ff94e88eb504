#include "streams/firehose_buffer.h"

#include <zlib.h>
#include <zstd.h>

#include <catch2/catch.hpp>
#include <string>

namespace shoal::streams {
namespace {

constexpr TimeNs kSecond = 1'000'000'000;

std::string Gunzip(const std::string& packed) {
  z_stream z{};
  REQUIRE(inflateInit2(&z, 15 + 16) == Z_OK);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(packed.data()));
  z.avail_in = static_cast<uInt>(packed.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  const std::size_t n = out.size() - z.avail_out;
  inflateEnd(&z);
  REQUIRE(rc == Z_STREAM_END);
  out.resize(n);
  return out;
}

std::string Unzstd(const std::string& packed) {
  const auto size = ZSTD_getFrameContentSize(packed.data(), packed.size());
  REQUIRE(size != ZSTD_CONTENTSIZE_ERROR);
  REQUIRE(size != ZSTD_CONTENTSIZE_UNKNOWN);
  std::string out(size, '\0');
  const std::size_t n = ZSTD_decompress(out.data(), out.size(), packed.data(), packed.size());
  REQUIRE(ZSTD_isError(n) == 0);
  out.resize(n);
  return out;
}

}  // namespace

TEST_CASE("a buffer is delivered when its size is reached", "[firehose_buffer]") {
  DeliveryBuffer buffer(/*size_limit_bytes=*/10, 300 * kSecond, /*append_delimiter=*/true);
  REQUIRE(buffer.Add("", "abcd", 1 * kSecond));  // 5 bytes with its newline
  CHECK(buffer.TakeDue(2 * kSecond).empty());
  CHECK(buffer.buffered_bytes() == 5);
  REQUIRE(buffer.Add("", "efgh", 2 * kSecond));  // 10: due
  auto due = buffer.TakeDue(2 * kSecond);
  REQUIRE(due.size() == 1);
  CHECK(due[0].records.size() == 2);
  CHECK(due[0].bytes == 10);
  CHECK(due[0].oldest == 1 * kSecond);
  CHECK(buffer.partition_count() == 0);
  CHECK(buffer.buffered_bytes() == 0);
  // Without delimiters only the data counts.
  DeliveryBuffer plain(10, 300 * kSecond, false);
  REQUIRE(plain.Add("", "abcd", 0));
  REQUIRE(plain.Add("", "efgh", 0));
  CHECK(plain.TakeDue(0).empty());
}

TEST_CASE("a buffer is delivered when its oldest record has waited the interval",
          "[firehose_buffer]") {
  DeliveryBuffer buffer(1 << 20, 60 * kSecond, false);
  CHECK(buffer.NextDeadline() == std::nullopt);
  REQUIRE(buffer.Add("", "first", 10 * kSecond));
  REQUIRE(buffer.Add("", "second", 50 * kSecond));
  CHECK(buffer.NextDeadline() == 70 * kSecond);
  CHECK(buffer.TakeDue(69 * kSecond).empty());
  auto due = buffer.TakeDue(70 * kSecond);
  REQUIRE(due.size() == 1);
  CHECK(due[0].records[0].data == "first");
  CHECK(due[0].records[1].data == "second");
  // A new buffer starts its interval at its own first record.
  REQUIRE(buffer.Add("", "third", 71 * kSecond));
  CHECK(buffer.NextDeadline() == 131 * kSecond);
  // An interval of 0 delivers at once.
  DeliveryBuffer zero(1 << 20, 0, false);
  REQUIRE(zero.Add("", "now", 5 * kSecond));
  CHECK(zero.TakeDue(5 * kSecond).size() == 1);
}

TEST_CASE("partitions buffer apart, come due apart, and are capped", "[firehose_buffer]") {
  DeliveryBuffer buffer(1 << 20, 60 * kSecond, true, /*max_partitions=*/2);
  REQUIRE(buffer.Add("c=1", "a", 0));
  REQUIRE(buffer.Add("c=2", "b", 30 * kSecond));
  REQUIRE(buffer.Add("c=1", "c", 40 * kSecond));
  // A third partition is refused while two buffer; the existing ones take more.
  CHECK_FALSE(buffer.Add("c=3", "x", 40 * kSecond));
  CHECK(buffer.Add("c=2", "d", 41 * kSecond));
  auto due = buffer.TakeDue(60 * kSecond);
  REQUIRE(due.size() == 1);
  CHECK(due[0].partition == "c=1");
  CHECK(due[0].records.size() == 2);
  CHECK(buffer.Add("c=3", "x", 61 * kSecond));  // room again
  auto all = buffer.TakeAll();
  REQUIRE(all.size() == 2);
  CHECK(all[0].partition == "c=2");  // oldest first
  CHECK(all[1].partition == "c=3");
  CHECK(buffer.partition_count() == 0);
  CHECK(buffer.NextDeadline() == std::nullopt);
}

TEST_CASE("delivered objects hold the records, delimited and compressed as configured",
          "[firehose_buffer]") {
  DeliveryBatch batch;
  batch.records = {{"{\"a\":1}", 0}, {"{\"a\":2}", 0}};
  batch.bytes = 16;
  CHECK(EncodeDeliveredObject(batch, false, Compression::kUncompressed).value() ==
        "{\"a\":1}{\"a\":2}");
  const std::string lines = "{\"a\":1}\n{\"a\":2}\n";
  CHECK(EncodeDeliveredObject(batch, true, Compression::kUncompressed).value() == lines);
  auto gz = EncodeDeliveredObject(batch, true, Compression::kGzip);
  REQUIRE(gz.ok());
  CHECK(static_cast<unsigned char>((*gz)[0]) == 0x1f);  // gzip's magic
  CHECK(static_cast<unsigned char>((*gz)[1]) == 0x8b);
  CHECK(Gunzip(*gz) == lines);
  auto zst = EncodeDeliveredObject(batch, true, Compression::kZstd);
  REQUIRE(zst.ok());
  CHECK(Unzstd(*zst) == lines);
  // Many similar records compress.
  DeliveryBatch big;
  for (int i = 0; i < 10000; ++i) big.records.push_back({"{\"device\":\"d1\",\"temp\":21.5}", 0});
  auto packed = EncodeDeliveredObject(big, true, Compression::kGzip);
  REQUIRE(packed.ok());
  CHECK(packed->size() < 10000);
  CHECK(Gunzip(*packed).size() == std::size_t{10000} * 28);
}

}  // namespace shoal::streams
