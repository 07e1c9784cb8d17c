#include "platform/sweep.h"

#include "platform/slurm_sweep.h"

#include "platform/report.h"
#include "sc_models/observe/json.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace iosim {
namespace {

namespace fs = std::filesystem;

TEST(Sweep, TwoKeysTimesThreeValuesGiveSixPointsInOrder) {
  auto pts = expand_sweep({{"a.x", {"1", "2"}}, {"b.y", {"p", "q", "r"}}});
  ASSERT_EQ(pts.size(), 6u);
  const char* want[6][2] = {{"1", "p"}, {"1", "q"}, {"1", "r"}, {"2", "p"}, {"2", "q"}, {"2", "r"}};
  for (size_t i = 0; i < 6; ++i) {
    ASSERT_EQ(pts[i].settings.size(), 2u);
    EXPECT_EQ(pts[i].settings[0], (Setting{"a.x", want[i][0]}));
    EXPECT_EQ(pts[i].settings[1], (Setting{"b.y", want[i][1]}));
  }
  EXPECT_TRUE(expand_sweep({}).empty());
}

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / (name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

// A fake simulator: reads "--set k=v" and "--stats FILE", appends "<x><y>" to `log`
// (one line per run) and writes a stats JSON whose summary depends on the settings:
// y = p adds an inv_wait command kind, y = r a pasid_iotlb one; the point x=2,y=q
// fails with status 3, a line on stderr and no stats.
std::string write_fake_child(const fs::path& dir, const fs::path& log) {
  fs::path p = dir / "fake-sim.sh";
  std::ofstream(p)
      << "#!/bin/sh\n"
         "x=; y=; stats=\n"
         "while [ $# -gt 0 ]; do\n"
         "  case \"$1\" in\n"
         "    --set) case \"$2\" in a.x=*) x=${2#a.x=};; b.y=*) y=${2#b.y=};; esac;"
         " shift 2;;\n"
         "    --stats) stats=$2; shift 2;;\n"
         "    *) shift;;\n"
         "  esac\n"
         "done\n"
         "echo \"$x$y\" >> '"
      << log.string()
      << "'\n"
         "[ \"$x$y\" = 2q ] && { echo 'point 2q: no stats' >&2; exit 3; }\n"
         "kinds=\n"
         "[ \"$y\" = p ] && kinds='\"inv_wait\": {\"count\": 7}'\n"
         "[ \"$y\" = r ] && kinds='\"pasid_iotlb\": {\"count\": 9}'\n"
         "echo \"{\\\"summary\\\": {\\\"dma_requests\\\": ${x}00, "
         "\\\"dma_read_latency_ns\\\": {\\\"count\\\": 4, \\\"mean\\\": ${x}.25, "
         "\\\"p50\\\": ${x}.5}, \\\"label\\\": \\\"$y\\\", \\\"atc_hit_rate\\\": null, "
         "\\\"invalidations\\\": {$kinds}}, "
         "\\\"checkers\\\": {\\\"use_after_free\\\": ${x}}}\" > \"$stats\"\n";
  fs::permissions(p, fs::perms::owner_all);
  return p.string();
}

size_t lines_in(const fs::path& file) {
  std::ifstream in(file);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(line);
  while (std::getline(in, cur, ',')) out.push_back(cur);
  if (!line.empty() && line.back() == ',') out.push_back("");
  return out;
}

// The CSV as its header and one column -> cell map per row.
struct Csv {
  std::vector<std::string> header;
  std::vector<std::map<std::string, std::string>> rows;
};

Csv parse_csv(const std::string& text) {
  Csv csv;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  csv.header = split_csv_line(line);
  while (std::getline(in, line)) {
    const std::vector<std::string> cells = split_csv_line(line);
    EXPECT_EQ(cells.size(), csv.header.size()) << line;
    std::map<std::string, std::string> row;
    for (size_t i = 0; i < cells.size() && i < csv.header.size(); ++i)
      row[csv.header[i]] = cells[i];
    csv.rows.push_back(row);
  }
  return csv;
}

std::string csv_of(const std::vector<SweepAxis>& axes, const std::vector<SweepResult>& results) {
  std::ostringstream os;
  write_sweep_csv(os, axes, results);
  return os.str();
}

const std::vector<SweepAxis> kAxes{{"a.x", {"1", "2"}}, {"b.y", {"p", "q", "r"}}};

TEST(Sweep, RunsEveryPointAndWritesOneCsvRowEachIncludingFailures) {
  TempDir dir("iosim_sweep_rows");
  SweepRunOptions opts{write_fake_child(dir.path, dir.path / "log"), {"sys.cfg"}, 3, "", false};
  std::vector<SweepResult> results = run_sweep(expand_sweep(kAxes), opts);
  ASSERT_EQ(results.size(), 6u);
  EXPECT_EQ(lines_in(dir.path / "log"), 6u);
  EXPECT_EQ(results[4].exit_status, 3);
  EXPECT_TRUE(results[4].summary.empty());
  const Csv csv = parse_csv(csv_of(kAxes, results));
  EXPECT_EQ(csv.header, sweep_csv_columns(kAxes));
  ASSERT_EQ(csv.rows.size(), 6u);
  const auto& r0 = csv.rows[0];
  EXPECT_EQ(r0.at("a.x"), "1");
  EXPECT_EQ(r0.at("b.y"), "p");
  EXPECT_EQ(r0.at("dma_requests"), "100");
  EXPECT_EQ(r0.at("dma_read_latency_ns.count"), "4");
  EXPECT_EQ(r0.at("dma_read_latency_ns.mean"), "1.25");
  EXPECT_EQ(r0.at("dma_read_latency_ns.p50"), "1.5");
  EXPECT_EQ(r0.at("dma_read_latency_ns.p99"), "0");  // not in its stats: 0
  EXPECT_EQ(r0.at("atc_hit_rate"), "");              // null in its stats: empty
  EXPECT_EQ(r0.at("invalidations.inv_wait.count"), "7");
  EXPECT_EQ(r0.at("invalidations.pasid_iotlb.count"), "0");
  EXPECT_EQ(r0.at("checkers.use_after_free"), "1");
  EXPECT_EQ(r0.at("checkers.completion_contract"), "0");
  EXPECT_EQ(r0.at("exit_status"), "0");
  EXPECT_EQ(csv.rows[5].at("invalidations.pasid_iotlb.count"), "9");
  EXPECT_EQ(csv.rows[5].at("dma_requests"), "200");
  // The failed point: its status and empty summary cells.
  for (const auto& [column, cell] : csv.rows[4]) {
    if (column == "a.x" || column == "b.y" || column == "exit_status") continue;
    EXPECT_EQ(cell, "") << column;
  }
  EXPECT_EQ(csv.rows[4].at("exit_status"), "3");
  // Fields outside the schema (the fake's "label") are not columns.
  EXPECT_EQ(std::count(csv.header.begin(), csv.header.end(), "label"), 0);
}

// The columns are a fixed list: two sweeps whose points ran different command kinds
// (and list them first or last) have the same header, with the swept keys first in
// command-line order.
TEST(Sweep, CsvColumnsAreTheSameWhateverThePointsRan) {
  TempDir dir("iosim_sweep_schema");
  const std::string sim = write_fake_child(dir.path, dir.path / "log");
  const std::vector<SweepAxis> first{{"b.y", {"p"}}, {"a.x", {"1"}}};
  const std::vector<SweepAxis> second{{"b.y", {"r", "p"}}, {"a.x", {"2"}}};
  const std::string a = csv_of(first, run_sweep(expand_sweep(first), {sim, {}, 1, "", false}));
  const std::string b = csv_of(second, run_sweep(expand_sweep(second), {sim, {}, 1, "", false}));
  const Csv ca = parse_csv(a), cb = parse_csv(b);
  EXPECT_EQ(ca.header, cb.header);
  EXPECT_EQ(ca.header.at(0), "b.y");
  EXPECT_EQ(ca.header.at(1), "a.x");
  EXPECT_EQ(ca.header.back(), "exit_status");
  EXPECT_EQ(std::vector<std::string>(ca.header.begin() + 2, ca.header.end() - 1),
            summary_columns());
  EXPECT_EQ(ca.rows.at(0).at("invalidations.inv_wait.count"), "7");
  EXPECT_EQ(cb.rows.at(0).at("invalidations.inv_wait.count"), "0");
  EXPECT_EQ(cb.rows.at(0).at("invalidations.pasid_iotlb.count"), "9");
}

TEST(Sweep, SummaryColumnsListEveryLatencyFieldEveryCommandKindAndTheCheckers) {
  const std::vector<std::string>& c = summary_columns();
  auto has = [&c](const std::string& name) {
    return std::find(c.begin(), c.end(), name) != c.end();
  };
  EXPECT_EQ(c.front(), "dma_requests");
  const std::vector<std::string> stats{"count", "mean", "p50", "p90", "p99", "max"};
  for (const char* l :
       {"dma_read_latency_ns", "dma_write_latency_ns", "translation_latency_ns",
        "invalidation_latency_ns", "pri_round_trip_ns", "ptl_hold_ns",
        "invalidation_latency_by_event_ns.unmap", "invalidation_latency_by_event_ns.none",
        "invalidation_latency_by_range_ns.over_512_pages", "invalidations.dev_tlb.latency_ns"}) {
    auto first = std::find(c.begin(), c.end(), std::string(l) + ".count");
    ASSERT_NE(first, c.end()) << l;
    for (size_t i = 0; i < stats.size(); ++i) {
      EXPECT_EQ(*(first + static_cast<long>(i)), std::string(l) + "." + stats[i]);
    }
  }
  for (const char* kind : {"context_cache", "iotlb", "dev_tlb", "inv_wait", "pasid_iotlb",
                           "pasid_cache", "pasid_dev_tlb", "page_group_response"}) {
    EXPECT_TRUE(has(std::string("invalidations.") + kind + ".count")) << kind;
  }
  EXPECT_TRUE(has("invalidation_errors.retries"));
  EXPECT_EQ(
      std::vector<std::string>(c.end() - 4, c.end()),
      (std::vector<std::string>{"checkers.use_after_free", "checkers.stale_after_newer_write",
                                "checkers.write_after_protect", "checkers.completion_contract"}));
  EXPECT_EQ(std::set<std::string>(c.begin(), c.end()).size(), c.size());  // no duplicates
}

TEST(Sweep, StatsDirKeepsEveryPointsStatsNamedByItsPoint) {
  TempDir dir("iosim_sweep_statsdir");
  const fs::path stats = dir.path / "points";
  prepare_stats_dir(stats.string());
  SweepRunOptions opts{
      write_fake_child(dir.path, dir.path / "log"), {"sys.cfg"}, 2, stats.string(), false};
  const std::vector<SweepResult> results = run_sweep(expand_sweep(kAxes), opts);
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(stats)) files.push_back(e.path().filename());
  std::sort(files.begin(), files.end());
  // Every point but the failed one (2, q).
  EXPECT_EQ(files,
            (std::vector<std::string>{"a.x=1+b.y=p.json", "a.x=1+b.y=q.json", "a.x=1+b.y=r.json",
                                      "a.x=2+b.y=p.json", "a.x=2+b.y=r.json"}));
  const Json doc = read_json_file((stats / "a.x=2+b.y=r.json").string());
  EXPECT_EQ(doc.at("summary").at("dma_requests").get<int>(), 200);
  EXPECT_EQ(doc.at("checkers").at("use_after_free").get<int>(), 2);
  const Json& point = doc.at("sweep_point");
  EXPECT_EQ(point.at("settings").at("a.x").get<std::string>(), "2");
  EXPECT_EQ(point.at("settings").at("b.y").get<std::string>(), "r");
  EXPECT_EQ(point.at("args").get<std::vector<std::string>>(),
            (std::vector<std::string>{"sys.cfg", "--set", "a.x=2", "--set", "b.y=r"}));
  EXPECT_EQ(point.at("exit_status").get<int>(), 0);
  // The point file gives the row its stats gave.
  SweepResult again;
  again.point = results[5].point;
  ASSERT_TRUE(
      read_point_file((stats / "a.x=2+b.y=r.json").string(), point_args(opts, again.point), again));
  EXPECT_EQ(again.summary, results[5].summary);
  EXPECT_EQ(again.exit_status, 0);
}

TEST(Sweep, PointFileNamesAreDistinctAndBounded) {
  auto name = [](std::vector<Setting> s) { return point_file_name(SweepPoint{std::move(s)}); };
  EXPECT_EQ(name({{"iommu.arch", "smmuv3"}, {"link.lanes", "16"}}),
            "iommu.arch=smmuv3+link.lanes=16.json");
  EXPECT_EQ(name({{"k", "a/b c"}}), "k=a%2Fb%20c.json");
  EXPECT_NE(name({{"k", "a+b"}}), name({{"k", "a"}, {"b", ""}}));
  EXPECT_NE(name({{"k", "a_b"}}), name({{"k", "a/b"}}));
  const std::string long_a = name({{"k", std::string(300, 'a')}});
  const std::string long_b = name({{"k", std::string(299, 'a') + "b"}});
  EXPECT_LE(long_a.size(), 210u);
  EXPECT_NE(long_a, long_b);
  EXPECT_EQ(long_a, name({{"k", std::string(300, 'a')}}));  // stable
}

// --resume: a point with a complete point file is not run again (the fake child logs
// every run); a missing, cut or foreign file, and the failed point, are.
TEST(Sweep, ResumeSkipsCompletePointsAndRerunsTheRest) {
  TempDir dir("iosim_sweep_resume");
  const fs::path stats = dir.path / "points", log = dir.path / "log";
  prepare_stats_dir(stats.string());
  SweepRunOptions opts{write_fake_child(dir.path, log), {"sys.cfg"}, 2, stats.string(), false};
  const std::string first = csv_of(kAxes, run_sweep(expand_sweep(kAxes), opts));
  ASSERT_EQ(lines_in(log), 6u);
  const fs::path kept = stats / "a.x=1+b.y=p.json";
  const auto mtime = fs::last_write_time(kept);

  opts.resume = true;
  std::vector<SweepResult> resumed = run_sweep(expand_sweep(kAxes), opts);
  EXPECT_EQ(lines_in(log), 7u);  // only the failed point ran again
  EXPECT_EQ(
      std::count_if(resumed.begin(), resumed.end(), [](const SweepResult& r) { return r.resumed; }),
      5);
  EXPECT_FALSE(resumed[4].resumed);
  EXPECT_EQ(csv_of(kAxes, resumed), first);  // the rows rebuilt from the files
  EXPECT_EQ(fs::last_write_time(kept), mtime);

  // Incomplete: cut short (a copy that stopped), removed, without its sweep_point.
  std::ofstream(stats / "a.x=1+b.y=q.json") << "{\"summary\": {\"dma_requests\": 1";
  fs::remove(stats / "a.x=1+b.y=r.json");
  Json doc = read_json_file((stats / "a.x=2+b.y=p.json").string());
  doc.erase("sweep_point");
  std::ofstream(stats / "a.x=2+b.y=p.json") << json_text(doc, 2);
  std::ofstream(dir.path / "log", std::ios::trunc).close();
  resumed = run_sweep(expand_sweep(kAxes), opts);
  std::vector<std::string> ran;
  {
    std::ifstream in(log);
    for (std::string line; std::getline(in, line);) ran.push_back(line);
  }
  std::sort(ran.begin(), ran.end());
  EXPECT_EQ(ran, (std::vector<std::string>{"1q", "1r", "2p", "2q"}));
  EXPECT_EQ(csv_of(kAxes, resumed), first);
  EXPECT_TRUE(fs::exists(stats / "a.x=1+b.y=r.json"));
  EXPECT_EQ(fs::last_write_time(kept), mtime);

  // Other arguments (a different --set): every stored point is stale.
  std::ofstream(dir.path / "log", std::ios::trunc).close();
  opts.base_args = {"sys.cfg", "--set", "c=1"};
  resumed = run_sweep(expand_sweep(kAxes), opts);
  EXPECT_EQ(lines_in(log), 6u);
}

TEST(Sweep, StatsDirThatIsAFileIsRefused) {
  TempDir dir("iosim_sweep_badir");
  std::ofstream(dir.path / "file") << "x";
  EXPECT_THROW(prepare_stats_dir((dir.path / "file").string()), std::runtime_error);
  EXPECT_THROW(prepare_stats_dir((dir.path / "file" / "sub").string()), std::runtime_error);
  EXPECT_NO_THROW(prepare_stats_dir((dir.path / "new" / "sub").string()));
  EXPECT_TRUE(fs::is_directory(dir.path / "new" / "sub"));
  EXPECT_TRUE(fs::is_empty(dir.path / "new" / "sub"));  // the probe is removed
}

TEST(Sweep, MissingExecutableGivesStatus127Rows) {
  std::vector<SweepAxis> axes{{"k", {"v,1"}}};
  std::vector<SweepResult> results =
      run_sweep(expand_sweep(axes), {"/nonexistent/iommu-sim", {}, 1, "", false});
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].exit_status, 127);
  const std::string csv = csv_of(axes, results);
  const std::string row = csv.substr(csv.find('\n') + 1);
  EXPECT_EQ(row, "\"v,1\"," + std::string(summary_columns().size(), ',') + "127\n");
}

TEST(SlurmSweep, JobScriptRunsEachTaskOnItsPointAndRecordsTheStatus) {
  const std::string script = slurm_job_script("/shared/it's/job", 6, 2);
  EXPECT_NE(script.find("\n#SBATCH --array=0-5%2\n"), std::string::npos) << script;
  EXPECT_NE(script.find("\n#SBATCH --output=/shared/it's/job/task-%a.out\n"), std::string::npos);
  EXPECT_NE(script.find("\n#SBATCH --error=/shared/it's/job/task-%a.err\n"), std::string::npos);
  EXPECT_NE(script.find("\ndir='/shared/it'\\''s/job'\n"), std::string::npos) << script;
  EXPECT_NE(slurm_job_script("/d", 1, 0).find("\n#SBATCH --array=0-0\n"), std::string::npos);
}

TEST(SlurmSweep, JobIdOfParsableOutput) {
  EXPECT_EQ(parse_sbatch_job_id("1234\n"), "1234");
  EXPECT_EQ(parse_sbatch_job_id("77;cluster\n"), "77");
  EXPECT_EQ(parse_sbatch_job_id("sbatch: warning: x\n88\n"), "88");
  EXPECT_EQ(parse_sbatch_job_id(""), "");
  EXPECT_EQ(parse_sbatch_job_id("sbatch: error: Batch job submission failed\n"), "");
}

// A stand-in for sbatch on one host: logs its arguments, runs the script's array
// tasks one after the other with Slurm's variable and output files, and prints the
// job id as --parsable does. Task ids listed in `skip` are not run (a cancelled task);
// with a file `refuse` it refuses the job as sbatch does.
std::string write_fake_sbatch(const fs::path& dir, const fs::path& log, const fs::path& skip,
                              const fs::path& refuse) {
  fs::path p = dir / "fake-sbatch.sh";
  std::ofstream(p) << "#!/bin/bash\n"
                      "echo \"$*\" >> '"
                   << log.string()
                   << "'\n"
                      "if [ -e '"
                   << refuse.string()
                   << "' ]; then\n"
                      "  echo 'sbatch: error: invalid partition specified: nope' >&2; exit 1\n"
                      "fi\n"
                      "script=\"${@: -1}\"\n"
                      "array=$(sed -n 's/^#SBATCH --array=//p' \"$script\")\n"
                      "range=${array%%\\%*}\n"
                      "out=$(sed -n 's/^#SBATCH --output=//p' \"$script\")\n"
                      "err=$(sed -n 's/^#SBATCH --error=//p' \"$script\")\n"
                      "for ((i=${range%-*}; i<=${range#*-}; i++)); do\n"
                      "  grep -qx \"$i\" '"
                   << skip.string()
                   << "' 2>/dev/null && continue\n"
                      "  SLURM_ARRAY_TASK_ID=$i bash \"$script\" > \"${out//%a/$i}\" "
                      "2> \"${err//%a/$i}\"\n"
                      "done\n"
                      "echo 42\n";
  fs::permissions(p, fs::perms::owner_all);
  return p.string();
}

std::vector<fs::path> job_dirs(const fs::path& stats) {
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(stats)) {
    if (e.is_directory()) dirs.push_back(e.path());
  }
  return dirs;
}

// The array job gives the CSV of a local run; the failed point is listed with its
// status and stderr, its files are kept, and --resume submits only it.
TEST(SlurmSweep, ArrayJobGivesTheLocalCsvListsFailuresAndResumesOnlyThem) {
  TempDir dir("iosim_sweep_slurm");
  const fs::path stats = dir.path / "points", sbatch_log = dir.path / "sbatch-log";
  prepare_stats_dir(stats.string());
  const std::string sim = write_fake_child(dir.path, dir.path / "log");
  const std::string local =
      csv_of(kAxes, run_sweep(expand_sweep(kAxes), {sim, {"sys.cfg"}, 2, "", false}));
  SlurmOptions slurm{
      write_fake_sbatch(dir.path, sbatch_log, dir.path / "skip", dir.path / "refuse"),
      {"--partition=p"},
      3};
  SweepRunOptions opts{sim, {"sys.cfg"}, 1, stats.string(), false};
  std::ostringstream log;
  std::vector<SweepResult> results = run_sweep_slurm(expand_sweep(kAxes), opts, slurm, log);
  EXPECT_EQ(csv_of(kAxes, results), local);
  EXPECT_EQ(lines_in(dir.path / "log"), 12u);  // 6 local runs, 6 array tasks
  std::ifstream in(sbatch_log);
  std::string args;
  std::getline(in, args);
  EXPECT_EQ(args.rfind("--parsable --wait --partition=p ", 0), 0u) << args;
  const std::vector<fs::path> kept = job_dirs(stats);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(log.str(),
            "iommu-sim: --slurm: 1 of 6 points failed in job 42 (its files are kept in '" +
                kept[0].string() +
                "'; --resume runs only these again):\n"
                "  a.x=2 b.y=q: exit status 3\n"
                "    | point 2q: no stats\n");
  EXPECT_NE(std::ifstream(kept[0] / "job.sh").good(), false);
  EXPECT_TRUE(fs::exists(stats / "a.x=1+b.y=p.json"));
  EXPECT_FALSE(fs::exists(stats / "a.x=2+b.y=q.json"));

  opts.resume = true;
  log.str("");
  results = run_sweep_slurm(expand_sweep(kAxes), opts, slurm, log);
  EXPECT_EQ(csv_of(kAxes, results), local);
  EXPECT_EQ(lines_in(dir.path / "log"), 13u);  // the failed point alone ran again
  std::vector<fs::path> now = job_dirs(stats);
  ASSERT_EQ(now.size(), 2u);
  const fs::path second = now[0] == kept[0] ? now[1] : now[0];
  std::ifstream script(second / "job.sh");
  std::string text((std::istreambuf_iterator<char>(script)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("#SBATCH --array=0-0%3\n"), std::string::npos) << text;
}

// A task that left no status (cancelled) is failed with 255; a job that every task
// passed leaves no job directory.
TEST(SlurmSweep, TaskWithoutStatusFailsAndACleanJobLeavesNoFiles) {
  TempDir dir("iosim_sweep_slurm_skip");
  const fs::path stats = dir.path / "points";
  prepare_stats_dir(stats.string());
  const std::vector<SweepAxis> axes{{"a.x", {"1"}}, {"b.y", {"p", "r"}}};
  SlurmOptions slurm{
      write_fake_sbatch(dir.path, dir.path / "sbatch-log", dir.path / "skip", dir.path / "refuse"),
      {},
      0};
  SweepRunOptions opts{
      write_fake_child(dir.path, dir.path / "log"), {"sys.cfg"}, 1, stats.string(), false};
  std::ofstream(dir.path / "skip") << "1\n";
  std::ostringstream log;
  std::vector<SweepResult> results = run_sweep_slurm(expand_sweep(axes), opts, slurm, log);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].exit_status, 0);
  EXPECT_EQ(results[1].exit_status, 255);
  EXPECT_TRUE(results[1].summary.empty());
  EXPECT_NE(log.str().find("  a.x=1 b.y=r: exit status 255 (the task left no status: it did not "
                           "run to its end)\n"),
            std::string::npos)
      << log.str();

  fs::remove(dir.path / "skip");
  opts.resume = true;
  for (const fs::path& d : job_dirs(stats)) fs::remove_all(d);
  log.str("");
  results = run_sweep_slurm(expand_sweep(axes), opts, slurm, log);
  EXPECT_EQ(results[1].exit_status, 0);
  EXPECT_EQ(log.str(), "");
  EXPECT_TRUE(job_dirs(stats).empty());
}

TEST(SlurmSweep, RefusedJobIsAnErrorWithSbatchsMessage) {
  TempDir dir("iosim_sweep_slurm_refuse");
  const fs::path stats = dir.path / "points";
  prepare_stats_dir(stats.string());
  std::ofstream(dir.path / "refuse") << "";
  SlurmOptions slurm{
      write_fake_sbatch(dir.path, dir.path / "sbatch-log", dir.path / "skip", dir.path / "refuse"),
      {"--partition=nope"},
      0};
  SweepRunOptions opts{
      write_fake_child(dir.path, dir.path / "log"), {"sys.cfg"}, 1, stats.string(), false};
  std::ostringstream log;
  try {
    run_sweep_slurm(expand_sweep(kAxes), opts, slurm, log);
    ADD_FAILURE() << "no SlurmError";
  } catch (const SlurmError& e) {
    EXPECT_EQ(std::string(e.what()),
              "sbatch refused the job (exit status 1):\n"
              "    | sbatch: error: invalid partition specified: nope\n");
  }
  EXPECT_TRUE(job_dirs(stats).empty());
  EXPECT_EQ(lines_in(dir.path / "log"), 0u);
}

}  // namespace
}  // namespace iosim
