// PageAllocator: the buddy allocator reduced to 4 KiB frames of PhysicalMemory, with
// struct page's refcount (_refcount) and mapcount (_mapcount) per frame.
//
// Frames come from [base_pa, base_pa + frames * 4 KiB). Freed frames are reused most
// recently freed first by default ("lifo", like the per-CPU page lists), so a stale
// translation to a freed frame soon points at someone else's data and a use after
// free is observable; "fifo" reuses the oldest free frame. Allocation and free are
// published to the ground truth. One frame is the shared zero page: it is never freed
// and its counts are not tracked (like the kernel's ZERO_PAGE, which is not refcounted
// on map/unmap).
//
// Simplifications: no zones, NUMA or watermarks; no buddy orders (a contiguous
// allocation looks for a free aligned block; the frames of a huge page keep a count
// each, so splitting it needs no accounting); allocation takes no simulated
// time (callers charge zeroing/copying); running out of frames is reported to the
// caller (kNoFrame), which turns it into VM_FAULT_OOM / -ENOMEM.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>

#include "sc_models/config/choice.h"
#include "sc_models/memory/page_size.h"

namespace iosim {

class PhysicalMemory;
class GroundTruth;

// Which freed frame alloc() hands out first.
enum class FrameReuse { kLifo, kFifo };
inline constexpr ChoiceValue<FrameReuse> kFrameReuseValues[] = {
    {"lifo", FrameReuse::kLifo, "most recently freed first"},
    {"fifo", FrameReuse::kFifo, "oldest freed first"}};
inline constexpr Choices<FrameReuse> kFrameReuse{kFrameReuseValues};

struct PageAllocatorConfig {
  // First frame handed out (the memory below is left to firmware/kernel image/tables
  // of other models).
  uint64_t base_pa = uint64_t{1} << 30;
  // Frames managed.
  uint64_t frames = 1u << 18;  // 1 GiB
  FrameReuse reuse = FrameReuse::kLifo;

  template <class V>
  void visit(V& v) {
    v("base_pa", base_pa, "bytes", "physical address of the first allocatable frame");
    v("frames", frames, "frames", "4 KiB frames managed by the page allocator");
    v.choice("reuse", reuse, kFrameReuse, "order in which freed frames are reused");
  }
};

class PageAllocator {
 public:
  static constexpr uint64_t kNoFrame = ~uint64_t{0};
  static constexpr uint64_t kFrameBytes = kPageBytes;

  // Throws ParamError for a misaligned base or a range outside memory.
  PageAllocator(PhysicalMemory& mem, const PageAllocatorConfig& cfg, GroundTruth* gt = nullptr);

  // A frame with refcount 1 and mapcount 0; its content is whatever the
  // last owner left (callers zero or copy). kNoFrame when memory is exhausted.
  uint64_t alloc();
  // `frames` (a power of two) contiguous frames aligned to their total size, each with
  // refcount 1 and mapcount 0 (a huge page: __folio_alloc of order 9 for 2 MiB, or a
  // 1 GiB hugetlb page). Taken from the never-used frames, else from a block whose
  // frames are all free; kNoFrame when neither exists (fragmentation).
  uint64_t alloc_contiguous(uint64_t frames);
  void get(uint64_t pa);    // get_page
  void put(uint64_t pa);    // put_page: frees the frame when the refcount reaches zero
  void map(uint64_t pa);    // page_add_*_rmap
  void unmap(uint64_t pa);  // page_remove_rmap

  uint64_t zero_page() const { return zero_page_; }
  bool is_zero_page(uint64_t pa) const { return pa == zero_page_; }
  bool allocated(uint64_t pa) const { return pages_.count(pa) != 0; }
  int refcount(uint64_t pa) const;
  int mapcount(uint64_t pa) const;
  uint64_t free_frames() const;
  uint64_t allocations() const { return allocations_; }
  uint64_t frees() const { return frees_; }

 private:
  struct Page {
    int refcount = 0;
    int mapcount = 0;
  };
  Page& page(uint64_t pa, const char* what);
  void take(uint64_t pa);
  void publish(uint64_t pa, bool allocated);

  PhysicalMemory& mem_;
  PageAllocatorConfig cfg_;
  GroundTruth* gt_;
  bool lifo_;
  uint64_t next_never_used_;
  uint64_t end_;
  std::deque<uint64_t> free_;
  std::unordered_map<uint64_t, Page> pages_;
  uint64_t zero_page_;
  uint64_t allocations_ = 0, frees_ = 0;
};

}  // namespace iosim
