// Run report: the short human summary printed at the end of every run and the
// machine-readable stats JSON (--stats).
//
// collect_summary() reads each figure from the statistics of the module it is about,
// by full path: a StatsLayout names the stats group of every device, core, mm, the
// IOMMU, its command queue and the SVA driver (System::stats_layout() gives the one
// of a built system), and each module exports the names of its statistics
// (DeviceStats, IommuStats, ... in <folder>/stat_names.h). Figures over several owners
// add or merge their instances; the paths are listed at RunSummary. A statistic the
// layout names but the tree lacks counts as 0; rates are 0 without a lookup; a latency
// without samples is all zeros.
//
// The printed summary gives every latency with its unit (ns below 10 us, then us, ms,
// s) in fixed-width columns with at least one space between them. The checkers line
// says "VIOLATIONS" when a checker fired, otherwise "not clean" when any invalidation
// error was counted, otherwise "clean". A run where the driver handed a freed PASID to
// another process adds a "PASID reuse" line (sc_models/check/checker_pasid_reuse.h).
//
// Stats JSON: the whole stats tree, then "sim_time_ns", "host_seconds",
// "lookahead_skips" (waits kept as annotated time, sc_models/timing/lookahead.h), "checkers"
// (integer counts of the four checkers, 0 without a suite), "pasid_reuse" (only when a
// PASID was handed to another process: "handed_on" and "pasid_reuse_stale"),
// "summary" (the fields of
// RunSummary, in the order write_stats_json writes them) and, when given, the
// caller's own objects (JsonExtra, e.g. "scenario").
//
// summary_columns(): the summary's fields flattened ("dma_read_latency_ns.p50",
// "invalidations.inv_wait.count") and the checker counts ("checkers.use_after_free"),
// the columns of a sweep CSV (platform/sweep.h). It lists every invalidation command
// kind the IOMMU knows, so the columns do not depend on what a run did.
//
// Simplifications: percentiles of merged histograms keep the Histogram error bound.
#pragma once

#include "sc_models/observe/json_fwd.h"
#include "sc_models/observe/stats.h"

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace iosim {

class CheckerSuite;

// Mean and percentiles of one latency path, in ns; all zero when count == 0.
struct LatencySummary {
  uint64_t count = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0;
  double mean = 0;
};

// One latency of a breakdown ("unmap", "2_16_pages", ...).
struct NamedLatency {
  std::string name;
  LatencySummary latency_ns;
};

// Summary of a latency histogram (0s when empty).
LatencySummary summarize(const LatencyHistogram& h);

// IOMMU invalidation commands of one kind ("pasid_iotlb", "pasid_dev_tlb", "inv_wait", ...).
struct InvalidationKindSummary {
  std::string kind;
  uint64_t count = 0;
  LatencySummary latency_ns;
};

// Where collect_summary() reads: the dotted stats-group path of each owner.
struct StatsLayout {
  std::vector<std::string> devices;  // Device groups ("device0", ...)
  std::vector<std::string> cores;    // Core groups ("core0", ...)
  std::vector<std::string> mms;      // Mm groups ("os.mm1", ...)
  std::string iommu;                 // the Iommu ("iommu")
  std::string command_queue;         // its CommandQueue ("iommu.command_queue")
  std::string sva;                   // the SvaDriver ("sva")
};

// Invalidations that timed out or failed, from the IOMMU's command queue and the SVA
// driver; any of them makes a run "not clean".
struct InvalidationErrors {
  uint64_t itag_timeouts = 0;        // ATC invalidations whose ITag timed out
  uint64_t iommu_failed_waits = 0;   // inv_wait commands failed after an ITag timeout
  uint64_t wait_timeouts = 0;        // driver waits abandoned after sva.wait_timeout_ns
  uint64_t retries = 0;              // driver invalidations sent again after a failure
  uint64_t driver_failed_waits = 0;  // driver waits that failed or were abandoned
  uint64_t total() const {
    return itag_timeouts + iommu_failed_waits + wait_timeouts + retries + driver_failed_waits;
  }
};

// Where each figure comes from (paths relative to the StatsLayout groups):
//   dma_read/write_latency_ns  <device>.dma_read_latency / dma_write_latency (the
//                              thread issues the access -> data back / write done,
//                              successful accesses only); dma_requests = both counts
//   dma_errors, dma_bytes      <device>.access_errors, <device>.bytes
//   dma_phase_ns               first <device>.dma_issue_time (min) to last
//                              <device>.dma_completion_time (max); the M req/s and
//                              GB/s rates divide by it, so boot and idle tails do
//                              not dilute them
//   translation_latency_ns     <device>.ats.translation_latency (Translation Request
//                              -> usable completion); when no device sent one, the
//                              IOMMU's <iommu>.translation_request_latency instead
//   invalidation_latency_ns    <sva>.invalidation_latency (notifier call -> completion
//                              seen by software)
//   invalidation_latency_by_event_ns, invalidation_latency_by_range_ns
//                              <sva>.invalidation_latency_by_event.<event> and
//                              <sva>.invalidation_latency_by_range.<bucket>: the same
//                              latency by notifier event and range size, every event
//                              and bucket always present (os/sva_invalidation_stats.h)
//   pri_round_trip_ns          <device>.pri.pri_round_trip (Page Request -> PRG Response)
//   ptl_hold_ns                <mm>.ptl_hold (every mm's page-table lock)
//   iotlb_hit_rate             <iommu>.iotlb_hits / <iommu>.iotlb_lookups
//   atc_hit_rate               sum <device>.atc_hits / (atc_hits + atc_misses)
//   invalidations by kind      <command_queue>.<kind>_count (unit "commands") and
//                              <kind>_latency (fetch -> command completion)
//   cpu_loads/stores/faults    <core>.loads, stores, page_faults
//   pri_page_requests          <device>.pri.page_requests (Page Requests sent)
//   iommu_faults               <iommu>.faults_recorded
//   invalidation_errors        <command_queue>.itag_timeouts, failed_waits and
//                              <sva>.wait_timeouts, retries, failed_waits
struct RunSummary {
  uint64_t dma_requests = 0;  // completed DMA reads + writes
  uint64_t dma_errors = 0;    // DMA accesses that failed (access_errors)
  uint64_t dma_bytes = 0;     // bytes moved by the devices' DMA
  // First completed access's issue to the last one's completion (0 without DMA).
  double dma_phase_ns = 0;
  double dma_mreq_per_s = 0, dma_gb_per_s = 0;  // over dma_phase_ns; 0 when it is 0
  LatencySummary dma_read_latency_ns, dma_write_latency_ns, translation_latency_ns,
      invalidation_latency_ns, pri_round_trip_ns, ptl_hold_ns;
  // invalidation_latency_ns by notifier event and by range size (every name, in order).
  std::vector<NamedLatency> invalidation_latency_by_event_ns, invalidation_latency_by_range_ns;
  // "ats" (device round trips) or "iommu" (IOMMU side) or "" (no translations).
  std::string translation_source;
  double iotlb_hit_rate = 0, atc_hit_rate = 0;  // 0..1, 0 when no lookups
  uint64_t iotlb_lookups = 0, atc_lookups = 0;
  std::vector<InvalidationKindSummary> invalidations;  // by kind, sorted by name
  uint64_t cpu_loads = 0, cpu_stores = 0, cpu_page_faults = 0;
  uint64_t pri_page_requests = 0;
  uint64_t iommu_faults = 0;  // fault records written by the IOMMU
  InvalidationErrors invalidation_errors;
};

class Diagnostics;

struct RunInfo {
  double sim_time_ns = 0;
  double host_seconds = 0;
  uint64_t lookahead_skips = 0;
  const CheckerSuite* checkers = nullptr;  // null: no checkers ran
  // Extra summary lines (label, value), e.g. {"boot time", "1.2 us"}.
  std::vector<std::pair<std::string, std::string>> extra;
  // The simulated kernel's rule-violation reports (os/diagnostics.h); null: none kept.
  const Diagnostics* diagnostics = nullptr;
};

RunSummary collect_summary(const StatRegistry& stats, const StatsLayout& layout);
// The full paths of the statistics collect_summary() reads that `stats` lacks (a
// command kind's statistics, which exist once the kind ran, are not counted): empty
// for a built system, or a summary line reads 0.
std::vector<std::string> summary_stats_missing(const StatRegistry& stats,
                                               const StatsLayout& layout);
void print_summary(std::ostream& out, const RunSummary& s, const RunInfo& info);

// Caller-provided top-level members for the stats JSON: add_to() adds them to the
// top-level object, after the summary.
struct JsonExtra {
  virtual ~JsonExtra() = default;
  virtual void add_to(Json& doc) const = 0;
};

// The "summary" object of the stats JSON.
Json summary_json(const RunSummary& s);
// The document described above.
Json stats_json(const StatRegistry& stats, const RunSummary& s, const RunInfo& info,
                const JsonExtra* extra);
// The flattened summary fields and checker counts, in order (see the file comment).
const std::vector<std::string>& summary_columns();

// The document described above, into `out` (2-space indent).
void write_stats_json(std::ostream& out, const StatRegistry& stats, const RunSummary& s,
                      const RunInfo& info, const JsonExtra* extra);
// Same into a file; throws std::runtime_error naming the file when it cannot be written.
void write_stats_json(const std::string& path, const StatRegistry& stats, const RunSummary& s,
                      const RunInfo& info, const JsonExtra* extra);

}  // namespace iosim
