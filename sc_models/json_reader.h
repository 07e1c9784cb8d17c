// A minimal JSON reader (RFC 8259), for tests and tools that read back the stats
// dump or the Chrome trace.
//
//   JsonValue v = parse_json(text);
//   double p50 = v["top"]["iommu"]["inv_latency"]["p50"].number();
//
// Objects keep their members in file order (so tests can check key order); lookup
// by key is a linear scan, which is fine for the documents this project writes.
// \uXXXX escapes (with surrogate pairs) are decoded to UTF-8.
//
// Simplifications: numbers are held as double (integers above 2^53 lose precision);
// duplicate keys are kept, lookup returns the first. Errors throw
// std::invalid_argument with the byte offset; a wrong-type access or a missing key
// throws std::out_of_range.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace iosim {

class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  using Member = std::pair<std::string, JsonValue>;

  JsonValue() = default;  // null
  static JsonValue make_bool(bool b);
  static JsonValue make_number(double d);
  static JsonValue make_string(std::string s);
  static JsonValue make_array(std::vector<JsonValue> items);
  static JsonValue make_object(std::vector<Member> members);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  bool boolean() const;
  double number() const;
  const std::string& str() const;
  const std::vector<JsonValue>& items() const;  // array elements
  const std::vector<Member>& members() const;   // object members in file order

  size_t size() const;  // array or object size
  bool has(std::string_view key) const;
  const JsonValue& operator[](std::string_view key) const;
  const JsonValue& operator[](size_t index) const;
  std::vector<std::string> keys() const;

 private:
  void expect(Type t, const char* what) const;

  Type type_ = Type::kNull;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<JsonValue> items_;
  std::vector<Member> members_;
};

// Parses one JSON document (surrounding whitespace allowed).
JsonValue parse_json(std::string_view text);

}  // namespace iosim
