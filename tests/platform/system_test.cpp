// System builder: a small system built from config text and a script, booted and run.
#include "platform/system.h"

#include "os/diagnostics.h"
#include "platform/cli.h"
#include "platform/config_params.h"
#include "platform/system_simulation.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace iosim {
namespace {

using sc_core::SC_NS;
using sc_core::sc_time;

const char* kSmallSystem =
    "[memory]\n"
    "size_bytes = 4294967296\n"
    "[cpu]\n"
    "cores = 2\n"
    "[os]\n"
    "allocator.base_pa = 0x10000000\n"
    "allocator.frames = 8192\n";

SystemConfig config_from(const std::string& text) {
  std::vector<ConfigEntry> entries;
  std::vector<ConfigError> errors;
  load_config_text(text, "t.cfg", entries, errors);
  SystemConfig cfg;
  apply_config_entries(cfg, entries, errors);
  for (const ConfigError& e : errors) ADD_FAILURE() << e;
  return cfg;
}

Scenario scenario_from(const SystemConfig& cfg, const std::string& text) {
  return load_scenario_text(text, "t.scn", {cfg.cpu.cores, cfg.device.size()});
}

TEST(System, ModulesAreNamedAfterTheirRole) {
  SystemConfig cfg = config_from(std::string(kSmallSystem) + "[device]\ncount = 2\n");
  System sys(cfg, Scenario{});
  EXPECT_STREQ(sys.memory().name(), "memory");
  EXPECT_STREQ(sys.bus().name(), "bus");
  EXPECT_STREQ(sys.core(1).name(), "core1");
  EXPECT_STREQ(sys.iommu().name(), "iommu");
  EXPECT_STREQ(sys.device(1).name(), "device1");
  EXPECT_EQ(sys.device(0).config().requester_id, 0x100);
  EXPECT_EQ(sys.device(1).config().requester_id, 0x108);
  ASSERT_NE(sys.iommu().port_of(0x108), nullptr);
  EXPECT_STREQ(sys.iommu().port_of(0x108)->basename(), "rp1");
}

TEST(System, BootEndsBeforeTheFirstOpAndScriptTimesCountFromTheStart) {
  SystemConfig cfg = config_from(kSmallSystem);
  Scenario sc = scenario_from(cfg,
                              "process P0\n"
                              "map P0 addrA at=0x40000000 size=16K populate=write value=7\n"
                              "cpu thread T0 core=1 process=P0:\n"
                              "  @100ns store addrA value=1\n"
                              "  load addrA\n"
                              "  load addrA offset=12K\n"
                              "  @10us load addrA offset=4K\n");
  System sys(cfg, std::move(sc));
  const System::Outcome o = sys.run();
  ASSERT_TRUE(o.finished) << o.error;
  // Boot wrote-faulted 4 pages through core0: well after time 0.
  EXPECT_GT(to_ns(o.boot_end), 1000.0);
  const CpuThread& c = sys.cpu_thread(0);
  EXPECT_EQ(&c.core(), &sys.core(1));
  EXPECT_EQ(c.start_time(), o.boot_end);
  ASSERT_EQ(c.ops().size(), 4u);
  EXPECT_EQ(c.ops()[0].start, o.boot_end + sc_time(100, SC_NS));
  EXPECT_EQ(c.ops()[3].start, o.boot_end + sc_time(10000, SC_NS));
  ASSERT_EQ(c.loads().size(), 3u);
  EXPECT_EQ(c.loads()[0].value, 1u);
  EXPECT_EQ(c.loads()[1].value, 7u);
  EXPECT_EQ(c.loads()[1].va, 0x40003000u);
  EXPECT_EQ(c.loads()[2].value, 7u);
  EXPECT_GT(c.loads()[0].time, c.ops()[0].end - sc_time(1, SC_NS));
  // The run stops when the last program is done.
  EXPECT_EQ(o.end, c.ops()[3].end);
}

// map huge=2M (MADV_HUGEPAGE, then populated: PMD leaves under os.thp = madvise),
// map huge=1G (a hugetlb PUD leaf), and the collapse and madvise_hugepage operations.
TEST(System, HugeMappingsAtBootAndTheThpOperations) {
  SystemConfig cfg = config_from(
      "[memory]\nsize_bytes = 8589934592\n[cpu]\ncores = 2\n"
      "[os]\nthp = madvise\nallocator.base_pa = 0x40000000\nallocator.frames = 524288\n");
  Scenario sc = scenario_from(cfg,
                              "process P0\n"
                              "map P0 h at=0x40000000 size=2M populate=write value=5 huge=2M\n"
                              "map P0 s at=0x40400000 size=2M populate=write value=6\n"
                              "map P0 g at=0x80000000 size=1G huge=1G\n"
                              "cpu thread T core=1 process=P0:\n"
                              "  load h offset=1M\n"
                              "  collapse s\n"
                              "  load s offset=8K\n"
                              "  madvise_hugepage s size=2M\n"
                              "  store g offset=0x12345000 value=9\n"
                              "  load g offset=0x12345000\n");
  System sys(cfg, std::move(sc));
  const System::Outcome o = sys.run();
  ASSERT_TRUE(o.finished) << o.error;
  Mm& mm = sys.kernel().mm(1);
  EXPECT_EQ(mm.present_leaf(0x40000000)->size, PageSize::k2M);
  EXPECT_EQ(mm.present_leaf(0x40400000)->size, PageSize::k2M);  // collapsed
  EXPECT_EQ(mm.present_leaf(0x80000000)->size, PageSize::k1G);
  EXPECT_TRUE(mm.vmas().find(0x40400000)->hugepage);
  const CpuThread& c = sys.cpu_thread(0);
  ASSERT_EQ(c.ops().size(), 6u);
  EXPECT_EQ(c.ops()[1].result, 0);
  EXPECT_EQ(c.ops()[3].result, 0);
  ASSERT_EQ(c.loads().size(), 3u);
  EXPECT_EQ(c.loads()[0].value, 5u);
  EXPECT_EQ(c.loads()[1].value, 6u);
  EXPECT_EQ(c.loads()[2].value, 9u);
  EXPECT_EQ(sys.checkers()->total(), 0u);
}

TEST(System, ARunThatWouldHangStopsAtMaxTime) {
  SystemConfig cfg = config_from(std::string(kSmallSystem) + "[sim]\nmax_time_ns = 50000\n");
  Scenario sc = scenario_from(cfg,
                              "process P0\n"
                              "cpu thread Sleeper core=0 process=P0:\n"
                              "  wait 1ms\n");
  System sys(cfg, std::move(sc));
  const System::Outcome o = sys.run();
  EXPECT_FALSE(o.finished);
  EXPECT_EQ(o.end, sc_time(50000, SC_NS));
  EXPECT_EQ(o.error,
            "simulation did not finish by sim.max_time_ns = 50000 ns; still running: core0 "
            "(Sleeper)");
}

// The run ends while boot is still populating a mapping: the kernel kills the boot
// thread at the end, and the boot's error handling must let it unwind (a thread that
// swallows the kill makes SystemC abort the program).
TEST(System, ARunEndingDuringBootStopsCleanly) {
  SystemConfig cfg = config_from(std::string(kSmallSystem) + "[sim]\nmax_time_ns = 100\n");
  Scenario sc = scenario_from(cfg,
                              "process P0\n"
                              "map P0 a at=0x40000000 size=64K populate=write value=1\n");
  System sys(cfg, std::move(sc));
  const System::Outcome o = sys.run();
  EXPECT_FALSE(o.finished);
  EXPECT_EQ(o.end, sc_time(100, SC_NS));
  EXPECT_EQ(o.error,
            "simulation did not finish by sim.max_time_ns = 100 ns; the boot did not complete");
}

// Runs iommu-sim's front end on a config file; returns the exit status.
int run_cli_on(const std::string& cfg_text, const std::vector<std::string>& extra, std::string& out,
               std::string& err) {
  // One file per test and process: ctest runs tests of this file in parallel.
  const std::string path = ::testing::TempDir() + "system_test_" +
                           ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" +
                           std::to_string(getpid()) + ".cfg";
  std::ofstream(path) << cfg_text;
  std::vector<std::string> args{"iommu-sim", path};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  SystemSimulation sim;
  CliEnvironment env;
  env.simulation = &sim;
  std::ostringstream o, e;
  const int rc = run_cli(static_cast<int>(argv.size()), argv.data(), env, o, e);
  out = o.str();
  err = e.str();
  return rc;
}

TEST(SystemSimulation, AHangingRunExitsWithStatus2) {
  const std::string script_path = ::testing::TempDir() + "system_test_hang.scn";
  std::ofstream(script_path) << "process P0\ncpu thread T core=0 process=P0:\n  wait 1ms\n";
  std::string out, err;
  const int rc = run_cli_on(std::string(kSmallSystem) + "[sim]\nmax_time_ns = 2000\n[scenario]\n" +
                                "script = " + script_path + "\n",
                            {}, out, err);
  EXPECT_EQ(rc, kExitBadInput);
  EXPECT_NE(err.find("simulation did not finish by sim.max_time_ns = 2000 ns"), std::string::npos)
      << err;
}

TEST(SystemSimulation, OrderingSensitiveConfigRefusesAQuantum) {
  std::string out, err;
  const int rc = run_cli_on(
      std::string(kSmallSystem) + "[check]\nordering_sensitive = true\n[sim]\nquantum_ns = 100\n",
      {}, out, err);
  EXPECT_EQ(rc, kExitBadInput);
  EXPECT_NE(err.find("ordering-sensitive (check.ordering_sensitive = true) and refuses "
                     "sim.quantum_ns = 100"),
            std::string::npos)
      << err;
  EXPECT_EQ(out, "");
}

TEST(SystemSimulation, ScriptErrorsNameTheScriptPositionAndExit2) {
  const std::string dir = ::testing::TempDir();
  std::ofstream(dir + "system_test_bad.scn") << "process P0\nbind P0 device3\n";
  std::string out, err;
  // The script path is relative to the config file that sets it.
  const int rc = run_cli_on(
      std::string(kSmallSystem) + "[scenario]\nscript = system_test_bad.scn\n", {}, out, err);
  EXPECT_EQ(rc, kExitBadInput);
  EXPECT_NE(err.find(dir + "system_test_bad.scn:2:9: device: unknown device 'device3'"),
            std::string::npos)
      << err;
}

TEST(SystemSimulation, ListParamsHasEverySection) {
  SystemSimulation sim;
  std::vector<std::string> names;
  for (const ParamInfo& p : sim.params()) names.push_back(p.name);
  for (const char* key : {"sim.duration_ns",
                          "sim.max_time_ns",
                          "sim.quantum_ns",
                          "sim.seed",
                          "scenario.script",
                          "memory.size_bytes",
                          "memory.bus.hop_latency_ns",
                          "cpu.cores",
                          "cpu.tlb.sets",
                          "tlb_shootdown.ipi_round_trip_ns",
                          "os.secondary_tlb_flush",
                          "iommu.iotlb.sets",
                          "link.lanes",
                          "device.count",
                          "device.<i>.atc.sets",
                          "check.expect_clean",
                          "check.ordering_sensitive",
                          "check.max_records",
                          "workload.processes",
                          "workload.populate"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), key), names.end()) << key;
  }
}

}  // namespace
}  // namespace iosim

namespace iosim {
namespace {

TEST(System, DeviceThreadsRunAfterBootWithTheBoundPasids) {
  SystemConfig cfg = config_from(std::string(kSmallSystem) +
                                 "[workload]\nprocesses = 1\nrequests = 50\n"
                                 "window_bytes = 16384\nbase_va = 0x20000000\n");
  ScenarioLimits lim{cfg.cpu.cores, cfg.device.size(), 1000, 1, 0x20000000, 16384};
  Scenario sc = load_scenario_text(
      "process P0\n"
      "map P0 a at=0x40000000 size=4K populate=write value=77\n"
      "bind P0 device0\n"
      "dev thread D device=device0 process=P0:\n"
      "  @2us read a\n"
      "  read window offset=8\n"
      "dev thread E device=device0 process=W0:\n"
      "  read window\n",
      "t.scn", lim);
  System sys(cfg, std::move(sc));
  const System::Outcome o = sys.run();
  ASSERT_TRUE(o.finished) << o.error;
  Device& dev = sys.device(0);
  ASSERT_EQ(dev.thread_count(), 3u);                       // D, E, then the synthetic thread
  EXPECT_EQ(sys.pasid(1, 0), std::optional<uint32_t>(1));  // W0 bound first
  EXPECT_EQ(sys.pasid(2, 0), std::optional<uint32_t>(2));
  const DmaThread& d = dev.thread(0);
  EXPECT_EQ(d.name(), "D");
  EXPECT_EQ(d.config().pasid, 2u);
  ASSERT_EQ(d.reads().size(), 2u);
  EXPECT_EQ(d.reads()[0].value, 77u);
  EXPECT_GT(d.reads()[0].time, o.boot_end + sc_time(2000, SC_NS));
  // D reads W0's window through P0's PASID: not mapped there, so it fails.
  EXPECT_FALSE(d.reads()[1].ok);
  EXPECT_EQ(dev.thread(1).config().pasid, 1u);
  ASSERT_EQ(dev.thread(1).reads().size(), 1u);
  EXPECT_TRUE(dev.thread(1).reads()[0].ok);
  EXPECT_EQ(dev.thread(1).reads()[0].value, 0u);  // populated with value 0
  EXPECT_EQ(dev.thread(2).completed(), 50u);
  EXPECT_EQ(dev.thread(2).start_time(), o.boot_end);
  EXPECT_EQ(sys.checkers()->total(), 0u);
}

// Runtime binds go through System::bind/unbind like the boot's; a pair bound twice,
// or unbound when not bound, is a recorded errno, not a failure of the run.
TEST(System, RuntimeBindAndUnbindResults) {
  SystemConfig cfg = config_from(std::string(kSmallSystem) + "[device]\ncount = 2\n");
  Scenario sc = scenario_from(cfg,
                              "process P0\n"
                              "process P1\n"
                              "map P1 b at=0x40000000 size=4K populate=write value=9\n"
                              "bind P0 device0\n"
                              "cpu thread A core=0 process=P0:\n"
                              "  bind device0\n"    // -EEXIST
                              "  unbind device1\n"  // -EINVAL: never bound
                              "  bind device1\n"    // PASID 1, shared by P0's devices
                              "  unbind device0\n"  // 0
                              "  unbind device0\n"  // -EINVAL
                              "  unbind device1\n"  // 0: PASID 1 is free again
                              "cpu thread B core=1 process=P1:\n"
                              "  @50us bind device1\n"  // PASID 1
                              "dev thread D device=device1 process=P1:\n"
                              "  read b\n"          // before B's bind: fails
                              "  @60us read b\n");  // 9
  System sys(cfg, std::move(sc));
  const System::Outcome o = sys.run();
  ASSERT_TRUE(o.finished) << o.error;
  std::vector<int64_t> a;
  for (const OpRecord& r : sys.cpu_thread(0).ops()) a.push_back(r.result);
  EXPECT_EQ(a, (std::vector<int64_t>{-17, -22, 1, 0, -22, 0}));
  ASSERT_EQ(sys.cpu_thread(1).ops().size(), 1u);
  EXPECT_EQ(sys.cpu_thread(1).ops()[0].result, 1);
  // Each bind and unbind takes simulated time (table writes, commands, waits).
  EXPECT_GT(sys.cpu_thread(0).ops()[2].end, sys.cpu_thread(0).ops()[2].start);
  EXPECT_GT(sys.cpu_thread(0).ops()[3].end, sys.cpu_thread(0).ops()[3].start);
  const DmaThread& d = sys.device(1).thread(0);
  EXPECT_EQ(d.config().pasid, 1u);
  ASSERT_EQ(d.reads().size(), 2u);
  EXPECT_FALSE(d.reads()[0].ok);
  EXPECT_TRUE(d.reads()[1].ok);
  EXPECT_EQ(d.reads()[1].value, 9u);
  EXPECT_EQ(d.errors().size(), 1u);
  EXPECT_EQ(sys.pasids().size(), 1u);  // the boot's bind only
  EXPECT_EQ(sys.checkers()->total(), 0u);
  EXPECT_EQ(sys.checkers()->pasid_reuse().handed_on(), 1u);
}

// The OOM reaper on a process bound to an ATS device: SVA's notifier does not sleep
// in the non-blockable range (its start returns 0 and its invalidation spins, under
// the PTL or from invalidate_range_end), so the first attempt reaps, the kernel logs
// no diagnostic (sleeping in a non-block section would be one) and the device's next
// read faults in a new zero page.
void oom_reap_of_a_bound_process(const char* policy) {
  SystemConfig cfg =
      config_from(std::string(kSmallSystem) + "secondary_tlb_flush = " + policy + "\n");
  Scenario sc = scenario_from(cfg,
                              "process V\n"
                              "map V buf at=0x40000000 size=8K populate=write value=3\n"
                              "bind V device0\n"
                              "dev thread D device=device0 process=V:\n"
                              "  read buf\n"
                              "  @1ms read buf\n"
                              "cpu thread R core=1 process=V:\n"
                              "  @10us oom_reap V\n");
  System sys(cfg, std::move(sc));
  const System::Outcome o = sys.run();
  ASSERT_TRUE(o.finished) << o.error;
  ASSERT_EQ(sys.cpu_thread(0).ops().size(), 1u);
  EXPECT_EQ(sys.cpu_thread(0).ops()[0].result, 1);  // reaped at the first attempt
  const Diagnostics& d = sys.kernel().context().diagnostics();
  EXPECT_EQ(d.total(), 0u) << (d.total() ? d.records().front().message : "");
  const DmaThread& t = sys.device(0).thread(0);
  ASSERT_EQ(t.reads().size(), 2u);
  EXPECT_EQ(t.reads()[0].value, 3u);
  EXPECT_TRUE(t.reads()[1].ok);
  EXPECT_EQ(t.reads()[1].value, 0u);
  EXPECT_EQ(sys.checkers()->total(), 0u);
}

TEST(System, OomReapOfABoundProcessUnderPtl) {
  oom_reap_of_a_bound_process("under_ptl");
}

TEST(System, OomReapOfABoundProcessRangeEnd) {
  oom_reap_of_a_bound_process("range_end");
}

}  // namespace
}  // namespace iosim
