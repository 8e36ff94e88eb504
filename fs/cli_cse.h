#pragma once
// `shoal cse encrypt|decrypt --key-file K IN OUT` (crypto/CSE_FORMAT.md).

#include <string>
#include <vector>

namespace shoal::fs {

// Runs `shoal cse` with the words after "cse"; returns the exit code (0, or
// 1 after one line on stderr saying what failed).
int RunCse(const std::vector<std::string>& words);

}  // namespace shoal::fs
