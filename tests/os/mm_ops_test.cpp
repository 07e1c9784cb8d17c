#include "os/mm_ops.h"

#include <gtest/gtest.h>

#include "os/diagnostics.h"
#include "tests/os/mm_bench.h"

namespace iosim {
namespace {

using test::frame_of;
using test::MmBench;
using test::range_str;
using test::run_thread;

constexpr uint64_t kVa = test::kBenchVa;  // where MmBench::populate() maps
const uint64_t kPage = Mm::kPageBytes;

TEST(MmOps, MunmapUnderPtlFreesFramesOnlyAfterTheSecondaryFlush) {
  MmBench b;
  run_thread([&] {
    Mm& mm = b.populate(2);
    const uint64_t f0 = frame_of(mm, kVa), f1 = frame_of(mm, kVa + kPage);
    bool allocated_at_arch = false;
    b.ar.on_arch = [&] {
      allocated_at_arch = b.os.allocator().allocated(f0) && b.os.allocator().allocated(f1);
    };
    EXPECT_EQ(b.os.munmap(mm, 0, kVa, 2 * kPage), 0);
    const std::string r = range_str(kVa, kVa + 2 * kPage);
    EXPECT_EQ(b.log.ev,
              (std::vector<std::string>{"start UNMAP " + r + " -", "cpu_flush " + r + " ptl",
                                        "arch " + r + " ptl", "end UNMAP " + r + " -"}));
    EXPECT_TRUE(allocated_at_arch);
    EXPECT_FALSE(b.os.allocator().allocated(f0));
    EXPECT_FALSE(b.os.allocator().allocated(f1));
    EXPECT_EQ(mm.vmas().size(), 0u);
    // Frees come after the last PTE clear and the flush, in the ground truth too.
    ASSERT_GE(b.rec.frames.size(), 2u);
    EXPECT_FALSE(b.rec.frames.back().allocated);
    EXPECT_GE(b.rec.frames.back().time, b.rec.ptes.back().time);
  });
  EXPECT_EQ(Diagnostics::global().total(), 0u);
}

TEST(MmOps, MunmapRangeEndFreesFramesBeforeRangeEnd) {
  MmBench b(test::small_os("range_end"));
  run_thread([&] {
    Mm& mm = b.populate(1);
    const uint64_t f0 = frame_of(mm, kVa);
    EXPECT_EQ(b.os.munmap(mm, 0, kVa, kPage), 0);
    const std::string r = range_str(kVa, kVa + kPage);
    EXPECT_EQ(b.log.ev,
              (std::vector<std::string>{"start UNMAP " + r + " -", "cpu_flush " + r + " ptl",
                                        "end UNMAP " + r + " -"}));
    // The frame was freed before invalidate_range_end ran: the case-A window.
    ASSERT_FALSE(b.rec.frames.empty());
    EXPECT_EQ(b.rec.frames.back().frame_pa, f0);
    EXPECT_FALSE(b.rec.frames.back().allocated);
    EXPECT_LE(b.rec.frames.back().time, b.log.at.back());
    // The most recently freed frame is handed out next: a use after free is observable.
    EXPECT_EQ(b.os.allocator().alloc(), f0);
  });
}

TEST(MmOps, MadviseDontneedClearsAndFaultsBackZeroPage) {
  MmBench b;
  run_thread([&] {
    Mm& mm = b.populate(1);
    b.mem.write_u64(frame_of(mm, kVa), 42);
    EXPECT_EQ(b.os.madvise_dontneed(mm, 0, kVa, kPage), 0);
    const std::string r = range_str(kVa, kVa + kPage);
    EXPECT_EQ(b.log.ev,
              (std::vector<std::string>{"start CLEAR " + r + " -", "cpu_flush " + r + " ptl",
                                        "arch " + r + " ptl", "end CLEAR " + r + " -"}));
    EXPECT_FALSE(mm.pte(kVa).present());
    EXPECT_EQ(mm.vmas().size(), 1u);  // the VMA stays
    EXPECT_EQ(b.os.handle_fault(mm, 0, kVa, false), FaultResult::kZeroPage);
    EXPECT_EQ(b.os.madvise_dontneed(mm, 0, kVa + 8 * kPage, kPage), err::kEnomem);
  });
}

TEST(MmOps, MprotectReadOnlyMakesStoresFault) {
  MmBench b;
  run_thread([&] {
    Mm& mm = b.populate(2);
    EXPECT_EQ(b.os.mprotect(mm, 0, kVa, kPage, kProtRead), 0);
    const std::string r = range_str(kVa, kVa + kPage);
    EXPECT_EQ(b.log.ev, (std::vector<std::string>{"start PROTECTION_VMA " + r + " -",
                                                  "cpu_flush " + r + " ptl", "arch " + r + " ptl",
                                                  "end PROTECTION_VMA " + r + " -"}));
    EXPECT_FALSE(mm.pte(kVa).writable());
    EXPECT_TRUE(mm.pte(kVa + kPage).writable());  // outside the range
    EXPECT_EQ(mm.vmas().size(), 2u);              // split
    EXPECT_EQ(b.os.handle_fault(mm, 0, kVa, true), FaultResult::kSegv);
    // Back to RW: the exclusively owned dirty page is writable again without a fault.
    EXPECT_EQ(b.os.mprotect(mm, 0, kVa, kPage, kProtRead | kProtWrite), 0);
    EXPECT_TRUE(mm.pte(kVa).writable());
    EXPECT_EQ(b.os.mprotect(mm, 0, kVa + 3, kPage, kProtRead), err::kEinval);
  });
}

TEST(MmOps, MremapMovesPtesUnderOneUnmapRange) {
  MmBench b;
  run_thread([&] {
    Mm& mm = b.populate(2);
    const uint64_t f0 = frame_of(mm, kVa), f1 = frame_of(mm, kVa + kPage);
    const uint64_t to = kVa + 64 * kPage;
    EXPECT_EQ(b.os.mremap(mm, 0, kVa, 2 * kPage, to), 0);
    const std::string r = range_str(kVa, kVa + 2 * kPage);
    EXPECT_EQ(b.log.ev,
              (std::vector<std::string>{"start UNMAP " + r + " -", "cpu_flush " + r + " ptl",
                                        "arch " + r + " ptl", "end UNMAP " + r + " -"}));
    EXPECT_FALSE(mm.pte(kVa).present());
    EXPECT_EQ(frame_of(mm, to), f0);
    EXPECT_EQ(frame_of(mm, to + kPage), f1);
    EXPECT_TRUE(b.os.allocator().allocated(f0));  // moved, not freed
    EXPECT_EQ(mm.vmas().find(kVa), nullptr);
    ASSERT_NE(mm.vmas().find(to), nullptr);
  });
}

TEST(MmOps, ForkWriteProtectsParentWithProtectionPage) {
  MmBench b;
  run_thread([&] {
    Mm& mm = b.populate(2);
    EXPECT_EQ(b.os.fork(mm, 0, 2), 0);
    const std::string r = range_str(kVa, kVa + 2 * kPage);
    EXPECT_EQ(b.log.ev, (std::vector<std::string>{"start PROTECTION_PAGE " + r + " -",
                                                  "cpu_flush " + r + " ptl", "arch " + r + " ptl",
                                                  "end PROTECTION_PAGE " + r + " -"}));
    EXPECT_FALSE(mm.pte(kVa).writable());
    EXPECT_EQ(b.os.fork(mm, 0, 2), err::kEexist);
  });
}

TEST(MmOps, ForkOfSharedMappingNeedsNoNotifier) {
  MmBench b;
  run_thread([&] {
    Mm& mm = b.populate(1, /*shared=*/true);
    EXPECT_EQ(b.os.fork(mm, 0, 2), 0);
    EXPECT_TRUE(b.log.ev.empty());
    EXPECT_TRUE(mm.pte(kVa).writable());
    EXPECT_EQ(frame_of(b.os.mm(2), kVa), frame_of(mm, kVa));
    EXPECT_TRUE(b.os.mm(2).pte(kVa).writable());
  });
}

TEST(MmOps, ExitReleasesNotifiersThenTearsDown) {
  MmBench b;
  run_thread([&] {
    Mm& mm = b.populate(1);
    const uint64_t f0 = frame_of(mm, kVa);
    b.os.exit(mm, 0);
    ASSERT_FALSE(b.log.ev.empty());
    EXPECT_EQ(b.log.ev.front(), "release -");
    EXPECT_TRUE(mm.exited());
    EXPECT_FALSE(b.os.allocator().allocated(f0));
    EXPECT_EQ(mm.vmas().size(), 0u);
    // After release the subscribers are unhashed: no range calls reach them.
    for (const auto& e : b.log.ev) EXPECT_EQ(e.rfind("start", 0), std::string::npos) << e;
  });
}

}  // namespace
}  // namespace iosim
