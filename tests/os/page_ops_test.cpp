#include "os/page_ops.h"

#include <gtest/gtest.h>

#include "os/diagnostics.h"
#include "os/mm_ops.h"
#include "tests/os/mm_bench.h"

namespace iosim {
namespace {

using test::frame_of;
using test::FreeLogger;
using test::hexs;
using test::MmBench;
using test::range_str;
using test::run_thread;

constexpr uint64_t kVa = test::kBenchVa;  // where MmBench::populate() maps
const uint64_t kPage = Mm::kPageBytes;

std::vector<std::string> one_page(const std::string& ev, uint64_t va, bool arch = true) {
  const std::string r = range_str(va, va + kPage);
  std::vector<std::string> v = {"start " + ev + " " + r + " -", "cpu_flush " + r + " ptl"};
  if (arch) v.push_back("arch " + r + " ptl");
  v.push_back("end " + ev + " " + r + " -");
  return v;
}

TEST(PageOps, MigrateCopiesToNewFrameWithOwner) {
  MmBench b;
  int owner_cookie = 0;
  run_thread([&] {
    Mm& mm = b.populate(1);
    const uint64_t old_pa = frame_of(mm, kVa);
    b.mem.write_u64(old_pa + 16, 0x1234);
    EXPECT_EQ(b.os.migrate(mm, 0, kVa, kPage, &owner_cookie), 1);
    const std::string r = range_str(kVa, kVa + kPage);
    EXPECT_EQ(b.log.ev,
              (std::vector<std::string>{"start MIGRATE " + r + " -", "cpu_flush " + r + " ptl",
                                        "arch " + r + " ptl", "end MIGRATE " + r + " -"}));
    EXPECT_EQ(b.rr.last_owner, &owner_cookie);
    const uint64_t new_pa = frame_of(mm, kVa);
    EXPECT_NE(new_pa, old_pa);
    EXPECT_EQ(b.mem.read_u64(new_pa + 16), 0x1234u);
    EXPECT_FALSE(b.os.allocator().allocated(old_pa));
    EXPECT_TRUE(mm.pte(kVa).writable());
  });
  EXPECT_EQ(b.os.context().diagnostics().total(), 0u);
}

TEST(PageOps, CompactMovesThePageUnderAnRmapLockWhileMmapLockIsHeld) {
  MmBench b;
  run_thread([&] {
    Mm& mm = b.populate(1);
    const uint64_t old_pa = frame_of(mm, kVa);
    b.mem.write_u64(old_pa + 16, 0x1234);
    mm.mmap_lock.down_write();  // another thread's munmap or registration would hold it
    EXPECT_EQ(b.os.compact(mm, 0, kVa, kPage), 1);
    mm.mmap_lock.up_write();
    const std::string r = range_str(kVa, kVa + kPage);
    EXPECT_EQ(b.log.ev,
              (std::vector<std::string>{"start CLEAR " + r + " -", "cpu_flush " + r + " ptl",
                                        "arch " + r + " ptl", "end CLEAR " + r + " -"}));
    const uint64_t new_pa = frame_of(mm, kVa);
    EXPECT_NE(new_pa, old_pa);
    EXPECT_EQ(b.mem.read_u64(new_pa + 16), 0x1234u);
    EXPECT_FALSE(b.os.allocator().allocated(old_pa));
    // mm_take_all_locks() waits for it: the rmap lock was taken and released.
    EXPECT_FALSE(mm.rmap_lock(0).is_locked());
  });
  EXPECT_EQ(b.os.context().diagnostics().total(), 0u);  // the rmap lock covers the range
}

TEST(PageOps, KsmWriteProtectsBothThenReplacesIdenticalPage) {
  MmBench b;
  run_thread([&] {
    Mm& mm = b.populate(2);
    const uint64_t a = kVa, c = kVa + kPage;
    const uint64_t fa = frame_of(mm, a), fc = frame_of(mm, c);
    b.mem.write_u64(fa, 7);
    b.mem.write_u64(fc, 7);
    EXPECT_EQ(b.os.ksm_merge(mm, a, mm, c, 0), 1);
    std::vector<std::string> expect = one_page("CLEAR", a);
    for (auto& s : one_page("CLEAR", c)) expect.push_back(s);  // write_protect_page
    for (auto& s : one_page("CLEAR", c)) expect.push_back(s);  // replace_page
    EXPECT_EQ(b.log.ev, expect);
    EXPECT_EQ(frame_of(mm, c), fa);
    EXPECT_FALSE(mm.pte(a).writable());
    EXPECT_FALSE(mm.pte(c).writable());
    EXPECT_FALSE(b.os.allocator().allocated(fc));
    EXPECT_EQ(b.os.allocator().mapcount(fa), 2);
    // A write to the merged page breaks the sharing through COW.
    EXPECT_EQ(b.os.handle_fault(mm, 0, c, true), FaultResult::kCowCopy);
    EXPECT_NE(frame_of(mm, c), fa);
    EXPECT_EQ(b.mem.read_u64(frame_of(mm, c)), 7u);
  });
}

// mm/ksm.c: ksmd holds its reference to the scanned page until cmp_and_merge_page has
// returned, after replace_page's invalidate_range_end; the page replace_page unmaps is
// freed only then, so a secondary TLB flushed at range_end never reaches a freed frame.
void expect_ksm_frees_replaced_page_after_range_end(const std::string& policy) {
  MmBench b(test::small_os(policy));
  FreeLogger frees(b.gt, b.log);
  const bool arch = policy == "under_ptl";
  run_thread([&] {
    Mm& mm = b.populate(2);
    const uint64_t a = kVa, c = kVa + kPage;
    const uint64_t fa = frame_of(mm, a), fc = frame_of(mm, c);
    b.mem.write_u64(fa, 7);
    b.mem.write_u64(fc, 7);
    EXPECT_EQ(b.os.ksm_merge(mm, a, mm, c, 0), 1);
    std::vector<std::string> expect = one_page("CLEAR", a, arch);
    for (auto& s : one_page("CLEAR", c, arch)) expect.push_back(s);  // write_protect_page
    for (auto& s : one_page("CLEAR", c, arch)) expect.push_back(s);  // replace_page
    expect.push_back("free " + hexs(fc));
    EXPECT_EQ(b.log.ev, expect);
    EXPECT_FALSE(b.os.allocator().allocated(fc));
    EXPECT_EQ(b.os.allocator().refcount(fa), 2);  // two mappings, ksmd's reference dropped
  });
  EXPECT_EQ(b.os.context().diagnostics().total(), 0u);
}
TEST(PageOps, KsmFreesReplacedPageAfterRangeEndUnderRangeEnd) {
  expect_ksm_frees_replaced_page_after_range_end("range_end");
}
TEST(PageOps, KsmFreesReplacedPageAfterRangeEndUnderPtl) {
  expect_ksm_frees_replaced_page_after_range_end("under_ptl");
}

// replace_page maps the KSM page only over the PTE write_protect_page left (pte_same):
// a page written (and so copied on write) after its write protection is not replaced.
TEST(PageOps, KsmDoesNotReplaceAPageWrittenAfterWriteProtect) {
  MmBench b;
  b.os.env().preempt_hold_ns_by_cpu[0] = 20000;  // ksmd is preempted before each range_end
  const uint64_t a = kVa, c = kVa + kPage;
  uint64_t fa = 0, fc = 0;
  sc_core::sc_event c_protected;
  int arch_calls = 0;
  b.ar.on_arch = [&] {  // the second is write_protect_page(c)'s flush
    if (++arch_calls == 2) c_protected.notify(sc_core::sc_time(5, sc_core::SC_US));
  };
  test::run_threads({[&] {
                       Mm& mm = b.populate(2);
                       fa = frame_of(mm, a);
                       fc = frame_of(mm, c);
                       b.mem.write_u64(fa, 7);
                       b.mem.write_u64(fc, 7);
                       EXPECT_EQ(b.os.ksm_merge(mm, a, mm, c, 0), 0);
                     },
                     [&] {
                       sc_core::wait(c_protected);
                       Mm& mm = b.os.mm(1);
                       // ksmd's reference makes the page shared: the write copies it.
                       EXPECT_EQ(b.os.handle_fault(mm, 1, c, true), FaultResult::kCowCopy);
                     }});
  Mm& mm = b.os.mm(1);
  EXPECT_NE(frame_of(mm, c), fa);
  EXPECT_NE(frame_of(mm, c), fc);
  EXPECT_TRUE(mm.pte(c).writable());
  EXPECT_EQ(b.mem.read_u64(frame_of(mm, c)), 7u);
  EXPECT_FALSE(b.os.allocator().allocated(fc));
  EXPECT_EQ(b.os.allocator().refcount(fa), 1);
}

// The old frame of a migrated page is freed after range_end (migrate_vma_finalize),
// under both policies.
void expect_migrate_frees_old_frame_after_range_end(const std::string& policy) {
  MmBench b(test::small_os(policy));
  FreeLogger frees(b.gt, b.log);
  run_thread([&] {
    Mm& mm = b.populate(2);
    const uint64_t f0 = frame_of(mm, kVa), f1 = frame_of(mm, kVa + kPage);
    EXPECT_EQ(b.os.migrate(mm, 0, kVa, 2 * kPage, nullptr), 2);
    ASSERT_GE(b.log.ev.size(), 3u);
    const size_t n = b.log.ev.size();
    EXPECT_EQ(b.log.ev[n - 3], "end MIGRATE " + range_str(kVa, kVa + 2 * kPage) + " -");
    EXPECT_EQ(b.log.ev[n - 2], "free " + hexs(f0));
    EXPECT_EQ(b.log.ev[n - 1], "free " + hexs(f1));
  });
}
TEST(PageOps, MigrateFreesOldFramesAfterRangeEndUnderRangeEnd) {
  expect_migrate_frees_old_frame_after_range_end("range_end");
}
TEST(PageOps, MigrateFreesOldFramesAfterRangeEndUnderPtl) {
  expect_migrate_frees_old_frame_after_range_end("under_ptl");
}

TEST(PageOps, KsmLeavesDifferentPagesWriteProtectedOnly) {
  MmBench b;
  run_thread([&] {
    Mm& mm = b.populate(2);
    b.mem.write_u64(frame_of(mm, kVa), 1);
    b.mem.write_u64(frame_of(mm, kVa + kPage), 2);
    EXPECT_EQ(b.os.ksm_merge(mm, kVa, mm, kVa + kPage, 0), 0);
    EXPECT_EQ(b.log.ev.size(), 8u);  // two write_protect_page sequences, no replace
    EXPECT_NE(frame_of(mm, kVa), frame_of(mm, kVa + kPage));
  });
}

TEST(PageOps, ClearSoftDirtyUsesWholeSpaceRange) {
  MmBench b;
  run_thread([&] {
    Mm& mm = b.populate(3);
    EXPECT_EQ(b.os.clear_soft_dirty(mm, 0), 3);
    const std::string r = range_str(0, ~uint64_t{0});
    EXPECT_EQ(b.log.ev,
              (std::vector<std::string>{"start SOFT_DIRTY " + r + " -", "cpu_flush " + r + " ptl",
                                        "arch " + r + " ptl", "end SOFT_DIRTY " + r + " -"}));
    EXPECT_FALSE(mm.pte(kVa).writable());
    EXPECT_EQ(mm.pte(kVa).raw() & Mm::kSoftDirty, 0u);
    // The next write reuses the page (exclusively owned) and marks it soft-dirty again.
    EXPECT_EQ(b.os.handle_fault(mm, 0, kVa, true), FaultResult::kCowReuse);
    EXPECT_NE(mm.pte(kVa).raw() & Mm::kSoftDirty, 0u);
  });
}

TEST(PageOps, MakeDeviceExclusiveThenCpuFaultRestores) {
  MmBench b;
  int owner_cookie = 0;
  run_thread([&] {
    Mm& mm = b.populate(1);
    const uint64_t f = frame_of(mm, kVa);
    EXPECT_EQ(b.os.make_device_exclusive(mm, 0, kVa, &owner_cookie), 0);
    EXPECT_EQ(b.log.ev, one_page("EXCLUSIVE", kVa));
    EXPECT_EQ(b.rr.last_owner, &owner_cookie);
    EXPECT_FALSE(mm.pte(kVa).present());
    b.log.ev.clear();
    EXPECT_EQ(b.os.handle_fault(mm, 0, kVa, false), FaultResult::kExclusive);
    const std::string r = range_str(kVa, kVa + kPage);
    EXPECT_EQ(b.log.ev, (std::vector<std::string>{"start EXCLUSIVE " + r + " -",
                                                  "end EXCLUSIVE " + r + " -"}));
    EXPECT_EQ(b.rr.last_owner, nullptr);
    EXPECT_EQ(frame_of(mm, kVa), f);
    EXPECT_EQ(b.os.make_device_exclusive(mm, 0, kVa + 4 * kPage, nullptr), err::kEinval);
  });
}

TEST(PageOps, AgingCallsYoungCallbacksUnderPtl) {
  MmBench b;
  run_thread([&] {
    Mm& mm = b.populate(1);
    EXPECT_TRUE(mm.pte(kVa).accessed());
    EXPECT_EQ(b.os.clear_flush_young(mm, 0, kVa), 1);
    EXPECT_FALSE(mm.pte(kVa).accessed());
    b.ar.young = 1;
    EXPECT_EQ(b.os.clear_young(mm, 0, kVa), 1);  // only the secondary MMU saw an access
    b.ar.young = 0;
    EXPECT_EQ(b.os.test_young(mm, 0, kVa), 0);
    const std::string r = range_str(kVa, kVa + kPage);
    EXPECT_EQ(b.log.ev,
              (std::vector<std::string>{
                  "cpu_flush " + r + " ptl", "clear_flush_young " + hexs(kVa) + " ptl",
                  "clear_young " + hexs(kVa) + " ptl", "test_young " + hexs(kVa) + " ptl"}));
  });
}

}  // namespace
}  // namespace iosim
