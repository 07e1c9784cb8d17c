#include "platform/cli.h"
#include "platform/output_file.h"
#include "platform/param_table.h"
#include "platform/report.h"
#include "test_system_config.h"

#include <gtest/gtest.h>
#include <systemc>

#include <unistd.h>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace iosim {
namespace {

namespace fs = std::filesystem;

CliOptions parse(std::vector<const char*> args) {
  args.insert(args.begin(), "iommu-sim");
  return parse_cli(static_cast<int>(args.size()), args.data());
}

std::string usage_error(std::vector<const char*> args) {
  try {
    parse(args);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "no error";
}

fs::path temp_dir() {
  fs::path p = fs::temp_directory_path() / ("iosim_cli_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

TEST(Cli, ParsesEveryOption) {
  CliOptions o = parse({"sys.cfg", "--set", "a.b=1", "--set=c=2", "--stats", "s.json", "--trace",
                        "t.json", "--timeline", "--seed", "0x10", "--list-params"});
  EXPECT_EQ(o.config, "sys.cfg");
  EXPECT_EQ(o.sets, (std::vector<std::string>{"a.b=1", "c=2"}));
  EXPECT_EQ(o.stats_file, "s.json");
  EXPECT_EQ(o.trace_file, "t.json");
  EXPECT_TRUE(o.timeline);
  EXPECT_EQ(o.seed, 16u);
  EXPECT_TRUE(o.list_params);
  EXPECT_FALSE(o.help);
  CliOptions s = parse({"sys.cfg", "--sweep", "x=1,2", "--sweep", "y=a,b,c", "--jobs", "3",
                        "--sweep-out", "out.csv", "--help", "--version"});
  ASSERT_EQ(s.sweeps.size(), 2u);
  EXPECT_EQ(s.sweeps[1].key, "y");
  EXPECT_EQ(s.sweeps[1].values, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(s.jobs, 3u);
  EXPECT_EQ(s.sweep_out, "out.csv");
  EXPECT_TRUE(s.help);
  EXPECT_TRUE(s.version);
  EXPECT_FALSE(s.seed.has_value());
  EXPECT_EQ(parse({"--version"}).config, "");
}

TEST(Cli, UsageErrors) {
  EXPECT_EQ(usage_error({}), "missing CONFIG file");
  EXPECT_EQ(usage_error({"a.cfg", "--frobnicate"}), "unrecognised option '--frobnicate'");
  EXPECT_NE(usage_error({"a.cfg", "b.cfg"}).find("too many positional options"), std::string::npos);
  EXPECT_NE(usage_error({"a.cfg", "--stats"}).find("missing"), std::string::npos);
  EXPECT_EQ(usage_error({"a.cfg", "--seed", "soon"}),
            "--seed: 'soon' is not a non-negative integer (decimal, 0x hex, optional K/M/G/T "
            "suffix)");
  EXPECT_EQ(usage_error({"a.cfg", "--sweep", "x=1", "--jobs", "0"}), "--jobs: must be at least 1");
  EXPECT_EQ(usage_error({"a.cfg", "--sweep-out", "o.csv"}), "--sweep-out needs --sweep");
  EXPECT_EQ(usage_error({"a.cfg", "--sweep", "novalues"}),
            "--sweep expects key=v1,v2,..., got 'novalues'");
  EXPECT_EQ(usage_error({"a.cfg", "--sweep", "x=1,,2"}), "--sweep x: empty value in list");
  EXPECT_EQ(usage_error({"a.cfg", "--sweep", "x=1", "--sweep", "x=2"}), "--sweep x given twice");
  EXPECT_EQ(usage_error({"a.cfg", "--sweep", "x=1", "--stats", "s.json"}),
            "--stats, --trace and --timeline cannot be used with --sweep");
  EXPECT_EQ(usage_error({"a.cfg", "--stats", "o.json", "--trace", "o.json"}),
            "--stats and --trace name the same file");
  EXPECT_EQ(usage_error({"a.cfg", "--max-points", "5"}), "--max-points needs --sweep");
  EXPECT_EQ(usage_error({"a.cfg", "--sweep", "x=1", "--max-points", "1000001"}),
            "--max-points: at most 1000000");
}

TEST(Cli, SeedIsRefusedWithASeedSweep) {
  // --seed would override every point's sim.seed: rows labelled 1, 2, 3 would all
  // run seed 5.
  EXPECT_EQ(usage_error({"a.cfg", "--sweep", "sim.seed=1,2,3", "--seed", "5"}),
            "--seed cannot be used with --sweep sim.seed: the sweep sets each point's seed (drop "
            "--seed)");
  // Without a seed sweep, --seed goes to every point.
  CliOptions o = parse({"a.cfg", "--sweep", "x=1,2", "--seed", "5"});
  EXPECT_EQ(o.seed, 5u);
  EXPECT_NE(cli_usage().find("overrides sim.seed; refused with --sweep"), std::string::npos);
}

TEST(Cli, SweepSizeIsCheckedBeforeExpanding) {
  // Three axes of 1000 values: 10^9 points are refused without being expanded.
  std::string values;
  for (int i = 0; i < 1000; ++i) values += (i ? "," : "") + std::to_string(i);
  const std::string a = "a=" + values, b = "b=" + values, c = "c=" + values;
  EXPECT_EQ(
      usage_error({"x.cfg", "--sweep", a.c_str(), "--sweep", b.c_str(), "--sweep", c.c_str()}),
      "--sweep: 1000 x 1000 x 1000 = 1000000000 points, more than the limit of 10000 "
      "(raise it with --max-points N, at most 1000000)");
  EXPECT_EQ(usage_error({"x.cfg", "--sweep", a.c_str(), "--sweep", "b=1,2,3,4,5,6,7,8,9,10,11"}),
            "--sweep: 1000 x 11 = 11000 points, more than the limit of 10000 (raise it with "
            "--max-points N, at most 1000000)");
  CliOptions o = parse({"x.cfg", "--sweep", a.c_str(), "--sweep", "b=1,2,3,4,5,6,7,8,9,10,11",
                        "--max-points", "11000"});
  EXPECT_EQ(o.max_points, 11000u);
  EXPECT_EQ(expand_sweep(o.sweeps, o.max_points).size(), 11000u);
  EXPECT_THROW(expand_sweep(o.sweeps, 10999), std::length_error);
}

// A Simulation that only records what it was given and writes its output files;
// fail_run makes run() throw like a builder that finds bad input.
class RecordingSimulation : public ConfiguredSimulation<testcfg::SystemCfg> {
 public:
  bool fail_run = false;
  bool exhaust_memory = false;
  RunOptions seen;
  int runs = 0;

 protected:
  int run_config(const testcfg::SystemCfg& cfg, const RunOptions& opts,
                 std::ostream& out) override {
    ++runs;
    seen = opts;
    if (!opts.stats_path.empty()) std::ofstream(opts.stats_path) << "{\"partial\": true";
    if (!opts.trace_path.empty()) std::ofstream(opts.trace_path) << "[]";
    if (exhaust_memory) throw std::bad_alloc();
    if (fail_run) throw std::runtime_error("script.scn:3:7: expected a duration such as 100ns");
    out << "walk " << cfg.iommu.walk_latency_ns << "\n";
    return kExitOk;
  }
};

int run(std::vector<const char*> args, Simulation* sim, std::string& out, std::string& err) {
  args.insert(args.begin(), "iommu-sim");
  std::ostringstream o, e;
  CliEnvironment env;
  env.simulation = sim;
  int status = run_cli(static_cast<int>(args.size()), args.data(), env, o, e);
  out = o.str();
  err = e.str();
  return status;
}

TEST(Cli, SuccessfulRunRenamesOutputsIntoPlace) {
  fs::path dir = temp_dir();
  std::string cfg = (dir / "sys.cfg").string(), stats = (dir / "s.json").string();
  std::ofstream(cfg) << "[iommu]\nwalk_latency_ns = 300\n";
  RecordingSimulation sim;
  std::string out, err;
  EXPECT_EQ(run({cfg.c_str(), "--set", "iommu.walk_latency_ns=400", "--stats", stats.c_str(),
                 "--seed", "9", "--timeline"},
                &sim, out, err),
            kExitOk);
  EXPECT_EQ(out, "walk 400\n");
  EXPECT_EQ(err, "");
  EXPECT_EQ(sim.seen.stats_path, stats + ".partial-" + std::to_string(::getpid()));
  EXPECT_EQ(sim.seen.seed, 9u);
  EXPECT_TRUE(sim.seen.timeline);
  EXPECT_TRUE(fs::exists(stats));
  EXPECT_FALSE(fs::exists(sim.seen.stats_path));
  fs::remove_all(dir);
}

TEST(Cli, FailedRunsLeaveNoOutputFiles) {
  fs::path dir = temp_dir();
  std::string cfg = (dir / "sys.cfg").string(), stats = (dir / "s.json").string();
  std::string trace = (dir / "t.json").string();
  std::ofstream(cfg) << "[iommu]\nwalk_latncy_ns = 300\n";
  RecordingSimulation sim;
  std::string out, err;
  // Bad key: reported with file:line and suggestion; the simulation never runs.
  EXPECT_EQ(run({cfg.c_str(), "--stats", stats.c_str()}, &sim, out, err), kExitBadInput);
  EXPECT_EQ(err, cfg +
                     ":2: iommu.walk_latncy_ns: unknown parameter; did you mean "
                     "'iommu.walk_latency_ns'?\n");
  EXPECT_EQ(sim.runs, 0);
  // Error found during the run: the partial stats file is removed.
  std::ofstream(cfg) << "[iommu]\nwalk_latency_ns = 300\n";
  sim.fail_run = true;
  EXPECT_EQ(run({cfg.c_str(), "--stats", stats.c_str(), "--trace", trace.c_str()}, &sim, out, err),
            kExitBadInput);
  EXPECT_EQ(err, "iommu-sim: script.scn:3:7: expected a duration such as 100ns\n");
  EXPECT_EQ(sim.runs, 1);
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(dir)) left.push_back(e.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{"sys.cfg"});
  fs::remove_all(dir);
}

std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(dir)) left.push_back(e.path().filename().string());
  std::sort(left.begin(), left.end());
  return left;
}

TEST(Cli, AnUnwritableOutputStopsTheRunBeforeItStartsAndLeavesNothing) {
  fs::path dir = temp_dir();
  std::string cfg = (dir / "sys.cfg").string(), stats = (dir / "s.json").string();
  fs::create_directories(dir / "adir");
  std::ofstream(cfg) << "[iommu]\nwalk_latency_ns = 300\n";
  RecordingSimulation sim;
  std::string out, err;
  // The trace names a directory: refused before the run, so no stats file either.
  const std::string adir = (dir / "adir").string();
  EXPECT_EQ(run({cfg.c_str(), "--stats", stats.c_str(), "--trace", adir.c_str()}, &sim, out, err),
            kExitBadInput);
  EXPECT_EQ(err, "iommu-sim: --trace: cannot write '" + adir + "': it is a directory\n");
  EXPECT_EQ(sim.runs, 0);
  EXPECT_EQ(files_in(dir), (std::vector<std::string>{"adir", "sys.cfg"}));
  // A stats file in a directory that does not exist.
  const std::string nowhere = (dir / "none" / "s.json").string();
  EXPECT_EQ(
      run({cfg.c_str(), "--stats", nowhere.c_str(), "--trace", stats.c_str()}, &sim, out, err),
      kExitBadInput);
  EXPECT_EQ(err, "iommu-sim: --stats: cannot write '" + nowhere + "': No such file or directory\n");
  EXPECT_EQ(sim.runs, 0);
  EXPECT_EQ(files_in(dir), (std::vector<std::string>{"adir", "sys.cfg"}));
  // Both writable: both written.
  const std::string trace = (dir / "t.json").string();
  EXPECT_EQ(run({cfg.c_str(), "--stats", stats.c_str(), "--trace", trace.c_str()}, &sim, out, err),
            kExitOk);
  EXPECT_EQ(files_in(dir), (std::vector<std::string>{"adir", "s.json", "sys.cfg", "t.json"}));
  fs::remove_all(dir);
}

TEST(Cli, CommitIsAllOrNothing) {
  fs::path dir = temp_dir();
  OutputFile a((dir / "a.json").string()), b((dir / "b.json").string());
  ASSERT_TRUE(a.prepare());
  ASSERT_TRUE(b.prepare());
  std::ofstream(a.temp_path()) << "a";
  std::ofstream(b.temp_path()) << "b";
  // b's final name becomes a directory between the check and the commit.
  fs::create_directories(dir / "b.json" / "x");
  std::string error;
  EXPECT_FALSE(commit_outputs({&a, &b}, error));
  EXPECT_NE(error.find("cannot write '" + (dir / "b.json").string() + "'"), std::string::npos);
  EXPECT_EQ(files_in(dir), std::vector<std::string>{"b.json"});  // a.json was taken back
  fs::remove_all(dir);
}

TEST(Cli, AnInternalErrorIsStatus3NotTheCheckersStatus1) {
  fs::path dir = temp_dir();
  std::string cfg = (dir / "sys.cfg").string(), stats = (dir / "s.json").string();
  std::ofstream(cfg) << "[iommu]\nwalk_latency_ns = 300\n";
  RecordingSimulation sim;
  sim.exhaust_memory = true;
  std::string out, err;
  EXPECT_EQ(run({cfg.c_str(), "--stats", stats.c_str()}, &sim, out, err), kExitInternal);
  EXPECT_EQ(err, "iommu-sim: internal error: out of host memory (std::bad_alloc)\n");
  EXPECT_EQ(out, "");
  EXPECT_EQ(files_in(dir), std::vector<std::string>{"sys.cfg"});
  EXPECT_NE(cli_usage().find("3 internal error"), std::string::npos);
  fs::remove_all(dir);
}

TEST(Cli, SweepOutDashWritesTheCsvToStdout) {
  fs::path dir = temp_dir();
  std::string cfg = (dir / "sys.cfg").string();
  std::ofstream(cfg) << "[iommu]\nwalk_latency_ns = 300\n";
  const fs::path cwd = fs::current_path();
  fs::current_path(dir);
  RecordingSimulation sim;
  std::vector<const char*> args{"iommu-sim",   cfg.c_str(), "--sweep", "iommu.walk_latency_ns=1,2",
                                "--sweep-out", "-"};
  std::ostringstream o, e;
  CliEnvironment env;
  env.simulation = &sim;
  env.self_executable = "/nonexistent/iommu-sim";  // every point: status 127
  EXPECT_EQ(run_cli(static_cast<int>(args.size()), args.data(), env, o, e), kExitOk);
  fs::current_path(cwd);
  const std::string empty(summary_columns().size(), ',');
  std::string header = "iommu.walk_latency_ns";
  for (const std::string& c : summary_columns()) header += "," + c;
  EXPECT_EQ(o.str(), header + ",exit_status\n1" + empty + ",127\n2" + empty + ",127\n");
  EXPECT_EQ(files_in(dir), std::vector<std::string>{"sys.cfg"});  // no file named '-'
  fs::remove_all(dir);
}

TEST(Cli, SlurmNeedsASweepAndASharedStatsDirectory) {
  EXPECT_EQ(usage_error({"a.cfg", "--slurm"}), "--slurm needs --sweep");
  EXPECT_EQ(usage_error({"a.cfg", "--sweep", "x=1", "--slurm"}),
            "--slurm needs --stats-dir DIR: the array tasks write their stats there, so it must "
            "be on a file system the compute nodes share");
  EXPECT_EQ(usage_error({"a.cfg", "--sweep", "x=1", "--slurm-opt=--partition=p"}),
            "--slurm-opt needs --slurm");
  CliOptions o = parse({"a.cfg", "--sweep", "x=1", "--stats-dir", "d", "--slurm",
                        "--slurm-opt=--partition=p", "--slurm-opt", "--time=5"});
  EXPECT_TRUE(o.slurm);
  EXPECT_EQ(o.slurm_opts, (std::vector<std::string>{"--partition=p", "--time=5"}));
  EXPECT_FALSE(o.jobs_given);
  EXPECT_TRUE(parse({"a.cfg", "--sweep", "x=1", "--jobs", "1"}).jobs_given);
}

// sbatch that cannot be run: exit 2 with a message, no CSV.
TEST(Cli, SlurmWithoutSbatchSaysSo) {
  fs::path dir = temp_dir();
  std::string cfg = (dir / "sys.cfg").string();
  std::ofstream(cfg) << "[iommu]\nwalk_latency_ns = 300\n";
  const std::string stats = (dir / "points").string();
  std::vector<const char*> args{
      "iommu-sim", cfg.c_str(),   "--sweep",    "iommu.walk_latency_ns=1,2",
      "--slurm",   "--stats-dir", stats.c_str()};
  RecordingSimulation sim;
  CliEnvironment env;
  env.simulation = &sim;
  env.sbatch = "/nonexistent/sbatch";
  std::ostringstream o, e;
  EXPECT_EQ(run_cli(static_cast<int>(args.size()), args.data(), env, o, e), kExitBadInput);
  EXPECT_EQ(
      e.str(),
      "iommu-sim: --slurm: cannot run '/nonexistent/sbatch' (is Slurm's client installed?)\n");
  EXPECT_EQ(o.str(), "");
  EXPECT_TRUE(fs::is_empty(stats));  // the job directory is removed
  fs::remove_all(dir);
}

TEST(Cli, StatsDirAndResumeNeedASweepAndADirectory) {
  EXPECT_EQ(usage_error({"a.cfg", "--stats-dir", "d"}), "--stats-dir needs --sweep");
  EXPECT_EQ(usage_error({"a.cfg", "--sweep", "x=1", "--resume"}),
            "--resume needs --stats-dir DIR: a sweep resumes from the point stats kept there");
  EXPECT_EQ(usage_error({"a.cfg", "--sweep", "x=1", "--stats-dir", ""}), "--stats-dir: empty path");
  CliOptions o = parse({"a.cfg", "--sweep", "x=1", "--stats-dir", "d", "--resume"});
  EXPECT_EQ(o.stats_dir, "d");
  EXPECT_TRUE(o.resume);
  std::string out, err;
  RecordingSimulation sim;
  EXPECT_EQ(run({"a.cfg", "--sweep", "x=1", "--resume"}, &sim, out, err), kExitBadInput);
  EXPECT_NE(err.find("--resume needs --stats-dir"), std::string::npos) << err;
  // A stats directory that is a file: refused before any point runs.
  fs::path dir = temp_dir();
  std::string cfg = (dir / "sys.cfg").string();
  std::ofstream(cfg) << "[iommu]\nwalk_latency_ns = 300\n";
  EXPECT_EQ(run({cfg.c_str(), "--sweep", "iommu.walk_latency_ns=1,2", "--stats-dir", cfg.c_str()},
                &sim, out, err),
            kExitBadInput);
  EXPECT_EQ(err.rfind("iommu-sim: --stats-dir: cannot use '" + cfg + "'", 0), 0u) << err;
  EXPECT_EQ(out, "");
  fs::remove_all(dir);
}

TEST(Cli, HelpVersionListParamsAndNoBuilder) {
  RecordingSimulation sim;
  std::string out, err;
  EXPECT_EQ(run({"--help"}, nullptr, out, err), kExitOk);
  EXPECT_NE(out.find("--sweep-out"), std::string::npos);
  EXPECT_EQ(run({"--version"}, nullptr, out, err), kExitOk);
  // The kernel's release (IEEE 1666-2011 8.6.5), whichever IEEE 1666 kernel this is:
  // "<major>.<minor>.<patch>..." as its version macros say.
  const std::string release = sc_core::sc_release();
  EXPECT_EQ(out, "iommu-sim 0.1.0 (SystemC " + release + ")\n");
  EXPECT_EQ(
      release.rfind(std::to_string(SC_VERSION_MAJOR) + "." + std::to_string(SC_VERSION_MINOR) +
                        "." + std::to_string(SC_VERSION_PATCH),
                    0),
      0u)
      << release;
  EXPECT_EQ(run({"--list-params"}, &sim, out, err), kExitOk);
  EXPECT_EQ(out, format_param_table(sim.params()));
  EXPECT_EQ(run({"x.cfg"}, nullptr, out, err), kExitBadInput);
  EXPECT_NE(err.find("no system builder"), std::string::npos);
  EXPECT_EQ(run({"x.cfg", "--jobs"}, &sim, out, err), kExitBadInput);
  EXPECT_EQ(err.rfind("iommu-sim: the required argument for option '--jobs' is missing", 0), 0u);
}

TEST(ParamTable, AlignedTextAndMarkdown) {
  std::vector<ParamInfo> ps{{"iommu.walk_latency_ns", "100", "ns", "page walk latency", ""},
                            {"iommu.flush_policy", "range", "", "policy", "range|full"}};
  EXPECT_EQ(format_param_table(ps),
            "NAME                   DEFAULT  UNIT  CHOICES     HELP\n"
            "iommu.walk_latency_ns  100      ns                page walk latency\n"
            "iommu.flush_policy     range          range|full  policy\n");
  EXPECT_EQ(format_param_markdown(ps),
            "| Parameter | Default | Unit | Choices | Description |\n"
            "|---|---|---|---|---|\n"
            "| `iommu.walk_latency_ns` | `100` | ns |  | page walk latency |\n"
            "| `iommu.flush_policy` | `range` |  | range\\|full | policy |\n");
}

}  // namespace
}  // namespace iosim
