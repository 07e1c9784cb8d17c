// Tests of the interval notifiers: the invalidate_seq protocol (even idle, odd while
// an invalidation hits an interval), read_begin/read_retry/check_retry/set_seq,
// deferred insert/remove, non-blocking failure and the RELEASE invalidation.
#include <gtest/gtest.h>

#include <cerrno>
#include <limits>

#include "os/mm_struct.h"
#include "tests/os/lock_bench.h"

namespace iosim {
namespace {

using namespace test;  // tests/os/lock_bench.h
using State = MmuIntervalNotifier::State;

MmStructConfig test_cfg() {
  MmStructConfig c = lock_test_mm_config(1);
  c.notifier.wakeup_latency_ns = kWakeNs;
  return c;
}

struct Call {
  std::string who;
  MmuNotifierEvent event;
  uint64_t cur_seq;
  bool blockable;
  sc_time time;
};

// A mirror that follows the kernel's recipe: set_seq in invalidate(), and can be told
// to take time or to refuse a non-blockable invalidation.
class Mirror : public MmuIntervalNotifier {
 public:
  Mirror(std::string name, std::vector<Call>& calls)
      : MmuIntervalNotifier(std::move(name)), calls_(calls) {}
  bool would_block = false;
  sc_time cost = sc_core::SC_ZERO_TIME;
  MmuNotifierRange last_range;

  bool invalidate(const MmuNotifierRange& r, uint64_t cur_seq) override {
    calls_.push_back({name(), r.event, cur_seq, mmu_notifier_range_blockable(r), sc_time_stamp()});
    last_range = r;
    if (would_block && !mmu_notifier_range_blockable(r)) return false;
    mmu_interval_set_seq(*this, cur_seq);
    if (cost > sc_core::SC_ZERO_TIME) sc_core::wait(cost);
    return true;
  }

 private:
  std::vector<Call>& calls_;
};

// One invalidation [start, end) under mmap_lock for read, kept open until `until`.
void invalidate(MmStruct& mm, uint64_t start, uint64_t end, sc_time until,
                MmuNotifierEvent e = MmuNotifierEvent::kUnmap) {
  mm.mmap_lock.down_read();
  MmuNotifierRange r;
  mmu_notifier_range_init(r, e, 0, mm, start, end);
  mmu_notifier_invalidate_range_start(r);
  if (sc_time_stamp() < until) sc_core::wait(until - sc_time_stamp());
  mmu_notifier_invalidate_range_end(r);
  mm.mmap_lock.up_read();
}

std::vector<std::string> who(const std::vector<Call>& calls) {
  std::vector<std::string> out;
  for (const auto& c : calls) out.push_back(c.who);
  return out;
}

const MmuIntervalTree& tree(MmStruct& mm) {
  return mm.notifier_subscriptions().itree();
}

TEST(MmuIntervalNotifier, FirstInsertRegistersTreeAndIdleSeqIsOddBelowMmSeq) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  std::vector<Call> calls;
  Mirror m("m", calls);
  int ret = -1;
  uint64_t seq = 0;
  sc_time inserted, began;
  test::run_thread([&] {
    ret = mmu_interval_notifier_insert(m, mm, 0x1000, 0x1000);
    inserted = sc_time_stamp();
    seq = mmu_interval_read_begin(m);
    began = sc_time_stamp();
  });
  EXPECT_EQ(ret, 0);
  EXPECT_TRUE(mm.notifier_subscriptions().has_itree());
  EXPECT_EQ(inserted, ns(2 * kLockNs));  // mmu_notifier_register(NULL): mmap_lock + rmap lock
  EXPECT_EQ(began, inserted);            // no invalidation: read_begin does not wait
  EXPECT_EQ(tree(mm).invalidate_seq(), 2u);
  EXPECT_EQ(m.invalidate_seq(), 1u);
  EXPECT_EQ(seq, 1u);
  EXPECT_EQ(m.start(), 0x1000u);
  EXPECT_EQ(m.last(), 0x1fffu);
  EXPECT_EQ(m.state(), State::kInTree);
  EXPECT_EQ(mm.count(), 2);
  EXPECT_FALSE(mmu_interval_read_retry(m, seq));
}

TEST(MmuIntervalNotifier, CollisionIsDetectedByReadRetry) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  std::vector<Call> calls;
  Mirror m("m", calls);
  uint64_t seq = 0, seq_during = 0, seq_after = 0, second = 0;
  bool check_during = false, retry = false, retry_second = true;
  test::run_thread([&] {
    mmu_interval_notifier_insert(m, mm, 0x1000, 0x1000);
    seq = mmu_interval_read_begin(m);  // read side starts
    mm.mmap_lock.down_read();
    MmuNotifierRange r;
    mmu_notifier_range_init(r, MmuNotifierEvent::kClear, 0, mm, 0x1800, 0x3000);
    mmu_notifier_invalidate_range_start(r);
    seq_during = tree(mm).invalidate_seq();
    check_during = mmu_interval_check_retry(m, seq);
    mmu_notifier_invalidate_range_end(r);
    mm.mmap_lock.up_read();
    seq_after = tree(mm).invalidate_seq();
    retry = mmu_interval_read_retry(m, seq);  // read side ends: collided
    second = mmu_interval_read_begin(m);      // retry
    retry_second = mmu_interval_read_retry(m, second);
  });
  EXPECT_EQ(seq, 1u);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].cur_seq, 3u);
  EXPECT_EQ(calls[0].event, MmuNotifierEvent::kClear);
  EXPECT_TRUE(calls[0].blockable);
  EXPECT_EQ(seq_during, 3u);
  EXPECT_TRUE(check_during);
  EXPECT_EQ(seq_after, 4u);
  EXPECT_TRUE(retry);
  EXPECT_EQ(second, 3u);
  EXPECT_FALSE(retry_second);
  EXPECT_EQ(m.stats().invalidates, 1u);
  EXPECT_EQ(m.stats().invalidate_events[static_cast<unsigned>(MmuNotifierEvent::kClear)], 1u);
}

TEST(MmuIntervalNotifier, NoCollisionWhenInvalidationDoesNotOverlap) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  std::vector<Call> calls;
  Mirror m("m", calls);
  uint64_t seq = 0, seq_during = 0, seq_after = 0;
  bool retry = true;
  test::run_thread([&] {
    mmu_interval_notifier_insert(m, mm, 0x2000, 0x1000);  // [0x2000, 0x2fff]
    seq = mmu_interval_read_begin(m);
    mm.mmap_lock.down_read();
    MmuNotifierRange below, above;
    mmu_notifier_range_init(below, MmuNotifierEvent::kUnmap, 0, mm, 0x1000, 0x2000);  // ends at it
    mmu_notifier_range_init(above, MmuNotifierEvent::kUnmap, 0, mm, 0x3000, 0x4000);
    mmu_notifier_invalidate_range_start(below);
    mmu_notifier_invalidate_range_start(above);
    seq_during = tree(mm).invalidate_seq();
    mmu_notifier_invalidate_range_end(above);
    mmu_notifier_invalidate_range_end(below);
    mm.mmap_lock.up_read();
    seq_after = tree(mm).invalidate_seq();
    retry = mmu_interval_read_retry(m, seq);
  });
  EXPECT_TRUE(calls.empty());
  EXPECT_EQ(seq_during, 2u);  // active ranges, but none hit an interval: stays even
  EXPECT_EQ(seq_after, 2u);
  EXPECT_FALSE(retry);
  EXPECT_EQ(tree(mm).active_invalidate_ranges(), 0u);
}

TEST(MmuIntervalNotifier, EveryHitIntervalIsInvalidatedInAddressOrderWithOneSeq) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  std::vector<Call> calls;
  Mirror c("c", calls), a("a", calls), b("b", calls), outside("outside", calls);
  test::run_thread([&] {
    mmu_interval_notifier_insert(c, mm, 0x3000, 0x1000);
    mmu_interval_notifier_insert(a, mm, 0x1000, 0x1000);
    mmu_interval_notifier_insert(b, mm, 0x2000, 0x1000);
    mmu_interval_notifier_insert(outside, mm, 0x8000, 0x1000);
    invalidate(mm, 0x1fff, 0x3001, sc_time_stamp());
  });
  EXPECT_EQ(who(calls), (std::vector<std::string>{"a", "b", "c"}));
  for (const auto& call : calls) EXPECT_EQ(call.cur_seq, 3u);
  EXPECT_EQ(a.invalidate_seq(), 3u);
  EXPECT_EQ(outside.invalidate_seq(), 1u);
  EXPECT_EQ(tree(mm).invalidate_seq(), 4u);
}

TEST(MmuIntervalNotifier, ReadBeginSleepsWhileInvalidationIsActive) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  std::vector<Call> calls;
  Mirror m("m", calls);
  uint64_t seq = 0;
  sc_time returned;
  run_threads({[&] {
                 mmu_interval_notifier_insert(m, mm, 0x1000, 0x1000);
                 invalidate(mm, 0x1000, 0x2000, ns(1000));
               },
               [&] {
                 sc_core::wait(ns(300));
                 seq = mmu_interval_read_begin(m);
                 returned = sc_time_stamp();
               }});
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].time, ns(3 * kLockNs));  // insert (20) + mmap_lock (10)
  EXPECT_EQ(seq, 3u);
  EXPECT_EQ(returned, ns(1000 + kWakeNs));
  EXPECT_FALSE(mmu_interval_read_retry(m, seq));
}

TEST(MmuIntervalNotifier, ReadBeginOfAnUnhitIntervalDoesNotWait) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  std::vector<Call> calls;
  Mirror hit("hit", calls), other("other", calls);
  uint64_t seq = 0, mm_seq = 0;
  sc_time returned;
  run_threads({[&] {
                 mmu_interval_notifier_insert(hit, mm, 0x1000, 0x1000);
                 mmu_interval_notifier_insert(other, mm, 0x9000, 0x1000);
                 invalidate(mm, 0x1000, 0x2000, ns(1000));
               },
               [&] {
                 sc_core::wait(ns(300));
                 mm_seq = tree(mm).invalidate_seq();
                 seq = mmu_interval_read_begin(other);
                 returned = sc_time_stamp();
               }});
  EXPECT_EQ(mm_seq, 3u);  // an invalidation is active...
  EXPECT_EQ(seq, 1u);     // ...but not on `other`
  EXPECT_EQ(returned, ns(300));
}

TEST(MmuIntervalNotifier, InsertDuringHitInvalidationIsDeferredToTheLastEnd) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  std::vector<Call> calls;
  Mirror hit("hit", calls), late("late", calls);
  State state_during = State::kIdle, state_after_first_end = State::kIdle;
  uint64_t late_seq = 0, begin_seq = 0;
  sc_time begin_returned;
  size_t tree_size_during = 0;
  run_threads({[&] {
                 mmu_interval_notifier_insert(hit, mm, 0x1000, 0x1000);  // 0..20
                 invalidate(mm, 0x1000, 0x2000, ns(1000));               // hits `hit` at 30
               },
               [&] {
                 sc_core::wait(ns(200));
                 invalidate(mm, 0x5000, 0x6000, ns(1500));
               },
               [&] {
                 sc_core::wait(ns(300));
                 mmu_interval_notifier_insert(late, mm, 0x5000, 0x1000);
                 state_during = late.state();
                 late_seq = late.invalidate_seq();
                 tree_size_during = tree(mm).size();
                 sc_core::wait(ns(1200) - sc_time_stamp());
                 state_after_first_end = late.state();
                 begin_seq = mmu_interval_read_begin(late);
                 begin_returned = sc_time_stamp();
               }});
  // The first invalidation hit `hit` (seq 3); `late` was queued, not called by the
  // second invalidation although it covers its range.
  EXPECT_EQ(who(calls), (std::vector<std::string>{"hit"}));
  EXPECT_EQ(state_during, State::kDeferredInsert);
  EXPECT_EQ(tree_size_during, 1u);
  EXPECT_EQ(late_seq, 3u);
  EXPECT_EQ(state_after_first_end, State::kDeferredInsert);  // one range still active
  EXPECT_EQ(begin_seq, 3u);
  EXPECT_EQ(begin_returned, ns(1500 + kWakeNs));  // woken by the last end
  EXPECT_EQ(late.state(), State::kInTree);
  EXPECT_EQ(tree(mm).invalidate_seq(), 4u);
  EXPECT_EQ(tree(mm).size(), 2u);
  EXPECT_FALSE(mmu_interval_read_retry(late, begin_seq));
}

TEST(MmuIntervalNotifier, InsertDuringUnhitInvalidationMakesSeqOddAndInsertsAtOnce) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  std::vector<Call> calls;
  Mirror first("first", calls), late("late", calls);
  uint64_t seq_before = 0, seq_after_insert = 0, begin_seq = 0;
  State state = State::kIdle;
  sc_time begin_returned;
  run_threads({[&] {
                 mmu_interval_notifier_insert(first, mm, 0x9000, 0x1000);  // 0..20
                 invalidate(mm, 0x1000, 0x2000, ns(1000));                 // hits nothing
               },
               [&] {
                 sc_core::wait(ns(300));
                 seq_before = tree(mm).invalidate_seq();
                 mmu_interval_notifier_insert(late, mm, 0x1000, 0x1000);
                 seq_after_insert = tree(mm).invalidate_seq();
                 state = late.state();
                 begin_seq = mmu_interval_read_begin(late);
                 begin_returned = sc_time_stamp();
               }});
  EXPECT_TRUE(calls.empty());
  EXPECT_EQ(seq_before, 2u);        // partially excluded: active range, even seq
  EXPECT_EQ(seq_after_insert, 3u);  // the new interval may be covered by the active range
  EXPECT_EQ(state, State::kInTree);
  EXPECT_EQ(late.invalidate_seq(), 3u);
  EXPECT_EQ(begin_seq, 3u);
  EXPECT_EQ(begin_returned, ns(1000 + kWakeNs));
  EXPECT_EQ(tree(mm).invalidate_seq(), 4u);
}

TEST(MmuIntervalNotifier, RemoveDuringInvalidationWaitsForIt) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  std::vector<Call> calls;
  Mirror m("m", calls);
  m.cost = ns(50);
  State state_during = State::kIdle;
  sc_time removed;
  run_threads({[&] {
                 mmu_interval_notifier_insert(m, mm, 0x1000, 0x1000);
                 invalidate(mm, 0x1000, 0x2000, ns(1000));
                 // A second invalidation after the removal no longer reaches m.
                 sc_core::wait(ns(2000) - sc_time_stamp());
                 invalidate(mm, 0x1000, 0x2000, ns(2100));
               },
               [&] {
                 sc_core::wait(ns(400));
                 mmu_interval_notifier_remove(m);
                 removed = sc_time_stamp();
               },
               [&] {
                 sc_core::wait(ns(500));
                 state_during = m.state();
               }});
  EXPECT_EQ(state_during, State::kDeferredRemove);
  EXPECT_EQ(removed, ns(1000 + kWakeNs));
  EXPECT_EQ(m.state(), State::kIdle);
  EXPECT_EQ(who(calls), (std::vector<std::string>{"m"}));
  EXPECT_EQ(tree(mm).size(), 0u);
  EXPECT_EQ(mm.count(), 1);
  EXPECT_EQ(os.diagnostics().total(), 0u);
}

TEST(MmuIntervalNotifier, RemovingADeferredInsertDropsItWithoutWaiting) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  std::vector<Call> calls;
  Mirror hit("hit", calls), late("late", calls);
  sc_time removed;
  run_threads({[&] {
                 mmu_interval_notifier_insert(hit, mm, 0x1000, 0x1000);
                 invalidate(mm, 0x1000, 0x2000, ns(1000));
               },
               [&] {
                 sc_core::wait(ns(300));
                 mmu_interval_notifier_insert(late, mm, 0x1000, 0x1000);  // deferred
                 sc_core::wait(ns(400) - sc_time_stamp());
                 mmu_interval_notifier_remove(late);
                 removed = sc_time_stamp();
               }});
  EXPECT_EQ(removed, ns(400));
  EXPECT_EQ(late.state(), State::kIdle);
  EXPECT_EQ(tree(mm).size(), 1u);
  EXPECT_EQ(tree(mm).deferred(), 0u);
  EXPECT_EQ(mm.count(), 2);  // only `hit` still holds the mm
}

TEST(MmuIntervalNotifier, NonblockWouldBlockReturnsEagainAndClosesTheSection) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  std::vector<Call> calls;
  Mirror a("a", calls), b("b", calls), c("c", calls);
  b.would_block = true;
  int ret = 0;
  uint64_t seq_after = 0;
  test::run_thread([&] {
    mmu_interval_notifier_insert(a, mm, 0x1000, 0x1000);
    mmu_interval_notifier_insert(b, mm, 0x2000, 0x1000);
    mmu_interval_notifier_insert(c, mm, 0x3000, 0x1000);
    mm.mmap_lock.down_read();
    MmuNotifierRange r;
    mmu_notifier_range_init(r, MmuNotifierEvent::kUnmap, 0, mm, 0x1000, 0x4000);
    ret = mmu_notifier_invalidate_range_start_nonblock(r);
    mm.mmap_lock.up_read();
    seq_after = tree(mm).invalidate_seq();
  });
  EXPECT_EQ(ret, -EAGAIN);
  EXPECT_EQ(who(calls), (std::vector<std::string>{"a", "b"}));  // stops at b
  EXPECT_FALSE(calls[0].blockable);
  EXPECT_EQ(seq_after, 4u);
  EXPECT_EQ(tree(mm).active_invalidate_ranges(), 0u);
  EXPECT_EQ(b.stats().would_block, 1u);
  EXPECT_EQ(mm.notifier_subscriptions().active_ranges(), 0u);
  EXPECT_EQ(os.diagnostics().total(), 0u);
}

TEST(MmuIntervalNotifier, MmTeardownSendsReleaseInvalidationBeforeListRelease) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  std::vector<Call> calls;
  Mirror a("a", calls), b("b", calls);
  class Releaser : public MmuNotifier {
   public:
    explicit Releaser(const std::vector<Call>& calls)
        : MmuNotifier("list", MmuNotifier::kRelease), calls_(calls) {}
    void release(MmStruct&) override { invalidates_before_release = calls_.size(); }
    size_t invalidates_before_release = 99;

   private:
    const std::vector<Call>& calls_;
  } list_sub(calls);
  size_t invalidates_before_hook = 99;
  bool released_before_hook = false;
  test::run_thread([&] {
    mmu_interval_notifier_insert(b, mm, 0x7000, 0x1000);
    mmu_interval_notifier_insert(a, mm, 0x1000, 0x1000);
    mmu_notifier_register(&list_sub, mm);
    mm.exit_mmap_hook = [&](MmStruct&) {
      invalidates_before_hook = calls.size();
      released_before_hook = list_sub.invalidates_before_release != 99;
    };
    mm.mmput();
    mmu_interval_notifier_remove(a);
    mmu_interval_notifier_remove(b);
    mmu_notifier_unregister(list_sub, mm);
  });
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(who(calls), (std::vector<std::string>{"a", "b"}));
  for (const auto& c : calls) {
    EXPECT_EQ(c.event, MmuNotifierEvent::kRelease);
    EXPECT_TRUE(c.blockable);
    EXPECT_EQ(c.cur_seq, 3u);
  }
  EXPECT_EQ(a.last_range.start, 0u);
  EXPECT_EQ(a.last_range.end, std::numeric_limits<uint64_t>::max());
  // Interval RELEASE invalidations, then list release(), then the mm's own teardown.
  EXPECT_EQ(list_sub.invalidates_before_release, 2u);
  EXPECT_TRUE(released_before_hook);
  EXPECT_EQ(invalidates_before_hook, 2u);
  EXPECT_EQ(tree(mm).invalidate_seq(), 4u);
  EXPECT_TRUE(mm.freed());
  EXPECT_EQ(os.diagnostics().total(), 0u);
}

TEST(MmuIntervalNotifier, InsertRejectsEmptyAndOverflowingIntervals) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  std::vector<Call> calls;
  Mirror m("m", calls);
  int empty = 0, overflow = 0, top = -1;
  test::run_thread([&] {
    empty = mmu_interval_notifier_insert(m, mm, 0x1000, 0);
    overflow =
        mmu_interval_notifier_insert(m, mm, std::numeric_limits<uint64_t>::max() - 0xfff, 0x2000);
    top = mmu_interval_notifier_insert(m, mm, std::numeric_limits<uint64_t>::max() - 0xfff, 0x1000);
  });
  EXPECT_EQ(empty, -EOVERFLOW);
  EXPECT_EQ(overflow, -EOVERFLOW);
  EXPECT_EQ(top, 0);
  EXPECT_EQ(m.last(), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(mm.count(), 2);
}

TEST(MmuIntervalNotifier, DoubleInsertAndStrayRemoveAreReported) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  std::vector<Call> calls;
  Mirror m("m", calls), never("never", calls);
  int again = 0;
  test::run_thread([&] {
    mmu_interval_notifier_insert(m, mm, 0x1000, 0x1000);
    again = mmu_interval_notifier_insert(m, mm, 0x1000, 0x1000);
    mm.notifier_subscriptions().interval_remove(never);
  });
  EXPECT_EQ(again, -EINVAL);
  EXPECT_EQ(os.diagnostics().count(DiagKind::kIntervalMisuse), 2u);
  EXPECT_EQ(mm.count(), 2);
}

}  // namespace
}  // namespace iosim
