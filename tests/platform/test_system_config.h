// A small SystemConfig-like configuration for the platform tests: nested
// sections and a vector of per-instance configs, as the real system config will have.
#pragma once

#include "sc_models/config/params.h"

#include <cstdint>
#include <string>
#include <vector>

namespace iosim::testcfg {

struct IotlbCfg {
  uint32_t sets = 64;
  uint32_t ways = 8;
  template <class V>
  void visit(V& v) {
    v("sets", sets, "sets", "IOTLB sets");
    v("ways", ways, "ways", "IOTLB ways");
  }
};

enum class Flush { kRange, kFull };
inline constexpr ChoiceValue<Flush> kFlushValues[] = {{"range", Flush::kRange, "the range"},
                                                      {"full", Flush::kFull, "everything"}};
inline constexpr Choices<Flush> kFlush{kFlushValues};

struct IommuCfg {
  uint64_t walk_latency_ns = 100;
  Flush flush_policy = Flush::kRange;
  IotlbCfg iotlb;
  template <class V>
  void visit(V& v) {
    v("walk_latency_ns", walk_latency_ns, "ns", "page walk latency");
    v.choice("flush_policy", flush_policy, kFlush, "invalidation policy");
    v.section("iotlb", iotlb);
  }
};

struct AtcCfg {
  uint32_t sets = 16;
  uint32_t ways = 4;
  template <class V>
  void visit(V& v) {
    v("sets", sets, "sets", "ATC sets");
    v("ways", ways, "ways", "ATC ways");
  }
};

struct DeviceCfg {
  uint32_t threads = 1;
  AtcCfg atc;
  template <class V>
  void visit(V& v) {
    v("threads", threads, "threads", "DMA threads");
    v.section("atc", atc);
  }
};

struct SystemCfg {
  uint64_t seed = 1;
  bool timeline = false;
  IommuCfg iommu;
  std::vector<DeviceCfg> device = std::vector<DeviceCfg>(3);
  template <class V>
  void visit(V& v) {
    v("seed", seed, "", "random seed");
    v("timeline", timeline, "", "print the timeline");
    v.section("iommu", iommu);
    v.instances("device", device, "PCIe endpoints");
  }
};

}  // namespace iosim::testcfg
