#include "platform/report.h"

#include "cpu/stat_names.h"
#include "device/stat_names.h"
#include "iommu/amdvi/formats.h"
#include "iommu/riscv/formats.h"
#include "iommu/smmuv3/formats.h"
#include "iommu/stat_names.h"
#include "iommu/vtd/descriptors.h"
#include "os/diagnostics.h"
#include "os/stat_names.h"
#include "os/sva_invalidation_stats.h"
#include "sc_models/check/checker_suite.h"
#include "sc_models/observe/json.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <stdexcept>

namespace iosim {

namespace {

// Reads the statistics the summary shows, each by its owner's group path and the
// name the owner exports (cpu/, device/, iommu/, os/ stat_names.h), and notes every
// one that is absent (summary_stats_missing()). An owner not in the system has an
// empty path: nothing is read for it.
class SummaryReader {
 public:
  explicit SummaryReader(const StatRegistry& stats) : stats_(stats) {}

  template <class T>
  const T* find(const std::string& group, const std::string& name) {
    if (group.empty()) return nullptr;
    const std::string path = group + "." + name;
    const T* s = stats_.find_as<T>(path);
    if (!s) missing_.push_back(path);
    return s;
  }
  // A statistic that exists only once its owner used it (a command kind that ran).
  template <class T>
  const T* find_optional(const std::string& group, const std::string& name) const {
    return group.empty() ? nullptr : stats_.find_as<T>(group + "." + name);
  }

  uint64_t counter(const std::string& group, const std::string& name) {
    const auto* c = find<Counter>(group, name);
    return c ? c->value() : 0;
  }
  // Sum of counter `name` of every group in `groups`.
  uint64_t sum(const std::vector<std::string>& groups, const std::string& name) {
    uint64_t n = 0;
    for (const std::string& g : groups) n += counter(g, name);
    return n;
  }
  // Histogram `name` of every group in `groups`, merged.
  LatencyHistogram merged(const std::vector<std::string>& groups, const std::string& name) {
    LatencyHistogram h;
    for (const std::string& g : groups) {
      if (const auto* hist = find<Histogram>(g, name)) h.merge(*hist);
    }
    return h;
  }

  const std::vector<std::string>& missing() const { return missing_; }
  const StatRegistry& registry() const { return stats_; }

 private:
  const StatRegistry& stats_;
  std::vector<std::string> missing_;
};

// "<first>.<second>"
std::string sub(const char* first, const char* second) {
  return std::string(first) + "." + second;
}

double rate(uint64_t num, uint64_t den) {
  return den ? static_cast<double>(num) / static_cast<double>(den) : 0.0;
}

// Every command kind of every architecture, sorted by name: VT-d's invalidation
// descriptor types, SMMUv3's opcodes, the RISC-V IOMMU's and AMD-Vi's commands.
std::vector<std::string> all_invalidation_kinds() {
  std::vector<std::string> kinds;
  for (unsigned t = 0; t < 16; ++t) {
    const std::string name = to_string(static_cast<InvType>(t));
    if (name != "?") kinds.push_back(name);
  }
  for (smmuv3::Opcode op : smmuv3::kOpcodes) kinds.push_back(smmuv3::kind_name(op));
  for (const char* kind : riscv::kCommandKinds) kinds.push_back(kind);
  for (amdvi::Opcode op : amdvi::kOpcodes) kinds.push_back(amdvi::kind_name(op));
  std::sort(kinds.begin(), kinds.end());
  return kinds;
}

// The command queue's "<kind>_count" + "<kind>_latency" pairs of the kinds that ran
// (each architecture names its own kinds), sorted by kind.
std::vector<InvalidationKindSummary> invalidation_kinds(const StatRegistry& stats,
                                                        const std::string& command_queue) {
  std::vector<InvalidationKindSummary> out;
  const StatGroup* g = &stats.root();
  for (size_t start = 0; g && start <= command_queue.size();) {
    const size_t dot = std::min(command_queue.find('.', start), command_queue.size());
    g = g->find_group(std::string_view(command_queue).substr(start, dot - start));
    start = dot + 1;
  }
  if (!g || command_queue.empty()) return out;
  const std::string suffix = CommandQueueStats::kKindCountSuffix;
  for (const auto& stat : g->stats()) {
    const auto* c = dynamic_cast<const Counter*>(stat.get());
    const std::string& name = stat->name();
    if (!c || name.size() <= suffix.size() ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;
    }
    const std::string kind = name.substr(0, name.size() - suffix.size());
    const auto* h =
        dynamic_cast<const Histogram*>(g->find(kind + CommandQueueStats::kKindLatencySuffix));
    if (h) out.push_back({kind, c->value(), summarize(*h)});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.kind < b.kind; });
  return out;
}

// [first issue, last completion] over the devices' dma_issue_time / dma_completion_time.
double dma_phase_ns(SummaryReader& r, const std::vector<std::string>& devices) {
  bool any = false;
  double first = 0, last = 0;
  for (const std::string& d : devices) {
    const auto* issue = r.find<Average>(d, DeviceStats::kDmaIssueTime);
    const auto* done = r.find<Average>(d, DeviceStats::kDmaCompletionTime);
    if (!issue || !done || issue->count() == 0 || done->count() == 0) continue;
    first = any ? std::min(first, issue->min()) : issue->min();
    last = any ? std::max(last, done->max()) : done->max();
    any = true;
  }
  return any ? last - first : 0.0;
}

uint64_t checker_count(const RunInfo& info, const std::string& name) {
  return info.checkers ? info.checkers->count(name) : 0;
}

// "612", "1.25 k"-free fixed formatting: ns with one decimal below 10 us, else us/ms.
std::string fmt_ns(double ns) {
  char buf[32];
  if (ns < 1e4) {
    std::snprintf(buf, sizeof buf, "%.1f ns", ns);
  } else if (ns < 1e7) {
    std::snprintf(buf, sizeof buf, "%.2f us", ns / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.3f ms", ns / 1e6);
  }
  return buf;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string pad(std::string s, size_t width) {
  if (s.size() < width) s += std::string(width - s.size(), ' ');
  return s;
}

std::string rpad(const std::string& s, size_t width) {
  return s.size() < width ? std::string(width - s.size(), ' ') + s : s;
}

constexpr size_t kLabel = 22;

// A latency cell's text, at most 10 characters up to 99999 s: ns below 10 us, then
// us below 10 ms, ms below 10 s, then s (the unit chosen on the rounded value).
std::string fmt_latency(double ns) {
  if (ns < 9999.95) return fmt("%.1f ns", ns);
  if (ns < 9999.995e3) return fmt("%.2f us", ns / 1e3);
  if (ns < 9999.995e6) return fmt("%.2f ms", ns / 1e6);
  return fmt("%.2f s", ns / 1e9);
}

// `s` right-aligned in a column of `width`, always with a space before it.
std::string cell(const std::string& s, size_t width) {
  return " " + rpad(s, width - 1);
}

constexpr size_t kCount = 9, kValue = 11;

std::string row_label(const std::string& label) {
  return "  " + pad(label, kLabel - 2);
}

std::string latency_row(const std::string& label, const LatencySummary& l) {
  if (l.count == 0) return row_label(label) + cell("0", kCount) + "   -";
  return row_label(label) + cell(std::to_string(l.count), kCount) +
         cell(fmt_latency(l.p50), kValue) + cell(fmt_latency(l.p90), kValue) +
         cell(fmt_latency(l.p99), kValue) + cell(fmt_latency(l.max), kValue);
}

std::string invalidation_errors_text(const InvalidationErrors& e) {
  return "IOMMU " + std::to_string(e.itag_timeouts) + " ITag time-outs, " +
         std::to_string(e.iommu_failed_waits) + " failed waits; driver " +
         std::to_string(e.wait_timeouts) + " wait time-outs, " + std::to_string(e.retries) +
         " retries, " + std::to_string(e.driver_failed_waits) + " failed waits";
}

Json latency_json(const LatencySummary& l) {
  Json o = Json::object();
  o["count"] = l.count;
  o["mean"] = l.mean;
  o["p50"] = l.p50;
  o["p90"] = l.p90;
  o["p99"] = l.p99;
  o["max"] = l.max;
  return o;
}

Json breakdown_json(const std::vector<NamedLatency>& list) {
  Json o = Json::object();
  for (const NamedLatency& l : list) o[l.name] = latency_json(l.latency_ns);
  return o;
}

// Histogram `<group>.<sub>.<name>` for every name, in that order.
std::vector<NamedLatency> breakdown(SummaryReader& r, const std::string& group, const char* sub,
                                    const std::vector<std::string>& names) {
  std::vector<NamedLatency> out;
  for (const std::string& n : names) {
    out.push_back({n, summarize(r.merged({group}, std::string(sub) + "." + n))});
  }
  return out;
}

// The dotted paths of the leaves of `v` ("a.b"), in order.
void leaf_paths(const Json& v, const std::string& prefix, std::vector<std::string>& out) {
  if (!v.is_object()) {
    out.push_back(prefix);
    return;
  }
  for (const auto& [key, value] : v.items()) {
    leaf_paths(value, prefix.empty() ? key : prefix + "." + key, out);
  }
}

}  // namespace

LatencySummary summarize(const LatencyHistogram& h) {
  LatencySummary l;
  l.count = h.count();
  if (l.count == 0) return l;
  l.mean = h.mean();
  l.p50 = h.percentile(50);
  l.p90 = h.percentile(90);
  l.p99 = h.percentile(99);
  l.max = h.max();
  return l;
}

namespace {

RunSummary read_summary(SummaryReader& r, const StatsLayout& at) {
  RunSummary s;
  const std::vector<std::string>& dev = at.devices;
  s.dma_read_latency_ns = summarize(r.merged(dev, DeviceStats::kDmaReadLatency));
  s.dma_write_latency_ns = summarize(r.merged(dev, DeviceStats::kDmaWriteLatency));
  s.dma_requests = s.dma_read_latency_ns.count + s.dma_write_latency_ns.count;
  s.dma_errors = r.sum(dev, DeviceStats::kAccessErrors);
  s.dma_bytes = r.sum(dev, DeviceStats::kBytes);
  s.dma_phase_ns = dma_phase_ns(r, dev);
  if (s.dma_phase_ns > 0) {
    s.dma_mreq_per_s = static_cast<double>(s.dma_requests) / s.dma_phase_ns * 1e3;
    s.dma_gb_per_s = static_cast<double>(s.dma_bytes) / s.dma_phase_ns;
  }
  s.translation_latency_ns =
      summarize(r.merged(dev, sub(DeviceStats::kAtsGroup, AtsClientStats::kTranslationLatency)));
  s.translation_source = s.translation_latency_ns.count ? "ats" : "";
  if (s.translation_latency_ns.count == 0) {
    s.translation_latency_ns =
        summarize(r.merged({at.iommu}, IommuStats::kTranslationRequestLatency));
    if (s.translation_latency_ns.count) s.translation_source = "iommu";
  }
  s.invalidation_latency_ns = summarize(r.merged({at.sva}, SvaDriverStats::kInvalidationLatency));
  s.invalidation_latency_by_event_ns = breakdown(r, at.sva, SvaInvalidationStats::kByEventGroup,
                                                 SvaInvalidationStats::event_names());
  s.invalidation_latency_by_range_ns = breakdown(r, at.sva, SvaInvalidationStats::kByRangeGroup,
                                                 SvaInvalidationStats::range_names());
  s.pri_round_trip_ns =
      summarize(r.merged(dev, sub(DeviceStats::kPriGroup, PriClientStats::kRoundTrip)));
  s.ptl_hold_ns = summarize(r.merged(at.mms, MmStats::kPtlHold));
  s.iotlb_lookups = r.counter(at.iommu, IommuStats::kIotlbLookups);
  s.iotlb_hit_rate = rate(r.counter(at.iommu, IommuStats::kIotlbHits), s.iotlb_lookups);
  const uint64_t atc_hits = r.sum(dev, DeviceStats::kAtcHits);
  s.atc_lookups = atc_hits + r.sum(dev, DeviceStats::kAtcMisses);
  s.atc_hit_rate = rate(atc_hits, s.atc_lookups);
  s.invalidations = invalidation_kinds(r.registry(), at.command_queue);
  s.cpu_loads = r.sum(at.cores, CoreStats::kLoads);
  s.cpu_stores = r.sum(at.cores, CoreStats::kStores);
  s.cpu_page_faults = r.sum(at.cores, CoreStats::kPageFaults);
  s.pri_page_requests = r.sum(dev, sub(DeviceStats::kPriGroup, PriClientStats::kPageRequests));
  s.iommu_faults = r.counter(at.iommu, IommuStats::kFaultsRecorded);
  InvalidationErrors& e = s.invalidation_errors;
  e.itag_timeouts = r.counter(at.command_queue, CommandQueueStats::kItagTimeouts);
  e.iommu_failed_waits = r.counter(at.command_queue, CommandQueueStats::kFailedWaits);
  e.wait_timeouts = r.counter(at.sva, SvaDriverStats::kWaitTimeouts);
  e.retries = r.counter(at.sva, SvaDriverStats::kRetries);
  e.driver_failed_waits = r.counter(at.sva, SvaDriverStats::kFailedWaits);
  return s;
}

}  // namespace

RunSummary collect_summary(const StatRegistry& stats, const StatsLayout& at) {
  SummaryReader r(stats);
  return read_summary(r, at);
}

std::vector<std::string> summary_stats_missing(const StatRegistry& stats, const StatsLayout& at) {
  SummaryReader r(stats);
  read_summary(r, at);
  return r.missing();
}

void print_summary(std::ostream& out, const RunSummary& s, const RunInfo& info) {
  out << "== iommu-sim summary ==\n";
  out << pad("simulated time", kLabel) << fmt_ns(info.sim_time_ns) << '\n';
  for (const auto& [label, value] : info.extra) out << pad(label, kLabel) << value << '\n';
  out << pad("host time", kLabel) << fmt("%.3f s", info.host_seconds) << '\n';
  std::string dma = pad("DMA requests", kLabel) + std::to_string(s.dma_requests) + " (" +
                    std::to_string(s.dma_read_latency_ns.count) + " reads, " +
                    std::to_string(s.dma_write_latency_ns.count) + " writes, " +
                    std::to_string(s.dma_errors) + " errors)";
  if (s.dma_phase_ns > 0) {
    dma += fmt(", %.2f M req/s", s.dma_mreq_per_s) + fmt(", %.3f GB/s", s.dma_gb_per_s) + " over " +
           fmt_ns(s.dma_phase_ns) + " of DMA";
  }
  out << dma << '\n';
  out << pad("latency", kLabel) << cell("count", kCount) << cell("p50", kValue)
      << cell("p90", kValue) << cell("p99", kValue) << cell("max", kValue) << '\n';
  out << latency_row("DMA read", s.dma_read_latency_ns) << '\n';
  out << latency_row("DMA write", s.dma_write_latency_ns) << '\n';
  out << latency_row(s.translation_source == "iommu" ? "translation (IOMMU)" : "translation (ATS)",
                     s.translation_latency_ns)
      << '\n';
  out << latency_row("invalidation (sw)", s.invalidation_latency_ns) << '\n';
  out << latency_row("PRI round trip", s.pri_round_trip_ns) << '\n';
  out << latency_row("PTL hold", s.ptl_hold_ns) << '\n';
  if (s.invalidations.empty()) {
    out << pad("invalidations", kLabel) << "none\n";
  } else {
    out << pad("invalidations", kLabel) << cell("count", kCount) << cell("p50", kValue)
        << cell("p99", kValue) << '\n';
    for (const InvalidationKindSummary& k : s.invalidations) {
      out << row_label(k.kind) << cell(std::to_string(k.count), kCount);
      if (k.latency_ns.count) {
        out << cell(fmt_latency(k.latency_ns.p50), kValue)
            << cell(fmt_latency(k.latency_ns.p99), kValue);
      }
      out << '\n';
    }
  }
  out << pad("invalidation errors", kLabel) << invalidation_errors_text(s.invalidation_errors)
      << '\n';
  out << pad("hit rates", kLabel) << "IOTLB " << fmt("%.1f%%", 100 * s.iotlb_hit_rate) << " of "
      << s.iotlb_lookups << ", ATC " << fmt("%.1f%%", 100 * s.atc_hit_rate) << " of "
      << s.atc_lookups << '\n';
  out << pad("CPU", kLabel) << s.cpu_loads << " loads, " << s.cpu_stores << " stores, "
      << s.cpu_page_faults << " page faults\n";
  out << pad("faults", kLabel) << s.pri_page_requests << " PRI page requests, " << s.iommu_faults
      << " IOMMU fault records\n";
  out << pad("checkers", kLabel);
  if (!info.checkers) {
    out << "not run\n";
  } else {
    uint64_t total = 0;
    std::string counts;
    for (const std::string& n : checker_names()) {
      const uint64_t c = checker_count(info, n);
      total += c;
      counts += (counts.empty() ? "" : ", ") + n + " " + std::to_string(c);
    }
    const PasidReuseChecker& reuse = info.checkers->pasid_reuse();
    total += reuse.count();
    const char* verdict = total                               ? "VIOLATIONS: "
                          : s.invalidation_errors.total() > 0 ? "not clean (invalidation errors): "
                                                              : "clean: ";
    out << verdict << counts << '\n';
    if (reuse.handed_on() > 0) {
      out << pad("PASID reuse", kLabel) << reuse.handed_on() << " handed to another process, "
          << reuse.count() << " stale accesses (" << reuse.name() << ")\n";
    }
  }
  if (info.diagnostics && info.diagnostics->total() > 0) {
    std::string kinds;
    for (unsigned k = 0; k < static_cast<unsigned>(DiagKind::kCount); ++k) {
      const uint64_t n = info.diagnostics->count(static_cast<DiagKind>(k));
      if (n) {
        kinds += (kinds.empty() ? "" : ", ") +
                 std::string(diag_kind_name(static_cast<DiagKind>(k))) + " " + std::to_string(n);
      }
    }
    out << pad("kernel diagnostics", kLabel) << kinds << '\n';
  }
}

Json summary_json(const RunSummary& s) {
  Json o = Json::object();
  o["dma_requests"] = s.dma_requests;
  o["dma_read_latency_ns"] = latency_json(s.dma_read_latency_ns);
  o["dma_write_latency_ns"] = latency_json(s.dma_write_latency_ns);
  o["translation_latency_ns"] = latency_json(s.translation_latency_ns);
  o["invalidation_latency_ns"] = latency_json(s.invalidation_latency_ns);
  o["pri_round_trip_ns"] = latency_json(s.pri_round_trip_ns);
  o["ptl_hold_ns"] = latency_json(s.ptl_hold_ns);
  o["invalidation_latency_by_event_ns"] = breakdown_json(s.invalidation_latency_by_event_ns);
  o["invalidation_latency_by_range_ns"] = breakdown_json(s.invalidation_latency_by_range_ns);
  o["iotlb_hit_rate"] = s.iotlb_hit_rate;
  o["atc_hit_rate"] = s.atc_hit_rate;
  o["dma_errors"] = s.dma_errors;
  o["dma_bytes"] = s.dma_bytes;
  o["dma_phase_ns"] = s.dma_phase_ns;
  o["dma_mreq_per_s"] = s.dma_mreq_per_s;
  o["dma_gb_per_s"] = s.dma_gb_per_s;
  o["cpu_loads"] = s.cpu_loads;
  o["cpu_stores"] = s.cpu_stores;
  o["cpu_page_faults"] = s.cpu_page_faults;
  o["pri_page_requests"] = s.pri_page_requests;
  o["iommu_faults"] = s.iommu_faults;
  const InvalidationErrors& e = s.invalidation_errors;
  Json& errors = o["invalidation_errors"] = Json::object();
  errors["itag_timeouts"] = e.itag_timeouts;
  errors["iommu_failed_waits"] = e.iommu_failed_waits;
  errors["wait_timeouts"] = e.wait_timeouts;
  errors["retries"] = e.retries;
  errors["driver_failed_waits"] = e.driver_failed_waits;
  Json& kinds = o["invalidations"] = Json::object();
  for (const InvalidationKindSummary& k : s.invalidations) {
    Json& kind = kinds[k.kind] = Json::object();
    kind["count"] = k.count;
    kind["latency_ns"] = latency_json(k.latency_ns);
  }
  return o;
}

Json stats_json(const StatRegistry& stats, const RunSummary& s, const RunInfo& info,
                const JsonExtra* extra) {
  // The stats tree's members, then the run's own.
  Json doc = stats.json();
  doc["sim_time_ns"] = info.sim_time_ns;
  doc["host_seconds"] = info.host_seconds;
  doc["lookahead_skips"] = info.lookahead_skips;
  Json& checkers = doc["checkers"] = Json::object();
  for (const std::string& n : checker_names()) checkers[n] = checker_count(info, n);
  if (info.checkers && info.checkers->pasid_reuse().handed_on() > 0) {
    const PasidReuseChecker& reuse = info.checkers->pasid_reuse();
    Json& r = doc["pasid_reuse"] = Json::object();
    r["handed_on"] = reuse.handed_on();
    r[reuse.name()] = reuse.count();
  }
  if (info.diagnostics && info.diagnostics->total() > 0) {
    Json& d = doc["kernel_diagnostics"] = Json::object();
    for (unsigned k = 0; k < static_cast<unsigned>(DiagKind::kCount); ++k) {
      const uint64_t n = info.diagnostics->count(static_cast<DiagKind>(k));
      if (n) d[diag_kind_name(static_cast<DiagKind>(k))] = n;
    }
  }
  doc["summary"] = summary_json(s);
  if (extra) extra->add_to(doc);
  return doc;
}

const std::vector<std::string>& summary_columns() {
  static const std::vector<std::string> columns = [] {
    // A summary with every invalidation kind and every breakdown entry.
    RunSummary all = collect_summary(StatRegistry(), StatsLayout{});
    for (const std::string& kind : all_invalidation_kinds())
      all.invalidations.push_back({kind, 0, {}});
    std::vector<std::string> c;
    leaf_paths(summary_json(all), "", c);
    for (const std::string& n : checker_names()) c.push_back("checkers." + n);
    return c;
  }();
  return columns;
}

void write_stats_json(std::ostream& out, const StatRegistry& stats, const RunSummary& s,
                      const RunInfo& info, const JsonExtra* extra) {
  out << json_text(stats_json(stats, s, info, extra), 2) << '\n';
}

void write_stats_json(const std::string& path, const StatRegistry& stats, const RunSummary& s,
                      const RunInfo& info, const JsonExtra* extra) {
  std::ofstream f(path);
  if (!f) throw std::runtime_error("cannot open stats file '" + path + "' for writing");
  write_stats_json(f, stats, s, info, extra);
  f.close();
  if (!f) throw std::runtime_error("error writing stats file '" + path + "'");
}

}  // namespace iosim
