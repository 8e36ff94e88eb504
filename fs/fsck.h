#pragma once
// shoal fsck STORE: offline verification of a whole store.

#include <ostream>
#include <string>

namespace shoal::fs {

// Checks every entry decodes, every entry's parent exists, and every object's
// blob opens, decrypts, verifies and matches the recorded size and ETag.
// Prints one line per problem (naming the object) and a summary to `out`;
// a store that cannot be checked at all (missing, not a store, in use) is
// one "shoal: ..." line on `err`.
// Returns the process exit code: 0 clean, 1 damage found, 2 could not check.
int RunFsck(const std::string& store_path, std::ostream& out, std::ostream& err);

}  // namespace shoal::fs
