#include "os/page_allocator.h"

#include <gtest/gtest.h>

#include "sc_models/check/ground_truth.h"
#include "sc_models/config/params.h"
#include "sc_models/memory/physical_memory.h"

namespace iosim {
namespace {

PhysicalMemoryConfig mem_cfg() {
  PhysicalMemoryConfig c;
  c.size_bytes = uint64_t{64} << 20;
  return c;
}

PageAllocatorConfig alloc_cfg(FrameReuse reuse = FrameReuse::kLifo, uint64_t frames = 8) {
  PageAllocatorConfig c;
  c.base_pa = uint64_t{1} << 20;
  c.frames = frames;
  c.reuse = reuse;
  return c;
}

TEST(PageAllocator, RefcountsMapcountsAndLifoReuse) {
  PhysicalMemory mem("mem", mem_cfg());
  GroundTruth gt;
  GroundTruthRecorder rec;
  gt.subscribe(&rec);
  PageAllocator a(mem, alloc_cfg(), &gt);
  EXPECT_EQ(a.zero_page(), uint64_t{1} << 20);
  const uint64_t p1 = a.alloc(), p2 = a.alloc(), p3 = a.alloc();
  EXPECT_EQ(p1, a.zero_page() + 4096);
  EXPECT_EQ(p2, p1 + 4096);
  EXPECT_EQ(a.refcount(p1), 1);
  EXPECT_EQ(a.mapcount(p1), 0);
  a.get(p1);
  a.map(p1);
  EXPECT_EQ(a.refcount(p1), 2);
  EXPECT_EQ(a.mapcount(p1), 1);
  a.put(p1);
  EXPECT_TRUE(a.allocated(p1));
  a.unmap(p1);
  a.put(p1);
  EXPECT_FALSE(a.allocated(p1));
  a.put(p3);
  // Most recently freed first.
  EXPECT_EQ(a.alloc(), p3);
  EXPECT_EQ(a.alloc(), p1);
  ASSERT_EQ(rec.frames.size(), 7u);  // 3 allocs, 2 frees, 2 allocs
  EXPECT_FALSE(rec.frames[3].allocated);
  EXPECT_EQ(rec.frames[3].frame_pa, p1);
  // The zero page is never counted or freed.
  a.get(a.zero_page());
  a.put(a.zero_page());
  a.put(a.zero_page());
  EXPECT_EQ(a.refcount(a.zero_page()), 0);
  (void)p2;
}

TEST(PageAllocator, FifoReuseAndExhaustion) {
  PhysicalMemory mem("mem", mem_cfg());
  PageAllocator a(mem, alloc_cfg(FrameReuse::kFifo, 4));  // zero page + 3 frames
  const uint64_t p1 = a.alloc(), p2 = a.alloc(), p3 = a.alloc();
  EXPECT_EQ(a.alloc(), PageAllocator::kNoFrame);
  EXPECT_EQ(a.free_frames(), 0u);
  a.put(p2);
  a.put(p1);
  EXPECT_EQ(a.alloc(), p2);  // oldest freed first
  EXPECT_EQ(a.alloc(), p1);
  (void)p3;
}

TEST(PageAllocator, BadConfigurationNamesTheParameter) {
  PhysicalMemory mem("mem", mem_cfg());
  PageAllocatorConfig c = alloc_cfg();
  c.base_pa = 100;
  EXPECT_THROW(PageAllocator(mem, c), ParamError);
  try {
    assign_param(c, "reuse", "mru");
    FAIL();
  } catch (const ParamError& e) {
    EXPECT_EQ(std::string(e.what()), "'mru' is not one of lifo|fifo");
  }
  c = alloc_cfg(FrameReuse::kLifo, uint64_t{1} << 40);
  EXPECT_THROW(PageAllocator(mem, c), ParamError);
}

}  // namespace
}  // namespace iosim
