#include "os/sva_policy.h"

#include "sc_models/config/params.h"
#include "sc_models/memory/page_size.h"
#include "sc_models/pcie/ats_encoding.h"

namespace iosim {

namespace {

constexpr unsigned kMaxMask = 52;  // MAX_AGAW_PFN_WIDTH: 64-bit space in 4 KiB pages

uint16_t did_of(uint32_t pasid) {
  return static_cast<uint16_t>(pasid);
}

unsigned log2_ceil(uint64_t v) {
  unsigned l = 0;
  while ((uint64_t{1} << l) < v) ++l;
  return l;
}

// Smallest naturally aligned block of 2^mask pages covering the pages of [start, end).
void aligned_block(uint64_t start, uint64_t end, uint64_t& base, unsigned& mask) {
  const uint64_t first = start >> kPageShift, last = (end - 1) >> kPageShift;
  mask = log2_ceil(last - first + 1);
  while (mask < kMaxMask && (first >> mask) != (last >> mask)) ++mask;
  base = mask >= kMaxMask ? 0 : (first >> mask) << (mask + kPageShift);
}

class IntelPolicy : public SvaPolicy {
 public:
  using SvaPolicy::SvaPolicy;
  void build(uint32_t pasid, const std::vector<SvaTarget>& devs, uint64_t start, uint64_t end,
             const Desc128& wait, SvaCommands& c) const override {
    c.descs.clear();
    uint64_t base = 0;
    unsigned mask = kMaxMask;
    if (!whole_space(start, end)) aligned_block(start, end, base, mask);
    c.full_flush = whole_space(start, end) || mask > p_.intel_max_address_mask;
    // A wait after every intel_batch_descriptors descriptors and after the last.
    const size_t per = p_.intel_batch_descriptors;
    size_t in_batch = 0;
    auto add = [&](const Desc128& d) {
      c.descs.push_back(d);
      if (++in_batch == per) {
        c.descs.push_back(wait);
        in_batch = 0;
      }
    };
    add(c.full_flush ? pasid_iotlb_all(pasid)
                     : pasid_iotlb_page(pasid, base, static_cast<uint8_t>(mask)));
    for (const auto& d : devs) {
      if (!d.ats) continue;
      const Desc128 dev_tlb = c.full_flush ? pasid_dev_tlb(d.rid, pasid, 0, kAtsWholeSpaceLog2)
                                           : pasid_dev_tlb(d.rid, pasid, base, mask + kPageShift);
      add(dev_tlb);
      if (p_.intel_dtlb_extra_inval) add(dev_tlb);
    }
    if (in_batch > 0) c.descs.push_back(wait);
  }
};

}  // namespace

std::unique_ptr<SvaPolicy> make_vtd_policy(SvaPolicyName name, const SvaPolicyParams& p) {
  switch (name) {
    case SvaPolicyName::kAuto:
    case SvaPolicyName::kIntel:
      return std::make_unique<IntelPolicy>(p);
    case SvaPolicyName::kArm:
    case SvaPolicyName::kRiscv:
    case SvaPolicyName::kAmd:
    case SvaPolicyName::kAmdLegacy:
      break;
  }
  throw ParamError("sva.policy: " + kSvaPolicy.name_of(name) +
                   " is another architecture's driver policy; the VT-d driver's is intel");
}

Desc128 pasid_iotlb_page(uint32_t pasid, uint64_t addr, uint8_t am) {
  return PasidIotlbInv{PasidIotlbInv::kPage, did_of(pasid), pasid, addr, am, false}.encode();
}

Desc128 pasid_iotlb_all(uint32_t pasid) {
  return PasidIotlbInv{PasidIotlbInv::kPasid, did_of(pasid), pasid, 0, 0, false}.encode();
}

Desc128 pasid_dev_tlb(uint16_t rid, uint32_t pasid, uint64_t base, unsigned log2_size) {
  const SBitAddress a = encode_s_range(AtsRange::with_log2(base, log2_size));
  return DevTlbInv{true, rid, 0, pasid, a.address, a.s, false}.encode();
}

Desc128 pasid_cache_inv(uint32_t pasid) {
  return PasidCacheInv{PasidCacheInv::kPasid, did_of(pasid), pasid}.encode();
}

}  // namespace iosim
