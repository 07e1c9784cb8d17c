// Test bench for the RISC-V IOMMU front-end: physical memory behind a spy that records
// the IOMMU's memory writes with their times, a RiscvIommu with two root ports, each
// with a stub ATS device (smmuv3_bench.h's MemorySpy and StubDevice: architecture-
// neutral), a software stub on the registers, and helpers that write directory tables,
// contexts, page tables and commands into memory and ring cqt.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/tlm_bench.h"
#include "iommu/riscv/riscv_iommu.h"
#include "iommu/smmuv3_bench.h"
#include "sc_models/memory/physical_memory.h"
#include "sc_models/page_table/page_table.h"
#include "sc_models/pcie/pcie_ext.h"
#include "sc_models/sim/sim_context.h"
#include "sc_models/timing/server_pool.h"

namespace iosim::test::rv {

using namespace iosim::riscv;
using smmu::MemorySpy;
using smmu::StubDevice;

constexpr uint16_t kRid0 = 0x0100;
constexpr uint16_t kRid1 = 0x0200;

// Fixed memory layout (the frame allocator starts above it).
constexpr uint64_t kDdt = 0x1000000;  // DDT root
constexpr uint64_t kCq = 0x1100000;   // 256 commands
constexpr unsigned kCqLog2 = 8;
constexpr uint64_t kFq = 0x1200000;
constexpr uint64_t kPq = 0x1300000;
constexpr uint64_t kFenceAddr = 0x1400000;

struct RiscvBench {
  SimContext ctx;  // first, so it outlives the modules
  PhysicalMemory memory;
  MemorySpy spy;
  RiscvIommu iommu;
  RootPort& port0;
  RootPort& port1;
  StubDevice dev0, dev1;
  StubInitiator sw;
  uint64_t next_frame = 0x2000000;
  PageTableEditor editor;
  IommuMode mode = IommuMode::kLvl3;
  uint32_t cqt = 0;
  static constexpr uint64_t kUserRw = Pte::kWritable | Pte::kUser | Pte::kAccessed | Pte::kDirty;

  explicit RiscvBench(const IommuConfig& cfg = {}, RootPortConfig pc0 = {}, RootPortConfig pc1 = {})
      : memory("memory", smmu::bench_memory()),
        spy("spy"),
        iommu("iommu", ctx, cfg),
        port0(iommu.add_root_port("rp0", with_rid(pc0, kRid0))),
        port1(iommu.add_root_port("rp1", with_rid(pc1, kRid1))),
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
    memory.zero_frame(kDdt);
  }
  static RootPortConfig with_rid(RootPortConfig c, uint16_t rid) {
    c.requester_id = rid;
    return c;
  }

  uint64_t alloc() {
    const uint64_t f = next_frame;
    next_frame += 4096;
    memory.zero_frame(f);
    return f;
  }
  template <size_t N>
  void write_words(uint64_t addr, const std::array<uint64_t, N>& w, size_t n = N) {
    for (size_t i = 0; i < n; ++i) memory.write_u64(addr + 8 * i, w[i]);
  }
  template <size_t N>
  std::array<uint64_t, N> read_words(uint64_t addr) {
    std::array<uint64_t, N> w{};
    for (size_t i = 0; i < N; ++i) w[i] = memory.read_u64(addr + 8 * i);
    return w;
  }

  // --- Directory tables (mode: the ddtp mode init() programs) ---
  unsigned levels() const { return static_cast<unsigned>(mode) - 1; }
  // Address of `did`'s device context, making the non-leaf tables on the way.
  uint64_t dc_address(uint32_t did) {
    uint64_t table = kDdt;
    for (unsigned level = levels() - 1; level > 0; --level) {
      const uint64_t e = table + kDdteBytes * ddi(did, level);
      DirEntry d = DirEntry::decode(memory.read_u64(e), Cause::kDdtMisconfigured);
      if (!d.valid) {
        d = DirEntry{true, alloc()};
        memory.write_u64(e, d.encode());
      }
      table = d.next;
    }
    return table + kDcBaseBytes * ddi(did, 0);
  }
  void write_dc(uint32_t did, const DeviceContext& dc) {
    write_words(dc_address(did), dc.encode(), 4);
  }
  // A device whose own iosatp (PDTV = 0) translates through `root` with `pscid`.
  void translate_device(uint32_t did, uint32_t pscid, uint64_t root, bool ats = true) {
    DeviceContext dc;
    dc.en_ats = ats;
    dc.pscid = pscid;
    dc.fsc_mode = static_cast<uint8_t>(IosatpMode::kSv48);
    dc.fsc_root = root;
    write_dc(did, dc);
  }
  // A device with a PD8 process directory (one page); returns the PDT's address.
  uint64_t pasid_device(uint32_t did, bool ats = true, bool pri = true, bool prpr = true,
                        bool dpe = false) {
    const uint64_t pdt = alloc();
    DeviceContext dc;
    dc.en_ats = ats;
    dc.en_pri = pri;
    dc.prpr = pri && prpr;
    dc.pdtv = true;
    dc.dpe = dpe;
    dc.fsc_mode = static_cast<uint8_t>(PdtpMode::kPd8);
    dc.fsc_root = pdt;
    write_dc(did, dc);
    return pdt;
  }
  void write_pc(uint64_t pdt, uint32_t pid, const ProcessContext& pc) {
    write_words(pdt + kPcBytes * pid, pc.encode());
  }
  void bind(uint64_t pdt, uint32_t pid, uint32_t pscid, uint64_t root, bool ens = false) {
    ProcessContext pc;
    pc.pscid = pscid;
    pc.root = root;
    pc.ens = ens;
    write_pc(pdt, pid, pc);
  }

  // --- Registers (from a thread) ---
  void write32(uint64_t off, uint32_t v) { sw.write(off, &v, 4); }
  void write64(uint64_t off, uint64_t v) { sw.write(off, &v, 8); }
  uint32_t read32(uint64_t off) {
    uint32_t v = 0;
    sw.read(off, &v, 4);
    return v;
  }
  uint64_t read64(uint64_t off) {
    uint64_t v = 0;
    sw.read(off, &v, 8);
    return v;
  }
  // The queues (fault and page request queues of 2^log2 records), every interrupt
  // enable, then ddtp.
  void init(unsigned fq_log2 = 4, unsigned pq_log2 = 4) {
    write64(reg::kCqb, reg::queue_base(kCq, kCqLog2));
    write64(reg::kFqb, reg::queue_base(kFq, fq_log2));
    write64(reg::kPqb, reg::queue_base(kPq, pq_log2));
    write32(reg::kCqcsr, reg::kQcsrEn | reg::kQcsrIe);
    write32(reg::kFqcsr, reg::kQcsrEn | reg::kQcsrIe);
    write32(reg::kPqcsr, reg::kQcsrEn | reg::kQcsrIe);
    write64(reg::kDdtp, reg::kDdtpMode.put(static_cast<uint64_t>(mode)) | addr_to_ppn_field(kDdt));
  }

  // --- Command queue ---
  void put_command(const CmdWords& w) {
    write_words(kCq + uint64_t{kCmdBytes} * cqt, w);
    cqt = queue_next(cqt, kCqLog2);
  }
  void ring() { write32(reg::kCqt, cqt); }
  void submit(const std::vector<Command>& cmds) {
    for (const Command& c : cmds) put_command(encode_command(c));
    ring();
  }
  static IofenceC fence_write(uint32_t data = 0xC0FFEE, bool wsi = true) {
    IofenceC f;
    f.av = true;
    f.wsi = wsi;
    f.data = data;
    f.addr = kFenceAddr;
    return f;
  }
  // Waits until cqh reaches cqt (polling every 100 ns, up to `limit`).
  bool drain(sc_core::sc_time limit = ns(100000)) {
    const sc_core::sc_time end = sc_core::sc_time_stamp() + limit;
    while (sc_core::sc_time_stamp() < end) {
      if (iommu.command_queue().head() == cqt) return true;
      sc_core::wait(ns(100));
    }
    return false;
  }

  // --- Queue contents ---
  FaultRecord fault(unsigned index) {
    return FaultRecord::decode(read_words<4>(kFq + uint64_t{kFaultRecordBytes} * index));
  }
  PageRequestRecord page_request(unsigned index) {
    return PageRequestRecord::decode(read_words<2>(kPq + uint64_t{kPageRequestBytes} * index));
  }
  uint64_t counter(const std::string& path) {
    const auto* c = ctx.stats().find_as<Counter>(path);
    return c ? c->value() : ~0ull;
  }
};

}  // namespace iosim::test::rv
