// Sweep expansion, process pool and CSV.
#include "platform/sweep.h"

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
  args.insert(args.end(), opts.base_args.begin(), opts.base_args.end());
  for (const Setting& s : p.settings) {
    args.push_back("--set");
    args.push_back(s.first + "=" + s.second);
  }
  args.push_back("--stats");
  args.push_back(stats);
  return args;
}

void read_summary(const std::string& stats, SweepResult& r) {
  std::ifstream in(stats);
  if (!in) return;
  std::stringstream text;
  text << in.rdbuf();
  try {
    JsonValue doc = parse_json(text.str());
    if (doc.is_object() && doc.has("summary")) flatten_json(doc["summary"], "", r.summary);
    // The checker counts too, so a policy sweep shows where the violations appear.
    if (doc.is_object() && doc.has("checkers")) {
      flatten_json(doc["checkers"], "checkers", r.summary);
    }
  } catch (const std::exception&) {
    r.summary.clear();  // unreadable stats: the row keeps only the status
  }
}

}  // namespace

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

std::vector<SweepResult> run_sweep(const std::vector<SweepPoint>& points,
                                   const SweepRunOptions& opts) {
  namespace fs = std::filesystem;
  std::string tmpl = (fs::temp_directory_path() / "iommu-sim-sweep-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a temporary directory");
  fs::path dir(tmpl);
  std::vector<SweepResult> results(points.size());
  std::map<pid_t, size_t> running;
  size_t next = 0;
  auto stats_of = [&](size_t i) {
    return (dir / ("point-" + std::to_string(i) + ".json")).string();
  };
  while (next < points.size() || !running.empty()) {
    while (next < points.size() && running.size() < std::max(1u, opts.jobs)) {
      std::vector<std::string> args = child_args(opts, points[next], stats_of(next));
      pid_t pid = ::fork();
      if (pid < 0) throw std::runtime_error("fork failed");
      if (pid == 0) exec_child(args);
      results[next].point = points[next];
      running[pid] = next++;
    }
    int wstatus = 0;
    pid_t pid = ::waitpid(-1, &wstatus, 0);
    auto it = running.find(pid);
    if (it == running.end()) continue;
    SweepResult& r = results[it->second];
    r.exit_status = decode_status(wstatus);
    read_summary(stats_of(it->second), r);
    running.erase(it);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return results;
}

void flatten_json(const JsonValue& v, const std::string& prefix, std::vector<Setting>& out) {
  switch (v.type()) {
    case JsonValue::Type::kObject:
      for (const JsonValue::Member& m : v.members()) {
        flatten_json(m.second, prefix.empty() ? m.first : prefix + "." + m.first, out);
      }
      break;
    case JsonValue::Type::kNumber:
      out.emplace_back(prefix, format_number(v.number()));
      break;
    case JsonValue::Type::kBool:
      out.emplace_back(prefix, v.boolean() ? "true" : "false");
      break;
    case JsonValue::Type::kString:
      out.emplace_back(prefix, v.str());
      break;
    case JsonValue::Type::kNull:
      out.emplace_back(prefix, "");
      break;
    case JsonValue::Type::kArray:
      break;
  }
}

void write_sweep_csv(std::ostream& os, const std::vector<SweepAxis>& axes,
                     const std::vector<SweepResult>& results) {
  std::vector<std::string> columns;
  for (const SweepResult& r : results) {
    for (const Setting& s : r.summary) {
      if (std::find(columns.begin(), columns.end(), s.first) == columns.end()) {
        columns.push_back(s.first);
      }
    }
  }
  std::string header;
  for (const SweepAxis& a : axes) header += csv_field(a.key) + ",";
  for (const std::string& c : columns) header += csv_field(c) + ",";
  os << header << "exit_status\n";
  for (const SweepResult& r : results) {
    std::string row;
    for (const Setting& s : r.point.settings) row += csv_field(s.second) + ",";
    for (const std::string& c : columns) {
      auto it = std::find_if(r.summary.begin(), r.summary.end(),
                             [&](const Setting& s) { return s.first == c; });
      row += (it == r.summary.end() ? "" : csv_field(it->second)) + ",";
    }
    os << row << r.exit_status << "\n";
  }
}

}  // namespace iosim
