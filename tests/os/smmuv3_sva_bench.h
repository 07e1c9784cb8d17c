// Test bench for the SMMUv3 SVA driver: physical memory, a Kernel, the real Smmuv3 with
// two root ports (Requester IDs 0x0100 and 0x0200, two PCI buses), each with a stub ATS
// device (tests/iommu/smmuv3_bench.h's StubDevice: answers Invalidate Requests after a
// delay, or never, and records what it receives), the Smmuv3SvaDriver on the SMMU's
// registers and interrupt lines, and an IopfHandler. Helpers read back what the driver
// wrote: the commands between two queue positions, the SMMU's event records.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "arch_sva_bench.h"
#include "common/tlm_bench.h"
#include "iommu/smmuv3/smmuv3.h"
#include "iommu/smmuv3_bench.h"
#include "os/iopf_handler.h"
#include "os/kernel.h"
#include "os/smmuv3_sva_driver.h"
#include "sc_models/check/ground_truth.h"

namespace iosim::test {

inline IommuConfig smmu_sva_config(bool range_invalidation = true) {
  IommuConfig c;
  c.arch = IommuArch::kSmmuv3;
  c.smmuv3.range_invalidation = range_invalidation;
  return c;
}

struct Smmuv3SvaBench : ArchSvaBench<Smmuv3, Smmuv3SvaDriver> {
  explicit Smmuv3SvaBench(const IommuConfig& ic = smmu_sva_config(), const SvaConfig& sc = {},
                          const IopfConfig& fc = {}, const OsConfig& oc = sva_os())
      : ArchSvaBench(ic, sc, fc, oc) {}

  // The commands written in [from, to) of the driver's PROD, by opcode. A CMD_SYNC the
  // SMMU completed has its first word cleared by the MSI write: opcode 0 is counted as
  // a CMD_SYNC.
  std::map<smmuv3::Opcode, unsigned> commands(uint32_t from, uint32_t to) {
    std::map<smmuv3::Opcode, unsigned> n;
    const unsigned log2 = drv.command_queue_log2();
    for (uint32_t p = from; smmuv3::queue_position(p, log2) != smmuv3::queue_position(to, log2);
         p = smmuv3::queue_next(p, log2)) {
      const uint64_t w0 = mem.read_u64(drv.command_queue_base() +
                                       smmuv3::queue_entry_offset(p, log2, smmuv3::kCmdBytes));
      const auto op = static_cast<smmuv3::Opcode>(w0 & 0xff);
      ++n[op == smmuv3::Opcode{0} ? smmuv3::Opcode::kSync : op];
    }
    return n;
  }
  // The command at `pos` (a CMD_SYNC not yet completed, or any other command).
  smmuv3::Command command_at(uint32_t pos) {
    const uint64_t a = drv.command_queue_base() +
                       smmuv3::queue_entry_offset(pos, drv.command_queue_log2(), smmuv3::kCmdBytes);
    return smmuv3::decode_command({mem.read_u64(a), mem.read_u64(a + 8)});
  }
  // The event records the SMMU wrote (the driver does not consume them).
  std::vector<smmuv3::EventRecord> events() {
    std::vector<smmuv3::EventRecord> out;
    const uint32_t prod = iommu.event_queue().prod();
    const unsigned log2 = Smmuv3SvaDriver::kEventqLog2;
    for (uint32_t i = 0; i < smmuv3::queue_index(prod, log2); ++i) {
      const uint64_t a = drv.event_queue_base() + uint64_t{smmuv3::kEventBytes} * i;
      out.push_back(smmuv3::EventRecord::decode(
          {mem.read_u64(a), mem.read_u64(a + 8), mem.read_u64(a + 16), mem.read_u64(a + 24)}));
    }
    return out;
  }
};

}  // namespace iosim::test
