// The run summary reads statistics by the names the modules export
// (<folder>/stat_names.h): every one it reads exists in a built and run system, so
// renaming a module's statistic cannot silently zero a summary line.
#include "platform/report.h"

#include "platform/config_params.h"
#include "platform/scenario.h"
#include "platform/system.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <string>
#include <vector>

namespace iosim {
namespace {

SystemConfig config_from(const std::string& text) {
  std::vector<ConfigEntry> entries;
  std::vector<ConfigError> errors;
  load_config_text(text, "t.cfg", entries, errors);
  SystemConfig cfg;
  apply_config_entries(cfg, entries, errors);
  for (const ConfigError& e : errors) ADD_FAILURE() << e;
  return cfg;
}

TEST(ReportProbes, EverySummaryStatisticExistsInARunSystem) {
  SystemConfig cfg = config_from(
      "[memory]\nsize_bytes = 4294967296\n"
      "[cpu]\ncores = 2\n"
      "[os]\nallocator.base_pa = 0x10000000\nallocator.frames = 8192\n"
      "[device]\ncount = 2\n"
      "[workload]\nprocesses = 1\nrequests = 20\nwindow_bytes = 16384\n"
      "base_va = 0x20000000\n");
  ScenarioLimits lim{cfg.cpu.cores, cfg.device.size(), 1000, 1, 0x20000000, 16384};
  Scenario sc = load_scenario_text(
      "process P0\n"
      "map P0 a at=0x40000000 size=16K populate=write value=7\n"
      "bind P0 device0\n"
      "cpu thread T core=1 process=P0:\n"
      "  load a\n"
      "  @5us munmap a size=4K\n",
      "t.scn", lim);
  System sys(cfg, std::move(sc));
  const System::Outcome o = sys.run();
  ASSERT_TRUE(o.finished) << o.error;

  const StatsLayout at = sys.stats_layout();
  ASSERT_EQ(at.devices.size(), 2u);
  ASSERT_EQ(at.cores.size(), 2u);
  ASSERT_FALSE(at.mms.empty());
  ASSERT_FALSE(at.iommu.empty());
  ASSERT_FALSE(at.command_queue.empty());
  ASSERT_FALSE(at.sva.empty());
  const StatRegistry& stats = sys.context().stats();
  EXPECT_EQ(summary_stats_missing(stats, at), std::vector<std::string>{});

  // The figures come from those statistics.
  const RunSummary s = collect_summary(stats, at);
  EXPECT_GT(s.dma_requests, 0u);
  EXPECT_GT(s.iotlb_lookups, 0u);
  EXPECT_GT(s.cpu_loads, 0u);
  EXPECT_GT(s.invalidation_latency_ns.count, 0u);
  EXPECT_FALSE(s.invalidations.empty());  // the command kinds that ran

  // A probe at a path the tree lacks is reported.
  StatsLayout wrong = at;
  wrong.iommu = "iommu.nowhere";
  const std::vector<std::string> missing = summary_stats_missing(stats, wrong);
  EXPECT_NE(std::find(missing.begin(), missing.end(), "iommu.nowhere.iotlb_hits"), missing.end());
}

}  // namespace
}  // namespace iosim
