#include "cpu/core.h"

#include <gtest/gtest.h>

#include "os/diagnostics.h"
#include "tests/cpu/cpu_bench.h"
#include "tests/os/mm_bench.h"

namespace iosim {
namespace {

using sc_core::sc_time;
using sc_core::sc_time_stamp;
using test::counter;
using test::CpuBench;
using test::kMemAccessNs;
using test::run_thread;

constexpr uint64_t kVa = uint64_t{1} << 32;
constexpr uint64_t kPage = 4096;

TEST(Core, TlbMissThenHitLatency) {
  CpuBench b(1);
  Core& c = *b.core[0];
  run_thread([&] {
    Mm& mm = b.os.create_mm(1);
    b.os.mmap(mm, 0, kVa, kPage, kProtRead | kProtWrite, false);
    b.os.handle_fault(mm, 0, kVa, true);  // PTE present with A and D set
    sc_time t0 = sc_time_stamp();
    ASSERT_TRUE(c.load(mm, kVa));
    // TLB lookup (1 cycle) + PWC probe (2 cycles) + 4 entry reads + the data read.
    EXPECT_EQ(sc_time_stamp() - t0, ns(1 + 2 + 4 * kMemAccessNs + kMemAccessNs));
    t0 = sc_time_stamp();
    ASSERT_TRUE(c.load(mm, kVa + 8));
    EXPECT_EQ(sc_time_stamp() - t0, ns(1 + kMemAccessNs));  // hit: lookup + data read
  });
  EXPECT_EQ(counter("core0.tlb_misses"), 1u);
  EXPECT_EQ(counter("core0.tlb_hits"), 1u);
  EXPECT_EQ(counter("core0.walk_reads"), 4u);
}

TEST(Core, WalkReadsWithColdAndWarmWalkCaches) {
  CpuBench b(1);
  Core& c = *b.core[0];
  std::vector<uint64_t> reads;
  run_thread([&] {
    Mm& mm = b.os.create_mm(1);
    const uint64_t gib = uint64_t{1} << 30, mib2 = uint64_t{1} << 21;
    b.os.mmap(mm, 0, kVa, 2 * gib, kProtRead | kProtWrite, false);
    const uint64_t vas[] = {kVa, kVa + kPage, kVa + mib2, kVa + gib};
    for (uint64_t va : vas) b.os.handle_fault(mm, 0, va, true);
    for (uint64_t va : vas) {
      const uint64_t before = counter("core0.walk_reads");
      ASSERT_TRUE(c.load(mm, va));
      reads.push_back(counter("core0.walk_reads") - before);
    }
  });
  // Cold: 4 reads. Same 2 MiB: PDE cache hit, 1 read. Same 1 GiB: PDPTE hit, 2 reads.
  // Same 512 GiB: PML4E hit, 3 reads.
  EXPECT_EQ(reads, (std::vector<uint64_t>{4, 1, 2, 3}));
}

TEST(Core, WalkerSetsAccessedAndDirtyBits) {
  CpuBench b(1);
  Core& c = *b.core[0];
  run_thread([&] {
    Mm& mm = b.os.create_mm(1);
    b.os.mmap(mm, 0, kVa, kPage, kProtRead | kProtWrite, false);
    const uint64_t frame = b.os.allocator().alloc();
    b.os.allocator().map(frame);
    mm.set_pte(kVa, Pte::leaf(frame, PageSize::k4K, Pte::kUser | Pte::kWritable), "test");
    ASSERT_TRUE(c.load(mm, kVa));
    EXPECT_TRUE(mm.pte(kVa).accessed());
    EXPECT_FALSE(mm.pte(kVa).dirty());
    EXPECT_EQ(counter("core0.walk_writes"), 1u);
    // The TLB entry is writable but not dirty: the store re-walks to set D.
    ASSERT_TRUE(c.store(mm, kVa, 5));
    EXPECT_TRUE(mm.pte(kVa).dirty());
    EXPECT_EQ(counter("core0.walk_writes"), 2u);
    EXPECT_EQ(counter("core0.tlb_misses"), 2u);
    ASSERT_TRUE(c.store(mm, kVa + 8, 6));  // now a plain hit
    EXPECT_EQ(counter("core0.tlb_hits"), 1u);
    EXPECT_EQ(b.mem.read_u64(frame), 5u);
  });
}

TEST(Core, ProgramFaultsRetriesAndRecordsLoads) {
  CpuBench b(1);
  Core& c = *b.core[0];
  ThreadProgram p;
  p.name = "CPU-thread-0";
  p.ops = {ThreadOp::mmap(kVa, 2 * kPage), ThreadOp::load(kVa), ThreadOp::store(kVa, 0x77),
           ThreadOp::load(kVa).at(100000)};
  c.set_program(p);
  b.os.create_mm(1);
  sc_core::sc_start(sc_time(1, sc_core::SC_MS));
  ASSERT_EQ(c.loads().size(), 2u);
  EXPECT_EQ(c.loads()[0].value, 0u);
  EXPECT_EQ(c.loads()[0].pa, b.os.allocator().zero_page());  // read of the zero page
  EXPECT_EQ(c.loads()[1].value, 0x77u);
  EXPECT_EQ(c.loads()[1].time, ns(100000) + ns(1));  // at 100 us, after the TLB lookup
  EXPECT_EQ(c.loads()[1].op_index, 3u);
  ASSERT_EQ(c.ops().size(), 4u);
  EXPECT_EQ(c.ops()[0].result, int64_t(kVa));
  EXPECT_EQ(counter("core0.page_faults"), 2u);  // zero-page read, then COW of the zero page
  ASSERT_EQ(b.rec.cpu.size(), 3u);
  EXPECT_TRUE(b.rec.cpu[1].is_write);
  EXPECT_EQ(b.rec.cpu[1].value, 0x77u);
  EXPECT_EQ(b.rec.cpu[1].thread, "CPU-thread-0");
  EXPECT_EQ(b.rec.cpu[1].pa, c.loads()[1].pa);
  EXPECT_EQ(Diagnostics::global().total(), 0u);
}

TEST(Core, MprotectMakesStoresFaultAndKillsTheThread) {
  CpuBench b(1);
  Core& c = *b.core[0];
  ThreadProgram p;
  p.ops = {ThreadOp::mmap(kVa, kPage),
           ThreadOp::store(kVa, 1),
           ThreadOp::mprotect(kVa, kPage, kProtRead),
           ThreadOp::load(kVa),
           ThreadOp::store(kVa, 2),
           ThreadOp::load(kVa)};
  c.set_program(p);
  b.os.create_mm(1);
  sc_core::sc_start(sc_time(1, sc_core::SC_MS));
  ASSERT_EQ(c.ops().size(), 5u);  // the last load never ran
  EXPECT_EQ(c.ops()[2].result, 0);
  EXPECT_EQ(c.ops()[3].result, 0);
  EXPECT_EQ(c.ops()[4].result, -14);
  EXPECT_TRUE(c.killed());
  ASSERT_EQ(c.loads().size(), 1u);
  EXPECT_EQ(c.loads()[0].value, 1u);
  EXPECT_EQ(b.os.faults().count(FaultResult::kSegv), 1u);
}

TEST(Core, CowAfterForkEachProcessSeesItsOwnValue) {
  CpuBench b(2);
  ThreadProgram parent, child;
  parent.name = "parent";
  parent.ops = {ThreadOp::mmap(kVa, kPage),     ThreadOp::store(kVa, 1), ThreadOp::fork(2),
                ThreadOp::load(kVa).at(200000), ThreadOp::store(kVa, 3), ThreadOp::load(kVa)};
  child.name = "child";
  child.mm_id = 2;
  child.ops = {ThreadOp::store(kVa, 2).at(100000), ThreadOp::load(kVa)};
  b.core[0]->set_program(parent);
  b.core[1]->set_program(child);
  b.os.create_mm(1);
  sc_core::sc_start(sc_time(1, sc_core::SC_MS));
  ASSERT_EQ(b.core[0]->loads().size(), 2u);
  EXPECT_EQ(b.core[0]->loads()[0].value, 1u);  // the child's write did not leak
  EXPECT_EQ(b.core[0]->loads()[1].value, 3u);
  ASSERT_EQ(b.core[1]->loads().size(), 1u);
  EXPECT_EQ(b.core[1]->loads()[0].value, 2u);
  EXPECT_NE(b.core[1]->loads()[0].pa, b.core[0]->loads()[0].pa);
  EXPECT_EQ(b.os.faults().count(FaultResult::kCowCopy), 1u);   // the child's store
  EXPECT_EQ(b.os.faults().count(FaultResult::kCowReuse), 1u);  // the parent's later store
}

// The program's preemption hold separates the PTL drop from invalidate_range_end of the
// OS work it triggers (here the COW of its store), under the range_end policy.
TEST(Core, ProgramPreemptionHoldDelaysRangeEnd) {
  OsConfig os_cfg = test::bench_os();
  os_cfg.secondary_tlb_flush = "range_end";
  CpuBench b(1, {}, os_cfg);
  test::EventLog log;
  test::RangeRecorder rr(log);
  Mm& mm = b.os.create_mm(1);
  sc_core::sc_spawn([&] { mm.notifier_subscriptions().register_notifier(&rr); });
  ThreadProgram p;
  p.preempt_hold_ns = 3000;
  p.ops = {ThreadOp::mmap(kVa, kPage).at(1000), ThreadOp::store(kVa, 1), ThreadOp::fork(2),
           ThreadOp::store(kVa, 2)};
  b.core[0]->set_program(p);
  sc_core::sc_start(sc_time(1, sc_core::SC_MS));
  // fork (PROTECTION_PAGE) and the COW (CLEAR).
  ASSERT_EQ(log.ev.size(), 4u);
  EXPECT_EQ(log.ev[2].rfind("start CLEAR", 0), 0u);
  EXPECT_EQ(log.ev[3].rfind("end CLEAR", 0), 0u);
  const PteChangeEvent& cow = b.rec.ptes.back();
  EXPECT_EQ(cow.reason, "cow");
  EXPECT_EQ(log.at[3] - cow.time, ns(3000));
  // The fork's range also waited for the hold after its PTL section.
  EXPECT_GE(log.at[1] - log.at[0], ns(3000));
  EXPECT_EQ(Diagnostics::global().total(), 0u);
}

}  // namespace
}  // namespace iosim
