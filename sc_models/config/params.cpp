// Text conversions for configuration parameters.
#include "sc_models/config/params.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace iosim {

std::string format_value(bool v) {
  return v ? "true" : "false";
}

std::string format_value(double v) {
  std::ostringstream os;
  os.precision(12);
  os << v;
  return os.str();
}

std::string format_value(const std::string& v) {
  return v;
}

void parse_value(const std::string& text, bool& out) {
  if (text == "true" || text == "1" || text == "yes" || text == "on") {
    out = true;
  } else if (text == "false" || text == "0" || text == "no" || text == "off") {
    out = false;
  } else {
    throw ParamError("'" + text + "' is not a boolean (expected true/false, yes/no, on/off, 1/0)");
  }
}

void parse_value(const std::string& text, double& out) {
  const char* s = text.c_str();
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s, &end);
  if (text.empty() || end != s + text.size() || errno == ERANGE || !std::isfinite(v)) {
    throw ParamError("'" + text + "' is not a finite number");
  }
  out = v;
}

void parse_value(const std::string& text, std::string& out) {
  out = text;
}

namespace {

// Accepts decimal or 0x-prefixed hexadecimal, with an optional binary size
// suffix K/KiB, M/MiB, G/GiB, T/TiB (powers of 1024). A leading zero does not
// make a number octal: "010" is ten.
bool parse_magnitude(const std::string& text, uint64_t& out) {
  const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  const uint64_t base = hex ? 16 : 10;
  size_t i = hex ? 2 : 0;
  const size_t first = i;
  uint64_t v = 0;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    int d = -1;
    if (c >= '0' && c <= '9') d = c - '0';
    if (hex && c >= 'a' && c <= 'f') d = c - 'a' + 10;
    if (hex && c >= 'A' && c <= 'F') d = c - 'A' + 10;
    if (d < 0) break;
    if (v > (UINT64_MAX - static_cast<uint64_t>(d)) / base) return false;
    v = v * base + static_cast<uint64_t>(d);
  }
  if (i == first) return false;
  const char* end = text.c_str() + i;
  std::string suffix(end);
  unsigned shift = 0;
  if (suffix.empty()) {
    shift = 0;
  } else if (suffix == "K" || suffix == "KiB") {
    shift = 10;
  } else if (suffix == "M" || suffix == "MiB") {
    shift = 20;
  } else if (suffix == "G" || suffix == "GiB") {
    shift = 30;
  } else if (suffix == "T" || suffix == "TiB") {
    shift = 40;
  } else {
    return false;
  }
  if (shift && (v >> (64 - shift)) != 0) return false;
  out = static_cast<uint64_t>(v) << shift;
  return true;
}

}  // namespace

void parse_unsigned(const std::string& text, uint64_t max, uint64_t& out) {
  uint64_t v = 0;
  if (!parse_magnitude(text, v)) {
    throw ParamError("'" + text +
                     "' is not a non-negative integer (decimal, 0x hex, optional K/M/G/T suffix)");
  }
  if (v > max) {
    throw ParamError("'" + text + "' is out of range (maximum " + std::to_string(max) + ")");
  }
  out = v;
}

void parse_signed(const std::string& text, int64_t min, int64_t max, int64_t& out) {
  bool neg = !text.empty() && text[0] == '-';
  uint64_t mag = 0;
  if (!parse_magnitude(neg ? text.substr(1) : text, mag)) {
    throw ParamError("'" + text + "' is not an integer");
  }
  if (neg) {
    if (mag > static_cast<uint64_t>(max) + 1 || -static_cast<int64_t>(mag - 1) - 1 < min) {
      throw ParamError("'" + text + "' is out of range (minimum " + std::to_string(min) + ")");
    }
    out = -static_cast<int64_t>(mag - 1) - 1;
    if (mag == 0) out = 0;
  } else {
    if (mag > static_cast<uint64_t>(max)) {
      throw ParamError("'" + text + "' is out of range (maximum " + std::to_string(max) + ")");
    }
    out = static_cast<int64_t>(mag);
  }
}

bool ParamAssigner::split_index(const std::string& rest, size_t& index) {
  size_t dot = rest.find('.');
  if (dot == 0 || dot == std::string::npos || dot > 6) return false;
  for (size_t i = 0; i < dot; ++i) {
    if (rest[i] < '0' || rest[i] > '9') return false;
  }
  index = std::stoul(rest.substr(0, dot));
  return true;
}

}  // namespace iosim
