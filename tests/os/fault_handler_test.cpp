#include "os/fault_handler.h"

#include <gtest/gtest.h>

#include "common/tlm_bench.h"
#include "os/diagnostics.h"
#include "os/exec_context.h"
#include "sc_models/timing/lookahead.h"
#include "tests/os/mm_bench.h"

namespace iosim {
namespace {

using test::EventLog;
using test::frame_of;
using test::hexs;
using test::MmBench;
using test::run_thread;

constexpr uint64_t kVa = uint64_t{1} << 32;
const uint64_t kPage = Mm::kPageBytes;

TEST(FaultHandler, ZeroPageReadThenWriteAllocates) {
  MmBench b;
  run_thread([&] {
    Mm& mm = b.setup();
    ASSERT_EQ(b.os.mmap(mm, 0, kVa, 4 * kPage, kProtRead | kProtWrite, false), int64_t(kVa));
    EXPECT_EQ(b.os.handle_fault(mm, 0, kVa, false), FaultResult::kZeroPage);
    const Pte zp = mm.pte(kVa);
    EXPECT_TRUE(zp.present());
    EXPECT_FALSE(zp.writable());
    EXPECT_EQ(zp.page_address(PageSize::k4K), b.os.allocator().zero_page());
    const uint64_t allocs = b.os.allocator().allocations();

    EXPECT_EQ(b.os.handle_fault(mm, 0, kVa + 8, true), FaultResult::kCowCopy);
    const Pte p = mm.pte(kVa);
    EXPECT_TRUE(p.writable());
    EXPECT_TRUE(p.dirty());
    EXPECT_NE(p.page_address(PageSize::k4K), b.os.allocator().zero_page());
    EXPECT_EQ(b.os.allocator().allocations(), allocs + 1);
    EXPECT_EQ(b.mem.read_u64(p.page_address(PageSize::k4K)), 0u);
    EXPECT_EQ(b.os.allocator().mapcount(p.page_address(PageSize::k4K)), 1);
    // A write to the zero page is a COW of the zero page: CLEAR range, flush under the PTL.
    std::vector<std::string> expect = {
        "start CLEAR [" + hexs(kVa) + "," + hexs(kVa + kPage) + ") -",
        "cpu_flush [" + hexs(kVa) + "," + hexs(kVa + kPage) + ") ptl",
        "arch [" + hexs(kVa) + "," + hexs(kVa + kPage) + ") ptl",
        "end CLEAR [" + hexs(kVa) + "," + hexs(kVa + kPage) + ") -"};
    EXPECT_EQ(b.log.ev, expect);
  });
  EXPECT_EQ(b.os.faults().count(FaultResult::kZeroPage), 1u);
  EXPECT_EQ(b.os.faults().count(FaultResult::kCowCopy), 1u);
}

TEST(FaultHandler, WriteFaultAllocatesZeroedPageWithComputedCost) {
  MmBench b;
  run_thread([&] {
    Mm& mm = b.setup();
    b.os.mmap(mm, 0, kVa, kPage, kProtRead | kProtWrite, false);
    const size_t frames_before = b.rec.frames.size();
    const sc_core::sc_time t0 = sc_core::sc_time_stamp();
    EXPECT_EQ(b.os.handle_fault(mm, 0, kVa, true), FaultResult::kAnonymous);
    const OsConfig& c = b.os.config();
    // entry + mmap_lock (read) + clear_page + PTL + one PTE write.
    const double expect_ns = c.fault_entry_ns + c.mm.mmap_lock.acquire_ns +
                             4096.0 / c.page_copy_gb_per_s + c.mm.page_table_lock.acquire_ns +
                             c.pte_update_ns;
    EXPECT_NEAR(to_ns(sc_core::sc_time_stamp() - t0), expect_ns, 0.01);
    // The page, then the PDPT, PD and PT tables the first mapping needs.
    ASSERT_EQ(b.rec.frames.size(), frames_before + 4);
    for (size_t i = frames_before; i < b.rec.frames.size(); ++i)
      EXPECT_TRUE(b.rec.frames[i].allocated);
    EXPECT_EQ(b.rec.frames[frames_before].frame_pa, frame_of(mm, kVa));
    ASSERT_FALSE(b.rec.ptes.empty());
    EXPECT_EQ(b.rec.ptes.back().va, kVa);
    EXPECT_EQ(b.rec.ptes.back().old_pte_raw, 0u);
    EXPECT_EQ(b.rec.ptes.back().reason, "anonymous");
    EXPECT_TRUE(b.log.ev.empty());  // a fresh page needs no invalidation
  });
}

// A caller's pending time (Kernel::handle_fault with `pending`) is charged as if it
// had been waited for before the call: the fault ends, and its PTE is written, at
// the same offsets. Alone, the fault handler keeps the time annotated through
// mmap_lock and the PTL (the lookahead); while another thread holds mmap_lock for
// write during the pending time it waits first. Both give the charged-first times.
TEST(FaultHandler, PendingTimeIsChargedAsIfWaitedForFirst) {
  MmBench b;
  const sc_core::sc_time kPending(500, sc_core::SC_NS);
  // Offsets from the call of the fault's end and of its PTE write.
  struct Offsets {
    sc_core::sc_time end, pte;
  };
  std::vector<Offsets> charged, carried;
  Mm* mm = nullptr;
  auto fault = [&](uint64_t va, bool write, bool carry) {
    const sc_core::sc_time t0 = sc_core::sc_time_stamp();
    sc_core::sc_time pending = kPending;
    if (!carry) b.os.context().current().charge(pending);
    EXPECT_TRUE(fault_handled(b.os.handle_fault(*mm, 0, va, write, pending)));
    EXPECT_EQ(pending, sc_core::SC_ZERO_TIME);
    (carry ? carried : charged)
        .push_back({sc_core::sc_time_stamp() - t0, b.rec.ptes.back().time - t0});
  };
  test::run_threads({[&] {
                       mm = &b.setup();
                       b.os.mmap(*mm, 0, kVa, 8 * kPage, kProtRead | kProtWrite, false);
                       fault(kVa, false, false);  // zero page
                       const uint64_t skips = b.sim.lookahead().skips();
                       fault(kVa + kPage, false, true);
                       EXPECT_GT(b.sim.lookahead().skips(), skips);  // carried, not waited for
                       fault(kVa + 2 * kPage, true, false);   // new page
                       fault(kVa + 3 * kPage, true, true);
                       test::until(10000);
                       fault(kVa + 4 * kPage, false, true);  // mmap_lock held until 10300
                     },
                     [&] {
                       test::until(9000);
                       mm->mmap_lock.down_write();
                       test::until(10300);
                       mm->mmap_lock.up_write();
                     }});
  ASSERT_EQ(charged.size(), 2u);
  ASSERT_EQ(carried.size(), 3u);
  const OsConfig& c = b.os.config();
  const double read_ns = to_ns(kPending) + c.fault_entry_ns + c.mm.mmap_lock.acquire_ns +
                         c.mm.page_table_lock.acquire_ns + c.pte_update_ns;
  EXPECT_NEAR(to_ns(charged[0].end), read_ns, 0.01);
  EXPECT_EQ(charged[0].pte, charged[0].end);  // the PTE write ends the fault's work
  for (size_t i : {size_t{0}, size_t{2}}) {
    EXPECT_EQ(carried[i].end, charged[0].end);
    EXPECT_EQ(carried[i].pte, charged[0].pte);
  }
  EXPECT_EQ(carried[1].end, charged[1].end);
  EXPECT_EQ(carried[1].pte, charged[1].pte);
  EXPECT_EQ(mm->mmap_lock.stats().contended, 0u);  // released before the pending time ended
}

TEST(FaultHandler, CowAfterForkCopiesAndLeavesParentPageIntact) {
  MmBench b;
  run_thread([&] {
    Mm& parent = b.setup();
    b.os.mmap(parent, 0, kVa, kPage, kProtRead | kProtWrite, false);
    b.os.handle_fault(parent, 0, kVa, true);
    const uint64_t orig = frame_of(parent, kVa);
    b.mem.write_u64(orig, 0xAAAA);
    ASSERT_EQ(b.os.fork(parent, 0, 2), 0);
    Mm& child = b.os.mm(2);
    EXPECT_EQ(frame_of(child, kVa), orig);
    EXPECT_FALSE(parent.pte(kVa).writable());
    EXPECT_FALSE(child.pte(kVa).writable());
    EXPECT_EQ(b.os.allocator().refcount(orig), 2);
    EXPECT_EQ(b.os.allocator().mapcount(orig), 2);

    EXPECT_EQ(b.os.handle_fault(child, 1, kVa, true), FaultResult::kCowCopy);
    const uint64_t copy = frame_of(child, kVa);
    EXPECT_NE(copy, orig);
    EXPECT_EQ(b.mem.read_u64(copy), 0xAAAAu);  // the copy starts with the parent's data
    b.mem.write_u64(copy, 0xBBBB);
    EXPECT_EQ(b.mem.read_u64(orig), 0xAAAAu);  // the parent's page is untouched
    EXPECT_EQ(frame_of(parent, kVa), orig);
    EXPECT_EQ(b.os.allocator().refcount(orig), 1);
    // The parent now owns its page alone: its write fault reuses it, no copy.
    EXPECT_EQ(b.os.handle_fault(parent, 0, kVa, true), FaultResult::kCowReuse);
    EXPECT_EQ(frame_of(parent, kVa), orig);
    EXPECT_TRUE(parent.pte(kVa).writable());
  });
}

// The COW ordering of mmu_notifier.rst, with the notifier calls, PTE changes and flushes
// interleaved.
void cow_sequence(const std::string& policy, double hold_ns) {
  OsConfig cfg = test::small_os(policy);
  cfg.preempt_hold_ns = hold_ns;
  MmBench b(cfg);
  run_thread([&] {
    Mm& parent = b.setup();
    b.os.mmap(parent, 0, kVa, kPage, kProtRead | kProtWrite, false);
    b.os.handle_fault(parent, 0, kVa, true);
    b.os.fork(parent, 0, 2);
    b.log.ev.clear();
    b.log.at.clear();
    size_t pte_events_at_arch = 0;
    b.ar.on_arch = [&] { pte_events_at_arch = b.rec.ptes.size(); };
    const size_t ptes_before = b.rec.ptes.size();
    b.os.handle_fault(parent, 0, kVa, true);  // refcount 2: copy
    const std::string r = "[" + hexs(kVa) + "," + hexs(kVa + kPage) + ")";
    std::vector<std::string> expect = {"start CLEAR " + r + " -", "cpu_flush " + r + " ptl"};
    if (policy == "under_ptl") expect.push_back("arch " + r + " ptl");
    expect.push_back("end CLEAR " + r + " -");
    EXPECT_EQ(b.log.ev, expect);
    // PTE events: clear, then the new PTE; under_ptl, the secondary flush came between.
    ASSERT_EQ(b.rec.ptes.size(), ptes_before + 2);
    EXPECT_EQ(b.rec.ptes[ptes_before].reason, "cow_clear");
    EXPECT_EQ(b.rec.ptes[ptes_before].new_pte_raw, 0u);
    EXPECT_EQ(b.rec.ptes[ptes_before + 1].reason, "cow");
    if (policy == "under_ptl") {
      EXPECT_EQ(pte_events_at_arch, ptes_before + 1);
    }
    // The end comes hold_ns after the PTL is dropped, which is right after the new PTE's
    // write takes effect (the time of its ground-truth event).
    const sc_core::sc_time new_pte_done = b.rec.ptes[ptes_before + 1].time;
    EXPECT_EQ(b.log.at.back() - new_pte_done, ns(hold_ns));
  });
}

TEST(FaultHandler, CowOrderingUnderPtl) {
  cow_sequence("under_ptl", 0);
}
TEST(FaultHandler, CowOrderingRangeEndWithPreemptionHold) {
  cow_sequence("range_end", 5000);
}

// do_wp_page holds its own reference to the old page until after range_end
// (wp_page_copy's folio_put): when the other mapping goes away during the COW's
// preemption hold, the old page is freed only after invalidate_range_end, so a
// secondary TLB flushed there never reaches a freed frame.
void expect_cow_old_page_outlives_range_end(const std::string& policy) {
  MmBench b(test::small_os(policy));
  b.os.env().preempt_hold_ns_by_cpu[0] = 10000;  // the COW thread is preempted 10 us
  test::FreeLogger frees(b.gt, b.log);
  uint64_t orig = 0;
  sc_core::sc_event forked;
  test::run_threads({[&] {
                       Mm& parent = b.setup();
                       b.os.mmap(parent, 0, kVa, kPage, kProtRead | kProtWrite, false);
                       b.os.handle_fault(parent, 0, kVa, true);
                       orig = frame_of(parent, kVa);
                       b.os.fork(parent, 0, 2);
                       b.log.ev.clear();
                       forked.notify();
                       EXPECT_EQ(b.os.handle_fault(parent, 0, kVa, true), FaultResult::kCowCopy);
                     },
                     [&] {
                       sc_core::wait(forked);
                       sc_core::wait(sc_core::sc_time(5, sc_core::SC_US));  // inside the hold
                       EXPECT_EQ(b.os.munmap(b.os.mm(2), 1, kVa, kPage), 0);
                     }});
  const std::string r = "[" + hexs(kVa) + "," + hexs(kVa + kPage) + ")";
  std::vector<std::string> expect = {"start CLEAR " + r + " -", "cpu_flush " + r + " ptl"};
  if (policy == "under_ptl") expect.push_back("arch " + r + " ptl");
  expect.push_back("cpu_flush " + r + " ptl");  // the child's munmap, during the hold
  expect.push_back("end CLEAR " + r + " -");
  expect.push_back("free " + hexs(orig));
  EXPECT_EQ(b.log.ev, expect);
  EXPECT_FALSE(b.os.allocator().allocated(orig));
}
TEST(FaultHandler, CowOldPageOutlivesRangeEndUnderRangeEnd) {
  expect_cow_old_page_outlives_range_end("range_end");
}
TEST(FaultHandler, CowOldPageOutlivesRangeEndUnderPtl) {
  expect_cow_old_page_outlives_range_end("under_ptl");
}

TEST(FaultHandler, BadAccessesAreSegv) {
  MmBench b;
  run_thread([&] {
    Mm& mm = b.setup();
    b.os.mmap(mm, 0, kVa, kPage, kProtRead, false);
    EXPECT_EQ(b.os.handle_fault(mm, 0, kVa + 2 * kPage, false), FaultResult::kSegv);
    EXPECT_EQ(b.os.handle_fault(mm, 0, kVa, true), FaultResult::kSegv);
    EXPECT_FALSE(mm.pte(kVa).present());
  });
  EXPECT_EQ(b.os.faults().count(FaultResult::kSegv), 2u);
  EXPECT_EQ(b.os.context().diagnostics().total(), 0u);
}

}  // namespace
}  // namespace iosim
