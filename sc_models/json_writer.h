// A small streaming JSON writer, used for the stats dump and the Chrome trace.
//
//   JsonWriter w(out, 2);             // 2 = pretty-print with 2-space indent, 0 = compact
//   w.begin_object();
//   w.field("name", "iotlb").field("hits", uint64_t{12});
//   w.key("p50").value(123.5);
//   w.end_object();
//
// Keys are written in the order the caller gives them, so output is deterministic.
// Strings are escaped as RFC 8259 requires (quote, backslash, control characters);
// other bytes, including UTF-8 sequences, pass through unchanged. Doubles use the
// shortest text that reads back to the same value; NaN and infinities become null.
//
// Simplification: no validation of UTF-8. Misuse (a value where a key is needed,
// unbalanced end_*) throws std::logic_error.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace iosim {

class JsonWriter {
 public:
  // indent = 0 writes everything on one line; indent > 0 pretty-prints.
  explicit JsonWriter(std::ostream& out, int indent = 0);

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);

  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
  JsonWriter& value(bool b);
  JsonWriter& value(double d);  // non-finite -> null
  template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  JsonWriter& value(T v) {
    if constexpr (std::is_signed_v<T>) {
      return signed_value(static_cast<int64_t>(v));
    } else {
      return unsigned_value(static_cast<uint64_t>(v));
    }
  }
  JsonWriter& null();

  // key(k) followed by value(v).
  template <class T>
  JsonWriter& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }

  // True once the top-level value is complete.
  bool done() const { return stack_.empty() && wrote_top_; }

  // `s` as a quoted, escaped JSON string.
  static std::string quote(std::string_view s);
  // `d` as a JSON number ("null" when not finite).
  static std::string number(double d);

 private:
  enum class Ctx { kObject, kArray };
  struct Level {
    Ctx ctx;
    bool empty = true;
    bool key_pending = false;  // objects: a key was written, its value is due
  };

  JsonWriter& signed_value(int64_t v);
  JsonWriter& unsigned_value(uint64_t v);
  void before_value();  // separators, indentation, and checks for a value
  void open(Ctx c, char bracket);
  void close(Ctx c, char bracket);
  void newline(size_t depth);

  std::ostream& out_;
  int indent_;
  std::vector<Level> stack_;
  bool wrote_top_ = false;
};

}  // namespace iosim
