// Calibration of the default CPU TLB shootdown: one remote core costs 1-3 us
// (bare-metal round trips, see cpu/tlb_shootdown.h), and the x86 Linux full-flush
// threshold is a parameter defaulting to 33 pages.
#include <gtest/gtest.h>

#include "cpu/tlb_shootdown.h"
#include "tests/cpu/cpu_bench.h"

namespace iosim {
namespace {

using sc_core::sc_time;
using sc_core::sc_time_stamp;
using test::CpuBench;
using test::prime_tlb;
using test::run_thread;
using test::tlb_holds;

constexpr uint64_t kVa = uint64_t{1} << 32;
constexpr uint64_t kPage = 4096;

TEST(ShootdownCalibration, OneRemoteCoreWithDefaultsTakesOneToThreeMicroseconds) {
  const TlbShootdownConfig defaults;
  CpuBench b(2, defaults);
  double cost = 0;
  bool remote_dropped = false;
  run_thread([&] {
    Mm& mm = b.os.create_mm(1);
    prime_tlb(*b.core[0], kVa);
    prime_tlb(*b.core[1], kVa);
    const sc_time t0 = sc_time_stamp();
    b.shootdown.flush_tlb_range(mm, {0, 1}, kVa, kVa + kPage, 0);
    cost = to_ns(sc_time_stamp() - t0);
    remote_dropped = !tlb_holds(*b.core[1], kVa) && !tlb_holds(*b.core[0], kVa);
  });
  EXPECT_GE(cost, 1000.0);
  EXPECT_LE(cost, 3000.0);
  // local INVLPG, one IPI, its round trip and the remote INVLPG: 80 + 100 + 2000 + 80.
  EXPECT_DOUBLE_EQ(cost, 2260.0);
  EXPECT_TRUE(remote_dropped);
  EXPECT_EQ(b.shootdown.ipis_sent(), 1u);
}

TEST(ShootdownCalibration, DefaultCeilingIs33PagesLikeLinuxX86) {
  const TlbShootdownConfig defaults;
  EXPECT_EQ(defaults.single_page_flush_ceiling, 33u);
  CpuBench b(2, defaults);
  uint64_t full_after_33 = 0, full_after_34 = 0;
  run_thread([&] {
    Mm& mm = b.os.create_mm(1);
    b.shootdown.flush_tlb_range(mm, {0, 1}, kVa, kVa + 33 * kPage, 0);
    full_after_33 = b.shootdown.full_flushes();
    b.shootdown.flush_tlb_range(mm, {0, 1}, kVa, kVa + 34 * kPage, 0);
    full_after_34 = b.shootdown.full_flushes();
  });
  EXPECT_EQ(full_after_33, 0u);
  EXPECT_EQ(full_after_34, 1u);  // one call, turned into a full flush of every TLB
}

}  // namespace
}  // namespace iosim
