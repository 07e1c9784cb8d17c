// 2 MiB and 1 GiB leaves for the IOMMU front-end tests: where they are mapped, and
// what the IOTLB and the walk caches hold for them (tests/iommu/huge_page_invalidation_test.cpp
// for SMMUv3, RISC-V and AMD-Vi, tests/iommu/iommu_test.cpp for VT-d).
#pragma once

#include <gtest/gtest.h>

#include "iommu/iommu.h"
#include "sc_models/page_table/page_table.h"

namespace iosim::test::huge {

constexpr uint64_t kVa2M = 0x40200000;  // PDPT entry 1, PD entry 1
constexpr uint64_t kPa2M = 0x600000;
constexpr uint64_t kVa1G = 0x80000000;  // PDPT entry 2
constexpr uint64_t kPa1G = 0x40000000;
constexpr uint64_t kInside = 0x5000;  // the 4 KiB page invalidated, inside either leaf
constexpr uint64_t kFlags = Pte::kWritable | Pte::kUser | Pte::kAccessed | Pte::kDirty;

// What the IOMMU caches hold.
struct Cached {
  bool leaf_2m = false, leaf_1g = false;  // an IOTLB entry of the leaf's base and size
  size_t iotlb = 0;                       // IOTLB entries
  size_t pml4e = 0, pdpte = 0, pde = 0;   // walk-cache entries per level
};

inline Cached cached(Iommu& iommu) {
  Cached c;
  iommu.iotlb().cache().for_each([&](const TranslationEntry& e) {
    c.leaf_2m |= e.base == kVa2M && e.log2_size == 21 && e.target == kPa2M;
    c.leaf_1g |= e.base == kVa1G && e.log2_size == 30 && e.target == kPa1G;
  });
  c.iotlb = iommu.iotlb().cache().size();
  c.pml4e = iommu.walker().cache(4)->size();
  c.pdpte = iommu.walker().cache(3)->size();
  c.pde = iommu.walker().cache(2)->size();
  return c;
}

inline IommuConfig with_pde_cache(IommuConfig c) {
  c.walker.pde_cache_entries = 16;  // so that a PDE would be cached if the walk kept one
  return c;
}

inline void map_leaves(PageTableEditor& editor, uint64_t root) {
  editor.map(root, kVa2M, kPa2M, PageSize::k2M, kFlags);
  editor.map(root, kVa1G, kPa1G, PageSize::k1G, kFlags);
}

// After a DMA into each leaf: one entry per leaf, PML4E + the PDPTE above the 2 MiB leaf.
inline void expect_filled(const Cached& c) {
  EXPECT_TRUE(c.leaf_2m);
  EXPECT_TRUE(c.leaf_1g);
  EXPECT_EQ(c.iotlb, 2u);
  EXPECT_EQ(c.pml4e, 1u);
  EXPECT_EQ(c.pdpte, 1u);
  EXPECT_EQ(c.pde, 0u);
}

}  // namespace iosim::test::huge
