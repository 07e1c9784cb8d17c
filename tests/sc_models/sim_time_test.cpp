#include "sc_models/timing/sim_time.h"

#include <gtest/gtest.h>
#include <systemc>

#include <cstdint>

namespace iosim {
namespace {

using sc_core::SC_NS;
using sc_core::SC_PS;
using sc_core::SC_SEC;
using sc_core::sc_time;

// The default resolution, 1 ps: a time converts to the double nearest its exact value.
TEST(SimTime, NanosecondsAreExact) {
  EXPECT_EQ(to_ns(sc_core::SC_ZERO_TIME), 0.0);
  EXPECT_EQ(to_ns(sc_time(1, SC_NS)), 1.0);
  EXPECT_EQ(to_ns(sc_time(1500, SC_PS)), 1.5);
  EXPECT_EQ(to_ns(sc_time(144698419, SC_PS)), 144698.419);  // a boot time in the stats
  // Large: 10 s and 1 ps; 9000 s and 1 ps (near 2^53 ticks, where exactness ends).
  EXPECT_EQ(to_ns(sc_time(10, SC_SEC) + sc_time(1, SC_PS)), 10000000000.001);
  EXPECT_EQ(to_ns(sc_time(9000, SC_SEC) + sc_time(1, SC_PS)), 9000000000000.001);
  EXPECT_EQ(time_in(sc_time(2500, SC_PS), sc_core::SC_US), 0.0025);
  EXPECT_EQ(time_in(sc_time(3, SC_NS), SC_PS), 3000.0);
}

TEST(SimTime, SecondsAreExact) {
  EXPECT_EQ(to_sec(sc_time(3, sc_core::SC_MS)), 0.003);
  EXPECT_EQ(to_sec(sc_time(16706065338, SC_PS)), 0.016706065338);
  EXPECT_EQ(to_sec(sc_time(7, SC_SEC)), 7.0);
}

// Every picosecond count in a range: to_ns is the one rounding of ps / 1000, while
// to_seconds() * 1e9 rounds twice and misses it for some of them (on every kernel;
// which ones depends on how the kernel computes to_seconds()).
TEST(SimTime, OneRoundingWhereToSecondsTimesABillionRoundsTwice) {
  int to_ns_off = 0, to_seconds_off = 0;
  for (uint64_t ps = 1; ps <= 200000; ps += 7) {
    const sc_time t(static_cast<double>(ps), SC_PS);
    const double exact = static_cast<double>(ps) / 1000.0;
    if (to_ns(t) != exact) ++to_ns_off;
    if (t.to_seconds() * 1e9 != exact) ++to_seconds_off;
  }
  EXPECT_EQ(to_ns_off, 0);
  EXPECT_GT(to_seconds_off, 0);
}

}  // namespace
}  // namespace iosim
