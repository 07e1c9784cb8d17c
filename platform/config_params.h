// Applying config entries to a configuration object, and listing its parameters.
//
// Works on any config with a visit() (sc_models/config/params.h, whose visitors do the
// work). A platform-level config typically holds a vector of per-instance configs:
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
#include "sc_models/config/params.h"

#include <string>
#include <vector>

namespace iosim {

// Upper bound on "<name>.count" so a typo cannot allocate millions of configs.
constexpr uint64_t kMaxConfigInstances = kMaxParamInstances;

// Lists parameters. With expand_instances, every existing instance is listed by
// index ("device.0.x", "device.1.x"); otherwise one template row per parameter
// ("device.<i>.x", defaults of a default-constructed instance).
template <class C>
std::vector<ParamInfo> list_config_params(C& cfg, bool expand_instances) {
  return list_params(cfg, "", expand_instances);
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
      if (assign_param(cfg, e.key, e.value)) continue;
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
