// System teardown: however a run ends (every program done, sim.max_time_ns reached,
// a failed boot), no thread process is left suspended, so none keeps live locals.
#include "platform/system.h"

#include "platform/config_params.h"
#include "platform/system_simulation.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace iosim {
namespace {

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
  return load_scenario_text(text, "t.scn", scenario_limits(cfg));
}

// Names of the thread processes at or below `objects` that have not terminated.
void live_threads(const std::vector<sc_core::sc_object*>& objects, std::vector<std::string>& out) {
  for (sc_core::sc_object* o : objects) {
    sc_core::sc_process_handle h(o);
    if (h.valid() && h.proc_kind() != sc_core::SC_METHOD_PROC_ && !h.terminated()) {
      out.push_back(h.name());
    }
    live_threads(o->get_child_objects(), out);
  }
}

std::vector<std::string> live_threads() {
  std::vector<std::string> out;
  live_threads(sc_core::sc_get_top_level_objects(), out);
  return out;
}

// A DMA workload through the IOMMU and a CPU program: the IOMMU, driver and device
// server loops are all running when the last program finishes.
const char* kBusySystem =
    "[workload]\n"
    "processes = 1\n"
    "requests = 20\n"
    "window_bytes = 65536\n";

TEST(SystemTeardown, AFinishedRunLeavesNoThreadSuspended) {
  SystemConfig cfg = config_from(std::string(kSmallSystem) + kBusySystem);
  Scenario sc = scenario_from(cfg,
                              "process P0\n"
                              "map P0 addrA at=0x40000000 size=16K populate=write value=7\n"
                              "cpu thread T0 core=1 process=P0:\n"
                              "  store addrA value=1\n"
                              "  munmap addrA size=16K\n");
  System sys(cfg, std::move(sc));
  const System::Outcome o = sys.run();
  ASSERT_TRUE(o.finished) << o.error;
  EXPECT_EQ(live_threads(), std::vector<std::string>{});
}

TEST(SystemTeardown, ARunCutOffByMaxTimeLeavesNoThreadSuspended) {
  SystemConfig cfg =
      config_from(std::string(kSmallSystem) + kBusySystem + "[sim]\nmax_time_ns = 50000\n");
  Scenario sc = scenario_from(cfg,
                              "process P0\n"
                              "cpu thread Sleeper core=0 process=P0:\n"
                              "  wait 1ms\n");
  System sys(cfg, std::move(sc));
  const System::Outcome o = sys.run();
  ASSERT_FALSE(o.finished);
  EXPECT_EQ(o.end, sc_core::sc_time(50000, sc_core::SC_NS));
  EXPECT_EQ(live_threads(), std::vector<std::string>{});
}

TEST(SystemTeardown, AFailedBootLeavesNoThreadSuspended) {
  // 64 frames cannot hold a populated 1 MiB mapping: the boot fails part-way.
  SystemConfig cfg = config_from(std::string(kSmallSystem) + "[os]\nallocator.frames = 64\n");
  Scenario sc = scenario_from(cfg,
                              "process P0\n"
                              "map P0 big at=0x40000000 size=1M populate=write\n"
                              "cpu thread T0 core=0 process=P0:\n"
                              "  load big\n");
  System sys(cfg, std::move(sc));
  const System::Outcome o = sys.run();
  ASSERT_NE(o.error.find("boot failed"), std::string::npos) << o.error;
  EXPECT_EQ(live_threads(), std::vector<std::string>{});
}

}  // namespace
}  // namespace iosim
