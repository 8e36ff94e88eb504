#pragma once
// Helpers for the JSON documents that users write and shoal reads (the
// Intelligent-Tiering and lifecycle configurations, the price table): the
// checks that come before a document's schema (from base/json_text.h),
// member names, and how a configuration is written back.
// Each document's own schema and messages stay with its parser.
//
// Thread-safety: plain functions over values; safe from any thread.

#include <cstddef>
#include <initializer_list>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "base/json_text.h"
#include "base/status.h"

namespace shoal::tiers {

// The deepest nesting a configuration document may have. nlohmann's parser
// keeps its own stack, but a hostile file of a million '[' would still cost
// memory for nothing; no valid configuration nests deeper than 6.
inline constexpr std::size_t kMaxJsonDepth = 64;

// The checks before the schema (base/json_text.h), here too for the
// parsers of this layer.
using shoal::DepthWithin;
using shoal::IsBlankJson;
using shoal::ParseJsonDocument;

// Unicode characters in `s`: the bytes that do not continue a UTF-8
// sequence (10xxxxxx). Exact for valid UTF-8, which every string that
// ParseJsonDocument returns is.
std::size_t CharCount(std::string_view s);

// The name of the first member of `obj` that is not among `allowed`, or
// nullopt when there is none. nlohmann::json keeps members sorted by name,
// so "first" is in that order, not the document's.
// REQUIRES: obj.is_object()
std::optional<std::string> FirstUnknownMember(const nlohmann::json& obj,
                                              std::initializer_list<std::string_view> allowed);

// `names` joined by ", " ("Key, Value"), for the "expected ..." part of a
// message about an unknown member.
std::string JoinNames(std::initializer_list<std::string_view> names);

// `doc` as shoal writes a configuration back, as the AWS CLI prints one:
// two-space indents, non-ASCII text as UTF-8, invalid UTF-8 replaced by
// U+FFFD (so this never throws), and a final newline.
std::string JsonDocumentText(const nlohmann::ordered_json& doc);

}  // namespace shoal::tiers
