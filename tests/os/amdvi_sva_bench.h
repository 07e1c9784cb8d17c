// Test bench for the AMD-Vi SVA driver: physical memory, a Kernel, the real AmdviIommu
// with two root ports (Requester IDs 0x0100 and 0x0200), each with a stub ATS device
// (tests/iommu/smmuv3_bench.h's StubDevice), the AmdviSvaDriver (policy amd or
// amd_legacy) on the IOMMU's registers and interrupt lines, and an IopfHandler. Helpers
// read back the commands the driver wrote between two tail positions.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "arch_sva_bench.h"
#include "common/tlm_bench.h"
#include "iommu/amdvi/amdvi_iommu.h"
#include "iommu/smmuv3_bench.h"
#include "os/amdvi_sva_driver.h"
#include "os/iopf_handler.h"
#include "os/kernel.h"
#include "sc_models/check/ground_truth.h"

namespace iosim::test {

inline SvaConfig amd_sva(AmdviSvaPolicy p) {
  SvaConfig c;
  c.policy = p == AmdviSvaPolicy::kAmd ? SvaPolicyName::kAuto : SvaPolicyName::kAmdLegacy;
  return c;
}

struct AmdviSvaBench : ArchSvaBench<AmdviIommu, AmdviSvaDriver> {
  explicit AmdviSvaBench(const SvaConfig& sc = {}, const IommuConfig& ic = {},
                         const IopfConfig& fc = {}, const OsConfig& oc = sva_os())
      : ArchSvaBench(ic, sc, fc, oc) {}

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
};

}  // namespace iosim::test
