// The seed texts case by case (configs/seeds/): each config run by the real iommu-sim
// binary under both os.secondary_tlb_flush values, its verdict asserted from the
// --stats JSON (checker counts, what the device read, the driver's counters).
#include "tests/platform/sim_run.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace iosim {
namespace {

const char* const kPolicies[] = {"under_ptl", "range_end"};

double driver_stat(const SimRun& r, const char* name) {
  return stat(r, {"mirror_driver0", name});
}
double mmu_stat(const SimRun& r, const char* name) {
  return stat(r, {"device0", "mirror", name});
}
size_t dev_errors(const SimRun& r, const std::string& name) {
  return thread(r, "dev_threads", name).at("errors").size();
}
// Values of the reads that succeeded, in order.
std::vector<uint64_t> ok_reads(const SimRun& r, const std::string& name) {
  std::vector<uint64_t> v;
  for (const Json& x : thread(r, "dev_threads", name).at("reads")) {
    if (x.at("ok").get<bool>()) v.push_back(static_cast<uint64_t>(x.at("value").get<double>()));
  }
  return v;
}

// ---- 004: the two refcount schemes of a range-API driver ---------------------------

TEST(SeedScenarios, RefcountDropAtStartFlushesBeforeTheFree) {
  for (const char* policy : kPolicies) {
    const SimRun r = run_config("seeds/004_refcount_schemes", policy);
    ASSERT_EQ(r.status, 0) << policy << "\n" << r.output;
    EXPECT_EQ(total_violations(r), 0u) << policy;
    EXPECT_EQ(ok_reads(r, "DEV-thread-0"), std::vector<uint64_t>{1}) << policy;
    EXPECT_EQ(dev_errors(r, "DEV-thread-0"), 1u) << policy;  // buf is gone
    EXPECT_EQ(driver_stat(r, "flushes"), 1) << policy;
    EXPECT_EQ(mmu_stat(r, "invalidations"), 1) << policy;
  }
}

TEST(SeedScenarios, RefcountDropAtEndKeepsThePageUntilTheFlush) {
  for (const char* policy : kPolicies) {
    const SimRun r =
        run_config("seeds/004_refcount_schemes", policy, "--set device.0.mirror.refcount=drop_at_end");
    ASSERT_EQ(r.status, 0) << policy << "\n" << r.output;
    EXPECT_EQ(total_violations(r), 0u) << policy;
    // The device TLB still maps the old page, which the driver's reference keeps.
    EXPECT_EQ(ok_reads(r, "DEV-thread-0"), (std::vector<uint64_t>{1, 1})) << policy;
    EXPECT_EQ(driver_stat(r, "flushes"), 1) << policy;
  }
}

TEST(SeedScenarios, RefcountDroppedBeforeTheFlushIsUseAfterFree) {
  for (const char* policy : kPolicies) {
    const SimRun r = run_config("seeds/004_refcount_schemes", policy,
                                "--set device.0.mirror.refcount=drop_before_flush");
    EXPECT_EQ(r.status, 0) << policy << "\n" << r.output;
    EXPECT_GE(checker(r, "use_after_free"), 1u) << policy;
    EXPECT_EQ(ok_reads(r, "DEV-thread-0"), (std::vector<uint64_t>{1, 7})) << policy;
  }
}

// ---- 004: interval notifier, a fault-in colliding with an invalidation -------------

TEST(SeedScenarios, IntervalCollisionRetries) {
  for (const char* policy : kPolicies) {
    const SimRun r = run_config("seeds/004_interval_collision", policy);
    ASSERT_EQ(r.status, 0) << policy << "\n" << r.output;
    EXPECT_EQ(total_violations(r), 0u) << policy;
    EXPECT_EQ(driver_stat(r, "fault_retries"), 1) << policy;
    EXPECT_TRUE(ok_reads(r, "DEV-thread-0").empty()) << policy;
    EXPECT_EQ(dev_errors(r, "DEV-thread-0"), 1u) << policy;
  }
}

TEST(SeedScenarios, IntervalCollisionWithoutTheRetryCheckIsUseAfterFree) {
  for (const char* policy : kPolicies) {
    const SimRun r = run_config("seeds/004_interval_collision", policy,
                                "--set device.0.mirror.check_retry=false");
    EXPECT_EQ(r.status, 0) << policy << "\n" << r.output;
    EXPECT_GE(checker(r, "use_after_free"), 1u) << policy;
    EXPECT_EQ(driver_stat(r, "fault_retries"), 0) << policy;
    EXPECT_EQ(ok_reads(r, "DEV-thread-0"), std::vector<uint64_t>{7}) << policy;
  }
}

}  // namespace
}  // namespace iosim
