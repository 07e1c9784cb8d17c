#include "platform/report.h"

#include "sc_models/checker_suite.h"
#include "sc_models/ground_truth.h"
#include "sc_models/json_reader.h"

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
// cores. Returns the pooled DMA read and PTL hold samples.
struct Pooled {
  std::vector<double> reads, ptl;
};

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
  Histogram& p1 = r.group("os.mm1").histogram("ptl_hold", "");
  Histogram& p2 = r.group("os.mm2").histogram("ptl_hold", "");
  for (int i = 1; i <= 99; ++i) {
    (i % 3 ? p1 : p2).sample(100.0 * i);
    p.ptl.push_back(100.0 * i);
  }
  r.group("os.sva").histogram("invalidation_latency", "").sample(1500);
  StatGroup& iotlb = r.group("top.iommu.iotlb");
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
  r.group("top.iommu.faults").counter("faults_recorded", "faults", "").add(1);
  return p;
}

TEST(Report, CollectSummaryMergesInstancesAndComputesRates) {
  StatRegistry r;
  const Pooled pooled = fill_system(r);
  const std::vector<double>& reads = pooled.reads;
  const std::vector<double>& ptl = pooled.ptl;
  const RunSummary s = collect_summary(r);
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
  EXPECT_EQ(s.pri_page_requests, 3u);
  EXPECT_EQ(s.iommu_faults, 1u);
}

TEST(Report, EmptyRegistryGivesZerosNotNaN) {
  StatRegistry r;
  r.group("top.dev0").histogram("dma_read_latency", "");
  r.group("top.dev0").counter("atc_hits", "lookups", "");
  r.group("top.iommu.iotlb").counter("iotlb_lookups", "lookups", "");
  const RunSummary s = collect_summary(r);
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
  const RunSummary s = collect_summary(r);
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
  void write(JsonWriter& w) const override {
    w.key("scenario").begin_object().field("name", "cow_race").field("expect_clean", false);
    w.end_object();
  }
};

TEST(Report, StatsJsonHasTheTreeTheRunAndTheSummary) {
  StatRegistry r;
  fill_system(r);
  SuiteWithOneViolation v;
  ASSERT_EQ(v.suite.count("use_after_free"), 1u);
  RunInfo info{12345.5, 0.25, 42, &v.suite, {}};
  const RunSummary s = collect_summary(r);
  ScenarioExtra extra;
  std::ostringstream out;
  write_stats_json(out, r, s, info, &extra);
  const JsonValue j = parse_json(out.str());
  EXPECT_EQ(j.keys(),
            (std::vector<std::string>{"os", "top", "sim_time_ns", "host_seconds", "lookahead_skips",
                                      "checkers", "summary", "scenario"}));
  // The hierarchy, as StatRegistry dumps it.
  EXPECT_EQ(j["top"]["iommu"]["iotlb"]["iotlb_hits"]["value"].number(), 75);
  EXPECT_EQ(j["os"]["mm1"]["ptl_hold"]["kind"].str(), "histogram");
  EXPECT_EQ(j["os"]["mm1"]["ptl_hold"]["count"].number(), 66);
  EXPECT_DOUBLE_EQ(j["sim_time_ns"].number(), 12345.5);
  EXPECT_DOUBLE_EQ(j["host_seconds"].number(), 0.25);
  EXPECT_EQ(j["lookahead_skips"].number(), 42);
  const JsonValue& c = j["checkers"];
  EXPECT_EQ(c.keys(), checker_names());
  EXPECT_EQ(c["use_after_free"].number(), 1);
  EXPECT_EQ(c["stale_after_newer_write"].number(), 0);
  EXPECT_EQ(c["write_after_protect"].number(), 0);
  EXPECT_EQ(c["completion_contract"].number(), 0);
  const JsonValue& sum = j["summary"];
  EXPECT_EQ(sum["dma_requests"].number(), 110);
  for (const char* k : {"dma_read_latency_ns", "dma_write_latency_ns", "translation_latency_ns",
                        "invalidation_latency_ns", "pri_round_trip_ns", "ptl_hold_ns"}) {
    SCOPED_TRACE(k);
    EXPECT_EQ(sum[k].keys(), (std::vector<std::string>{"count", "p50", "p90", "p99", "max"}));
  }
  EXPECT_EQ(sum["dma_read_latency_ns"]["count"].number(), 100);
  EXPECT_DOUBLE_EQ(sum["dma_read_latency_ns"]["max"].number(), 2400);
  EXPECT_DOUBLE_EQ(sum["dma_read_latency_ns"]["p50"].number(), s.dma_read_latency_ns.p50);
  EXPECT_DOUBLE_EQ(sum["invalidation_latency_ns"]["p99"].number(), 1500);
  EXPECT_DOUBLE_EQ(sum["pri_round_trip_ns"]["max"].number(), 5000);
  EXPECT_EQ(sum["ptl_hold_ns"]["count"].number(), 99);
  EXPECT_DOUBLE_EQ(sum["iotlb_hit_rate"].number(), 0.75);
  EXPECT_DOUBLE_EQ(sum["atc_hit_rate"].number(), 0.8);
  EXPECT_EQ(sum["invalidations"]["pasid_iotlb"]["count"].number(), 4);
  EXPECT_DOUBLE_EQ(sum["invalidations"]["pasid_iotlb"]["latency_ns"]["max"].number(), 400);
  EXPECT_EQ(j["scenario"]["name"].str(), "cow_race");
}

TEST(Report, StatsJsonWithoutCheckersOrExtraCountsZeroAndEmptyLatenciesAreZero) {
  StatRegistry r;
  r.group("top.dev0").histogram("dma_read_latency", "");
  RunInfo info{0, 0, 0, nullptr, {}};
  std::ostringstream out;
  write_stats_json(out, r, collect_summary(r), info, nullptr);
  const JsonValue j = parse_json(out.str());
  EXPECT_FALSE(j.has("scenario"));
  for (const std::string& n : checker_names()) EXPECT_EQ(j["checkers"][n].number(), 0) << n;
  EXPECT_EQ(j["summary"]["dma_read_latency_ns"]["count"].number(), 0);
  EXPECT_EQ(j["summary"]["dma_read_latency_ns"]["p99"].number(), 0);  // a number, not null
  EXPECT_EQ(j["summary"]["atc_hit_rate"].number(), 0);
  // The histogram itself keeps its null percentiles in the tree.
  EXPECT_TRUE(j["top"]["dev0"]["dma_read_latency"]["p50"].is_null());
}

TEST(Report, StatsJsonFileAndUnwritablePath) {
  StatRegistry r;
  r.group("a").counter("n", "x", "").add(3);
  RunInfo info{5, 1, 0, nullptr, {}};
  const std::string path = ::testing::TempDir() + "report_test_stats.json";
  write_stats_json(path, r, collect_summary(r), info, nullptr);
  std::ifstream f(path);
  std::stringstream text;
  text << f.rdbuf();
  EXPECT_EQ(parse_json(text.str())["a"]["n"]["value"].number(), 3);
  std::remove(path.c_str());
  EXPECT_THROW(
      write_stats_json("/nonexistent-dir/x/stats.json", r, collect_summary(r), info, nullptr),
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
  RunSummary s = collect_summary(r);
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
  // 110 requests in 20 us = 5.5 M/s; 7040 bytes / 20000 ns = 0.352 GB/s.
  EXPECT_EQ(line_starting(l, "DMA requests"),
            "DMA requests          110 (100 reads, 10 writes, 2 errors), 5.50 M req/s, 0.352 GB/s");
  EXPECT_EQ(line_starting(l, "  DMA read"),
            "  DMA read                  100      550.0     2300.0     2390.0     2400.0");
  EXPECT_EQ(line_starting(l, "  DMA write"),
            "  DMA write                  10      300.0      300.0      300.0      300.0");
  // 1096: the histogram's bucket midpoint for 1100 (within 1/128), max is exact.
  EXPECT_EQ(line_starting(l, "  translation (ATS)"),
            "  translation (ATS)           2      900.0     1096.0     1096.0     1100.0");
  EXPECT_EQ(line_starting(l, "  invalidation (sw)"),
            "  invalidation (sw)           1     1500.0     1500.0     1500.0     1500.0");
  EXPECT_EQ(line_starting(l, "  PRI round trip").substr(0, 31), "  PRI round trip              1");
  EXPECT_EQ(line_starting(l, "  PTL hold").substr(0, 31), "  PTL hold                   99");
  EXPECT_EQ(line_starting(l, "  inv_wait"),
            "  inv_wait                    2       50.0       50.0");
  EXPECT_EQ(line_starting(l, "  pasid_iotlb").substr(0, 31), "  pasid_iotlb                 4");
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
  const RunSummary s = collect_summary(r);
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

}  // namespace
}  // namespace iosim
