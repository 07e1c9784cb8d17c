#include "os/sva_invalidation_stats.h"
#include "sc_models/memory/page_size.h"

#include <cctype>

namespace iosim {

namespace {

// Largest page count of each bucket but the last.
constexpr uint64_t kRangeBucketMaxPages[SvaInvalidationStats::kRangeBuckets - 1] = {1, 16, 512};

std::string lower(const char* s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

const std::vector<std::string>& SvaInvalidationStats::event_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (unsigned e = 0; e < kMmuNotifierEventCount; ++e) {
      n.push_back(lower(mmu_notifier_event_name(static_cast<MmuNotifierEvent>(e))));
    }
    n.push_back("none");
    return n;
  }();
  return names;
}

const std::vector<std::string>& SvaInvalidationStats::range_names() {
  static const std::vector<std::string> names{"1_page", "2_16_pages", "17_512_pages",
                                              "over_512_pages"};
  return names;
}

size_t SvaInvalidationStats::range_bucket(uint64_t pages) {
  size_t i = 0;
  while (i < kRangeBuckets - 1 && pages > kRangeBucketMaxPages[i]) ++i;
  return i;
}

uint64_t SvaInvalidationStats::pages_of(uint64_t start, uint64_t end) {
  if (end <= start) return 0;
  const uint64_t bytes = end - start;
  return bytes / kPageBytes + (bytes % kPageBytes != 0);
}

SvaInvalidationStats::SvaInvalidationStats(StatGroup& driver) {
  StatGroup& by_event = driver.group(kByEventGroup);
  for (size_t i = 0; i < by_event_.size(); ++i) {
    const std::string& name = event_names()[i];
    by_event_[i] = &by_event.histogram(
        name, i < kMmuNotifierEventCount
                  ? "invalidation_latency of notifier ranges with event " +
                        std::string(mmu_notifier_event_name(static_cast<MmuNotifierEvent>(i)))
                  : std::string("invalidation_latency of calls outside any notifier range"));
  }
  StatGroup& by_range = driver.group(kByRangeGroup);
  const char* const desc[kRangeBuckets] = {"invalidation_latency of ranges of 1 page",
                                           "invalidation_latency of ranges of 2-16 pages",
                                           "invalidation_latency of ranges of 17-512 pages",
                                           "invalidation_latency of ranges of more than 512 pages"};
  for (size_t i = 0; i < kRangeBuckets; ++i) {
    by_range_[i] = &by_range.histogram(range_names()[i], desc[i]);
  }
}

void SvaInvalidationStats::sample(std::optional<MmuNotifierEvent> event, uint64_t start,
                                  uint64_t end, const sc_core::sc_time& latency) {
  const size_t e = event ? static_cast<size_t>(*event) : kMmuNotifierEventCount;
  by_event_.at(e)->sample(latency);
  by_range_[range_bucket(pages_of(start, end))]->sample(latency);
}

}  // namespace iosim
