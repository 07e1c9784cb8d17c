#include "sc_models/sim/sim_context.h"

#include <gtest/gtest.h>

namespace iosim {
namespace {

TEST(SimContext, EachContextKeepsItsOwnStatistics) {
  SimContext a;
  SimContext b;
  // The same path in both: no clash, since each context has its own tree.
  Counter& na = a.stats().group("top").counter("n", "", "");
  Counter& nb = b.stats().group("top").counter("n", "", "");
  na.add(2);
  nb.add(5);
  EXPECT_EQ(a.stats().find_as<Counter>("top.n")->value(), 2u);
  EXPECT_EQ(b.stats().find_as<Counter>("top.n")->value(), 5u);
}

}  // namespace
}  // namespace iosim
