// Test bench for the cores: physical memory behind a pass-through bus that any number
// of cores bind to, a Kernel and the TLB shootdown, with timing chosen so latencies
// are round numbers (1 GHz cores: 1 ns per cycle; one 8-byte memory access 50.5 ns).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/tlm_bench.h"
#include "cpu/core.h"
#include "cpu/tlb_shootdown.h"
#include "os/kernel.h"
#include "sc_models/check/ground_truth.h"
#include "sc_models/memory/memory_bus.h"
#include "sc_models/memory/physical_memory.h"
#include "sc_models/sim/sim_context.h"
#include "sc_models/observe/stats.h"

namespace iosim::test {

inline PhysicalMemoryConfig bench_memory() {
  PhysicalMemoryConfig c;
  c.size_bytes = uint64_t{1} << 30;
  c.access_latency_ns = 50;
  c.channels = 1;
  c.channel_bandwidth_gb_per_s = 16;  // 8 bytes: 0.5 ns
  return c;
}
constexpr double kMemAccessNs = 50.5;

inline OsConfig bench_os() {
  OsConfig c;
  c.allocator.base_pa = uint64_t{16} << 20;
  c.allocator.frames = 8192;
  return c;
}

inline CoreConfig bench_core() {
  CoreConfig c;
  c.freq_mhz = 1000;  // 1 ns per cycle
  return c;
}

// The address space of `mm` as a core accesses it.
inline AddressSpace space(const Mm& mm) {
  return {mm.id(), mm.root()};
}

// Puts a read-only translation of `va` for mm 1 in a core's TLB.
inline void prime_tlb(Core& c, uint64_t va) {
  TranslationEntry e;
  e.domain = 1;
  e.base = va;
  e.target = 0x100000;
  e.perms = tperm::kRead;
  c.tlb().insert(e);
}
// Whether the core's TLB still holds a translation of `va` for mm 1.
inline bool tlb_holds(Core& c, uint64_t va) {
  return c.tlb().peek(TranslationTag{kNoPasid, 1}, va) != nullptr;
}

// The bench owns the simulation context its modules register their statistics in.
struct CpuBench {
  explicit CpuBench(unsigned cores, const TlbShootdownConfig& sd = {},
                    const OsConfig& os_cfg = bench_os())
      : mem("mem", bench_memory()),
        bus("bus", ctx),
        os(ctx, os_cfg, mem, &gt),
        shootdown("shootdown", ctx, sd) {
    gt.subscribe(&rec);
    bus.memory.bind(mem.socket);
    os.set_tlb_shootdown(&shootdown);
    for (unsigned i = 0; i < cores; ++i) {
      core.push_back(std::make_unique<Core>(("core" + std::to_string(i)).c_str(), ctx, bench_core(),
                                            static_cast<int>(i), os, &gt));
      core.back()->socket.bind(bus.targets);
      shootdown.add_core(*core.back());
    }
  }
  // The counter at `path` in the bench's statistics; all ones if there is none.
  uint64_t counter(const std::string& path) const {
    const Counter* c = ctx.stats().find_as<Counter>(path);
    return c ? c->value() : ~uint64_t{0};
  }

  SimContext ctx;  // first, so it outlives the modules
  PhysicalMemory mem;
  MemoryBus bus;
  GroundTruth gt;
  GroundTruthRecorder rec;
  Kernel os;
  TlbShootdown shootdown;
  std::vector<std::unique_ptr<Core>> core;
};

}  // namespace iosim::test
