// Test bench for the AMD-Vi front-end: physical memory behind a spy that records the
// IOMMU's memory writes (tests/iommu/smmuv3_bench.h's MemorySpy), an AmdviIommu with two
// root ports, each with a stub ATS device (smmuv3_bench.h's StubDevice: answers Invalidate
// Requests after a delay, or never, and records what it receives), a software stub on the
// registers, and helpers that write DTEs, GCR3 entries, page tables and commands.
#pragma once

#include <vector>

#include "common/tlm_bench.h"
#include "iommu/amdvi/amdvi_iommu.h"
#include "iommu/smmuv3_bench.h"

namespace iosim::test::amd {

using namespace iosim::amdvi;
using smmu::kRid0;
using smmu::kRid1;

// Fixed memory layout (the frame allocator starts above it).
constexpr uint64_t kDevTable = 0x1000000;  // 2 pages: DeviceIDs 0..255 ... 0x0200 needs 5
constexpr unsigned kDevTablePages = 32;
constexpr uint64_t kCmdBuf = 0x1100000;  // 256 commands
constexpr uint64_t kEventLog = 0x1200000;
constexpr uint64_t kPprLog = 0x1300000;
constexpr uint64_t kSem = 0x1400000;

inline IommuConfig amd_config() {
  return IommuConfig{};
}

struct AmdviBench {
  SimContext ctx;  // first, so it outlives the modules
  PhysicalMemory memory;
  smmu::MemorySpy spy;
  AmdviIommu iommu;
  RootPort& port0;
  RootPort& port1;
  smmu::StubDevice dev0, dev1;
  StubInitiator sw;
  uint64_t next_frame = 0x2000000;
  PageTableEditor editor;
  uint64_t tail = 0;
  static constexpr uint64_t kUserRw = Pte::kWritable | Pte::kUser | Pte::kAccessed | Pte::kDirty;

  explicit AmdviBench(const IommuConfig& cfg = amd_config())
      : memory("memory", smmu::bench_memory()),
        spy("spy"),
        iommu("iommu", ctx, cfg),
        port0(iommu.add_root_port("rp0", with_rid(kRid0))),
        port1(iommu.add_root_port("rp1", with_rid(kRid1))),
        dev0("dev0", kRid0),
        dev1("dev1", kRid1),
        sw("sw"),
        editor(memory, [this] { return alloc(); }) {
    iommu.mem.bind(spy.target);
    spy.initiator.bind(memory.socket);
    sw.socket.bind(iommu.regs);
    dev0.up.bind(port0.upstream);
    port0.downstream.bind(dev0.down);
    dev1.up.bind(port1.upstream);
    port1.downstream.bind(dev1.down);
  }
  static RootPortConfig with_rid(uint16_t rid) {
    RootPortConfig c;
    c.requester_id = rid;
    return c;
  }
  uint64_t alloc() {
    const uint64_t f = next_frame;
    next_frame += 4096;
    memory.zero_frame(f);
    return f;
  }

  // --- Tables ---
  void write_dte(uint16_t devid, const Dte& d) {
    const DteWords w = d.encode();
    for (unsigned q = 0; q < 4; ++q) memory.write_u64(kDevTable + kDteBytes * devid + 8 * q, w[q]);
  }
  // A GCR3 table (GLX 0) at a new frame with `pasid` -> `root`, and the device's DTE
  // (GV, DomainID `domain`, I); returns the GCR3 table.
  uint64_t guest_device(uint16_t devid, uint16_t domain, uint32_t pasid, uint64_t root,
                        bool ppr = true) {
    const uint64_t gcr3 = alloc();
    memory.write_u64(gcr3 + 8 * gcr3_index(pasid, 0), Gcr3Entry{true, root}.encode());
    Dte d;
    d.gv = true;
    d.gcr3_root = gcr3;
    d.domain_id = domain;
    d.iotlb = true;
    d.ppr = ppr;
    write_dte(devid, d);
    return gcr3;
  }

  // --- Registers (from a thread) ---
  void write64(uint64_t off, uint64_t v) { sw.write(off, &v, 8); }
  uint64_t read64(uint64_t off) {
    uint64_t v = 0;
    sw.read(off, &v, 8);
    return v;
  }
  uint64_t control() {
    return reg::kCtrlIommuEn | reg::kCtrlEventLogEn | reg::kCtrlEventIntEn |
           reg::kCtrlComWaitIntEn | reg::kCtrlCmdBufEn | reg::kCtrlPprLogEn | reg::kCtrlPprIntEn |
           reg::kCtrlPprEn | reg::kCtrlGtEn;
  }
  // Device table, buffers and logs (Len 8: 256 entries unless given), then Control.
  void init(unsigned event_len = 8, unsigned ppr_len = 8) {
    write64(reg::kDevTableBase, kDevTable | (kDevTablePages - 1));
    write64(reg::kCmdBufBase, kCmdBuf | reg::kBaseLen.put(8));
    write64(reg::kEventLogBase, kEventLog | reg::kBaseLen.put(event_len));
    write64(reg::kPprLogBase, kPprLog | reg::kBaseLen.put(ppr_len));
    write64(reg::kControl, control());
  }

  // --- Command buffer ---
  void put_command(const CmdWords& w) {
    memory.write_u64(kCmdBuf + tail, w[0]);
    memory.write_u64(kCmdBuf + tail + 8, w[1]);
    tail = ring_next(tail, 4096);
  }
  void ring() { write64(reg::kCmdBufTail, tail); }
  void submit(const std::vector<Command>& cmds) {
    for (const Command& c : cmds) put_command(encode_command(c));
    ring();
  }
  static CompletionWait store(uint64_t data = 0xC0FFEE) {
    CompletionWait c;
    c.store = true;
    c.store_addr = kSem;
    c.store_data = data;
    return c;
  }
  // Waits until the head reaches the tail (polling every 100 ns, up to `limit`).
  bool drain(sc_core::sc_time limit = ns(100000)) {
    const sc_core::sc_time end = sc_core::sc_time_stamp() + limit;
    while (sc_core::sc_time_stamp() < end) {
      if (iommu.command_queue().head() == tail) return true;
      sc_core::wait(ns(100));
    }
    return false;
  }

  EventEntry event(unsigned i) {
    return EventEntry::decode(
        {memory.read_u64(kEventLog + 16 * i), memory.read_u64(kEventLog + 16 * i + 8)});
  }
  PprLogEntry ppr(unsigned i) {
    return PprLogEntry::decode(
        {memory.read_u64(kPprLog + 16 * i), memory.read_u64(kPprLog + 16 * i + 8)});
  }
  unsigned events() { return static_cast<unsigned>(iommu.event_log().tail() / 16); }
  uint64_t counter(const std::string& path) {
    const auto* c = ctx.stats().find_as<Counter>(path);
    return c ? c->value() : ~0ull;
  }
};

}  // namespace iosim::test::amd
