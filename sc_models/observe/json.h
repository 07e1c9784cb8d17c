// JSON documents: nlohmann-json's ordered_json as the document type, and the text
// the project writes (the stats dump, the Chrome trace, the sweep's point files).
//
//   Json doc = Json::object();
//   doc["name"] = "iotlb";
//   doc["hits"] = uint64_t{12};
//   doc["p50"] = 123.5;
//   std::string text = json_text(doc, 2);        // 2-space indent; 0: one line
//   Json back = parse_json(text);
//   double p50 = back.at("p50").get<double>();
//
// Objects keep their members in insertion (file) order, so output is deterministic
// and tests can check key order. Parsing is nlohmann's (RFC 8259, \uXXXX escapes and
// surrogate pairs decoded to UTF-8, integers kept exact up to 64 bits).
//
// json_text() lays the document out as nlohmann's dump() does ("key": value, one
// member per line when indented, {} and [] when empty) and escapes strings with it,
// but prints a floating-point number as the shortest text that reads back to the
// same value (std::to_chars: 5000, 1e+05, 0.0015, 43692.992209) and NaN or an
// infinity as null. nlohmann prints doubles with Grisu2, which appends ".0" to
// integral values and gives a longer text for about 0.07% of other values
// (43692.992208999996); the stats files keep the shortest form instead, so they read
// the same on every build. Invalid UTF-8 in a string is written as U+FFFD.
// append_json_string() and json_number_text() give the same text for one value, for
// writers that stream members without building a document (sc_models/observe/chrome_trace.h).
#pragma once

#include "sc_models/observe/json_fwd.h"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace iosim {

// The document as text; indent > 0 pretty-prints with that many spaces per level.
std::string json_text(const Json& doc, int indent = 0);

// The shortest text that reads back as `d` ("null" when not finite).
std::string json_number_text(double d);

// Appends `s` as a quoted JSON string, escaped as json_text() escapes it (for text
// built member by member, such as the trace's event lines).
void append_json_string(std::string& out, std::string_view s);

// Parses one document (surrounding whitespace allowed). Throws std::invalid_argument
// saying where and what is wrong.
Json parse_json(std::string_view text);

// Reads and parses a file. Throws std::runtime_error naming the file when it cannot
// be read, std::invalid_argument (with the file name) when it is not JSON.
Json read_json_file(const std::string& path);

// The keys of an object, in order (empty for anything else).
std::vector<std::string> json_keys(const Json& object);

}  // namespace iosim
