// Iotlb: timed IOTLB lookups.
#include "iommu/iotlb.h"
#include "iommu/stat_names.h"

namespace iosim {

Iotlb::Iotlb(const IotlbConfig& cfg, StatGroup& g)
    : cache_(cfg.cache_config()),
      ports_(cfg.lookup_ports),
      lookup_(ns(cfg.lookup_latency_ns)),
      hits_(g.counter(IommuStats::kIotlbHits, "lookups", "IOTLB hits")),
      misses_(g.counter("iotlb_misses", "lookups", "IOTLB misses")),
      lookups_(g.counter(IommuStats::kIotlbLookups, "lookups", "IOTLB lookups")),
      fills_(g.counter("iotlb_fills", "entries", "IOTLB fills")),
      rewalks_(g.counter("iotlb_dirty_rewalks", "lookups",
                         "hits re-walked to set the Dirty bit for a write")) {
  g.ratio("iotlb_hit_rate", "IOTLB hits / lookups", hits_, lookups_);
}

const TranslationEntry* Iotlb::lookup(const TranslationTag& tag, uint64_t va,
                                      sc_core::sc_time& delay) {
  const sc_core::sc_time now = kernel_time();
  const ServerPool::Grant g = ports_.reserve(now + delay, lookup_);
  delay = g.finish - now;
  lookups_.inc();
  const TranslationEntry* e = cache_.lookup(tag, va);
  if (e) {
    hits_.inc();
  } else {
    misses_.inc();
  }
  return e;
}

void Iotlb::fill(const TranslationEntry& e) {
  fills_.inc();
  cache_.insert(e);
}

}  // namespace iosim
