// SystemSimulation: the Simulation behind the iommu-sim command line. It owns a
// SystemConfig (platform/system_config.h), builds a System from it and the scenario
// script it names, runs it, and reports: the checker report, the run summary, the
// stats JSON (--stats), and the scripted threads' results.
//
// Checks before building (each an input error, exit 2): the configuration is valid,
// the script loads, and an ordering-sensitive config (check.ordering_sensitive) is
// not run with a TLM quantum. A run that does not finish by sim.max_time_ns, or
// stalls with work left, is an error too. With check.expect_clean, any checker
// violation gives exit status 1.
//
// The stats JSON holds, besides the stats tree, a "scenario" object: the boot time,
// the PASID of every bind and, per scripted thread, what it saw: CPU loads and OS
// call results, device reads (va, value, time_ns) and errors. Times in it count
// from the start event (the end of boot), like the script's "@T".
#pragma once

#include "platform/scenario.h"
#include "platform/simulation.h"
#include "platform/system_config.h"
#include "sc_models/observe/json_fwd.h"

namespace iosim {

class System;

class SystemSimulation : public ConfiguredSimulation<SystemConfig> {
 public:
  // Resolves scenario.script relative to the file of its entry, then applies.
  void configure(const std::vector<ConfigEntry>& entries,
                 std::vector<ConfigError>& errors) override;

 protected:
  int run_config(const SystemConfig& config, const RunOptions& opts, std::ostream& out) override;
};

// What a scenario script may use of `cfg` (cores, devices, the workload's processes
// and window).
ScenarioLimits scenario_limits(const SystemConfig& cfg);
// The scenario of `cfg`: its scenario.script, or the synthetic workload alone.
Scenario load_configured_scenario(const SystemConfig& cfg);

// The "scenario" object of the stats JSON (see the header comment).
Json scenario_json(System& sys);

}  // namespace iosim
