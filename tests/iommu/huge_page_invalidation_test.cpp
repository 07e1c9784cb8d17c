// 2 MiB and 1 GiB leaves in the SMMUv3, RISC-V and AMD-Vi front-ends (VT-d:
// iommu_test.cpp): a DMA through each fills ONE IOTLB
// entry of the leaf's size; a walk that ends at a PD (PMD) or PDPT (PUD) leaf caches
// only the paging-structure entries above it (no PDE for a 2 MiB leaf, no PDPTE for a
// 1 GiB one); and each architecture's invalidation of ONE 4 KiB page inside the leaf
// removes the whole IOTLB entry, and the walk-cache entries covering that page when
// the command is not leaf-only:
//   SMMUv3   TLBI_NH_VA without range (TG = 0, Leaf = 1: walk caches kept) and with
//            range (TG = 4K, NUM = 1, SCALE = 0, TTL = 0, Leaf = 0);
//   RISC-V   IOTINVAL.VMA with AV = 1 and PSCV = 1;
//   AMD-Vi   INVALIDATE_IOMMU_PAGES with S = 0 (PDE = 0, then PDE = 1).
#include <gtest/gtest.h>

#include "amdvi_bench.h"
#include "huge_leaves.h"
#include "riscv_bench.h"
#include "smmuv3_bench.h"

namespace iosim {
namespace {

using namespace test::huge;

// SMMUv3: a single-page TLBI_NH_VA (Leaf = 1) inside the 2 MiB leaf, then a two-page
// range TLBI_NH_VA (Leaf = 0, TTL = 0; without RIL its range fields are ignored: one
// page) inside the 1 GiB leaf.
void smmu_huge_test(bool ril) {
  IommuConfig cfg = with_pde_cache(test::smmu::smmu_config());
  cfg.smmuv3.range_invalidation = ril;
  test::smmu::Smmuv3Bench b(cfg);
  const uint64_t root = b.editor.new_root();
  map_leaves(b.editor, root);
  b.translate_stream(test::smmu::kRid0, 3, root);
  Cached filled, after_2m, after_1g;
  test::run_thread([&] {
    b.init();
    uint64_t v = 0;
    b.dev0.dma(std::nullopt, kVa2M + 0x1ff008, false, &v, 8);
    b.dev0.dma(std::nullopt, kVa1G + 0x3fe00008, false, &v, 8);
    filled = cached(b.smmu);
    smmuv3::TlbiNhVa single{3, 0, {}};
    single.va.addr = kVa2M + kInside;
    single.va.leaf = true;
    b.submit({single, smmuv3::Sync{}});
    b.drain();
    after_2m = cached(b.smmu);
    smmuv3::TlbiNhVa range{3, 0, {}};
    range.va.addr = kVa1G + kInside;
    range.va.tg = smmuv3::kTlbiTg4K;
    range.va.num = 1;
    b.submit({range, smmuv3::Sync{}});
    b.drain();
    after_1g = cached(b.smmu);
  });
  expect_filled(filled);
  EXPECT_FALSE(after_2m.leaf_2m);
  EXPECT_TRUE(after_2m.leaf_1g);
  EXPECT_EQ(after_2m.pml4e, 1u);  // Leaf = 1: walk caches kept
  EXPECT_EQ(after_2m.pdpte, 1u);
  EXPECT_EQ(after_1g.iotlb, 0u);
  EXPECT_EQ(after_1g.pml4e, 0u);  // Leaf = 0: the PML4E covering the page too
  EXPECT_EQ(after_1g.pdpte, 1u);  // the PDPTE above the 2 MiB leaf does not cover it
}

TEST(HugePageInvalidation, Smmuv3TlbiNhVaWithRangeDropsTheWholeLeaf) {
  smmu_huge_test(true);
}
TEST(HugePageInvalidation, Smmuv3TlbiNhVaWithoutRangeDropsTheWholeLeaf) {
  smmu_huge_test(false);
}

TEST(HugePageInvalidation, RiscvIotinvalVmaWithAddressDropsTheWholeLeaf) {
  test::rv::RiscvBench b(with_pde_cache(IommuConfig{}));
  const uint64_t root = b.editor.new_root();
  map_leaves(b.editor, root);
  b.translate_device(test::rv::kRid0, 3, root);
  Cached filled, after_2m, after_1g;
  test::run_thread([&] {
    b.init();
    uint64_t v = 0;
    b.dev0.dma(std::nullopt, kVa2M + 0x1ff008, false, &v, 8);
    b.dev0.dma(std::nullopt, kVa1G + 0x3fe00008, false, &v, 8);
    filled = cached(b.iommu);
    riscv::IotinvalVma c;
    c.av = c.pscv = true;
    c.pscid = 3;
    c.addr = kVa2M + kInside;
    b.submit({c, riscv::IofenceC{}});
    b.drain();
    after_2m = cached(b.iommu);
    c.addr = kVa1G + kInside;
    b.submit({c, riscv::IofenceC{}});
    b.drain();
    after_1g = cached(b.iommu);
  });
  expect_filled(filled);
  EXPECT_FALSE(after_2m.leaf_2m);
  EXPECT_TRUE(after_2m.leaf_1g);
  EXPECT_EQ(after_2m.pml4e + after_2m.pdpte, 0u);
  EXPECT_EQ(after_1g.iotlb, 0u);
}

TEST(HugePageInvalidation, AmdviInvalidateIommuPagesOfOnePageDropsTheWholeLeaf) {
  IommuConfig cfg = with_pde_cache(test::amd::amd_config());
  test::amd::AmdviBench b(cfg);
  const uint64_t root = b.editor.new_root();
  map_leaves(b.editor, root);
  b.guest_device(test::smmu::kRid0, 9, 2, root);
  Cached filled, after_2m, after_1g;
  test::run_thread([&] {
    b.init();
    uint64_t v = 0;
    b.dev0.dma(2, kVa2M + 0x1ff008, false, &v, 8);
    b.dev0.dma(2, kVa1G + 0x3fe00008, false, &v, 8);
    filled = cached(b.iommu);
    amdvi::InvalidateIommuPages c;  // S = 0: one page; PDE = 0: PTEs only
    c.domain_id = 9;
    c.pasid = 2;
    c.gn = true;
    c.address = kVa2M + kInside;
    b.submit({c, test::amd::AmdviBench::store()});
    b.drain();
    after_2m = cached(b.iommu);
    c.address = kVa1G + kInside;
    c.pde = true;
    b.submit({c, test::amd::AmdviBench::store(2)});
    b.drain();
    after_1g = cached(b.iommu);
  });
  expect_filled(filled);
  EXPECT_FALSE(after_2m.leaf_2m);
  EXPECT_TRUE(after_2m.leaf_1g);
  EXPECT_EQ(after_2m.pml4e, 1u);  // PDE = 0: walk caches kept
  EXPECT_EQ(after_2m.pdpte, 1u);
  EXPECT_EQ(after_1g.iotlb, 0u);
  EXPECT_EQ(after_1g.pml4e, 0u);  // PDE = 1: the PML4E covering the page
  EXPECT_EQ(after_1g.pdpte, 1u);
}

}  // namespace
}  // namespace iosim
