// shoal_stream_writer: the Kinesis workload's producer (scripts/bench). W
// writers, threads each with an open file of their own, append 100-byte JSON
// records (99 bytes and a newline) to FILE: a stream's `records` file through
// a shoal mount, or a plain file on ext4 as the baseline. Given W files, the
// writers take one each (a stream's keys/<key> files: the kernel serves
// writes to one FUSE file one at a time, to different files side by side).
// Files are opened O_WRONLY|O_APPEND|O_CREAT.
//
//   shoal_stream_writer FILE... --records N --mode single|batched
//                       [--writers W] [--batch-bytes B]
//
// single: one write() per record. batched: whole lines packed into writes of
// at most B bytes (default 65536), never splitting a line. The N records are
// shared among the writers. Each write is timed (CLOCK_MONOTONIC around it,
// retries of a short write included); the records are formatted outside the
// timed calls. Prints one JSON line: records, bytes, writes, seconds (from
// the common start to the last writer's close), records_per_s, mib_per_s,
// p50_us, p99_us, max_us (over all writes), writers and records_per_s of
// each writer. A failed write or close ends the program with exit 1 and a
// message; records already written stay written.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <latch>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

constexpr std::size_t kRecordBytes = 100;  // newline included

struct Options {
  std::vector<std::string> files;  // one for all writers, or one each
  std::uint64_t records = 0;
  bool batched = false;
  unsigned writers = 1;
  std::size_t batch_bytes = 65536;
};

struct WriterResult {
  std::uint64_t records = 0;
  std::uint64_t writes = 0;
  double seconds = 0;
  std::vector<float> latencies_us;  // one per write
  std::string error;                // empty on success
};

double Now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// AppendRecord(out, seq): one record, exactly kRecordBytes with its newline,
// e.g. {"device":"d0042","seq":123456,"temp":21.5,"pad":"klmnop..."}; device,
// temperature and padding vary with seq.
void AppendRecord(std::string& out, std::uint64_t seq) {
  char buf[kRecordBytes];
  char* p = buf;
  auto put = [&p](std::string_view s) {
    std::memcpy(p, s.data(), s.size());
    p += s.size();
  };
  auto digits = [&p, &put](std::uint64_t v, int width) {
    char tmp[24];
    const auto [end, ec] = std::to_chars(tmp, tmp + sizeof tmp, v);
    for (auto n = static_cast<int>(end - tmp); n < width; ++n) *p++ = '0';
    put(std::string_view(tmp, static_cast<std::size_t>(end - tmp)));
  };
  put(R"({"device":"d)");
  digits((seq * 7919) % 10000, 4);
  put(R"(","seq":)");
  digits(seq, 1);
  put(R"(,"temp":)");
  const std::uint64_t tenths = 100 + (seq * 37) % 200;  // 10.0 .. 29.9
  digits(tenths / 10, 2);
  *p++ = '.';
  digits(tenths % 10, 1);
  put(R"(,"pad":")");
  char* const pad_end = buf + kRecordBytes - 3;  // room for "}\n
  for (std::uint64_t k = seq; p < pad_end; ++k) *p++ = static_cast<char>('a' + k % 26);
  put("\"}\n");
  out.append(buf, kRecordBytes);
}

// WriteAll: one timed append of data; a short write is retried for the rest.
bool WriteAll(int fd, std::string_view data, std::string& error) {
  while (!data.empty()) {
    const ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      error = std::string("write: ") + std::strerror(errno);
      return false;
    }
    if (n == 0) {
      error = "write returned 0";
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// RunWriter: writer `index` appends records first .. first+count-1.
void RunWriter(const Options& opt, const std::string& file, std::uint64_t first,
               std::uint64_t count, std::latch& start, double& started, WriterResult& result) {
  const int fd = open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    result.error = "open " + file + ": " + std::strerror(errno);
    start.count_down();
    return;
  }
  const std::size_t per_write =
      opt.batched ? std::max<std::size_t>(1, opt.batch_bytes / kRecordBytes) : 1;
  result.latencies_us.reserve(static_cast<std::size_t>(count / per_write + 1));
  std::string buf;
  buf.reserve(per_write * kRecordBytes);
  start.arrive_and_wait();
  std::uint64_t seq = first;
  const std::uint64_t end = first + count;
  while (seq < end) {
    buf.clear();
    for (std::size_t i = 0; i < per_write && seq < end; ++i) AppendRecord(buf, seq++);
    const double t0 = Now();
    if (!WriteAll(fd, buf, result.error)) {
      close(fd);
      return;
    }
    result.latencies_us.push_back(static_cast<float>((Now() - t0) * 1e6));
    result.records += buf.size() / kRecordBytes;
    ++result.writes;
  }
  if (close(fd) != 0) {
    result.error = std::string("close: ") + std::strerror(errno);
    return;
  }
  result.seconds = Now() - started;
}

bool ParseUint(const char* s, std::uint64_t& v) {
  const char* end = s + std::strlen(s);
  const auto [p, ec] = std::from_chars(s, end, v);
  return ec == std::errc() && p == end;
}

int Usage() {
  std::fprintf(stderr,
               "usage: shoal_stream_writer FILE... --records N --mode single|batched "
               "[--writers W] [--batch-bytes B]\n");
  return 2;
}

double Percentile(std::vector<float>& v, double q) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(std::llround(q * static_cast<double>(v.size() - 1)));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  std::string mode;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    std::uint64_t v = 0;
    if (arg.starts_with("--") && i + 1 >= argc) return Usage();
    if (arg == "--records") {
      if (!ParseUint(argv[++i], opt.records)) return Usage();
    } else if (arg == "--mode") {
      mode = argv[++i];
    } else if (arg == "--writers") {
      if (!ParseUint(argv[++i], v) || v == 0 || v > 256) return Usage();
      opt.writers = static_cast<unsigned>(v);
    } else if (arg == "--batch-bytes") {
      if (!ParseUint(argv[++i], v) || v < kRecordBytes) return Usage();
      opt.batch_bytes = static_cast<std::size_t>(v);
    } else if (!arg.starts_with("--")) {
      opt.files.emplace_back(arg);
    } else {
      return Usage();
    }
  }
  if (opt.files.empty() || opt.records == 0 || (mode != "single" && mode != "batched")) {
    return Usage();
  }
  if (opt.files.size() != 1 && opt.files.size() != opt.writers) {
    std::fprintf(stderr, "shoal_stream_writer: %zu files for %u writers: give one, or one each\n",
                 opt.files.size(), opt.writers);
    return 2;
  }
  opt.batched = mode == "batched";

  std::vector<WriterResult> results(opt.writers);
  std::latch start(opt.writers + 1);
  double started = 0;
  std::vector<std::thread> threads;
  std::uint64_t first = 0;
  for (unsigned w = 0; w < opt.writers; ++w) {
    const std::uint64_t count = opt.records / opt.writers + (w < opt.records % opt.writers ? 1 : 0);
    const std::string& file = opt.files[opt.files.size() == 1 ? 0 : w];
    threads.emplace_back(RunWriter, std::cref(opt), std::cref(file), first, count, std::ref(start),
                         std::ref(started), std::ref(results[w]));
    first += count;
  }
  // Every writer has opened FILE and waits: the clock starts for all at once.
  started = Now();
  start.count_down();
  for (auto& t : threads) t.join();
  const double seconds = Now() - started;

  std::uint64_t records = 0;
  std::uint64_t writes = 0;
  std::vector<float> latencies;
  int rc = 0;
  for (std::size_t w = 0; w < results.size(); ++w) {
    const WriterResult& r = results[w];
    if (!r.error.empty()) {
      std::fprintf(stderr, "shoal_stream_writer: %s: %s (after %llu records)\n",
                   opt.files[opt.files.size() == 1 ? 0 : w].c_str(), r.error.c_str(),
                   static_cast<unsigned long long>(r.records));
      rc = 1;
    }
    records += r.records;
    writes += r.writes;
    latencies.insert(latencies.end(), r.latencies_us.begin(), r.latencies_us.end());
  }
  const double bytes = static_cast<double>(records * kRecordBytes);
  const double max_us =
      latencies.empty() ? 0 : *std::max_element(latencies.begin(), latencies.end());
  const double p50 = Percentile(latencies, 0.50);
  const double p99 = Percentile(latencies, 0.99);
  std::string per_writer;
  for (const WriterResult& r : results) {
    char item[64];
    std::snprintf(item, sizeof item, "%s%.1f", per_writer.empty() ? "" : ",",
                  r.seconds > 0 ? static_cast<double>(r.records) / r.seconds : 0.0);
    per_writer += item;
  }
  std::printf(
      "{\"mode\":\"%s\",\"writers\":%u,\"records\":%llu,\"bytes\":%.0f,\"writes\":%llu,"
      "\"seconds\":%.6f,\"records_per_s\":%.1f,\"mib_per_s\":%.2f,\"p50_us\":%.1f,"
      "\"p99_us\":%.1f,\"max_us\":%.1f,\"writer_records_per_s\":[%s]}\n",
      mode.c_str(), opt.writers, static_cast<unsigned long long>(records), bytes,
      static_cast<unsigned long long>(writes), seconds, static_cast<double>(records) / seconds,
      bytes / seconds / (1024.0 * 1024.0), p50, p99, max_us, per_writer.c_str());
  return rc;
}
