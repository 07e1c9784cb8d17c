// Run report: the short human summary printed at the end of every run and the
// machine-readable stats JSON (--stats).
//
// collect_summary() reads the statistics the modules registered, wherever they sit in
// the hierarchy: it finds them by leaf name and merges every instance (all devices'
// DMA latencies, all mms' PTL hold times), so it does not depend on module names.
//   dma_read/write_latency_ns  histograms dma_read_latency / dma_write_latency of the
//                              devices (thread issues the access -> data back / write
//                              done, successful accesses only); dma_requests = both counts
//   translation_latency_ns     translation_latency (device ATS client: Translation
//                              Request -> usable completion); when no device sent one,
//                              the IOMMU's translation_request_latency instead
//   invalidation_latency_ns    invalidation_latency (SVA driver: notifier call ->
//                              completion seen by software)
//   pri_round_trip_ns          pri_round_trip (device PRI client: Page Request -> PRG
//                              Response)
//   ptl_hold_ns                ptl_hold (every mm's page-table lock)
//   iotlb_hit_rate             sum iotlb_hits / sum iotlb_lookups
//   atc_hit_rate               sum atc_hits / (sum atc_hits + sum atc_misses)
//   invalidations by kind      the IOMMU command queue's <kind>_count counters and their
//                              <kind>_latency histograms (fetch -> command completion)
// Rates are 0 when there was no lookup; a latency with no sample is all zeros.
//
// Stats JSON: the whole stats tree, then "sim_time_ns", "host_seconds",
// "lookahead_skips" (waits kept as annotated time, sc_models/lookahead.h), "checkers"
// (integer counts of the four checkers, 0 without a suite), "summary" (the fields of
// RunSummary) and, when given, the caller's own objects (JsonExtra, e.g. "scenario").
//
// Simplifications: a stats name is trusted to mean the same thing wherever it is
// registered; percentiles of merged histograms keep the Histogram error bound.
#pragma once

#include "sc_models/json_writer.h"
#include "sc_models/stats.h"

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace iosim {

class CheckerSuite;

// Percentiles of one latency path, in ns; all zero when count == 0.
struct LatencySummary {
  uint64_t count = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0;
};

// Summary of a latency histogram (0s when empty).
LatencySummary summarize(const LatencyHistogram& h);

// IOMMU invalidation commands of one kind ("pasid_iotlb", "pasid_dev_tlb", "inv_wait", ...).
struct InvalidationKindSummary {
  std::string kind;
  uint64_t count = 0;
  LatencySummary latency_ns;
};

struct RunSummary {
  uint64_t dma_requests = 0;  // completed DMA reads + writes
  uint64_t dma_errors = 0;    // DMA accesses that failed (access_errors)
  uint64_t dma_bytes = 0;     // bytes moved by the devices' DMA
  LatencySummary dma_read_latency_ns, dma_write_latency_ns, translation_latency_ns,
      invalidation_latency_ns, pri_round_trip_ns, ptl_hold_ns;
  // "ats" (device round trips) or "iommu" (IOMMU side) or "" (no translations).
  std::string translation_source;
  double iotlb_hit_rate = 0, atc_hit_rate = 0;  // 0..1, 0 when no lookups
  uint64_t iotlb_lookups = 0, atc_lookups = 0;
  std::vector<InvalidationKindSummary> invalidations;  // by kind, sorted by name
  uint64_t cpu_loads = 0, cpu_stores = 0, cpu_page_faults = 0;
  uint64_t pri_page_requests = 0;
  uint64_t iommu_faults = 0;  // fault records written by the IOMMU
};

struct RunInfo {
  double sim_time_ns = 0;
  double host_seconds = 0;
  uint64_t lookahead_skips = 0;
  const CheckerSuite* checkers = nullptr;  // null: no checkers ran
  // Extra summary lines (label, value), e.g. {"boot time", "1.2 us"}.
  std::vector<std::pair<std::string, std::string>> extra;
};

RunSummary collect_summary(const StatRegistry& stats);
void print_summary(std::ostream& out, const RunSummary& s, const RunInfo& info);

// Caller-provided top-level objects for the stats JSON. write() is called with the
// writer inside the top-level object and must write complete key/value pairs.
struct JsonExtra {
  virtual ~JsonExtra() = default;
  virtual void write(JsonWriter& w) const = 0;
};

// The document described above, into `out` (2-space indent).
void write_stats_json(std::ostream& out, const StatRegistry& stats, const RunSummary& s,
                      const RunInfo& info, const JsonExtra* extra);
// Same into a file; throws std::runtime_error naming the file when it cannot be written.
void write_stats_json(const std::string& path, const StatRegistry& stats, const RunSummary& s,
                      const RunInfo& info, const JsonExtra* extra);

}  // namespace iosim
