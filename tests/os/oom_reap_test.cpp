// The OOM reaper (MmOps::oom_reap, mm/oom_kill.c): non-blockable notifier ranges, the
// VMA skipped (and no invalidate_range_end) when a subscriber would sleep, retries
// 100 ms apart up to MAX_OOM_REAP_RETRIES, and the mmap_lock trylock.
#include "os/mm_ops.h"

#include <gtest/gtest.h>

#include "os/diagnostics.h"
#include "tests/os/mm_bench.h"

namespace iosim {
namespace {

using test::frame_of;
using test::MmBench;
using test::run_thread;
using test::run_threads;

constexpr uint64_t kVa = test::kBenchVa;

// A subscriber whose invalidation must sleep (a driver taking a mutex): in a
// non-blockable range it returns -EAGAIN until `fail_until`. It declares that its
// start may fail and so has no end op (the header's rule).
class SleepingNotifier : public MmuNotifier {
 public:
  SleepingNotifier() : MmuNotifier("sleeper", kInvalidateRangeStart | kStartMayFail) {}
  int invalidate_range_start(const MmuNotifierRange& r) override {
    ++starts;
    if (!mmu_notifier_range_blockable(r) && sc_core::sc_time_stamp() < fail_until) {
      ++eagain;
      return -11;  // -EAGAIN
    }
    return 0;
  }
  sc_core::sc_time fail_until = sc_core::SC_ZERO_TIME;
  int starts = 0;
  int eagain = 0;
};

int count(const std::vector<std::string>& ev, const std::string& prefix) {
  int n = 0;
  for (const std::string& e : ev) n += e.rfind(prefix, 0) == 0;
  return n;
}

TEST(OomReap, ReapsEveryPrivateVmaInOneAttemptWhenNoSubscriberSleeps) {
  MmBench b;
  run_thread([&] {
    Mm& mm = b.populate(3);
    const uint64_t f0 = frame_of(mm, kVa);
    const MmOps::OomReapResult r = b.os.oom_reap(mm, 1);
    EXPECT_TRUE(r.reaped);
    EXPECT_EQ(r.attempts, 1);
    EXPECT_EQ(r.lock_contended, 0);
    EXPECT_EQ(r.start_failures, 0);
    EXPECT_EQ(r.ptes_cleared, 3u);
    EXPECT_FALSE(b.os.allocator().allocated(f0));
    EXPECT_EQ(mm.vmas().size(), 1u);  // the reaper leaves the VMAs
    // One non-blockable range, flushed under the PTL, then its end.
    EXPECT_EQ(count(b.log.ev, "start UNMAP"), 1);
    EXPECT_EQ(count(b.log.ev, "arch "), 1);
    EXPECT_EQ(count(b.log.ev, "end UNMAP"), 1);
  });
  EXPECT_EQ(b.os.context().diagnostics().total(), 0u);
}

TEST(OomReap, AnEagainStartSkipsTheVmaWithoutEndAndTheReaperRetries) {
  MmBench b;
  SleepingNotifier sleeper;
  sleeper.fail_until = sc_core::sc_time(250, sc_core::SC_MS);
  run_thread([&] {
    Mm& mm = b.populate(2);
    mm.notifier_subscriptions().register_notifier(&sleeper);
    const uint64_t f0 = frame_of(mm, kVa);
    const sc_core::sc_time t0 = sc_core::sc_time_stamp();
    const MmOps::OomReapResult r = b.os.oom_reap(mm, 1);
    // Attempts at 0, 100 ms and 200 ms fail (-EAGAIN), the one at 300 ms reaps.
    EXPECT_TRUE(r.reaped);
    EXPECT_EQ(r.attempts, 4);
    EXPECT_EQ(r.start_failures, 3);
    EXPECT_EQ(sleeper.eagain, 3);
    EXPECT_GE(sc_core::sc_time_stamp() - t0, sc_core::sc_time(300, sc_core::SC_MS));
    EXPECT_LT(sc_core::sc_time_stamp() - t0, sc_core::sc_time(301, sc_core::SC_MS));
    EXPECT_FALSE(b.os.allocator().allocated(f0));
    // No PTE was touched by a failed attempt: one flush (of the attempt that reaped).
    EXPECT_EQ(count(b.log.ev, "arch "), 1);
    EXPECT_EQ(count(b.log.ev, "cpu_flush"), 1);
    // The range subscriber's start of each failed attempt was ended by the notifier
    // layer itself; the reaper called invalidate_range_end only for the one it reaped.
    EXPECT_EQ(count(b.log.ev, "start UNMAP"), 4);
    EXPECT_EQ(count(b.log.ev, "end UNMAP"), 4);
  });
  const Diagnostics& d = b.os.context().diagnostics();
  EXPECT_EQ(d.count(DiagKind::kEndWithoutStart), 0u);
  EXPECT_EQ(d.total(), 0u);
}

TEST(OomReap, GivesUpAfterTenAttemptsAndLeavesThePages) {
  MmBench b;
  SleepingNotifier sleeper;
  sleeper.fail_until = sc_core::sc_time(10, sc_core::SC_SEC);
  run_thread(
      [&] {
        Mm& mm = b.populate(1);
        mm.notifier_subscriptions().register_notifier(&sleeper);
        const uint64_t f0 = frame_of(mm, kVa);
        const MmOps::OomReapResult r = b.os.oom_reap(mm, 1);
        EXPECT_FALSE(r.reaped);
        EXPECT_EQ(r.attempts, MmOps::kMaxOomReapRetries);
        EXPECT_EQ(r.start_failures, 10);
        EXPECT_EQ(r.ptes_cleared, 0u);
        EXPECT_TRUE(b.os.allocator().allocated(f0));
        EXPECT_TRUE(mm.pte(kVa).present());
        EXPECT_EQ(count(b.log.ev, "cpu_flush"), 0);
      },
      sc_core::sc_time(2, sc_core::SC_SEC));
  EXPECT_EQ(b.os.context().diagnostics().count(DiagKind::kEndWithoutStart), 0u);
}

TEST(OomReap, ATakenMmapLockFailsTheAttempt) {
  MmBench b;
  MmOps::OomReapResult r;
  Mm* mm = nullptr;
  run_threads({[&] {
                 mm = &b.populate(1);
                 mm->mmap_lock.down_write();
                 sc_core::wait(sc_core::sc_time(150, sc_core::SC_MS));
                 mm->mmap_lock.up_write();
               },
               [&] {
                 sc_core::wait(sc_core::sc_time(20, sc_core::SC_US));
                 r = b.os.oom_reap(*mm, 1);
               }});
  EXPECT_TRUE(r.reaped);
  EXPECT_EQ(r.attempts, 3);  // 20 us and 100 ms: taken; 200 ms: reaped
  EXPECT_EQ(r.lock_contended, 2);
  EXPECT_EQ(r.start_failures, 0);
}

}  // namespace
}  // namespace iosim
