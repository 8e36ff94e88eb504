#include "crypto/ssl_status.h"

#include <openssl/err.h>

#include <string>

namespace shoal::crypto {

Status SslStatus(Code code, std::string_view context) {
  std::string msg(context);
  bool first = true;
  while (unsigned long err = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof buf);
    msg += first ? ": " : "; ";
    msg += buf;
    first = false;
  }
  return {code, std::move(msg)};
}

Status SslStatus(std::string_view context) {
  return SslStatus(Code::kInternal, context);
}

}  // namespace shoal::crypto
