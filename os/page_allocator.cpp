#include "os/page_allocator.h"

#include <algorithm>
#include <map>
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
  take(pa);
  return pa;
}

void PageAllocator::take(uint64_t pa) {
  pages_[pa] = Page{1, 0};
  ++allocations_;
  publish(pa, true);
}

uint64_t PageAllocator::alloc_contiguous(uint64_t frames) {
  if (frames == 0 || (frames & (frames - 1))) return kNoFrame;
  const uint64_t bytes = frames * kFrameBytes;
  uint64_t block = kNoFrame;
  const uint64_t aligned = (next_never_used_ + bytes - 1) & ~(bytes - 1);
  if (aligned >= next_never_used_ && aligned + bytes > aligned && aligned + bytes <= end_) {
    // The frames skipped to reach the alignment become ordinary free frames.
    for (uint64_t pa = next_never_used_; pa < aligned; pa += kFrameBytes) free_.push_back(pa);
    next_never_used_ = aligned + bytes;
    block = aligned;
  } else {
    std::map<uint64_t, uint64_t> free_in_block;  // lowest block first
    for (uint64_t pa : free_) ++free_in_block[pa & ~(bytes - 1)];
    for (const auto& [b, n] : free_in_block) {
      if (n == frames) {
        block = b;
        break;
      }
    }
    if (block == kNoFrame) return kNoFrame;
    free_.erase(std::remove_if(free_.begin(), free_.end(),
                               [&](uint64_t pa) { return (pa & ~(bytes - 1)) == block; }),
                free_.end());
  }
  for (uint64_t pa = block; pa < block + bytes; pa += kFrameBytes) take(pa);
  return block;
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
