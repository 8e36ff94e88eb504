#pragma once
// The checks that come before any JSON document's schema, shared by every
// parser of a document users write (bucket, KMS and tier configurations):
// blank text, nesting depth, and the wording of errors about JSON itself.
//
// Thread-safety: plain functions; safe from any thread.

#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <string_view>

#include "base/status.h"

namespace shoal {

// Whether `text` holds nothing but JSON whitespace (space, tab, CR, LF);
// true for "". Callers read such a file as "no configuration".
bool IsBlankJson(std::string_view text);

// Whether no '[' or '{' outside a string literal opens more than `max`
// levels deep. A cheap scan to run on untrusted text before parsing it: it
// stops at the first bracket past `max`, checks no syntax, and ignores a
// closing bracket that has nothing to close.
bool DepthWithin(std::string_view text, std::size_t max);

// `text` parsed, without exceptions. On a syntax error (or trailing text
// after the value): kMalformedJson, "The JSON you provided was not
// well-formed: " followed by nlohmann's description of the first error
// ("parse error at line 1, column 2: ...") without its exception prefix and
// with control characters turned into spaces.
// Does not check depth: call DepthWithin first.
Result<nlohmann::json> ParseJsonDocument(std::string_view text);

}  // namespace shoal
