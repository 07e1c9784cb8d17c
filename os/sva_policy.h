// SvaPolicy: how the VT-d SVA driver (os/vtd_sva_driver.h) turns "invalidate [start,
// end) of a PASID on these devices" into invalidation-queue descriptors. Each policy
// is a class that make_vtd_policy() makes for its sva.policy name; every batch it
// returns ends with the wait descriptor it is given (the driver fills in the status
// data when it submits). The other architectures' drivers have their own policies
// (os/sva_policy_name.h).
//
//   intel (Linux 6.12+ drivers/iommu/intel/cache.c, cache_tag_flush_range): one
//     PASID-IOTLB page-selective invalidation for the domain (the IOTLB tag is per
//     IOMMU and domain, not per device) with the smallest naturally aligned
//     power-of-two block of pages covering the range (calculate_psi_aligned_address),
//     then one PASID-based device-TLB invalidation per ATS device with the same block
//     in S-bit form; the IOTLB descriptor comes first (the cache-tag list keeps IOTLB
//     tags before device-TLB tags). Batches of intel_batch_descriptors descriptors,
//     each followed by a wait (qi_batch). The whole address space (start 0, end ~0),
//     or a block whose mask exceeds intel_max_address_mask, flushes the PASID:
//     PASID-selective IOTLB invalidation and whole-space device-TLB invalidations.
//
// Several ATC invalidations to one device in one batch (all outstanding at once,
// bounded by the device's Invalidate Queue Depth in the IOMMU): intel with
// intel_dtlb_extra_inval, Linux's info->dtlb_extra_inval (iommu.c,
// dev_needs_extra_dtlb_flush: Intel QAT device IDs 0x4940-0x4943), for which
// cache_tag_flush_devtlb_psi adds every device-TLB descriptor twice to the batch.
// The other multiplicities Linux has do not arise for SVA here: a cache tag per PASID
// of a device needs one domain attached at several PASIDs, which an mm (one PASID) is
// not.
//
// Descriptors use the VT-d formats (iommu/vtd/descriptors.h); the domain ID is the
// PASID (see os/vtd_sva_driver.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "iommu/vtd/sw_interface.h"
#include "os/sva_policy_name.h"

namespace iosim {

struct SvaTarget {
  uint16_t rid = 0;
  bool ats = true;
};

struct SvaPolicyParams {
  uint32_t intel_batch_descriptors = 16;
  uint32_t intel_max_address_mask = 18;
  bool intel_dtlb_extra_inval = false;
};

struct SvaCommands {
  std::vector<Desc128> descs;  // batches, each ending with a wait
  bool full_flush = false;     // the whole PASID was invalidated
};

class SvaPolicy {
 public:
  static constexpr uint64_t kWholeSpaceEnd = ~uint64_t{0};

  explicit SvaPolicy(const SvaPolicyParams& p) : p_(p) {}
  virtual ~SvaPolicy() = default;

  SvaCommands commands(uint32_t pasid, const std::vector<SvaTarget>& devs, uint64_t start,
                       uint64_t end, const Desc128& wait) const {
    SvaCommands c;
    build(pasid, devs, start, end, wait, c);
    return c;
  }
  // The same into `out` (its descriptors are replaced; its capacity is reused).
  virtual void build(uint32_t pasid, const std::vector<SvaTarget>& devs, uint64_t start,
                     uint64_t end, const Desc128& wait, SvaCommands& out) const = 0;

  static bool whole_space(uint64_t start, uint64_t end) {
    return start == 0 && end == kWholeSpaceEnd;
  }

 protected:
  SvaPolicyParams p_;
};

// The VT-d policy sva.policy names (auto: intel). Throws ParamError for a policy of
// another architecture's driver.
std::unique_ptr<SvaPolicy> make_vtd_policy(SvaPolicyName name, const SvaPolicyParams& p);

// Shared builders (also used by the driver's teardown).
Desc128 pasid_iotlb_page(uint32_t pasid, uint64_t addr, uint8_t am);
Desc128 pasid_iotlb_all(uint32_t pasid);
// PASID-based device-TLB invalidation of [base, base + 2^log2) (log2 64: whole space).
Desc128 pasid_dev_tlb(uint16_t rid, uint32_t pasid, uint64_t base, unsigned log2_size);
Desc128 pasid_cache_inv(uint32_t pasid);

}  // namespace iosim
