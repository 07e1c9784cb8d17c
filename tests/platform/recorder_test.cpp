#include "platform/timeline_recorder.h"
#include "platform/trace_recorder.h"

#include "platform/cli.h"
#include "platform/system_simulation.h"
#include "sc_models/observe/chrome_trace.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common/tlm_bench.h"
#include "os/os_context.h"
#include "sc_models/observe/json.h"
#include "sc_models/observe/stats.h"
#include "sc_models/sim/sim_context.h"
#include "tests/os/mm_bench.h"

namespace iosim {
namespace {

using test::MmBench;
using test::run_thread;

constexpr uint64_t kVa = uint64_t{1} << 32;
const uint64_t kPage = Mm::kPageBytes;
constexpr double kHoldNs = 5000;
constexpr uint32_t kPasid = 7;

uint64_t frame_of(Mm& mm, uint64_t va) {
  return mm.pte(va).page_address(PageSize::k4K);
}

// What the scenario saw, for the assertions.
struct CowRun {
  uint64_t old_frame = 0, new_frame = 0;
  sc_core::sc_time cow_start, dev_read_old, cpu_store_new, dev_read_new;
};

// On core 0: fault addrA in (mm 1), fork (mm 2), then a COW write fault on addrA with a
// preemption hold of kHoldNs; around it a device read through the old translation and
// a CPU store and a device read of the new page, published to the ground truth.
CowRun cow_scenario(MmBench& b) {
  CowRun run;
  run_thread([&] {
    b.os.context().current().set_cpu(0);
    Mm& parent = b.setup();
    b.os.mmap(parent, 0, kVa, kPage, kProtRead | kProtWrite, false);
    b.os.handle_fault(parent, 0, kVa, true);
    b.os.fork(parent, 0, 2);
    run.old_frame = frame_of(parent, kVa);
    const sc_core::sc_time translated = sc_core::sc_time_stamp();
    sc_core::wait(sc_core::sc_time(1, sc_core::SC_US));
    b.os.set_preempt_hold_ns(0, kHoldNs);
    run.cow_start = sc_core::sc_time_stamp();
    // The device reads during the hold through the translation it got before the COW.
    sc_core::sc_spawn(
        [&, translated] {
          sc_core::wait(sc_core::sc_time(2, sc_core::SC_US));
          run.dev_read_old = sc_core::sc_time_stamp();
          b.gt.device_access({run.dev_read_old, "dev0.thread0", 0x100, kPasid, kVa, run.old_frame,
                              false, 0, translated, true});
        },
        "device");
    b.os.handle_fault(parent, 0, kVa, true);  // refcount 2: COW copy
    run.new_frame = frame_of(parent, kVa);
    b.os.set_preempt_hold_ns(0, 0);
    sc_core::wait(sc_core::sc_time(50, sc_core::SC_NS));
    run.cpu_store_new = sc_core::sc_time_stamp();
    b.gt.cpu_access({run.cpu_store_new, "CPU-thread-0", 1, kVa, run.new_frame, true, 42});
    sc_core::wait(sc_core::sc_time(100, sc_core::SC_NS));
    run.dev_read_new = sc_core::sc_time_stamp();
    b.gt.device_access({run.dev_read_new, "dev0.thread0", 0x100, kPasid, kVa, run.new_frame, false,
                        42, run.dev_read_new, true});
    b.gt.invalidation_done({run.dev_read_new, 1, kPasid, kVa, kVa + kPage});
  });
  return run;
}

// The cell of `thread` in every time step, with the step's header.
std::vector<std::pair<std::string, std::string>> cells_of(const std::vector<std::string>& lines,
                                                          const std::string& thread) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string header;
  for (const std::string& l : lines) {
    if (l.rfind("[Time ", 0) == 0) {
      header = l.substr(6, l.find(']') - 6);
    } else if (l.rfind(thread + " ", 0) == 0) {
      const size_t open = l.find('{');
      out.emplace_back(header, l.substr(open + 1, l.size() - open - 2));
    }
  }
  return out;
}

std::vector<std::string> non_empty(const std::vector<std::pair<std::string, std::string>>& cells) {
  std::vector<std::string> out;
  for (const auto& c : cells) {
    if (!c.second.empty()) out.push_back(c.second);
  }
  return out;
}

void timeline_for(const std::string& policy) {
  MmBench b(test::small_os(policy));
  TimelineRecorder rec;
  rec.set_cpu_thread(0, "CPU-thread-0");
  rec.set_device_thread("dev0.thread0", "DEV-thread-0");
  rec.set_symbol(1, kVa, "addrA");
  rec.set_symbol(2, kVa, "addrA(child)");
  rec.bind_pasid(kPasid, 1);
  b.os.set_observer(&rec);
  b.gt.subscribe(&rec);
  const CowRun run = cow_scenario(b);
  const std::vector<std::string> lines = rec.lines();
  if (std::getenv("RECORDER_TEST_PRINT")) rec.print(std::cout);

  // Under the PTL the secondary flush follows the PTE clear at once (the bench's CPU
  // shootdown and secondary TLB take no time), so it shares the step.
  const bool ptl = policy == "under_ptl";
  std::vector<std::string> cpu = {
      "set PTE addrA",  // the first write fault
      "fork_wrprotect: invalidate_range_start(addrA)",
      "write-protect PTE addrA",
      ptl ? "arch_invalidate_secondary_tlbs(addrA); fork_wrprotect: invalidate_range_end(addrA)"
          : "fork_wrprotect: invalidate_range_end(addrA)",
      "COW: invalidate_range_start(addrA)",
      ptl ? "clear PTE addrA; arch_invalidate_secondary_tlbs(addrA)" : "clear PTE addrA",
  };
  cpu.push_back("update PTE addrA -> new page");
  cpu.push_back("preempted");  // still held when the device reads
  cpu.push_back("COW: invalidate_range_end(addrA)");
  cpu.push_back("store addrA (new page)");
  const auto cpu_cells = cells_of(lines, "CPU-thread-0");
  // The child's PTE copy (mm 2) is on the same thread, at the fork's time.
  std::vector<std::string> got_parent;
  for (const std::string& cell : non_empty(cpu_cells)) {
    std::string kept;
    std::istringstream parts(cell);
    for (std::string part; std::getline(parts, part, ';');) {
      if (part[0] == ' ') part.erase(0, 1);
      if (part.find("addrA(child)") == std::string::npos) kept += (kept.empty() ? "" : "; ") + part;
    }
    if (!kept.empty()) got_parent.push_back(kept);
  }
  EXPECT_EQ(got_parent, cpu);

  EXPECT_EQ(non_empty(cells_of(lines, "DEV-thread-0")),
            (std::vector<std::string>{"read addrA from old page", "read addrA from new page"}));
  // Threads in naming order, before any other.
  EXPECT_EQ(lines[1].rfind("CPU-thread-0  ", 0), 0u);
  EXPECT_EQ(lines[2].rfind("DEV-thread-0  ", 0), 0u);

  // The hold: the PTL is dropped right after the new PTE is written, and range_end
  // comes kHoldNs later; the device read, shown while "preempted", falls inside it.
  std::map<std::string, std::string> at;  // first step of each text
  for (const auto& [time, text] : cpu_cells) at.emplace(text, time);
  auto ns_of = [](const std::string& t) { return std::stod(t.substr(0, t.find(' '))); };
  const double updated = ns_of(at.at("update PTE addrA -> new page"));
  const double end = ns_of(at.at("COW: invalidate_range_end(addrA)"));
  EXPECT_DOUBLE_EQ(end - updated, kHoldNs);
  EXPECT_DOUBLE_EQ(ns_of(at.at("preempted")), time_in(run.dev_read_old, sc_core::SC_NS));
  EXPECT_LT(time_in(run.dev_read_old, sc_core::SC_NS), end);
  EXPECT_DOUBLE_EQ(ns_of(at.at("store addrA (new page)")),
                   time_in(run.cpu_store_new, sc_core::SC_NS));
  EXPECT_NE(run.old_frame, run.new_frame);
}

TEST(TimelineRecorder, CowUnderRangeEndWithPreemptHold) {
  timeline_for("range_end");
}

TEST(TimelineRecorder, CowUnderPtlShowsTheSecondaryFlushUnderTheLock) {
  timeline_for("under_ptl");
}

TEST(TimelineRecorder, NamedOnlyLeavesOutUnnamedPagesAndUnboundPasids) {
  TimelineRecorder rec;
  rec.set_named_only(true);
  rec.set_symbol(1, 0x1000, "addrA");
  rec.bind_pasid(3, 1);
  using sc_core::SC_NS;
  using sc_core::sc_time;
  rec.on_cpu_access({sc_time(10, SC_NS), "CPU-thread-1", 1, 0x1008, 0x5008, false, 0});
  rec.on_cpu_access({sc_time(20, SC_NS), "CPU-thread-1", 1, 0x2000, 0x6000, false, 0});
  rec.on_device_access(
      {sc_time(30, SC_NS), "d.t0", 1, 9, 0x1000, 0x5000, true, 0, sc_time(0, SC_NS), true});
  rec.on_device_access(
      {sc_time(40, SC_NS), "d.t0", 1, 3, 0x1000, 0x5000, true, 0, sc_time(0, SC_NS), true});
  EXPECT_EQ(rec.rows(), 2u);
  EXPECT_EQ(rec.lines(), (std::vector<std::string>{
                             "[Time 10 ns] " + std::string(77 - 13, '-'),
                             "CPU-thread-1  {load addrA+0x8}",
                             "d.t0          {}",
                             "[Time 40 ns] " + std::string(77 - 13, '-'),
                             "CPU-thread-1  {}",
                             "d.t0          {write addrA}",
                         }));
}

TEST(TraceRecorder, WritesValidJsonWithEveryKindOfEvent) {
  MmBench b(test::small_os("under_ptl"));
  TraceRecorder rec;
  rec.set_cpu_thread(0, "CPU-thread-0");
  rec.set_device_thread("dev0.thread0", "DEV-thread-0");
  b.os.set_observer(&rec);
  b.gt.subscribe(&rec);
  const CowRun run = cow_scenario(b);
  std::ostringstream out;
  rec.finish(out);
  const Json doc = parse_json(out.str());
  const Json& events = doc.at("traceEvents");
  std::map<std::string, int> tids;   // track name -> tid
  std::map<std::string, int> count;  // "name/ph"
  for (const Json& e : events) {
    if (e.at("ph").get<std::string>() == "M") {
      if (e.at("name").get<std::string>() == "thread_name") {
        tids[e.at("args").at("name").get<std::string>()] =
            static_cast<int>(e.at("tid").get<double>());
      }
      continue;
    }
    ++count[e.at("name").get<std::string>() + "/" + e.at("ph").get<std::string>()];
  }
  EXPECT_EQ(tids.at("CPU-thread-0"), 1);
  EXPECT_EQ(tids.at("DEV-thread-0"), 2);
  EXPECT_EQ(tids.count("invalidations"), 1u);
  const StatRegistry& stats = b.sim.stats();
  const uint64_t ptl_holds = stats.find_as<Histogram>("os.mm1.ptl_hold")->count() +
                             stats.find_as<Histogram>("os.mm2.ptl_hold")->count();
  const uint64_t ptes = stats.find_as<Counter>("os.mm1.pte_updates")->value() +
                        stats.find_as<Counter>("os.mm2.pte_updates")->value();
  const uint64_t flushes = stats.find_as<Counter>("os.mm1.secondary_flushes")->value();
  EXPECT_EQ(ptl_holds, 3u);  // anonymous fault, fork, COW
  EXPECT_EQ(ptes, 5u);       // fault; fork: write-protect + child copy; COW: clear + set
  EXPECT_EQ(flushes, 2u);    // fork and COW, under the PTL
  EXPECT_EQ(count.at("ptl_hold/X"), static_cast<int>(ptl_holds));
  EXPECT_EQ(count.at("pte_update/i"), static_cast<int>(ptes));
  EXPECT_EQ(count.at("arch_invalidate_secondary_tlbs/X"), static_cast<int>(flushes));
  EXPECT_EQ(count.at("invalidate_range(PROTECTION_PAGE)/X"), 1);  // fork
  EXPECT_EQ(count.at("invalidate_range(CLEAR)/X"), 1);            // COW
  EXPECT_EQ(count.at("preempted/X"), 1);
  EXPECT_EQ(count.at("store/i"), 1);
  EXPECT_EQ(count.at("read/i"), 2);
  EXPECT_EQ(count.at("invalidation_done/i"), 1);
  EXPECT_EQ(count.size(), 9u);
  EXPECT_EQ(rec.count("ptl_hold"), ptl_holds);
  EXPECT_EQ(rec.dropped(), 0u);
  // The COW range spans from its start to the return of range_end: it holds the PTL
  // hold and the preemption, and its duration is at least the hold.
  for (const Json& e : events) {
    if (e.at("ph").get<std::string>() != "X" ||
        e.at("name").get<std::string>() != "invalidate_range(CLEAR)")
      continue;
    EXPECT_GE(e.at("ts").get<double>(), time_in(run.cow_start, sc_core::SC_US));
    EXPECT_LT(e.at("ts").get<double>(), time_in(run.dev_read_old, sc_core::SC_US));
    EXPECT_GE(e.at("dur").get<double>(), kHoldNs / 1000);
    EXPECT_EQ(e.at("tid").get<double>(), 1);
    EXPECT_EQ(e.at("args").at("start").get<std::string>(), "0x100000000");
  }
}

TEST(TraceRecorder, BoundedAndUnwritablePath) {
  TraceRecorder rec(2);
  using sc_core::SC_NS;
  using sc_core::sc_time;
  for (int i = 0; i < 5; ++i) rec.on_invalidation_done({sc_time(i, SC_NS), 1, 2, 0, 4096});
  EXPECT_EQ(rec.size(), 2u);
  EXPECT_EQ(rec.dropped(), 3u);
  EXPECT_THROW(rec.finish("/nonexistent-dir/x/trace.json"), std::runtime_error);
}

// Slices ("X") per track name of a trace document.
std::map<std::string, std::vector<std::string>> slices_by_track(const Json& doc) {
  std::map<int, std::string> names;
  std::map<std::string, std::vector<std::string>> out;
  for (const Json& e : doc.at("traceEvents")) {
    if (e.at("ph").get<std::string>() == "M" && e.at("name").get<std::string>() == "thread_name") {
      names[static_cast<int>(e.at("tid").get<double>())] =
          e.at("args").at("name").get<std::string>();
    }
  }
  for (const Json& e : doc.at("traceEvents")) {
    if (e.at("ph").get<std::string>() == "X") {
      out[names.at(static_cast<int>(e.at("tid").get<double>()))].push_back(
          e.at("name").get<std::string>());
    }
  }
  return out;
}

// A core's thread (cpu 0) inside an invalidation range while a kernel thread without a
// core (as the I/O page-fault handler, which passes its configured core, 0, to the
// fault handler) runs a range and a PTL hold of its own in the middle of it.
TEST(TraceRecorder, AKernelThreadWithoutACoreGetsItsOwnTrack) {
  using sc_core::SC_NS;
  using sc_core::sc_time;
  SimContext sim;
  OsContext os(sim);  // the kernel whose threads run the steps
  TraceRecorder trace;
  TimelineRecorder timeline;
  trace.set_cpu_thread(0, "CPU-thread-0");
  timeline.set_cpu_thread(0, "CPU-thread-0");
  OsObserverList both;
  both.add(&trace);
  both.add(&timeline);
  // Each step is reported by, and names, the calling thread (as Mm's steps do).
  auto range = [&os](double t, double dur, int cpu) {
    OsRangeEvent e;
    e.thread = &os.current();
    e.time = sc_time(t, SC_NS);
    e.duration = sc_time(dur, SC_NS);
    e.cpu = cpu;
    e.mm_id = 1;
    e.start = kVa;
    e.end = kVa + kPage;
    e.event = MmuNotifierEvent::kClear;
    return e;
  };
  auto ptl = [&os](double t, double dur, int cpu) {
    OsEvent e;
    e.thread = &os.current();
    e.time = sc_time(t, SC_NS);
    e.duration = sc_time(dur, SC_NS);
    e.cpu = cpu;
    e.mm_id = 1;
    return e;
  };
  test::run_threads({
      [&] {  // "thread0": the core's thread, range 10..70 ns with a PTL hold 20..60
        os.current().set_cpu(0);
        test::until(10);
        both.on_range_start(range(10, 0, -1));
        test::until(60);
        both.on_ptl_release(ptl(20, 40, 0));
        test::until(70);
        both.on_range_end(range(70, 0, 0));
      },
      [&] {  // "thread1": no core; range 30..45 with a PTL hold 35..40, reported on cpu 0
        test::until(30);
        both.on_range_start(range(30, 0, -1));
        test::until(40);
        both.on_ptl_release(ptl(35, 5, 0));
        test::until(45);
        both.on_range_end(range(45, 0, 0));
      },
  });
  std::ostringstream out;
  trace.finish(out);
  const Json doc = parse_json(out.str());
  EXPECT_EQ(chrome_trace_nesting_errors(doc), std::vector<std::string>{});
  const auto tracks = slices_by_track(doc);
  EXPECT_EQ(tracks.at("CPU-thread-0"),
            (std::vector<std::string>{"ptl_hold", "invalidate_range(CLEAR)"}));
  EXPECT_EQ(tracks.at("thread1"),
            (std::vector<std::string>{"ptl_hold", "invalidate_range(CLEAR)"}));
  for (const Json& e : doc.at("traceEvents")) {
    if (e.at("ph").get<std::string>() != "X" ||
        e.at("name").get<std::string>() != "invalidate_range(CLEAR)")
      continue;
    // Each range from its own start: 10..70 on the core, 30..45 on the kernel thread.
    const bool core = e.at("ts").get<double>() == 0.010;
    EXPECT_DOUBLE_EQ(e.at("dur").get<double>(), core ? 0.060 : 0.015) << out.str();
  }
  // The timeline shows the kernel thread's steps on its own row too.
  std::ostringstream text;
  timeline.print(text);
  EXPECT_NE(text.str().find("thread1"), std::string::npos) << text.str();
}

// Runs configs/<name>.cfg with --trace and returns the parsed trace.
Json shipped_trace(const std::string& name) {
  const std::string trace =
      ::testing::TempDir() + "recorder_test_" + name + "_" + std::to_string(getpid()) + ".json";
  const std::vector<std::string> args{
      "iommu-sim", std::string(IOSIM_CONFIG_DIR) + "/" + name + ".cfg", "--trace", trace};
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  SystemSimulation sim;
  CliEnvironment env;
  env.simulation = &sim;
  std::ostringstream o, e;
  const int rc = run_cli(static_cast<int>(argv.size()), argv.data(), env, o, e);
  EXPECT_EQ(rc, 0) << o.str() << e.str();
  std::ifstream f(trace);
  std::stringstream text;
  text << f.rdbuf();
  std::remove(trace.c_str());
  return rc == 0 ? parse_json(text.str()) : Json();
}

// Every track's slices nest; returns the slices by track.
std::map<std::string, std::vector<std::string>> expect_nested(const std::string& config) {
  const Json doc = shipped_trace(config);
  if (doc.is_null()) return {};
  EXPECT_EQ(chrome_trace_nesting_errors(doc), std::vector<std::string>{});
  return slices_by_track(doc);
}

TEST(TraceRecorder, ShippedPriDemandPagingTraceNestsWithTheFaultHandlerOnItsTrack) {
  const auto tracks = expect_nested("pri_demand_paging");
  // Every page the device touches is faulted in by the handler: 6 Page Requests, one
  // PTL hold each, on the handler's own track.
  ASSERT_EQ(tracks.count("iopf.run"), 1u);
  EXPECT_EQ(std::count(tracks.at("iopf.run").begin(), tracks.at("iopf.run").end(), "ptl_hold"), 6);
  EXPECT_EQ(tracks.count("CPU-thread-0"), 0u);
}

TEST(TraceRecorder, ShippedDefaultTraceNests) {
  const auto tracks = expect_nested("default");
  EXPECT_EQ(tracks.count("iopf.run"), 1u);
  EXPECT_GT(tracks.count("CPU-thread-0"), 0u);
}

TEST(TraceRecorder, ShippedInvalidationStormTraceNests) {
  const auto tracks = expect_nested("invalidation_storm");
  EXPECT_EQ(tracks.count("iopf.run"), 1u);
}

}  // namespace
}  // namespace iosim
