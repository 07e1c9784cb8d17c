// Test bench for the RISC-V SVA driver: physical memory, a Kernel, the real RiscvIommu
// with two root ports (Requester IDs 0x0100 and 0x0200), each with a stub ATS device
// (tests/iommu/smmuv3_bench.h's StubDevice: answers Invalidate Requests after a delay,
// or never, and records what it receives), the RiscvSvaDriver on the IOMMU's registers
// and interrupt lines, and an IopfHandler. Helpers read back what the driver wrote:
// the commands between two queue positions, the IOMMU's fault records.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/tlm_bench.h"
#include "iommu/riscv/riscv_iommu.h"
#include "iommu/smmuv3_bench.h"
#include "os/iopf_handler.h"
#include "os/kernel.h"
#include "os/riscv_sva_driver.h"
#include "sc_models/check/ground_truth.h"
#include "sva_bench.h"

namespace iosim::test {

struct RiscvSvaBench {
  SimContext sim;  // first: the modules below register their statistics in it
  PhysicalMemory mem;
  GroundTruth gt;
  GroundTruthRecorder rec;
  Kernel os;
  RiscvIommu iommu;
  RootPort& port0;
  RootPort& port1;
  smmu::StubDevice dev0, dev1;
  RiscvSvaDriver drv;
  IopfHandler iopf;

  explicit RiscvSvaBench(const IommuConfig& ic = {}, const SvaConfig& sc = {},
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
  // From a thread: a new mm with one RW anonymous VMA of `pages` at `va`.
  Mm& new_mm(uint32_t id, uint64_t va, uint64_t pages, uint32_t prot = kProtRead | kProtWrite) {
    Mm& m = os.create_mm(id);
    m.cpu_enter(0);
    os.mmap(m, 0, va, pages * 4096, prot, false);
    return m;
  }
  uint64_t frame_of(Mm& m, uint64_t va) { return m.pte(va).page_address(PageSize::k4K); }

  // The commands written in [from, to) of the driver's cqt, by kind.
  std::map<std::string, unsigned> commands(uint32_t from, uint32_t to) {
    std::map<std::string, unsigned> n;
    for (uint32_t p = from; p != to; p = riscv::queue_next(p, RiscvSvaDriver::kCqLog2)) {
      ++n[riscv::kind_name(command_at(p))];
    }
    return n;
  }
  riscv::Command command_at(uint32_t pos) {
    const uint64_t a = drv.command_queue_base() + uint64_t{riscv::kCmdBytes} * pos;
    return riscv::decode_command({mem.read_u64(a), mem.read_u64(a + 8)});
  }
  // The fault records the IOMMU wrote (the driver does not consume them).
  std::vector<riscv::FaultRecord> faults() {
    std::vector<riscv::FaultRecord> out;
    const uint64_t base = riscv::ppn_to_addr(iommu.fault_queue().base_reg());
    for (uint32_t i = 0; i < iommu.fault_queue().tail(); ++i) {
      const uint64_t a = base + uint64_t{riscv::kFaultRecordBytes} * i;
      out.push_back(riscv::FaultRecord::decode(
          {mem.read_u64(a), mem.read_u64(a + 8), mem.read_u64(a + 16), mem.read_u64(a + 24)}));
    }
    return out;
  }
  uint64_t counter(const std::string& path) {
    const auto* c = sim.stats().find_as<Counter>(path);
    return c ? c->value() : 0;
  }
};

}  // namespace iosim::test
