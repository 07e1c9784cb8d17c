// configs/arch_compare.cfg gives the README's architecture tables: the p50 of ten
// munmaps of each size, from the notifier call to the completion software sees.
#include <gtest/gtest.h>

#include <string>

#include "sim_run.h"

namespace iosim {
namespace {

// p50 (ns) of sva.invalidation_latency_by_range.<bucket>, after checking that the
// bucket holds the config's ten munmaps.
double p50(const SimRun& r, const char* bucket) {
  const Json& h = r.stats.at("sva").at("invalidation_latency_by_range").at(bucket);
  EXPECT_EQ(h.at("count").get<double>(), 10.0) << bucket;
  return h.at("p50").get<double>();
}

SimRun run(const std::string& sets) {
  SimRun r = run_config("arch_compare", "under_ptl", sets);
  EXPECT_EQ(r.status, 0) << r.output;
  return r;
}

const char* const kBuckets[] = {"1_page", "2_16_pages", "17_512_pages", "over_512_pages"};

TEST(ArchCompare, VtdOneWaitWhateverTheRange) {
  const SimRun one = run("--set iommu.arch=vtd --set device.count=1");
  const SimRun four = run("--set iommu.arch=vtd --set device.count=4");
  for (const char* b : kBuckets) EXPECT_EQ(p50(one, b), 1516.0) << b;
  for (const char* b : {"1_page", "2_16_pages", "17_512_pages"}) EXPECT_EQ(p50(four, b), 1936.0);
  EXPECT_EQ(p50(four, "over_512_pages"), 1944.0);
}

TEST(ArchCompare, Smmuv3TwoSyncsOneRangeCommand) {
  const SimRun one = run("--set iommu.arch=smmuv3 --set device.count=1");
  const SimRun four = run("--set iommu.arch=smmuv3 --set device.count=4");
  for (const char* b : kBuckets) {
    EXPECT_EQ(p50(one, b), 1842.0) << b;
    EXPECT_EQ(p50(four, b), 2262.0) << b;
  }
  // One command queue batch with one CMD_TLBI_NH_VA per munmap, one with the ATC_INV.
  const Json& cq = one.stats.at("iommu").at("command_queue");
  EXPECT_EQ(cq.at("cmd_tlbi_nh_va_count").at("value").get<double>(), 40.0);
}

TEST(ArchCompare, Smmuv3WithoutRangeInvalidationTlbiPerPageBelow512) {
  const SimRun r = run(
      "--set iommu.arch=smmuv3 --set device.count=1 --set iommu.smmuv3.range_invalidation=false");
  EXPECT_EQ(p50(r, "1_page"), 1842.0);
  EXPECT_EQ(p50(r, "2_16_pages"), 3812.0);    // 16 CMD_TLBI_NH_VA
  EXPECT_EQ(p50(r, "17_512_pages"), 1848.0);  // 512 pages: CMD_TLBI_NH_ASID
  EXPECT_EQ(p50(r, "over_512_pages"), 1842.0);
  const Json& cq = r.stats.at("iommu").at("command_queue");
  EXPECT_EQ(cq.at("cmd_tlbi_nh_va_count").at("value").get<double>(), 10.0 * (1 + 16));
  EXPECT_EQ(cq.at("cmd_tlbi_nh_asid_count").at("value").get<double>(), 20.0);
}

TEST(ArchCompare, RiscvIotinvalPerPageBelowTwoMebibytes) {
  const SimRun one = run("--set iommu.arch=riscv --set device.count=1");
  EXPECT_EQ(p50(one, "1_page"), 2012.0);
  EXPECT_EQ(p50(one, "2_16_pages"), 3822.0);    // 16 IOTINVAL.VMA
  EXPECT_EQ(p50(one, "17_512_pages"), 2012.0);  // 2 MiB: one IOTINVAL.VMA by PSCID
  EXPECT_EQ(p50(one, "over_512_pages"), 2012.0);
  const SimRun four = run("--set iommu.arch=riscv --set device.count=4");
  EXPECT_EQ(p50(four, "1_page"), 2452.0);
}

TEST(ArchCompare, AmdviWaitsForEachDevice) {
  const SimRun one = run("--set iommu.arch=amdvi --set device.count=1");
  const SimRun four = run("--set iommu.arch=amdvi --set device.count=4");
  const SimRun legacy =
      run("--set iommu.arch=amdvi --set sva.policy=amd_legacy --set device.count=1");
  for (const char* b : kBuckets) {
    EXPECT_EQ(p50(one, b), 1486.0) << b;
    EXPECT_EQ(p50(four, b), 4 * 1486.0) << b;  // one completion wait per device in turn
    EXPECT_EQ(p50(legacy, b), 1806.0) << b;    // a wait after each of the two commands
  }
}

}  // namespace
}  // namespace iosim
