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

#include "arch_sva_bench.h"
#include "common/tlm_bench.h"
#include "iommu/riscv/riscv_iommu.h"
#include "iommu/smmuv3_bench.h"
#include "os/iopf_handler.h"
#include "os/kernel.h"
#include "os/riscv_sva_driver.h"
#include "sc_models/check/ground_truth.h"

namespace iosim::test {

struct RiscvSvaBench : ArchSvaBench<RiscvIommu, RiscvSvaDriver> {
  explicit RiscvSvaBench(const IommuConfig& ic = {}, const SvaConfig& sc = {},
                         const IopfConfig& fc = {}, const OsConfig& oc = sva_os())
      : ArchSvaBench(ic, sc, fc, oc) {}

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
};

}  // namespace iosim::test
