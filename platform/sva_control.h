// SvaControl: what a CPU thread program reaches of the IOMMU driver's SVA interface
// besides the memory manager: binding its process to a device, unbinding it, and the
// explicit (not notifier-driven) flushes of the driver's command set.
//
// The platform implements it (System: one place for boot-time and runtime binds) and
// hands it to every CpuThread; os/ does not know about it. Every call runs on the
// calling core's SystemC thread and takes simulated time there (table writes,
// descriptors, register accesses and the wait for completion).
//
// Results are recorded as the operation's result: a PASID (> 0) or 0 on success, a
// negative errno otherwise (see each call).
#pragma once

#include <cstddef>
#include <cstdint>

namespace iosim {

class SvaControl {
 public:
  // iommu_sva_bind_device(): the PASID of mm `mm_id` on `device`; -EEXIST when the
  // pair is already bound (the model keeps one bond per process and device, where
  // Linux would take another reference on the existing bond), -ENOSPC when no PASID
  // is free.
  virtual int64_t bind(uint32_t mm_id, size_t device, int cpu) = 0;
  // iommu_sva_unbind_device(): 0, or -EINVAL when the pair is not bound.
  virtual int64_t unbind(uint32_t mm_id, size_t device, int cpu) = 0;
  // Flush every IOMMU and device translation of mm `mm_id`'s PASID: 0, or -EINVAL
  // when the mm has no PASID.
  virtual int64_t flush_pasid(uint32_t mm_id, int cpu) = 0;
  // Flush every translation of every PASID and domain: 0.
  virtual int64_t flush_all(int cpu) = 0;
  // The owner cookie the driver of `device` passes in its MIGRATE and EXCLUSIVE
  // notifier ranges (migrate_vma's pgmap_owner, make_device_exclusive's owner), which
  // its own notifier recognises and skips.
  virtual const void* owner_of(size_t device) = 0;

  virtual ~SvaControl() = default;
};

}  // namespace iosim
