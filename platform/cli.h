// The iommu-sim command line.
//
//   iommu-sim CONFIG [--set k=v ...] [--stats FILE] [--trace FILE] [--timeline]
//             [--seed N] [--sweep k=v1,v2,... ...] [--jobs N] [--sweep-out FILE.csv|-]
//             [--max-points N] [--stats-dir DIR [--resume]] [--slurm [--slurm-opt ARG ...]]
//             [--list-params [--markdown]] [--list-ops [--markdown]] [--help] [--version]
//
// parse_cli() turns argv into CliOptions (Boost.Program_options) and throws
// UsageError for bad usage. run_cli() is the whole program: it prints help,
// version or the parameter table, or loads CONFIG (with its includes), appends the
// --set overrides, applies them to the Simulation and runs it with its output
// files under temporary names that are renamed only when the run completes; with
// --sweep it runs every point as a child process (platform/sweep.h) and writes
// the CSV (--stats-dir keeps every point's stats, --resume reuses them); with --slurm
// the points run as one Slurm job array instead (platform/slurm_sweep.h). Every input
// error goes to stderr and gives exit status 2.
#pragma once

#include "platform/simulation.h"
#include "platform/sweep.h"

#include <cstdint>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace iosim {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CliOptions {
  std::string config;             // CONFIG (required unless help/version/list-params)
  std::vector<std::string> sets;  // "--set key=value", in order
  std::string stats_file;         // --stats
  std::string trace_file;         // --trace
  bool timeline = false;          // --timeline
  std::optional<uint64_t> seed;   // --seed
  std::vector<SweepAxis> sweeps;  // --sweep, in order
  unsigned jobs = 1;              // --jobs
  bool jobs_given = false;
  std::string sweep_out;          // --sweep-out (CSV; stdout when empty or "-")
  uint64_t max_points = kDefaultMaxSweepPoints;  // --max-points
  bool max_points_given = false;
  std::string stats_dir;          // --stats-dir (sweep: every point's stats JSON)
  bool resume = false;            // --resume (sweep: skip points with complete stats)
  bool slurm = false;             // --slurm (sweep: one Slurm job array)
  std::vector<std::string> slurm_opts;  // --slurm-opt, in order (sbatch options)
  bool list_params = false;       // --list-params
  bool list_ops = false;          // --list-ops (the CPU thread operations)
  bool markdown = false;          // --markdown (with --list-params or --list-ops)
  bool help = false;              // --help
  bool version = false;           // --version
};

// argv[0] is the program name. Throws UsageError.
CliOptions parse_cli(int argc, const char* const argv[]);

// The --help text.
std::string cli_usage();
// The --version line.
std::string cli_version();

struct CliEnvironment {
  Simulation* simulation = nullptr;                // null: no system builder in this build
  std::string self_executable = "/proc/self/exe";  // what sweep points exec
  std::string sbatch = "sbatch";                   // what --slurm submits with
};

// Runs the program; returns the exit status.
int run_cli(int argc, const char* const argv[], const CliEnvironment& env, std::ostream& out,
            std::ostream& err);

}  // namespace iosim
