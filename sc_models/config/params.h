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
// Nested configurations use v.section("name", sub), choices
// v.choice("name", field, kTable, "help") (sc_models/config/choice.h: the field holds the
// value the chosen name stands for) and vectors of per-instance
// configurations v.instances("device", vec, "help") (keys "device.count",
// "device.<i>.x" and "device.x", see ParamAssigner). Visitors list the parameters with
// their defaults (ParamLister) or assign one by dotted name from text
// (ParamAssigner), so a new knob is one line in one struct: --list-params, the
// config parser and the README's reference all come from the same place.
#pragma once

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "sc_models/config/choice.h"

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

// Upper bound on "<name>.count" so a typo cannot allocate millions of configs.
constexpr uint64_t kMaxParamInstances = 4096;

// Collects every parameter of a configuration, with its current value. With
// expand_instances, every existing instance of an instances() vector is listed by
// index ("device.0.x", "device.1.x"); otherwise one template row per parameter
// ("device.<i>.x", defaults of a default-constructed instance).
class ParamLister {
 public:
  explicit ParamLister(std::string prefix = "", bool expand_instances = false)
      : prefix_(std::move(prefix)), expand_(expand_instances) {}

  template <class T>
  void operator()(const char* name, T& field, const char* unit, const char* help) {
    out_.push_back({prefix_ + name, format_value(field), unit, help, ""});
  }
  // The help is followed by every name's help: "help (a: ...; b: ...)".
  template <class T>
  void choice(const char* name, T& field, const Choices<T>& choices, const char* help) {
    out_.push_back({prefix_ + name, choices.name_of(field), "",
                    std::string(help) + " (" + choices.help() + ")", choices.names()});
  }
  template <class C>
  void section(const char* name, C& sub) {
    ParamLister child(prefix_ + name + ".", expand_);
    sub.visit(child);
    out_.insert(out_.end(), child.out_.begin(), child.out_.end());
  }
  template <class C>
  void instances(const char* name, std::vector<C>& vec, const char* help) {
    out_.push_back({prefix_ + name + ".count", std::to_string(vec.size()), "instances", help, ""});
    if (expand_) {
      for (size_t i = 0; i < vec.size(); ++i) {
        section((std::string(name) + "." + std::to_string(i)).c_str(), vec[i]);
      }
    } else {
      C proto{};
      section((std::string(name) + ".<i>").c_str(), proto);
    }
  }
  const std::vector<ParamInfo>& params() const { return out_; }

 private:
  std::string prefix_;
  bool expand_;
  std::vector<ParamInfo> out_;
};

// Assigns one parameter by dotted name. found() tells whether the name matched.
// For an instances() vector named "device": "device.count" resizes it (new
// instances take the defaults, at most kMaxParamInstances), "device.2.x" sets x of
// instance 2 only (ParamError when it does not exist) and "device.x" sets x of every
// instance that exists (the name and value are checked even when there is none).
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
  template <class T>
  void choice(const char* name, T& field, const Choices<T>& choices, const char*) {
    if (found_ || prefix_ + name != name_) return;
    const ChoiceValue<T>* c = choices.find(value_);
    if (!c) throw ParamError("'" + value_ + "' is not one of " + choices.names());
    field = c->value;
    found_ = true;
  }
  template <class C>
  void section(const char* name, C& sub) {
    std::string saved = prefix_;
    prefix_ += std::string(name) + ".";
    if (!found_ && name_.compare(0, prefix_.size(), prefix_) == 0) sub.visit(*this);
    prefix_ = saved;
  }
  template <class C>
  void instances(const char* name, std::vector<C>& vec, const char*) {
    std::string base = prefix_ + name + ".";
    if (found_ || name_.compare(0, base.size(), base) != 0) return;
    std::string rest = name_.substr(base.size());
    if (rest == "count") {
      uint64_t n = 0;
      parse_unsigned(value_, kMaxParamInstances, n);
      vec.resize(n);
      found_ = true;
    } else if (size_t index = 0; split_index(rest, index)) {
      assign_instance(name, vec, index, rest.substr(rest.find('.') + 1));
    } else {
      assign_all(name, vec);
    }
  }
  bool found() const { return found_; }

 private:
  // "2.atc.ways" -> index 2; false when rest does not start with digits and '.'.
  static bool split_index(const std::string& rest, size_t& index);

  template <class C>
  void assign_instance(const char* name, std::vector<C>& vec, size_t index,
                       const std::string& tail) {
    if (index >= vec.size()) {
      C proto{};
      ParamAssigner probe(tail, value_);
      proto.visit(probe);  // validates the name (and value) first
      if (!probe.found()) return;
      throw ParamError("instance " + std::to_string(index) + " of '" + prefix_ + name +
                       "' does not exist (" + prefix_ + name +
                       ".count = " + std::to_string(vec.size()) + ")");
    }
    ParamAssigner inner(tail, value_);
    vec[index].visit(inner);
    found_ = inner.found();
  }
  template <class C>
  void assign_all(const char* name, std::vector<C>& vec) {
    C proto{};
    section(name, proto);  // validates name and value even with no instances
    if (!found_) return;
    for (C& c : vec) {
      found_ = false;
      section(name, c);
    }
    found_ = true;
  }

  std::string name_, value_, prefix_;
  bool found_ = false;
};

// Lists the parameters of a configuration object.
template <class C>
std::vector<ParamInfo> list_params(C& cfg, const std::string& prefix = "",
                                   bool expand_instances = false) {
  ParamLister l(prefix, expand_instances);
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
