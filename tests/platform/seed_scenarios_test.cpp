// The seed texts case by case (configs/seeds/): each config run by the real iommu-sim
// binary under both os.secondary_tlb_flush values, its verdict asserted from the
// --stats JSON (checker counts, what the device read, the driver's counters).
#include "tests/platform/sim_run.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
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
// ---- 001: cases A and B, and the write-protect exception ---------------------------

// Each case's checker under range_end, and clean under under_ptl.
struct Case {
  const char* config;
  const char* checker;  // the one that fires under range_end (nullptr: none)
};

TEST(SeedScenarios, Seed001CasesFireOnlyWhenTheFlushIsDeferred) {
  const Case cases[] = {{"seeds/001_case_a_munmap", "use_after_free"},
                        {"seeds/001_case_b_cow", "stale_after_newer_write"},
                        {"seeds/001_case_b_zero_page", "stale_after_newer_write"},
                        {"seeds/001_case_b_page_replace", "stale_after_newer_write"},
                        {"seeds/001_write_protect_ksm", nullptr},
                        {"seeds/003_invalidate_page_vs_range_end", "use_after_free"}};
  for (const Case& c : cases) {
    const SimRun late = run_config(c.config, "range_end");
    ASSERT_FALSE(late.stats.is_null()) << c.config << "\n" << late.output;
    if (c.checker) {
      EXPECT_GE(checker(late, c.checker), 1u) << c.config;
      EXPECT_EQ(total_violations(late), checker(late, c.checker)) << c.config;
    } else {
      EXPECT_EQ(total_violations(late), 0u) << c.config;
    }
    const SimRun safe = run_config(c.config, "under_ptl");
    ASSERT_FALSE(safe.stats.is_null()) << c.config << "\n" << safe.output;
    EXPECT_EQ(total_violations(safe), 0u) << c.config;
  }
}

TEST(SeedScenarios, ZeroPageAndPageReplaceReadsShowTheStaleTranslation) {
  for (const char* config : {"seeds/001_case_b_zero_page", "seeds/001_case_b_page_replace"}) {
    const uint64_t old_value = std::string(config).find("zero") != std::string::npos ? 0 : 1;
    EXPECT_EQ(ok_reads(run_config(config, "range_end"), "DEV-thread-0"),
              (std::vector<uint64_t>{old_value, old_value}))
        << config;
    EXPECT_EQ(ok_reads(run_config(config, "under_ptl"), "DEV-thread-0"),
              (std::vector<uint64_t>{old_value, 3}))
        << config;
  }
}

// ---- 003: repeated invalidations ---------------------------------------------------

TEST(SeedScenarios, RepeatedInvalidationIsCountedAndHarmless) {
  for (const char* policy : kPolicies) {
    for (const char* api : {"range", "interval"}) {
      const SimRun r = run_config("seeds/003_repeated_invalidation", policy,
                                  std::string("--set device.0.mirror.api=") + api);
      ASSERT_EQ(r.status, 0) << policy << " " << api << "\n" << r.output;
      EXPECT_EQ(total_violations(r), 0u) << policy << " " << api;
      EXPECT_EQ(driver_stat(r, "repeated_invalidations"), 1) << policy << " " << api;
      EXPECT_EQ(driver_stat(r, "flushes"), 1) << policy << " " << api;
      EXPECT_EQ(driver_stat(r, "ptes_written"), 2) << policy << " " << api;
      EXPECT_EQ(ok_reads(r, "DEV-thread-0"), (std::vector<uint64_t>{1, 0})) << policy << " " << api;
    }
  }
}

// ---- 003: registration in the middle of a range ----------------------------------

TEST(SeedScenarios, RegistrationTakingAllLocksWaitsForTheRange) {
  for (const char* policy : kPolicies) {
    const SimRun r = run_config("seeds/003_register_mid_range", policy);
    ASSERT_EQ(r.status, 0) << policy << "\n" << r.output;
    EXPECT_EQ(total_violations(r), 0u) << policy;
    EXPECT_EQ(ok_reads(r, "DEV-thread-0"), std::vector<uint64_t>{5}) << policy;
    EXPECT_EQ(dev_errors(r, "DEV-thread-0"), 1u) << policy;  // before the bind completed
    EXPECT_FALSE(r.stats.contains("kernel_diagnostics")) << policy;
  }
}

TEST(SeedScenarios, RegistrationInsideTheRangeEstablishesAStaleMapping) {
  for (const char* policy : kPolicies) {
    const SimRun r = run_config("seeds/003_register_mid_range", policy,
                                "--set os.mm.notifier.register_take_all_locks=false");
    ASSERT_EQ(r.status, 0) << policy << "\n" << r.output;
    EXPECT_GE(checker(r, "stale_after_newer_write"), 1u) << policy;
    EXPECT_EQ(ok_reads(r, "DEV-thread-0"), (std::vector<uint64_t>{1, 1})) << policy;
    const Json& d = r.stats.at("kernel_diagnostics");
    EXPECT_EQ(d.at("spte_inside_range").get<double>(), 1) << policy;
    EXPECT_EQ(d.at("unbalanced_end").get<double>(), 1) << policy;
    EXPECT_NE(r.output.find("kernel: ["), std::string::npos) << policy;
  }
}

// ---- 003: the young bit cleared twice --------------------------------------------

TEST(SeedScenarios, AgingTwiceIsHarmless) {
  for (const char* policy : kPolicies) {
    const SimRun r = run_config("seeds/003_young_twice", policy);
    ASSERT_EQ(r.status, 0) << policy << "\n" << r.output;
    EXPECT_EQ(total_violations(r), 0u) << policy;
    EXPECT_EQ(op_results(r, "CPU-thread-0", "clear_flush_young"), (std::vector<int64_t>{1, 0}))
        << policy;
    EXPECT_EQ(driver_stat(r, "young_calls"), 2) << policy;
    EXPECT_EQ(driver_stat(r, "flushes"), 1) << policy;
    EXPECT_EQ(driver_stat(r, "faults"), 2) << policy;
    EXPECT_EQ(ok_reads(r, "DEV-thread-0"), (std::vector<uint64_t>{1, 1})) << policy;
  }
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
    const SimRun r = run_config("seeds/004_refcount_schemes", policy,
                                "--set device.0.mirror.refcount=drop_at_end");
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

// ---- 004: release at exit --------------------------------------------------------

TEST(SeedScenarios, ReleaseAtExitTearsDownTheDeviceMappingsFirst) {
  for (const char* policy : kPolicies) {
    for (const char* api : {"range", "interval"}) {
      const SimRun r = run_config("seeds/004_release_mirror", policy,
                                  std::string("--set device.0.mirror.api=") + api);
      ASSERT_EQ(r.status, 0) << policy << " " << api << "\n" << r.output;
      EXPECT_EQ(total_violations(r), 0u) << policy << " " << api;
      EXPECT_EQ(driver_stat(r, "flushes"), 1) << policy << " " << api;
      EXPECT_EQ(ok_reads(r, "DEV-thread-0"), std::vector<uint64_t>{1}) << policy << " " << api;
      EXPECT_EQ(dev_errors(r, "DEV-thread-0"), 1u) << policy << " " << api;
      EXPECT_GE(driver_stat(r, "fault_failures"), 1) << policy << " " << api;
    }
  }
}

// ---- 004: owner filtering ----------------------------------------------------------

TEST(SeedScenarios, TheDriversOwnExclusiveRangeIsSkippedTheRestoreIsNot) {
  for (const char* policy : kPolicies) {
    const SimRun r = run_config("seeds/004_owner_filter", policy);
    ASSERT_EQ(r.status, 0) << policy << "\n" << r.output;
    EXPECT_EQ(total_violations(r), 0u) << policy;
    EXPECT_EQ(driver_stat(r, "owner_skipped"), 1) << policy;
    EXPECT_EQ(driver_stat(r, "flushes"), 1) << policy;  // the restore's range only
    EXPECT_EQ(driver_stat(r, "faults"), 2) << policy;   // the first read and the last
    EXPECT_EQ(ok_reads(r, "DEV-thread-0"), (std::vector<uint64_t>{1, 1, 2})) << policy;
  }
}

// ---- 004: the non-blocking start --------------------------------------------------

TEST(SeedScenarios, NonBlockingStartFailsWhileTheIntervalDriverWouldSleep) {
  for (const char* policy : kPolicies) {
    const SimRun r = run_config("seeds/004_nonblocking_start", policy);
    ASSERT_EQ(r.status, 0) << policy << "\n" << r.output;
    EXPECT_EQ(total_violations(r), 0u) << policy;
    EXPECT_EQ(driver_stat(r, "would_block"), 1) << policy;
    EXPECT_EQ(stat(r, {"os", "oom_reaper", "start_failures"}), 1) << policy;
    EXPECT_EQ(op_results(r, "Reaper", "oom_reap"), std::vector<int64_t>{2}) << policy;
    EXPECT_EQ(ok_reads(r, "DEV-thread-0"), (std::vector<uint64_t>{3, 0})) << policy;
  }
}

TEST(SeedScenarios, NonBlockingStartOfARangeDriverNeverFails) {
  for (const char* policy : kPolicies) {
    const SimRun r =
        run_config("seeds/004_nonblocking_start", policy, "--set device.0.mirror.api=range");
    ASSERT_EQ(r.status, 0) << policy << "\n" << r.output;
    EXPECT_EQ(total_violations(r), 0u) << policy;
    EXPECT_EQ(driver_stat(r, "would_block"), 0) << policy;
    EXPECT_EQ(op_results(r, "Reaper", "oom_reap"), std::vector<int64_t>{1}) << policy;
  }
}

// Four mirror devices on one mm under a storm of invalidations: each driver flushes,
// and no device mapping is made inside a range its driver did not see start.
TEST(SeedScenarios, MirrorDevicesUnderTheInvalidationStormAreClean) {
  for (const char* api : {"interval", "range"}) {
    const SimRun r =
        run_config("invalidation_storm", "under_ptl",
                   std::string("--set device.kind=mirror --set device.mirror.api=") + api);
    ASSERT_FALSE(r.stats.is_null()) << api << "\n" << r.output;
    EXPECT_EQ(total_violations(r), 0u) << api;
    EXPECT_FALSE(r.stats.contains("kernel_diagnostics")) << api << "\n" << r.output;
    for (int d = 0; d < 4; ++d) {
      const std::string drv = "mirror_driver" + std::to_string(d);
      EXPECT_GT(stat(r, {drv.c_str(), "flushes"}), 0) << api << " " << drv;
    }
  }
}

// Every seed config is in the README's table of seed cases.
TEST(SeedScenarios, EverySeedConfigIsListedInTheReadme) {
  std::ifstream f(std::string(IOSIM_CONFIG_DIR) + "/../README.md");
  std::stringstream readme;
  readme << f.rdbuf();
  size_t configs = 0;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(IOSIM_CONFIG_DIR) + "/seeds")) {
    if (e.path().extension() != ".cfg") continue;
    ++configs;
    const std::string name = "`seeds/" + e.path().filename().string() + "`";
    EXPECT_NE(readme.str().find(name), std::string::npos) << name;
  }
  EXPECT_GE(configs, 10u);
}

}  // namespace
}  // namespace iosim
