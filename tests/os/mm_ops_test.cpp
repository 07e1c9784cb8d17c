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
  EXPECT_EQ(b.os.context().diagnostics().total(), 0u);
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

// munmap and mprotect of a 1 TiB mapping with three pages populated: the page-table
// walk reads only the tables that exist (pgd/pud/pmd_none skip to the next boundary),
// and the simulated time follows the populated pages, not the range length.
TEST(MmOps, HugeMostlyEmptyRangeCostsWhatIsPopulated) {
  MmBench b;
  constexpr uint64_t kTiB = uint64_t{1} << 40, kGiB = uint64_t{1} << 30;
  const OsConfig& cfg = b.os.env().cfg;
  // One populated page's cost: the loop step and the PTE write.
  const sc_core::sc_time per_page = ns(cfg.per_page_ns + cfg.pte_update_ns);
  run_thread([&] {
    Mm& mm = b.setup();
    const uint32_t rw = kProtRead | kProtWrite;
    ASSERT_EQ(b.os.mmap(mm, 0, kTiB, kTiB, rw, false), int64_t(kTiB));           // populated
    ASSERT_EQ(b.os.mmap(mm, 0, 2 * kTiB, kTiB, rw, false), int64_t(2 * kTiB));   // empty
    ASSERT_EQ(b.os.mmap(mm, 0, 3 * kTiB, kPage, rw, false), int64_t(3 * kTiB));  // small
    // Three pages: two under one PDPT (neighbouring 1 GiB entries), one under the second
    // PML4 entry of the range.
    for (uint64_t va : {kTiB, kTiB + kGiB, kTiB + 600 * kGiB}) {
      ASSERT_TRUE(fault_handled(b.os.handle_fault(mm, 0, va, true)));
    }
    // The small mapping has no tables: its PML4 entry is read. The empty 1 TiB: its two
    // PML4 entries. The populated 1 TiB: 2 PML4 entries, the PDPT of each, and for each
    // of the three pages a PD and a PT.
    const uint64_t populated_reads = 2 + 2 * 512 + 3 * (512 + 512);
    auto timed = [&](const std::function<int()>& op, uint64_t expect_reads) {
      const uint64_t reads = mm.pt_walk_reads();
      const sc_core::sc_time t0 = sc_core::sc_time_stamp();
      EXPECT_EQ(op(), 0);
      EXPECT_EQ(mm.pt_walk_reads() - reads, expect_reads);
      return sc_core::sc_time_stamp() - t0;
    };
    const sc_core::sc_time prot_small =
        timed([&] { return b.os.mprotect(mm, 0, 3 * kTiB, kPage, kProtRead); }, 1);
    const sc_core::sc_time prot_empty =
        timed([&] { return b.os.mprotect(mm, 0, 2 * kTiB, kTiB, kProtRead); }, 2);
    const sc_core::sc_time prot_three =
        timed([&] { return b.os.mprotect(mm, 0, kTiB, kTiB, kProtRead); }, populated_reads);
    EXPECT_EQ(prot_empty, prot_small);
    EXPECT_EQ(prot_three - prot_empty, 3 * per_page);
    EXPECT_FALSE(mm.pte(kTiB + 600 * kGiB).writable());

    const sc_core::sc_time unmap_small =
        timed([&] { return b.os.munmap(mm, 0, 3 * kTiB, kPage); }, 1);
    const sc_core::sc_time unmap_empty =
        timed([&] { return b.os.munmap(mm, 0, 2 * kTiB, kTiB); }, 2);
    const sc_core::sc_time unmap_three =
        timed([&] { return b.os.munmap(mm, 0, kTiB, kTiB); }, populated_reads);
    EXPECT_EQ(unmap_empty, unmap_small);
    EXPECT_EQ(unmap_three - unmap_empty, 3 * per_page);
    EXPECT_FALSE(mm.pte(kTiB + kGiB).present());
    EXPECT_EQ(mm.vmas().size(), 0u);
  });
}

}  // namespace
}  // namespace iosim
