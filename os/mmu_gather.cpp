// MmuGather: when an unmapped frame may be freed relative to the flush (see the header).
#include "os/mmu_gather.h"

#include "os/mm.h"
#include "os/page_allocator.h"

namespace iosim {

MmuGather::MmuGather(Mm& mm, int cpu) : mm_(mm), cpu_(cpu) {}

MmuGather::~MmuGather() {
  finish();
}

void MmuGather::remove_page(uint64_t pa) {
  mm_.env().alloc->unmap(pa);  // page_remove_rmap
  gathered_.push_back(pa);
}

void MmuGather::hold_page(uint64_t pa) {
  mm_.env().alloc->get(pa);
  held_.push_back(pa);
}

void MmuGather::flush(uint64_t start, uint64_t end) {
  mm_.flush_under_ptl(cpu_, start, end);
  put_all(gathered_);
}

void MmuGather::finish() {
  put_all(gathered_);
  put_all(held_);
}

void MmuGather::put_all(std::vector<uint64_t>& frames) {
  for (uint64_t pa : frames) mm_.env().alloc->put(pa);
  frames.clear();
}

}  // namespace iosim
