#include "platform/report.h"

#include "platform/cli.h"
#include "platform/system_simulation.h"

#include "os/sva_invalidation_stats.h"
#include "sc_models/check/checker_suite.h"
#include "sc_models/check/ground_truth.h"
#include "sc_models/observe/json.h"

#include <gtest/gtest.h>
#include <systemc>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

namespace iosim {
namespace {

double exact_percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size()) / 100.0));
  rank = std::clamp<size_t>(rank, 1, v.size());
  return v[rank - 1];
}

void expect_near_exact(double got, const std::vector<double>& pooled, double p) {
  const double exact = exact_percentile(pooled, p);
  EXPECT_LE(std::abs(got - exact), exact * LatencyHistogram::kMaxRelativeError)
      << "p" << p << ": got " << got << ", exact " << exact;
}

// Fills `r` like a small system: two devices, an IOMMU, two mms, an SVA driver and two
// cores, with the layout kLayout. Returns the pooled DMA read and PTL hold samples.
struct Pooled {
  std::vector<double> reads, ptl;
};

const StatsLayout kLayout{{"top.dev0", "top.dev1"}, {"top.cpu0", "top.cpu1"},
                          {"os.mm1", "os.mm2"},     "top.iommu",
                          "top.iommu.cmdq",         "os.sva"};

Pooled fill_system(StatRegistry& r) {
  Pooled p;
  StatGroup& d0 = r.group("top.dev0");
  StatGroup& d1 = r.group("top.dev1");
  Histogram& r0 = d0.histogram("dma_read_latency", "");
  Histogram& r1 = d1.histogram("dma_read_latency", "");
  for (int i = 1; i <= 60; ++i) {
    r0.sample(500.0 + i);
    p.reads.push_back(500.0 + i);
  }
  for (int i = 1; i <= 40; ++i) {
    r1.sample(2000.0 + 10 * i);
    p.reads.push_back(2000.0 + 10 * i);
  }
  Histogram& w0 = d0.histogram("dma_write_latency", "");
  for (int i = 0; i < 10; ++i) w0.sample(300);
  d0.counter("bytes", "bytes", "").add(64 * 70);
  d1.counter("bytes", "bytes", "").add(64 * 40);
  d0.counter("atc_hits", "lookups", "").add(30);
  d0.counter("atc_misses", "lookups", "").add(10);
  d1.counter("atc_hits", "lookups", "").add(50);
  d1.counter("atc_misses", "lookups", "").add(10);
  d0.counter("access_errors", "accesses", "").add(2);
  d0.group("ats").histogram("translation_latency", "").sample(900);
  d1.group("ats").histogram("translation_latency", "").sample(1100);
  d0.group("pri").histogram("pri_round_trip", "").sample(5000);
  d0.group("pri").counter("page_requests", "requests", "").add(3);
  // The same leaf names elsewhere, not what the summary means: the fault handler's
  // requests read, a third device the layout does not list, an mm-like group elsewhere.
  r.group("top.iopf").counter("page_requests", "requests", "").add(3);
  r.group("top.dev9.pri").counter("page_requests", "requests", "").add(40);
  r.group("top.dev9").histogram("dma_read_latency", "").sample(1e6);
  r.group("top.cpu0.tlb").counter("loads", "accesses", "").add(1000);
  // The DMA phase: dev1 issues first (at 1.5 us), dev0 completes last (at 11.5 us).
  Average& i0 = d0.average("dma_issue_time", "ns", "");
  Average& c0 = d0.average("dma_completion_time", "ns", "");
  Average& i1 = d1.average("dma_issue_time", "ns", "");
  Average& c1 = d1.average("dma_completion_time", "ns", "");
  for (double t : {2000.0, 5000.0}) i0.sample(t);
  for (double t : {3000.0, 11500.0}) c0.sample(t);
  for (double t : {1500.0, 4000.0}) i1.sample(t);
  for (double t : {2500.0, 9000.0}) c1.sample(t);
  Histogram& p1 = r.group("os.mm1").histogram("ptl_hold", "");
  Histogram& p2 = r.group("os.mm2").histogram("ptl_hold", "");
  for (int i = 1; i <= 99; ++i) {
    (i % 3 ? p1 : p2).sample(100.0 * i);
    p.ptl.push_back(100.0 * i);
  }
  r.group("os.sva").histogram("invalidation_latency", "").sample(1500);
  StatGroup& iotlb = r.group("top.iommu");
  iotlb.counter("iotlb_hits", "lookups", "").add(75);
  iotlb.counter("iotlb_lookups", "lookups", "").add(100);
  // The IOMMU side of ATS must not replace the devices' round trips.
  r.group("top.iommu").histogram("translation_request_latency", "").sample(400);
  StatGroup& cq = r.group("top.iommu.cmdq");
  cq.counter("pasid_iotlb_count", "commands", "").add(4);
  Histogram& pl = cq.histogram("pasid_iotlb_latency", "");
  for (double v : {100.0, 200.0, 300.0, 400.0}) pl.sample(v);
  cq.counter("inv_wait_count", "commands", "").add(2);
  cq.histogram("inv_wait_latency", "").sample(50);
  cq.histogram("atc_inv_latency", "").sample(70);  // no count: not a command kind
  r.group("top.cpu0").counter("loads", "accesses", "").add(7);
  r.group("top.cpu1").counter("loads", "accesses", "").add(5);
  r.group("top.cpu0").counter("stores", "accesses", "").add(3);
  r.group("top.cpu0").counter("page_faults", "faults", "").add(2);
  r.group("top.iommu").counter("faults_recorded", "faults", "").add(1);
  return p;
}

TEST(Report, CollectSummaryMergesInstancesAndComputesRates) {
  StatRegistry r;
  const Pooled pooled = fill_system(r);
  const std::vector<double>& reads = pooled.reads;
  const std::vector<double>& ptl = pooled.ptl;
  const RunSummary s = collect_summary(r, kLayout);
  EXPECT_EQ(s.dma_requests, 110u);
  EXPECT_EQ(s.dma_read_latency_ns.count, 100u);
  expect_near_exact(s.dma_read_latency_ns.p50, reads, 50);
  expect_near_exact(s.dma_read_latency_ns.p90, reads, 90);
  expect_near_exact(s.dma_read_latency_ns.p99, reads, 99);
  EXPECT_DOUBLE_EQ(s.dma_read_latency_ns.max, 2400.0);
  EXPECT_NEAR(s.dma_read_latency_ns.p50, 550.0, 550.0 / 128);    // 50th of 100 samples: 500 + 50
  EXPECT_NEAR(s.dma_read_latency_ns.p90, 2300.0, 2300.0 / 128);  // 30th of dev1's: 2000 + 300
  EXPECT_EQ(s.dma_write_latency_ns.count, 10u);
  EXPECT_DOUBLE_EQ(s.dma_write_latency_ns.p99, 300.0);
  EXPECT_EQ(s.dma_errors, 2u);
  EXPECT_EQ(s.dma_bytes, 64u * 110);
  // First issue 1500 ns (dev1), last completion 11500 ns (dev0): 10 us of DMA.
  EXPECT_DOUBLE_EQ(s.dma_phase_ns, 10000.0);
  EXPECT_DOUBLE_EQ(s.dma_mreq_per_s, 110.0 / 10000.0 * 1e3);  // 11 M req/s
  EXPECT_DOUBLE_EQ(s.dma_gb_per_s, 64.0 * 110 / 10000.0);     // 0.704 GB/s
  EXPECT_EQ(s.translation_latency_ns.count, 2u);
  EXPECT_EQ(s.translation_source, "ats");
  EXPECT_DOUBLE_EQ(s.translation_latency_ns.max, 1100.0);
  EXPECT_DOUBLE_EQ(s.translation_latency_ns.p50, 900.0);
  EXPECT_EQ(s.invalidation_latency_ns.count, 1u);
  EXPECT_DOUBLE_EQ(s.invalidation_latency_ns.p99, 1500.0);
  EXPECT_EQ(s.pri_round_trip_ns.count, 1u);
  EXPECT_DOUBLE_EQ(s.pri_round_trip_ns.max, 5000.0);
  EXPECT_EQ(s.ptl_hold_ns.count, 99u);
  expect_near_exact(s.ptl_hold_ns.p50, ptl, 50);
  expect_near_exact(s.ptl_hold_ns.p90, ptl, 90);
  EXPECT_DOUBLE_EQ(s.ptl_hold_ns.max, 9900.0);
  EXPECT_DOUBLE_EQ(s.iotlb_hit_rate, 0.75);
  EXPECT_EQ(s.iotlb_lookups, 100u);
  EXPECT_DOUBLE_EQ(s.atc_hit_rate, 80.0 / 100.0);
  EXPECT_EQ(s.atc_lookups, 100u);
  ASSERT_EQ(s.invalidations.size(), 2u);
  EXPECT_EQ(s.invalidations[0].kind, "inv_wait");
  EXPECT_EQ(s.invalidations[0].count, 2u);
  EXPECT_EQ(s.invalidations[1].kind, "pasid_iotlb");
  EXPECT_EQ(s.invalidations[1].count, 4u);
  EXPECT_NEAR(s.invalidations[1].latency_ns.p50, 200.0, 200.0 / 128);
  EXPECT_DOUBLE_EQ(s.invalidations[1].latency_ns.max, 400.0);
  EXPECT_EQ(s.cpu_loads, 12u);
  EXPECT_EQ(s.cpu_stores, 3u);
  EXPECT_EQ(s.cpu_page_faults, 2u);
  EXPECT_EQ(s.pri_page_requests, 3u);  // the device's, not the handler's nor dev9's
  EXPECT_EQ(s.iommu_faults, 1u);
  EXPECT_EQ(s.invalidation_errors.total(), 0u);
}

TEST(Report, EmptyRegistryGivesZerosNotNaN) {
  StatRegistry r;
  r.group("top.dev0").histogram("dma_read_latency", "");
  r.group("top.dev0").counter("atc_hits", "lookups", "");
  r.group("top.iommu").counter("iotlb_lookups", "lookups", "");
  const RunSummary s = collect_summary(r, kLayout);
  EXPECT_EQ(s.dma_requests, 0u);
  EXPECT_EQ(s.dma_read_latency_ns.count, 0u);
  EXPECT_EQ(s.dma_read_latency_ns.p50, 0.0);
  EXPECT_EQ(s.dma_read_latency_ns.max, 0.0);
  EXPECT_EQ(s.iotlb_hit_rate, 0.0);
  EXPECT_EQ(s.atc_hit_rate, 0.0);
  EXPECT_EQ(s.translation_source, "");
  EXPECT_TRUE(s.invalidations.empty());
}

TEST(Report, TranslationFallsBackToTheIommuWithoutAtsRoundTrips) {
  StatRegistry r;
  r.group("top.dev0.ats").histogram("translation_latency", "");  // registered, never sampled
  Histogram& h = r.group("top.iommu").histogram("translation_request_latency", "");
  h.sample(400);
  h.sample(800);
  const RunSummary s = collect_summary(r, kLayout);
  EXPECT_EQ(s.translation_source, "iommu");
  EXPECT_EQ(s.translation_latency_ns.count, 2u);
  EXPECT_DOUBLE_EQ(s.translation_latency_ns.max, 800.0);
}

// A CheckerSuite that saw one use-after-free: a device read of a frame freed after
// the translation was obtained.
struct SuiteWithOneViolation {
  GroundTruth hub;
  CheckerSuite suite;
  SuiteWithOneViolation() {
    using sc_core::SC_NS;
    using sc_core::sc_time;
    suite.attach(hub);
    suite.bind_pasid(5, 1);
    const uint64_t frame = 0x200000, va = 0x400000;
    hub.frame({sc_time(10, SC_NS), frame, true});
    hub.pte_change({sc_time(20, SC_NS), 1, va, 4096, 0, frame | 0x7, "fault"});
    hub.device_access({sc_time(30, SC_NS), "DEV-thread-0", 0x100, 5, va, frame, false, 0,
                       sc_time(30, SC_NS), true});
    hub.pte_change({sc_time(40, SC_NS), 1, va, 4096, frame | 0x7, 0, "unmap"});
    hub.frame({sc_time(50, SC_NS), frame, false});
    hub.device_access({sc_time(60, SC_NS), "DEV-thread-0", 0x100, 5, va, frame, false, 0,
                       sc_time(30, SC_NS), true});
  }
};

struct ScenarioExtra : JsonExtra {
  void add_to(Json& doc) const override {
    doc["scenario"] = {{"name", "cow_race"}, {"expect_clean", false}};
  }
};

TEST(Report, StatsJsonHasTheTreeTheRunAndTheSummary) {
  StatRegistry r;
  fill_system(r);
  SuiteWithOneViolation v;
  ASSERT_EQ(v.suite.count("use_after_free"), 1u);
  RunInfo info{12345.5, 0.25, 42, &v.suite, {}};
  const RunSummary s = collect_summary(r, kLayout);
  ScenarioExtra extra;
  std::ostringstream out;
  write_stats_json(out, r, s, info, &extra);
  const Json j = parse_json(out.str());
  EXPECT_EQ(json_keys(j),
            (std::vector<std::string>{"os", "top", "sim_time_ns", "host_seconds", "lookahead_skips",
                                      "checkers", "summary", "scenario"}));
  // The hierarchy, as StatRegistry dumps it.
  EXPECT_EQ(j.at("top").at("iommu").at("iotlb_hits").at("value").get<double>(), 75);
  EXPECT_EQ(j.at("os").at("mm1").at("ptl_hold").at("kind").get<std::string>(), "histogram");
  EXPECT_EQ(j.at("os").at("mm1").at("ptl_hold").at("count").get<double>(), 66);
  EXPECT_DOUBLE_EQ(j.at("sim_time_ns").get<double>(), 12345.5);
  EXPECT_DOUBLE_EQ(j.at("host_seconds").get<double>(), 0.25);
  EXPECT_EQ(j.at("lookahead_skips").get<double>(), 42);
  const Json& c = j.at("checkers");
  EXPECT_EQ(json_keys(c), checker_names());
  EXPECT_EQ(c.at("use_after_free").get<double>(), 1);
  EXPECT_EQ(c.at("stale_after_newer_write").get<double>(), 0);
  EXPECT_EQ(c.at("write_after_protect").get<double>(), 0);
  EXPECT_EQ(c.at("completion_contract").get<double>(), 0);
  const Json& sum = j.at("summary");
  EXPECT_EQ(sum.at("dma_requests").get<double>(), 110);
  for (const char* k : {"dma_read_latency_ns", "dma_write_latency_ns", "translation_latency_ns",
                        "invalidation_latency_ns", "pri_round_trip_ns", "ptl_hold_ns"}) {
    SCOPED_TRACE(k);
    EXPECT_EQ(json_keys(sum.at(k)),
              (std::vector<std::string>{"count", "mean", "p50", "p90", "p99", "max"}));
  }
  EXPECT_EQ(sum.at("dma_read_latency_ns").at("count").get<double>(), 100);
  EXPECT_DOUBLE_EQ(sum.at("dma_read_latency_ns").at("max").get<double>(), 2400);
  EXPECT_DOUBLE_EQ(sum.at("dma_read_latency_ns").at("p50").get<double>(),
                   s.dma_read_latency_ns.p50);
  EXPECT_DOUBLE_EQ(sum.at("invalidation_latency_ns").at("p99").get<double>(), 1500);
  EXPECT_DOUBLE_EQ(sum.at("pri_round_trip_ns").at("max").get<double>(), 5000);
  EXPECT_EQ(sum.at("ptl_hold_ns").at("count").get<double>(), 99);
  EXPECT_DOUBLE_EQ(sum.at("iotlb_hit_rate").get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(sum.at("atc_hit_rate").get<double>(), 0.8);
  EXPECT_EQ(sum.at("invalidations").at("pasid_iotlb").at("count").get<double>(), 4);
  EXPECT_DOUBLE_EQ(
      sum.at("invalidations").at("pasid_iotlb").at("latency_ns").at("max").get<double>(), 400);
  EXPECT_EQ(j.at("scenario").at("name").get<std::string>(), "cow_race");
}

// Every summary latency has the exact mean of its pooled samples (the histograms'
// sums), in the struct and in the stats JSON; an empty one has mean 0.
TEST(Report, LatencyMeanIsTheExactMeanOfThePooledSamples) {
  StatRegistry r;
  const Pooled p = fill_system(r);
  const RunSummary s = collect_summary(r, kLayout);
  double reads = 0;
  for (double v : p.reads) reads += v;
  EXPECT_DOUBLE_EQ(s.dma_read_latency_ns.mean, reads / static_cast<double>(p.reads.size()));
  double ptl = 0;
  for (double v : p.ptl) ptl += v;
  EXPECT_DOUBLE_EQ(s.ptl_hold_ns.mean, ptl / 99.0);
  EXPECT_DOUBLE_EQ(s.translation_latency_ns.mean, 1000.0);         // 900 and 1100
  EXPECT_DOUBLE_EQ(s.invalidations.at(1).latency_ns.mean, 250.0);  // pasid_iotlb 100..400
  EXPECT_EQ(s.invalidations.at(1).kind, "pasid_iotlb");
  const Json sum = summary_json(s);
  EXPECT_DOUBLE_EQ(sum.at("dma_read_latency_ns").at("mean").get<double>(),
                   s.dma_read_latency_ns.mean);
  EXPECT_DOUBLE_EQ(
      sum.at("invalidations").at("pasid_iotlb").at("latency_ns").at("mean").get<double>(), 250.0);
  StatRegistry empty;
  empty.group("top.dev0").histogram("dma_read_latency", "");
  EXPECT_EQ(collect_summary(empty, kLayout).dma_read_latency_ns.mean, 0.0);
}

// The breakdown histograms are read by path under the SVA driver's group; every
// event and bucket is in the summary, in order, whether it ran or not.
TEST(Report, InvalidationLatencyBreakdownByEventAndRangeSize) {
  StatRegistry r;
  SvaInvalidationStats b(r.group("os.sva"));
  using sc_core::SC_NS;
  using sc_core::sc_time;
  b.sample(MmuNotifierEvent::kUnmap, 0, 4096, sc_time(1000, SC_NS));
  b.sample(MmuNotifierEvent::kUnmap, 0, 600 * 4096, sc_time(3000, SC_NS));
  b.sample(MmuNotifierEvent::kClear, 0, 16 * 4096, sc_time(2000, SC_NS));
  b.sample(std::nullopt, 0, 17 * 4096, sc_time(500, SC_NS));
  const RunSummary s = collect_summary(r, kLayout);
  std::vector<std::string> events, ranges;
  for (const NamedLatency& l : s.invalidation_latency_by_event_ns) events.push_back(l.name);
  for (const NamedLatency& l : s.invalidation_latency_by_range_ns) ranges.push_back(l.name);
  EXPECT_EQ(events, SvaInvalidationStats::event_names());
  EXPECT_EQ(ranges, SvaInvalidationStats::range_names());
  const LatencySummary& unmap = s.invalidation_latency_by_event_ns.at(0).latency_ns;
  EXPECT_EQ(unmap.count, 2u);
  EXPECT_DOUBLE_EQ(unmap.mean, 2000.0);
  EXPECT_DOUBLE_EQ(unmap.max, 3000.0);
  EXPECT_EQ(s.invalidation_latency_by_event_ns.at(1).latency_ns.count, 1u);   // clear
  EXPECT_EQ(s.invalidation_latency_by_event_ns.at(2).latency_ns.count, 0u);   // protection_vma
  EXPECT_EQ(s.invalidation_latency_by_event_ns.back().latency_ns.count, 1u);  // none
  EXPECT_DOUBLE_EQ(s.invalidation_latency_by_event_ns.back().latency_ns.p50, 500.0);
  const std::vector<uint64_t> range_counts{1, 1, 1, 1};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(s.invalidation_latency_by_range_ns.at(i).latency_ns.count, range_counts[i]) << i;
  }
  const Json sum = summary_json(s);
  EXPECT_EQ(json_keys(sum.at("invalidation_latency_by_event_ns")),
            SvaInvalidationStats::event_names());
  EXPECT_EQ(sum.at("invalidation_latency_by_range_ns").at("over_512_pages").at("max").get<double>(),
            3000.0);
  EXPECT_EQ(json_keys(sum.at("invalidation_latency_by_event_ns").at("soft_dirty")),
            (std::vector<std::string>{"count", "mean", "p50", "p90", "p99", "max"}));
}

TEST(Report, StatsJsonWithoutCheckersOrExtraCountsZeroAndEmptyLatenciesAreZero) {
  StatRegistry r;
  r.group("top.dev0").histogram("dma_read_latency", "");
  RunInfo info{0, 0, 0, nullptr, {}};
  std::ostringstream out;
  write_stats_json(out, r, collect_summary(r, kLayout), info, nullptr);
  const Json j = parse_json(out.str());
  EXPECT_FALSE(j.contains("scenario"));
  for (const std::string& n : checker_names())
    EXPECT_EQ(j.at("checkers").at(n).get<double>(), 0) << n;
  EXPECT_EQ(j.at("summary").at("dma_read_latency_ns").at("count").get<double>(), 0);
  EXPECT_EQ(j.at("summary").at("dma_read_latency_ns").at("p99").get<double>(),
            0);  // a number, not null
  EXPECT_EQ(j.at("summary").at("atc_hit_rate").get<double>(), 0);
  // The histogram itself keeps its null percentiles in the tree.
  EXPECT_TRUE(j.at("top").at("dev0").at("dma_read_latency").at("p50").is_null());
}

TEST(Report, StatsJsonFileAndUnwritablePath) {
  StatRegistry r;
  r.group("a").counter("n", "x", "").add(3);
  RunInfo info{5, 1, 0, nullptr, {}};
  const std::string path = ::testing::TempDir() + "report_test_stats.json";
  write_stats_json(path, r, collect_summary(r, kLayout), info, nullptr);
  std::ifstream f(path);
  std::stringstream text;
  text << f.rdbuf();
  EXPECT_EQ(parse_json(text.str()).at("a").at("n").at("value").get<double>(), 3);
  std::remove(path.c_str());
  EXPECT_THROW(write_stats_json("/nonexistent-dir/x/stats.json", r, collect_summary(r, kLayout),
                                info, nullptr),
               std::runtime_error);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::string line_starting(const std::vector<std::string>& lines, const std::string& prefix) {
  for (const std::string& l : lines) {
    if (l.rfind(prefix, 0) == 0) return l;
  }
  return "<no line starting with '" + prefix + "'>";
}

TEST(Report, PrintSummaryShowsTheNumbers) {
  StatRegistry r;
  fill_system(r);
  RunSummary s = collect_summary(r, kLayout);
  s.dma_read_latency_ns.p50 = 550.0;  // exact values for the text
  s.dma_read_latency_ns.p90 = 2300.0;
  s.dma_read_latency_ns.p99 = 2390.0;
  CheckerSuite clean;
  RunInfo info{20000, 1.5, 0, &clean, {{"boot time", "2.00 us"}}};
  std::ostringstream out;
  print_summary(out, s, info);
  const std::vector<std::string> l = lines_of(out.str());
  if (std::getenv("REPORT_TEST_PRINT")) std::cout << out.str();
  EXPECT_GE(l.size(), 15u);
  EXPECT_LE(l.size(), 25u);
  EXPECT_EQ(l[0], "== iommu-sim summary ==");
  EXPECT_EQ(line_starting(l, "simulated time"), "simulated time        20.00 us");
  EXPECT_EQ(line_starting(l, "boot time"), "boot time             2.00 us");
  EXPECT_EQ(line_starting(l, "host time"), "host time             1.500 s");
  // 110 requests in the 10 us between the first issue and the last completion (not the
  // 20 us of simulated time): 11 M/s; 7040 bytes / 10000 ns = 0.704 GB/s.
  EXPECT_EQ(line_starting(l, "DMA requests"),
            "DMA requests          110 (100 reads, 10 writes, 2 errors), 11.00 M req/s, "
            "0.704 GB/s over 10.00 us of DMA");
  EXPECT_EQ(line_starting(l, "latency"),
            "latency                   count        p50        p90        p99        max");
  EXPECT_EQ(line_starting(l, "  DMA read"),
            "  DMA read                  100   550.0 ns  2300.0 ns  2390.0 ns  2400.0 ns");
  EXPECT_EQ(line_starting(l, "  DMA write"),
            "  DMA write                  10   300.0 ns   300.0 ns   300.0 ns   300.0 ns");
  // 1096: the histogram's bucket midpoint for 1100 (within 1/128), max is exact.
  EXPECT_EQ(line_starting(l, "  translation (ATS)"),
            "  translation (ATS)           2   900.0 ns  1096.0 ns  1096.0 ns  1100.0 ns");
  EXPECT_EQ(line_starting(l, "  invalidation (sw)"),
            "  invalidation (sw)           1  1500.0 ns  1500.0 ns  1500.0 ns  1500.0 ns");
  EXPECT_EQ(line_starting(l, "  PRI round trip").substr(0, 31), "  PRI round trip              1");
  EXPECT_EQ(line_starting(l, "  PTL hold").substr(0, 31), "  PTL hold                   99");
  EXPECT_EQ(line_starting(l, "  inv_wait"),
            "  inv_wait                    2    50.0 ns    50.0 ns");
  EXPECT_EQ(line_starting(l, "  pasid_iotlb").substr(0, 31), "  pasid_iotlb                 4");
  EXPECT_EQ(line_starting(l, "invalidation errors"),
            "invalidation errors   IOMMU 0 ITag time-outs, 0 failed waits; driver 0 wait "
            "time-outs, 0 retries, 0 failed waits");
  EXPECT_EQ(line_starting(l, "hit rates"),
            "hit rates             IOTLB 75.0% of 100, ATC 80.0% of 100");
  EXPECT_EQ(line_starting(l, "CPU"), "CPU                   12 loads, 3 stores, 2 page faults");
  EXPECT_EQ(line_starting(l, "faults"),
            "faults                3 PRI page requests, 1 IOMMU fault records");
  EXPECT_EQ(line_starting(l, "checkers"),
            "checkers              clean: use_after_free 0, stale_after_newer_write 0, "
            "write_after_protect 0, completion_contract 0");
}

TEST(Report, PrintSummaryFlagsViolationsAndMissingCheckers) {
  StatRegistry r;
  const RunSummary s = collect_summary(r, kLayout);
  SuiteWithOneViolation v;
  std::ostringstream with, without;
  print_summary(with, s, RunInfo{100, 0.01, 0, &v.suite, {}});
  print_summary(without, s, RunInfo{100, 0.01, 0, nullptr, {}});
  EXPECT_EQ(line_starting(lines_of(with.str()), "checkers"),
            "checkers              VIOLATIONS: use_after_free 1, stale_after_newer_write 0, "
            "write_after_protect 0, completion_contract 0");
  EXPECT_EQ(line_starting(lines_of(without.str()), "checkers"), "checkers              not run");
  EXPECT_EQ(line_starting(lines_of(without.str()), "invalidations"), "invalidations         none");
  EXPECT_EQ(line_starting(lines_of(without.str()), "  DMA read"),
            "  DMA read                    0   -");
}

// A latency cell's text ("615.7 ns", "2.40 us", "161.00 s") in ns.
double cell_ns(const std::string& number, const std::string& unit) {
  const double v = std::stod(number);
  if (unit == "ns") return v;
  if (unit == "us") return v * 1e3;
  if (unit == "ms") return v * 1e6;
  if (unit == "s") return v * 1e9;
  ADD_FAILURE() << "unknown unit '" << unit << "'";
  return 0;
}

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

TEST(Report, HugeAndTinyLatenciesKeepTheirColumnsSeparate) {
  RunSummary s;
  // 161 s (a run that waited on a lost completion) next to sub-ns and mid-range values.
  s.dma_read_latency_ns = {123456789012u, 0.25, 161000001036.0, 161000001036.0, 9.9999e14};
  s.dma_write_latency_ns = {7, 9999.96, 9999999.0, 12345678.9, 9999999999.0};
  s.invalidations = {{"pasid_iotlb", 98765432101u, {3, 1e12, 0, 5e10, 0}}};
  std::ostringstream out;
  print_summary(out, s, RunInfo{2e11, 1, 0, nullptr, {}});
  const std::vector<std::string> l = lines_of(out.str());
  const std::string header = line_starting(l, "latency");
  struct Row {
    std::string label;
    LatencySummary lat;
  };
  for (const Row& row :
       {Row{"  DMA read", s.dma_read_latency_ns}, Row{"  DMA write", s.dma_write_latency_ns}}) {
    SCOPED_TRACE(row.label);
    const std::string line = line_starting(l, row.label);
    // Label (2 words), count, then four "<number> <unit>" cells.
    const std::vector<std::string> w = words(line);
    ASSERT_EQ(w.size(), 2u + 1 + 8) << line;
    EXPECT_EQ(std::stoull(w[2]), row.lat.count);
    const double want[] = {row.lat.p50, row.lat.p90, row.lat.p99, row.lat.max};
    for (size_t i = 0; i < 4; ++i) {
      const double got = cell_ns(w[3 + 2 * i], w[4 + 2 * i]);
      EXPECT_NEAR(got, want[i], want[i] * 1e-3 + 0.05) << w[3 + 2 * i] << " " << w[4 + 2 * i];
    }
    // Values up to 99999 s fit the header's fixed columns: each ends where its title ends.
    if (row.lat.max < 1e14) {
      EXPECT_EQ(line.size(), header.size()) << line << "\n" << header;
    }
  }
  const std::vector<std::string> inv = words(line_starting(l, "  pasid_iotlb"));
  ASSERT_EQ(inv.size(), 1u + 1 + 4);
  EXPECT_EQ(std::stoull(inv[1]), 98765432101u);
  EXPECT_DOUBLE_EQ(cell_ns(inv[2], inv[3]), 1e12);
  EXPECT_DOUBLE_EQ(cell_ns(inv[4], inv[5]), 5e10);
}

TEST(Report, InvalidationTimeoutsAreShownAndTheRunIsNotClean) {
  StatRegistry r;
  fill_system(r);
  StatGroup& cq = r.group("top.iommu.cmdq");
  cq.counter("itag_timeouts", "requests", "").add(3);
  cq.counter("failed_waits", "commands", "").add(1);
  StatGroup& sva = r.group("os.sva");
  sva.counter("wait_timeouts", "waits", "").add(2);
  sva.counter("failed_waits", "waits", "").add(4);
  // No "retries" counter in this tree: it counts as 0.
  const RunSummary s = collect_summary(r, kLayout);
  EXPECT_EQ(s.invalidation_errors.itag_timeouts, 3u);
  EXPECT_EQ(s.invalidation_errors.iommu_failed_waits, 1u);
  EXPECT_EQ(s.invalidation_errors.wait_timeouts, 2u);
  EXPECT_EQ(s.invalidation_errors.retries, 0u);
  EXPECT_EQ(s.invalidation_errors.driver_failed_waits, 4u);
  CheckerSuite clean;
  std::ostringstream out;
  print_summary(out, s, RunInfo{100, 0.01, 0, &clean, {}});
  const std::vector<std::string> l = lines_of(out.str());
  EXPECT_EQ(line_starting(l, "invalidation errors"),
            "invalidation errors   IOMMU 3 ITag time-outs, 1 failed waits; driver 2 wait "
            "time-outs, 0 retries, 4 failed waits");
  EXPECT_EQ(line_starting(l, "checkers"),
            "checkers              not clean (invalidation errors): use_after_free 0, "
            "stale_after_newer_write 0, write_after_protect 0, completion_contract 0");
  // Only the retries: still not clean. A checker violation still says VIOLATIONS.
  RunSummary retried;
  retried.invalidation_errors.retries = 1;
  std::ostringstream r1, r2;
  print_summary(r1, retried, RunInfo{100, 0.01, 0, &clean, {}});
  EXPECT_EQ(line_starting(lines_of(r1.str()), "checkers").substr(0, 31),
            "checkers              not clean");
  SuiteWithOneViolation v;
  print_summary(r2, s, RunInfo{100, 0.01, 0, &v.suite, {}});
  EXPECT_EQ(line_starting(lines_of(r2.str()), "checkers").substr(0, 34),
            "checkers              VIOLATIONS: ");
  std::ostringstream json;
  write_stats_json(json, r, s, RunInfo{100, 0.01, 0, &clean, {}}, nullptr);
  const Json e = parse_json(json.str()).at("summary").at("invalidation_errors");
  EXPECT_EQ(e.at("itag_timeouts").get<double>(), 3);
  EXPECT_EQ(e.at("iommu_failed_waits").get<double>(), 1);
  EXPECT_EQ(e.at("wait_timeouts").get<double>(), 2);
  EXPECT_EQ(e.at("retries").get<double>(), 0);
  EXPECT_EQ(e.at("driver_failed_waits").get<double>(), 4);
}

// ---------------------------------------------------------------- shipped configs

struct ConfigRun {
  int status = -1;
  std::string output;
  Json stats;
};

// Runs iommu-sim's front end on configs/<name>.cfg with --stats.
ConfigRun run_shipped(const std::string& name) {
  const std::string configs = std::string(IOSIM_CONFIG_DIR) + "/";
  const std::string stats =
      ::testing::TempDir() + "report_test_" + name + "_" + std::to_string(getpid()) + ".json";
  const std::vector<std::string> args{"iommu-sim", configs + name + ".cfg", "--stats", stats};
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  SystemSimulation sim;
  CliEnvironment env;
  env.simulation = &sim;
  std::ostringstream o, e;
  ConfigRun r;
  r.status = run_cli(static_cast<int>(argv.size()), argv.data(), env, o, e);
  r.output = o.str() + e.str();
  std::ifstream f(stats);
  std::stringstream text;
  text << f.rdbuf();
  if (r.status == 0) r.stats = parse_json(text.str());
  std::remove(stats.c_str());
  return r;
}

TEST(Report, PriDemandPagingCountsTheDevicesPageRequests) {
  const ConfigRun r = run_shipped("pri_demand_paging");
  ASSERT_EQ(r.status, 0) << r.output;
  const double device =
      r.stats.at("device0").at("pri").at("page_requests").at("value").get<double>();
  EXPECT_EQ(device, 6);
  // The fault handler read the same requests: a sum over every "page_requests" doubles them.
  EXPECT_EQ(r.stats.at("iopf").at("page_requests").at("value").get<double>(), device);
  EXPECT_EQ(r.stats.at("summary").at("pri_page_requests").get<double>(), device);
  EXPECT_EQ(line_starting(lines_of(r.output), "faults"),
            "faults                6 PRI page requests, 0 IOMMU fault records");
}

TEST(Report, DefaultRatesDivideByTheDmaPhase) {
  const ConfigRun r = run_shipped("default");
  ASSERT_EQ(r.status, 0) << r.output;
  const Json& d = r.stats.at("device0");
  const double first = d.at("dma_issue_time").at("min").get<double>();
  const double last = d.at("dma_completion_time").at("max").get<double>();
  const double phase = last - first;
  const double boot = r.stats.at("boot_ns").get<double>();
  EXPECT_GE(first, boot * (1 - 1e-9));  // the devices start when the boot ends
  EXPECT_LE(phase, (r.stats.at("sim_time_ns").get<double>() - boot) * (1 + 1e-9));
  const Json& s = r.stats.at("summary");
  const double requests = s.at("dma_requests").get<double>();
  EXPECT_EQ(requests, 2000);
  EXPECT_DOUBLE_EQ(s.at("dma_phase_ns").get<double>(), phase);
  EXPECT_DOUBLE_EQ(s.at("dma_mreq_per_s").get<double>(), requests / phase * 1e3);
  EXPECT_DOUBLE_EQ(s.at("dma_gb_per_s").get<double>(), s.at("dma_bytes").get<double>() / phase);
  char rate[32];
  std::snprintf(rate, sizeof rate, ", %.2f M req/s,", requests / phase * 1e3);
  EXPECT_NE(line_starting(lines_of(r.output), "DMA requests").find(rate), std::string::npos)
      << rate;
}

}  // namespace
}  // namespace iosim
