// Applying config entries to a configuration object, and listing its parameters.
//
// Works on any config with a visit() (sc_models/params.h). In addition to the
// leaves, sections and choices of params.h, a platform-level config may hold a
// vector of per-instance configs:
//
//   struct SystemConfig {
//     IommuConfig iommu;
//     std::vector<DeviceConfig> device = std::vector<DeviceConfig>(1);
//     template <class V> void visit(V& v) {
//       v.section("iommu", iommu);
//       v.instances("device", device, "PCIe endpoints");
//     }
//   };
//
// which gives the keys "device.count" (resizes the vector; new instances take
// the defaults), "device.<i>.atc.ways" (instance i only) and "device.atc.ways"
// (every instance that exists when the line is applied). Entries are applied in
// order, so set the count before per-instance keys.
//
// apply_config_entries() collects one ConfigError per bad entry: an unknown key
// names the closest valid parameter (Levenshtein distance over every name), a bad
// value repeats the value and what was expected (the ParamError text).
#pragma once

#include "platform/config_error.h"
#include "platform/config_file.h"
#include "sc_models/params.h"

#include <string>
#include <vector>

namespace iosim {

// Upper bound on "<name>.count" so a typo cannot allocate millions of configs.
constexpr uint64_t kMaxConfigInstances = 4096;

// Lists parameters. With expand_instances, every existing instance is listed by
// index ("device.0.x", "device.1.x"); otherwise one template row per parameter
// ("device.<i>.x", defaults of a default-constructed instance).
class ConfigLister {
 public:
  explicit ConfigLister(bool expand_instances, std::string prefix = "")
      : expand_(expand_instances), prefix_(std::move(prefix)) {}

  template <class T>
  void operator()(const char* name, T& field, const char* unit, const char* help) {
    out_.push_back({prefix_ + name, format_value(field), unit, help, ""});
  }
  void choice(const char* name, std::string& field, std::initializer_list<const char*> allowed,
              const char* help) {
    ParamLister l(prefix_);
    l.choice(name, field, allowed, help);
    out_.push_back(l.params().front());
  }
  template <class C>
  void section(const char* name, C& sub) {
    ConfigLister child(expand_, prefix_ + name + ".");
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
  bool expand_;
  std::string prefix_;
  std::vector<ParamInfo> out_;
};

// Assigns one parameter by dotted name (see the header comment for instances).
// Throws ParamError for a bad value or a missing instance.
class ConfigAssigner {
 public:
  ConfigAssigner(std::string name, std::string value)
      : name_(std::move(name)), value_(std::move(value)) {}

  template <class T>
  void operator()(const char* name, T& field, const char*, const char*) {
    if (!found_ && prefix_ + name == name_) {
      parse_value(value_, field);
      found_ = true;
    }
  }
  void choice(const char* name, std::string& field, std::initializer_list<const char*> allowed,
              const char* help) {
    if (found_ || prefix_ + name != name_) return;
    ParamAssigner a(name_.substr(prefix_.size()), value_);
    a.choice(name, field, allowed, help);
    found_ = a.found();
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
      parse_unsigned(value_, kMaxConfigInstances, n);
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
      ConfigAssigner probe(tail, value_);
      proto.visit(probe);  // validates the name (and value) first
      if (!probe.found()) return;
      throw ParamError("instance " + std::to_string(index) + " of '" + prefix_ + name +
                       "' does not exist (" + prefix_ + name +
                       ".count = " + std::to_string(vec.size()) + ")");
    }
    ConfigAssigner inner(tail, value_);
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

template <class C>
std::vector<ParamInfo> list_config_params(C& cfg, bool expand_instances) {
  ConfigLister l(expand_instances);
  cfg.visit(l);
  return l.params();
}

// Levenshtein distance.
size_t edit_distance(const std::string& a, const std::string& b);
// The candidate closest to name (first one on ties); empty when there is none.
std::string closest_name(const std::string& name, const std::vector<std::string>& candidates);

// Applies the entries in order; every failure becomes one ConfigError.
template <class C>
void apply_config_entries(C& cfg, const std::vector<ConfigEntry>& entries,
                          std::vector<ConfigError>& errors) {
  for (const ConfigEntry& e : entries) {
    try {
      ConfigAssigner a(e.key, e.value);
      cfg.visit(a);
      if (a.found()) continue;
      std::vector<std::string> names;
      for (bool expand : {true, false}) {
        for (const ParamInfo& p : list_config_params(cfg, expand)) names.push_back(p.name);
      }
      std::string best = closest_name(e.key, names);
      errors.push_back({e.file, e.line, std::nullopt, e.key,
                        "unknown parameter" +
                            (best.empty() ? std::string() : "; did you mean '" + best + "'?")});
    } catch (const ParamError& err) {
      errors.push_back(
          {e.file, e.line, std::nullopt, e.key, "bad value '" + e.value + "': " + err.what()});
    }
  }
}

}  // namespace iosim
