// Sweep expansion, process pool and CSV.
#include "platform/sweep.h"

#include "platform/output_file.h"
#include "platform/report.h"
#include "sc_models/observe/json.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

namespace iosim {

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  if (!s.empty() && s.back() == sep) out.push_back("");
  return out;
}

std::string format_number(double d) {
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9007199254740992.0) {
    return std::to_string(static_cast<long long>(d));
  }
  std::ostringstream os;
  os.precision(12);
  os << d;
  return os.str();
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

int decode_status(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return 255;
}

[[noreturn]] void exec_child(const std::vector<std::string>& args) {
  int devnull = ::open("/dev/null", O_WRONLY);
  if (devnull >= 0) ::dup2(devnull, STDOUT_FILENO);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execv(argv[0], argv.data());
  std::_Exit(127);
}

std::vector<std::string> child_args(const SweepRunOptions& opts, const SweepPoint& p,
                                    const std::string& stats) {
  std::vector<std::string> args{opts.executable};
  const std::vector<std::string> rest = point_args(opts, p);
  args.insert(args.end(), rest.begin(), rest.end());
  args.push_back("--stats");
  args.push_back(stats);
  return args;
}

// The summary and the checker counts (so a policy sweep shows where the violations
// appear) of a stats document; false when it has neither object.
bool flatten_stats(const Json& doc, std::vector<Setting>& out) {
  out.clear();
  if (!doc.is_object()) return false;
  auto summary = doc.find("summary");
  auto checkers = doc.find("checkers");
  if (summary == doc.end() || !summary->is_object() || checkers == doc.end() ||
      !checkers->is_object()) {
    return false;
  }
  flatten_json(*summary, "", out);
  flatten_json(*checkers, "checkers", out);
  return true;
}

bool name_byte_ok(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

void append_encoded(std::string& out, const std::string& s) {
  static const char* const kHex = "0123456789ABCDEF";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (name_byte_ok(c)) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
}

// FNV-1a, 64 bits: a stable hash for cut file names.
uint64_t fnv1a(const std::string& s) {
  uint64_t h = 14695981039346656037ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

void take_point_stats(const std::string& stats, const SweepRunOptions& opts, SweepResult& r) {
  if (r.exit_status != 0 && r.exit_status != 1) return;  // no stats are committed then
  Json doc;
  try {
    doc = read_json_file(stats);
  } catch (const std::exception&) {
    return;  // unreadable stats: the row keeps only the status
  }
  if (!flatten_stats(doc, r.summary) || opts.stats_dir.empty()) return;
  Json& point = doc["sweep_point"] = Json::object();
  Json& settings = point["settings"] = Json::object();
  for (const Setting& s : r.point.settings) settings[s.first] = s.second;
  point["args"] = point_args(opts, r.point);
  point["exit_status"] = r.exit_status;
  const std::string path =
      (std::filesystem::path(opts.stats_dir) / point_file_name(r.point)).string();
  OutputFile out(path);
  std::ofstream f(out.temp_path());
  f << json_text(doc, 2) << '\n';
  f.close();
  if (!f || !out.commit()) throw std::runtime_error("cannot write the point file '" + path + "'");
}

std::vector<std::string> point_args(const SweepRunOptions& opts, const SweepPoint& p) {
  std::vector<std::string> args = opts.base_args;
  for (const Setting& s : p.settings) {
    args.push_back("--set");
    args.push_back(s.first + "=" + s.second);
  }
  return args;
}

std::string point_file_name(const SweepPoint& p) {
  constexpr size_t kMaxStem = 200;
  std::string stem;
  for (const Setting& s : p.settings) {
    if (!stem.empty()) stem += '+';
    append_encoded(stem, s.first);
    stem += '=';
    append_encoded(stem, s.second);
  }
  if (stem.size() > kMaxStem) {
    char hash[24];
    std::snprintf(hash, sizeof hash, "~%016llx", static_cast<unsigned long long>(fnv1a(stem)));
    stem = stem.substr(0, kMaxStem - 17) + hash;
  }
  return stem + ".json";
}

bool read_point_file(const std::string& path, const std::vector<std::string>& args,
                     SweepResult& r) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return false;
  Json doc;
  try {
    doc = read_json_file(path);
  } catch (const std::exception&) {
    return false;
  }
  std::vector<Setting> summary;
  if (!flatten_stats(doc, summary)) return false;
  auto point = doc.find("sweep_point");
  if (point == doc.end() || !point->is_object()) return false;
  auto status = point->find("exit_status");
  auto stored_args = point->find("args");
  if (status == point->end() || !status->is_number_integer() || stored_args == point->end() ||
      *stored_args != Json(args)) {
    return false;
  }
  r.exit_status = status->get<int>();
  r.summary = std::move(summary);
  return true;
}

void prepare_stats_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!fs::is_directory(dir)) {
    throw std::runtime_error("cannot use '" + dir + "' as the stats directory: " +
                             (ec ? ec.message() : std::string("it is not a directory")));
  }
  OutputFile probe((fs::path(dir) / ".iommu-sim-write-test").string());
  if (!probe.prepare()) throw std::runtime_error(probe.error());
}

SweepAxis parse_sweep_axis(const std::string& arg) {
  size_t eq = arg.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw std::invalid_argument("--sweep expects key=v1,v2,..., got '" + arg + "'");
  }
  SweepAxis axis{arg.substr(0, eq), split(arg.substr(eq + 1), ',')};
  if (axis.values.empty()) {
    throw std::invalid_argument("--sweep " + axis.key + ": no values");
  }
  for (const std::string& v : axis.values) {
    if (v.empty()) throw std::invalid_argument("--sweep " + axis.key + ": empty value in list");
  }
  return axis;
}

uint64_t sweep_point_count(const std::vector<SweepAxis>& axes) {
  if (axes.empty()) return 0;
  uint64_t n = 1;
  for (const SweepAxis& axis : axes) {
    const uint64_t k = axis.values.size();
    if (k != 0 && n > UINT64_MAX / k) return UINT64_MAX;
    n *= k;
  }
  return n;
}

void check_sweep_size(const std::vector<SweepAxis>& axes, uint64_t max_points) {
  const uint64_t n = sweep_point_count(axes);
  if (n > max_points) {
    std::string sizes;
    for (const SweepAxis& axis : axes) {
      sizes += (sizes.empty() ? "" : " x ") + std::to_string(axis.values.size());
    }
    throw std::length_error("--sweep: " + sizes + " = " +
                            (n == UINT64_MAX ? std::string("more than 2^64") : std::to_string(n)) +
                            " points, more than the limit of " + std::to_string(max_points) +
                            " (raise it with --max-points N, at most " +
                            std::to_string(kMaxSweepPointsLimit) + ")");
  }
}

std::vector<SweepPoint> expand_sweep(const std::vector<SweepAxis>& axes, uint64_t max_points) {
  if (axes.empty()) return {};
  check_sweep_size(axes, max_points);
  std::vector<SweepPoint> points{SweepPoint{}};
  for (const SweepAxis& axis : axes) {
    std::vector<SweepPoint> next;
    for (const SweepPoint& p : points) {
      for (const std::string& v : axis.values) {
        SweepPoint q = p;
        q.settings.emplace_back(axis.key, v);
        next.push_back(std::move(q));
      }
    }
    points = std::move(next);
  }
  return points;
}

std::vector<size_t> points_to_run(const std::vector<SweepPoint>& points,
                                  const SweepRunOptions& opts, std::vector<SweepResult>& results) {
  results.assign(points.size(), SweepResult{});
  std::vector<size_t> to_run;
  for (size_t i = 0; i < points.size(); ++i) {
    results[i].point = points[i];
    if (opts.resume && !opts.stats_dir.empty() &&
        read_point_file(
            (std::filesystem::path(opts.stats_dir) / point_file_name(points[i])).string(),
            point_args(opts, points[i]), results[i])) {
      results[i].resumed = true;
    } else {
      to_run.push_back(i);
    }
  }
  return to_run;
}

std::vector<SweepResult> run_sweep(const std::vector<SweepPoint>& points,
                                   const SweepRunOptions& opts) {
  namespace fs = std::filesystem;
  std::string tmpl = (fs::temp_directory_path() / "iommu-sim-sweep-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a temporary directory");
  fs::path dir(tmpl);
  std::vector<SweepResult> results;
  const std::vector<size_t> to_run = points_to_run(points, opts, results);
  std::map<pid_t, size_t> running;
  size_t next = 0;
  auto stats_of = [&](size_t i) {
    return (dir / ("point-" + std::to_string(i) + ".json")).string();
  };
  std::string failure;  // a point file that could not be written: stop starting points
  while ((failure.empty() && next < to_run.size()) || !running.empty()) {
    while (failure.empty() && next < to_run.size() && running.size() < std::max(1u, opts.jobs)) {
      const size_t i = to_run[next++];
      std::vector<std::string> args = child_args(opts, points[i], stats_of(i));
      pid_t pid = ::fork();
      if (pid < 0) throw std::runtime_error("fork failed");
      if (pid == 0) exec_child(args);
      running[pid] = i;
    }
    int wstatus = 0;
    pid_t pid = ::waitpid(-1, &wstatus, 0);
    auto it = running.find(pid);
    if (it == running.end()) continue;
    SweepResult& r = results[it->second];
    r.exit_status = decode_status(wstatus);
    try {
      take_point_stats(stats_of(it->second), opts, r);
    } catch (const std::runtime_error& e) {
      if (failure.empty()) failure = e.what();
    }
    std::error_code ec;
    fs::remove(stats_of(it->second), ec);
    running.erase(it);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (!failure.empty()) throw std::runtime_error(failure);
  return results;
}

void flatten_json(const Json& v, const std::string& prefix, std::vector<Setting>& out) {
  switch (v.type()) {
    case Json::value_t::object:
      for (const auto& [key, value] : v.items()) {
        flatten_json(value, prefix.empty() ? key : prefix + "." + key, out);
      }
      break;
    case Json::value_t::number_integer:
      out.emplace_back(prefix, std::to_string(v.get<int64_t>()));
      break;
    case Json::value_t::number_unsigned:
      out.emplace_back(prefix, std::to_string(v.get<uint64_t>()));
      break;
    case Json::value_t::number_float:
      out.emplace_back(prefix, format_number(v.get<double>()));
      break;
    case Json::value_t::boolean:
      out.emplace_back(prefix, v.get<bool>() ? "true" : "false");
      break;
    case Json::value_t::string:
      out.emplace_back(prefix, v.get<std::string>());
      break;
    case Json::value_t::null:
      out.emplace_back(prefix, "");
      break;
    default:  // arrays, binary
      break;
  }
}

std::vector<std::string> sweep_csv_columns(const std::vector<SweepAxis>& axes) {
  std::vector<std::string> columns;
  for (const SweepAxis& a : axes) columns.push_back(a.key);
  const std::vector<std::string>& summary = summary_columns();
  columns.insert(columns.end(), summary.begin(), summary.end());
  columns.push_back("exit_status");
  return columns;
}

void write_sweep_csv(std::ostream& os, const std::vector<SweepAxis>& axes,
                     const std::vector<SweepResult>& results) {
  const std::vector<std::string> columns = sweep_csv_columns(axes);
  std::string line;
  for (const std::string& c : columns) line += (line.empty() ? "" : ",") + csv_field(c);
  os << line << "\n";
  const std::vector<std::string>& summary = summary_columns();
  for (const SweepResult& r : results) {
    line.clear();
    for (const Setting& s : r.point.settings) line += csv_field(s.second) + ",";
    std::unordered_map<std::string, const std::string*> values;
    for (const Setting& s : r.summary) values.emplace(s.first, &s.second);
    for (const std::string& c : summary) {
      auto it = values.find(c);
      // A point with stats fills every column: what its stats lack did not happen (0).
      line += (r.summary.empty() ? "" : it == values.end() ? "0" : csv_field(*it->second)) + ",";
    }
    os << line << r.exit_status << "\n";
  }
}

}  // namespace iosim
