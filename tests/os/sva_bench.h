// Test benches for the SVA driver and the I/O page-fault handler: physical memory, a
// Kernel, the VtdSvaDriver on the registers and interrupt lines of an IOMMU, and an
// IopfHandler. StubSvaBench puts the stub register target (stub_iommu_regs.h) there;
// SvaSystem the real IOMMU with one root port, and SvaBench adds a stub device
// upstream and a stub target downstream that records the PRG Responses and
// Invalidate Requests the IOMMU sends (the integration tests).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/tlm_bench.h"
#include "iommu/vtd/vtd_iommu.h"
#include "os/iopf_handler.h"
#include "os/kernel.h"
#include "os/vtd_sva_driver.h"
#include "sc_models/check/ground_truth.h"
#include "sc_models/config/params.h"
#include "sc_models/memory/physical_memory.h"
#include "sc_models/pcie/pcie_ext.h"
#include "stub_iommu_regs.h"

namespace iosim::test {

constexpr uint16_t kRid = 0x0100;

inline PhysicalMemoryConfig sva_memory() {
  PhysicalMemoryConfig c;
  c.size_bytes = uint64_t{1} << 30;
  // 16 bytes per ns: 16-byte descriptor bursts take exactly 1 ns.
  c.channel_bandwidth_gb_per_s = 16.0;
  return c;
}

inline OsConfig sva_os(const std::string& policy = "under_ptl") {
  OsConfig c;
  if (!assign_param(c, "secondary_tlb_flush", policy)) throw std::logic_error(policy);
  c.allocator.base_pa = uint64_t{16} << 20;
  c.allocator.frames = 4096;
  return c;
}

inline RootPortConfig sva_port(bool ats = true) {
  RootPortConfig p;
  p.requester_id = kRid;
  p.ats_enabled = ats;
  return p;
}

// The driver and the handler on the stub register target.
struct StubSvaBench {
  SimContext sim;  // first: the modules below register their statistics in it
  PhysicalMemory mem;
  StubInitiator mem_user;  // binds the memory's socket: driver and stub use its backdoor
  GroundTruth gt;
  GroundTruthRecorder rec;
  Kernel os;
  StubIommuRegs iommu;
  VtdSvaDriver drv;
  IopfHandler iopf;

  explicit StubSvaBench(const OsConfig& oc = sva_os(), const SvaConfig& sc = {},
                        const IopfConfig& fc = {})
      : mem("mem", sva_memory()),
        mem_user("mem_user"),
        os(sim, oc, mem, &gt),
        iommu("iommu", mem),
        drv("sva", sc, os),
        iopf("iopf", fc, drv, os) {
    gt.subscribe(&rec);
    mem_user.socket.bind(mem.socket);
    drv.regs.bind(iommu.regs);
    drv.irq.bind(iommu.irq);
    iopf.irq.bind(iommu.irq);
    drv.set_ground_truth(&gt);
  }
  Mm& new_mm(uint32_t id, uint64_t va, uint64_t pages, uint32_t prot = kProtRead | kProtWrite) {
    Mm& mm = os.create_mm(id);
    mm.cpu_enter(0);
    os.mmap(mm, 0, va, pages * 4096, prot, false);
    return mm;
  }
  uint64_t frame_of(Mm& mm, uint64_t va) { return mm.pte(va).page_address(PageSize::k4K); }
  // A page request from `kRid` written to the queue (the device and the IOMMU's
  // formatting are not modelled).
  void page_request(uint32_t pasid, uint64_t va, bool write, bool last, uint16_t prg) {
    PageRequestDesc d;
    d.pasid_present = true;
    d.rid = kRid;
    d.pasid = pasid;
    d.read = !write;
    d.write = write;
    d.lpig = last;
    d.prg_index = prg;
    d.addr = va;
    iommu.inject(d);
  }
  void stop_marker(uint32_t pasid, uint16_t prg) {
    PageRequestDesc d;
    d.pasid_present = true;
    d.rid = kRid;
    d.pasid = pasid;
    d.lpig = true;
    d.prg_index = prg;
    iommu.inject(d);
  }
};

// Everything but the device.
struct SvaSystem {
  SimContext sim;  // first: the modules below register their statistics in it
  PhysicalMemory mem;
  GroundTruth gt;
  GroundTruthRecorder rec;
  Kernel os;
  VtdIommu iommu;
  RootPort& port;
  VtdSvaDriver drv;
  IopfHandler iopf;

  SvaSystem(const OsConfig& oc, const SvaConfig& sc, const IommuConfig& ic,
            const RootPortConfig& pc, const IopfConfig& fc = {})
      : mem("mem", sva_memory()),
        os(sim, oc, mem, &gt),
        iommu("iommu", sim, ic),
        port(iommu.add_root_port("rp0", pc)),
        drv("sva", sc, os),
        iopf("iopf", fc, drv, os) {
    gt.subscribe(&rec);
    iommu.mem.bind(mem.socket);
    drv.regs.bind(iommu.regs);
    drv.irq.bind(iommu.irq);
    iopf.irq.bind(iommu.irq);
    drv.set_ground_truth(&gt);
  }
  // From a thread: a new mm with one RW anonymous VMA of `pages` at `va`.
  Mm& new_mm(uint32_t id, uint64_t va, uint64_t pages, uint32_t prot = kProtRead | kProtWrite) {
    Mm& mm = os.create_mm(id);
    mm.cpu_enter(0);
    os.mmap(mm, 0, va, pages * 4096, prot, false);
    return mm;
  }
  uint64_t frame_of(Mm& mm, uint64_t va) { return mm.pte(va).page_address(PageSize::k4K); }
};

// SvaSystem with a stub device upstream and a recording stub target downstream.
struct SvaBench : SvaSystem {
  StubInitiator dev;
  StubTarget down;
  std::vector<PrgResponse> responses;
  std::vector<InvalidateRequest> inv_requests;

  SvaBench(const OsConfig& oc = sva_os(), const SvaConfig& sc = {}, const IommuConfig& ic = {},
           const RootPortConfig& pc = sva_port(), const IopfConfig& fc = {})
      : SvaSystem(oc, sc, ic, pc, fc), dev("dev"), down("down") {
    dev.socket.bind(port.upstream);
    port.downstream.bind(down.socket);
    down.hook = [this](tlm::tlm_generic_payload& gp, sc_core::sc_time&) {
      const PcieExtension* ext = PcieExtension::of(gp);
      if (!ext) return;
      if (auto* r = std::get_if<PrgResponse>(&ext->body)) responses.push_back(*r);
      if (auto* r = std::get_if<InvalidateRequest>(&ext->body)) inv_requests.push_back(*r);
    };
  }
  // Untranslated DMA from the stub device (inside a thread).
  tlm::tlm_response_status dma(uint32_t pasid, uint64_t va, bool write, void* data, unsigned len) {
    PcieExtension ext =
        PcieExtension::memory(kRid, AddressType::kUntranslated, PasidPrefix::with(pasid));
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    auto st = dev.transport(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND, va, data, len,
                            d, &ext);
    sc_core::wait(d);
    return st;
  }
  // Posted message upstream (page request, stop marker).
  void message(PcieExtension::Body body) {
    PcieExtension ext = PcieExtension::message(kRid, std::move(body));
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    dev.transport(tlm::TLM_WRITE_COMMAND, 0, nullptr, 0, d, &ext);
  }
  void page_request(uint32_t pasid, uint64_t va, bool write, bool last, uint16_t prg) {
    PageRequest r;
    r.page_address = va;
    r.read = !write;
    r.write = write;
    r.last = last;
    r.prg_index = prg;
    r.pasid = PasidPrefix::with(pasid);
    message(r);
  }
};

}  // namespace iosim::test
