// Every SVA driver invalidating the range of a 2 MiB (PMD) and a 1 GiB (PUD) leaf, as
// the notifier calls it when such a leaf is unmapped: the commands the IOMMU executed
// (its per-kind counters), the ATS Invalidate Request the device received (its S-bit
// span), the invalidation latency (notifier call to completion, the driver's
// invalidation_latency histogram), and that the IOMMU's one IOTLB entry for the leaf,
// written into the mm's page table by hand, is gone afterwards. Each latency is the
// same for both sizes (one command set whatever the block); most of it is the stub
// device's 1 us Invalidate Completion delay (tests/iommu/smmuv3_bench.h StubDevice).
//
// Encodings (the drivers' files name the kernel functions):
//   intel       one PASID-IOTLB PSI with AM = 9 / 18, IH = 0 (cache_tag_flush_range,
//               calculate_psi_aligned_address; SVA passes ih = 0), one PASID device-TLB
//               invalidation of the same block in S-bit form, one inv_wait.
//   arm (RIL)   one TLBI_NH_VA (TG = 4K, NUM = 0, SCALE = 9 / 18, Leaf = 0, TTL = 0:
//               arm_smmu_tlb_inv_range_asid(start, size, asid, PAGE_SIZE, false), so
//               __arm_smmu_tlb_inv_range leaves TTL at 0), CMD_SYNC, one ATC_INV of the
//               block (arm_smmu_atc_inv_to_cmd), CMD_SYNC.
//   arm (!RIL)  size >= CMDQ_MAX_TLBI_OPS (512) pages: TLBI_NH_ASID and a whole-space
//               ATC_INV (arm_smmu_mm_arch_invalidate_secondary_tlbs), two CMD_SYNCs.
//   riscv       len >= RISCV_IOMMU_IOTLB_INVAL_LIMIT (2 MiB): one IOTINVAL.VMA of the
//               PSCID and IOFENCE.C, then a whole-space ATS.INVAL and IOFENCE.C.
//   amd         one INVALIDATE_IOMMU_PAGES and one INVALIDATE_IOTLB_PAGES with the S-bit
//               block (build_inv_address), COMPLETION_WAIT.
//   amd_legacy  more than a page: the whole PASID (S = 1, all pages), a wait after the
//               IOMMU flush and one after the device flush (__flush_pasid).
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "amdvi_sva_bench.h"
#include "iommu/smmuv3/formats.h"
#include "iommu/vtd/vtd_iommu.h"
#include "os/sva_policy.h"
#include "os/vtd_sva_driver.h"
#include "riscv_sva_bench.h"
#include "smmuv3_sva_bench.h"

namespace iosim {
namespace {

using test::run_thread;
using test::smmu::kRid0;

constexpr uint64_t kVa = uint64_t{1} << 32;            // the 2 MiB leaf
constexpr uint64_t kVa1G = kVa + (uint64_t{1} << 30);  // the 1 GiB leaf
constexpr uint64_t k2M = uint64_t{1} << 21;
constexpr uint64_t k1G = uint64_t{1} << 30;
constexpr uint64_t kLeafFlags = Pte::kWritable | Pte::kUser | Pte::kAccessed | Pte::kDirty;

using VtdArchBench = test::ArchSvaBench<VtdIommu, VtdSvaDriver>;

struct HugeRun {
  std::map<std::string, uint64_t> cmds;  // commands executed, by kind
  std::vector<AtsRange> atc;             // Invalidate Requests the ATS device received
  double latency_ns = 0;                 // invalidation_latency of this call
  bool full_flush = false;
  bool iotlb_entry_before = false;  // the leaf's IOTLB entry (one, of the leaf's size)
  bool iotlb_entry_after = false;
};

// The kinds each architecture's driver may write for a range.
const std::vector<std::string>& kinds(IommuArch arch) {
  static const std::map<IommuArch, std::vector<std::string>> k = {
      {IommuArch::kVtd, {"pasid_iotlb", "pasid_dev_tlb", "inv_wait"}},
      {IommuArch::kSmmuv3, {"cmd_tlbi_nh_va", "cmd_tlbi_nh_asid", "cmd_atc_inv", "cmd_sync"}},
      {IommuArch::kRiscv, {"iotinval_vma", "ats_inval", "iofence_c"}},
      {IommuArch::kAmdvi, {"invalidate_iommu_pages", "invalidate_iotlb_pages", "completion_wait"}}};
  return k.at(arch);
}

// Writes a 2 MiB leaf for kVa and a 1 GiB leaf for kVa1G into mm's tables (after a
// fault built PML4 -> PDPT -> PD -> PT for kVa): the PD entry and a second PDPT entry.
void write_huge_leaves(PhysicalMemory& mem, Mm& mm) {
  const WalkResult w = walk(mem, mm.root(), kVa);
  ASSERT_EQ(w.status, WalkStatus::kOk);
  mem.write_u64(w.entry_addrs[2], Pte::leaf(0x2000'0000, PageSize::k2M, kLeafFlags).raw());
  const uint64_t pdpt = Pte(mem.read_u64(w.entry_addrs[0])).table_address();
  mem.write_u64(entry_address(pdpt, kVa1G, 3), Pte::leaf(0, PageSize::k1G, kLeafFlags).raw());
}

template <class Bench>
std::vector<HugeRun> run_huge(Bench& b, IommuArch arch) {
  std::vector<HugeRun> out;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid0, true, true);
    Mm& mm = b.new_mm(1, kVa, 1);
    const uint32_t pasid = b.drv.bind(mm, kRid0, 0);
    b.os.handle_fault(mm, 0, kVa, true);
    write_huge_leaves(b.mem, mm);
    const Histogram* lat = b.sim.stats().template find_as<Histogram>("sva.invalidation_latency");
    ASSERT_NE(lat, nullptr);
    for (const auto& leaf : {std::pair{kVa, k2M}, std::pair{kVa1G, k1G}}) {
      const uint64_t va = leaf.first, size = leaf.second;
      HugeRun r;
      uint64_t v = 0;
      EXPECT_EQ(b.dev0.dma(pasid, va + 0x5008, false, &v, 8), tlm::TLM_OK_RESPONSE);
      auto leaf_entry = [&] {
        bool found = false;
        b.iommu.iotlb().cache().for_each([&](const TranslationEntry& x) {
          found |= x.base == va && x.log2_size == __builtin_ctzll(size);
        });
        return found;
      };
      r.iotlb_entry_before = leaf_entry();
      std::map<std::string, uint64_t> before;
      for (const auto& k : kinds(arch))
        before[k] = b.counter("iommu.command_queue." + k + "_count");
      const size_t inv0 = b.dev0.invalidations.size();
      const uint64_t full0 = b.counter("sva.full_flushes");
      const double sum0 = lat->sum();
      b.drv.invalidate(mm, va, va + size);
      r.latency_ns = lat->sum() - sum0;
      for (const auto& k : kinds(arch)) {
        const uint64_t n = b.counter("iommu.command_queue." + k + "_count") - before[k];
        if (n) r.cmds[k] = n;
      }
      for (size_t i = inv0; i < b.dev0.invalidations.size(); ++i) {
        r.atc.push_back(b.dev0.invalidations[i].req.range);
      }
      r.full_flush = b.counter("sva.full_flushes") > full0;
      r.iotlb_entry_after = leaf_entry();
      out.push_back(r);
    }
  });
  return out;
}

using Cmds = std::map<std::string, uint64_t>;

void expect_leaf_dropped(const std::vector<HugeRun>& r) {
  ASSERT_EQ(r.size(), 2u);
  for (const HugeRun& x : r) {
    EXPECT_TRUE(x.iotlb_entry_before);
    EXPECT_FALSE(x.iotlb_entry_after);
  }
}

TEST(HugeRangeInvalidation, VtdPsiWithAddressMaskAndOneDeviceTlbBlock) {
  VtdArchBench b(IommuConfig{}, SvaConfig{}, IopfConfig{}, test::sva_os());
  const auto r = run_huge(b, IommuArch::kVtd);
  expect_leaf_dropped(r);
  for (size_t i = 0; i < r.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(r[i].cmds, (Cmds{{"pasid_iotlb", 1}, {"pasid_dev_tlb", 1}, {"inv_wait", 1}}));
    EXPECT_FALSE(r[i].full_flush);
  }
  EXPECT_EQ(r[0].atc, (std::vector<AtsRange>{AtsRange::with_log2(kVa, 21)}));
  EXPECT_EQ(r[1].atc, (std::vector<AtsRange>{AtsRange::with_log2(kVa1G, 30)}));
  EXPECT_DOUBLE_EQ(r[0].latency_ns, 1516);  // the same for 1 GiB: one command set
  EXPECT_DOUBLE_EQ(r[1].latency_ns, 1516);
}

TEST(HugeRangeInvalidation, Smmuv3RangeTlbiWithTtlZeroAndOneAtcSpan) {
  test::Smmuv3SvaBench b(test::smmu_sva_config(true));
  const auto r = run_huge(b, IommuArch::kSmmuv3);
  expect_leaf_dropped(r);
  for (size_t i = 0; i < r.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(r[i].cmds, (Cmds{{"cmd_tlbi_nh_va", 1}, {"cmd_atc_inv", 1}, {"cmd_sync", 2}}));
    EXPECT_FALSE(r[i].full_flush);
  }
  EXPECT_EQ(r[0].atc, (std::vector<AtsRange>{AtsRange::with_log2(kVa, 21)}));
  EXPECT_EQ(r[1].atc, (std::vector<AtsRange>{AtsRange::with_log2(kVa1G, 30)}));
  EXPECT_DOUBLE_EQ(r[0].latency_ns, 1842);  // the same for 1 GiB: one command set
  EXPECT_DOUBLE_EQ(r[1].latency_ns, 1842);
}

TEST(HugeRangeInvalidation, Smmuv3WithoutRangeInvalidationFlushesTheAsid) {
  test::Smmuv3SvaBench b(test::smmu_sva_config(false));
  const auto r = run_huge(b, IommuArch::kSmmuv3);
  expect_leaf_dropped(r);
  for (size_t i = 0; i < r.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(r[i].cmds, (Cmds{{"cmd_tlbi_nh_asid", 1}, {"cmd_atc_inv", 1}, {"cmd_sync", 2}}));
    EXPECT_TRUE(r[i].full_flush);
    EXPECT_EQ(r[i].atc, (std::vector<AtsRange>{AtsRange::whole_space()}));
  }
  EXPECT_DOUBLE_EQ(r[0].latency_ns, 1842);  // the same for 1 GiB: one command set
  EXPECT_DOUBLE_EQ(r[1].latency_ns, 1842);
}

TEST(HugeRangeInvalidation, RiscvPscidInvalidationFromTwoMebibytes) {
  test::RiscvSvaBench b;
  const auto r = run_huge(b, IommuArch::kRiscv);
  expect_leaf_dropped(r);
  for (size_t i = 0; i < r.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(r[i].cmds, (Cmds{{"iotinval_vma", 1}, {"ats_inval", 1}, {"iofence_c", 2}}));
    EXPECT_TRUE(r[i].full_flush);
    EXPECT_EQ(r[i].atc, (std::vector<AtsRange>{AtsRange::whole_space()}));
  }
  EXPECT_DOUBLE_EQ(r[0].latency_ns, 2012);  // the same for 1 GiB: one command set
  EXPECT_DOUBLE_EQ(r[1].latency_ns, 2012);
}

TEST(HugeRangeInvalidation, AmdviSBitBlockForTheIommuAndTheDevice) {
  test::AmdviSvaBench b(test::amd_sva(AmdviSvaPolicy::kAmd));
  const auto r = run_huge(b, IommuArch::kAmdvi);
  expect_leaf_dropped(r);
  for (size_t i = 0; i < r.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(r[i].cmds, (Cmds{{"invalidate_iommu_pages", 1},
                               {"invalidate_iotlb_pages", 1},
                               {"completion_wait", 1}}));
    EXPECT_FALSE(r[i].full_flush);
  }
  EXPECT_EQ(r[0].atc, (std::vector<AtsRange>{AtsRange::with_log2(kVa, 21)}));
  EXPECT_EQ(r[1].atc, (std::vector<AtsRange>{AtsRange::with_log2(kVa1G, 30)}));
  EXPECT_DOUBLE_EQ(r[0].latency_ns, 1486);  // the same for 1 GiB: one command set
  EXPECT_DOUBLE_EQ(r[1].latency_ns, 1486);
}

TEST(HugeRangeInvalidation, AmdLegacyFlushesThePasidWithTwoWaits) {
  test::AmdviSvaBench b(test::amd_sva(AmdviSvaPolicy::kAmdLegacy));
  const auto r = run_huge(b, IommuArch::kAmdvi);
  expect_leaf_dropped(r);
  for (size_t i = 0; i < r.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(r[i].cmds, (Cmds{{"invalidate_iommu_pages", 1},
                               {"invalidate_iotlb_pages", 1},
                               {"completion_wait", 2}}));
    EXPECT_TRUE(r[i].full_flush);
    EXPECT_EQ(r[i].atc, (std::vector<AtsRange>{AtsRange::whole_space()}));
  }
  EXPECT_DOUBLE_EQ(r[0].latency_ns, 1806);  // the same for 1 GiB: one command set
  EXPECT_DOUBLE_EQ(r[1].latency_ns, 1806);
}

// The fields of the encodings above (pure builders, no simulation).
TEST(HugeRangeInvalidation, FieldsOfTheVtdPsiAndTheSmmuv3RangeTlbi) {
  const auto intel = make_vtd_policy(SvaPolicyName::kIntel, SvaPolicyParams{});
  for (const auto& [va, size, am] : {std::tuple{kVa, k2M, 9}, std::tuple{kVa1G, k1G, 18}}) {
    SCOPED_TRACE(am);
    const SvaCommands c = intel->commands(1, {SvaTarget{kRid0, true}}, va, va + size, Desc128{});
    ASSERT_EQ(c.descs.size(), 3u);  // PSI, device-TLB, wait
    EXPECT_EQ(PasidIotlbInv::decode(c.descs[0]),
              (PasidIotlbInv{PasidIotlbInv::kPage, 1, 1, va, static_cast<uint8_t>(am), false}));
    const DevTlbInv d = DevTlbInv::decode(c.descs[1]);
    EXPECT_EQ(decode_s_range(d.addr, d.s), AtsRange::with_log2(va, 12 + am));
    const auto tlbi = smmuv3::tlbi_range_commands(1, va, va + size, true);
    ASSERT_EQ(tlbi.size(), 1u);
    EXPECT_EQ(tlbi[0].va.num, 0u);
    EXPECT_EQ(tlbi[0].va.scale, am);
    EXPECT_EQ(tlbi[0].va.ttl, 0u);
    EXPECT_FALSE(tlbi[0].va.leaf);
    EXPECT_EQ(smmuv3::covered_range(tlbi[0]), (smmuv3::AddrRange{va, va + size - 1}));
  }
}

}  // namespace
}  // namespace iosim
