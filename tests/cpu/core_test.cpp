#include "cpu/core.h"

#include <gtest/gtest.h>

#include "os/diagnostics.h"
#include "tests/cpu/cpu_bench.h"
#include "tests/os/mm_bench.h"

namespace iosim {
namespace {

using sc_core::sc_time;
using sc_core::sc_time_stamp;
using test::CpuBench;
using test::kMemAccessNs;
using test::run_thread;
using test::space;

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
    ASSERT_TRUE(c.load(space(mm), kVa));
    // TLB lookup (1 cycle) + PWC probe (2 cycles) + 4 entry reads + the data read.
    EXPECT_EQ(sc_time_stamp() - t0, ns(1 + 2 + 4 * kMemAccessNs + kMemAccessNs));
    t0 = sc_time_stamp();
    ASSERT_TRUE(c.load(space(mm), kVa + 8));
    EXPECT_EQ(sc_time_stamp() - t0, ns(1 + kMemAccessNs));  // hit: lookup + data read
  });
  EXPECT_EQ(b.counter("core0.tlb_misses"), 1u);
  EXPECT_EQ(b.counter("core0.tlb_hits"), 1u);
  EXPECT_EQ(b.counter("core0.walk_reads"), 4u);
}

// A 2 MiB leaf: the walk stops at the PD entry and fills one 2 MiB TLB entry that
// serves the whole 2 MiB; a shootdown of one 4 KiB page inside drops it.
TEST(Core, PmdLeafFillsOne2MTlbEntryAndAPageShootdownDropsIt) {
  OsConfig oc = test::bench_os();
  ASSERT_TRUE(assign_param(oc, "thp", "always"));
  CpuBench b(1, {}, oc);
  Core& c = *b.core[0];
  constexpr uint64_t k2M = uint64_t{1} << 21;
  run_thread([&] {
    Mm& mm = b.os.create_mm(1);
    b.os.mmap(mm, 0, kVa, k2M, kProtRead | kProtWrite, false);
    ASSERT_EQ(b.os.handle_fault(mm, 0, kVa, true), FaultResult::kAnonymous);
    const uint64_t pa = mm.present_leaf(kVa)->pte.page_address(PageSize::k2M);
    ASSERT_TRUE(c.load(space(mm), kVa + 0x1000));
    const auto hit = c.load(space(mm), kVa + 0x1ff008);
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->pa, pa + 0x1ff008);
    const TranslationEntry* e = c.tlb().peek(TranslationTag{kNoPasid, 1}, kVa + 0x100000);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->log2_size, 21u);
    EXPECT_EQ(e->base, kVa);
    EXPECT_EQ(e->translate(kVa + 0x100010), pa + 0x100010);
    c.invalidate_range(1, kVa + 0x5000, kVa + 0x6000);
    EXPECT_EQ(c.tlb().peek(TranslationTag{kNoPasid, 1}, kVa + 0x100000), nullptr);
  });
  EXPECT_EQ(b.counter("core0.tlb_misses"), 1u);
  EXPECT_EQ(b.counter("core0.tlb_hits"), 1u);
  EXPECT_EQ(b.counter("core0.walk_reads"), 3u);  // PML4, PDPT, PD (the leaf)
}

// A 1 GiB leaf: the walk stops at the PDPT entry; one 1 GiB TLB entry.
TEST(Core, PudLeafFillsOne1GTlbEntry) {
  CpuBench b(1);
  Core& c = *b.core[0];
  run_thread([&] {
    Mm& mm = b.os.create_mm(1);
    mm.editor().map(mm.root(), kVa, 0, PageSize::k1G,
                    Pte::kUser | Pte::kWritable | Pte::kAccessed | Pte::kDirty);
    const auto a = c.load(space(mm), kVa + 0x12345008);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->pa, 0x12345008u);
    ASSERT_TRUE(c.load(space(mm), kVa + 0x3ffff000));
    const TranslationEntry* e = c.tlb().peek(TranslationTag{kNoPasid, 1}, kVa);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->log2_size, 30u);
    c.invalidate_range(1, kVa + 0x3ffff000, kVa + 0x40000000);
    EXPECT_EQ(c.tlb().peek(TranslationTag{kNoPasid, 1}, kVa), nullptr);
  });
  EXPECT_EQ(b.counter("core0.tlb_misses"), 1u);
  EXPECT_EQ(b.counter("core0.tlb_hits"), 1u);
  EXPECT_EQ(b.counter("core0.walk_reads"), 2u);  // PML4, PDPT (the leaf)
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
      const uint64_t before = b.counter("core0.walk_reads");
      ASSERT_TRUE(c.load(space(mm), va));
      reads.push_back(b.counter("core0.walk_reads") - before);
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
    ASSERT_TRUE(c.load(space(mm), kVa));
    EXPECT_TRUE(mm.pte(kVa).accessed());
    EXPECT_FALSE(mm.pte(kVa).dirty());
    EXPECT_EQ(b.counter("core0.walk_writes"), 1u);
    // The TLB entry is writable but not dirty: the store re-walks to set D.
    ASSERT_TRUE(c.store(space(mm), kVa, 5));
    EXPECT_TRUE(mm.pte(kVa).dirty());
    EXPECT_EQ(b.counter("core0.walk_writes"), 2u);
    EXPECT_EQ(b.counter("core0.tlb_misses"), 2u);
    ASSERT_TRUE(c.store(space(mm), kVa + 8, 6));  // now a plain hit
    EXPECT_EQ(b.counter("core0.tlb_hits"), 1u);
    EXPECT_EQ(b.mem.read_u64(frame), 5u);
  });
}

// A page-fault handler that records every call and passes it to the kernel, or
// refuses every fault (fatal) without touching anything.
struct RecordingFaultHandler : PageFaultHandler {
  struct Call {
    int cpu;
    uint32_t asid;
    uint64_t va;
    bool write;
  };
  explicit RecordingFaultHandler(Kernel* os) : os(os) {}
  bool handle_page_fault(int cpu, uint32_t asid, uint64_t va, bool write) override {
    calls.push_back({cpu, asid, va, write});
    return os && os->handle_page_fault(cpu, asid, va, write);
  }
  Kernel* os;
  std::vector<Call> calls;
};

TEST(Core, AFaultEntersThePageFaultHandlerAndTheAccessRetries) {
  CpuBench b(0);
  RecordingFaultHandler h(&b.os);
  Core c("probe", b.ctx, test::bench_core(), 3, h, &b.gt);
  c.socket.bind(b.bus.targets);
  run_thread([&] {
    Mm& mm = b.os.create_mm(5);
    b.os.mmap(mm, 3, kVa, kPage, kProtRead | kProtWrite, false);
    const auto first = c.load(space(mm), kVa + 16);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->pa, b.os.allocator().zero_page() + 16);  // the zero page, after one fault
    EXPECT_EQ(first->value, 0u);
    ASSERT_TRUE(c.store(space(mm), kVa + 16, 0x55));  // COW of the zero page: a write fault
    const auto second = c.load(space(mm), kVa + 16);
    ASSERT_TRUE(second);
    EXPECT_EQ(second->value, 0x55u);
    EXPECT_NE(second->pa, first->pa);
  });
  ASSERT_EQ(h.calls.size(), 2u);
  EXPECT_EQ(h.calls[0].cpu, 3);
  EXPECT_EQ(h.calls[0].asid, 5u);
  EXPECT_EQ(h.calls[0].va, kVa + 16);
  EXPECT_FALSE(h.calls[0].write);
  EXPECT_TRUE(h.calls[1].write);
  EXPECT_EQ(b.counter("probe.page_faults"), 2u);
  // The ground truth names the accesses after the core's thread until one is set.
  ASSERT_EQ(b.rec.cpu.size(), 3u);
  EXPECT_EQ(b.rec.cpu[1].thread, "probe-thread");
  EXPECT_EQ(b.rec.cpu[1].mm_id, 5u);
}

TEST(Core, AFatalFaultFailsTheAccessAfterOneHandlerCall) {
  CpuBench b(0);
  RecordingFaultHandler h(nullptr);
  Core c("probe", b.ctx, test::bench_core(), 0, h, &b.gt);
  c.socket.bind(b.bus.targets);
  run_thread([&] {
    Mm& mm = b.os.create_mm(1);
    EXPECT_FALSE(c.load(space(mm), kVa));
    EXPECT_FALSE(c.store(space(mm), kVa, 1));
  });
  EXPECT_EQ(h.calls.size(), 2u);
  EXPECT_EQ(b.counter("probe.loads"), 0u);
  EXPECT_EQ(b.counter("probe.stores"), 0u);
  EXPECT_TRUE(b.rec.cpu.empty());
}

// The core's process runs the thread body it was given, from time 0, and is finished
// when the body returns; its accesses carry the thread's name.
TEST(Core, RunsItsThreadBodyAndFinishesWhenItReturns) {
  CpuBench b(2);
  Mm& mm = b.os.create_mm(1);
  sc_time done;
  b.core[0]->set_thread("worker", [&] {
    sc_core::wait(ns(100));
    b.os.mmap(mm, 0, kVa, kPage, kProtRead | kProtWrite, false);
    ASSERT_TRUE(b.core[0]->store(space(mm), kVa, 9));
    done = sc_time_stamp();
  });
  EXPECT_EQ(b.core[0]->thread_name(), "worker");
  sc_core::sc_start(sc_time(1, sc_core::SC_MS));
  EXPECT_TRUE(b.core[0]->finished());
  EXPECT_TRUE(b.core[1]->finished());  // no thread: finished at once
  EXPECT_GT(done, ns(100));
  ASSERT_EQ(b.rec.cpu.size(), 1u);
  EXPECT_EQ(b.rec.cpu[0].thread, "worker");
  EXPECT_EQ(b.rec.cpu[0].value, 9u);
}

}  // namespace
}  // namespace iosim
