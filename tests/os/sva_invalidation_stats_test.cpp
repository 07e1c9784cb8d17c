// SvaInvalidationStats: the range-size buckets, and the SVA driver's invalidation
// latency broken down by notifier event and range size for memory-manager calls of
// known ranges, under both notifier placements (arch_invalidate_secondary_tlbs
// under the PTL, invalidate_range_end after it).
#include "os/sva_invalidation_stats.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "sva_bench.h"

namespace iosim {
namespace {

using sc_core::sc_time;
using test::kRid;
using test::run_thread;
using test::SvaBench;

constexpr uint64_t kPage = 4096;
constexpr uint64_t kVa = uint64_t{1} << 32;

TEST(SvaInvalidationStats, PagesRoundUpAndFallInTheirBucket) {
  EXPECT_EQ(SvaInvalidationStats::pages_of(0, kPage), 1u);
  EXPECT_EQ(SvaInvalidationStats::pages_of(0, kPage + 1), 2u);
  EXPECT_EQ(SvaInvalidationStats::pages_of(kPage, kPage), 0u);
  EXPECT_EQ(SvaInvalidationStats::pages_of(0, ~uint64_t{0}), uint64_t{1} << 52);
  const std::map<uint64_t, std::string> cases{{1, "1_page"},
                                              {2, "2_16_pages"},
                                              {16, "2_16_pages"},
                                              {17, "17_512_pages"},
                                              {512, "17_512_pages"},
                                              {513, "over_512_pages"},
                                              {uint64_t{1} << 52, "over_512_pages"}};
  for (const auto& [pages, name] : cases) {
    EXPECT_EQ(SvaInvalidationStats::range_names().at(SvaInvalidationStats::range_bucket(pages)),
              name)
        << pages;
  }
  EXPECT_EQ(SvaInvalidationStats::event_names(),
            (std::vector<std::string>{"unmap", "clear", "protection_vma", "protection_page",
                                      "soft_dirty", "release", "migrate", "exclusive", "none"}));
}

const Histogram& hist(const StatRegistry& stats, const char* group, const std::string& name) {
  const std::string path = std::string("sva.") + group + "." + name;
  const auto* h = stats.find_as<Histogram>(path);
  if (!h) throw std::runtime_error("no histogram " + path);
  return *h;
}

uint64_t by_event(const StatRegistry& stats, const std::string& e) {
  return hist(stats, SvaInvalidationStats::kByEventGroup, e).count();
}
uint64_t by_range(const StatRegistry& stats, const std::string& r) {
  return hist(stats, SvaInvalidationStats::kByRangeGroup, r).count();
}

class SvaBreakdown : public ::testing::TestWithParam<const char*> {};

// munmap 1 page, madvise 16, mprotect 17, munmap 600 (every page present, so the
// memory manager flushes each range), and one direct driver call of 2 pages.
TEST_P(SvaBreakdown, CountsFollowTheNotifierEventAndTheRangeSize) {
  SvaBench b(test::sva_os(GetParam()));
  sc_time direct;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid, false, false);
    Mm& mm = b.new_mm(1, kVa, 1024);
    b.drv.bind(mm, kRid, 0);
    for (uint64_t p : {0, 1}) b.os.handle_fault(mm, 0, kVa + p * kPage, true);
    for (uint64_t p = 16; p < 32; ++p) b.os.handle_fault(mm, 0, kVa + p * kPage, true);
    for (uint64_t p = 64; p < 81; ++p) b.os.handle_fault(mm, 0, kVa + p * kPage, true);
    for (uint64_t p = 128; p < 728; ++p) b.os.handle_fault(mm, 0, kVa + p * kPage, true);
    EXPECT_EQ(b.os.munmap(mm, 0, kVa, kPage), 0);
    EXPECT_EQ(b.os.madvise_dontneed(mm, 0, kVa + 16 * kPage, 16 * kPage), 0);
    EXPECT_EQ(b.os.mprotect(mm, 0, kVa + 64 * kPage, 17 * kPage, kProtRead), 0);
    EXPECT_EQ(b.os.munmap(mm, 0, kVa + 128 * kPage, 600 * kPage), 0);
    const sc_time t0 = sc_core::sc_time_stamp();
    b.drv.invalidate(mm, kVa + kPage, kVa + 3 * kPage);  // outside any notifier range
    direct = sc_core::sc_time_stamp() - t0;
  });
  const StatRegistry& stats = b.sim.stats();
  const auto* all = stats.find_as<Histogram>("sva.invalidation_latency");
  ASSERT_NE(all, nullptr);
  ASSERT_EQ(all->count(), 5u);
  EXPECT_EQ(by_event(stats, "unmap"), 2u);
  EXPECT_EQ(by_event(stats, "clear"), 1u);
  EXPECT_EQ(by_event(stats, "protection_vma"), 1u);
  EXPECT_EQ(by_event(stats, "none"), 1u);
  uint64_t events = 0;
  for (const std::string& e : SvaInvalidationStats::event_names()) events += by_event(stats, e);
  EXPECT_EQ(events, all->count());
  EXPECT_EQ(by_range(stats, "1_page"), 1u);
  EXPECT_EQ(by_range(stats, "2_16_pages"), 2u);  // madvise 16 and the direct call's 2
  EXPECT_EQ(by_range(stats, "17_512_pages"), 1u);
  EXPECT_EQ(by_range(stats, "over_512_pages"), 1u);
  uint64_t ranges = 0;
  for (const std::string& r : SvaInvalidationStats::range_names()) ranges += by_range(stats, r);
  EXPECT_EQ(ranges, all->count());
  // The same latencies as the total: the direct call's is the one "none" sample, and
  // the largest of all is the largest of some event and of some range.
  EXPECT_EQ(hist(stats, SvaInvalidationStats::kByEventGroup, "none").max(), time_in_ns(direct));
  double event_max = 0, range_max = 0;
  for (const std::string& e : SvaInvalidationStats::event_names()) {
    const Histogram& h = hist(stats, SvaInvalidationStats::kByEventGroup, e);
    if (h.count()) event_max = std::max(event_max, h.max());
  }
  for (const std::string& r : SvaInvalidationStats::range_names()) {
    const Histogram& h = hist(stats, SvaInvalidationStats::kByRangeGroup, r);
    if (h.count()) range_max = std::max(range_max, h.max());
  }
  EXPECT_EQ(event_max, all->max());
  EXPECT_EQ(range_max, all->max());
}

INSTANTIATE_TEST_SUITE_P(BothPlacements, SvaBreakdown, ::testing::Values("under_ptl", "range_end"));

}  // namespace
}  // namespace iosim
