// Transparent huge pages and 1 GiB mappings (os/thp.h): the fault maps one PMD leaf,
// the madvise mode, the fallback, the split of a partial munmap / madvise / mprotect
// and of a COW after fork (notifier ranges and events in order), the collapse, the
// migration of a PMD, a 1 GiB hugetlb mapping, and the checkers judging a 2 MiB
// translation after a split.
#include <gtest/gtest.h>

#include "os/thp.h"
#include "sc_models/check/checker_suite.h"
#include "tests/os/mm_bench.h"

namespace iosim {
namespace {

using test::FreeLogger;
using test::hexs;
using test::MmBench;
using test::run_thread;

constexpr uint64_t kVa = uint64_t{1} << 32;  // 2 MiB (and 1 GiB) aligned
constexpr uint64_t k2M = thp::kPmdBytes;
constexpr uint64_t k1G = thp::kPudBytes;
const uint64_t kPage = Mm::kPageBytes;

OsConfig thp_os(const char* mode, const std::string& policy = "under_ptl") {
  OsConfig c = test::small_os(policy);
  if (!assign_param(c, "thp", mode)) throw std::logic_error(mode);
  return c;
}

std::string range(uint64_t start, uint64_t end) {
  return "[" + hexs(start) + "," + hexs(end) + ")";
}
// The events of one range with a flush under the PTL, as the recorders log them.
std::vector<std::string> flushed_range(const char* event, uint64_t start, uint64_t end) {
  return {std::string("start ") + event + " " + range(start, end) + " -",
          "cpu_flush " + range(start, end) + " ptl", "arch " + range(start, end) + " ptl",
          std::string("end ") + event + " " + range(start, end) + " -"};
}
std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

uint64_t counter(MmBench& b, const std::string& path) {
  const Counter* c = b.sim.stats().find_as<Counter>(path);
  return c ? c->value() : 0;
}

// A 2 MiB private RW mapping at kVa whose first write fault maps a huge page; returns
// the huge page's first frame. The log is cleared.
uint64_t huge_fault(MmBench& b, Mm& mm, uint64_t len = 2 * k2M) {
  EXPECT_EQ(b.os.mmap(mm, 0, kVa, len, kProtRead | kProtWrite, false), int64_t(kVa));
  EXPECT_EQ(b.os.handle_fault(mm, 0, kVa + 5 * kPage, true), FaultResult::kAnonymous);
  const auto leaf = mm.present_leaf(kVa);
  EXPECT_TRUE(leaf && leaf->size == PageSize::k2M);
  b.log.ev.clear();
  b.log.at.clear();
  return leaf ? leaf->pte.page_address(PageSize::k2M) : 0;
}

TEST(Thp, FaultMapsOnePmdLeafOf512ContiguousZeroedFrames) {
  MmBench b(thp_os("always"));
  run_thread([&] {
    Mm& mm = b.setup();
    ASSERT_EQ(b.os.mmap(mm, 0, kVa, 2 * k2M, kProtRead | kProtWrite, false), int64_t(kVa));
    const size_t ptes_before = b.rec.ptes.size();
    const sc_core::sc_time t0 = sc_core::sc_time_stamp();
    EXPECT_EQ(b.os.handle_fault(mm, 0, kVa + 5 * kPage + 8, true), FaultResult::kAnonymous);
    const OsConfig& c = b.os.config();
    // entry + mmap_lock + clear_huge_page (2 MiB) + PTL + one PMD write.
    const double expect_ns = c.fault_entry_ns + c.mm.mmap_lock.acquire_ns +
                             double(k2M) / c.page_copy_gb_per_s + c.mm.page_table_lock.acquire_ns +
                             c.pte_update_ns;
    EXPECT_NEAR(to_ns(sc_core::sc_time_stamp() - t0), expect_ns, 0.01);
    const auto leaf = mm.present_leaf(kVa + 0x1ff000);
    ASSERT_TRUE(leaf);
    EXPECT_EQ(leaf->size, PageSize::k2M);
    EXPECT_EQ(leaf->level, kPdLevel);
    EXPECT_TRUE(leaf->pte.page_size_bit());
    EXPECT_TRUE(leaf->pte.writable());
    const uint64_t pa = leaf->pte.page_address(PageSize::k2M);
    EXPECT_EQ(pa % k2M, 0u);
    for (uint64_t i = 0; i < thp::kPmdFrames; ++i) {
      EXPECT_EQ(b.os.allocator().refcount(pa + i * kPage), 1);
      EXPECT_EQ(b.os.allocator().mapcount(pa + i * kPage), 1);
    }
    // One 2 MiB change for the ground truth.
    ASSERT_EQ(b.rec.ptes.size(), ptes_before + 1);
    EXPECT_EQ(b.rec.ptes.back().va, kVa);
    EXPECT_EQ(b.rec.ptes.back().page_bytes, k2M);
    EXPECT_EQ(b.rec.ptes.back().reason, "thp_anonymous");
    // Every later access to the 2 MiB is spurious (already mapped).
    EXPECT_EQ(b.os.handle_fault(mm, 0, kVa + 0x100000, true), FaultResult::kSpurious);
    // The second 2 MiB of the VMA faults its own huge page.
    EXPECT_EQ(b.os.handle_fault(mm, 0, kVa + k2M, false), FaultResult::kAnonymous);
    EXPECT_EQ(mm.present_leaf(kVa + k2M)->size, PageSize::k2M);
    EXPECT_TRUE(b.log.ev.empty());  // a fresh mapping needs no invalidation
  });
  EXPECT_EQ(counter(b, "os.thp.thp_fault_alloc"), 2u);
}

TEST(Thp, NeverKeeps4KPages) {
  MmBench b;  // os.thp = never (the default)
  run_thread([&] {
    Mm& mm = b.setup();
    b.os.mmap(mm, 0, kVa, k2M, kProtRead | kProtWrite, false);
    b.os.handle_fault(mm, 0, kVa, true);
    EXPECT_FALSE(mm.pte(kVa).page_size_bit());
  });
  EXPECT_EQ(b.sim.stats().find("os.thp.thp_fault_alloc"), nullptr);  // no os.thp group
}

TEST(Thp, AVmaWithoutAnAligned2MKeeps4KPages) {
  MmBench a(thp_os("always"));
  run_thread([&] {
    Mm& mm = a.setup();
    // No aligned 2 MiB lies inside [kVa + 4K, kVa + 4M - 4K).
    a.os.mmap(mm, 0, kVa + kPage, 2 * k2M - 2 * kPage, kProtRead | kProtWrite, false);
    a.os.handle_fault(mm, 0, kVa + kPage, true);
    EXPECT_FALSE(mm.pte(kVa + kPage).page_size_bit());
    a.os.handle_fault(mm, 0, kVa + k2M, true);
    EXPECT_FALSE(mm.pte(kVa + k2M).page_size_bit());
  });
}

TEST(Thp, MadviseModeRespectsVmHugepage) {
  MmBench b(thp_os("madvise"));
  run_thread([&] {
    Mm& mm = b.setup();
    b.os.mmap(mm, 0, kVa, 2 * k2M, kProtRead | kProtWrite, false);
    EXPECT_EQ(b.os.handle_fault(mm, 0, kVa, true), FaultResult::kAnonymous);
    EXPECT_FALSE(mm.pte(kVa).page_size_bit());  // no MADV_HUGEPAGE: 4 KiB
    EXPECT_EQ(b.os.madvise_hugepage(mm, 0, kVa + k2M, k2M), 0);
    EXPECT_EQ(mm.vmas().find(kVa + k2M)->hugepage, true);
    EXPECT_EQ(mm.vmas().find(kVa)->hugepage, false);  // the VMA was split
    EXPECT_EQ(b.os.handle_fault(mm, 0, kVa + k2M + 8, true), FaultResult::kAnonymous);
    EXPECT_TRUE(mm.pte(kVa + k2M).page_size_bit());
    EXPECT_EQ(b.os.madvise_hugepage(mm, 0, kVa + 8 * k2M, k2M), err::kEnomem);  // no VMA
    EXPECT_TRUE(b.log.ev.empty());  // MADV_HUGEPAGE has no notifier
  });
}

TEST(Thp, FallsBackTo4KWhenNoContiguousBlockIsFree) {
  OsConfig c = thp_os("always");
  c.allocator.frames = 600;  // [16 MiB, 16 MiB + 2.3 MiB): no aligned free 2 MiB
  MmBench b(c);
  run_thread([&] {
    Mm& mm = b.setup();
    b.os.mmap(mm, 0, kVa, k2M, kProtRead | kProtWrite, false);
    EXPECT_EQ(b.os.handle_fault(mm, 0, kVa, true), FaultResult::kAnonymous);
    EXPECT_TRUE(mm.pte(kVa).present());
    EXPECT_FALSE(mm.pte(kVa).page_size_bit());
  });
  EXPECT_EQ(counter(b, "os.thp.thp_fault_fallback"), 1u);
  EXPECT_EQ(counter(b, "os.thp.thp_fault_alloc"), 0u);
}

TEST(Thp, PartialMunmapSplitsWithClearOver2MThenUnmapsThePage) {
  MmBench b(thp_os("always"));
  FreeLogger frees(b.gt, b.log);
  run_thread([&] {
    Mm& mm = b.setup();
    const uint64_t pa = huge_fault(b, mm);
    const uint64_t a = kVa + 10 * kPage;
    const size_t ptes_before = b.rec.ptes.size();
    EXPECT_EQ(b.os.munmap(mm, 0, a, kPage), 0);
    // __split_huge_pmd (CLEAR over the 2 MiB), then the UNMAP of the page; its frame is
    // freed at the flush point.
    std::vector<std::string> expect =
        concat(flushed_range("CLEAR", kVa, kVa + k2M), flushed_range("UNMAP", a, a + kPage));
    expect.insert(expect.end() - 1, "free " + hexs(pa + 10 * kPage));
    EXPECT_EQ(b.log.ev, expect);
    EXPECT_FALSE(mm.pte(a).present());
    EXPECT_FALSE(mm.pte(kVa).page_size_bit());
    EXPECT_EQ(mm.pte(a + kPage).page_address(PageSize::k4K), pa + 11 * kPage);
    EXPECT_TRUE(b.os.allocator().allocated(pa + 11 * kPage));
    // Ground truth: the PMD cleared (2 MiB), the 512 PTEs of the split, the page cleared.
    ASSERT_EQ(b.rec.ptes.size(), ptes_before + 1 + 512 + 1);
    EXPECT_EQ(b.rec.ptes[ptes_before].page_bytes, k2M);
    EXPECT_EQ(b.rec.ptes[ptes_before].new_pte_raw, 0u);
    EXPECT_EQ(b.rec.ptes[ptes_before + 1].page_bytes, kPage);
    EXPECT_EQ(b.rec.ptes.back().va, a);
    EXPECT_EQ(b.rec.ptes.back().reason, "munmap");
  });
  EXPECT_EQ(counter(b, "os.thp.thp_split_pmd"), 1u);
}

TEST(Thp, WholePmdMunmapZapsThePmdWithTheOperationsRange) {
  MmBench b(thp_os("always", "range_end"));
  run_thread([&] {
    Mm& mm = b.setup();
    const uint64_t pa = huge_fault(b, mm);
    EXPECT_EQ(b.os.munmap(mm, 0, kVa, k2M), 0);
    const std::vector<std::string> expect = {"start UNMAP " + range(kVa, kVa + k2M) + " -",
                                             "cpu_flush " + range(kVa, kVa + k2M) + " ptl",
                                             "end UNMAP " + range(kVa, kVa + k2M) + " -"};
    EXPECT_EQ(b.log.ev, expect);
    EXPECT_FALSE(mm.pte(kVa).present());
    for (uint64_t i = 0; i < thp::kPmdFrames; ++i)
      EXPECT_FALSE(b.os.allocator().allocated(pa + i * kPage));
    EXPECT_EQ(b.rec.ptes.back().page_bytes, k2M);
    EXPECT_EQ(b.rec.ptes.back().reason, "munmap");
  });
  EXPECT_EQ(counter(b, "os.thp.thp_split_pmd"), 0u);
}

TEST(Thp, PartialMadviseDontneedSplitsInsideItsClearRange) {
  MmBench b(thp_os("always"));
  run_thread([&] {
    Mm& mm = b.setup();
    huge_fault(b, mm);
    const uint64_t a = kVa + k2M - 2 * kPage;
    EXPECT_EQ(b.os.madvise_dontneed(mm, 0, a, 2 * kPage), 0);
    // zap_pmd_range splits inside the CLEAR range of the madvise (nested ranges).
    std::vector<std::string> expect = {"start CLEAR " + range(a, a + 2 * kPage) + " -"};
    expect = concat(expect, flushed_range("CLEAR", kVa, kVa + k2M));
    expect = concat(expect, {"cpu_flush " + range(a, a + 2 * kPage) + " ptl",
                             "arch " + range(a, a + 2 * kPage) + " ptl",
                             "end CLEAR " + range(a, a + 2 * kPage) + " -"});
    EXPECT_EQ(b.log.ev, expect);
    EXPECT_FALSE(mm.pte(a).present());
    EXPECT_TRUE(mm.pte(a - kPage).present());
  });
}

TEST(Thp, PartialMprotectSplitsBeforeProtectionVma) {
  MmBench b(thp_os("always"));
  run_thread([&] {
    Mm& mm = b.setup();
    huge_fault(b, mm);
    EXPECT_EQ(b.os.mprotect(mm, 0, kVa, 16 * kPage, kProtRead), 0);
    const std::vector<std::string> expect =
        concat(flushed_range("CLEAR", kVa, kVa + k2M),
               flushed_range("PROTECTION_VMA", kVa, kVa + 16 * kPage));
    EXPECT_EQ(b.log.ev, expect);
    EXPECT_FALSE(mm.pte(kVa).writable());
    EXPECT_TRUE(mm.pte(kVa + 16 * kPage).writable());
    // A whole-PMD mprotect changes the PMD leaf itself.
    b.log.ev.clear();
    EXPECT_EQ(b.os.handle_fault(mm, 0, kVa + k2M, true), FaultResult::kAnonymous);
    EXPECT_EQ(b.os.mprotect(mm, 0, kVa + k2M, k2M, kProtRead), 0);
    EXPECT_TRUE(mm.pte(kVa + k2M).page_size_bit());
    EXPECT_FALSE(mm.pte(kVa + k2M).writable());
    EXPECT_EQ(b.log.ev, flushed_range("PROTECTION_VMA", kVa + k2M, kVa + 2 * k2M));
  });
}

TEST(Thp, CowAfterForkSplitsThePmdThenCopiesThe4KPage) {
  MmBench b(thp_os("always"));
  run_thread([&] {
    Mm& mm = b.setup();
    const uint64_t pa = huge_fault(b, mm, k2M);
    ASSERT_EQ(b.os.fork(mm, 0, 2), 0);
    Mm& child = b.os.mm(2);
    EXPECT_TRUE(child.present_leaf(kVa)->pte.page_size_bit());
    EXPECT_FALSE(mm.pte(kVa).writable());
    EXPECT_EQ(b.os.allocator().refcount(pa), 2);
    b.log.ev.clear();
    const uint64_t a = kVa + 3 * kPage;
    EXPECT_EQ(b.os.handle_fault(mm, 0, a, true), FaultResult::kCowCopy);
    EXPECT_EQ(b.log.ev,
              concat(flushed_range("CLEAR", kVa, kVa + k2M), flushed_range("CLEAR", a, a + kPage)));
    EXPECT_FALSE(mm.pte(kVa).page_size_bit());
    EXPECT_TRUE(mm.pte(a).writable());
    const uint64_t copy = mm.pte(a).page_address(PageSize::k4K);
    EXPECT_TRUE(copy < pa || copy >= pa + k2M);
    EXPECT_EQ(b.os.allocator().refcount(pa + 3 * kPage), 1);  // the child's
    EXPECT_EQ(mm.pte(a + kPage).page_address(PageSize::k4K), pa + 4 * kPage);
    // The child keeps its PMD leaf, read-only.
    EXPECT_TRUE(child.present_leaf(kVa)->pte.page_size_bit());
    EXPECT_FALSE(child.present_leaf(kVa)->pte.writable());
  });
  EXPECT_EQ(counter(b, "os.thp.thp_split_pmd"), 1u);
}

TEST(Thp, ExclusiveHugePageIsReusedOnWriteFault) {
  MmBench b(thp_os("always"));
  run_thread([&] {
    Mm& mm = b.setup();
    huge_fault(b, mm, k2M);
    ASSERT_EQ(b.os.fork(mm, 0, 2), 0);
    b.os.exit(b.os.mm(2), 0);  // the child leaves: the parent owns the page again
    b.log.ev.clear();
    EXPECT_EQ(b.os.handle_fault(mm, 0, kVa, true), FaultResult::kCowReuse);
    EXPECT_TRUE(mm.pte(kVa).page_size_bit());
    EXPECT_TRUE(mm.pte(kVa).writable());
    EXPECT_TRUE(b.log.ev.empty());
  });
}

TEST(Thp, CollapseReplaces512PtesByOnePmdAndFreesTheOldFrames) {
  MmBench b;  // collapse works whatever os.thp says (MADV_COLLAPSE)
  FreeLogger frees(b.gt, b.log);
  run_thread([&] {
    Mm& mm = b.populate(512);
    std::vector<uint64_t> old(512);
    for (unsigned i = 0; i < 512; ++i) {
      old[i] = mm.pte(kVa + i * kPage).page_address(PageSize::k4K);
      b.mem.write_u64(old[i] + 8, 0x1000 + i);
    }
    EXPECT_EQ(b.os.collapse(mm, 0, kVa + kPage), err::kEinval);  // misaligned
    const size_t ptes_before = b.rec.ptes.size();
    const sc_core::sc_time t0 = sc_core::sc_time_stamp();
    EXPECT_EQ(b.os.collapse(mm, 0, kVa), 0);
    EXPECT_GE(to_ns(sc_core::sc_time_stamp() - t0), double(k2M) / b.os.config().page_copy_gb_per_s);
    // CLEAR over the 2 MiB around pmdp_collapse_flush; the old frames are freed after
    // the copy, after range_end.
    const std::vector<std::string> range_events = flushed_range("CLEAR", kVa, kVa + k2M);
    ASSERT_EQ(b.log.ev.size(), 4u + 512u);
    EXPECT_EQ(std::vector<std::string>(b.log.ev.begin(), b.log.ev.begin() + 4), range_events);
    for (unsigned i = 0; i < 512; ++i) {
      EXPECT_EQ(b.log.ev[4 + i], "free " + hexs(old[i]));
      EXPECT_FALSE(b.os.allocator().allocated(old[i]));
    }
    const auto leaf = mm.present_leaf(kVa);
    ASSERT_TRUE(leaf);
    EXPECT_EQ(leaf->size, PageSize::k2M);
    const uint64_t pa = leaf->pte.page_address(PageSize::k2M);
    for (unsigned i = 0; i < 512; ++i) EXPECT_EQ(b.mem.read_u64(pa + i * kPage + 8), 0x1000u + i);
    // Ground truth: 512 PTEs cleared, then one 2 MiB leaf.
    ASSERT_EQ(b.rec.ptes.size(), ptes_before + 513);
    EXPECT_EQ(b.rec.ptes[ptes_before].page_bytes, kPage);
    EXPECT_EQ(b.rec.ptes[ptes_before].new_pte_raw, 0u);
    EXPECT_EQ(b.rec.ptes.back().page_bytes, k2M);
    EXPECT_EQ(b.rec.ptes.back().reason, "collapse");
    EXPECT_EQ(b.os.collapse(mm, 0, kVa), 0);  // already PMD-mapped
  });
  EXPECT_EQ(counter(b, "os.thp.thp_collapse_alloc"), 1u);
}

TEST(Thp, CollapseNeedsEveryPtePresent) {
  MmBench b;
  run_thread([&] {
    Mm& mm = b.setup();
    b.os.mmap(mm, 0, kVa, k2M, kProtRead | kProtWrite, false);
    for (unsigned i = 0; i < 511; ++i) b.os.handle_fault(mm, 0, kVa + i * kPage, true);
    b.log.ev.clear();
    EXPECT_EQ(b.os.collapse(mm, 0, kVa), err::kEagain);
    EXPECT_TRUE(b.log.ev.empty());
    EXPECT_EQ(b.os.collapse(mm, 0, kVa + k2M), err::kEinval);  // no VMA
  });
}

TEST(Thp, MigrationMovesThePmdInsideOneMigrateRange) {
  MmBench b(thp_os("always"));
  FreeLogger frees(b.gt, b.log);
  run_thread([&] {
    Mm& mm = b.setup();
    const uint64_t pa = huge_fault(b, mm, k2M);
    b.mem.write_u64(pa + 7 * kPage, 0x77);
    int owner = 0;
    EXPECT_EQ(b.os.migrate(mm, 0, kVa, k2M, &owner), 1);
    const auto leaf = mm.present_leaf(kVa);
    ASSERT_TRUE(leaf);
    EXPECT_EQ(leaf->size, PageSize::k2M);
    const uint64_t npa = leaf->pte.page_address(PageSize::k2M);
    EXPECT_NE(npa, pa);
    EXPECT_EQ(b.mem.read_u64(npa + 7 * kPage), 0x77u);
    ASSERT_EQ(b.log.ev.size(), 4u + 512u);
    EXPECT_EQ(std::vector<std::string>(b.log.ev.begin(), b.log.ev.begin() + 4),
              flushed_range("MIGRATE", kVa, kVa + k2M));
    EXPECT_EQ(b.log.ev[4], "free " + hexs(pa));  // after range_end
    EXPECT_EQ(b.rr.last_owner, &owner);
  });
  EXPECT_EQ(counter(b, "os.thp.thp_migration_success"), 1u);
}

TEST(Thp, MigrationSplitsWhenNoHugeTargetIsFree) {
  OsConfig c = thp_os("always");
  c.allocator.frames = 1280;  // [16 MiB, 21 MiB): one aligned 2 MiB block only
  MmBench b(c);
  run_thread([&] {
    Mm& mm = b.setup();
    huge_fault(b, mm, k2M);
    const int moved = b.os.migrate(mm, 0, kVa, k2M, nullptr);
    EXPECT_GT(moved, 0);
    ASSERT_GE(b.log.ev.size(), 5u);
    EXPECT_EQ(std::vector<std::string>(b.log.ev.begin(), b.log.ev.begin() + 4),
              flushed_range("CLEAR", kVa, kVa + k2M));
    EXPECT_EQ(b.log.ev[4], "start MIGRATE " + range(kVa, kVa + k2M) + " -");
    EXPECT_FALSE(mm.pte(kVa).page_size_bit());
  });
  EXPECT_EQ(counter(b, "os.thp.thp_migration_split"), 1u);
}

TEST(Thp, OneGigabyteHugetlbMappingIsOnePudLeaf) {
  OsConfig c = test::small_os();
  c.allocator.base_pa = k1G;
  c.allocator.frames = uint64_t{1} << 19;  // 2 GiB: one aligned 1 GiB block at 2 GiB
  PhysicalMemoryConfig m = test::small_memory();
  m.size_bytes = 4 * k1G;
  MmBench b(c, m);
  run_thread([&] {
    Mm& mm = b.setup();
    EXPECT_EQ(b.os.mmap_hugetlb(mm, 0, kVa + k2M, k1G, kProtRead | kProtWrite), err::kEinval);
    ASSERT_EQ(b.os.mmap_hugetlb(mm, 0, kVa, k1G, kProtRead | kProtWrite), int64_t(kVa));
    const auto leaf = mm.present_leaf(kVa + 0x12345000);
    ASSERT_TRUE(leaf);
    EXPECT_EQ(leaf->size, PageSize::k1G);
    EXPECT_EQ(leaf->level, kPdptLevel);
    EXPECT_EQ(leaf->pte.page_address(PageSize::k1G), 2 * k1G);
    EXPECT_EQ(b.rec.ptes.back().page_bytes, k1G);
    EXPECT_EQ(b.os.handle_fault(mm, 0, kVa + 0x12345000, true), FaultResult::kSpurious);
    EXPECT_EQ(b.os.munmap(mm, 0, kVa, k2M), err::kEinval);  // hugetlb: whole pages only
    EXPECT_EQ(b.os.mmap_hugetlb(mm, 0, kVa + k1G, k1G, kProtRead), err::kEnomem);
    b.log.ev.clear();
    EXPECT_EQ(b.os.munmap(mm, 0, kVa, k1G), 0);
    EXPECT_EQ(b.log.ev, flushed_range("UNMAP", kVa, kVa + k1G));
    EXPECT_FALSE(b.os.allocator().allocated(2 * k1G));
  });
}

// Device-free: the checkers see a PMD change as a change of each 4 KiB page inside it.
// A device that kept a 2 MiB translation across a split and a munmap of one page uses a
// freed frame; a translation of another page of the huge page obtained after the split
// is fine.
TEST(Thp, CheckersJudgeA2MTranslationAfterTheSplit) {
  MmBench b(thp_os("always"));
  CheckerSuite suite(CheckerConfig{});
  suite.attach(b.gt);
  suite.bind_pasid(7, 1);
  run_thread([&] {
    Mm& mm = b.setup();
    const uint64_t pa = huge_fault(b, mm, k2M);
    const sc_core::sc_time huge_translation = sc_core::sc_time_stamp();
    const uint64_t a = kVa + 10 * kPage;
    sc_core::wait(sc_core::sc_time(10, sc_core::SC_NS));
    EXPECT_EQ(b.os.munmap(mm, 0, a, kPage), 0);
    sc_core::wait(sc_core::sc_time(10, sc_core::SC_NS));
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    // The stale 2 MiB translation reaches the freed frame of page `a`.
    b.gt.device_access(
        {now, "DEV-thread-0", 0x100, 7, a, pa + 10 * kPage, false, 0, huge_translation, true});
    // A translation of page a + 4K obtained now (from its 4 KiB PTE) is current.
    b.gt.device_access(
        {now, "DEV-thread-0", 0x100, 7, a + kPage, pa + 11 * kPage, false, 0, now, true});
  });
  EXPECT_EQ(suite.count("use_after_free"), 1u);
  EXPECT_EQ(suite.total(), 1u);
}

}  // namespace
}  // namespace iosim
