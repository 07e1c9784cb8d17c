// The test bench every architecture's SVA driver tests share: physical memory, a
// Kernel, the real IOMMU front-end `IommuT` with two root ports (Requester IDs
// smmu::kRid0 and kRid1), each with a stub ATS device (tests/iommu/smmuv3_bench.h's
// StubDevice: answers Invalidate Requests after a delay, or never, and records what it
// receives), the driver `DriverT` on the IOMMU's registers and interrupt lines, and an
// IopfHandler. Each architecture's bench derives from it and adds readers of what its
// driver wrote (commands, fault or event records).
#pragma once

#include <cstdint>
#include <string>

#include "common/tlm_bench.h"
#include "iommu/smmuv3_bench.h"
#include "os/iopf_handler.h"
#include "os/kernel.h"
#include "sc_models/check/ground_truth.h"
#include "sva_bench.h"

namespace iosim::test {

template <class IommuT, class DriverT>
struct ArchSvaBench {
  SimContext sim;  // first: the modules below register their statistics in it
  PhysicalMemory mem;
  GroundTruth gt;
  GroundTruthRecorder rec;
  Kernel os;
  IommuT iommu;
  RootPort& port0;
  RootPort& port1;
  smmu::StubDevice dev0, dev1;
  DriverT drv;
  IopfHandler iopf;

  ArchSvaBench(const IommuConfig& ic, const SvaConfig& sc, const IopfConfig& fc, const OsConfig& oc)
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
  uint64_t counter(const std::string& path) {
    const auto* c = sim.stats().find_as<Counter>(path);
    return c ? c->value() : 0;
  }
};

}  // namespace iosim::test
