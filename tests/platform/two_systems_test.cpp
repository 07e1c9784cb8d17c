// Two independent systems elaborated side by side in one SystemC simulation, each
// with its own simulation context: their statistics, checkers, kernel diagnostics
// and timing settings stay apart. Each system's stats must equal those of the same
// configuration run alone (in a child process, so that its simulation is its own).
#include "platform/system.h"

#include "platform/config_file.h"
#include "platform/system_simulation.h"
#include "sc_models/observe/json.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace iosim {
namespace {

// configs/cow_race.cfg with one `key=value` override, as iommu-sim reads it.
SystemConfig cow_race(const std::string& override_arg) {
  std::vector<ConfigEntry> entries;
  std::vector<ConfigError> errors;
  load_config_file(std::string(IOSIM_CONFIG_DIR) + "/cow_race.cfg", entries, errors);
  parse_set_override(override_arg, entries, errors);
  SystemSimulation sim;
  sim.configure(entries, errors);
  for (const ConfigError& e : errors) ADD_FAILURE() << e;
  return sim.config();
}

// What the device's scripted thread `t` read, in order.
std::vector<uint64_t> dev_reads(System& sys, size_t t) {
  std::vector<uint64_t> v;
  const System::DevThreadRef& r = sys.scripted_dev_threads().at(t);
  for (const auto& rec : r.device->thread(r.index).reads()) v.push_back(rec.value);
  return v;
}

// The stats JSON of a system, its top-level groups renamed back from the names the
// SystemC kernel gave the second system's modules ("iommu_0" -> "iommu").
std::string stats_text(System& sys, const std::string& suffix) {
  Json j = sys.context().stats().json();
  if (!suffix.empty()) {
    Json renamed = Json::object();
    for (auto& [key, value] : j.items()) {
      const bool has = key.size() > suffix.size() &&
                       key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0;
      renamed[has ? key.substr(0, key.size() - suffix.size()) : key] = value;
    }
    j = renamed;
  }
  return json_text(j, 1);
}

// Runs `cfg` alone in a child process; returns its stats JSON text.
std::string solo_stats(const SystemConfig& cfg) {
  const std::string path =
      ::testing::TempDir() + "two_systems_solo_" + std::to_string(::getpid()) + ".json";
  std::remove(path.c_str());
  const pid_t pid = ::fork();
  if (pid == 0) {
    int status = 1;
    try {
      System sys(cfg, load_configured_scenario(cfg));
      if (sys.run().finished) {
        std::ofstream(path) << stats_text(sys, "");
        status = 0;
      }
    } catch (...) {
    }
    ::_exit(status);
  }
  int status = -1;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "solo run failed";
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  std::remove(path.c_str());
  return text.str();
}

TEST(TwoSystems, StatsCheckersAndTimingDoNotMix) {
  // The seed's COW race: with the secondary TLB flushed at range_end the device reads
  // addrA from the old page after a CPU wrote the new one (a checker fires); flushed
  // under the page-table lock it does not. The first runs with the lookahead, the
  // second without.
  const SystemConfig racy = cow_race("os.secondary_tlb_flush=range_end");
  SystemConfig clean = cow_race("os.secondary_tlb_flush=under_ptl");
  clean.sim.lookahead = false;
  const std::string racy_alone = solo_stats(racy);
  const std::string clean_alone = solo_stats(clean);
  ASSERT_FALSE(racy_alone.empty());
  ASSERT_FALSE(clean_alone.empty());
  ASSERT_NE(racy_alone, clean_alone);

  // The second system's module names collide with the first's; the kernel renames them.
  sc_core::sc_report_handler::set_actions(sc_core::SC_ID_INSTANCE_EXISTS_, sc_core::SC_DO_NOTHING);
  System a(racy, load_configured_scenario(racy));
  System b(clean, load_configured_scenario(clean));
  const std::vector<System::Outcome> o = System::run_together({&a, &b});
  ASSERT_TRUE(o[0].finished) << o[0].error;
  ASSERT_TRUE(o[1].finished) << o[1].error;

  // Checkers: each system's own verdict.
  ASSERT_NE(a.checkers(), nullptr);
  ASSERT_NE(b.checkers(), nullptr);
  EXPECT_EQ(a.checkers()->count("stale_after_newer_write"), 1u);
  EXPECT_EQ(a.checkers()->total(), 1u);
  EXPECT_EQ(b.checkers()->total(), 0u);
  // What each device read: addrA from the old page (1) under the race, the new (3) without.
  EXPECT_EQ(dev_reads(a, 0), (std::vector<uint64_t>{1, 1}));
  EXPECT_EQ(dev_reads(b, 0), (std::vector<uint64_t>{1, 3}));

  // Statistics: each context holds exactly its own system's, equal to a run alone.
  EXPECT_EQ(stats_text(a, ""), racy_alone);
  EXPECT_EQ(stats_text(b, "_0"), clean_alone);

  // Timing settings: only the first system skipped waits.
  EXPECT_GT(a.context().lookahead().skips(), 0u);
  EXPECT_EQ(b.context().lookahead().skips(), 0u);
}

}  // namespace
}  // namespace iosim
