#include "lifecycle/lifecycle_config.h"

#include <time.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tiers/restore.h"

namespace shoal::lifecycle {
namespace {

using tiers::StorageClass;

// "2026-11-26T13:30:00Z" -> TimeNs, through the C library (independent of
// the code under test).
TimeNs T(const std::string& iso) {
  std::tm tm{};
  REQUIRE(strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) != nullptr);
  return static_cast<TimeNs>(timegm(&tm)) * tiers::kNsPerSecond;
}

// One enabled rule with ID "r" and `body` spliced in, so that each case
// differs from a valid document in one place.
std::string One(std::string_view body) {
  return R"({"Rules":[{"ID":"r","Status":"Enabled",)" + std::string(body) + "}]}";
}

// S3's MalformedXML sentence with shoal's detail.
std::string M(std::string_view detail) {
  return "The XML you provided was not well-formed or did not validate against our published "
         "schema (" +
         std::string(detail) + ")";
}

struct Case {
  std::string name;
  std::string json;
  Code code;            // kOk: the document is valid
  std::string message;  // the whole message, exactly
};

const Code kOk = Code::kOk;
const Code kMalformed = Code::kMalformedXml;
const Code kNotJson = Code::kMalformedJson;
const Code kArg = Code::kInvalidArgument;
const Code kReq = Code::kInvalidRequest;

std::vector<Case> Cases() {
  const std::string id256(256, 'i');
  const std::string key129(129, 'k');
  const std::string value257(257, 'v');
  return {
      // Valid documents.
      {"a prefix filter and an expiration",
       One(R"("Filter":{"Prefix":"logs/"},"Expiration":{"Days":365})"), kOk, ""},
      {"the documented waterfall: STANDARD_IA, GLACIER, DEEP_ARCHIVE, then expiry",
       One(R"("Filter":{},"Transitions":[{"Days":30,"StorageClass":"STANDARD_IA"},
              {"Days":60,"StorageClass":"GLACIER"},{"Days":150,"StorageClass":"DEEP_ARCHIVE"}],
              "Expiration":{"Days":365})"),
       kOk, ""},
      {"transitions may be listed in any order",
       One(R"("Filter":{},"Transitions":[{"Days":150,"StorageClass":"DEEP_ARCHIVE"},
              {"Days":30,"StorageClass":"STANDARD_IA"}])"),
       kOk, ""},
      {"rule-level prefixes (Lifecycle V1) that do not overlap",
       R"({"Rules":[{"ID":"a","Prefix":"logs/","Status":"Enabled","Expiration":{"Days":1}},
                    {"ID":"b","Prefix":"tmp/","Status":"Disabled","Expiration":{"Days":2}}]})",
       kOk, ""},
      {"rule-level prefixes may overlap for different actions",
       R"({"Rules":[{"ID":"a","Prefix":"logs/","Status":"Enabled","Expiration":{"Days":9}},
                    {"ID":"b","Prefix":"logs/old/","Status":"Enabled",
                     "Transitions":[{"Days":0,"StorageClass":"GLACIER"}]}]})",
       kOk, ""},
      {"Filter rules may overlap freely",
       R"({"Rules":[{"ID":"a","Filter":{"Prefix":"logs/"},"Status":"Enabled","Expiration":{"Days":9}},
                    {"ID":"b","Filter":{"Prefix":"logs/"},"Status":"Enabled","Expiration":{"Days":3}}]})",
       kOk, ""},
      {"And with a prefix, two tags and a size range",
       One(R"("Filter":{"And":{"Prefix":"p/","Tags":[{"Key":"a","Value":"1"},{"Key":"b","Value":""}],
              "ObjectSizeGreaterThan":0,"ObjectSizeLessThan":1099511627776000}},
              "Transitions":[{"Days":0,"StorageClass":"GLACIER"}])"),
       kOk, ""},
      {"And of an empty prefix and one tag", One(R"("Filter":{"And":{"Prefix":"",
              "Tags":[{"Key":"a","Value":"1"}]}},"Expiration":{"Days":1})"),
       kOk, ""},
      {"Dates in three ISO 8601 forms",
       One(R"("Filter":{},"Transitions":[{"Date":"2026-01-01T00:00:00.000Z","StorageClass":"GLACIER"},
              {"Date":"2026-04-01T00:00:00Z","StorageClass":"DEEP_ARCHIVE"}],
              "Expiration":{"Date":"2027-01-01"})"),
       kOk, ""},
      {"a Date written with an offset that is midnight UTC",
       One(R"("Filter":{},"Expiration":{"Date":"2026-03-01T02:00:00+02:00"})"), kOk, ""},
      {"INTELLIGENT_TIERING at 0 days, ONEZONE_IA 30 days later",
       One(R"("Filter":{},"Transitions":[{"Days":0,"StorageClass":"INTELLIGENT_TIERING"},
              {"Days":30,"StorageClass":"ONEZONE_IA"}])"),
       kOk, ""},
      {"noncurrent transitions and expiration with NewerNoncurrentVersions",
       One(R"("Filter":{"Prefix":""},"NoncurrentVersionTransitions":[
              {"NoncurrentDays":30,"StorageClass":"STANDARD_IA","NewerNoncurrentVersions":100},
              {"NoncurrentDays":60,"StorageClass":"GLACIER"}],
              "NoncurrentVersionExpiration":{"NoncurrentDays":61,"NewerNoncurrentVersions":3})"),
       kOk, ""},
      {"expired delete markers and old versions",
       One(R"("Filter":{},"Expiration":{"ExpiredObjectDeleteMarker":true},
              "NoncurrentVersionExpiration":{"NoncurrentDays":1})"),
       kOk, ""},
      {"ExpiredObjectDeleteMarker false is an action that does nothing",
       One(R"("Filter":{},"Expiration":{"ExpiredObjectDeleteMarker":false})"), kOk, ""},
      {"abort incomplete uploads under a prefix",
       One(R"("Filter":{"Prefix":"uploads/"},"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":7})"),
       kOk, ""},
      {"varies_by_storage_class",
       R"({"TransitionDefaultMinimumObjectSize":"varies_by_storage_class","Rules":[
            {"Filter":{},"Status":"Enabled","Transitions":[{"Days":0,"StorageClass":"GLACIER"}]}]})",
       kOk, ""},
      {"a rule without an ID",
       R"({"Rules":[{"Filter":{},"Status":"Enabled","Expiration":{"Days":1}}]})", kOk, ""},

      // Schema faults: S3's MalformedXML.
      {"not JSON", "{", kNotJson,
       "The JSON you provided was not well-formed: parse error at line 1, column 2: syntax error "
       "while parsing object key - unexpected end of input; expected string literal"},
      {"nesting deeper than 64", std::string(100, '[') + std::string(100, ']'), kMalformed,
       M("the document nests deeper than 64 levels")},
      {"a document that is not an object", "[]", kMalformed,
       M(R"(the document must be a JSON object: {"Rules": [...]})")},
      {"no Rules", "{}", kMalformed, M("the document needs Rules")},
      {"Rules not an array", R"({"Rules":{}})", kMalformed, M("Rules must be an array")},
      {"an unknown top-level member", R"({"Rules":[],"Extra":1})", kMalformed,
       M(R"(unknown member "Extra" in the document; expected Rules, TransitionDefaultMinimumObjectSize)")},
      {"TransitionDefaultMinimumObjectSize of the wrong type",
       R"({"Rules":[],"TransitionDefaultMinimumObjectSize":128})", kMalformed,
       M("TransitionDefaultMinimumObjectSize must be a string")},
      {"Id instead of ID", R"({"Rules":[{"Id":"x","Filter":{},"Status":"Enabled"}]})", kMalformed,
       M(R"(unknown member "Id" in Rules[0]; expected ID, Filter, Prefix, Status, Expiration, )"
         R"(Transitions, NoncurrentVersionTransitions, NoncurrentVersionExpiration, )"
         R"(AbortIncompleteMultipartUpload)")},
      {"Status enabled", R"({"Rules":[{"Filter":{},"Status":"enabled","Expiration":{"Days":1}}]})",
       kMalformed, M(R"(Rules[0].Status must be Enabled or Disabled, not "enabled")")},
      {"no Status", R"({"Rules":[{"Filter":{},"Expiration":{"Days":1}}]})", kMalformed,
       M("Rules[0] needs a Status")},
      {"neither Filter nor Prefix", One(R"("Expiration":{"Days":1})"), kMalformed,
       M("Rules[0] needs a Filter ({} for the whole bucket)")},
      {"both Filter and Prefix", One(R"("Prefix":"a","Filter":{},"Expiration":{"Days":1})"),
       kMalformed,
       M("Rules[0] has both a Filter and the deprecated rule-level Prefix; keep the Filter")},
      {"a Filter with two predicates",
       One(R"("Filter":{"Prefix":"a","Tag":{"Key":"k","Value":"v"}},"Expiration":{"Days":1})"),
       kMalformed,
       M("Rules[0].Filter may hold only one of Prefix, Tag, ObjectSizeGreaterThan, "
         "ObjectSizeLessThan and And; combine predicates in And")},
      {"an And of one predicate", One(R"("Filter":{"And":{"Prefix":"a"}},"Expiration":{"Days":1})"),
       kMalformed, M("Rules[0].Filter.And must combine at least two predicates")},
      {"a Tag without Value", One(R"("Filter":{"Tag":{"Key":"k"}},"Expiration":{"Days":1})"),
       kMalformed, M("Rules[0].Filter.Tag needs both Key and Value")},
      {"an empty Expiration", One(R"("Filter":{},"Expiration":{})"), kMalformed,
       M("Rules[0].Expiration must hold exactly one of Days, Date and ExpiredObjectDeleteMarker")},
      {"ExpiredObjectDeleteMarker with Days",
       One(R"("Filter":{},"Expiration":{"Days":3,"ExpiredObjectDeleteMarker":true})"), kMalformed,
       M("Rules[0].Expiration must hold exactly one of Days, Date and ExpiredObjectDeleteMarker")},
      {"Days as a string", One(R"("Filter":{},"Expiration":{"Days":"30"})"), kMalformed,
       M("Rules[0].Expiration.Days must be an integer from -2147483648 to 2147483647")},
      {"Days beyond xs:int", One(R"("Filter":{},"Expiration":{"Days":2147483648})"), kMalformed,
       M("Rules[0].Expiration.Days must be an integer from -2147483648 to 2147483647")},
      {"Days with a fraction", One(R"("Filter":{},"Expiration":{"Days":1.5})"), kMalformed,
       M("Rules[0].Expiration.Days must be an integer from -2147483648 to 2147483647")},
      {"a Date that is not ISO 8601",
       One(R"("Filter":{},"Expiration":{"Date":"Fri, 01 Jan 2016 00:00:00 GMT"})"), kMalformed,
       M(R"(Rules[0].Expiration.Date must be an ISO 8601 time such as 2026-01-01T00:00:00.000Z, )"
         R"(not "Fri, 01 Jan 2016 00:00:00 GMT")")},
      {"an unknown storage class",
       One(R"("Filter":{},"Transitions":[{"Days":1,"StorageClass":"glacier"}])"), kMalformed,
       M(R"(Rules[0].Transitions[0].StorageClass must be one of STANDARD_IA, ONEZONE_IA, )"
         R"(INTELLIGENT_TIERING, GLACIER_IR, GLACIER, DEEP_ARCHIVE, not "glacier")")},
      {"a Transition with Days and Date",
       One(R"("Filter":{},"Transitions":[{"Days":1,"Date":"2026-01-01","StorageClass":"GLACIER"}])"),
       kMalformed, M("Rules[0].Transitions[0] must hold exactly one of Days and Date")},
      {"a Transition with neither Days nor Date",
       One(R"("Filter":{},"Transitions":[{"StorageClass":"GLACIER"}])"), kMalformed,
       M("Rules[0].Transitions[0] must hold exactly one of Days and Date")},
      {"a Transition without StorageClass", One(R"("Filter":{},"Transitions":[{"Days":1}])"),
       kMalformed, M("Rules[0].Transitions[0] needs a StorageClass")},
      {"the singular Transition of the deprecated API",
       One(R"("Filter":{},"Transition":{"Days":1,"StorageClass":"GLACIER"})"), kMalformed,
       M(R"(unknown member "Transition" in Rules[0]; expected ID, Filter, Prefix, Status, )"
         R"(Expiration, Transitions, NoncurrentVersionTransitions, NoncurrentVersionExpiration, )"
         R"(AbortIncompleteMultipartUpload)")},
      {"NoncurrentVersionExpiration without NoncurrentDays",
       One(R"("Filter":{},"NoncurrentVersionExpiration":{"NewerNoncurrentVersions":2})"),
       kMalformed, M("Rules[0].NoncurrentVersionExpiration needs NoncurrentDays")},
      {"AbortIncompleteMultipartUpload without DaysAfterInitiation",
       One(R"("Filter":{},"AbortIncompleteMultipartUpload":{})"), kMalformed,
       M("Rules[0].AbortIncompleteMultipartUpload needs DaysAfterInitiation")},
      {"schema faults come before value faults, whichever rule holds them",
       R"({"Rules":[{"Filter":{},"Status":"Enabled","Expiration":{"Days":0}},
                    {"Filter":{},"Status":"on","Expiration":{"Days":1}}]})",
       kMalformed, M(R"(Rules[1].Status must be Enabled or Disabled, not "on")")},

      // Value faults.
      {"no rules", R"({"Rules":[]})", kReq, "At least one lifecycle rule must be specified."},
      {"an unknown TransitionDefaultMinimumObjectSize",
       R"({"TransitionDefaultMinimumObjectSize":"all","Rules":[{"Filter":{},"Status":"Enabled","Expiration":{"Days":1}}]})",
       kReq, "Invalid TransitionDefaultMinimumObjectSize found: all"},
      {"an ID of 256 characters",
       R"({"Rules":[{"ID":")" + id256 +
           R"(","Filter":{},"Status":"Enabled","Expiration":{"Days":1}}]})",
       kArg, "ID length should not exceed allowed limit of 255"},
      {"two rules with one ID",
       R"({"Rules":[{"ID":"x","Filter":{},"Status":"Enabled","Expiration":{"Days":1}},
                    {"ID":"x","Filter":{"Prefix":"a"},"Status":"Enabled","Expiration":{"Days":2}}]})",
       kArg, "Rule ID must be unique. Found same ID for more than one rule"},
      {"a Filter after a rule-level prefix",
       R"({"Rules":[{"ID":"a","Prefix":"a/","Status":"Enabled","Expiration":{"Days":1}},
                    {"ID":"b","Filter":{},"Status":"Enabled","Expiration":{"Days":2}}]})",
       kReq, "Filter element can only be used in Lifecycle V2."},
      {"a rule-level prefix after a Filter",
       R"({"Rules":[{"ID":"a","Filter":{},"Status":"Enabled","Expiration":{"Days":1}},
                    {"ID":"b","Prefix":"a/","Status":"Enabled","Expiration":{"Days":2}}]})",
       kReq,
       "Base level prefix cannot be used in Lifecycle V2, prefixes are only supported in the "
       "Filter."},
      {"an empty tag key",
       One(R"("Filter":{"Tag":{"Key":"","Value":"v"}},"Expiration":{"Days":1})"), kArg,
       "The TagKey you have provided is invalid"},
      {"a tag key of 129 characters",
       One(R"("Filter":{"Tag":{"Key":")" + key129 + R"(","Value":"v"}},"Expiration":{"Days":1})"),
       kArg, "The TagKey you have provided is invalid"},
      {"a tag value of 257 characters",
       One(R"("Filter":{"Tag":{"Key":"k","Value":")" + value257 + R"("}},"Expiration":{"Days":1})"),
       kArg, "The TagValue you have provided is invalid"},
      {"one tag key twice",
       One(R"("Filter":{"And":{"Tags":[{"Key":"k","Value":"1"},{"Key":"k","Value":"2"}]}},
              "Expiration":{"Days":1})"),
       kReq, "Duplicate Tag Keys are not allowed."},
      {"ObjectSizeLessThan 0", One(R"("Filter":{"ObjectSizeLessThan":0},"Expiration":{"Days":1})"),
       kReq, "'ObjectSizeLessThan' should be between 1 and 1099511627776000."},
      {"ObjectSizeGreaterThan -1",
       One(R"("Filter":{"ObjectSizeGreaterThan":-1},"Expiration":{"Days":1})"), kReq,
       "'ObjectSizeGreaterThan' should be between 0 and 1099511627776000."},
      {"ObjectSizeGreaterThan not below ObjectSizeLessThan",
       One(R"("Filter":{"And":{"ObjectSizeGreaterThan":500,"ObjectSizeLessThan":500}},
              "Expiration":{"Days":1})"),
       kReq, "'ObjectSizeLessThan' has to be a value greater than 'ObjectSizeGreaterThan'."},
      {"a rule with no action", One(R"("Filter":{})"), kReq,
       "At least one action needs to be specified in a rule"},
      {"an empty Transitions list is no action", One(R"("Filter":{},"Transitions":[])"), kReq,
       "At least one action needs to be specified in a rule"},
      {"Expiration Days 0", One(R"("Filter":{},"Expiration":{"Days":0})"), kArg,
       "'Days' for Expiration action must be a positive integer"},
      {"an Expiration Date at noon",
       One(R"("Filter":{},"Expiration":{"Date":"2026-01-01T12:00:00Z"})"), kArg,
       "'Date' must be at midnight GMT"},
      {"a Transition Date one second past midnight",
       One(R"("Filter":{},"Transitions":[{"Date":"2026-01-01T00:00:01Z","StorageClass":"GLACIER"}])"),
       kArg, "'Date' must be at midnight GMT"},
      {"ExpiredObjectDeleteMarker with a tag filter",
       One(R"("Filter":{"Tag":{"Key":"k","Value":"v"}},"Expiration":{"ExpiredObjectDeleteMarker":true})"),
       kReq, "ExpiredObjectDeleteMarker cannot be specified with Tags."},
      {"ExpiredObjectDeleteMarker false with a size filter",
       One(R"("Filter":{"ObjectSizeGreaterThan":10},"Expiration":{"ExpiredObjectDeleteMarker":false})"),
       kReq, "ExpiredObjectDeleteMarker cannot be specified with Object Size."},
      {"AbortIncompleteMultipartUpload with tags in And",
       One(R"("Filter":{"And":{"Prefix":"p","Tags":[{"Key":"k","Value":"v"}]}},
              "AbortIncompleteMultipartUpload":{"DaysAfterInitiation":1})"),
       kReq, "AbortIncompleteMultipartUpload cannot be specified with Tags."},
      {"AbortIncompleteMultipartUpload with a size filter",
       One(R"("Filter":{"ObjectSizeLessThan":10},"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":1})"),
       kReq, "AbortIncompleteMultipartUpload cannot be specified with Object Size."},
      {"DaysAfterInitiation 0",
       One(R"("Filter":{},"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":0})"), kArg,
       "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive "
       "integer"},
      {"a transition to STANDARD",
       One(R"("Filter":{},"Transitions":[{"Days":1,"StorageClass":"STANDARD"}])"), kArg,
       "Invalid target Storage class for Transition action"},
      {"a noncurrent transition to REDUCED_REDUNDANCY",
       One(R"("Filter":{},"NoncurrentVersionTransitions":[{"NoncurrentDays":1,"StorageClass":"REDUCED_REDUNDANCY"}])"),
       kArg, "Invalid target Storage class for NoncurrentVersionTransition action"},
      {"Transition Days -1",
       One(R"("Filter":{},"Transitions":[{"Days":-1,"StorageClass":"GLACIER"}])"), kArg,
       "'Days' in Transition action must be nonnegative"},
      {"STANDARD_IA after 29 days",
       One(R"("Filter":{},"Transitions":[{"Days":29,"StorageClass":"STANDARD_IA"}])"), kArg,
       "'Days' in Transition action must be greater than or equal to 30 for storageClass "
       "'STANDARD_IA'"},
      {"ONEZONE_IA after 0 days",
       One(R"("Filter":{},"Transitions":[{"Days":0,"StorageClass":"ONEZONE_IA"}])"), kArg,
       "'Days' in Transition action must be greater than or equal to 30 for storageClass "
       "'ONEZONE_IA'"},
      {"noncurrent STANDARD_IA after 10 days",
       One(R"("Filter":{},"NoncurrentVersionTransitions":[{"NoncurrentDays":10,"StorageClass":"STANDARD_IA"}])"),
       kArg,
       "'NoncurrentDays' in NoncurrentVersionTransition action must be greater than or equal to "
       "30 for storageClass 'STANDARD_IA'"},
      {"NoncurrentDays -1 in a transition",
       One(R"("Filter":{},"NoncurrentVersionTransitions":[{"NoncurrentDays":-1,"StorageClass":"GLACIER"}])"),
       kArg, "'NoncurrentDays' in NoncurrentVersionTransition action must be nonnegative"},
      {"NoncurrentDays 0 in an expiration",
       One(R"("Filter":{},"NoncurrentVersionExpiration":{"NoncurrentDays":0})"), kArg,
       "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer"},
      {"NewerNoncurrentVersions 0",
       One(R"("Filter":{},"NoncurrentVersionExpiration":{"NoncurrentDays":1,"NewerNoncurrentVersions":0})"),
       kArg,
       "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive "
       "integer"},
      {"NewerNoncurrentVersions 101",
       One(R"("Filter":{},"NoncurrentVersionTransitions":[{"NoncurrentDays":1,"StorageClass":"GLACIER","NewerNoncurrentVersions":101}])"),
       kArg,
       "'NewerNoncurrentVersions' for NoncurrentVersionTransition action must not be greater than "
       "100"},
      {"NewerNoncurrentVersions with a rule-level prefix",
       One(R"("Prefix":"","NoncurrentVersionExpiration":{"NoncurrentDays":1,"NewerNoncurrentVersions":2})"),
       kReq, "NewerNoncurrentVersions element can only be used in Lifecycle V2."},
      {"two transitions to one class",
       One(R"("Filter":{"Prefix":""},"Transitions":[{"Days":30,"StorageClass":"GLACIER"},
              {"Days":90,"StorageClass":"GLACIER"}])"),
       kReq,
       "'StorageClass' must be different for 'Transition' actions in same 'Rule' with filter "
       "'(prefix=)'"},
      {"two noncurrent transitions to one class, named by an And filter",
       One(R"("Filter":{"And":{"Prefix":"p/","Tags":[{"Key":"k","Value":"v"}]}},
              "NoncurrentVersionTransitions":[{"NoncurrentDays":30,"StorageClass":"GLACIER"},
              {"NoncurrentDays":90,"StorageClass":"GLACIER"}])"),
       kReq,
       "'StorageClass' must be different for 'NoncurrentVersionTransition' actions in same 'Rule' "
       "with filter '(prefix=p/ and tag={key=k, value=v})'"},
      {"Date and Days mixed between transitions",
       One(R"("Filter":{"Prefix":"logs/"},"Transitions":[{"Days":30,"StorageClass":"GLACIER"},
              {"Date":"2027-01-01","StorageClass":"DEEP_ARCHIVE"}])"),
       kReq,
       "Found mixed 'Date' and 'Days' based Transition actions in lifecycle rule for filter "
       "'(prefix=logs/)'"},
      {"an Expiration Date with Transition Days",
       One(R"("Filter":{},"Transitions":[{"Days":30,"StorageClass":"GLACIER"}],
              "Expiration":{"Date":"2027-01-01"})"),
       kReq,
       "Found mixed 'Date' and 'Days' based Expiration and Transition actions in lifecycle rule "
       "for filter '()'"},
      {"GLACIER 29 days after STANDARD_IA",
       One(R"("Filter":{"Prefix":""},"Transitions":[{"Days":30,"StorageClass":"STANDARD_IA"},
              {"Days":59,"StorageClass":"GLACIER"}])"),
       kArg,
       "'Days' in the 'Transition' action for StorageClass 'GLACIER' for filter '(prefix=)' must "
       "be 30 days more than 'filter '(prefix=)'' in the 'Transition' action for StorageClass "
       "'STANDARD_IA'"},
      {"DEEP_ARCHIVE 30 days after GLACIER (S3's recorded answer)",
       One(R"("Filter":{"Prefix":""},"Transitions":[{"Days":30,"StorageClass":"GLACIER"},
              {"Days":60,"StorageClass":"DEEP_ARCHIVE"}])"),
       kArg,
       "'Days' in the 'Transition' action for StorageClass 'DEEP_ARCHIVE' for filter '(prefix=)' "
       "must be 90 days more than 'filter '(prefix=)'' in the 'Transition' action for "
       "StorageClass 'GLACIER'"},
      {"DEEP_ARCHIVE 89 days after GLACIER_IR",
       One(R"("Filter":{},"Transitions":[{"Days":0,"StorageClass":"GLACIER_IR"},
              {"Days":89,"StorageClass":"DEEP_ARCHIVE"}])"),
       kArg,
       "'Days' in the 'Transition' action for StorageClass 'DEEP_ARCHIVE' for filter '()' must "
       "be 90 days more than 'filter '()'' in the 'Transition' action for StorageClass "
       "'GLACIER_IR'"},
      {"a colder class before a warmer one",
       One(R"("Filter":{"Prefix":""},"Transitions":[{"Days":30,"StorageClass":"GLACIER"},
              {"Days":60,"StorageClass":"STANDARD_IA"}])"),
       kArg,
       "'Days' in the 'Transition' action for StorageClass 'GLACIER' for filter '(prefix=)' must "
       "be 30 days more than 'filter '(prefix=)'' in the 'Transition' action for StorageClass "
       "'STANDARD_IA'"},
      {"GLACIER on the day of INTELLIGENT_TIERING",
       One(R"("Filter":{},"Transitions":[{"Days":30,"StorageClass":"INTELLIGENT_TIERING"},
              {"Days":30,"StorageClass":"GLACIER"}])"),
       kArg,
       "'Days' in the 'Transition' action for StorageClass 'GLACIER' for filter '()' must be at "
       "least one day apart from 'filter '()'' in the 'Transition' action for StorageClass "
       "'INTELLIGENT_TIERING'"},
      {"Dates 14 days apart after STANDARD_IA",
       One(R"("Filter":{},"Transitions":[{"Date":"2026-01-01","StorageClass":"STANDARD_IA"},
              {"Date":"2026-01-15","StorageClass":"GLACIER"}])"),
       kArg,
       "'Date' in the 'Transition' action for StorageClass 'GLACIER' for filter '()' must be 30 "
       "days more than 'filter '()'' in the 'Transition' action for StorageClass 'STANDARD_IA'"},
      {"GLACIER_IR after ONEZONE_IA in one rule",
       One(R"("Filter":{},"Transitions":[{"Days":30,"StorageClass":"ONEZONE_IA"},
              {"Days":120,"StorageClass":"GLACIER_IR"}])"),
       kArg,
       "'StorageClass' 'GLACIER_IR' in the 'Transition' action for filter '()' cannot follow "
       "StorageClass 'ONEZONE_IA': S3 Lifecycle does not transition ONEZONE_IA objects to "
       "GLACIER_IR"},
      {"an expiration on the day of the last transition",
       One(R"("Filter":{},"Transitions":[{"Days":60,"StorageClass":"GLACIER"}],"Expiration":{"Days":60})"),
       kArg,
       "'Days' in the Expiration action for filter '()' must be greater than 'Days' in the "
       "Transition action"},
      {"an expiration Date before the transition Date",
       One(R"("Filter":{},"Transitions":[{"Date":"2027-01-01","StorageClass":"GLACIER"}],
              "Expiration":{"Date":"2026-12-31"})"),
       kArg,
       "'Date' in the Expiration action for filter '()' must be greater than 'Date' in the "
       "Transition action"},
      {"noncurrent DEEP_ARCHIVE 30 days after GLACIER",
       One(R"("Filter":{"Prefix":""},"NoncurrentVersionTransitions":[
              {"NoncurrentDays":30,"StorageClass":"GLACIER"},
              {"NoncurrentDays":60,"StorageClass":"DEEP_ARCHIVE"}])"),
       kArg,
       "'NoncurrentDays' in the 'NoncurrentVersionTransition' action for StorageClass "
       "'DEEP_ARCHIVE' for filter '(prefix=)' must be 90 days more than 'filter '(prefix=)'' in "
       "the 'NoncurrentVersionTransition' action for StorageClass 'GLACIER'"},
      {"a noncurrent expiration not after the noncurrent transition",
       One(R"("Filter":{"Prefix":""},"NoncurrentVersionTransitions":[
              {"NoncurrentDays":30,"StorageClass":"GLACIER"}],
              "NoncurrentVersionExpiration":{"NoncurrentDays":30})"),
       kArg,
       "'NoncurrentDays' in the NoncurrentVersionExpiration action for filter '(prefix=)' must "
       "be greater than 'NoncurrentDays' in the NoncurrentVersionTransition action"},
      {"two rule-level prefixes alike",
       R"({"Rules":[{"ID":"a","Prefix":"logs/","Status":"Enabled","Expiration":{"Days":1}},
                    {"ID":"b","Prefix":"logs/","Status":"Enabled",
                     "AbortIncompleteMultipartUpload":{"DaysAfterInitiation":1}}]})",
       kReq, "Found two rules with same prefix 'logs/'"},
      {"rule-level prefixes overlapping for one action",
       R"({"Rules":[{"ID":"a","Prefix":"logs/","Status":"Enabled","Expiration":{"Days":1}},
                    {"ID":"b","Prefix":"logs/2026/","Status":"Disabled","Expiration":{"Days":9}}]})",
       kReq,
       "Found overlapping prefixes 'logs/' and 'logs/2026/' for same action type 'Expiration'"},
  };
}

TEST_CASE("lifecycle documents are accepted or refused as S3 does", "[lifecycle][config]") {
  const std::vector<Case> cases = Cases();
  std::size_t valid = 0;
  for (const Case& c : cases) {
    INFO(c.name);
    INFO(c.json);
    Result<LifecycleConfiguration> r = ParseLifecycleConfiguration(c.json);
    if (c.code == kOk) {
      ++valid;
      INFO(r.status().ToString());
      CHECK(r.ok());
      continue;
    }
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == c.code);
    CHECK(r.status().message() == c.message);
  }
  CHECK(cases.size() - valid >= 40);
}

TEST_CASE("every valid document reads back as JSON that parses to it", "[lifecycle][config]") {
  for (const Case& c : Cases()) {
    if (c.code != kOk) continue;
    INFO(c.name);
    Result<LifecycleConfiguration> first = ParseLifecycleConfiguration(c.json);
    REQUIRE(first.ok());
    const std::string text = LifecycleConfigurationToJson(*first);
    INFO(text);
    Result<LifecycleConfiguration> second = ParseLifecycleConfiguration(text);
    INFO(second.status().ToString());
    REQUIRE(second.ok());
    CHECK(*second == *first);
    CHECK(LifecycleConfigurationToJson(*second) == text);
  }
}

TEST_CASE("a configuration reads back as get-bucket-lifecycle-configuration prints it",
          "[lifecycle][config]") {
  Result<LifecycleConfiguration> c = ParseLifecycleConfiguration(R"({
    "Rules": [
      {"Status": "Enabled", "ID": "archive",
       "Expiration": {"Days": 3650},
       "Transitions": [{"StorageClass": "DEEP_ARCHIVE", "Days": 365},
                       {"StorageClass": "STANDARD_IA", "Days": 30}],
       "Filter": {"And": {"Tags": [{"Value": "1", "Key": "a"}], "Prefix": "docs/"}}},
      {"ID": "old", "Prefix": "", "Status": "Disabled",
       "NoncurrentVersionTransitions": [{"StorageClass": "GLACIER", "NoncurrentDays": 0}],
       "NoncurrentVersionExpiration": {"NewerNoncurrentVersions": 2, "NoncurrentDays": 90},
       "Expiration": {"Date": "2030-01-01T00:00:00Z"}}
    ]})");
  // The second rule's rule-level Prefix makes the first one's Filter a
  // mixed configuration: S3 refuses it.
  REQUIRE_FALSE(c.ok());

  c = ParseLifecycleConfiguration(R"({
    "TransitionDefaultMinimumObjectSize": "varies_by_storage_class",
    "Rules": [
      {"Status": "Enabled", "ID": "archive",
       "Expiration": {"Days": 3650},
       "Transitions": [{"StorageClass": "DEEP_ARCHIVE", "Days": 365},
                       {"StorageClass": "STANDARD_IA", "Days": 30}],
       "Filter": {"And": {"Tags": [{"Value": "1", "Key": "a"}], "Prefix": "docs/"}}},
      {"ID": "old", "Filter": {"ObjectSizeGreaterThan": 1024}, "Status": "Disabled",
       "NoncurrentVersionTransitions": [{"StorageClass": "GLACIER", "NoncurrentDays": 0}],
       "NoncurrentVersionExpiration": {"NewerNoncurrentVersions": 2, "NoncurrentDays": 90},
       "Expiration": {"Date": "2030-01-01T00:00:00Z"}},
      {"ID": "uploads", "Filter": {}, "Status": "Enabled",
       "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
       "Expiration": {"ExpiredObjectDeleteMarker": true}}
    ]})");
  INFO(c.status().ToString());
  REQUIRE(c.ok());
  REQUIRE(c->rules.size() == 3);
  const Rule& archive = c->rules[0];
  CHECK(archive.id == "archive");
  CHECK(archive.enabled);
  CHECK_FALSE(archive.legacy_prefix);
  CHECK(archive.filter == Filter{.prefix = "docs/", .tags = {{"a", "1"}}});
  CHECK(archive.transitions ==
        std::vector<Transition>{{.days = 365, .storage_class = StorageClass::kDeepArchive},
                                {.days = 30, .storage_class = StorageClass::kStandardIa}});
  CHECK(archive.expiration == Expiration{.days = 3650});
  const Rule& old = c->rules[1];
  CHECK_FALSE(old.enabled);
  CHECK(old.filter == Filter{.size_greater_than = 1024});
  CHECK(old.expiration == Expiration{.date = T("2030-01-01T00:00:00Z")});
  CHECK(old.noncurrent_transitions ==
        std::vector<NoncurrentTransition>{
            {.noncurrent_days = 0, .storage_class = StorageClass::kGlacier}});
  CHECK(old.noncurrent_expiration ==
        NoncurrentExpiration{.noncurrent_days = 90, .newer_noncurrent_versions = 2});
  CHECK(c->rules[2].abort_incomplete_multipart_days == 7);
  CHECK(c->rules[2].expiration == Expiration{.expired_object_delete_marker = true});
  CHECK(c->minimum_size == MinimumSizePolicy::kVariesByStorageClass);

  CHECK(LifecycleConfigurationToJson(*c) == R"({
  "Rules": [
    {
      "ID": "archive",
      "Filter": {
        "And": {
          "Prefix": "docs/",
          "Tags": [
            {
              "Key": "a",
              "Value": "1"
            }
          ]
        }
      },
      "Status": "Enabled",
      "Expiration": {
        "Days": 3650
      },
      "Transitions": [
        {
          "Days": 365,
          "StorageClass": "DEEP_ARCHIVE"
        },
        {
          "Days": 30,
          "StorageClass": "STANDARD_IA"
        }
      ]
    },
    {
      "ID": "old",
      "Filter": {
        "ObjectSizeGreaterThan": 1024
      },
      "Status": "Disabled",
      "Expiration": {
        "Date": "2030-01-01T00:00:00.000Z"
      },
      "NoncurrentVersionExpiration": {
        "NoncurrentDays": 90,
        "NewerNoncurrentVersions": 2
      },
      "NoncurrentVersionTransitions": [
        {
          "NoncurrentDays": 0,
          "StorageClass": "GLACIER"
        }
      ]
    },
    {
      "ID": "uploads",
      "Filter": {},
      "Status": "Enabled",
      "Expiration": {
        "ExpiredObjectDeleteMarker": true
      },
      "AbortIncompleteMultipartUpload": {
        "DaysAfterInitiation": 7
      }
    }
  ],
  "TransitionDefaultMinimumObjectSize": "varies_by_storage_class"
}
)");
}

TEST_CASE("the forms of a filter survive the round trip", "[lifecycle][config]") {
  auto filter_json = [](std::string_view rule) {
    Result<LifecycleConfiguration> c = ParseLifecycleConfiguration(rule);
    INFO(c.status().ToString());
    REQUIRE(c.ok());
    const std::string text = LifecycleConfigurationToJson(*c);
    const auto begin = text.find("\"ID\"");
    const auto end = text.find("\"Status\"");
    REQUIRE(begin != std::string::npos);
    REQUIRE(end != std::string::npos);
    std::string part = text.substr(begin, end - begin);
    part.erase(
        std::remove_if(part.begin(), part.end(), [](char ch) { return ch == ' ' || ch == '\n'; }),
        part.end());
    return part;
  };
  CHECK(filter_json(One(R"("Filter":{},"Expiration":{"Days":1})")) == R"("ID":"r","Filter":{},)");
  CHECK(filter_json(One(R"("Filter":{"Prefix":""},"Expiration":{"Days":1})")) ==
        R"("ID":"r","Filter":{"Prefix":""},)");
  CHECK(filter_json(One(R"("Prefix":"","Expiration":{"Days":1})")) == R"("ID":"r","Prefix":"",)");
  CHECK(filter_json(One(R"("Filter":{"Tag":{"Key":"k","Value":""}},"Expiration":{"Days":1})")) ==
        R"("ID":"r","Filter":{"Tag":{"Key":"k","Value":""}},)");
  CHECK(filter_json(One(R"("Filter":{"ObjectSizeLessThan":5},"Expiration":{"Days":1})")) ==
        R"("ID":"r","Filter":{"ObjectSizeLessThan":5},)");
  CHECK(
      filter_json(One(
          R"("Filter":{"And":{"ObjectSizeLessThan":5,"ObjectSizeGreaterThan":1}},"Expiration":{"Days":1})")) ==
      R"("ID":"r","Filter":{"And":{"ObjectSizeGreaterThan":1,"ObjectSizeLessThan":5}},)");
  CHECK(
      filter_json(One(
          R"("Filter":{"And":{"Prefix":"","Tags":[{"Key":"k","Value":"v"}]}},"Expiration":{"Days":1})")) ==
      R"("ID":"r","Filter":{"And":{"Prefix":"","Tags":[{"Key":"k","Value":"v"}]}},)");
}

TEST_CASE("no text is no configuration, and no configuration is no text", "[lifecycle][config]") {
  for (std::string_view empty : {"", " ", "\n\t "}) {
    Result<LifecycleConfiguration> c = ParseLifecycleConfiguration(empty);
    REQUIRE(c.ok());
    CHECK(c->rules.empty());
    CHECK(c->minimum_size == MinimumSizePolicy::kAll128K);
  }
  CHECK(LifecycleConfigurationToJson(LifecycleConfiguration{}).empty());
  CHECK(MinimumSizePolicyName(MinimumSizePolicy::kAll128K) == "all_storage_classes_128K");
  CHECK(MinimumSizePolicyName(MinimumSizePolicy::kVariesByStorageClass) ==
        "varies_by_storage_class");
}

TEST_CASE("a configuration holds at most 1000 rules", "[lifecycle][config]") {
  auto rules = [](int n) {
    std::string doc = R"({"Rules":[)";
    for (int i = 0; i < n; ++i) {
      if (i > 0) doc += ",";
      doc += R"({"ID":"r)" + std::to_string(i) + R"(","Filter":{"Prefix":"p)" + std::to_string(i) +
             R"(/"},"Status":"Enabled","Expiration":{"Days":1}})";
    }
    return doc + "]}";
  };
  Result<LifecycleConfiguration> ok = ParseLifecycleConfiguration(rules(1000));
  REQUIRE(ok.ok());
  CHECK(ok->rules.size() == 1000);
  Result<LifecycleConfiguration> too_many = ParseLifecycleConfiguration(rules(1001));
  REQUIRE_FALSE(too_many.ok());
  CHECK(too_many.status().code() == Code::kInvalidRequest);
  CHECK(too_many.status().message() ==
        "The number of lifecycle rules must not exceed the allowed limit of 1000 rules.");
}

std::string DecodeBase64(std::string_view text) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char ch : text) {
    if (ch == '=') break;
    const auto v = kAlphabet.find(ch);
    REQUIRE(v != std::string_view::npos);
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

TEST_CASE("rules without an ID get one shaped like S3's, the same every time",
          "[lifecycle][config]") {
  const std::string doc = R"({"Rules":[
      {"Filter":{},"Status":"Enabled","Expiration":{"Days":1}},
      {"ID":"","Filter":{},"Status":"Enabled","Expiration":{"Days":1}},
      {"ID":"given","Filter":{},"Status":"Enabled","Expiration":{"Days":2}}]})";
  Result<LifecycleConfiguration> a = ParseLifecycleConfiguration(doc);
  Result<LifecycleConfiguration> b = ParseLifecycleConfiguration(doc);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(*a == *b);
  const std::string& id0 = a->rules[0].id;
  const std::string& id1 = a->rules[1].id;
  CHECK(a->rules[2].id == "given");
  CHECK(id0.size() == 48);
  CHECK(id1.size() == 48);
  CHECK(id0 != id1);  // identical rules, distinct IDs
  // The base64 of a lowercase, hyphenated version-4 UUID.
  const std::string uuid = DecodeBase64(id0);
  REQUIRE(uuid.size() == 36);
  for (std::size_t i = 0; i < uuid.size(); ++i) {
    INFO(uuid);
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      CHECK(uuid[i] == '-');
    } else {
      CHECK(std::string_view("0123456789abcdef").find(uuid[i]) != std::string_view::npos);
    }
  }
  CHECK(uuid[14] == '4');
  CHECK(std::string_view("89ab").find(uuid[19]) != std::string_view::npos);
}

TEST_CASE("the waterfall goes only down", "[lifecycle][config]") {
  using S = StorageClass;
  const std::vector<S> all = {S::kStandard,  S::kStandardIa, S::kIntelligentTiering, S::kOnezoneIa,
                              S::kGlacierIr, S::kGlacier,    S::kDeepArchive};
  // Rows: from; columns: to, in the order of `all`.
  const std::vector<std::vector<int>> allowed = {
      {0, 1, 1, 1, 1, 1, 1},  // STANDARD
      {0, 0, 1, 1, 1, 1, 1},  // STANDARD_IA
      {0, 0, 0, 1, 1, 1, 1},  // INTELLIGENT_TIERING
      {0, 0, 0, 0, 0, 1, 1},  // ONEZONE_IA: not to GLACIER_IR
      {0, 0, 0, 0, 0, 1, 1},  // GLACIER_IR
      {0, 0, 0, 0, 0, 0, 1},  // GLACIER
      {0, 0, 0, 0, 0, 0, 0},  // DEEP_ARCHIVE
  };
  for (std::size_t f = 0; f < all.size(); ++f) {
    for (std::size_t t = 0; t < all.size(); ++t) {
      INFO(tiers::StorageClassName(all[f]) << " -> " << tiers::StorageClassName(all[t]));
      CHECK(CanTransition(all[f], all[t]) == (allowed[f][t] == 1));
    }
  }
}

}  // namespace
}  // namespace shoal::lifecycle
