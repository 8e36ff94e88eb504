#include "base/subprocess.h"

#include <catch2/catch.hpp>
#include <csignal>

namespace shoal {
namespace {

using End = SubprocessOutcome::End;
using std::chrono_literals::operator""ms;
using std::chrono_literals::operator""s;

TEST_CASE("a program gets its input and gives its output", "[subprocess]") {
  const std::string input(300000, 'x');  // more than a pipe holds
  auto r = RunSubprocess({"sh", "-c", "wc -c; echo oops >&2"}, input, 10s, 1 << 20);
  REQUIRE(r.ok());
  CHECK(r->end == End::kExited);
  CHECK(r->code == 0);
  CHECK(r->out == "300000\n");
  CHECK(r->err == "oops\n");
}

TEST_CASE("its exit status and signal are told", "[subprocess]") {
  auto failed = RunSubprocess({"sh", "-c", "exit 3"}, "", 10s, 1024);
  REQUIRE(failed.ok());
  CHECK(failed->end == End::kExited);
  CHECK(failed->code == 3);
  auto killed = RunSubprocess({"sh", "-c", "kill -SEGV $$"}, "", 10s, 1024);
  REQUIRE(killed.ok());
  CHECK(killed->end == End::kSignaled);
  CHECK(killed->code == SIGSEGV);
}

TEST_CASE("a program that reads nothing does not hurt the caller", "[subprocess]") {
  auto r = RunSubprocess({"true"}, std::string(1 << 20, 'x'), 10s, 1024);
  REQUIRE(r.ok());
  CHECK(r->end == End::kExited);
  CHECK(r->code == 0);
}

TEST_CASE("past its time it is killed, with what it started", "[subprocess]") {
  const auto t0 = std::chrono::steady_clock::now();
  auto r = RunSubprocess({"sh", "-c", "sleep 30 & sleep 30"}, "", 200ms, 1024);
  REQUIRE(r.ok());
  CHECK(r->end == End::kTimedOut);
  CHECK(std::chrono::steady_clock::now() - t0 < 10s);
  // Output closed early does not end the wait for its exit.
  auto quiet = RunSubprocess({"sh", "-c", "exec >&- 2>&-; sleep 30"}, "", 200ms, 1024);
  REQUIRE(quiet.ok());
  CHECK(quiet->end == End::kTimedOut);
}

TEST_CASE("it ends when the program exits, whatever it left behind", "[subprocess]") {
  const auto t0 = std::chrono::steady_clock::now();
  // The background sleep keeps stdout and stderr open after sh exits.
  auto r = RunSubprocess({"sh", "-c", "sleep 30 & echo answer"}, "", 10s, 1024);
  REQUIRE(r.ok());
  CHECK(r->end == End::kExited);
  CHECK(r->code == 0);
  CHECK(r->out == "answer\n");
  CHECK(std::chrono::steady_clock::now() - t0 < 5s);
}

TEST_CASE("too much output ends it", "[subprocess]") {
  auto r = RunSubprocess({"yes"}, "", 10s, 100000);
  REQUIRE(r.ok());
  CHECK(r->end == End::kOutputTooLarge);
}

TEST_CASE("a program that cannot start is an error", "[subprocess]") {
  auto missing = RunSubprocess({"/nonexistent/program"}, "", 1s, 1024);
  CHECK(!missing.ok());
  CHECK(RunSubprocess({}, "", 1s, 1024).status().code() == Code::kInvalidArgument);
}

}  // namespace
}  // namespace shoal
