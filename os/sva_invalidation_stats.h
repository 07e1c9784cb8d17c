// SvaInvalidationStats: the SVA driver's invalidation latency (notifier callback to
// the wait status seen by software, the driver's `invalidation_latency`) broken
// down where an architect needs it, as histograms in two child groups of the
// driver's stats group:
//
//   <sva>.invalidation_latency_by_event.<event>   the mmu_notifier_range event that
//       caused the invalidation: unmap, clear, protection_vma, protection_page,
//       soft_dirty, release, migrate, exclusive (os/mmu_notifier_range.h), and none
//       for a call outside any notifier range (a direct driver call);
//   <sva>.invalidation_latency_by_range.<bucket>   the pages of the invalidated
//       range [start, end), rounded up: 1_page, 2_16_pages, 17_512_pages,
//       over_512_pages (16: Intel's batch of descriptors; 512: the ARM full-flush
//       threshold and a 2 MiB huge page).
//
// Every histogram exists from the start (an empty one dumps count 0), so the stats
// layout does not depend on what ran. Each sample lands in exactly one histogram of
// each group: both groups' counts add up to the count of invalidation_latency.
#pragma once

#include "os/mmu_notifier_range.h"
#include "sc_models/observe/stats.h"

#include <systemc>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace iosim {

class SvaInvalidationStats {
 public:
  static constexpr const char* kByEventGroup = "invalidation_latency_by_event";
  static constexpr const char* kByRangeGroup = "invalidation_latency_by_range";
  static constexpr size_t kRangeBuckets = 4;

  // Registers the histograms under `driver` (the driver's own group).
  explicit SvaInvalidationStats(StatGroup& driver);

  // One invalidation of [start, end) caused by `event` (nullopt: outside any notifier
  // range) that took `latency`.
  void sample(std::optional<MmuNotifierEvent> event, uint64_t start, uint64_t end,
              const sc_core::sc_time& latency);

  // Histogram names, in dump order: the events in enum order, then "none".
  static const std::vector<std::string>& event_names();
  // Histogram names of the range buckets, smallest first.
  static const std::vector<std::string>& range_names();
  // Index into range_names() of a range of `pages` pages.
  static size_t range_bucket(uint64_t pages);
  // Pages of [start, end), rounded up (0 when end <= start).
  static uint64_t pages_of(uint64_t start, uint64_t end);

 private:
  std::array<Histogram*, kMmuNotifierEventCount + 1> by_event_{};
  std::array<Histogram*, kRangeBuckets> by_range_{};
};

}  // namespace iosim
