// The IOMMU's page walkers under heavy contention: 16 devices x 64 PASIDs, each
// thread with 16 requests outstanding, random 64 B reads over a 1 MiB window per
// process (256 pages: neither the 64-entry ATC nor the 64-entry IOTLB holds them),
// so nearly every request walks and 16384 requests compete for the 4 walkers.
//
// Walkers are handed over in arrival order, so no walk waits for more than the walks
// queued ahead of it: at most (requests in flight / walkers) walk times. The run
// makes two rounds of requests per thread, so most walks are made with the queue full.
#include <gtest/gtest.h>

#include "platform/config_params.h"
#include "platform/scenario.h"
#include "platform/system.h"
#include "platform/system_simulation.h"
#include "sc_models/observe/stats.h"

namespace iosim {
namespace {

constexpr unsigned kDevices = 16, kPasids = 64, kOutstanding = 16, kRequestsPerThread = 32;

SystemConfig contention_config() {
  const std::string text =
      "[memory]\n"
      "size_bytes = 17179869184\n"
      "[cpu]\n"
      "cores = 1\n"
      "[os]\n"
      "allocator.base_pa = 0x100000000\n"
      "allocator.frames = 65536\n"
      "[device]\n"
      "count = " +
      std::to_string(kDevices) +
      "\n"
      "ats_enabled = true\n"
      "pri_enabled = true\n"
      "pasid_enabled = true\n"
      "[workload]\n"
      "processes = " +
      std::to_string(kPasids) +
      "\n"
      "threads_per_device = 1\n"
      "pattern = random\n"
      "request_bytes = 64\n"
      "read_fraction = 1.0\n"
      "max_outstanding = " +
      std::to_string(kOutstanding) +
      "\n"
      "requests = " +
      std::to_string(kRequestsPerThread) +
      "\n"
      "window_bytes = 1M\n"
      "populate = write\n"
      "[sim]\n"
      "max_time_ns = 1000000000\n";
  std::vector<ConfigEntry> entries;
  std::vector<ConfigError> errors;
  load_config_text(text, "contention.cfg", entries, errors);
  SystemConfig cfg;
  apply_config_entries(cfg, entries, errors);
  for (const ConfigError& e : errors) ADD_FAILURE() << e;
  return cfg;
}

TEST(WalkerContention, WaitForAWalkerIsBoundedByTheWalksAhead) {
  const SystemConfig cfg = contention_config();
  System sys(cfg, build_scenario({}, scenario_limits(cfg)));
  const System::Outcome o = sys.run();
  ASSERT_TRUE(o.finished) << o.error;

  const StatRegistry& stats = sys.context().stats();
  const auto* wait = stats.find_as<Histogram>("iommu.walker_wait");
  const auto* walk = stats.find_as<Histogram>("iommu.walk_latency");
  ASSERT_NE(wait, nullptr);
  ASSERT_NE(walk, nullptr);
  const double requests = double{kDevices} * kPasids * kRequestsPerThread;
  // Nearly every request walks.
  EXPECT_GE(static_cast<double>(wait->count()), 0.95 * requests);
  const double in_flight = double{kDevices} * kPasids * kOutstanding;
  const double walkers = cfg.iommu.walker.walkers;
  // At most in_flight / walkers walks ahead of any one, each taking the mean walk
  // time (walks grow a little longer than idle ones: their memory reads queue behind
  // the DMA reads); 25% margin.
  const double bound_ns = 1.25 * (in_flight / walkers) * walk->mean();
  EXPECT_LE(wait->max(), bound_ns) << "mean walk " << walk->mean() << " ns";
  EXPECT_LE(wait->percentile(99), bound_ns);
  // In numbers: 4096 walks of about 290 ns ahead: under 1.5 ms.
  EXPECT_LE(wait->max(), 1.5e6);
}

}  // namespace
}  // namespace iosim
