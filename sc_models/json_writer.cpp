#include "sc_models/json_writer.h"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace iosim {

JsonWriter::JsonWriter(std::ostream& out, int indent)
    : out_(out), indent_(indent < 0 ? 0 : indent) {}

void JsonWriter::newline(size_t depth) {
  if (indent_ == 0) return;
  out_ << '\n';
  for (size_t i = 0; i < depth * static_cast<size_t>(indent_); ++i) out_ << ' ';
}

void JsonWriter::before_value() {
  if (stack_.empty()) {
    if (wrote_top_) throw std::logic_error("JsonWriter: a second top-level value");
    wrote_top_ = true;
    return;
  }
  Level& l = stack_.back();
  if (l.ctx == Ctx::kObject) {
    if (!l.key_pending) throw std::logic_error("JsonWriter: object member without a key");
    l.key_pending = false;
    return;
  }
  if (!l.empty) out_ << ',';
  l.empty = false;
  newline(stack_.size());
}

JsonWriter& JsonWriter::key(std::string_view k) {
  if (stack_.empty() || stack_.back().ctx != Ctx::kObject) {
    throw std::logic_error("JsonWriter: key outside an object");
  }
  Level& l = stack_.back();
  if (l.key_pending) throw std::logic_error("JsonWriter: two keys in a row");
  if (!l.empty) out_ << ',';
  l.empty = false;
  l.key_pending = true;
  newline(stack_.size());
  out_ << quote(k) << (indent_ ? ": " : ":");
  return *this;
}

void JsonWriter::open(Ctx c, char bracket) {
  before_value();
  out_ << bracket;
  stack_.push_back({c});
}

void JsonWriter::close(Ctx c, char bracket) {
  if (stack_.empty() || stack_.back().ctx != c || stack_.back().key_pending) {
    throw std::logic_error("JsonWriter: unbalanced end of object or array");
  }
  bool empty = stack_.back().empty;
  stack_.pop_back();
  if (!empty) newline(stack_.size());
  out_ << bracket;
}

JsonWriter& JsonWriter::begin_object() {
  open(Ctx::kObject, '{');
  return *this;
}
JsonWriter& JsonWriter::end_object() {
  close(Ctx::kObject, '}');
  return *this;
}
JsonWriter& JsonWriter::begin_array() {
  open(Ctx::kArray, '[');
  return *this;
}
JsonWriter& JsonWriter::end_array() {
  close(Ctx::kArray, ']');
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view s) {
  before_value();
  out_ << quote(s);
  return *this;
}

JsonWriter& JsonWriter::value(bool b) {
  before_value();
  out_ << (b ? "true" : "false");
  return *this;
}

JsonWriter& JsonWriter::value(double d) {
  before_value();
  out_ << number(d);
  return *this;
}

JsonWriter& JsonWriter::signed_value(int64_t v) {
  before_value();
  out_ << v;
  return *this;
}

JsonWriter& JsonWriter::unsigned_value(uint64_t v) {
  before_value();
  out_ << v;
  return *this;
}

JsonWriter& JsonWriter::null() {
  before_value();
  out_ << "null";
  return *this;
}

std::string JsonWriter::quote(std::string_view s) {
  static const char* const kHex = "0123456789abcdef";
  std::string r;
  r.reserve(s.size() + 2);
  r += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        r += "\\\"";
        break;
      case '\\':
        r += "\\\\";
        break;
      case '\b':
        r += "\\b";
        break;
      case '\f':
        r += "\\f";
        break;
      case '\n':
        r += "\\n";
        break;
      case '\r':
        r += "\\r";
        break;
      case '\t':
        r += "\\t";
        break;
      default:
        if (c < 0x20) {
          r += "\\u00";
          r += kHex[c >> 4];
          r += kHex[c & 0xf];
        } else {
          r += ch;
        }
    }
  }
  r += '"';
  return r;
}

std::string JsonWriter::number(double d) {
  if (!std::isfinite(d)) return "null";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d);  // shortest round-trip form
  return std::string(buf, res.ptr);
}

}  // namespace iosim
