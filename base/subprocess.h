#pragma once
// Runs a program with input on its stdin and collects its stdout and
// stderr, within a time limit: the daemon's way of calling code of the
// user's (Firehose's Transform.Command).
//
// The program runs in a process group of its own, without a shell, found
// on PATH when its name has no slash. It ends when the program exits: what
// its stdout and stderr hold then is its output, even if a child it left
// behind keeps them open. Past the time limit, or once it writes more than
// `max_output` bytes to stdout, it is killed; either way the whole group
// gets SIGKILL at the end. A program that exits before reading all its
// input is not an error here (its exit status tells).
//
// Thread-safety: safe from any thread; SIGPIPE is blocked on the calling
// thread while the input is written.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace shoal {

struct SubprocessOutcome {
  enum class End { kExited, kSignaled, kTimedOut, kOutputTooLarge };
  End end = End::kExited;
  int code = 0;  // the exit status, or the signal's number
  std::string out;
  std::string err;  // its first `max_error` bytes
};

// kInvalidArgument for an empty argv; a PosixError when the program cannot
// be started (not found, not executable: its errno).
Result<SubprocessOutcome> RunSubprocess(const std::vector<std::string>& argv,
                                        std::string_view input, std::chrono::milliseconds timeout,
                                        std::size_t max_output, std::size_t max_error = 4096);

}  // namespace shoal
