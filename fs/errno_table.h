#pragma once
// The one table from service error codes to errno (DESIGN §2.10; README).

#include "base/status.h"

namespace shoal::fs {

// The errno a FUSE reply carries for `code`. REQUIRES: code != kOk.
int ErrnoFor(Code code);

}  // namespace shoal::fs
