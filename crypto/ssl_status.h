#pragma once
// The one place an OpenSSL failure becomes a Status.
//
// Thread-safety: reads and drains the calling thread's OpenSSL error queue.

#include <string_view>

#include "base/status.h"

namespace shoal::crypto {

// `code` with "<context>: <OpenSSL's errors>", draining the thread's error
// queue so that a stale error never leaks into a later call.
Status SslStatus(Code code, std::string_view context);
// The same with Code::kInternal.
Status SslStatus(std::string_view context);

}  // namespace shoal::crypto
