#include "platform/report.h"

#include "sc_models/checker_suite.h"

#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <stdexcept>

namespace iosim {

namespace {

// Every group of the tree, depth first in dump order.
void for_each_group(const StatGroup& g, const std::function<void(const StatGroup&)>& fn) {
  fn(g);
  for (const auto& child : g.groups()) for_each_group(*child.second, fn);
}

// All histograms named `leaf`, merged.
LatencyHistogram merged(const StatRegistry& stats, const std::string& leaf) {
  LatencyHistogram h;
  stats.root().for_each([&](const std::string&, const Stat& s) {
    if (s.name() != leaf) return;
    if (const auto* hist = dynamic_cast<const Histogram*>(&s)) h.merge(*hist);
  });
  return h;
}

// Sum of every counter named `leaf`.
uint64_t sum_counters(const StatRegistry& stats, const std::string& leaf) {
  uint64_t n = 0;
  stats.root().for_each([&](const std::string&, const Stat& s) {
    if (s.name() != leaf) return;
    if (const auto* c = dynamic_cast<const Counter*>(&s)) n += c->value();
  });
  return n;
}

double rate(uint64_t num, uint64_t den) {
  return den ? static_cast<double>(num) / static_cast<double>(den) : 0.0;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() > suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Command-queue style "<kind>_count" (unit "commands") + "<kind>_latency" pairs, merged
// over every group that has them.
std::vector<InvalidationKindSummary> invalidation_kinds(const StatRegistry& stats) {
  std::map<std::string, std::pair<uint64_t, LatencyHistogram>> kinds;
  for_each_group(stats.root(), [&](const StatGroup& g) {
    for (const auto& s : g.stats()) {
      const auto* c = dynamic_cast<const Counter*>(s.get());
      if (!c || c->unit() != "commands" || !ends_with(c->name(), "_count")) continue;
      const std::string kind = c->name().substr(0, c->name().size() - 6);
      const auto* h = dynamic_cast<const Histogram*>(g.find(kind + "_latency"));
      if (!h) continue;
      auto& k = kinds[kind];
      k.first += c->value();
      k.second.merge(*h);
    }
  });
  std::vector<InvalidationKindSummary> out;
  for (const auto& [kind, v] : kinds) out.push_back({kind, v.first, summarize(v.second)});
  return out;
}

// Bytes counted by devices: the "bytes" counter of groups that hold DMA latency histograms.
uint64_t dma_bytes(const StatRegistry& stats) {
  uint64_t n = 0;
  for_each_group(stats.root(), [&](const StatGroup& g) {
    if (!g.find("dma_read_latency") && !g.find("dma_write_latency")) return;
    if (const auto* c = dynamic_cast<const Counter*>(g.find("bytes"))) n += c->value();
  });
  return n;
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

std::string latency_row(const std::string& label, const LatencySummary& l) {
  if (l.count == 0) return "  " + pad(label, kLabel - 2) + rpad("0", 9) + "   -";
  return "  " + pad(label, kLabel - 2) + rpad(std::to_string(l.count), 9) +
         rpad(fmt("%.1f", l.p50), 11) + rpad(fmt("%.1f", l.p90), 11) +
         rpad(fmt("%.1f", l.p99), 11) + rpad(fmt("%.1f", l.max), 11);
}

void write_latency(JsonWriter& w, const char* key, const LatencySummary& l) {
  w.key(key).begin_object();
  w.field("count", l.count).field("p50", l.p50).field("p90", l.p90).field("p99", l.p99);
  w.field("max", l.max).end_object();
}

}  // namespace

LatencySummary summarize(const LatencyHistogram& h) {
  LatencySummary l;
  l.count = h.count();
  if (l.count == 0) return l;
  l.p50 = h.percentile(50);
  l.p90 = h.percentile(90);
  l.p99 = h.percentile(99);
  l.max = h.max();
  return l;
}

RunSummary collect_summary(const StatRegistry& stats) {
  RunSummary s;
  s.dma_read_latency_ns = summarize(merged(stats, "dma_read_latency"));
  s.dma_write_latency_ns = summarize(merged(stats, "dma_write_latency"));
  s.dma_requests = s.dma_read_latency_ns.count + s.dma_write_latency_ns.count;
  s.dma_errors = sum_counters(stats, "access_errors");
  s.dma_bytes = dma_bytes(stats);
  s.translation_latency_ns = summarize(merged(stats, "translation_latency"));
  s.translation_source = s.translation_latency_ns.count ? "ats" : "";
  if (s.translation_latency_ns.count == 0) {
    s.translation_latency_ns = summarize(merged(stats, "translation_request_latency"));
    if (s.translation_latency_ns.count) s.translation_source = "iommu";
  }
  s.invalidation_latency_ns = summarize(merged(stats, "invalidation_latency"));
  s.pri_round_trip_ns = summarize(merged(stats, "pri_round_trip"));
  s.ptl_hold_ns = summarize(merged(stats, "ptl_hold"));
  s.iotlb_lookups = sum_counters(stats, "iotlb_lookups");
  s.iotlb_hit_rate = rate(sum_counters(stats, "iotlb_hits"), s.iotlb_lookups);
  const uint64_t atc_hits = sum_counters(stats, "atc_hits");
  s.atc_lookups = atc_hits + sum_counters(stats, "atc_misses");
  s.atc_hit_rate = rate(atc_hits, s.atc_lookups);
  s.invalidations = invalidation_kinds(stats);
  s.cpu_loads = sum_counters(stats, "loads");
  s.cpu_stores = sum_counters(stats, "stores");
  s.cpu_page_faults = sum_counters(stats, "page_faults");
  s.pri_page_requests = sum_counters(stats, "page_requests");
  s.iommu_faults = sum_counters(stats, "faults_recorded");
  return s;
}

void print_summary(std::ostream& out, const RunSummary& s, const RunInfo& info) {
  out << "== iommu-sim summary ==\n";
  std::string sim = pad("simulated time", kLabel) + fmt_ns(info.sim_time_ns);
  out << sim << '\n';
  for (const auto& [label, value] : info.extra) out << pad(label, kLabel) << value << '\n';
  out << pad("host time", kLabel) << fmt("%.3f s", info.host_seconds) << '\n';
  std::string dma = pad("DMA requests", kLabel) + std::to_string(s.dma_requests) + " (" +
                    std::to_string(s.dma_read_latency_ns.count) + " reads, " +
                    std::to_string(s.dma_write_latency_ns.count) + " writes, " +
                    std::to_string(s.dma_errors) + " errors)";
  if (info.sim_time_ns > 0) {
    dma += fmt(", %.2f M req/s", static_cast<double>(s.dma_requests) / info.sim_time_ns * 1e3);
    dma += fmt(", %.3f GB/s", static_cast<double>(s.dma_bytes) / info.sim_time_ns);
  }
  out << dma << '\n';
  out << pad("latency (ns)", kLabel) << rpad("count", 9) << rpad("p50", 11) << rpad("p90", 11)
      << rpad("p99", 11) << rpad("max", 11) << '\n';
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
    out << pad("invalidations", kLabel) << rpad("count", 9) << rpad("p50", 11) << rpad("p99", 11)
        << '\n';
    for (const InvalidationKindSummary& k : s.invalidations) {
      out << "  " << pad(k.kind, kLabel - 2) << rpad(std::to_string(k.count), 9);
      if (k.latency_ns.count) {
        out << rpad(fmt("%.1f", k.latency_ns.p50), 11) << rpad(fmt("%.1f", k.latency_ns.p99), 11);
      }
      out << '\n';
    }
  }
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
    out << (total ? "VIOLATIONS: " : "clean: ") << counts << '\n';
  }
}

void write_stats_json(std::ostream& out, const StatRegistry& stats, const RunSummary& s,
                      const RunInfo& info, const JsonExtra* extra) {
  JsonWriter w(out, 2);
  w.begin_object();
  // The stats tree's members (as StatGroup::write_json writes them), then the run's own.
  const StatGroup& root = stats.root();
  for (const auto& st : root.stats()) {
    w.key(st->name());
    st->write_json(w);
  }
  for (const auto& g : root.groups()) {
    w.key(g.first);
    g.second->write_json(w);
  }
  w.field("sim_time_ns", info.sim_time_ns).field("host_seconds", info.host_seconds);
  w.field("lookahead_skips", info.lookahead_skips);
  w.key("checkers").begin_object();
  for (const std::string& n : checker_names()) w.field(n, checker_count(info, n));
  w.end_object();
  w.key("summary").begin_object();
  w.field("dma_requests", s.dma_requests);
  write_latency(w, "dma_read_latency_ns", s.dma_read_latency_ns);
  write_latency(w, "dma_write_latency_ns", s.dma_write_latency_ns);
  write_latency(w, "translation_latency_ns", s.translation_latency_ns);
  write_latency(w, "invalidation_latency_ns", s.invalidation_latency_ns);
  write_latency(w, "pri_round_trip_ns", s.pri_round_trip_ns);
  write_latency(w, "ptl_hold_ns", s.ptl_hold_ns);
  w.field("iotlb_hit_rate", s.iotlb_hit_rate).field("atc_hit_rate", s.atc_hit_rate);
  w.field("dma_errors", s.dma_errors).field("dma_bytes", s.dma_bytes);
  w.field("cpu_loads", s.cpu_loads).field("cpu_stores", s.cpu_stores);
  w.field("cpu_page_faults", s.cpu_page_faults);
  w.field("pri_page_requests", s.pri_page_requests).field("iommu_faults", s.iommu_faults);
  w.key("invalidations").begin_object();
  for (const InvalidationKindSummary& k : s.invalidations) {
    w.key(k.kind).begin_object().field("count", k.count);
    write_latency(w, "latency_ns", k.latency_ns);
    w.end_object();
  }
  w.end_object();
  w.end_object();
  if (extra) extra->write(w);
  w.end_object();
  out << '\n';
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
