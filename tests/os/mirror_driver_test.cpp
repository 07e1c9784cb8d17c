// MirrorDriver against a stub mirror device (its registers and interrupt lines, as in
// device/mirror_sw_interface.h) on the memory manager's bench (tests/os/mm_bench.h).
// The stub completes a TLB invalidation 500 ns after its doorbell by writing the
// status word and raising the invalidation interrupt.
#include "os/mirror_driver.h"

#include "os/mmu_notifier_subscriptions.h"
#include "sc_models/page_table/page_table.h"
#include "tests/os/mm_bench.h"

#include <gtest/gtest.h>
#include <tlm_utils/simple_target_socket.h>

#include <cstring>

namespace iosim {
namespace {

using sc_core::SC_NS;
using sc_core::sc_time;
using test::kBenchVa;
using test::MmBench;
using test::run_thread;
using test::run_threads;

constexpr uint16_t kRid = 0x100;

struct StubMirrorDevice : sc_core::sc_module, MirrorDeviceInterrupts {
  struct Write {
    uint64_t off, value;
    sc_time time;
  };
  tlm_utils::simple_target_socket<StubMirrorDevice> regs{"regs"};
  sc_core::sc_export<MirrorDeviceInterrupts> irq{"irq"};
  PhysicalMemory& mem;
  std::vector<Write> writes;
  uint64_t put = 0, get = 0, fault_base = 0, status = 0, root = 0;
  sc_core::sc_event fault_ev, inv_ev;

  StubMirrorDevice(sc_core::sc_module_name n, PhysicalMemory& m) : sc_module(n), mem(m) {
    regs.register_b_transport(this, &StubMirrorDevice::b_transport);
    irq.bind(*this);
  }
  const sc_core::sc_event& fault_event() const override { return fault_ev; }
  const sc_core::sc_event& invalidation_event() const override { return inv_ev; }

  void b_transport(tlm::tlm_generic_payload& gp, sc_time&) {
    uint64_t v = 0;
    std::memcpy(&v, gp.get_data_ptr(), 8);
    const uint64_t off = gp.get_address();
    if (gp.is_read()) {
      v = off == mirror_reg::kFaultPut ? put : off == mirror_reg::kFaultGet ? get : 0;
      std::memcpy(gp.get_data_ptr(), &v, 8);
    } else {
      writes.push_back({off, v, sc_core::sc_time_stamp()});
      if (off == mirror_reg::kFaultBase) fault_base = v;
      if (off == mirror_reg::kFaultGet) get = v;
      if (off == mirror_reg::kCtxRoot) root = v & ~uint64_t{0xfff};
      if (off == mirror_reg::kInvStatus) status = v;
      if (off == mirror_reg::kInvDoorbell) {
        const uint64_t addr = status;
        sc_core::sc_spawn([this, addr, v] {
          sc_core::wait(500, SC_NS);
          mem.write_u64(addr, v);
          inv_ev.notify();
        });
      }
    }
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
  }
  // The device reports a fault on `va` of context 0.
  void raise_fault(uint64_t va, bool write) {
    uint64_t raw[2];
    MirrorFaultRecord{va, write, 0}.encode(raw);
    mem.write(fault_base + put * kMirrorFaultRecordBytes, raw, sizeof raw);
    ++put;
    fault_ev.notify(sc_core::SC_ZERO_TIME);
  }
  size_t count(uint64_t off) const {
    size_t n = 0;
    for (const Write& w : writes) n += w.off == off;
    return n;
  }
  const Write* last(uint64_t off) const {
    for (auto it = writes.rbegin(); it != writes.rend(); ++it) {
      if (it->off == off) return &*it;
    }
    return nullptr;
  }
};

struct Bench : MmBench {
  StubMirrorDevice dev{"dev", mem};
  MirrorDriver drv;
  explicit Bench(const MirrorConfig& cfg) : drv("mirror", cfg, kRid, os) {
    drv.regs.bind(dev.regs);
    drv.irq.bind(dev.irq);
  }
  // The frame the device page table maps at `va`, 0 when none.
  uint64_t device_frame(uint64_t va) const {
    const WalkResult w = walk(mem, dev.root, va);
    return w.present() ? w.pa & ~uint64_t{0xfff} : 0;
  }
  // A device fault on `va`, handled (REPLAY written).
  void fault(uint64_t va, bool write = false) {
    const size_t replays = dev.count(mirror_reg::kReplay);
    dev.raise_fault(va, write);
    while (dev.count(mirror_reg::kReplay) == replays) sc_core::wait(1, SC_NS);
  }
};

MirrorConfig config(MirrorApi api, MirrorRefcount rc = MirrorRefcount::kDropAtStart) {
  MirrorConfig c;
  c.api = api;
  c.refcount = rc;
  return c;
}

TEST(MirrorDriver, BindProgramsTheContextAndAFaultMapsTheCpuFrame) {
  Bench b(config(MirrorApi::kInterval));
  run_thread([&] {
    Mm& mm = b.populate(1);
    b.drv.init();
    EXPECT_EQ(b.drv.bind(mm, 0), 0u);
    EXPECT_EQ(b.dev.root, b.dev.last(mirror_reg::kCtxRoot)->value & ~uint64_t{1});
    b.fault(kBenchVa + 8);
    EXPECT_EQ(b.device_frame(kBenchVa), test::frame_of(mm, kBenchVa));
    EXPECT_EQ(b.dev.get, 1u);  // the record was consumed
  });
  EXPECT_EQ(b.drv.faults(), 1u);
  EXPECT_EQ(b.drv.device_ptes(0), 1u);
  EXPECT_EQ(b.os.context().diagnostics().total(), 0u);
}

TEST(MirrorDriver, IntervalInvalidateClearsFlushesAndReportsBeforeTheMunmapReturns) {
  Bench b(config(MirrorApi::kInterval));
  sc_time munmap_done;
  run_thread([&] {
    Mm& mm = b.populate(1);
    b.drv.init();
    b.drv.bind(mm, 0);
    b.fault(kBenchVa);
    EXPECT_EQ(b.os.munmap(mm, 0, kBenchVa, Mm::kPageBytes), 0);
    munmap_done = sc_core::sc_time_stamp();
  });
  EXPECT_EQ(b.drv.device_ptes(0), 0u);
  EXPECT_EQ(b.drv.flushes(), 1u);
  ASSERT_EQ(b.rec.invals.size(), 1u);
  EXPECT_EQ(b.rec.invals[0].pasid, mirror_context_tag(kRid, 0));
  EXPECT_LE(b.rec.invals[0].time, munmap_done);
  EXPECT_GE(b.rec.invals[0].time - b.dev.last(mirror_reg::kInvDoorbell)->time, sc_time(500, SC_NS));
}

// Whether a munmap frees the mapped frame before the device TLB flush completes, for a
// range-API driver with refcount scheme `rc` (one simulation per test).
bool freed_before_flush(MirrorRefcount rc) {
  Bench b(config(MirrorApi::kRange, rc));
  uint64_t frame = 0;
  run_thread([&] {
    Mm& mm = b.populate(1);
    b.drv.init();
    b.drv.bind(mm, 0);
    b.fault(kBenchVa);
    frame = test::frame_of(mm, kBenchVa);
    EXPECT_EQ(b.os.allocator().refcount(frame), 2);  // the mapping's and the driver's
    EXPECT_EQ(b.os.munmap(mm, 0, kBenchVa, Mm::kPageBytes), 0);
  });
  EXPECT_FALSE(b.os.allocator().allocated(frame));
  sc_time freed = sc_core::SC_ZERO_TIME;
  for (const FrameEvent& f : b.rec.frames) {
    if (f.frame_pa == frame && !f.allocated) freed = f.time;
  }
  EXPECT_EQ(b.drv.flushes(), 1u);
  EXPECT_EQ(b.rec.invals.size(), 1u);
  return !b.rec.invals.empty() && freed < b.rec.invals.front().time;
}

TEST(MirrorDriver, DropAtStartFreesTheFrameAfterTheFlush) {
  EXPECT_FALSE(freed_before_flush(MirrorRefcount::kDropAtStart));
}

TEST(MirrorDriver, DropAtEndFreesTheFrameAfterTheFlush) {
  EXPECT_FALSE(freed_before_flush(MirrorRefcount::kDropAtEnd));
}

TEST(MirrorDriver, DropBeforeFlushFreesTheFrameWhileTheDeviceMayMapIt) {
  EXPECT_TRUE(freed_before_flush(MirrorRefcount::kDropBeforeFlush));
}

TEST(MirrorDriver, OwnMigrationIsSkippedOthersAreNot) {
  Bench b(config(MirrorApi::kInterval));
  run_thread([&] {
    Mm& mm = b.populate(1);
    b.drv.init();
    b.drv.bind(mm, 0);
    b.fault(kBenchVa);
    const uint64_t old = test::frame_of(mm, kBenchVa);
    EXPECT_EQ(b.os.migrate(mm, 0, kBenchVa, Mm::kPageBytes, b.drv.owner()), 1);
    EXPECT_EQ(b.device_frame(kBenchVa), old);  // its own migration: left alone
    EXPECT_EQ(b.os.migrate(mm, 0, kBenchVa, Mm::kPageBytes, nullptr), 1);
    EXPECT_EQ(b.device_frame(kBenchVa), 0u);
  });
  EXPECT_EQ(b.drv.owner_skipped(), 1u);
  EXPECT_EQ(b.drv.flushes(), 1u);
}

TEST(MirrorDriver, NonBlockableIntervalInvalidationWithMappingsRefuses) {
  Bench b(config(MirrorApi::kInterval));
  int ret = 0;
  run_thread([&] {
    Mm& mm = b.populate(2);
    b.drv.init();
    b.drv.bind(mm, 0);
    b.fault(kBenchVa);
    mm.mmap_lock.down_read();
    MmuNotifierRange r;
    // The second page has no device PTE: nothing would sleep.
    mmu_notifier_range_init(r, MmuNotifierEvent::kUnmap, 0, mm, kBenchVa + Mm::kPageBytes,
                            kBenchVa + 2 * Mm::kPageBytes);
    EXPECT_EQ(mmu_notifier_invalidate_range_start_nonblock(r), 0);
    mmu_notifier_invalidate_range_end(r);
    mmu_notifier_range_init(r, MmuNotifierEvent::kUnmap, 0, mm, kBenchVa,
                            kBenchVa + Mm::kPageBytes);
    ret = mmu_notifier_invalidate_range_start_nonblock(r);
    mm.mmap_lock.up_read();
  });
  EXPECT_NE(ret, 0);  // -EAGAIN
  EXPECT_EQ(b.drv.would_block(), 1u);
  EXPECT_EQ(b.drv.device_ptes(0), 1u);  // untouched
  EXPECT_EQ(b.drv.flushes(), 0u);
}

TEST(MirrorDriver, IntervalFaultInRetriesWhenAnInvalidationCollides) {
  MirrorConfig c = config(MirrorApi::kInterval);
  c.per_fault_ns = 20000;  // the window between reading the CPU PTE and the lock
  Bench b(c);
  run_threads({[&] {
                 Mm& mm = b.populate(1);
                 b.drv.init();
                 b.drv.bind(mm, 0);
                 b.fault(kBenchVa);
               },
               [&] {
                 sc_core::wait(10, sc_core::SC_US);  // inside the fault-in
                 Mm& mm = b.os.mm(1);
                 b.os.madvise_dontneed(mm, 1, kBenchVa, Mm::kPageBytes);
               }});
  EXPECT_EQ(b.drv.fault_retries(), 1u);
  EXPECT_EQ(b.drv.repeated_invalidations(), 1u);  // nothing was mapped yet
  EXPECT_EQ(b.drv.device_ptes(0), 1u);            // mapped again after the retry
}

}  // namespace
}  // namespace iosim
