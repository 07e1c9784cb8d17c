#include "cpu/tlb_shootdown.h"

#include <gtest/gtest.h>

#include "os/diagnostics.h"
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

TlbShootdownConfig round_config() {
  TlbShootdownConfig c;
  c.ipi_round_trip_ns = 2000;
  c.ipi_send_ns = 100;
  c.invlpg_ns = 80;
  c.full_flush_ns = 150;
  return c;
}

TEST(TlbShootdown, CostGrowsWithTheNumberOfTargetCores) {
  const TlbShootdownConfig cfg = round_config();
  CpuBench b(5, cfg);
  std::vector<double> cost;
  std::vector<bool> remote_flushed;
  run_thread([&] {
    Mm& mm = b.os.create_mm(1);
    for (unsigned targets : {0u, 1u, 2u, 4u}) {
      std::set<int> mask = {0};
      for (unsigned i = 1; i <= targets; ++i) mask.insert(static_cast<int>(i));
      for (auto& c : b.core) prime_tlb(*c, kVa);
      const sc_time t0 = sc_time_stamp();
      b.shootdown.flush_tlb_range(mm, mask, kVa, kVa + kPage, 0);
      cost.push_back(to_ns(sc_time_stamp() - t0));
      bool all = !tlb_holds(*b.core[0], kVa);
      for (unsigned i = 1; i <= targets; ++i) all = all && !tlb_holds(*b.core[i], kVa);
      remote_flushed.push_back(all);
      if (targets < 4) {
        EXPECT_TRUE(tlb_holds(*b.core[4], kVa));  // not running the mm: untouched
      }
    }
  });
  // local invlpg; + per target one IPI send; + one round trip and the remote invlpg.
  const double local = cfg.invlpg_ns;
  EXPECT_DOUBLE_EQ(cost[0], local);
  EXPECT_DOUBLE_EQ(cost[1], local + 1 * cfg.ipi_send_ns + cfg.ipi_round_trip_ns + cfg.invlpg_ns);
  EXPECT_DOUBLE_EQ(cost[2], local + 2 * cfg.ipi_send_ns + cfg.ipi_round_trip_ns + cfg.invlpg_ns);
  EXPECT_DOUBLE_EQ(cost[3], local + 4 * cfg.ipi_send_ns + cfg.ipi_round_trip_ns + cfg.invlpg_ns);
  EXPECT_LT(cost[1], cost[2]);
  EXPECT_LT(cost[2], cost[3]);
  EXPECT_EQ(remote_flushed, (std::vector<bool>{true, true, true, true}));
  EXPECT_EQ(b.shootdown.ipis_sent(), 7u);
}

TEST(TlbShootdown, AboveTheCeilingTheWholeTlbIsFlushed) {
  const TlbShootdownConfig cfg = round_config();
  CpuBench b(1, cfg);
  double cost33 = 0, cost34 = 0;
  run_thread([&] {
    Mm& mm = b.os.create_mm(1);
    sc_time t0 = sc_time_stamp();
    b.shootdown.flush_tlb_range(mm, {0}, kVa, kVa + 33 * kPage, 0);
    cost33 = to_ns(sc_time_stamp() - t0);
    prime_tlb(*b.core[0], kVa);
    TranslationEntry far;  // outside the flushed range: only a full flush drops it
    far.domain = 1;
    far.base = kVa + 1000 * kPage;
    b.core[0]->tlb().insert(far);
    t0 = sc_time_stamp();
    b.shootdown.flush_tlb_range(mm, {0}, kVa, kVa + 34 * kPage, 0);
    cost34 = to_ns(sc_time_stamp() - t0);
    EXPECT_EQ(b.core[0]->tlb().size(), 0u);
  });
  EXPECT_DOUBLE_EQ(cost33, 33 * cfg.invlpg_ns);
  EXPECT_DOUBLE_EQ(cost34, cfg.full_flush_ns);
  EXPECT_EQ(b.shootdown.full_flushes(), 1u);
}

}  // namespace
}  // namespace iosim
