#include "base/work_pool.h"

#include <atomic>
#include <catch2/catch.hpp>

namespace shoal {
namespace {

TEST_CASE("WorkPool runs every task and returns its result") {
  WorkPool pool(2);
  REQUIRE(pool.threads() == 2);
  std::vector<std::future<int>> results;
  results.reserve(100);
  for (int i = 0; i < 100; ++i) results.push_back(pool.Submit([i] { return i * i; }));
  for (std::size_t i = 0; i < results.size(); ++i) {
    REQUIRE(results[i].get() == static_cast<int>(i * i));
  }
}

TEST_CASE("WorkPool runs queued tasks before its destruction returns") {
  std::atomic<int> ran{0};
  {
    WorkPool pool(1);
    for (int i = 0; i < 50; ++i) pool.Submit([&ran] { ++ran; });
  }
  REQUIRE(ran == 50);
}

TEST_CASE("WorkPool of zero threads still runs tasks") {
  WorkPool pool(0);
  REQUIRE(pool.threads() == 1);
  REQUIRE(pool.Submit([] { return 7; }).get() == 7);
}

}  // namespace
}  // namespace shoal
