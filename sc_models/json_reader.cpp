#include "sc_models/json_reader.h"

#include <charconv>
#include <stdexcept>

namespace iosim {

JsonValue JsonValue::make_bool(bool b) {
  JsonValue v;
  v.type_ = Type::kBool;
  v.bool_ = b;
  return v;
}

JsonValue JsonValue::make_number(double d) {
  JsonValue v;
  v.type_ = Type::kNumber;
  v.number_ = d;
  return v;
}

JsonValue JsonValue::make_string(std::string s) {
  JsonValue v;
  v.type_ = Type::kString;
  v.string_ = std::move(s);
  return v;
}

JsonValue JsonValue::make_array(std::vector<JsonValue> items) {
  JsonValue v;
  v.type_ = Type::kArray;
  v.items_ = std::move(items);
  return v;
}

JsonValue JsonValue::make_object(std::vector<Member> members) {
  JsonValue v;
  v.type_ = Type::kObject;
  v.members_ = std::move(members);
  return v;
}

void JsonValue::expect(Type t, const char* what) const {
  if (type_ != t) throw std::out_of_range(std::string("JSON value is not ") + what);
}

bool JsonValue::boolean() const {
  expect(Type::kBool, "a boolean");
  return bool_;
}
double JsonValue::number() const {
  expect(Type::kNumber, "a number");
  return number_;
}
const std::string& JsonValue::str() const {
  expect(Type::kString, "a string");
  return string_;
}
const std::vector<JsonValue>& JsonValue::items() const {
  expect(Type::kArray, "an array");
  return items_;
}
const std::vector<JsonValue::Member>& JsonValue::members() const {
  expect(Type::kObject, "an object");
  return members_;
}

size_t JsonValue::size() const {
  if (type_ == Type::kArray) return items_.size();
  expect(Type::kObject, "an array or object");
  return members_.size();
}

bool JsonValue::has(std::string_view key) const {
  if (type_ != Type::kObject) return false;
  for (const Member& m : members_) {
    if (m.first == key) return true;
  }
  return false;
}

const JsonValue& JsonValue::operator[](std::string_view key) const {
  for (const Member& m : members()) {
    if (m.first == key) return m.second;
  }
  throw std::out_of_range("JSON object has no key '" + std::string(key) + "'");
}

const JsonValue& JsonValue::operator[](size_t index) const {
  const auto& v = items();
  if (index >= v.size()) throw std::out_of_range("JSON array index out of range");
  return v[index];
}

std::vector<std::string> JsonValue::keys() const {
  std::vector<std::string> k;
  for (const Member& m : members()) k.push_back(m.first);
  return k;
}

namespace {

// Recursive-descent parser over a string_view.
class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  JsonValue document() {
    JsonValue v = value(0);
    skip_ws();
    if (pos_ != s_.size()) fail("trailing characters after the document");
    return v;
  }

 private:
  static constexpr int kMaxDepth = 512;

  [[noreturn]] void fail(const std::string& what) const {
    throw std::invalid_argument("JSON parse error at offset " + std::to_string(pos_) + ": " + what);
  }

  void skip_ws() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }

  char peek() {
    skip_ws();
    if (pos_ >= s_.size()) fail("unexpected end of input");
    return s_[pos_];
  }

  void expect_char(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }

  void literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) fail("invalid literal");
    pos_ += word.size();
  }

  JsonValue value(int depth) {
    if (depth > kMaxDepth) fail("nesting too deep");
    char c = peek();
    switch (c) {
      case '{':
        return object(depth);
      case '[':
        return array(depth);
      case '"':
        return JsonValue::make_string(string());
      case 't':
        literal("true");
        return JsonValue::make_bool(true);
      case 'f':
        literal("false");
        return JsonValue::make_bool(false);
      case 'n':
        literal("null");
        return JsonValue();
      default:
        return JsonValue::make_number(number());
    }
  }

  JsonValue object(int depth) {
    expect_char('{');
    std::vector<JsonValue::Member> members;
    if (peek() == '}') {
      ++pos_;
      return JsonValue::make_object(std::move(members));
    }
    for (;;) {
      if (peek() != '"') fail("expected a string key");
      std::string k = string();
      expect_char(':');
      members.emplace_back(std::move(k), value(depth + 1));
      char c = peek();
      ++pos_;
      if (c == '}') break;
      if (c != ',') fail("expected ',' or '}'");
    }
    return JsonValue::make_object(std::move(members));
  }

  JsonValue array(int depth) {
    expect_char('[');
    std::vector<JsonValue> items;
    if (peek() == ']') {
      ++pos_;
      return JsonValue::make_array(std::move(items));
    }
    for (;;) {
      items.push_back(value(depth + 1));
      char c = peek();
      ++pos_;
      if (c == ']') break;
      if (c != ',') fail("expected ',' or ']'");
    }
    return JsonValue::make_array(std::move(items));
  }

  double number() {
    size_t start = pos_;
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    if (pos_ >= s_.size() || !isdigit(s_[pos_])) fail("invalid number");
    if (s_[pos_] == '0') {
      ++pos_;
    } else {
      digits();
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (digits() == 0) fail("digits expected after '.'");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (digits() == 0) fail("digits expected in exponent");
    }
    double d = 0;
    auto res = std::from_chars(s_.data() + start, s_.data() + pos_, d);
    if (res.ec != std::errc() || res.ptr != s_.data() + pos_) fail("number out of range");
    return d;
  }

  static bool isdigit(char c) { return c >= '0' && c <= '9'; }

  size_t digits() {
    size_t n = 0;
    while (pos_ < s_.size() && isdigit(s_[pos_])) ++pos_, ++n;
    return n;
  }

  unsigned hex4() {
    if (pos_ + 4 > s_.size()) fail("truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<unsigned>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<unsigned>(c - 'A' + 10);
      } else {
        fail("bad hex digit in \\u escape");
      }
    }
    return v;
  }

  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  unsigned unicode_escape() {
    unsigned cp = hex4();
    if (cp >= 0xd800 && cp < 0xdc00) {
      if (s_.substr(pos_, 2) != "\\u") fail("unpaired high surrogate");
      pos_ += 2;
      unsigned lo = hex4();
      if (lo < 0xdc00 || lo >= 0xe000) fail("bad low surrogate");
      cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    } else if (cp >= 0xdc00 && cp < 0xe000) {
      fail("unpaired low surrogate");
    }
    return cp;
  }

  void escape(std::string& out) {
    if (pos_ >= s_.size()) fail("unterminated string");
    char c = s_[pos_++];
    switch (c) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u':
        append_utf8(out, unicode_escape());
        break;
      default:
        fail("invalid escape");
    }
  }

  std::string string() {
    expect_char('"');
    std::string out;
    for (;;) {
      if (pos_ >= s_.size()) fail("unterminated string");
      char c = s_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
      if (c == '\\') {
        escape(out);
      } else {
        out += c;
      }
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

JsonValue parse_json(std::string_view text) {
  return Parser(text).document();
}

}  // namespace iosim
