#include "sc_models/observe/json.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace iosim {

namespace {

// True when `s` is printable ASCII without '"' or '\\': written as it is.
bool plain(std::string_view s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') return false;
  }
  return true;
}

// A string as nlohmann escapes it (quotes, backslash, control characters as \u00xx;
// other bytes as they are, invalid UTF-8 replaced); plain ASCII is copied directly
// (the trace writes many short strings).
void append_string(std::string& out, std::string_view s) {
  if (plain(s)) {
    out += '"';
    out += s;
    out += '"';
    return;
  }
  out += Json(std::string(s)).dump(-1, ' ', false, Json::error_handler_t::replace);
}

template <class T>
void append_integer(std::string& out, T v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

void newline(std::string& out, int indent, int depth) {
  if (indent <= 0) return;
  out += '\n';
  out.append(static_cast<size_t>(indent) * static_cast<size_t>(depth), ' ');
}

void append(std::string& out, const Json& v, int indent, int depth) {
  switch (v.type()) {
    case Json::value_t::object: {
      if (v.empty()) {
        out += "{}";
        return;
      }
      out += '{';
      bool first = true;
      for (const auto& [key, value] : v.items()) {
        if (!first) out += ',';
        first = false;
        newline(out, indent, depth + 1);
        append_string(out, key);
        out += indent > 0 ? ": " : ":";
        append(out, value, indent, depth + 1);
      }
      newline(out, indent, depth);
      out += '}';
      return;
    }
    case Json::value_t::array: {
      if (v.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      bool first = true;
      for (const Json& item : v) {
        if (!first) out += ',';
        first = false;
        newline(out, indent, depth + 1);
        append(out, item, indent, depth + 1);
      }
      newline(out, indent, depth);
      out += ']';
      return;
    }
    case Json::value_t::number_float:
      out += json_number_text(v.get<double>());
      return;
    case Json::value_t::string:
      append_string(out, v.get_ref<const std::string&>());
      return;
    case Json::value_t::number_integer:
      append_integer(out, v.get<int64_t>());
      return;
    case Json::value_t::number_unsigned:
      append_integer(out, v.get<uint64_t>());
      return;
    default:  // booleans, null
      out += v.dump();
      return;
  }
}

}  // namespace

std::string json_text(const Json& doc, int indent) {
  std::string out;
  append(out, doc, indent, 0);
  return out;
}

void append_json_string(std::string& out, std::string_view s) {
  append_string(out, s);
}

std::string json_number_text(double d) {
  if (!std::isfinite(d)) return "null";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d);  // shortest round-trip form
  return std::string(buf, res.ptr);
}

Json parse_json(std::string_view text) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    throw std::invalid_argument(e.what());
  }
}

Json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read '" + path + "'");
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) throw std::runtime_error("error reading '" + path + "'");
  try {
    return parse_json(text.str());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(path + ": " + e.what());
  }
}

std::vector<std::string> json_keys(const Json& object) {
  std::vector<std::string> keys;
  if (!object.is_object()) return keys;
  for (const auto& [key, value] : object.items()) keys.push_back(key);
  return keys;
}

}  // namespace iosim
