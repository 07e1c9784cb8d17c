#include "os/os_config.h"

#include <gtest/gtest.h>

#include "sc_models/config/params.h"

namespace iosim {
namespace {

TEST(OsConfig, ParametersAreListedAndAssignable) {
  OsConfig c;
  bool found_policy = false, found_ptl = false;
  for (const ParamInfo& p : list_params(c, "os.")) {
    if (p.name == "os.secondary_tlb_flush") {
      found_policy = true;
      EXPECT_EQ(p.default_value, "under_ptl");
      EXPECT_EQ(p.choices, "under_ptl|range_end");
    }
    if (p.name == "os.mm.page_table_lock.acquire_ns") found_ptl = true;
  }
  EXPECT_TRUE(found_policy);
  EXPECT_TRUE(found_ptl);
  EXPECT_TRUE(assign_param(c, "secondary_tlb_flush", "range_end"));
  EXPECT_EQ(c.secondary_tlb_flush, SecondaryTlbFlush::kRangeEnd);
  EXPECT_THROW(assign_param(c, "secondary_tlb_flush", "later"), ParamError);
  EXPECT_TRUE(assign_param(c, "preempt_hold_ns", "2500"));
  EXPECT_DOUBLE_EQ(c.preempt_hold_ns, 2500.0);
}

TEST(OsConfig, ValidateNamesTheBadParameter) {
  OsConfig c;
  c.page_copy_gb_per_s = 0;
  try {
    c.validate();
    FAIL();
  } catch (const ParamError& e) {
    EXPECT_NE(std::string(e.what()).find("os.page_copy_gb_per_s"), std::string::npos);
  }
  c = OsConfig{};
  c.pte_update_ns = -1;
  EXPECT_THROW(c.validate(), ParamError);
}

}  // namespace
}  // namespace iosim
