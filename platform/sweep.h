// Parameter sweeps: the cartesian product of --sweep axes, each point run in its
// own process, and one CSV row per point.
//
// SystemC allows one elaboration and one simulation per process, so every point
// is a fork+exec of the simulator binary with the point's values as extra
// "--set key=value" arguments and "--stats <temporary file>". At most 'jobs'
// children run at once. After a child exits, its stats JSON is read
// (sc_models/json_reader.h) and the "summary" and "checkers" objects are flattened
// into columns ("dma_read_latency_ns.p50", "checkers.use_after_free"). A child that fails (non-zero status, signal, no or
// unreadable stats) gives a row with its status and empty summary cells; the
// sweep goes on.
//
// Simplifications: children's standard output is discarded (their stderr is
// inherited, so errors are visible); a status of 128+N means killed by signal N,
// 127 means the binary could not be executed.
#pragma once

#include "sc_models/json_reader.h"

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
  std::vector<Setting> summary;  // flattened summary fields, file order
};

struct SweepRunOptions {
  std::string executable;              // binary to exec (the simulator itself)
  std::vector<std::string> base_args;  // CONFIG and the user's options, without argv[0]
  unsigned jobs = 1;                   // children running at once (>= 1)
};

// Runs every point and returns the results in point order. Throws
// std::runtime_error only for host failures (no temporary directory, fork fails).
std::vector<SweepResult> run_sweep(const std::vector<SweepPoint>& points,
                                   const SweepRunOptions& opts);

// Flattens a JSON object: nested objects join keys with '.', numbers are printed
// as integers when integral, booleans as true/false, null as empty; arrays are
// skipped.
void flatten_json(const JsonValue& v, const std::string& prefix, std::vector<Setting>& out);

// Header: the axis keys, the union of summary columns (first-seen order), then
// "exit_status". One row per result.
void write_sweep_csv(std::ostream& os, const std::vector<SweepAxis>& axes,
                     const std::vector<SweepResult>& results);

}  // namespace iosim
