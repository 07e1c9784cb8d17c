// configs/huge_pages.cfg gives what its header states: the huge-page events, the
// invalidations they cause and their latency; and every shipped config gives the same
// checker verdicts with transparent huge pages on as with them off.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sim_run.h"

namespace iosim {
namespace {

double num(const Json& j) {
  return j.get<double>();
}

TEST(HugePages, SplitsCollapseAndMigrationInvalidateTwoMebibytes) {
  const SimRun r = run_config("huge_pages", "under_ptl");
  ASSERT_EQ(r.status, 0) << r.output;
  const Json& thp = r.stats.at("os").at("thp");
  EXPECT_EQ(num(thp.at("thp_fault_alloc").at("value")), 2.0);
  EXPECT_EQ(num(thp.at("thp_split_pmd").at("value")), 2.0);
  EXPECT_EQ(num(thp.at("thp_collapse_alloc").at("value")), 1.0);
  EXPECT_EQ(num(thp.at("thp_migration_success").at("value")), 1.0);
  const Json& sva = r.stats.at("sva");
  EXPECT_EQ(num(sva.at("invalidations").at("value")), 6.0);
  const Json& by_range = sva.at("invalidation_latency_by_range");
  EXPECT_EQ(num(by_range.at("17_512_pages").at("count")), 4.0);
  EXPECT_EQ(num(by_range.at("1_page").at("count")), 2.0);
  const Json& by_event = sva.at("invalidation_latency_by_event");
  EXPECT_EQ(num(by_event.at("clear").at("count")), 4.0);
  EXPECT_EQ(num(by_event.at("protection_vma").at("count")), 1.0);
  EXPECT_EQ(num(by_event.at("migrate").at("count")), 1.0);
  EXPECT_EQ(num(sva.at("invalidation_latency").at("p50")), 1516.0);
  EXPECT_LT(num(sva.at("invalidation_latency").at("max")), 2000.0);
  EXPECT_EQ(total_violations(r), 0u);
  // 2 MiB ATC entries: a handful of translations serve every read.
  const Json& s = r.stats.at("summary");
  EXPECT_EQ(num(s.at("dma_requests")), 3000.0);
  EXPECT_EQ(num(s.at("translation_latency_ns").at("count")), 11.0);
}

// On every architecture; on AMD-Vi a walk in flight when the collapse clears the PMD
// once set the Accessed bit on the entry it had read, writing the cleared PMD back
// (the device then read the freed frames): A/D updates are locked compare-and-exchanges.
TEST(HugePages, CleanOnEveryArchitecture) {
  for (const char* arch : {"smmuv3", "riscv", "amdvi"}) {
    SCOPED_TRACE(arch);
    const SimRun r = run_config("huge_pages", "under_ptl", std::string("--set iommu.arch=") + arch);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(total_violations(r), 0u);
    EXPECT_EQ(num(r.stats.at("sva").at("invalidations").at("value")), 6.0);
  }
}

// Case B of mmu_notifier.rst for a huge PMD pointing to a new page (migration of a
// 2 MiB page): the device reads the old page after the CPU wrote the new one only when
// the secondary TLBs are flushed at invalidate_range_end, on every architecture.
TEST(HugePages, CaseBForAHugePmdAppearsOnlyUnderRangeEnd) {
  for (const char* arch : {"vtd", "smmuv3", "riscv", "amdvi"}) {
    SCOPED_TRACE(arch);
    const std::string set = std::string("--set iommu.arch=") + arch;
    const SimRun late = run_config("seeds/001_case_b_huge_pmd", "range_end", set);
    const SimRun ptl = run_config("seeds/001_case_b_huge_pmd", "under_ptl", set);
    ASSERT_NE(late.status, 2) << late.output;
    EXPECT_EQ(checker(late, "stale_after_newer_write"), 1u);
    EXPECT_EQ(checker(late, "use_after_free"), 0u);
    EXPECT_EQ(dev_reads(late, "DEV-thread-0"), (std::vector<uint64_t>{1, 1}));
    EXPECT_EQ(total_violations(ptl), 0u);
    EXPECT_EQ(dev_reads(ptl, "DEV-thread-0"), (std::vector<uint64_t>{1, 3}));
    EXPECT_EQ(num(ptl.stats.at("os").at("thp").at("thp_migration_success").at("value")), 1.0);
  }
}

class ThpVerdicts : public ::testing::TestWithParam<ConfigPoint> {};

// The seed texts' cases hold for huge pages too (001's case B names pmd changes): every
// config gives the same exit status and the same checker verdicts with os.thp=always.
TEST_P(ThpVerdicts, SameWithTransparentHugePages) {
  const ConfigPoint& p = GetParam();
  const SimRun off = run_config(p.config, p.flush, "--set os.thp=never");
  const SimRun on = run_config(p.config, p.flush, "--set os.thp=always");
  ASSERT_NE(off.status, 2) << off.output;
  ASSERT_EQ(off.status, on.status) << "never:\n" << off.output << "\nalways:\n" << on.output;
  for (const char* c : {"use_after_free", "stale_after_newer_write", "write_after_protect",
                        "completion_contract"}) {
    EXPECT_EQ(checker(off, c) > 0, checker(on, c) > 0)
        << c << ": never " << checker(off, c) << ", always " << checker(on, c);
  }
}

INSTANTIATE_TEST_SUITE_P(Shipped, ThpVerdicts,
                         ::testing::ValuesIn(shipped_config_points("huge_pages")),
                         config_point_name);

}  // namespace
}  // namespace iosim
