// struct mmu_notifier_range and enum mmu_notifier_event (include/linux/mmu_notifier.h).
//
// A range describes one invalidation: the mm, the virtual range [start, end), why
// it happens (the event), whether the callbacks may sleep (the BLOCKABLE flag) and,
// for MIGRATE and EXCLUSIVE, the owner cookie a driver uses to recognise (and skip)
// its own invalidations. The memory manager fills one with mmu_notifier_range_init()
// and passes the same object to invalidate_range_start() and invalidate_range_end().
//
// Model-only field: `token`, set by invalidate_range_start() and matched by
// invalidate_range_end(), lets the layer detect unbalanced ends even if the caller
// copied the range in between. Callers never set it.
#pragma once

#include <cstdint>

namespace iosim {

class MmStruct;

enum class MmuNotifierEvent : unsigned {
  kUnmap = 0,       // munmap(), or mremap() moving the range
  kClear,           // clear page table entries (madvise, page replacement, ...)
  kProtectionVma,   // mprotect(): vm_page_prot of the whole range is enough
  kProtectionPage,  // per-page read/write change: inspect the CPU page table
  kSoftDirty,       // soft-dirty accounting: same page, same access flags
  kRelease,         // interval notifiers at mm teardown: range no longer accessible
  kMigrate,         // migrate_vma_collect(): owner is the device-private pgmap owner
  kExclusive,       // make_device_exclusive(): owner is the caller's cookie
};
constexpr unsigned kMmuNotifierEventCount = 8;

const char* mmu_notifier_event_name(MmuNotifierEvent e);

// MMU_NOTIFIER_RANGE_BLOCKABLE
constexpr unsigned kMmuNotifierRangeBlockable = 1u << 0;

struct MmuNotifierRange {
  MmStruct* mm = nullptr;
  uint64_t start = 0;
  uint64_t end = 0;  // exclusive
  MmuNotifierEvent event = MmuNotifierEvent::kUnmap;
  unsigned flags = 0;
  const void* owner = nullptr;
  uint64_t token = 0;  // model bookkeeping, see the file comment
};

inline void mmu_notifier_range_init(MmuNotifierRange& r, MmuNotifierEvent event, unsigned flags,
                                    MmStruct& mm, uint64_t start, uint64_t end) {
  r = MmuNotifierRange{&mm, start, end, event, flags, nullptr, 0};
}

inline void mmu_notifier_range_init_owner(MmuNotifierRange& r, MmuNotifierEvent event,
                                          unsigned flags, MmStruct& mm, uint64_t start,
                                          uint64_t end, const void* owner) {
  mmu_notifier_range_init(r, event, flags, mm, start, end);
  r.owner = owner;
}

inline bool mmu_notifier_range_blockable(const MmuNotifierRange& r) {
  return (r.flags & kMmuNotifierRangeBlockable) != 0;
}

// Whether [start, end) of the range overlaps the closed interval [first, last].
inline bool mmu_notifier_range_overlaps(const MmuNotifierRange& r, uint64_t first, uint64_t last) {
  return r.start <= last && first <= r.end - 1 && r.end > r.start;
}

}  // namespace iosim
