// Simulation: the interface between the command line and the system builder.
//
// run_cli() (platform/cli.h) parses the command line and the config files; the
// object behind this interface owns the configuration, applies the entries to it
// and runs one simulation. SystemSimulation (platform/system_simulation.h) implements
// it; given none, run_cli() answers --help, --version, --list-ops and sweeps (whose
// points run as child processes) and refuses everything else.
//
// ConfiguredSimulation<Config> implements the configuration half for any config
// struct with a visit() (see platform/config_params.h), so an implementation only
// writes run_config().
#pragma once

#include "platform/config_error.h"
#include "platform/config_file.h"
#include "platform/config_params.h"
#include "sc_models/config/params.h"

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace iosim {

// Exit statuses of iommu-sim.
constexpr int kExitOk = 0;
constexpr int kExitViolations = 1;  // run completed; checkers found violations
constexpr int kExitBadInput = 2;    // usage, config, script or other input error
constexpr int kExitInternal = 3;    // internal error, including host memory exhausted

struct RunOptions {
  std::string stats_path;  // write the stats JSON here when non-empty (a temporary name)
  std::string trace_path;  // write the Chrome trace here when non-empty (a temporary name)
  bool timeline = false;   // print the text timeline on the output stream
  std::optional<uint64_t> seed;
};

class Simulation {
 public:
  virtual ~Simulation() = default;
  // Every parameter with its default (template rows for per-instance configs).
  virtual std::vector<ParamInfo> params() = 0;
  // Starts from the defaults and applies config entries in order; appends one
  // error per bad entry.
  virtual void configure(const std::vector<ConfigEntry>& entries,
                         std::vector<ConfigError>& errors) = 0;
  // Runs the configured system, prints the human summary on out and writes the
  // files named in opts. Returns kExitOk or kExitViolations; throws
  // std::exception for an input error found while building or running (the
  // message is printed and the status is kExitBadInput).
  virtual int run(const RunOptions& opts, std::ostream& out) = 0;
};

template <class Config>
class ConfiguredSimulation : public Simulation {
 public:
  std::vector<ParamInfo> params() override {
    Config defaults{};
    return list_config_params(defaults, false);
  }
  void configure(const std::vector<ConfigEntry>& entries,
                 std::vector<ConfigError>& errors) override {
    config_ = Config{};
    apply_config_entries(config_, entries, errors);
  }
  int run(const RunOptions& opts, std::ostream& out) override {
    return run_config(config_, opts, out);
  }
  const Config& config() const { return config_; }

 protected:
  virtual int run_config(const Config& config, const RunOptions& opts, std::ostream& out) = 0;

 private:
  Config config_{};
};

}  // namespace iosim
