// CpuThread: thread programs run on the cores through the operation table: loads
// and stores with their faults, OS calls, "@T" times, the preemption hold, the records
// and the end of a killed thread.
#include "platform/cpu_thread.h"

#include <gtest/gtest.h>

#include "os/os_context.h"
#include "platform/cpu_operations.h"
#include "tests/cpu/cpu_bench.h"
#include "tests/os/mm_bench.h"

namespace iosim {
namespace {

using sc_core::sc_time;
using sc_core::sc_time_stamp;
using test::CpuBench;

constexpr uint64_t kVa = uint64_t{1} << 32;
constexpr uint64_t kPage = 4096;

// Operations as a generator builds them: the table entry and the decoded arguments.
ThreadOp op(const char* name) {
  ThreadOp o;
  o.op = find_cpu_operation(name);
  EXPECT_NE(o.op, nullptr) << name;
  return o;
}
ThreadOp load(uint64_t va) {
  ThreadOp o = op("load");
  o.addr = va;
  return o;
}
ThreadOp store(uint64_t va, uint64_t v) {
  ThreadOp o = op("store");
  o.addr = va;
  o.value = v;
  return o;
}
ThreadOp range(const char* name, uint64_t va, uint64_t len) {
  ThreadOp o = op(name);
  o.addr = va;
  o.len = len;
  return o;
}
ThreadOp mmap(uint64_t va, uint64_t len) {
  return range("mmap", va, len);  // prot rw, private: the ThreadOp defaults
}
ThreadOp mprotect(uint64_t va, uint64_t len, uint32_t prot) {
  ThreadOp o = range("mprotect", va, len);
  o.prot = prot;
  return o;
}
ThreadOp fork(uint32_t child) {
  ThreadOp o = op("fork");
  o.mm2 = child;
  return o;
}
ThreadOp wait_op(double t_ns) {
  ThreadOp o = op("wait");
  o.duration_ns = t_ns;
  return o;
}
// The same operation, starting no earlier than `t_ns`.
ThreadOp at(ThreadOp o, double t_ns) {
  o.at_ns = t_ns;
  return o;
}

TlbShootdownConfig round_config() {
  TlbShootdownConfig c;
  c.ipi_round_trip_ns = 2000;
  c.ipi_send_ns = 100;
  c.invlpg_ns = 80;
  c.full_flush_ns = 150;
  return c;
}

TEST(CpuThread, ProgramFaultsRetriesAndRecordsLoads) {
  CpuBench b(1);
  ThreadProgram p;
  p.name = "CPU-thread-0";
  p.ops = {mmap(kVa, 2 * kPage), load(kVa), store(kVa, 0x77), at(load(kVa), 100000)};
  CpuThread c(p, *b.core[0], b.os);
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
  EXPECT_EQ(b.counter("core0.page_faults"), 2u);  // zero-page read, then COW of the zero page
  ASSERT_EQ(b.rec.cpu.size(), 3u);
  EXPECT_TRUE(b.rec.cpu[1].is_write);
  EXPECT_EQ(b.rec.cpu[1].value, 0x77u);
  EXPECT_EQ(b.rec.cpu[1].thread, "CPU-thread-0");
  EXPECT_EQ(b.rec.cpu[1].pa, c.loads()[1].pa);
  EXPECT_EQ(b.os.context().diagnostics().total(), 0u);
}

TEST(CpuThread, MprotectMakesStoresFaultAndKillsTheThread) {
  CpuBench b(1);
  ThreadProgram p;
  p.ops = {mmap(kVa, kPage), store(kVa, 1), mprotect(kVa, kPage, kProtRead),
           load(kVa),        store(kVa, 2), load(kVa)};
  CpuThread c(p, *b.core[0], b.os);
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

TEST(CpuThread, CowAfterForkEachProcessSeesItsOwnValue) {
  CpuBench b(2);
  ThreadProgram parent, child;
  parent.name = "parent";
  parent.ops = {mmap(kVa, kPage),      store(kVa, 1), fork(2),
                at(load(kVa), 200000), store(kVa, 3), load(kVa)};
  child.name = "child";
  child.mm_id = 2;
  child.ops = {at(store(kVa, 2), 100000), load(kVa)};
  CpuThread t0(parent, *b.core[0], b.os), t1(child, *b.core[1], b.os);
  b.os.create_mm(1);
  sc_core::sc_start(sc_time(1, sc_core::SC_MS));
  ASSERT_EQ(t0.loads().size(), 2u);
  EXPECT_EQ(t0.loads()[0].value, 1u);  // the child's write did not leak
  EXPECT_EQ(t0.loads()[1].value, 3u);
  ASSERT_EQ(t1.loads().size(), 1u);
  EXPECT_EQ(t1.loads()[0].value, 2u);
  EXPECT_NE(t1.loads()[0].pa, t0.loads()[0].pa);
  EXPECT_EQ(b.os.faults().count(FaultResult::kCowCopy), 1u);   // the child's store
  EXPECT_EQ(b.os.faults().count(FaultResult::kCowReuse), 1u);  // the parent's later store
}

// The program's preemption hold separates the PTL drop from invalidate_range_end of the
// OS work it triggers (here the COW of its store), under the range_end policy.
TEST(CpuThread, ProgramPreemptionHoldDelaysRangeEnd) {
  OsConfig os_cfg = test::bench_os();
  os_cfg.secondary_tlb_flush = SecondaryTlbFlush::kRangeEnd;
  CpuBench b(1, {}, os_cfg);
  test::EventLog log;
  test::RangeRecorder rr(log);
  Mm& mm = b.os.create_mm(1);
  sc_core::sc_spawn([&] { mm.notifier_subscriptions().register_notifier(&rr); });
  ThreadProgram p;
  p.preempt_hold_ns = 3000;
  p.ops = {at(mmap(kVa, kPage), 1000), store(kVa, 1), fork(2), store(kVa, 2)};
  CpuThread t(p, *b.core[0], b.os);
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
  EXPECT_EQ(b.os.context().diagnostics().total(), 0u);
}

TEST(CpuThread, MunmapOnOneCoreInvalidatesTheOtherCoresTlb) {
  CpuBench b(2, round_config());
  ThreadProgram p0, p1;
  p0.ops = {mmap(kVa, kPage), store(kVa, 9), at(range("munmap", kVa, kPage), 50000)};
  p1.ops = {at(load(kVa), 20000), at(load(kVa), 100000)};
  CpuThread t0(p0, *b.core[0], b.os), t1(p1, *b.core[1], b.os);
  b.os.create_mm(1);
  sc_core::sc_start(sc_time(1, sc_core::SC_MS));
  ASSERT_EQ(t1.loads().size(), 1u);
  EXPECT_EQ(t1.loads()[0].value, 9u);
  // The second load found no stale TLB entry: it walked, faulted and was killed.
  EXPECT_TRUE(t1.killed());
  EXPECT_EQ(b.shootdown.ipis_sent(), 1u);
  EXPECT_EQ(b.os.context().diagnostics().total(), 0u);
}

// Every operation is recorded with its table entry (the stats' name) and its start and
// end; a wait is not in the process (no mm lookup: it runs before any mm exists).
TEST(CpuThread, RecordsEveryOperationWithItsEntryAndTimes) {
  CpuBench b(1);
  ThreadProgram p;
  p.mm_id = 7;
  p.ops = {wait_op(500), at(mmap(kVa, kPage), 2000), store(kVa, 4), load(kVa), op("exit"),
           load(kVa)};
  CpuThread t(p, *b.core[0], b.os);
  sc_core::sc_spawn([&] {
    sc_core::wait(ns(1000));
    b.os.create_mm(7);
  });
  sc_core::sc_start(sc_time(1, sc_core::SC_MS));
  ASSERT_EQ(t.ops().size(), 5u);  // nothing runs after exit
  const char* names[] = {"wait", "mmap", "store", "load", "exit"};
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(t.ops()[i].op->recorded_as, names[i]);
    EXPECT_EQ(t.ops()[i].op_index, i);
  }
  EXPECT_EQ(t.ops()[0].start, sc_time(0, sc_core::SC_NS));
  EXPECT_EQ(t.ops()[0].end, ns(500));
  EXPECT_EQ(t.ops()[1].start, ns(2000));
  EXPECT_EQ(t.ops()[1].result, int64_t(kVa));
  EXPECT_EQ(t.ops()[2].start, t.ops()[1].end);
  ASSERT_EQ(t.loads().size(), 1u);
  EXPECT_EQ(t.loads()[0].value, 4u);
  EXPECT_EQ(t.loads()[0].op_index, 3u);
  EXPECT_TRUE(t.killed());
  EXPECT_TRUE(b.core[0]->finished());
  EXPECT_EQ(b.counter("core0.stores"), 1u);
}

// With a start event the program begins when it fires, and "@T" counts from then.
TEST(CpuThread, AStartEventDelaysTheProgramAndItsTimes) {
  CpuBench b(1);
  sc_core::sc_event start;
  ThreadProgram p;
  p.ops = {at(mmap(kVa, kPage), 300), load(kVa)};
  CpuThread t(p, *b.core[0], b.os, &start);
  b.os.create_mm(1);
  sc_core::sc_spawn([&] {
    sc_core::wait(ns(5000));
    start.notify(sc_core::SC_ZERO_TIME);
  });
  sc_core::sc_start(sc_time(1, sc_core::SC_MS));
  EXPECT_EQ(t.start_time(), ns(5000));
  ASSERT_EQ(t.ops().size(), 2u);
  EXPECT_EQ(t.ops()[0].start, ns(5300));
  EXPECT_EQ(b.rec.cpu.size(), 1u);
}

}  // namespace
}  // namespace iosim
