// Test bench for the IOMMU: physical memory, the IOMMU with one root port, a stub
// device upstream (direct, no link), a stub target recording downstream messages,
// a stub software initiator on the registers, and helpers that build the root,
// context and PASID tables and per-PASID page tables in memory.
#pragma once

#include <memory>
#include <string>

#include "common/tlm_bench.h"
#include "iommu/vtd/vtd_iommu.h"
#include "sc_models/page_table/page_table.h"
#include "sc_models/pcie/pcie_ext.h"
#include "sc_models/memory/physical_memory.h"
#include "sc_models/sim/sim_context.h"

namespace iosim::test {

constexpr uint16_t kRid = 0x0100;

inline PhysicalMemoryConfig small_memory() {
  PhysicalMemoryConfig c;
  c.size_bytes = uint64_t{1} << 32;
  return c;
}

// Memory, the IOMMU with one root port "rp0" (its sockets left for the caller to
// bind), a software stub on the registers, and the root/context/PASID tables. The
// bench owns the simulation context its modules register their statistics in.
struct IommuSystem {
  SimContext ctx;  // first, so it outlives the modules
  PhysicalMemory memory;
  VtdIommu iommu;
  RootPort& port;
  StubInitiator sw;
  uint64_t next_frame = 0x100000;
  PageTableEditor editor;
  uint64_t root_table = 0, context_table = 0, pasid_table = 0;

  explicit IommuSystem(const IommuConfig& cfg = {}, const RootPortConfig& pc = {})
      : memory("memory", small_memory()),
        iommu("iommu", ctx, cfg),
        port(iommu.add_root_port("rp0", pc)),
        sw("sw"),
        editor(memory, [this] { return alloc(); }) {
    iommu.mem.bind(memory.socket);
    sw.socket.bind(iommu.regs);
    root_table = alloc();
    context_table = alloc();
    pasid_table = alloc();
    memory.write_u64(root_table + 16 * (kRid >> 8), RootEntry{true, context_table}.encode().qw0);
    ContextEntry ce{true, true, true, true, pasid_table, 8, 0};
    write_entry(context_table + 16 * (kRid & 0xff), ce.encode());
    iommu.tables().set_root_table(root_table);
  }

  uint64_t alloc() {
    const uint64_t f = next_frame;
    next_frame += 4096;
    memory.zero_frame(f);
    return f;
  }
  void write_entry(uint64_t addr, const Desc128& d) { write_desc(memory, addr, d); }
  // A new mm bound to `pasid` (PASID entry with a fresh PML4); returns the PML4.
  uint64_t bind(uint32_t pasid, uint16_t did = 1, bool sre = false) {
    const uint64_t root = editor.new_root();
    write_entry(pasid_table + 16 * pasid, PasidEntry{true, sre, root, did}.encode());
    return root;
  }
  static constexpr uint64_t kUserRw = Pte::kWritable | Pte::kUser | Pte::kAccessed | Pte::kDirty;

  // Register access from the software stub (inside a thread).
  void write_reg(uint64_t off, uint64_t v) { sw.write(off, &v, 8); }
  uint64_t read_reg(uint64_t off) {
    uint64_t v = 0;
    sw.read(off, &v, 8);
    return v;
  }
  // Command queue at `base` (QS = 0: 256 descriptors); returns nothing.
  uint64_t cq_base = 0, cq_tail = 0;
  void setup_command_queue() {
    cq_base = alloc();
    write_reg(vtd_reg::kIqa, cq_base);
    cq_tail = 0;
  }
  void submit(const Desc128& d) {
    write_entry(cq_base + cq_tail, d);
    cq_tail = (cq_tail + 16) % 4096;
    write_reg(vtd_reg::kIqt, cq_tail);
  }
};

// IommuSystem with a stub device upstream (direct, no link) and a stub target
// recording downstream messages.
struct IommuBench : IommuSystem {
  StubInitiator dev;
  StubTarget down;

  explicit IommuBench(const IommuConfig& cfg = {}, const RootPortConfig& pc = {})
      : IommuSystem(cfg, pc), dev("dev"), down("down") {
    dev.socket.bind(port.upstream);
    port.downstream.bind(down.socket);
  }

  // Untranslated DMA from the device; waits for the annotated delay. Returns the
  // status; `elapsed` gets the simulated time it took.
  tlm::tlm_response_status dma(uint32_t pasid, uint64_t va, bool write, void* data, unsigned len,
                               sc_core::sc_time* elapsed = nullptr) {
    PcieExtension ext =
        PcieExtension::memory(kRid, AddressType::kUntranslated, PasidPrefix::with(pasid));
    const sc_core::sc_time t0 = sc_core::sc_time_stamp();
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    auto st = dev.transport(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND, va, data, len,
                            d, &ext);
    sc_core::wait(d);
    if (elapsed) *elapsed = sc_core::sc_time_stamp() - t0;
    return st;
  }
  // ATS Translation Request; returns the extension with the completion.
  PcieExtension ats(uint32_t pasid, uint64_t va, bool no_write = false) {
    PcieExtension ext =
        PcieExtension::translation_request(kRid, PasidPrefix::with(pasid), no_write);
    uint64_t buf = 0;
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    dev.transport(tlm::TLM_READ_COMMAND, va, &buf, 8, d, &ext);
    sc_core::wait(d);
    return ext;
  }
  // Posted message upstream.
  void message(PcieExtension::Body body) {
    PcieExtension ext = PcieExtension::message(kRid, std::move(body));
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    dev.transport(tlm::TLM_WRITE_COMMAND, 0, nullptr, 0, d, &ext);
  }
};

}  // namespace iosim::test
