// Test bench for the AMD-Vi SVA driver: physical memory, a Kernel, the real AmdviIommu
// with two root ports (Requester IDs 0x0100 and 0x0200), each with a stub ATS device
// (tests/iommu/smmuv3_bench.h's StubDevice), the AmdviSvaDriver (policy amd or
// amd_legacy) on the IOMMU's registers and interrupt lines, and an IopfHandler. Helpers
// read back the commands the driver wrote between two tail positions.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "common/tlm_bench.h"
#include "iommu/amdvi/amdvi_iommu.h"
#include "iommu/smmuv3_bench.h"
#include "os/amdvi_sva_driver.h"
#include "os/iopf_handler.h"
#include "os/kernel.h"
#include "sc_models/check/ground_truth.h"
#include "sva_bench.h"

namespace iosim::test {

inline SvaConfig amd_sva(AmdviSvaPolicy p) {
  SvaConfig c;
  c.policy = p == AmdviSvaPolicy::kAmd ? SvaPolicyName::kAuto : SvaPolicyName::kAmdLegacy;
  return c;
}

struct AmdviSvaBench {
  SimContext sim;  // first: the modules below register their statistics in it
  PhysicalMemory mem;
  GroundTruth gt;
  GroundTruthRecorder rec;
  Kernel os;
  AmdviIommu iommu;
  RootPort& port0;
  RootPort& port1;
  smmu::StubDevice dev0, dev1;
  AmdviSvaDriver drv;
  IopfHandler iopf;

  explicit AmdviSvaBench(const SvaConfig& sc = {}, const IommuConfig& ic = {},
                         const IopfConfig& fc = {}, const OsConfig& oc = sva_os())
      : mem("mem", sva_memory()),
        os(sim, oc, mem, &gt),
        iommu("iommu", sim, ic),
        port0(iommu.add_root_port("rp0", port(smmu::kRid0))),
        port1(iommu.add_root_port("rp1", port(smmu::kRid1))),
        dev0("dev0", smmu::kRid0),
        dev1("dev1", smmu::kRid1),
        drv("sva", sc, os),
        iopf("iopf", fc, drv, os) {
    gt.subscribe(&rec);
    iommu.mem.bind(mem.socket);
    drv.regs.bind(iommu.regs);
    drv.irq.bind(iommu.irq);
    iopf.irq.bind(iommu.irq);
    dev0.up.bind(port0.upstream);
    port0.downstream.bind(dev0.down);
    dev1.up.bind(port1.upstream);
    port1.downstream.bind(dev1.down);
    drv.set_ground_truth(&gt);
    drv.set_iopf_handler(&iopf);
  }
  static RootPortConfig port(uint16_t rid) {
    RootPortConfig p;
    p.requester_id = rid;
    return p;
  }
  Mm& new_mm(uint32_t id, uint64_t va, uint64_t pages, uint32_t prot = kProtRead | kProtWrite) {
    Mm& m = os.create_mm(id);
    m.cpu_enter(0);
    os.mmap(m, 0, va, pages * 4096, prot, false);
    return m;
  }
  uint64_t frame_of(Mm& m, uint64_t va) { return m.pte(va).page_address(PageSize::k4K); }

  // The commands written in [from, to) (byte offsets of the driver's tail), by opcode.
  std::map<amdvi::Opcode, unsigned> commands(uint64_t from, uint64_t to) {
    std::map<amdvi::Opcode, unsigned> n;
    const uint64_t bytes = amdvi::ring_bytes(AmdviSvaDriver::kCmdBufLen);
    for (uint64_t p = from; p != to; p = amdvi::ring_next(p, bytes)) {
      const uint64_t w0 = mem.read_u64(drv.command_buffer_base() + p);
      ++n[static_cast<amdvi::Opcode>(w0 >> 60)];
    }
    return n;
  }
  amdvi::Command command_at(uint64_t pos) {
    const uint64_t a = drv.command_buffer_base() + pos;
    return amdvi::decode_command({mem.read_u64(a), mem.read_u64(a + 8)});
  }
  uint64_t counter(const std::string& path) {
    const auto* c = sim.stats().find_as<Counter>(path);
    return c ? c->value() : 0;
  }
};

}  // namespace iosim::test
