// Every shipped config (configs/*.cfg and configs/seeds/*.cfg), under both
// os.secondary_tlb_flush values, gives the same verdicts on every IOMMU architecture as
// on VT-d: the same exit status, and each checker (the four ordering checkers and
// pasid_reuse_stale) finds violations on one architecture exactly when it finds them
// on the other. The counts themselves may differ (the architectures' invalidations
// take different times), the verdicts may not.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "sim_run.h"

namespace iosim {
namespace {

uint64_t violations(const SimRun& r, const char* name) {
  if (std::string(name) == "pasid_reuse_stale") {
    // Reported only by runs that handed a PASID on.
    if (!r.stats.contains("pasid_reuse")) return 0;
    return static_cast<uint64_t>(r.stats.at("pasid_reuse").at(name).get<double>());
  }
  return checker(r, name);
}

class ArchVerdicts : public ::testing::TestWithParam<ConfigPoint> {};

TEST_P(ArchVerdicts, SameOnEveryArchitecture) {
  const ConfigPoint& p = GetParam();
  const SimRun vtd = run_config(p.config, p.flush, "--set iommu.arch=vtd");
  ASSERT_NE(vtd.status, 2) << vtd.output;
  for (const char* arch : {"smmuv3", "riscv", "amdvi"}) {
    SCOPED_TRACE(arch);
    const SimRun other = run_config(p.config, p.flush, std::string("--set iommu.arch=") + arch);
    ASSERT_EQ(vtd.status, other.status) << "vtd:\n"
                                        << vtd.output << "\n"
                                        << arch << ":\n"
                                        << other.output;
    for (const char* c : {"use_after_free", "stale_after_newer_write", "write_after_protect",
                          "completion_contract", "pasid_reuse_stale"}) {
      const uint64_t a = violations(vtd, c), b = violations(other, c);
      EXPECT_EQ(a > 0, b > 0) << c << ": vtd " << a << ", " << arch << " " << b;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shipped, ArchVerdicts, ::testing::ValuesIn(shipped_config_points()),
                         config_point_name);

}  // namespace
}  // namespace iosim
