// Tests of RwSemaphore: shared readers, writers waiting for all holders, FIFO
// fairness, wake-up and acquisition costs, might_sleep in atomic context, downgrade.
#include "os/rw_semaphore.h"

#include <gtest/gtest.h>

#include <vector>

#include "os/spin_lock.h"
#include "sc_models/config/params.h"
#include "tests/os/lock_bench.h"

namespace iosim {
namespace {

using namespace test;  // tests/os/lock_bench.h

constexpr double kAcquireNs = 10;

RwSemaphoreConfig cfg() {
  RwSemaphoreConfig c;
  c.acquire_ns = kAcquireNs;
  c.wakeup_latency_ns = kWakeNs;
  return c;
}

TEST(RwSemaphore, ReadersShareAndAWriterWaitsForAllOfThem) {
  TestOs os;
  RwSemaphore s(os, "s", cfg());
  sc_time r1_in, r2_in, w_in;
  unsigned readers_at_200 = 0;
  run_threads({[&] {
                 s.down_read();
                 r1_in = sc_time_stamp();
                 until(500);
                 s.up_read();
               },
               [&] {
                 until(50);
                 s.down_read();
                 r2_in = sc_time_stamp();
                 until(300);
                 s.up_read();
               },
               [&] {
                 until(100);
                 s.down_write();
                 w_in = sc_time_stamp();
                 s.up_write();
               },
               [&] {
                 until(200);
                 readers_at_200 = s.reader_count();
               }});
  EXPECT_EQ(r1_in, ns(kAcquireNs));
  EXPECT_EQ(r2_in, ns(50 + kAcquireNs));  // shares with r1
  EXPECT_EQ(readers_at_200, 2u);
  EXPECT_EQ(w_in, ns(500 + kWakeNs + kAcquireNs));
  EXPECT_EQ(s.stats().read_acquisitions, 2u);
  EXPECT_EQ(s.stats().write_acquisitions, 1u);
  EXPECT_EQ(s.stats().contended, 1u);
  EXPECT_EQ(s.stats().wait_total, ns(500 + kWakeNs - 100));
  EXPECT_EQ(os.diagnostics().total(), 0u);
}

TEST(RwSemaphore, QueuedWriterBlocksLaterReadersFifo) {
  TestOs os;
  RwSemaphore s(os, "s", cfg());
  std::vector<std::string> order;
  sc_time w_in, r2_in;
  run_threads({[&] {
                 s.down_read();
                 order.push_back("r1");
                 until(500);
                 s.up_read();
               },
               [&] {
                 until(100);
                 s.down_write();
                 order.push_back("w");
                 w_in = sc_time_stamp();
                 until(700);
                 s.up_write();
               },
               [&] {
                 until(200);
                 s.down_read();  // a reader could share with r1, but the writer is queued
                 order.push_back("r2");
                 r2_in = sc_time_stamp();
                 s.up_read();
               }});
  EXPECT_EQ(order, (std::vector<std::string>{"r1", "w", "r2"}));
  EXPECT_EQ(w_in, ns(500 + kWakeNs + kAcquireNs));
  EXPECT_EQ(r2_in, ns(700 + kWakeNs + kAcquireNs));
  EXPECT_EQ(s.stats().write_hold_total, ns(700) - w_in);
}

TEST(RwSemaphore, TakingItInAtomicContextIsReportedEvenUncontended) {
  TestOs os;
  RwSemaphore s(os, "mmap_lock", cfg());
  SpinLock ptl(os, "ptl", SpinLockConfig{});
  test::run_thread([&] {
    ptl.lock();
    s.down_read();
    s.up_read();
    ptl.unlock();
    s.down_write();  // fine outside the spin lock
    s.up_write();
  });
  auto d = os.diagnostics().of_kind(DiagKind::kSleepInAtomic);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_NE(d[0].message.find("down_read"), std::string::npos);
}

TEST(RwSemaphore, DowngradeWakesQueuedReaders) {
  TestOs os;
  RwSemaphore s(os, "s", cfg());
  std::vector<sc_time> reader_in(2);
  unsigned readers_at_450 = 0;
  bool writer_gone = false;
  run_threads({[&] {
                 s.down_write();
                 until(300);
                 s.downgrade_write();
                 until(450);
                 readers_at_450 = s.reader_count();
                 writer_gone = !s.is_write_locked();
                 s.up_read();
               },
               [&] {
                 until(50);
                 s.down_read();
                 reader_in[0] = sc_time_stamp();
                 s.up_read();
               },
               [&] {
                 until(60);
                 s.down_read();
                 reader_in[1] = sc_time_stamp();
                 until(460);
                 s.up_read();
               }});
  EXPECT_EQ(reader_in[0], ns(300 + kWakeNs + kAcquireNs));
  EXPECT_EQ(reader_in[1], ns(300 + kWakeNs + kAcquireNs));
  EXPECT_EQ(readers_at_450, 2u);  // the downgraded writer and the second reader
  EXPECT_TRUE(writer_gone);
  EXPECT_FALSE(s.is_locked());
}

TEST(RwSemaphore, HolderQueriesAndMisuseReports) {
  TestOs os;
  RwSemaphore s(os, "mmap_lock", cfg());
  bool writer_held = false, other_held = true, asserted_other = true;
  run_threads({[&] {
                 s.down_write();
                 writer_held = s.write_held_by_current();
                 until(100);
                 s.up_write();
               },
               [&] {
                 until(50);
                 other_held = s.held_by_current();
                 asserted_other = s.assert_write_held("mmu_notifier_register");
                 s.up_read();  // not a reader
               }});
  EXPECT_TRUE(writer_held);
  EXPECT_FALSE(other_held);
  EXPECT_FALSE(asserted_other);
  EXPECT_EQ(os.diagnostics().count(DiagKind::kLockNotHeld), 2u);
  EXPECT_FALSE(s.is_locked());
}

TEST(RwSemaphore, ReadHoldsAreCountedPerThreadAndReleasedInAnyOrder) {
  // The read holds are a list per thread: a thread reading twice holds it until its
  // second up_read, readers leave in another order than they came, and the writer
  // gets the lock when the last hold is gone.
  TestOs os;
  RwSemaphore s(os, "s", cfg());
  std::vector<unsigned> counts;  // reader_count() at 100, 250 and 350
  unsigned held_before_release = 0, held_after_leaving = 0;
  sc_time w_in;
  // Takes the lock `times` times at `in`, releases one hold 50 ns before the next,
  // the last at `out`.
  auto reader = [&](double in, int times, double out) {
    return [&, in, times, out] {
      until(in);
      for (int n = 0; n < times; ++n) s.down_read();
      for (int n = times - 1; n >= 0; --n) {
        until(out - 50 * n);
        held_before_release += s.read_held_by_current();
        s.up_read();
      }
      held_after_leaving += s.read_held_by_current();
    };
  };
  run_threads({reader(0, 2, 200), reader(20, 1, 400), reader(40, 1, 300),
               [&] {
                 for (double t : {100, 250, 350}) {
                   until(t);
                   counts.push_back(s.reader_count());
                 }
               },
               [&] {
                 until(60);
                 s.down_write();
                 w_in = sc_time_stamp();
                 s.up_write();
               }});
  EXPECT_EQ(counts, (std::vector<unsigned>{4, 2, 1}));
  EXPECT_EQ(held_before_release, 4u);
  EXPECT_EQ(held_after_leaving, 0u);
  EXPECT_EQ(w_in, ns(400 + kWakeNs + kAcquireNs));
  EXPECT_EQ(s.stats().read_acquisitions, 4u);
  EXPECT_FALSE(s.is_locked());
  EXPECT_EQ(os.diagnostics().total(), 0u);
}

TEST(RwSemaphore, InvalidConfigIsAParamError) {
  TestOs os;
  RwSemaphoreConfig c;
  c.wakeup_latency_ns = -5;
  EXPECT_THROW(RwSemaphore(os, "bad", c), ParamError);
  auto params = list_params(c);
  ASSERT_EQ(params.size(), 2u);
  EXPECT_EQ(params[1].name, "wakeup_latency_ns");
}

}  // namespace
}  // namespace iosim
