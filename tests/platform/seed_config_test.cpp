// The configs of configs/seeds/ run by the real iommu-sim binary, under both
// secondary-TLB placements where the verdict holds under both: runtime bind and
// unbind, PASID reuse after an unbind (with and without the device-TLB flush of the
// teardown), process exit with DMA still issued, the OOM reaper's non-blocking ranges
// and the driver's explicit flushes. Numbers are read back from the --stats JSON.
#include "sc_models/observe/json.h"
#include "tests/platform/sim_run.h"

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace iosim {
namespace {

// Runs iommu-sim on configs/seeds/<name>.cfg with os.secondary_tlb_flush=<policy>.
SimRun run_seed(const std::string& name, const std::string& policy, const std::string& extra = "") {
  return run_config("seeds/" + name, policy, extra);
}

uint64_t num(const Json& j) {
  return static_cast<uint64_t>(j.get<double>());
}

// (ok, value) of every read of a device thread.
std::vector<std::pair<bool, uint64_t>> dev_read_results(const SimRun& r, const std::string& name) {
  std::vector<std::pair<bool, uint64_t>> v;
  for (const Json& x : thread(r, "dev_threads", name).at("reads")) {
    v.emplace_back(x.at("ok").get<bool>(), num(x.at("value")));
  }
  return v;
}

uint64_t counter(const SimRun& r, std::initializer_list<const char*> path) {
  const Json* v = &r.stats;
  for (const char* p : path) v = &v->at(p);
  return num(v->at("value"));
}

uint64_t invalidations(const SimRun& r, const char* kind) {
  const Json& kinds = r.stats.at("summary").at("invalidations");
  auto it = kinds.find(kind);
  return it == kinds.end() ? 0 : num(it->at("count"));
}

using Reads = std::vector<std::pair<bool, uint64_t>>;
const char* const kPolicies[] = {"under_ptl", "range_end"};

// ---- runtime bind / unbind and PASID reuse ------------------------------------------

TEST(SeedConfig, PasidReuseWithTheFullTeardownIsClean) {
  for (const char* policy : kPolicies) {
    SCOPED_TRACE(policy);
    SimRun r = run_seed("pasid_reuse", policy);
    ASSERT_EQ(r.status, 0) << r.output;
    // A's unbind freed PASID 1, B's runtime bind got it.
    EXPECT_EQ(op_results(r, "CPU-thread-A", "unbind"), (std::vector<int64_t>{0}));
    EXPECT_EQ(op_results(r, "CPU-thread-B", "bind"), (std::vector<int64_t>{1}));
    EXPECT_EQ(num(r.stats.at("pasid_reuse").at("handed_on")), 1u);
    EXPECT_EQ(num(r.stats.at("pasid_reuse").at("pasid_reuse_stale")), 0u);
    EXPECT_EQ(total_violations(r), 0u);
    // Before its bind, B's device thread has no PASID: the read fails, with no data.
    EXPECT_EQ(dev_read_results(r, "DEV-thread-B"), (Reads{{false, 0}, {true, 11}}));
    EXPECT_EQ(dev_errors(r, "DEV-thread-B"), 1u);
    EXPECT_EQ(dev_read_results(r, "DEV-thread-A"), (Reads{{true, 10}}));
    EXPECT_NE(r.output.find("PASID reuse"), std::string::npos) << r.output;
  }
}

TEST(SeedConfig, PasidReuseWithoutTheAtcFlushReadsTheOldProcessesPage) {
  for (const char* policy : kPolicies) {
    SCOPED_TRACE(policy);
    SimRun r = run_seed("pasid_reuse", policy, "--set sva.unbind_skip_atc_flush=true");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(num(r.stats.at("pasid_reuse").at("pasid_reuse_stale")), 1u);
    EXPECT_EQ(dev_read_results(r, "DEV-thread-B"), (Reads{{false, 0}, {true, 10}}));
    EXPECT_NE(r.output.find("pasid_reuse_stale at"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("VIOLATIONS"), std::string::npos) << r.output;
  }
}

TEST(SeedConfig, UnbindRunsTheTeardownInOrderAndTakesTime) {
  SimRun r = run_seed("pasid_reuse", "under_ptl");
  ASSERT_EQ(r.status, 0) << r.output;
  const Json& ops = thread(r, "cpu_threads", "CPU-thread-A").at("ops");
  ASSERT_EQ(ops.size(), 1u);
  const double took = ops[0].at("end_ns").get<double>() - ops[0].at("start_ns").get<double>();
  // Entry write, two waited batches (teardown, then the drain's flush): over 1 us.
  EXPECT_GT(took, 1000.0);
  // Teardown: PASID cache + IOTLB + device TLB; drain: IOTLB + device TLB.
  EXPECT_EQ(invalidations(r, "pasid_iotlb"), 2u);
  EXPECT_EQ(invalidations(r, "pasid_dev_tlb"), 2u);
  SimRun skip = run_seed("pasid_reuse", "under_ptl", "--set sva.unbind_skip_atc_flush=true");
  EXPECT_EQ(invalidations(skip, "pasid_iotlb"), 2u);
  EXPECT_EQ(invalidations(skip, "pasid_dev_tlb"), 0u);
}

// ---- exit with DMA in flight --------------------------------------------------------

TEST(SeedConfig, ReleaseOnExitFaultsTheDevicesLaterDma) {
  for (const char* policy : kPolicies) {
    SCOPED_TRACE(policy);
    SimRun r = run_seed("release_on_exit", policy);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(total_violations(r), 0u);
    EXPECT_EQ(checker(r, "use_after_free"), 0u);
    EXPECT_EQ(dev_read_results(r, "DEV-thread-0"), (Reads{{true, 5}, {false, 0}}));
    EXPECT_EQ(dev_errors(r, "DEV-thread-0"), 2u);
    EXPECT_EQ(cpu_loads(r, "CPU-thread-1"), (std::vector<uint64_t>{7}));
    EXPECT_EQ(r.stats.find("pasid_reuse"), r.stats.end());
  }
}

// ---- OOM reaper -----------------------------------------------------------------------

TEST(SeedConfig, OomReaperRetriesWhileMmapLockIsTakenAndSvaNeverSaysEagain) {
  for (const char* policy : kPolicies) {
    SCOPED_TRACE(policy);
    SimRun r = run_seed("oom_reap_nonblock", policy);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(op_results(r, "Reaper", "oom_reap"), (std::vector<int64_t>{3}));
    EXPECT_EQ(counter(r, {"os", "oom_reaper", "attempts"}), 3u);
    EXPECT_EQ(counter(r, {"os", "oom_reaper", "lock_contended"}), 2u);
    EXPECT_EQ(counter(r, {"os", "oom_reaper", "start_failures"}), 0u);
    EXPECT_EQ(counter(r, {"os", "oom_reaper", "reaped"}), 1u);
    EXPECT_EQ(counter(r, {"os", "oom_reaper", "gave_up"}), 0u);
    EXPECT_EQ(counter(r, {"os", "oom_reaper", "ptes_cleared"}), 4u);
    EXPECT_EQ(dev_read_results(r, "DEV-thread-0"), (Reads{{true, 3}, {true, 0}}));
    EXPECT_EQ(total_violations(r), 0u);
  }
}

// ---- explicit flushes -------------------------------------------------------------------

TEST(SeedConfig, ExplicitFlushesDropTheTranslations) {
  for (const char* policy : kPolicies) {
    SCOPED_TRACE(policy);
    SimRun r = run_seed("explicit_flush", policy);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(op_results(r, "CPU-thread-0", "flush_pasid"), (std::vector<int64_t>{0}));
    EXPECT_EQ(op_results(r, "CPU-thread-0", "flush_all"), (std::vector<int64_t>{0}));
    EXPECT_EQ(invalidations(r, "pasid_iotlb"), 1u);
    EXPECT_EQ(invalidations(r, "pasid_dev_tlb"), 2u);
    EXPECT_EQ(invalidations(r, "iotlb"), 1u);
    EXPECT_EQ(invalidations(r, "pasid_cache"), 2u);  // the bind's, and flush_all's
    // Every read needed its own ATS translation: the ATC entry was gone each time.
    EXPECT_EQ(num(r.stats.at("summary").at("translation_latency_ns").at("count")), 3u);
    EXPECT_EQ(dev_read_results(r, "DEV-thread-0"), (Reads{{true, 5}, {true, 5}, {true, 5}}));
  }
}

}  // namespace
}  // namespace iosim
