// Config regressions: every configs/*.cfg run by the real iommu-sim binary under
// both secondary-TLB policies; the checker counts and what each scripted thread saw
// are read back from the --stats JSON.
#include "sc_models/observe/json.h"
#include "tests/platform/sim_run.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace iosim {
namespace {

using V = std::vector<uint64_t>;

TEST(ConfigRegression, CowRaceAppearsUnderRangeEnd) {
  SimRun r = run_config("cow_race", "range_end");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_GE(checker(r, "stale_after_newer_write"), 1u);
  EXPECT_EQ(checker(r, "use_after_free"), 0u);
  // addrA from the old page, addrB from the new page.
  EXPECT_EQ(dev_reads(r, "DEV-thread-0"), (V{1, 1}));
  EXPECT_EQ(dev_reads(r, "DEV-thread-2"), (V{1, 2}));
}

TEST(ConfigRegression, CowRaceDisappearsUnderPtl) {
  SimRun r = run_config("cow_race", "under_ptl");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(total_violations(r), 0u);
  EXPECT_EQ(dev_reads(r, "DEV-thread-0"), (V{1, 3}));
  EXPECT_EQ(dev_reads(r, "DEV-thread-2"), (V{1, 2}));
}

// Position of `line` in the output after `from`; npos when absent.
size_t line_after(const std::string& out, const std::string& line, size_t from) {
  return out.find("\n" + line + "\n", from);
}

TEST(ConfigRegression, CowRaceTimelineIsTheSeedTable) {
  SimRun r = run_config("cow_race", "range_end", "--timeline");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("[Time N] ---"), std::string::npos) << r.output;
  // The rows of Documentation/mm/mmu_notifier.rst in their order: both COWs start, thread 0 updates
  // addrA's PTE and is preempted, thread 2 writes the new page, thread 1 ends its range (the device
  // drops addrB only), and the device reads addrA from the old page, addrB from the new.
  size_t at = 0;
  for (const char* row :
       {"CPU-thread-0  {COW: invalidate_range_start(addrA)}",
        "CPU-thread-1  {COW: invalidate_range_start(addrB)}",
        "CPU-thread-0  {update PTE addrA -> new page}", "CPU-thread-2  {store addrA (new page)}",
        "CPU-thread-3  {store addrB (new page)}",
        "CPU-thread-1  {COW: invalidate_range_end(addrB)}",
        "DEV-thread-0  {read addrA from old page}", "DEV-thread-2  {read addrB from new page}",
        "CPU-thread-0  {COW: invalidate_range_end(addrA)}"}) {
    const size_t next = line_after(r.output, row, at);
    ASSERT_NE(next, std::string::npos) << "missing or out of order: " << row << "\n" << r.output;
    at = next + 1;
  }
  EXPECT_NE(r.output.find("CPU-thread-0  {preempted}"), std::string::npos);
}

TEST(ConfigRegression, CowRaceTimelineUnderPtlHasNoOldPageRead) {
  SimRun r = run_config("cow_race", "under_ptl", "--timeline");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output.find("from old page"), std::string::npos) << r.output;
  EXPECT_NE(line_after(r.output, "DEV-thread-0  {read addrA from new page}", 0), std::string::npos)
      << r.output;
}

TEST(ConfigRegression, CowRaceTraceHasEveryTrack) {
  const std::string path = ::testing::TempDir() + "cow_race_trace.json";
  std::remove(path.c_str());
  SimRun r = run_config("cow_race", "range_end", "--trace " + path);
  ASSERT_EQ(r.status, 0) << r.output;
  std::ifstream f(path);
  ASSERT_TRUE(f) << "no trace written";
  std::stringstream text;
  text << f.rdbuf();
  const Json trace = parse_json(text.str());
  std::map<std::string, int> names;
  std::set<std::string> threads;
  for (const Json& e : trace.at("traceEvents")) {
    names[e.at("name").get<std::string>()]++;
    if (e.at("name").get<std::string>() == "thread_name")
      threads.insert(e.at("args").at("name").get<std::string>());
  }
  // Two COWs (CLEAR ranges), two driver invalidations seen complete, four device reads,
  // six CPU stores, and a track per scripted thread.
  EXPECT_EQ(names.at("invalidate_range(CLEAR)"), 2);
  EXPECT_EQ(names.at("invalidation_done"), 2);
  EXPECT_EQ(names.at("read"), 4);
  EXPECT_EQ(names.at("store"), 6);
  for (const char* t : {"CPU-thread-0", "CPU-thread-1", "CPU-thread-2", "CPU-thread-3",
                        "DEV-thread-0", "DEV-thread-2"}) {
    EXPECT_EQ(threads.count(t), 1u) << t;
  }
}

TEST(ConfigRegression, CowRaceRefusesAQuantum) {
  SimRun r = run_config("cow_race", "range_end", "--set sim.quantum_ns=50");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("ordering-sensitive"), std::string::npos) << r.output;
  EXPECT_TRUE(r.stats.is_null());  // no partial output file
}

// Choices are checked against their tables when the configuration is read: the
// workload takes the synthetic patterns only (a device thread also takes "script"),
// and the names are case-sensitive.
TEST(ConfigRegression, ChoicesAreCheckedWhenRead) {
  SimRun r = run_config("default", "under_ptl", "--set workload.pattern=script");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("workload.pattern: bad value 'script': 'script' is not one of "
                          "stream|random|strided|hotset|zipf"),
            std::string::npos)
      << r.output;
  SimRun s = run_config("default", "under_ptl", "--set sva.policy=Intel");
  EXPECT_EQ(s.status, 2);
  EXPECT_NE(s.output.find("sva.policy: bad value 'Intel': 'Intel' is not one of "
                          "auto|intel|arm|riscv|amd|amd_legacy"),
            std::string::npos)
      << s.output;
}

// A driver registered with arch_invalidate_secondary_tlbs would never be called under
// range_end: the combination is refused instead of silently never invalidating.
TEST(ConfigRegression, ArchNotifierUnderRangeEndIsRefused) {
  SimRun r = run_config("munmap_free", "range_end", "--set sva.notifier=arch_invalidate");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("sva.notifier: arch_invalidate needs os.secondary_tlb_flush"),
            std::string::npos)
      << r.output;
  EXPECT_TRUE(r.stats.is_null());
  EXPECT_EQ(run_config("munmap_free", "under_ptl", "--set sva.notifier=arch_invalidate").status, 0);
}

TEST(ConfigRegression, MunmapFreeUseAfterFreeUnderRangeEnd) {
  SimRun r = run_config("munmap_free", "range_end");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_GE(checker(r, "use_after_free"), 1u);
  // The device's write landed in the other process's reallocated page.
  EXPECT_EQ(cpu_loads(r, "CPU-thread-1"), (V{101}));
}

TEST(ConfigRegression, MunmapFreeCleanUnderPtl) {
  SimRun r = run_config("munmap_free", "under_ptl");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(total_violations(r), 0u);
  EXPECT_EQ(cpu_loads(r, "CPU-thread-1"), (V{7}));
  EXPECT_EQ(thread(r, "dev_threads", "DEV-thread-0").at("errors").size(), 1u);
}

// The device reads both sides of the KSM merge: the kept page (DEV-thread-0) and the
// replaced one (DEV-thread-1, which translates it again during the slowed compare).
// The replaced page is freed only after replace_page's range_end, so neither policy
// lets the device reach a freed frame.
void expect_ksm_clean(const std::string& policy) {
  SimRun r = run_config("ksm_wrprotect", policy);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(total_violations(r), 0u);
  EXPECT_EQ(checker(r, "use_after_free"), 0u);
  EXPECT_EQ(dev_reads(r, "DEV-thread-0"), (V{42, 5, 42, 5, 42, 5}));
  EXPECT_EQ(dev_reads(r, "DEV-thread-1"), V(33, 42));
  EXPECT_EQ(cpu_loads(r, "CPU-thread-2"), (V{42, 5}));
  const Json& ksm = thread(r, "cpu_threads", "CPU-thread-1").at("ops").at(0);
  EXPECT_EQ(ksm.at("op").get<std::string>(), "ksm_merge");
  EXPECT_EQ(ksm.at("result").get<double>(), 1.0);  // addrK was merged into addrA
  // DEV-thread-1 kept reading past the merge's end.
  const Json& reads = thread(r, "dev_threads", "DEV-thread-1").at("reads");
  ASSERT_GT(reads.size(), 0u);
  EXPECT_GT(reads.back().at("time_ns").get<double>(), ksm.at("end_ns").get<double>());
}
TEST(ConfigRegression, KsmWrprotectCleanUnderRangeEnd) {
  expect_ksm_clean("range_end");
}
TEST(ConfigRegression, KsmWrprotectCleanUnderPtl) {
  expect_ksm_clean("under_ptl");
}

void expect_pri(const std::string& policy) {
  SimRun r = run_config("pri_demand_paging", policy);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(total_violations(r), 0u);
  EXPECT_EQ(stat(r, {"iopf", "page_requests"}), 6.0);
  EXPECT_EQ(stat(r, {"iopf", "responses_success"}), 6.0);
  EXPECT_EQ(r.stats.at("summary").at("pri_round_trip_ns").at("count").get<double>(), 6.0);
  EXPECT_EQ(dev_reads(r, "DEV-thread-0"), (V{0, 0, 1, 4}));
  EXPECT_EQ(cpu_loads(r, "CPU-thread-0"), (V{3}));
}
TEST(ConfigRegression, PriDemandPagingUnderRangeEnd) {
  expect_pri("range_end");
}
TEST(ConfigRegression, PriDemandPagingUnderPtl) {
  expect_pri("under_ptl");
}

void expect_multi_pasid(const std::string& policy) {
  SimRun r = run_config("multi_pasid", policy);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(total_violations(r), 0u);
  EXPECT_EQ(dev_reads(r, "DEV-thread-1"), (V{20, 20, 20, 20, 20, 20, 20, 20}));
  EXPECT_EQ(dev_reads(r, "DEV-thread-0"), (V{10, 10, 10, 10, 0, 0}));
  // P1's second round hit its ATC entries: P0's invalidations left them alone.
  EXPECT_EQ(stat(r, {"device0", "atc_hits"}), 4.0);
  EXPECT_EQ(stat(r, {"device0", "ats", "translation_requests"}), 12.0);
  const Json& binds = r.stats.at("scenario").at("binds");
  ASSERT_EQ(binds.size(), 2u);
  EXPECT_NE(binds[0].at("pasid").get<double>(), binds[1].at("pasid").get<double>());
}
TEST(ConfigRegression, MultiPasidIsolationUnderRangeEnd) {
  expect_multi_pasid("range_end");
}
TEST(ConfigRegression, MultiPasidIsolationUnderPtl) {
  expect_multi_pasid("under_ptl");
}

TEST(ConfigRegression, InvalidationStormCleanUnderPtl) {
  SimRun r = run_config("invalidation_storm", "under_ptl");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(total_violations(r), 0u);
  EXPECT_EQ(r.stats.at("summary").at("dma_requests").get<double>(), 3200.0);
  EXPECT_GT(stat(r, {"sva", "invalidations"}), 20.0);
}

TEST(ConfigRegression, InvalidationStormUseAfterFreeUnderRangeEnd) {
  SimRun r = run_config("invalidation_storm", "range_end");
  EXPECT_EQ(r.status, 1) << r.output;  // expect_clean
  EXPECT_GE(checker(r, "use_after_free"), 1u);
}

// A device slower than the IOMMU's ITag timeout: each ATC invalidation times out.
const char* kSlowDevice =
    "--set device.invalidation_processing_latency_ns=100000 "
    "--set iommu.command_queue.itag_timeout_ns=5000";

// intel: the driver writes the batch again after every time-out (qi_submit_sync's
// restart) until the device's answer completes a wait; nothing is freed or
// write-protected for the device before, so the checkers stay at 0.
void expect_slow_device_retried(const std::string& config) {
  SimRun r = run_config(config, "under_ptl", kSlowDevice);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(total_violations(r), 0u);
  const double timeouts = stat(r, {"iommu", "command_queue", "itag_timeouts"});
  EXPECT_GE(timeouts, 1.0);
  EXPECT_EQ(stat(r, {"sva", "retries"}), timeouts);
  EXPECT_EQ(stat(r, {"iommu", "command_queue", "failed_waits"}), timeouts);
  EXPECT_EQ(stat(r, {"sva", "failed_waits"}), 0.0);
  EXPECT_EQ(stat(r, {"sva", "wait_timeouts"}), 0.0);
}
TEST(ConfigRegression, MunmapFreeSlowDeviceIsRetriedAndClean) {
  expect_slow_device_retried("munmap_free");
}
TEST(ConfigRegression, KsmWrprotectSlowDeviceIsRetriedAndClean) {
  expect_slow_device_retried("ksm_wrprotect");
}

// AMD-Vi goes on after the time-out under both of its drivers (the completion wait
// completes with an IOTLB_INV_TIMEOUT event the driver does not read): the frame is
// freed under the device, and the counters and checkers show it.
TEST(ConfigRegression, MunmapFreeSlowDeviceOnAmdviIsVisible) {
  for (const char* policy : {"amd", "amd_legacy"}) {
    SCOPED_TRACE(policy);
    SimRun r =
        run_config("munmap_free", "under_ptl",
                   std::string(kSlowDevice) + " --set iommu.arch=amdvi --set sva.policy=" + policy);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_GE(checker(r, "use_after_free"), 1u);
    EXPECT_GE(checker(r, "completion_contract"), 1u);
    EXPECT_EQ(stat(r, {"sva", "retries"}), 0.0);
    EXPECT_EQ(stat(r, {"sva", "failed_waits"}), 0.0);
    EXPECT_GE(stat(r, {"iommu", "command_queue", "itag_timeouts"}), 1.0);
  }
}

// The storm with Linux's dtlb_extra_inval quirk: two ATC invalidations per device
// and batch. With an Invalidate Queue Depth of 1 the second waits for the first's
// round trip (the IOMMU processes descriptors in order, so each device's second
// invalidation holds up the next device's); with 8 all eight are outstanding at
// once. Without the quirk each batch has one per device and the depth changes
// nothing.
double storm_latency(uint32_t qdep, bool extra, double* stalls) {
  SimRun r = run_config("invalidation_storm", "under_ptl",
                        "--set device.invalidate_queue_depth=" + std::to_string(qdep) +
                            " --set sva.intel_dtlb_extra_inval=" + (extra ? "true" : "false"));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(total_violations(r), 0u);
  *stalls = stat(r, {"iommu", "command_queue", "itag_backpressure_stalls"});
  return r.stats.at("sva").at("invalidation_latency").at("mean").get<double>();
}
TEST(ConfigRegression, InvalidationStormQueueDepthMattersWithTwoInvalidationsPerDevice) {
  double stalls1 = 0, stalls8 = 0;
  const double qd1 = storm_latency(1, true, &stalls1);
  const double qd8 = storm_latency(8, true, &stalls8);
  EXPECT_GT(stalls1, 0.0);
  EXPECT_EQ(stalls8, 0.0);
  // Four devices: depth 1 adds about three ATC round trips (~1 us each) per
  // invalidation.
  EXPECT_GT(qd1 - qd8, 2500.0) << qd1 << " " << qd8;
  double s1 = 0, s8 = 0;
  EXPECT_EQ(storm_latency(1, false, &s1), storm_latency(8, false, &s8));
  EXPECT_EQ(s1 + s8, 0.0);
}

TEST(ConfigRegression, DefaultRunsCleanAndShowsLatencies) {
  SimRun r = run_config("default", "under_ptl");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(total_violations(r), 0u);
  const Json& s = r.stats.at("summary");
  EXPECT_EQ(s.at("dma_requests").get<double>(), 2000.0);
  EXPECT_GT(s.at("invalidation_latency_ns").at("count").get<double>(), 0.0);
  EXPECT_GT(s.at("translation_latency_ns").at("count").get<double>(), 0.0);
  EXPECT_NE(r.output.find("iommu-sim summary"), std::string::npos);
}

TEST(ConfigRegression, SameSeedSameStats) {
  SimRun a = run_config("default", "under_ptl", "--seed 7");
  SimRun b = run_config("default", "range_end", "--seed 7 --set os.secondary_tlb_flush=under_ptl");
  ASSERT_EQ(a.status, 0);
  ASSERT_EQ(b.status, 0);
  EXPECT_EQ(a.stats.at("sim_time_ns").get<double>(), b.stats.at("sim_time_ns").get<double>());
  EXPECT_EQ(a.stats.at("summary").at("dma_read_latency_ns").at("p99").get<double>(),
            b.stats.at("summary").at("dma_read_latency_ns").at("p99").get<double>());
}

// Every leaf of a stats JSON as path -> text, without the host-side fields.
void flatten(const Json& v, const std::string& path, std::map<std::string, std::string>& out) {
  if (v.is_object()) {
    for (const auto& [key, value] : v.items()) {
      if (key != "host_seconds" && key != "lookahead_skips") flatten(value, path + "/" + key, out);
    }
  } else if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) flatten(v[i], path + "[" + std::to_string(i) + "]", out);
  } else if (v.is_number()) {
    out[path] = std::to_string(v.get<double>());
  } else if (v.is_string()) {
    out[path] = v.get<std::string>();
  } else {
    out[path] = v.is_null() ? "null" : (v.get<bool>() ? "true" : "false");
  }
}

// The lookahead (sim.lookahead) skips waits (lookahead_skips > 0) and changes no
// result: every stat, checker count and scripted read is the same without it.
void expect_lookahead_changes_nothing(const std::string& config, const std::string& policy,
                                      const std::string& extra = "") {
  SimRun on = run_config(config, policy, extra + " --set sim.lookahead=true");
  SimRun off = run_config(config, policy, extra + " --set sim.lookahead=false");
  ASSERT_EQ(on.status, off.status) << on.output;
  ASSERT_TRUE(on.stats.is_object()) << on.output;
  ASSERT_TRUE(off.stats.is_object()) << off.output;
  EXPECT_GT(on.stats.at("lookahead_skips").get<double>(), 0.0);
  EXPECT_EQ(off.stats.at("lookahead_skips").get<double>(), 0.0);
  std::map<std::string, std::string> a, b;
  flatten(on.stats, "", a);
  flatten(off.stats, "", b);
  EXPECT_GT(a.size(), 100u);
  for (const auto& [path, value] : b) {
    auto it = a.find(path);
    ASSERT_NE(it, a.end()) << path;
    EXPECT_EQ(it->second, value) << path;
  }
  EXPECT_EQ(a.size(), b.size());
}

TEST(ConfigRegression, LookaheadChangesNoResultOfTheCowRace) {
  expect_lookahead_changes_nothing("cow_race", "range_end");
}
TEST(ConfigRegression, LookaheadChangesNoResultOfTheInvalidationStorm) {
  expect_lookahead_changes_nothing("invalidation_storm", "range_end");
}
TEST(ConfigRegression, LookaheadChangesNoResultOfPriDemandPaging) {
  expect_lookahead_changes_nothing("pri_demand_paging", "under_ptl");
}
TEST(ConfigRegression, LookaheadChangesNoResultOfAThroughputRun) {
  expect_lookahead_changes_nothing("calib_dma_latency", "under_ptl",
                                   "--set device.ats_enabled=true --set workload.requests=2000");
}

// An architecture sweep over the invalidation storm: one CSV row per point, in axis
// order, with the summary columns and the checker counts (the use after free appears
// only under range_end).
TEST(ConfigRegression, ArchSweepWritesOneRowPerPoint) {
  const std::string csv = ::testing::TempDir() + "storm_sweep.csv";
  std::remove(csv.c_str());
  const std::string cmd = std::string(IOSIM_SIM_BINARY) + " " + IOSIM_CONFIG_DIR +
                          "/invalidation_storm.cfg --sweep iommu.arch=vtd,amdvi"
                          " --sweep os.secondary_tlb_flush=under_ptl,range_end --jobs 2"
                          " --sweep-out " +
                          csv + " > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream f(csv);
  ASSERT_TRUE(f);
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(f, line);) {
    std::vector<std::string> cells;
    std::stringstream ls(line);
    for (std::string c; std::getline(ls, c, ',');) cells.push_back(c);
    rows.push_back(cells);
  }
  ASSERT_EQ(rows.size(), 5u);
  const std::vector<std::string>& head = rows[0];
  auto col = [&](const std::string& name) {
    const auto it = std::find(head.begin(), head.end(), name);
    EXPECT_NE(it, head.end()) << name;
    return static_cast<size_t>(it - head.begin());
  };
  const size_t requests = col("dma_requests"), uaf = col("checkers.use_after_free"),
               status = col("exit_status"), inval = col("invalidation_latency_ns.count");
  const std::vector<std::pair<std::string, std::string>> points = {
      {"vtd", "under_ptl"}, {"vtd", "range_end"}, {"amdvi", "under_ptl"}, {"amdvi", "range_end"}};
  for (size_t p = 0; p < points.size(); ++p) {
    const std::vector<std::string>& r = rows[p + 1];
    ASSERT_GT(r.size(), std::max({requests, uaf, status, inval}));
    EXPECT_EQ(r[0], points[p].first);
    EXPECT_EQ(r[1], points[p].second);
    EXPECT_EQ(r[requests], "3200");
    EXPECT_GT(std::stoul(r[inval]), 0u);
    if (points[p].second == "under_ptl") {
      EXPECT_EQ(r[uaf], "0");
      EXPECT_EQ(r[status], "0");
    } else {
      EXPECT_GE(std::stoul(r[uaf]), 1u);
      EXPECT_EQ(r[status], "1");  // the storm expects a clean run
    }
  }
}

// The calibration config: random 64 B reads, untranslated, through the default system.
// Inside the IOTLB's reach the median is the pcie-bench round trip (600 ns +-10%); far
// beyond it nearly every read misses and walks with warm walk caches (+280 ns +-20%).
TEST(ConfigRegression, CalibDmaLatencyFollowsTheIotlbReach) {
  SimRun hit = run_config("calib_dma_latency", "under_ptl",
                          "--set workload.window_bytes=64K --set workload.requests=4000");
  SimRun miss = run_config("calib_dma_latency", "under_ptl",
                           "--set workload.window_bytes=16M --set workload.requests=4000");
  ASSERT_EQ(hit.status, 0) << hit.output;
  ASSERT_EQ(miss.status, 0) << miss.output;
  const Json& h = hit.stats.at("summary");
  const Json& m = miss.stats.at("summary");
  EXPECT_EQ(h.at("dma_requests").get<double>(), 4000);
  const double p50_hit = h.at("dma_read_latency_ns").at("p50").get<double>();
  const double p50_miss = m.at("dma_read_latency_ns").at("p50").get<double>();
  EXPECT_NEAR(p50_hit, 600.0, 60.0);
  EXPECT_NEAR(p50_miss - p50_hit, 280.0, 56.0);
  EXPECT_GT(h.at("iotlb_hit_rate").get<double>(), 0.95);
  EXPECT_LT(m.at("iotlb_hit_rate").get<double>(), 0.2);
}

// The same sweep with transparent huge pages (os.thp=always): the window is backed by
// 2 MiB pages, so the 64-entry IOTLB reaches 512 times as far (128 MiB instead of
// 256 KiB). With 4 KiB pages the median read hits the IOTLB over 256 KiB and misses
// over 1 MiB (the knee at 512 KiB); with THP it hits over 128 MiB and misses over
// 512 MiB (the knee at 256 MiB). A miss walks one level fewer.
TEST(ConfigRegression, CalibDmaLatencyThpMovesTheIotlbKneeBy512) {
  auto p50 = [](const std::string& window, bool thp) {
    SimRun r = run_config("calib_dma_latency", "under_ptl",
                          "--set workload.requests=4000 --set os.allocator.frames=400000 "
                          "--set workload.window_bytes=" +
                              window + (thp ? " --set os.thp=always" : ""));
    EXPECT_EQ(r.status, 0) << r.output;
    return r.stats.at("summary").at("dma_read_latency_ns").at("p50").get<double>();
  };
  const double hit = p50("64K", false);
  EXPECT_NEAR(p50("256K", false), hit, 1.0);
  const double miss_4k = p50("1M", false);
  EXPECT_NEAR(miss_4k - hit, 280.0, 56.0);
  EXPECT_NEAR(p50("128M", true), hit, 1.0);
  const double miss_2m = p50("512M", true);
  EXPECT_GT(miss_2m - hit, 100.0);
  EXPECT_LT(miss_2m, miss_4k);  // the walk ends at the PMD
}

// --- sweeps of the real simulator ------------------------------------------------

struct CliRun {
  int status = -1;
  std::string out, err;
};

std::string file_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream text;
  text << f.rdbuf();
  return text.str();
}

// iommu-sim configs/<config>.cfg <args>, stdout and stderr kept apart.
CliRun run_sim(const std::string& config, const std::string& args, const std::string& dir) {
  const std::string out = dir + "/stdout", err = dir + "/stderr";
  const std::string cmd = std::string(IOSIM_SIM_BINARY) + " " + IOSIM_CONFIG_DIR + "/" + config +
                          ".cfg " + args + " > " + out + " 2> " + err;
  const int rc = std::system(cmd.c_str());
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, file_text(out), file_text(err)};
}

std::string sweep_dir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "sweep_" + name + "_" + std::to_string(getpid());
  std::system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "'").c_str());
  return dir;
}

std::vector<std::string> csv_cells(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(line);
  while (std::getline(in, cur, ',')) out.push_back(cur);
  if (!line.empty() && line.back() == ',') out.push_back("");
  return out;
}

// Header and rows (column -> cell) of a CSV text.
std::vector<std::map<std::string, std::string>> csv_rows(const std::string& text,
                                                         std::vector<std::string>& header) {
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  header = csv_cells(line);
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    const std::vector<std::string> cells = csv_cells(line);
    std::map<std::string, std::string> row;
    for (size_t i = 0; i < cells.size() && i < header.size(); ++i) row[header[i]] = cells[i];
    rows.push_back(row);
  }
  return rows;
}

double cell(const std::map<std::string, std::string>& row, const std::string& column) {
  auto it = row.find(column);
  if (it == row.end() || it->second.empty()) {
    ADD_FAILURE() << "no value in column " << column;
    return -1;
  }
  return std::stod(it->second);
}

// Two sweeps of the invalidation storm over different architectures' policies: the same
// columns;
// every point's stats kept in --stats-dir under its point's name; the CSV's means
// are the stats' exact means; the breakdowns add up to the invalidation count.
TEST(ConfigSweep, SameColumnsForEverySweepAndPointFilesNamedByPoint) {
  const std::string dir = sweep_dir("columns");
  const CliRun a = run_sim(
      "invalidation_storm",
      "--sweep sva.policy=intel --sweep-out " + dir + "/a.csv --stats-dir " + dir + "/a", dir);
  ASSERT_EQ(a.status, 0) << a.err;
  const CliRun b = run_sim("invalidation_storm",
                           "--set iommu.arch=amdvi --sweep sva.policy=amd_legacy,amd "
                           "--sweep os.preempt_hold_ns=0 "
                           "--jobs 2 --sweep-out " +
                               dir + "/b.csv --stats-dir " + dir + "/b",
                           dir);
  ASSERT_EQ(b.status, 0) << b.err;
  std::vector<std::string> ha, hb;
  const auto ra = csv_rows(file_text(dir + "/a.csv"), ha);
  const auto rb = csv_rows(file_text(dir + "/b.csv"), hb);
  ASSERT_EQ(ra.size(), 1u);
  ASSERT_EQ(rb.size(), 2u);
  EXPECT_EQ(ha.at(0), "sva.policy");
  EXPECT_EQ(std::vector<std::string>(ha.begin() + 1, ha.end()),
            std::vector<std::string>(hb.begin() + 2, hb.end()));
  const std::vector<std::pair<std::string, std::map<std::string, std::string>>> points{
      {dir + "/a/sva.policy=intel.json", ra[0]},
      {dir + "/b/sva.policy=amd_legacy+os.preempt_hold_ns=0.json", rb[0]},
      {dir + "/b/sva.policy=amd+os.preempt_hold_ns=0.json", rb[1]}};
  for (const auto& [file, row] : points) {
    SCOPED_TRACE(file);
    Json stats;
    ASSERT_NO_THROW(stats = read_json_file(file));
    EXPECT_EQ(stats.at("sweep_point").at("settings").at("sva.policy").get<std::string>(),
              row.at("sva.policy"));
    const Json& inv = stats.at("sva").at("invalidation_latency");
    const double count = inv.at("count").get<double>();
    ASSERT_GT(count, 0.0);
    EXPECT_EQ(cell(row, "invalidation_latency_ns.count"), count);
    EXPECT_NEAR(cell(row, "invalidation_latency_ns.mean"), inv.at("mean").get<double>(),
                inv.at("mean").get<double>() * 1e-9);
    // The DMA read mean: the pooled mean of the four devices' histograms.
    double sum = 0, n = 0;
    for (int d = 0; d < 4; ++d) {
      const Json& h = stats.at("device" + std::to_string(d)).at("dma_read_latency");
      sum += h.at("mean").get<double>() * h.at("count").get<double>();
      n += h.at("count").get<double>();
    }
    EXPECT_NEAR(cell(row, "dma_read_latency_ns.mean"), sum / n, sum / n * 1e-9);
    double events = 0, ranges = 0;
    for (const auto& [name, h] : stats.at("sva").at("invalidation_latency_by_event").items()) {
      events += h.at("count").get<double>();
      EXPECT_EQ(cell(row, "invalidation_latency_by_event_ns." + name + ".count"),
                h.at("count").get<double>());
    }
    for (const auto& [name, h] : stats.at("sva").at("invalidation_latency_by_range").items()) {
      ranges += h.at("count").get<double>();
    }
    EXPECT_EQ(events, count);
    EXPECT_EQ(ranges, count);
    // The storm's CPU threads madvise (CLEAR) and munmap (UNMAP), nothing else.
    EXPECT_GT(cell(row, "invalidation_latency_by_event_ns.clear.count"), 0);
    EXPECT_GT(cell(row, "invalidation_latency_by_event_ns.unmap.count"), 0);
    EXPECT_EQ(cell(row, "invalidation_latency_by_event_ns.clear.count") +
                  cell(row, "invalidation_latency_by_event_ns.unmap.count"),
              count);
  }
}

// --resume: the stored points are not run again (their files keep their time, the
// CSV is the same); a removed one is.
TEST(ConfigSweep, ResumeRunsOnlyThePointsWithoutStoredStats) {
  namespace fs = std::filesystem;
  const std::string dir = sweep_dir("resume");
  const std::string sweep = "--sweep iommu.arch=vtd,amdvi --stats-dir " + dir + "/points";
  const CliRun first = run_sim("invalidation_storm", sweep + " --sweep-out " + dir + "/1.csv", dir);
  ASSERT_EQ(first.status, 0) << first.err;
  const fs::path intel = dir + "/points/iommu.arch=vtd.json";
  const fs::path amd = dir + "/points/iommu.arch=amdvi.json";
  ASSERT_TRUE(fs::exists(intel));
  const auto intel_time = fs::last_write_time(intel);
  const auto amd_time = fs::last_write_time(amd);
  const CliRun again =
      run_sim("invalidation_storm", sweep + " --resume --sweep-out " + dir + "/2.csv", dir);
  ASSERT_EQ(again.status, 0) << again.err;
  EXPECT_NE(again.err.find("--resume: 2 of 2 points taken from"), std::string::npos) << again.err;
  EXPECT_EQ(file_text(dir + "/2.csv"), file_text(dir + "/1.csv"));
  EXPECT_EQ(fs::last_write_time(intel), intel_time);
  EXPECT_EQ(fs::last_write_time(amd), amd_time);
  fs::remove(amd);
  const CliRun third =
      run_sim("invalidation_storm", sweep + " --resume --sweep-out " + dir + "/3.csv", dir);
  ASSERT_EQ(third.status, 0) << third.err;
  EXPECT_NE(third.err.find("1 of 2 points taken"), std::string::npos) << third.err;
  EXPECT_EQ(file_text(dir + "/3.csv"), file_text(dir + "/1.csv"));
  EXPECT_EQ(fs::last_write_time(intel), intel_time);
  EXPECT_TRUE(fs::exists(amd));
  // Without --stats-dir there is nothing to resume from.
  const CliRun bad = run_sim("invalidation_storm", "--sweep sva.policy=intel --resume", dir);
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("--resume needs --stats-dir"), std::string::npos) << bad.err;
}

// --- Fault injection (device.<i>.fault.*) ------------------------------------------

const char* const kFlushPolicies[] = {"under_ptl", "range_end"};
const std::string kEarlyOff = "--set device.fault.early_completion_ns=0";

// configs/seeds/fault_early_completion.cfg: the device's early Invalidate Completion
// lets it write through its writable ATC entry after the mprotect's invalidation was
// reported complete.
TEST(ConfigRegression, EarlyCompletionShowsWriteAfterProtectOnlyWithTheFault) {
  for (const char* policy : kFlushPolicies) {
    SimRun on = run_config("seeds/fault_early_completion", policy);
    ASSERT_EQ(on.status, 0) << on.output;
    // Ten writes land between the reported completion and the entry's drop.
    EXPECT_EQ(checker(on, "write_after_protect"), 10u) << policy;
    EXPECT_EQ(checker(on, "completion_contract"), 10u) << policy;
    EXPECT_EQ(checker(on, "use_after_free"), 0u) << policy;
    EXPECT_EQ(checker(on, "stale_after_newer_write"), 0u) << policy;
    EXPECT_EQ(stat(on, {"device0", "fault", "early_completions"}), 1.0) << policy;

    SimRun off = run_config("seeds/fault_early_completion", policy, kEarlyOff);
    ASSERT_EQ(off.status, 0) << off.output;
    EXPECT_EQ(total_violations(off), 0u) << policy;
    EXPECT_FALSE(off.stats.at("device0").contains("fault")) << policy;
    EXPECT_GE(stat(off, {"device0", "access_errors"}), 1.0) << policy;  // writes refused
  }
}

// configs/seeds/fault_early_completion_mremap.cfg: reads through the entry after
// mprotect(PROT_NONE) was reported complete break the completion contract only.
TEST(ConfigRegression, EarlyCompletionShowsCompletionContractOnlyWithTheFault) {
  for (const char* policy : kFlushPolicies) {
    SimRun on = run_config("seeds/fault_early_completion_mremap", policy);
    ASSERT_EQ(on.status, 0) << on.output;
    EXPECT_EQ(checker(on, "completion_contract"), 7u) << policy;  // seven reads
    EXPECT_EQ(checker(on, "write_after_protect"), 0u) << policy;
    EXPECT_EQ(checker(on, "use_after_free"), 0u) << policy;
    EXPECT_EQ(checker(on, "stale_after_newer_write"), 0u) << policy;

    SimRun off = run_config("seeds/fault_early_completion_mremap", policy, kEarlyOff);
    ASSERT_EQ(off.status, 0) << off.output;
    EXPECT_EQ(total_violations(off), 0u) << policy;
  }
}

// A dropped Invalidate Completion: the IOMMU's ITag time-out fails the wait, the intel
// policy writes the batch again, and the retry completes; nothing is violated.
TEST(ConfigRegression, DroppedCompletionEndsInTheItagTimeoutAndOneIntelRetry) {
  for (const char* policy : kFlushPolicies) {
    SimRun r = run_config("seeds/fault_early_completion", policy,
                          kEarlyOff +
                              " --set device.fault.drop_completions=1"
                              " --set iommu.command_queue.itag_timeout_ns=20000");
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(stat(r, {"device0", "fault", "dropped_completions"}), 1.0) << policy;
    EXPECT_EQ(stat(r, {"iommu", "command_queue", "itag_timeouts"}), 1.0) << policy;
    EXPECT_EQ(stat(r, {"iommu", "command_queue", "failed_waits"}), 1.0) << policy;
    EXPECT_EQ(stat(r, {"sva", "retries"}), 1.0) << policy;
    EXPECT_EQ(stat(r, {"sva", "failed_waits"}), 0.0) << policy;
    EXPECT_EQ(total_violations(r), 0u) << policy;
  }
}

// A duplicated Invalidate Completion arrives while its ITag is free: it completes no
// wait (the invalidation latencies are those without the fault), the IOMMU counts it
// as stale when it next takes arrived completions, nothing is violated.
TEST(ConfigRegression, DuplicatedCompletionsAreCountedAndHarmless) {
  for (const char* policy : kFlushPolicies) {
    SimRun r = run_config("seeds/fault_early_completion", policy,
                          kEarlyOff + " --set device.fault.duplicate_completions=1000");
    ASSERT_EQ(r.status, 0) << r.output;
    SimRun off = run_config("seeds/fault_early_completion", policy, kEarlyOff);
    ASSERT_EQ(off.status, 0) << off.output;
    const double requests = stat(r, {"device0", "invalidation", "invalidate_requests"});
    EXPECT_GE(requests, 1.0) << policy;
    EXPECT_EQ(stat(r, {"device0", "fault", "duplicated_completions"}), requests) << policy;
    EXPECT_EQ(stat(r, {"device0", "invalidation", "invalidate_completions"}), 2 * requests);
    EXPECT_LE(stat(r, {"iommu", "command_queue", "stale_completions"}), requests) << policy;
    EXPECT_EQ(stat(r, {"iommu", "command_queue", "itag_timeouts"}), 0.0) << policy;
    EXPECT_EQ(stat(r, {"sva", "failed_waits"}), 0.0) << policy;
    EXPECT_EQ(total_violations(r), 0u) << policy;
    const Json& with = r.stats.at("sva").at("invalidation_latency");
    const Json& without = off.stats.at("sva").at("invalidation_latency");
    EXPECT_EQ(with.at("count"), without.at("count")) << policy;
    EXPECT_EQ(with.at("max"), without.at("max")) << policy;
    EXPECT_EQ(with.at("p50"), without.at("p50")) << policy;
  }
}

// Unsupported Request from the translation agent (the root port of device0): the
// device's first access fails, the others fault in through PRI.
TEST(ConfigRegression, TranslationUnsupportedRequestIsAnAccessError) {
  SimRun r = run_config("pri_demand_paging", "under_ptl", "--set device.fault.translation_ur=1");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(stat(r, {"iommu", "injected_translation_ur"}), 1.0);
  EXPECT_EQ(stat(r, {"device0", "fault", "ur_completions"}), 1.0);
  EXPECT_EQ(stat(r, {"device0", "ats", "translation_errors"}), 1.0);
  EXPECT_EQ(stat(r, {"device0", "access_errors"}), 1.0);
  EXPECT_EQ(total_violations(r), 0u);
  // The dev thread's first access (write buf) failed; the other seven completed.
  const Json& errors = thread(r, "dev_threads", "DEV-thread-0").at("errors");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].at("reason").get<std::string>(), "translation request failed");
  EXPECT_EQ(errors[0].at("va").get<double>(), 268435456.0);
  EXPECT_TRUE(errors[0].at("write").get<bool>());
}

// A lost PRG Response ends in the device's PRI response time-out: with `retry` the
// access translates again and succeeds, with `error` it fails.
TEST(ConfigRegression, LostPrgResponseEndsInThePriTimeoutAndItsAction) {
  const std::string lose =
      "--set device.fault.lose_prg_responses=1 --set device.fault.pri_response_timeout_ns=100000";
  SimRun retry = run_config("pri_demand_paging", "under_ptl",
                            lose + " --set device.fault.pri_timeout_action=retry");
  ASSERT_EQ(retry.status, 0) << retry.output;
  EXPECT_EQ(stat(retry, {"device0", "fault", "lost_prg_responses"}), 1.0);
  EXPECT_EQ(stat(retry, {"device0", "fault", "pri_response_timeouts"}), 1.0);
  EXPECT_EQ(stat(retry, {"device0", "access_errors"}), 0.0);
  EXPECT_EQ(total_violations(retry), 0u);

  SimRun error = run_config("pri_demand_paging", "under_ptl",
                            lose + " --set device.fault.pri_timeout_action=error");
  ASSERT_EQ(error.status, 0) << error.output;
  EXPECT_EQ(stat(error, {"device0", "fault", "pri_response_timeouts"}), 1.0);
  EXPECT_EQ(stat(error, {"device0", "access_errors"}), 1.0);
}

// A device that stops answering: its DMA threads stop, the invalidations that need it
// time out in the IOMMU, the intel driver finds the device gone and does not retry,
// and the run ends (exit 0) long before sim.max_time_ns.
TEST(ConfigRegression, UnresponsiveDeviceEndsInTimeoutsAndTheRunTerminates) {
  SimRun r = run_config("default", "under_ptl",
                        "--set device.fault.unresponsive_from_ns=20000"
                        " --set iommu.command_queue.itag_timeout_ns=50000");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_GE(stat(r, {"device0", "fault", "refused_accesses"}), 1.0);
  EXPECT_GE(stat(r, {"device0", "fault", "ignored_invalidate_requests"}), 1.0);
  EXPECT_GE(stat(r, {"iommu", "command_queue", "itag_timeouts"}), 1.0);
  EXPECT_GE(stat(r, {"sva", "failed_waits"}), 1.0);
  EXPECT_EQ(stat(r, {"sva", "retries"}), 0.0);
  EXPECT_LT(r.stats.at("sim_time_ns").get<double>(), 10e6);
}

// The faults keep the lookahead exact: the same results with every wait taken.
TEST(ConfigRegression, LookaheadChangesNoResultWithFaultsInjected) {
  expect_lookahead_changes_nothing("seeds/fault_early_completion", "range_end");
  expect_lookahead_changes_nothing("seeds/fault_early_completion_mremap", "under_ptl");
  expect_lookahead_changes_nothing("default", "under_ptl",
                                   "--set device.fault.completion_delay_ns=2000");
  expect_lookahead_changes_nothing("default", "under_ptl", "--set device.fault.translation_ur=3");
  expect_lookahead_changes_nothing("invalidation_storm", "under_ptl",
                                   "--set device.2.fault.duplicate_completions=5");
  expect_lookahead_changes_nothing("default", "under_ptl",
                                   "--set device.fault.unresponsive_from_ns=20000 --set "
                                   "iommu.command_queue.itag_timeout_ns=50000");
  expect_lookahead_changes_nothing("pri_demand_paging", "under_ptl",
                                   "--set device.fault.lose_prg_responses=2"
                                   " --set device.fault.pri_response_timeout_ns=40000"
                                   " --set device.fault.pri_timeout_action=retry");
}

TEST(ConfigRegression, BadFaultValuesNameTheirKey) {
  SimRun r = run_config("default", "under_ptl", "--set device.fault.lose_prg_responses=1");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("device.0.fault.lose_prg_responses"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("pri_response_timeout_ns"), std::string::npos) << r.output;
  SimRun neg = run_config("default", "under_ptl", "--set device.0.fault.completion_delay_ns=-1");
  EXPECT_EQ(neg.status, 2);
  EXPECT_NE(neg.output.find("device.0.fault.completion_delay_ns"), std::string::npos) << neg.output;
  SimRun choice = run_config("default", "under_ptl", "--set device.fault.pri_timeout_action=again");
  EXPECT_EQ(choice.status, 2);
  EXPECT_NE(choice.output.find("error|retry"), std::string::npos) << choice.output;
}

// The README's parameter reference is the output of --list-params --markdown.
TEST(ConfigRegression, ReadmeParameterReferenceIsCurrent) {
  const std::string out = ::testing::TempDir() + "params.md";
  const std::string cmd =
      std::string(IOSIM_SIM_BINARY) + " --list-params --markdown > " + out + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream generated_file(out);
  std::stringstream generated;
  generated << generated_file.rdbuf();
  ASSERT_GT(generated.str().size(), 1000u);
  std::ifstream readme_file(std::string(IOSIM_CONFIG_DIR) + "/../README.md");
  ASSERT_TRUE(readme_file);
  std::stringstream readme;
  readme << readme_file.rdbuf();
  const std::string text = readme.str();
  const std::string begin = "<!-- params:begin -->\n", end = "<!-- params:end -->";
  const size_t b = text.find(begin), e = text.find(end);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  EXPECT_EQ(text.substr(b + begin.size(), e - b - begin.size()), generated.str())
      << "regenerate with scripts/readme-params";
}

// The README's script reference of CPU operations is the output of --list-ops --markdown.
TEST(ConfigRegression, ReadmeOperationReferenceIsCurrent) {
  const std::string out = ::testing::TempDir() + "ops.md";
  const std::string cmd =
      std::string(IOSIM_SIM_BINARY) + " --list-ops --markdown > " + out + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream generated_file(out);
  std::stringstream generated;
  generated << generated_file.rdbuf();
  ASSERT_GT(generated.str().size(), 1000u);
  std::ifstream readme_file(std::string(IOSIM_CONFIG_DIR) + "/../README.md");
  ASSERT_TRUE(readme_file);
  std::stringstream readme;
  readme << readme_file.rdbuf();
  const std::string text = readme.str();
  const std::string begin = "<!-- ops:begin -->\n", end = "<!-- ops:end -->";
  const size_t b = text.find(begin), e = text.find(end);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  EXPECT_EQ(text.substr(b + begin.size(), e - b - begin.size()), generated.str())
      << "regenerate with scripts/readme-ops";
}

}  // namespace
}  // namespace iosim
