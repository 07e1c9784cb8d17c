// The iommu-sim command line: option parsing and the top-level run.
#include "platform/cli.h"

#include "platform/op_reference.h"
#include "platform/output_file.h"
#include "platform/param_table.h"
#include "platform/slurm_sweep.h"

#include <boost/program_options.hpp>
#include <systemc>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <new>
#include <sstream>

namespace iosim {

namespace po = boost::program_options;

namespace {

po::options_description visible_options() {
  po::options_description d("Options");
  d.add_options()("set",
                  po::value<std::vector<std::string>>()->composing()->value_name("KEY=VALUE"),
                  "override one parameter: section.key=value (repeatable; applied after CONFIG)")(
      "stats", po::value<std::string>()->value_name("FILE"), "write the stats JSON to FILE")(
      "trace", po::value<std::string>()->value_name("FILE"),
      "write a Chrome trace (Perfetto) to FILE")("timeline", po::bool_switch(),
                                                 "print the per-thread text timeline")(
      "seed", po::value<std::string>()->value_name("N"),
      "random seed N (overrides sim.seed; refused with --sweep sim.seed, where the sweep sets "
      "each point's seed)")(
      "sweep", po::value<std::vector<std::string>>()->composing()->value_name("KEY=V1,V2,..."),
      "sweep a parameter: key=v1,v2,... (repeatable; cartesian product)")(
      "jobs", po::value<std::string>()->value_name("N"), "sweep points run at once (default 1)")(
      "sweep-out", po::value<std::string>()->value_name("FILE"),
      "write the sweep CSV to FILE (default, or '-': stdout)")(
      "max-points", po::value<std::string>()->value_name("N"),
      "run a sweep of up to N points (default 10000, at most 1000000)")(
      "stats-dir", po::value<std::string>()->value_name("DIR"),
      "keep every sweep point's stats JSON in DIR, named by its point (created if missing)")(
      "resume", po::bool_switch(),
      "with --stats-dir: do not run points whose stats in DIR are complete; their CSV rows "
      "are rebuilt from them")(
      "slurm", po::bool_switch(),
      "run the sweep as one Slurm job array (needs --stats-dir on a file system the compute "
      "nodes share; --jobs N: at most N tasks at once)")(
      "slurm-opt", po::value<std::vector<std::string>>()->composing()->value_name("ARG"),
      "with --slurm: pass ARG to sbatch (repeatable; write --slurm-opt=--partition=P)")(
      "list-params", po::bool_switch(), "print every parameter with default, unit and help")(
      "list-ops", po::bool_switch(),
      "print every CPU thread operation of a scenario script with its arguments")(
      "markdown", po::bool_switch(),
      "with --list-params or --list-ops: print a Markdown table (the README's reference)")(
      "help", po::bool_switch(), "print this help")("version", po::bool_switch(),
                                                    "print the version");
  return d;
}

uint64_t parse_count(const std::string& option, const std::string& text) {
  uint64_t v = 0;
  try {
    parse_unsigned(text, UINT64_MAX, v);
  } catch (const ParamError& e) {
    throw UsageError("--" + option + ": " + e.what());
  }
  return v;
}

template <class T>
std::optional<T> get(const po::variables_map& vm, const char* name) {
  if (!vm.count(name)) return std::nullopt;
  return vm[name].as<T>();
}

void check_combinations(const CliOptions& o) {
  if (!o.sweep_out.empty() && o.sweeps.empty()) throw UsageError("--sweep-out needs --sweep");
  if (o.max_points_given && o.sweeps.empty()) throw UsageError("--max-points needs --sweep");
  if (!o.stats_dir.empty() && o.sweeps.empty()) throw UsageError("--stats-dir needs --sweep");
  if (o.resume && o.stats_dir.empty()) {
    throw UsageError(
        "--resume needs --stats-dir DIR: a sweep resumes from the point stats kept there");
  }
  if (o.jobs == 0) throw UsageError("--jobs: must be at least 1");
  if (o.slurm && o.sweeps.empty()) throw UsageError("--slurm needs --sweep");
  if (o.slurm && o.stats_dir.empty()) {
    throw UsageError(
        "--slurm needs --stats-dir DIR: the array tasks write their stats there, so it must be "
        "on a file system the compute nodes share");
  }
  if (!o.slurm_opts.empty() && !o.slurm) throw UsageError("--slurm-opt needs --slurm");
  if (!o.sweeps.empty() && (!o.stats_file.empty() || !o.trace_file.empty() || o.timeline)) {
    throw UsageError("--stats, --trace and --timeline cannot be used with --sweep");
  }
  for (size_t i = 0; i < o.sweeps.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (o.sweeps[i].key == o.sweeps[j].key) {
        throw UsageError("--sweep " + o.sweeps[i].key + " given twice");
      }
    }
  }
  for (const SweepAxis& a : o.sweeps) {
    if (a.key == "sim.seed" && o.seed) {
      throw UsageError(
          "--seed cannot be used with --sweep sim.seed: the sweep sets each point's seed (drop "
          "--seed)");
    }
  }
  try {
    check_sweep_size(o.sweeps, o.max_points);
  } catch (const std::length_error& e) {
    throw UsageError(e.what());
  }
  if (!o.stats_file.empty() && o.stats_file == o.trace_file) {
    throw UsageError("--stats and --trace name the same file");
  }
  if (o.list_params && o.list_ops) throw UsageError("--list-params and --list-ops: give one");
  if (o.markdown && !o.list_params && !o.list_ops) {
    throw UsageError("--markdown needs --list-params or --list-ops");
  }
  if (o.config.empty() && !o.help && !o.version && !o.list_params && !o.list_ops) {
    throw UsageError("missing CONFIG file");
  }
}

CliOptions options_from(const po::variables_map& vm) {
  CliOptions o;
  o.config = get<std::string>(vm, "config").value_or("");
  o.sets = get<std::vector<std::string>>(vm, "set").value_or(std::vector<std::string>{});
  o.stats_file = get<std::string>(vm, "stats").value_or("");
  o.trace_file = get<std::string>(vm, "trace").value_or("");
  o.timeline = vm["timeline"].as<bool>();
  if (auto s = get<std::string>(vm, "seed")) o.seed = parse_count("seed", *s);
  for (const std::string& s :
       get<std::vector<std::string>>(vm, "sweep").value_or(std::vector<std::string>{})) {
    try {
      o.sweeps.push_back(parse_sweep_axis(s));
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }
  if (auto j = get<std::string>(vm, "jobs")) {
    uint64_t n = parse_count("jobs", *j);
    if (n > 1024) throw UsageError("--jobs: at most 1024");
    o.jobs = static_cast<unsigned>(n);
    o.jobs_given = true;
  }
  o.sweep_out = get<std::string>(vm, "sweep-out").value_or("");
  if (auto m = get<std::string>(vm, "max-points")) {
    o.max_points = parse_count("max-points", *m);
    if (o.max_points > kMaxSweepPointsLimit) {
      throw UsageError("--max-points: at most " + std::to_string(kMaxSweepPointsLimit));
    }
    o.max_points_given = true;
  }
  o.stats_dir = get<std::string>(vm, "stats-dir").value_or("");
  if (vm.count("stats-dir") && o.stats_dir.empty()) throw UsageError("--stats-dir: empty path");
  o.resume = vm["resume"].as<bool>();
  o.slurm = vm["slurm"].as<bool>();
  o.slurm_opts =
      get<std::vector<std::string>>(vm, "slurm-opt").value_or(std::vector<std::string>{});
  o.list_params = vm["list-params"].as<bool>();
  o.list_ops = vm["list-ops"].as<bool>();
  o.markdown = vm["markdown"].as<bool>();
  o.help = vm["help"].as<bool>();
  o.version = vm["version"].as<bool>();
  return o;
}

// Loads CONFIG and the --set overrides plus extra settings into entries.
void load_entries(const CliOptions& o, const std::vector<Setting>& extra,
                  std::vector<ConfigEntry>& entries, std::vector<ConfigError>& errors) {
  load_config_file(o.config, entries, errors);
  for (const std::string& s : o.sets) parse_set_override(s, entries, errors);
  for (const Setting& s : extra) entries.push_back({s.first, s.second, "--sweep", 0});
}

// An allocation that failed, thrown directly or reported by the SystemC kernel
// (a std::bad_alloc in a process, or a coroutine stack it could not allocate).
bool out_of_host_memory(const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e)) return true;
  const std::string what = e.what();
  return what.find("std::bad_alloc") != std::string::npos ||
         what.find("failed to allocate") != std::string::npos;
}

int run_single(const CliOptions& o, Simulation& sim, std::ostream& out, std::ostream& err) {
  OutputFile stats(o.stats_file), trace(o.trace_file);
  // Every output must be writable before the run: all outputs or none.
  for (auto [f, option] : {std::pair{&stats, "--stats"}, std::pair{&trace, "--trace"}}) {
    if (!f->prepare()) {
      err << "iommu-sim: " << option << ": " << f->error() << "\n";
      return kExitBadInput;
    }
  }
  RunOptions ro{stats.temp_path(), trace.temp_path(), o.timeline, o.seed};
  int status = kExitBadInput;
  try {
    status = sim.run(ro, out);
  } catch (const std::exception& e) {
    if (out_of_host_memory(e)) {
      err << "iommu-sim: internal error: out of host memory (" << e.what() << ")\n";
      return kExitInternal;
    }
    err << "iommu-sim: " << e.what() << "\n";
    return kExitBadInput;
  }
  if (status != kExitOk && status != kExitViolations) return status;
  std::string error;
  if (!commit_outputs({&stats, &trace}, error)) {
    err << "iommu-sim: " << error << "\n";
    return kExitBadInput;
  }
  return status;
}

std::vector<std::string> child_base_args(const CliOptions& o) {
  std::vector<std::string> args{o.config};
  for (const std::string& s : o.sets) {
    args.push_back("--set");
    args.push_back(s);
  }
  if (o.seed) {
    args.push_back("--seed");
    args.push_back(std::to_string(*o.seed));
  }
  return args;
}

int run_sweep_mode(const CliOptions& o, const CliEnvironment& env, std::ostream& out,
                   std::ostream& err) {
  std::vector<SweepPoint> points = expand_sweep(o.sweeps, o.max_points);
  // Check every point's settings before starting any child.
  for (const SweepPoint& p : points) {
    std::vector<ConfigEntry> entries;
    std::vector<ConfigError> errors;
    load_entries(o, p.settings, entries, errors);
    if (errors.empty() && env.simulation) env.simulation->configure(entries, errors);
    if (!errors.empty()) {
      print_errors(err, errors);
      return kExitBadInput;
    }
  }
  const bool to_stdout = o.sweep_out.empty() || o.sweep_out == "-";
  OutputFile csv(to_stdout ? std::string() : o.sweep_out);
  if (!csv.prepare()) {
    err << "iommu-sim: --sweep-out: " << csv.error() << "\n";
    return kExitBadInput;
  }
  if (!o.stats_dir.empty()) {
    try {
      prepare_stats_dir(o.stats_dir);
    } catch (const std::runtime_error& e) {
      err << "iommu-sim: --stats-dir: " << e.what() << "\n";
      return kExitBadInput;
    }
  }
  std::vector<SweepResult> results;
  if (o.slurm) {
    // The tasks run on other hosts: they need the binary's real path.
    std::error_code ec;
    const std::filesystem::path self = std::filesystem::canonical(env.self_executable, ec);
    SlurmOptions slurm{env.sbatch, o.slurm_opts, o.jobs_given ? o.jobs : 0};
    try {
      results = run_sweep_slurm(
          points,
          {ec ? env.self_executable : self.string(), child_base_args(o), 1, o.stats_dir, o.resume},
          slurm, err);
    } catch (const SlurmError& e) {
      err << "iommu-sim: --slurm: " << e.what() << "\n";
      return kExitBadInput;
    }
  } else {
    results =
        run_sweep(points, {env.self_executable, child_base_args(o), o.jobs, o.stats_dir, o.resume});
  }
  if (o.resume) {
    const size_t resumed = static_cast<size_t>(std::count_if(
        results.begin(), results.end(), [](const SweepResult& r) { return r.resumed; }));
    err << "iommu-sim: --resume: " << resumed << " of " << results.size() << " points taken from '"
        << o.stats_dir << "', " << results.size() - resumed << " run\n";
  }
  if (to_stdout) {
    write_sweep_csv(out, o.sweeps, results);
    return kExitOk;
  }
  std::ofstream f(csv.temp_path());
  write_sweep_csv(f, o.sweeps, results);
  f.close();
  if (!f || !csv.commit()) {
    err << "iommu-sim: cannot write '" << o.sweep_out << "'\n";
    return kExitBadInput;
  }
  return kExitOk;
}

int run_checked(int argc, const char* const argv[], const CliEnvironment& env, std::ostream& out,
                std::ostream& err) {
  CliOptions o;
  try {
    o = parse_cli(argc, argv);
  } catch (const UsageError& e) {
    err << "iommu-sim: " << e.what() << "\nTry 'iommu-sim --help'.\n";
    return kExitBadInput;
  }
  if (o.help) {
    out << cli_usage();
    return kExitOk;
  }
  if (o.version) {
    out << cli_version() << "\n";
    return kExitOk;
  }
  if (o.list_ops) {
    out << (o.markdown ? format_op_markdown(cpu_operations()) : format_op_table(cpu_operations()));
    return kExitOk;
  }
  if (!env.simulation && (o.list_params || o.sweeps.empty())) {
    err << "iommu-sim: this build has no system builder yet; only --help and --version work\n";
    return kExitBadInput;
  }
  if (o.list_params) {
    const std::vector<ParamInfo> params = env.simulation->params();
    out << (o.markdown ? format_param_markdown(params) : format_param_table(params));
    return kExitOk;
  }
  if (!o.sweeps.empty()) return run_sweep_mode(o, env, out, err);
  std::vector<ConfigEntry> entries;
  std::vector<ConfigError> errors;
  load_entries(o, {}, entries, errors);
  if (errors.empty()) env.simulation->configure(entries, errors);
  if (!errors.empty()) {
    print_errors(err, errors);
    return kExitBadInput;
  }
  return run_single(o, *env.simulation, out, err);
}

}  // namespace

CliOptions parse_cli(int argc, const char* const argv[]) {
  po::options_description all;
  all.add(visible_options());
  all.add_options()("config", po::value<std::string>(), "CONFIG file");
  po::positional_options_description pos;
  pos.add("config", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  CliOptions o = options_from(vm);
  check_combinations(o);
  return o;
}

std::string cli_usage() {
  std::ostringstream os;
  os << "Usage: iommu-sim CONFIG [options]\n"
        "Simulates the system described by the INI file CONFIG (see --list-params).\n\n"
     << visible_options()
     << "\nExit status: 0 success, 1 checker violations, 2 bad usage or input, 3 internal "
        "error\n(including host memory exhausted).\n";
  return os.str();
}

std::string cli_version() {
  return std::string("iommu-sim 0.1.0 (SystemC ") + sc_core::sc_release() + ")";
}

int run_cli(int argc, const char* const argv[], const CliEnvironment& env, std::ostream& out,
            std::ostream& err) {
  // Nothing escapes: an exception here is the simulator's fault or the host's, and
  // must not end as SystemC's status 1, which is the checkers' verdict.
  try {
    return run_checked(argc, argv, env, out, err);
  } catch (const std::bad_alloc&) {
    err << "iommu-sim: internal error: out of host memory\n";
  } catch (const std::exception& e) {
    err << "iommu-sim: internal error: " << e.what() << "\n";
  } catch (...) {
    err << "iommu-sim: internal error: unknown exception\n";
  }
  return kExitInternal;
}

}  // namespace iosim
