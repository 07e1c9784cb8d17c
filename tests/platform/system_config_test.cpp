// SystemConfig's post-load rules through SystemSimulation::configure: every value a
// rule refuses is reported as file:line: full key: message (or --set: ...), with the
// upper bounds that keep host memory in check.
#include "platform/system_simulation.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <fstream>

namespace iosim {
namespace {

const char* kBase =
    "[memory]\n"                        // 1
    "size_bytes = 4G\n"                 // 2
    "[os]\n"                            // 3
    "allocator.base_pa = 0x10000000\n"  // 4
    "allocator.frames = 8192\n";        // 5

// Errors of configuring a SystemSimulation with `text` (file "t.cfg") and --set args.
std::vector<std::string> errors_of(const std::string& text,
                                   const std::vector<std::string>& sets = {}) {
  std::vector<ConfigEntry> entries;
  std::vector<ConfigError> errors;
  load_config_text(text, "t.cfg", entries, errors);
  for (const std::string& s : sets) parse_set_override(s, entries, errors);
  SystemSimulation sim;
  sim.configure(entries, errors);
  std::vector<std::string> out;
  for (const ConfigError& e : errors) out.push_back(e.to_string());
  return out;
}

using Errors = std::vector<std::string>;

TEST(SystemConfigRules, ADefaultConfigurationIsValid) {
  EXPECT_EQ(errors_of(""), Errors{});
  EXPECT_EQ(errors_of(kBase), Errors{});
}

TEST(SystemConfigRules, CacheGeometryAtTheLineAndFullKey) {
  EXPECT_EQ(errors_of(std::string(kBase) + "[device]\ncount = 2\n[device.1]\natc.ways = 0\n"),
            Errors{"t.cfg:9: device.1.atc.ways: must be at least 1"});
  // "[device] atc.ways" sets every device: reported at that line for each.
  EXPECT_EQ(errors_of(std::string(kBase) + "[device]\ncount = 2\natc.sets = 3\n"),
            (Errors{"t.cfg:8: device.0.atc.sets: must be a power of two >= 1, got 3",
                    "t.cfg:8: device.1.atc.sets: must be a power of two >= 1, got 3"}));
  EXPECT_EQ(errors_of(kBase, {"cpu.walker.pd_cache_entries=1G"}),
            Errors{"--set: cpu.walker.pd_cache_entries: is 1073741824, more than the limit of "
                   "4096: a fully associative cache, allocated up front and searched on every "
                   "walk"});
  EXPECT_EQ(errors_of(kBase, {"iommu.iotlb.sets=1M", "iommu.iotlb.ways=2"}),
            Errors{"--set: iommu.iotlb.ways: sets x ways = 2097152 entries, more than the limit "
                   "of 1048576: every entry is allocated when the model is built"});
}

TEST(SystemConfigRules, EveryHostMemoryCountHasABound) {
  const std::pair<const char*, const char*> cases[] = {
      {"cpu.cores=257", "cpu.cores: is 257, more than the limit of 256"},
      {"device.count=257", "device.count: is 257, more than the limit of 256"},
      {"iommu.walker.pde_cache_entries=5000",
       "iommu.walker.pde_cache_entries: is 5000, more than the limit of 4096"},
      {"iommu.tables.pasid_cache_entries=1M",
       "iommu.tables.pasid_cache_entries: is 1048576, more than the limit of 65536"},
      {"iommu.walker.walkers=1025", "iommu.walker.walkers: is 1025, more than the limit of 1024"},
      {"iommu.fault_records=1M", "iommu.fault_records: is 1048576, more than the limit of 65536"},
      {"memory.channels=65", "memory.channels: is 65, more than the limit of 64"},
      {"check.max_records=2000000",
       "check.max_records: is 2000000, more than the limit of 1000000"},
      {"timeline.line_width=100000000",
       "timeline.line_width: is 100000000, more than the limit of 1000"},
      {"timeline.max_events=1G", "timeline.max_events: is 1073741824, more than the limit of"},
      {"workload.max_outstanding=100000",
       "workload.max_outstanding: is 100000, more than the limit of 1024: every request in "
       "flight is a SystemC thread with its own stack"},
      {"workload.threads_per_device=1000000",
       "workload.threads_per_device: is 1000000, more than the limit of 256"},
      {"workload.processes=5000", "workload.processes: is 5000, more than the limit of 1024"},
  };
  for (const auto& [set, want] : cases) {
    const Errors e = errors_of(kBase, {set});
    ASSERT_EQ(e.size(), 1u) << set;
    EXPECT_EQ(e[0].rfind(std::string("--set: ") + want, 0), 0u) << e[0];
  }
}

TEST(SystemConfigRules, IssueSlotsInAllAreBounded) {
  // 4 processes x 4 threads x 256 slots = 4096 per device: 8 devices are the limit, a
  // ninth is over it. Reported at the first key an entry set.
  const std::string w = std::string(kBase) +
                        "[workload]\nprocesses = 4\nthreads_per_device = 4\nmax_outstanding = "
                        "256\nwindow_bytes = 64K\n";
  EXPECT_EQ(errors_of(w, {"device.count=8"}), Errors{});
  EXPECT_EQ(errors_of(w, {"device.count=9"}),
            Errors{"t.cfg:9: workload.max_outstanding: device.count x workload.processes x "
                   "threads_per_device x max_outstanding = 36864 issue slots, more than the limit "
                   "of 32768: each is a SystemC thread with its own stack (256 KiB)"});
}

TEST(SystemConfigRules, TimesMustFitSystemCTime) {
  EXPECT_EQ(errors_of(kBase, {"sim.max_time_ns=1e17"}),
            Errors{"--set: sim.max_time_ns: must be a time from 0 to 1e15 ns (SystemC time is a "
                   "64-bit count of picoseconds), got 1e+17"});
  const Errors e = errors_of(std::string(kBase) + "[iommu]\nregister_latency_ns = 2e15\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].rfind("t.cfg:7: iommu.register_latency_ns: must be a time from 0 to 1e15 ns", 0),
            0u)
      << e[0];
}

TEST(SystemConfigRules, PasidUsersOnADeviceWithoutPasid) {
  const std::string w = std::string(kBase) + "[workload]\nprocesses = 1\nwindow_bytes = 64K\n" +
                        "[device]\npasid_enabled = false\n";
  EXPECT_EQ(errors_of(w),
            Errors{"t.cfg:10: device.0.pasid_enabled: is false, but the workload's DMA threads "
                   "use a PASID (SVA bind of each workload process)"});
  // A scripted dev thread.
  const std::string script = ::testing::TempDir() + "rules_" + std::to_string(::getpid()) + ".scn";
  std::ofstream(script) << "process P0\nmap P0 a at=0x10000000 size=4K\nbind P0 device0\n"
                           "dev thread D device=device0 process=P0:\n  read a\n";
  EXPECT_EQ(errors_of(std::string(kBase) + "[scenario]\nscript = " + script + "\n",
                      {"device.0.pasid_enabled=off"}),
            Errors{"--set: device.0.pasid_enabled: is false, but the scenario's dev thread 'D' (" +
                   script + ":4) uses a PASID (SVA bind)"});
}

TEST(SystemConfigRules, AWindowLargerThanTheAllocator) {
  // 8192 frames; a 64 MiB window needs 16384 + page tables.
  EXPECT_EQ(errors_of(std::string(kBase) + "[workload]\nprocesses = 1\nwindow_bytes = 64M\n"),
            Errors{"t.cfg:8: workload.window_bytes: workload.processes x window_bytes needs "
                   "16420 frames with page tables to populate, more than os.allocator.frames = "
                   "8192"});
  // Without population the window costs nothing up front.
  EXPECT_EQ(errors_of(std::string(kBase) +
                      "[workload]\nprocesses = 1\nwindow_bytes = 64M\npopulate = none\n"),
            Errors{});
}

TEST(SystemConfigRules, SubConfigurationRulesGetTheirFullKey) {
  EXPECT_EQ(errors_of(kBase, {"iommu.iotlb.lookup_ports=0"}),
            Errors{"--set: iommu.iotlb.lookup_ports: must be >= 1"});
  EXPECT_EQ(errors_of(std::string(kBase) + "[link]\nlanes = 64\n").size(), 1u);
  EXPECT_EQ(
      errors_of(std::string(kBase) + "[link]\nlanes = 64\n")[0].rfind("t.cfg:7: link.lanes: ", 0),
      0u)
      << errors_of(std::string(kBase) + "[link]\nlanes = 64\n")[0];
}

TEST(SystemConfigRules, DecimalCounts) {
  std::vector<ConfigEntry> entries;
  std::vector<ConfigError> errors;
  load_config_text("[cpu]\ncores = 010\n", "t.cfg", entries, errors);
  SystemSimulation sim;
  sim.configure(entries, errors);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(sim.config().cpu.cores, 10u);
}

}  // namespace
}  // namespace iosim
