// The IOMMU bench (iommu_bench.h) with one real Device behind a PcieLink, for tests of
// the device and the IOMMU together.
#pragma once

#include "device/device.h"
#include "iommu_bench.h"
#include "sc_models/pcie/pcie_link.h"

#include <utility>
#include <vector>

namespace iosim::test {

struct DeviceIommuSystem : IommuSystem {
  PcieLink link;
  Device dev;

  explicit DeviceIommuSystem(const DeviceConfig& dc, const RootPortConfig& pc = {},
                             const IommuConfig& ic = {})
      : IommuSystem(ic, pc), link("link", PcieLinkConfig{}), dev("dev", ctx, dc) {
    dev.upstream.bind(link.up_in);
    link.up_out.bind(port.upstream);
    port.downstream.bind(link.down_in);
    link.down_out.bind(dev.downstream);
  }
};

// A device (requester ID kRid) with one scripted DMA thread of `pasid`.
inline DeviceConfig one_script_thread(std::vector<ScriptOp> ops, uint32_t pasid) {
  DeviceConfig dc;
  dc.requester_id = kRid;
  DmaThreadConfig t;
  t.pattern = AccessPattern::kScript;
  t.pasid = pasid;
  t.script = std::move(ops);
  dc.threads = {t};
  return dc;
}

}  // namespace iosim::test
