// The IOMMU's walker pool under contention: walks get a walker in the order they
// asked for one, and the wait for a walker is bounded by the walks queued ahead.
//
// A stub device sends untranslated 8-byte reads, each to its own page, so every one
// misses the IOTLB and walks (after a warm-up read, so the context, PASID and walk
// caches are warm and every walk costs the same).
#include "iommu/page_walker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <vector>

#include "iommu_bench.h"

namespace iosim {
namespace {

using sc_core::sc_time;
using test::IommuBench;

constexpr uint64_t kVa = 0x40000000;
constexpr double kWarmEndNs = 10000;  // the warm-up read is over by then

struct Read {
  double issue_ns;  // when the device sends it
  sc_time done;     // when its data is back
};

// Reads page i + 1 at reads[i].issue_ns (page 0 is the warm-up read at time 0).
void run_reads(IommuBench& b, std::vector<Read>& reads) {
  const uint64_t root = b.bind(1);
  for (size_t p = 0; p <= reads.size(); ++p) {
    b.editor.map(root, kVa + p * 4096, 0x800000 + p * 4096, PageSize::k4K, IommuBench::kUserRw);
  }
  sc_core::sc_spawn([&b] {
    uint64_t v = 0;
    b.dma(1, kVa, false, &v, 8);
  });
  for (size_t i = 0; i < reads.size(); ++i) {
    sc_core::sc_spawn([&b, &reads, i] {
      test::until(reads[i].issue_ns);
      uint64_t v = 0;
      EXPECT_EQ(b.dma(1, kVa + (i + 1) * 4096, false, &v, 8), tlm::TLM_OK_RESPONSE);
      reads[i].done = sc_core::sc_time_stamp();
    });
  }
  sc_core::sc_start(1, sc_core::SC_SEC, sc_core::SC_EXIT_ON_STARVATION);
}

const Histogram& walker_wait(IommuBench& b) {
  const auto* h = b.ctx.stats().find_as<Histogram>("iommu.walker_wait");
  EXPECT_NE(h, nullptr);
  return *h;
}

// One walker; a first walk holds it while three more arrive 10 ns apart: they get
// it in arrival order, each one walk time after the one before.
TEST(PageWalker, WaitingWalksGetTheWalkerInArrivalOrder) {
  IommuConfig cfg;
  cfg.walker.walkers = 1;
  IommuBench b(cfg);
  std::vector<Read> reads = {
      {kWarmEndNs, {}}, {kWarmEndNs + 10, {}}, {kWarmEndNs + 20, {}}, {kWarmEndNs + 30, {}}};
  run_reads(b, reads);
  const double walk = to_ns(reads[0].done) - kWarmEndNs;  // an idle miss
  for (size_t i = 1; i < reads.size(); ++i) {
    EXPECT_GT(reads[i].done, reads[i - 1].done) << "read " << i << " overtook an earlier one";
    // It waits for every walk ahead of it and then walks.
    EXPECT_NEAR(to_ns(reads[i].done) - to_ns(reads[i - 1].done),
                cfg.walker.walk_overhead_ns + 2 * (90.0 + 8 * 8 / 170.64), 0.01);
  }
  EXPECT_GT(walk, 0.0);
  EXPECT_EQ(b.iommu.walker().busy(), 0u);
}

// Many walks queue at once (64 reads within 64 ns, 2 walkers): they finish in the
// order they were sent, and the longest wait for a walker is what the walks queued
// ahead take (32 rounds of two walks), not unbounded.
TEST(PageWalker, WalkerWaitUnderContentionIsBoundedByTheQueueAhead) {
  IommuConfig cfg;
  cfg.walker.walkers = 2;
  IommuBench b(cfg);
  std::vector<Read> reads;
  for (int i = 0; i < 64; ++i) reads.push_back({kWarmEndNs + i, {}});
  run_reads(b, reads);
  std::vector<size_t> by_done(reads.size());
  for (size_t i = 0; i < by_done.size(); ++i) by_done[i] = i;
  std::stable_sort(by_done.begin(), by_done.end(),
                   [&](size_t x, size_t y) { return reads[x].done < reads[y].done; });
  for (size_t i = 0; i < by_done.size(); ++i) EXPECT_EQ(by_done[i], i);
  // Two walks finish per round (the two walkers), one round after the other.
  const double round_ns = to_ns(reads[2].done) - to_ns(reads[0].done);
  EXPECT_GT(round_ns, cfg.walker.walk_overhead_ns);
  for (size_t i = 2; i < reads.size(); ++i) {
    EXPECT_NEAR(to_ns(reads[i].done) - to_ns(reads[i - 2].done), round_ns, 0.01) << "read " << i;
  }
  const Histogram& h = walker_wait(b);
  EXPECT_EQ(h.count(), 65u);
  // The last read waits for the 31 rounds ahead of it (less the time it came later
  // and its queueing at the IOTLB lookup port); the median one for about 16.
  EXPECT_LE(h.max(), 31 * round_ns);
  EXPECT_GE(h.max(), 30 * round_ns);
  EXPECT_LE(h.percentile(50), 17 * round_ns);
}

}  // namespace
}  // namespace iosim
