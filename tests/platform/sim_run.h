// Runs the real iommu-sim binary on a shipped config and reads back its --stats JSON:
// the config regressions' and the seed scenarios' helpers.
#pragma once

#include "sc_models/observe/json.h"

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

namespace iosim {

struct SimRun {
  int status = -1;
  std::string output;
  Json stats;
};

// Runs iommu-sim on configs/<name>.cfg with os.secondary_tlb_flush=<policy>.
inline SimRun run_config(const std::string& name, const std::string& policy,
                         const std::string& extra = "") {
  // Unique per test and run: tests run in parallel processes.
  static int runs = 0;
  std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::replace(test.begin(), test.end(), '/', '_');  // a parameterized test's name
  const std::string stats =
      ::testing::TempDir() + test + "_" + policy + std::to_string(runs++) + ".json";
  const std::string out = stats + ".out";
  std::remove(stats.c_str());
  const std::string cmd = std::string(IOSIM_SIM_BINARY) + " " + IOSIM_CONFIG_DIR + "/" + name +
                          ".cfg --set os.secondary_tlb_flush=" + policy + " --stats " + stats +
                          " " + extra + " > " + out + " 2>&1";
  SimRun r;
  const int rc = std::system(cmd.c_str());
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  std::ifstream o(out);
  std::stringstream text;
  text << o.rdbuf();
  r.output = text.str();
  std::ifstream f(stats);
  if (f) {
    std::stringstream json;
    json << f.rdbuf();
    r.stats = parse_json(json.str());
  }
  return r;
}

inline uint64_t checker(const SimRun& r, const char* name) {
  return static_cast<uint64_t>(r.stats.at("checkers")[name].get<double>());
}

inline uint64_t total_violations(const SimRun& r) {
  uint64_t n = 0;
  for (const char* c : {"use_after_free", "stale_after_newer_write", "write_after_protect",
                        "completion_contract"}) {
    n += checker(r, c);
  }
  return n;
}

inline const Json& thread(const SimRun& r, const char* kind, const std::string& name) {
  for (const Json& t : r.stats.at("scenario")[kind]) {
    if (t.at("name").get<std::string>() == name) return t;
  }
  ADD_FAILURE() << "no thread " << name;
  static Json none;
  return none;
}

// Values a device thread read, in order.
inline std::vector<uint64_t> dev_reads(const SimRun& r, const std::string& name) {
  std::vector<uint64_t> v;
  for (const Json& x : thread(r, "dev_threads", name).at("reads")) {
    v.push_back(static_cast<uint64_t>(x.at("value").get<double>()));
  }
  return v;
}
inline std::vector<uint64_t> cpu_loads(const SimRun& r, const std::string& name) {
  std::vector<uint64_t> v;
  for (const Json& x : thread(r, "cpu_threads", name).at("loads")) {
    v.push_back(static_cast<uint64_t>(x.at("value").get<double>()));
  }
  return v;
}
inline double stat(const SimRun& r, std::initializer_list<const char*> path) {
  const Json* v = &r.stats;
  for (const char* p : path) v = &(*v)[p];
  return (*v).at("value").get<double>();
}

// Values of the reads of a device thread that succeeded, in order.
inline std::vector<uint64_t> ok_reads(const SimRun& r, const std::string& name) {
  std::vector<uint64_t> v;
  for (const Json& x : thread(r, "dev_threads", name).at("reads")) {
    if (x.at("ok").get<bool>()) v.push_back(static_cast<uint64_t>(x.at("value").get<double>()));
  }
  return v;
}

inline size_t dev_errors(const SimRun& r, const std::string& name) {
  return thread(r, "dev_threads", name).at("errors").size();
}

// Results of a CPU thread's operations named `op`, in order.
inline std::vector<int64_t> op_results(const SimRun& r, const std::string& name,
                                       const std::string& op) {
  std::vector<int64_t> v;
  for (const Json& x : thread(r, "cpu_threads", name).at("ops")) {
    if (x.at("op").get<std::string>() == op) {
      v.push_back(static_cast<int64_t>(x.at("result").get<double>()));
    }
  }
  return v;
}

// A shipped config (configs/*.cfg and configs/seeds/*.cfg, named relative to configs/
// without ".cfg") under one os.secondary_tlb_flush value: the points of the tests that
// run every shipped config.
struct ConfigPoint {
  std::string config;
  std::string flush;
};
inline void PrintTo(const ConfigPoint& p, std::ostream* os) {
  *os << p.config << " " << p.flush;
}

// Every shipped config but `skip`, under both placements, sorted.
inline std::vector<ConfigPoint> shipped_config_points(const std::string& skip = "") {
  namespace fs = std::filesystem;
  std::vector<std::string> configs;
  for (const char* sub : {"", "seeds/"}) {
    for (const auto& e : fs::directory_iterator(std::string(IOSIM_CONFIG_DIR) + "/" + sub)) {
      const std::string name = sub + e.path().stem().string();
      if (e.path().extension() == ".cfg" && name != skip) configs.push_back(name);
    }
  }
  std::sort(configs.begin(), configs.end());
  std::vector<ConfigPoint> out;
  for (const std::string& c : configs) {
    for (const char* flush : {"under_ptl", "range_end"}) out.push_back({c, flush});
  }
  return out;
}

// A gtest parameter name for a point ("seeds_001_case_a_munmap_range_end").
inline std::string config_point_name(const ::testing::TestParamInfo<ConfigPoint>& i) {
  std::string n = i.param.config + "_" + i.param.flush;
  std::replace_if(
      n.begin(), n.end(), [](char c) { return !std::isalnum(c); }, '_');
  return n;
}

}  // namespace iosim
