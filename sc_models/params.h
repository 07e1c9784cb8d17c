// Parameter description and assignment.
//
// Every module configuration is a plain struct with named defaults that lists its
// fields through a visit() member:
//
//   struct MemoryConfig {
//     uint64_t access_latency_ns = 50;
//     template <class V> void visit(V& v) {
//       v("access_latency_ns", access_latency_ns, "ns", "DRAM access latency");
//     }
//   };
//
// Nested configurations use v.section("name", sub) and enumerated choices
// v.choice("name", field, {"a", "b"}, "help"). Visitors list the parameters with
// their defaults (ParamLister) or assign one by dotted name from text
// (ParamAssigner), so a new knob is one line in one struct: --list-params, the
// config parser and the README's reference all come from the same place.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace iosim {

struct ParamInfo {
  std::string name;           // dotted name, e.g. "iommu.iotlb.sets"
  std::string default_value;  // current value as text
  std::string unit;           // "ns", "bytes", "entries", "" ...
  std::string help;           // one line
  std::string choices;        // "a|b|c" for enumerated parameters, else empty
};

// Thrown for a value that does not parse or is out of range.
class ParamError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Text <-> value conversions. parse_value throws ParamError with a message that
// says what was expected.
std::string format_value(bool v);
std::string format_value(double v);
std::string format_value(const std::string& v);
template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
std::string format_value(T v) {
  return std::to_string(v);
}

void parse_value(const std::string& text, bool& out);
void parse_value(const std::string& text, double& out);
void parse_value(const std::string& text, std::string& out);
void parse_unsigned(const std::string& text, uint64_t max, uint64_t& out);
void parse_signed(const std::string& text, int64_t min, int64_t max, int64_t& out);
template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
void parse_value(const std::string& text, T& out) {
  if constexpr (std::is_unsigned_v<T>) {
    uint64_t v = 0;
    parse_unsigned(text, static_cast<uint64_t>(std::numeric_limits<T>::max()), v);
    out = static_cast<T>(v);
  } else {
    int64_t v = 0;
    parse_signed(text, std::numeric_limits<T>::min(), std::numeric_limits<T>::max(), v);
    out = static_cast<T>(v);
  }
}

// Collects every parameter of a configuration, with its current value.
class ParamLister {
 public:
  explicit ParamLister(std::string prefix = "") : prefix_(std::move(prefix)) {}

  template <class T>
  void operator()(const char* name, T& field, const char* unit, const char* help) {
    out_.push_back({prefix_ + name, format_value(field), unit, help, ""});
  }
  void choice(const char* name, std::string& field, std::initializer_list<const char*> allowed,
              const char* help);
  template <class C>
  void section(const char* name, C& sub) {
    ParamLister child(prefix_ + name + ".");
    sub.visit(child);
    out_.insert(out_.end(), child.out_.begin(), child.out_.end());
  }
  const std::vector<ParamInfo>& params() const { return out_; }

 private:
  std::string prefix_;
  std::vector<ParamInfo> out_;
};

// Assigns one parameter by dotted name. found() tells whether the name matched.
class ParamAssigner {
 public:
  ParamAssigner(std::string name, std::string value)
      : name_(std::move(name)), value_(std::move(value)) {}

  template <class T>
  void operator()(const char* name, T& field, const char*, const char*) {
    if (!found_ && prefix_ + name == name_) {
      parse_value(value_, field);
      found_ = true;
    }
  }
  void choice(const char* name, std::string& field, std::initializer_list<const char*> allowed,
              const char* help);
  template <class C>
  void section(const char* name, C& sub) {
    std::string saved = prefix_;
    prefix_ += std::string(name) + ".";
    if (name_.compare(0, prefix_.size(), prefix_) == 0) sub.visit(*this);
    prefix_ = saved;
  }
  bool found() const { return found_; }

 private:
  std::string name_, value_, prefix_;
  bool found_ = false;
};

// Lists the parameters of a configuration object.
template <class C>
std::vector<ParamInfo> list_params(C& cfg, const std::string& prefix = "") {
  ParamLister l(prefix);
  cfg.visit(l);
  return l.params();
}

// Assigns one parameter; returns false when no parameter has that name, throws
// ParamError when the value is invalid.
template <class C>
bool assign_param(C& cfg, const std::string& name, const std::string& value) {
  ParamAssigner a(name, value);
  cfg.visit(a);
  return a.found();
}

}  // namespace iosim
