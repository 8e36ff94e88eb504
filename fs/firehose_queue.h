#pragma once
// The Firehose deliveries a mount owes (DESIGN §2.6), handed to a thread of
// their own, so that encoding them (compression, the transform) runs beside
// the writers that fill the next buffers.
//
// Submit queues batches for the worker, which runs `deliver` on each in
// the order submitted. Once the queue holds `max_queued_bytes` of records,
// a submitting thread runs `deliver` itself instead: writers slow to the
// pace of delivery rather than growing the daemon's memory, and never wait
// for the worker (which may itself wait on a kernel lock that a request the
// daemon has yet to answer holds).
//
// Thread-safety: all methods may be called concurrently. Stop (and the
// destructor) delivers what is queued, then stops the worker: what is
// queued after that is never delivered.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "streams/firehose_store.h"

namespace shoal::fs {

class FirehoseQueue final {
 public:
  using Deliver = std::function<void(const streams::FirehoseBatch&)>;
  FirehoseQueue(Deliver deliver, std::uint64_t max_queued_bytes);
  ~FirehoseQueue();
  FirehoseQueue(const FirehoseQueue&) = delete;
  FirehoseQueue& operator=(const FirehoseQueue&) = delete;

  // From a writer: queued, or delivered here once the queue is full.
  void Submit(std::vector<streams::FirehoseBatch> batches);
  // Always queued (a caller that must not block, nor deliver while it
  // holds the clock's lock).
  void Queue(std::vector<streams::FirehoseBatch> batches);
  // Returns once every batch submitted before the call is delivered.
  void Drain();
  // Returns once the queue holds less than max_queued_bytes.
  void WaitForRoom();
  // Delivers what is queued and stops the worker. Idempotent.
  void Stop();

 private:
  void Run();
  void QueueLocked(streams::FirehoseBatch batch);

  const Deliver deliver_;
  const std::uint64_t max_queued_bytes_;
  std::mutex mu_;
  std::condition_variable work_cv_;  // a batch queued, or stopping
  std::condition_variable done_cv_;  // a batch delivered
  std::deque<streams::FirehoseBatch> queue_;
  std::uint64_t queued_bytes_ = 0;
  std::uint64_t queued_total_ = 0;     // batches ever queued
  std::uint64_t delivered_total_ = 0;  // of those, delivered
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace shoal::fs
