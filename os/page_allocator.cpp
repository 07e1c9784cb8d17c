#include "os/page_allocator.h"

#include <stdexcept>

#include "sc_models/check/ground_truth.h"
#include "sc_models/config/params.h"
#include "sc_models/memory/physical_memory.h"

namespace iosim {

PageAllocator::PageAllocator(PhysicalMemory& mem, const PageAllocatorConfig& cfg, GroundTruth* gt)
    : mem_(mem), cfg_(cfg), gt_(gt) {
  if (cfg.base_pa % kFrameBytes) throw ParamError("allocator.base_pa must be 4 KiB aligned");
  if (cfg.frames < 2) throw ParamError("allocator.frames must be >= 2 (zero page + one frame)");
  end_ = cfg.base_pa + cfg.frames * kFrameBytes;
  if (end_ > mem.size_bytes() || end_ < cfg.base_pa) {
    throw ParamError("allocator.base_pa + allocator.frames * 4096 exceeds the memory size");
  }
  lifo_ = cfg.reuse == FrameReuse::kLifo;
  zero_page_ = cfg.base_pa;
  mem_.zero_frame(zero_page_);
  next_never_used_ = cfg.base_pa + kFrameBytes;
}

uint64_t PageAllocator::alloc() {
  uint64_t pa;
  if (!free_.empty()) {
    if (lifo_) {
      pa = free_.back();
      free_.pop_back();
    } else {
      pa = free_.front();
      free_.pop_front();
    }
  } else if (next_never_used_ < end_) {
    pa = next_never_used_;
    next_never_used_ += kFrameBytes;
  } else {
    return kNoFrame;
  }
  pages_[pa] = Page{1, 0};
  ++allocations_;
  publish(pa, true);
  return pa;
}

PageAllocator::Page& PageAllocator::page(uint64_t pa, const char* what) {
  auto it = pages_.find(pa);
  if (it == pages_.end()) {
    throw std::logic_error(std::string(what) + " on a frame that is not allocated");
  }
  return it->second;
}

void PageAllocator::get(uint64_t pa) {
  if (is_zero_page(pa)) return;
  ++page(pa, "get_page").refcount;
}

void PageAllocator::put(uint64_t pa) {
  if (is_zero_page(pa)) return;
  Page& p = page(pa, "put_page");
  if (--p.refcount > 0) return;
  pages_.erase(pa);
  free_.push_back(pa);
  ++frees_;
  publish(pa, false);
}

void PageAllocator::map(uint64_t pa) {
  if (is_zero_page(pa)) return;
  ++page(pa, "page_add_rmap").mapcount;
}

void PageAllocator::unmap(uint64_t pa) {
  if (is_zero_page(pa)) return;
  --page(pa, "page_remove_rmap").mapcount;
}

int PageAllocator::refcount(uint64_t pa) const {
  auto it = pages_.find(pa);
  return it == pages_.end() ? 0 : it->second.refcount;
}

int PageAllocator::mapcount(uint64_t pa) const {
  auto it = pages_.find(pa);
  return it == pages_.end() ? 0 : it->second.mapcount;
}

uint64_t PageAllocator::free_frames() const {
  return free_.size() + (end_ - next_never_used_) / kFrameBytes;
}

void PageAllocator::publish(uint64_t pa, bool allocated) {
  if (gt_) gt_->frame(FrameEvent{sc_core::sc_time_stamp(), pa, allocated});
}

}  // namespace iosim
