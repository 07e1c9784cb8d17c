// Parameter sweeps: the cartesian product of --sweep axes, each point run in its
// own process, and one CSV row per point.
//
// SystemC allows one elaboration and one simulation per process, so every point is a
// fork+exec of the simulator binary with the point's values as extra "--set
// key=value" arguments and "--stats <temporary file>". At most 'jobs' children run at
// once. A child's stats JSON is read (sc_models/observe/json.h) and its "summary" and
// "checkers" objects flattened ("dma_read_latency_ns.p50", "checkers.use_after_free").
// A child that fails (status other than 0 or 1, signal, no or unreadable stats) gives
// a row with its status and empty summary cells; the sweep goes on.
//
// CSV columns (sweep_csv_columns): the swept keys in command-line order, then
// summary_columns() (platform/report.h: the same fixed list for every point and
// sweep), then "exit_status". A field a point's stats lack (a command kind that never
// ran) is 0.
//
// Point files (stats_dir): a point whose child exited 0 or 1 with readable stats is
// kept as <stats_dir>/<point_file_name>: its stats JSON plus a top-level
// "sweep_point" object {"settings": {key: value, ...}, "args": [the child's arguments
// but --stats], "exit_status": N}, written under a temporary name and renamed, so a
// stopped sweep leaves whole files or none. With resume, a point whose file is
// complete (parses, has "summary", "checkers" and "sweep_point" with an integer
// exit_status, and the args of this sweep's point) is not run again: its row is
// rebuilt from the file. Anything else is run again and its file replaced.
//
// Simplifications: children's standard output is discarded (their stderr is
// inherited, so errors are visible); a status of 128+N means killed by signal N,
// 127 means the binary could not be executed.
#pragma once

#include "sc_models/observe/json_fwd.h"

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace iosim {

struct SweepAxis {
  std::string key;
  std::vector<std::string> values;
};

// Parses "key=v1,v2,..."; throws std::invalid_argument naming what is wrong.
SweepAxis parse_sweep_axis(const std::string& arg);

using Setting = std::pair<std::string, std::string>;  // key, value

struct SweepPoint {
  std::vector<Setting> settings;  // one per axis, in axis order
};

// Points a sweep expands to by default at most; --max-points raises it (up to
// kMaxSweepPointsLimit). Each point is one process and one CSV row, and the points
// are held in memory.
constexpr uint64_t kDefaultMaxSweepPoints = 10000;
constexpr uint64_t kMaxSweepPointsLimit = 1000000;

// The number of points of the cartesian product, saturating at UINT64_MAX; it is
// computed without expanding.
uint64_t sweep_point_count(const std::vector<SweepAxis>& axes);

// Throws std::length_error saying how many points there are and how to raise the
// limit when there are more than max_points.
void check_sweep_size(const std::vector<SweepAxis>& axes, uint64_t max_points);

// Cartesian product; the last axis varies fastest. No axes -> no points. Checks
// the size first (check_sweep_size), so nothing is expanded past the limit.
std::vector<SweepPoint> expand_sweep(const std::vector<SweepAxis>& axes,
                                     uint64_t max_points = kDefaultMaxSweepPoints);

struct SweepResult {
  SweepPoint point;
  int exit_status = 0;
  // Flattened summary fields and checker counts ("checkers.<name>"), file order;
  // empty when the point left no readable stats.
  std::vector<Setting> summary;
  bool resumed = false;  // rebuilt from its point file, not run
};

struct SweepRunOptions {
  std::string executable;              // binary to exec (the simulator itself)
  std::vector<std::string> base_args;  // CONFIG and the user's options, without argv[0]
  unsigned jobs = 1;                   // children running at once (>= 1)
  std::string stats_dir;               // keep every point's stats here (empty: none)
  bool resume = false;                 // reuse complete point files of stats_dir
};

// Runs every point (with resume, every point without a complete point file) and
// returns the results in point order. Throws std::runtime_error only for host
// failures (no temporary directory, fork fails, a point file cannot be written).
std::vector<SweepResult> run_sweep(const std::vector<SweepPoint>& points,
                                   const SweepRunOptions& opts);

// Sets `results` to one per point (in point order) and returns the indices of the
// points to run: every point, or with resume those without a complete point file
// (the others' results are rebuilt from their files and marked resumed).
std::vector<size_t> points_to_run(const std::vector<SweepPoint>& points,
                                  const SweepRunOptions& opts, std::vector<SweepResult>& results);

// Takes the stats a point's run wrote to `stats` (r.exit_status set): when the
// status is 0 or 1 and the stats are readable, r.summary is filled and, with a stats
// directory, the point file is written (throws std::runtime_error if it cannot be).
void take_point_stats(const std::string& stats, const SweepRunOptions& opts, SweepResult& r);

// Creates the directory if needed and checks that files can be written in it;
// throws std::runtime_error saying why not.
void prepare_stats_dir(const std::string& dir);

// File name of a point's stats: "key=value" per setting joined by '+', then
// ".json" ("iommu.arch=smmuv3+link.lanes=16.json"). Bytes other than letters, digits,
// '.', '_' and '-' in keys and values are written %XX, so distinct points never
// share a name; a name over 200 bytes is cut and ends with a hash of the whole.
std::string point_file_name(const SweepPoint& p);

// The child's arguments but the executable and --stats: base args, then
// "--set key=value" per setting.
std::vector<std::string> point_args(const SweepRunOptions& opts, const SweepPoint& p);

// Reads a point file; true when it is complete for `args` (see the file comment),
// then r.exit_status and r.summary are set from it.
bool read_point_file(const std::string& path, const std::vector<std::string>& args, SweepResult& r);

// Flattens a JSON object: nested objects join keys with '.', numbers are printed
// as integers when integral, booleans as true/false, null as empty; arrays are
// skipped.
void flatten_json(const Json& v, const std::string& prefix, std::vector<Setting>& out);

// The axis keys, summary_columns() (platform/report.h), then "exit_status".
std::vector<std::string> sweep_csv_columns(const std::vector<SweepAxis>& axes);

// The header (sweep_csv_columns) and one row per result.
void write_sweep_csv(std::ostream& os, const std::vector<SweepAxis>& axes,
                     const std::vector<SweepResult>& results);

}  // namespace iosim
