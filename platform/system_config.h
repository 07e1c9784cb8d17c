// SystemConfig: every parameter of a simulated system, as one visit()able struct, so
// the config files, --set, --list-params and the README's parameter reference all
// come from here (platform/config_params.h applies and lists it).
//
// Sections: sim (run length and seed), scenario (the script), memory (+ memory.bus),
// cpu (core count + the CoreConfig every core uses), tlb_shootdown, os, iommu, link
// (the PcieLinkConfig of every device's link), device (per-instance: device.count,
// device.<i>.atc.sets ...), sva (the SVA driver), iopf (the I/O page-fault handler), check
// (checkers and what a clean run means) and workload (synthetic DMA for throughput runs).
//
// Each device's root port is derived from the device (requester ID, ATS/PRI enabled,
// Invalidate Queue Depth), so the two cannot disagree.
#pragma once

#include "cpu/core.h"
#include "cpu/tlb_shootdown.h"
#include "device/device_config.h"
#include "iommu/iommu_config.h"
#include "os/iopf_handler.h"
#include "os/os_config.h"
#include "os/sva_driver.h"
#include "platform/populate.h"
#include "sc_models/check/checker.h"
#include "sc_models/memory/memory_bus.h"
#include "sc_models/pcie/pcie_link.h"
#include "sc_models/memory/physical_memory.h"
#include "sc_models/observe/timeline.h"

#include <cstdint>
#include <string>
#include <vector>

namespace iosim {

class ConfigCheck;

struct SimConfig {
  // Synthetic DMA stops issuing this long after the start (0: run until every
  // program and every thread is done).
  double duration_ns = 0;
  // Hard stop: a run still busy at this simulated time is an error (exit 2).
  double max_time_ns = 1e9;
  // TLM global quantum for temporally decoupled initiators (0: none).
  double quantum_ns = 0;
  // Skip a wait when no other process can run before it ends (exact; see
  // sc_models/timing/lookahead.h). Off: every wait is taken, for comparison.
  bool lookahead = true;
  uint64_t seed = 1;

  template <class V>
  void visit(V& v) {
    v("duration_ns", duration_ns, "ns",
      "synthetic DMA stops issuing after this time from the start (0: until done)");
    v("max_time_ns", max_time_ns, "ns", "hard stop; a run not finished by then is an error");
    v("quantum_ns", quantum_ns, "ns", "TLM global quantum (0: no temporal decoupling)");
    v("lookahead", lookahead, "",
      "skip waits no other process could run within (exact, same results; false: take every wait)");
    v("seed", seed, "", "random seed of every synthetic thread (--seed overrides it)");
  }
};

struct ScenarioConfig {
  // Scenario script; a relative path is relative to the config file that set it.
  std::string script;

  template <class V>
  void visit(V& v) {
    v("script", script, "path", "scenario script (relative to the config file that sets it)");
  }
};

struct MemorySection {
  PhysicalMemoryConfig dram;
  MemoryBusConfig bus;

  template <class V>
  void visit(V& v) {
    dram.visit(v);
    v.section("bus", bus);
  }
};

struct CpuSection {
  uint32_t cores = 4;
  CoreConfig core;  // every core

  template <class V>
  void visit(V& v) {
    v("cores", cores, "cores", "CPU cores (core0, core1, ...)");
    core.visit(v);
  }
};

struct CheckSection {
  bool enabled = true;
  // Any violation makes the run exit with status 1.
  bool expect_clean = false;
  // The scenario depends on every access happening at its own simulated time: a
  // quantum > 0 is refused.
  bool ordering_sensitive = false;
  CheckerConfig checker;

  template <class V>
  void visit(V& v) {
    v("enabled", enabled, "", "run the checkers");
    v("expect_clean", expect_clean, "", "any violation makes the run exit with status 1");
    v("ordering_sensitive", ordering_sensitive, "",
      "the scenario needs exact access order: refuse sim.quantum_ns > 0");
    checker.visit(v);
  }
};

struct WorkloadConfig {
  // Processes with one window each, bound to every device (0: no synthetic load).
  uint32_t processes = 0;
  uint32_t threads_per_device = 1;  // per process
  AccessPattern pattern = AccessPattern::kStream;
  uint32_t request_bytes = 64;
  double read_fraction = 1.0;
  uint32_t max_outstanding = 4;
  double issue_interval_ns = 0;
  uint64_t requests = 1000;  // per thread
  uint64_t window_bytes = 1 << 20;
  uint64_t base_va = 0x10000000;
  Populate populate = Populate::kWrite;

  template <class V>
  void visit(V& v) {
    v("processes", processes, "processes",
      "processes mapping a window bound to every device (0: no synthetic DMA)");
    v("threads_per_device", threads_per_device, "threads", "DMA threads per device and process");
    v.choice("pattern", pattern, kSyntheticPattern, "address pattern of the synthetic threads");
    v("request_bytes", request_bytes, "bytes", "bytes per request (power of two, <= 4096)");
    v("read_fraction", read_fraction, "", "share of requests that are reads (0..1)");
    v("max_outstanding", max_outstanding, "requests", "requests in flight per thread");
    v("issue_interval_ns", issue_interval_ns, "ns", "minimum time between two issues");
    v("requests", requests, "requests", "requests per thread (0: until sim.duration_ns)");
    v("window_bytes", window_bytes, "bytes", "bytes mapped per process");
    v("base_va", base_va, "bytes", "virtual address of every process's window");
    v.choice("populate", populate, kPopulate, "fault the window in at boot");
  }
};

// [timeline]: the text timeline printed by --timeline.
struct TimelineSection : TimelineConfig {
  // Only accesses and OS steps on pages named by a scenario symbol are shown (a
  // symbol names each of its pages up to max_symbol_pages).
  bool named_only = true;
  uint32_t max_symbol_pages = 64;

  template <class V>
  void visit(V& v) {
    TimelineConfig::visit(v);
    v("named_only", named_only, "", "show only pages named by a scenario symbol");
    v("max_symbol_pages", max_symbol_pages, "pages", "pages of each symbol that get a name");
  }
};

struct SystemConfig {
  SimConfig sim;
  ScenarioConfig scenario;
  MemorySection memory;
  CpuSection cpu;
  TlbShootdownConfig tlb_shootdown;
  OsConfig os;
  IommuConfig iommu;
  PcieLinkConfig link;
  std::vector<DeviceConfig> device = std::vector<DeviceConfig>(1);
  SvaConfig sva;
  IopfConfig iopf;
  CheckSection check;
  WorkloadConfig workload;
  TimelineSection timeline;

  template <class V>
  void visit(V& v) {
    v.section("sim", sim);
    v.section("scenario", scenario);
    v.section("memory", memory);
    v.section("cpu", cpu);
    v.section("tlb_shootdown", tlb_shootdown);
    v.section("os", os);
    v.section("iommu", iommu);
    v.section("link", link);
    v.instances("device", device, "PCIe endpoints (device0, device1, ...)");
    v.section("sva", sva);
    v.section("iopf", iopf);
    v.section("check", check);
    v.section("workload", workload);
    v.section("timeline", timeline);
  }

  // Every rule of a loaded configuration (platform/system_config.cpp): ranges,
  // upper bounds on counts that cost host memory, parameters that must agree.
  void check_rules(ConfigCheck& c) const;
  // Throws ParamError "key: message" for the first problem check_rules() finds.
  void validate() const;
  // Requester ID of device i: device.<i>.requester_id, where the default 0x100 means
  // 0x100 + 8 * i (bus 1, device i, function 0) so instances differ by default.
  uint16_t requester_id(size_t i) const;
};

}  // namespace iosim
