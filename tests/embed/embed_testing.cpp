// A module test written with the installed fixtures (iommu_sim::testing), the way
// the project's own tests are: the IOMMU bench maps one page for PASID 1 and a stub
// device reads it twice, an IOTLB miss then a hit.
#include "iommu/iommu_bench.h"

#include <iostream>

int sc_main(int, char*[]) {
  iosim::test::IommuBench b;
  const uint64_t root = b.bind(1);
  b.editor.map(root, 0x40000000, 0x200000, iosim::PageSize::k4K, b.kUserRw);
  b.memory.write_u64(0x200008, 42);
  sc_core::sc_time miss, hit;
  uint64_t value = 0;
  iosim::test::run_thread([&] {
    b.dma(1, 0x40000000, false, &value, 8, &miss);
    b.dma(1, 0x40000008, false, &value, 8, &hit);
  });
  std::cout << "value " << value << " miss " << iosim::to_ns(miss) << " ns hit "
            << iosim::to_ns(hit) << " ns\n";
  return 0;
}
