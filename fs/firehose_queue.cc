#include "fs/firehose_queue.h"

#include <utility>

namespace shoal::fs {

FirehoseQueue::FirehoseQueue(Deliver deliver, std::uint64_t max_queued_bytes)
    : deliver_(std::move(deliver)), max_queued_bytes_(max_queued_bytes) {
  worker_ = std::thread([this] { Run(); });
}

FirehoseQueue::~FirehoseQueue() {
  Stop();
}

void FirehoseQueue::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void FirehoseQueue::QueueLocked(streams::FirehoseBatch batch) {
  queued_bytes_ += batch.batch.bytes;
  ++queued_total_;
  queue_.push_back(std::move(batch));
  work_cv_.notify_one();
}

void FirehoseQueue::Submit(std::vector<streams::FirehoseBatch> batches) {
  for (auto& batch : batches) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (queued_bytes_ < max_queued_bytes_) {
        QueueLocked(std::move(batch));
        continue;
      }
    }
    deliver_(batch);  // the queue is full: this writer delivers its own
  }
}

void FirehoseQueue::Queue(std::vector<streams::FirehoseBatch> batches) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& batch : batches) QueueLocked(std::move(batch));
}

void FirehoseQueue::Drain() {
  std::unique_lock<std::mutex> lock(mu_);
  const std::uint64_t target = queued_total_;
  done_cv_.wait(lock, [&] { return delivered_total_ >= target; });
}

void FirehoseQueue::WaitForRoom() {
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [&] { return queued_bytes_ < max_queued_bytes_; });
}

void FirehoseQueue::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing is owed
    streams::FirehoseBatch batch = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    deliver_(batch);
    lock.lock();
    queued_bytes_ -= batch.batch.bytes;
    ++delivered_total_;
    done_cv_.notify_all();
  }
}

}  // namespace shoal::fs
