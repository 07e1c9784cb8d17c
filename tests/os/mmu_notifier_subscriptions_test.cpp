// Tests of the MMU-notifier layer for list subscribers: call order and events,
// non-blocking start, arch_invalidate_secondary_tlbs under the PTL, young callbacks,
// registration rules and locking, get/put with SRCU-deferred freeing, unregister and
// release, checks and per-subscriber statistics.
#include <gtest/gtest.h>

#include <cerrno>
#include <limits>

#include "os/completion.h"
#include "os/mm_struct.h"
#include "tests/os/lock_bench.h"

namespace iosim {
namespace {

using namespace test;  // tests/os/lock_bench.h

constexpr uint32_t kRange = MmuNotifier::kInvalidateRangeStart | MmuNotifier::kInvalidateRangeEnd;

// Costs besides kLockNs and kWakeNs (tests/os/lock_bench.h) used by every test;
// expected times are computed from them.
constexpr double kPtlNs = 5;                 // page-table lock acquisition
constexpr double kGraceNs = 50;              // minimum SRCU grace period
constexpr double kRegisterNs = 2 * kLockNs;  // mmap_lock + one rmap lock, uncontended

MmStructConfig test_cfg() {
  MmStructConfig c = lock_test_mm_config(1);
  c.page_table_lock.acquire_ns = kPtlNs;
  c.notifier.wakeup_latency_ns = kWakeNs;
  c.notifier.srcu_grace_period_ns = kGraceNs;
  return c;
}

struct Log {
  std::vector<std::string> calls;
  std::vector<sc_time> times;
  void add(const std::string& s) {
    calls.push_back(s);
    times.push_back(sc_time_stamp());
  }
};

class TestNotifier : public MmuNotifier {
 public:
  TestNotifier(std::string name, uint32_t ops, Log& log)
      : MmuNotifier(std::move(name), ops), log_(log) {}

  std::function<int(const MmuNotifierRange&)> on_start;
  std::function<void(const MmuNotifierRange&)> on_end;
  std::function<void()> on_arch;
  std::function<void()> on_release;
  int young = 0;
  std::vector<MmuNotifierRange> seen;  // ranges passed to start and end
  std::vector<std::pair<uint64_t, uint64_t>> arch_ranges;

  int invalidate_range_start(const MmuNotifierRange& r) override {
    log_.add(name() + ".start");
    seen.push_back(r);
    return on_start ? on_start(r) : 0;
  }
  void invalidate_range_end(const MmuNotifierRange& r) override {
    log_.add(name() + ".end");
    seen.push_back(r);
    if (on_end) on_end(r);
  }
  void arch_invalidate_secondary_tlbs(MmStruct&, uint64_t start, uint64_t end) override {
    log_.add(name() + ".arch");
    arch_ranges.emplace_back(start, end);
    if (on_arch) on_arch();
  }
  void release(MmStruct&) override {
    log_.add(name() + ".release");
    if (on_release) on_release();
  }
  int clear_flush_young(MmStruct&, uint64_t, uint64_t) override {
    log_.add(name() + ".clear_flush_young");
    return young;
  }
  int clear_young(MmStruct&, uint64_t, uint64_t) override {
    log_.add(name() + ".clear_young");
    return young;
  }
  int test_young(MmStruct&, uint64_t) override {
    log_.add(name() + ".test_young");
    return young;
  }

 private:
  Log& log_;
};

uint64_t diag(const OsContext& os, DiagKind k) {
  return os.diagnostics().count(k);
}

unsigned ev(MmuNotifierEvent e) {
  return static_cast<unsigned>(e);
}

// --- call order, range contents, events -------------------------------------

TEST(MmuNotifierSubscriptions, RangeCallbacksRunInReverseRegistrationOrder) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  Log log;
  TestNotifier a("a", kRange, log), b("b", kRange, log), c("c", kRange, log);
  for (TestNotifier* n : {&a, &b, &c}) {
    n->on_start = [](const MmuNotifierRange&) {
      sc_core::wait(ns(30));
      return 0;
    };
    n->on_end = [](const MmuNotifierRange&) { sc_core::wait(ns(20)); };
  }
  sc_time after_start, after_end;
  test::run_thread([&] {
    for (TestNotifier* n : {&a, &b, &c}) EXPECT_EQ(mmu_notifier_register(n, mm), 0);
    mm.mmap_lock.down_read();
    MmuNotifierRange r;
    mmu_notifier_range_init(r, MmuNotifierEvent::kUnmap, 0, mm, 0x1000, 0x3000);
    mmu_notifier_invalidate_range_start(r);
    after_start = sc_time_stamp();
    mmu_notifier_invalidate_range_end(r);
    after_end = sc_time_stamp();
    mm.mmap_lock.up_read();
  });
  EXPECT_EQ(log.calls,
            (std::vector<std::string>{"c.start", "b.start", "a.start", "c.end", "b.end", "a.end"}));
  // 3 registrations, mmap_lock for read, 3 starts of 30 ns, 3 ends of 20 ns.
  EXPECT_EQ(after_start, ns(3 * kRegisterNs + kLockNs + 3 * 30));
  EXPECT_EQ(after_end, after_start + ns(3 * 20));
  ASSERT_EQ(a.seen.size(), 2u);
  EXPECT_EQ(a.seen[0].start, 0x1000u);
  EXPECT_EQ(a.seen[0].end, 0x3000u);
  EXPECT_EQ(a.seen[0].mm, &mm);
  EXPECT_EQ(a.seen[0].event, MmuNotifierEvent::kUnmap);
  EXPECT_EQ(a.seen[0].flags, kMmuNotifierRangeBlockable);
  EXPECT_EQ(mm.notifier_subscriptions().active_ranges(), 0u);
  EXPECT_EQ(os.diagnostics().total(), 0u);
}

TEST(MmuNotifierSubscriptions, AllEightEventsReachTheSubscriberWithTheirOwner) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  Log log;
  TestNotifier a("a", kRange, log);
  int owner_cookie = 0;
  test::run_thread([&] {
    mmu_notifier_register(&a, mm);
    mm.mmap_lock.down_write();
    for (unsigned e = 0; e < kMmuNotifierEventCount; ++e) {
      MmuNotifierRange r;
      mmu_notifier_range_init_owner(r, static_cast<MmuNotifierEvent>(e), 0, mm, 0x1000 * e,
                                    0x1000 * (e + 1), &owner_cookie);
      mmu_notifier_invalidate_range_start(r);
      mmu_notifier_invalidate_range_end(r);
    }
    mm.mmap_lock.up_write();
  });
  ASSERT_EQ(a.seen.size(), 2u * kMmuNotifierEventCount);
  for (unsigned e = 0; e < kMmuNotifierEventCount; ++e) {
    const MmuNotifierRange& start = a.seen[2 * e];
    EXPECT_EQ(start.event, static_cast<MmuNotifierEvent>(e));
    EXPECT_EQ(start.owner, &owner_cookie);
    EXPECT_EQ(start.start, 0x1000u * e);
    EXPECT_EQ(a.stats().start_events[e], 1u);
    EXPECT_EQ(a.stats().end_events[e], 1u);
  }
  EXPECT_STREQ(mmu_notifier_event_name(MmuNotifierEvent::kMigrate), "MIGRATE");
  EXPECT_STREQ(mmu_notifier_event_name(MmuNotifierEvent::kExclusive), "EXCLUSIVE");
  EXPECT_EQ(a.stats().call_count(MmuNotifierOp::kInvalidateRangeStart), 8u);
  EXPECT_EQ(os.diagnostics().total(), 0u);
}

// --- non-blocking start ------------------------------------------------------

TEST(MmuNotifierSubscriptions, NonblockEagainCallsRemainingSubscribersAndNoEnd) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  Log log;
  TestNotifier a("a", kRange, log);
  TestNotifier b("b", MmuNotifier::kInvalidateRangeStart | MmuNotifier::kStartMayFail, log);
  TestNotifier c("c", MmuNotifier::kInvalidateRangeStart, log);
  b.on_start = [](const MmuNotifierRange& r) {
    return mmu_notifier_range_blockable(r) ? 0 : -EAGAIN;
  };
  int ret = 1;
  MmuNotifierRange r;
  test::run_thread([&] {
    for (TestNotifier* n : {&c, &b, &a}) mmu_notifier_register(n, mm);  // list: a, b, c
    mm.mmap_lock.down_read();
    mmu_notifier_range_init(r, MmuNotifierEvent::kUnmap, 0, mm, 0, 0x10000);
    ret = mmu_notifier_invalidate_range_start_nonblock(r);
    mm.mmap_lock.up_read();
  });
  EXPECT_EQ(ret, -EAGAIN);
  // b failed; c is still called; a succeeded and implements end, so the layer ends it.
  EXPECT_EQ(log.calls, (std::vector<std::string>{"a.start", "b.start", "c.start", "a.end"}));
  EXPECT_FALSE(mmu_notifier_range_blockable(r));
  EXPECT_FALSE(mmu_notifier_range_blockable(b.seen[0]));
  EXPECT_EQ(b.stats().start_failures, 1u);
  EXPECT_EQ(mm.notifier_subscriptions().active_ranges(), 0u);
  EXPECT_EQ(os.diagnostics().total(), 0u);
}

TEST(MmuNotifierSubscriptions, EndAfterFailedNonblockStartIsReported) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  Log log;
  TestNotifier a("a", kRange, log);
  TestNotifier b("b", MmuNotifier::kInvalidateRangeStart | MmuNotifier::kStartMayFail, log);
  b.on_start = [](const MmuNotifierRange&) { return -EAGAIN; };
  test::run_thread([&] {
    mmu_notifier_register(&b, mm);
    mmu_notifier_register(&a, mm);
    mm.mmap_lock.down_read();
    MmuNotifierRange r;
    mmu_notifier_range_init(r, MmuNotifierEvent::kClear, 0, mm, 0, 0x1000);
    EXPECT_EQ(mmu_notifier_invalidate_range_start_nonblock(r), -EAGAIN);
    mmu_notifier_invalidate_range_end(r);  // forbidden after -EAGAIN
    mm.mmap_lock.up_read();
  });
  EXPECT_EQ(log.calls, (std::vector<std::string>{"a.start", "b.start", "a.end", "a.end"}));
  EXPECT_EQ(diag(os, DiagKind::kEndWithoutStart), 1u);
  EXPECT_EQ(diag(os, DiagKind::kUnbalancedEnd), 1u);
  EXPECT_EQ(a.stats().unbalanced_ends, 1u);
  EXPECT_EQ(os.diagnostics().of_kind(DiagKind::kUnbalancedEnd)[0].where, "a");
}

TEST(MmuNotifierSubscriptions, SleepingInNonblockStartIsReported) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  Log log;
  TestNotifier a("a", MmuNotifier::kInvalidateRangeStart, log);
  a.on_start = [&os](const MmuNotifierRange&) {
    os.current().sleep_for(ns(40), "msleep");
    return 0;
  };
  test::run_thread([&] {
    mmu_notifier_register(&a, mm);
    mm.mmap_lock.down_read();
    MmuNotifierRange r;
    mmu_notifier_range_init(r, MmuNotifierEvent::kUnmap, 0, mm, 0, 0x1000);
    EXPECT_EQ(mmu_notifier_invalidate_range_start_nonblock(r), 0);
    mmu_notifier_invalidate_range_end(r);
    mm.mmap_lock.up_read();
  });
  ASSERT_EQ(diag(os, DiagKind::kSleepInAtomic), 1u);
  EXPECT_EQ(os.diagnostics().of_kind(DiagKind::kSleepInAtomic)[0].where,
            "a.invalidate_range_start");
  EXPECT_EQ(a.stats().sleep_violations, 1u);
  EXPECT_EQ(os.diagnostics().total(), 1u);
}

TEST(MmuNotifierSubscriptions, FailingStartInBlockableRangeIsReported) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  Log log;
  TestNotifier a("a", MmuNotifier::kInvalidateRangeStart, log);  // kStartMayFail not declared
  a.on_start = [](const MmuNotifierRange&) { return -EAGAIN; };
  test::run_thread([&] {
    mmu_notifier_register(&a, mm);
    mm.mmap_lock.down_read();
    MmuNotifierRange r;
    mmu_notifier_range_init(r, MmuNotifierEvent::kUnmap, 0, mm, 0, 0x1000);
    mmu_notifier_invalidate_range_start(r);
    mmu_notifier_invalidate_range_end(r);
    mm.mmap_lock.up_read();
  });
  EXPECT_EQ(diag(os, DiagKind::kStartFailedBlockable), 1u);
  EXPECT_EQ(diag(os, DiagKind::kUndeclaredStartFailure), 1u);
  EXPECT_EQ(diag(os, DiagKind::kStartBadReturn), 0u);
  EXPECT_EQ(diag(os, DiagKind::kEndWithoutStart), 0u);
  EXPECT_EQ(log.calls, (std::vector<std::string>{"a.start"}));
}

// --- registration refusals ------------------------------------------------------

TEST(MmuNotifierSubscriptions, RefusesArchInvalidateTogetherWithStartEnd) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  Log log;
  TestNotifier bad("both", kRange | MmuNotifier::kArchInvalidateSecondaryTlbs, log);
  int ret = 0;
  sc_time done;
  test::run_thread([&] {
    ret = mmu_notifier_register(&bad, mm);
    done = sc_time_stamp();
  });
  EXPECT_EQ(ret, -EINVAL);
  EXPECT_FALSE(bad.registered());
  EXPECT_TRUE(mm.notifier_subscriptions().subscribers().empty());
  EXPECT_EQ(mm.count(), 1);
  // Refused before mm_take_all_locks(): only mmap_lock was taken.
  EXPECT_EQ(done, ns(kLockNs));
  EXPECT_EQ(mm.rmap_lock(0).stats().write_acquisitions, 0u);
  auto d = os.diagnostics().of_kind(DiagKind::kRegisterRefused);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].where, "both");
  EXPECT_NE(d[0].message.find("arch_invalidate_secondary_tlbs"), std::string::npos);
  EXPECT_NE(d[0].message.find("invalidate_range_start/end"), std::string::npos);
}

TEST(MmuNotifierSubscriptions, RefusesFailingStartTogetherWithEnd) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  Log log;
  TestNotifier bad("oom_unsafe", kRange | MmuNotifier::kStartMayFail, log);
  TestNotifier good("oom_safe", MmuNotifier::kInvalidateRangeStart | MmuNotifier::kStartMayFail,
                    log);
  int bad_ret = 0, good_ret = 1;
  test::run_thread([&] {
    bad_ret = mmu_notifier_register(&bad, mm);
    good_ret = mmu_notifier_register(&good, mm);
  });
  EXPECT_EQ(bad_ret, -EINVAL);
  EXPECT_EQ(good_ret, 0);
  EXPECT_EQ(mm.notifier_subscriptions().subscribers(), std::vector<MmuNotifier*>{&good});
  auto d = os.diagnostics().of_kind(DiagKind::kRegisterRefused);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_NE(d[0].message.find("-EAGAIN"), std::string::npos);
  EXPECT_NE(d[0].message.find("invalidate_range_end"), std::string::npos);
}

// --- arch_invalidate_secondary_tlbs -----------------------------------------------

TEST(MmuNotifierSubscriptions, ArchInvalidateUnderPtlMaySpinOnACompletion) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  Log log;
  TestNotifier sva("sva", MmuNotifier::kArchInvalidateSecondaryTlbs, log);
  TestNotifier kvm("kvm", kRange, log);
  Completion iommu_done(os, 0);
  sva.on_arch = [&] { iommu_done.spin_until_done(); };
  sc_time pte_cleared, unlocked;
  run_threads({[&] {
                 mmu_notifier_register(&sva, mm);
                 mmu_notifier_register(&kvm, mm);  // t = 40
                 mm.page_table_lock.lock();        // t = 45
                 pte_cleared = sc_time_stamp();
                 mmu_notifier_arch_invalidate_secondary_tlbs(mm, 0x5000, 0x6000);
                 mm.page_table_lock.unlock();
                 unlocked = sc_time_stamp();
               },
               [&] {
                 sc_core::wait(ns(300));  // the IOMMU completes its wait descriptor
                 iommu_done.complete();
               }});
  EXPECT_EQ(log.calls, (std::vector<std::string>{"sva.arch"}));  // kvm has no arch op
  EXPECT_EQ(sva.arch_ranges[0], (std::pair<uint64_t, uint64_t>{0x5000, 0x6000}));
  EXPECT_EQ(pte_cleared, ns(2 * kRegisterNs + kPtlNs));
  EXPECT_EQ(unlocked, ns(300));
  EXPECT_EQ(sva.stats().callback_time, ns(300) - pte_cleared);
  EXPECT_EQ(sva.stats().callback_time_under_ptl, ns(300) - pte_cleared);
  EXPECT_EQ(mm.page_table_lock.stats().hold_max, ns(300) - pte_cleared);
  EXPECT_EQ(os.diagnostics().total(), 0u);
}

TEST(MmuNotifierSubscriptions, ArchInvalidateThatSleepsIsReported) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  Log log;
  TestNotifier sva("sva", MmuNotifier::kArchInvalidateSecondaryTlbs, log);
  Completion iommu_done(os, 0);
  sva.on_arch = [&] { iommu_done.wait_for_completion(); };
  run_threads({[&] {
                 mmu_notifier_register(&sva, mm);
                 mm.page_table_lock.lock();
                 mmu_notifier_arch_invalidate_secondary_tlbs(mm, 0x5000, 0x6000);
                 mm.page_table_lock.unlock();
               },
               [&] {
                 sc_core::wait(ns(300));
                 iommu_done.complete();
               }});
  auto d = os.diagnostics().of_kind(DiagKind::kSleepInAtomic);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].where, "sva.arch_invalidate_secondary_tlbs");
  EXPECT_NE(d[0].message.find("wait_for_completion"), std::string::npos);
  EXPECT_NE(d[0].message.find("page-table locks held=1"), std::string::npos);
  EXPECT_EQ(sva.stats().sleep_violations, 1u);
}

TEST(MmuNotifierSubscriptions, ArchInvalidateWithoutPtlIsReported) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  Log log;
  TestNotifier sva("sva", MmuNotifier::kArchInvalidateSecondaryTlbs, log);
  test::run_thread([&] {
    mmu_notifier_register(&sva, mm);
    mmu_notifier_arch_invalidate_secondary_tlbs(mm, 0x5000, 0x6000);
  });
  EXPECT_EQ(diag(os, DiagKind::kPtlNotHeld), 1u);
  EXPECT_EQ(log.calls, (std::vector<std::string>{"sva.arch"}));
  EXPECT_EQ(sva.stats().callback_time_under_ptl, sc_core::SC_ZERO_TIME);
}

// --- young callbacks ------------------------------------------------------------

TEST(MmuNotifierSubscriptions, ClearFlushYoungOrsAllSubscribers) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  Log log;
  TestNotifier a("a", MmuNotifier::kClearFlushYoung, log),
      b("b", MmuNotifier::kClearFlushYoung, log), c("c", MmuNotifier::kClearFlushYoung, log),
      d("d", kRange, log);
  b.young = 1;
  int young = -1, none_young = -1;
  test::run_thread([&] {
    for (TestNotifier* n : {&d, &c, &b, &a}) mmu_notifier_register(n, mm);
    young = mmu_notifier_clear_flush_young(mm, 0x1000, 0x2000);
    b.young = 0;
    none_young = mmu_notifier_clear_flush_young(mm, 0x1000, 0x2000);
  });
  EXPECT_EQ(young, 1);
  EXPECT_EQ(none_young, 0);
  EXPECT_EQ(log.calls, (std::vector<std::string>{"a.clear_flush_young", "b.clear_flush_young",
                                                 "c.clear_flush_young", "a.clear_flush_young",
                                                 "b.clear_flush_young", "c.clear_flush_young"}));
}

TEST(MmuNotifierSubscriptions, ClearYoungOrsAllSubscribers) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  Log log;
  TestNotifier a("a", MmuNotifier::kClearYoung, log), b("b", MmuNotifier::kClearYoung, log);
  a.young = 1;
  int young = -1;
  test::run_thread([&] {
    mmu_notifier_register(&b, mm);
    mmu_notifier_register(&a, mm);
    young = mmu_notifier_clear_young(mm, 0x1000, 0x2000);
  });
  EXPECT_EQ(young, 1);
  // a (first in the list) is young, b is still called.
  EXPECT_EQ(log.calls, (std::vector<std::string>{"a.clear_young", "b.clear_young"}));
}

TEST(MmuNotifierSubscriptions, TestYoungStopsAtFirstTrue) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  Log log;
  TestNotifier a("a", MmuNotifier::kTestYoung, log), b("b", MmuNotifier::kTestYoung, log),
      c("c", MmuNotifier::kTestYoung, log);
  b.young = 1;
  c.young = 1;
  int young = -1;
  test::run_thread([&] {
    for (TestNotifier* n : {&c, &b, &a}) mmu_notifier_register(n, mm);  // list: a, b, c
    young = mmu_notifier_test_young(mm, 0x1000);
  });
  EXPECT_EQ(young, 1);
  EXPECT_EQ(log.calls, (std::vector<std::string>{"a.test_young", "b.test_young"}));
}

// --- registration against in-flight invalidations --------------------------------

TEST(MmuNotifierSubscriptions, RegistrationWaitsForActiveRange) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  Log log;
  TestNotifier kvm("kvm", kRange, log);
  sc_time end_at, registered_at;
  bool map_ok = false;
  run_threads({[&] {  // reclaim: rmap lock held across start..end
                 mm.rmap_lock(0).down_read();
                 MmuNotifierRange r;
                 mmu_notifier_range_init(r, MmuNotifierEvent::kClear, 0, mm, 0x1000, 0x2000);
                 mmu_notifier_invalidate_range_start(r);
                 sc_core::wait(ns(1000) - sc_time_stamp());
                 mmu_notifier_invalidate_range_end(r);
                 end_at = sc_time_stamp();
                 mm.rmap_lock(0).up_read();
               },
               [&] {
                 sc_core::wait(ns(100));
                 EXPECT_EQ(mmu_notifier_register(&kvm, mm), 0);
                 registered_at = sc_time_stamp();
                 map_ok = mm.notifier_subscriptions().check_secondary_mapping("kvm", 0x1000);
               }});
  EXPECT_EQ(end_at, ns(1000));
  // mmap_lock at 100 (+10); the rmap lock is granted at 1000, then wake-up and acquire.
  EXPECT_EQ(registered_at, ns(1000 + kWakeNs + kLockNs));
  EXPECT_EQ(mm.rmap_lock(0).stats().contended, 1u);
  EXPECT_TRUE(kvm.registered());
  EXPECT_TRUE(log.calls.empty());  // no end without start
  EXPECT_TRUE(map_ok);
  EXPECT_EQ(os.diagnostics().total(), 0u);
}

TEST(MmuNotifierSubscriptions, WithoutLockAllStepMidRangeSubscriberSeesUnbalancedEnd) {
  TestOs os;
  MmStructConfig cfg = test_cfg();
  cfg.notifier.register_take_all_locks = false;
  MmStruct mm(os, 1, cfg);
  Log log;
  TestNotifier kvm("kvm", kRange, log);
  sc_time registered_at;
  bool map_inside = true, map_after = false;
  run_threads({[&] {
                 mm.rmap_lock(0).down_read();
                 MmuNotifierRange r;
                 mmu_notifier_range_init(r, MmuNotifierEvent::kClear, 0, mm, 0x1000, 0x2000);
                 mmu_notifier_invalidate_range_start(r);
                 sc_core::wait(ns(1000) - sc_time_stamp());
                 mmu_notifier_invalidate_range_end(r);
                 mm.rmap_lock(0).up_read();
               },
               [&] {
                 sc_core::wait(ns(100));
                 mmu_notifier_register(&kvm, mm);
                 registered_at = sc_time_stamp();
                 // kvm saw no start, so it believes no invalidation is in progress.
                 sc_core::wait(ns(500) - sc_time_stamp());
                 map_inside = mm.notifier_subscriptions().check_secondary_mapping("kvm", 0x1800);
                 sc_core::wait(ns(1200) - sc_time_stamp());
                 map_after = mm.notifier_subscriptions().check_secondary_mapping("kvm", 0x1800);
               }});
  EXPECT_EQ(registered_at, ns(100 + kLockNs));  // did not wait for the range
  EXPECT_FALSE(map_inside);
  EXPECT_TRUE(map_after);
  EXPECT_EQ(log.calls, (std::vector<std::string>{"kvm.end"}));
  EXPECT_EQ(log.times[0], ns(1000));
  EXPECT_EQ(kvm.stats().unbalanced_ends, 1u);
  auto spte = os.diagnostics().of_kind(DiagKind::kSpteInsideRange);
  ASSERT_EQ(spte.size(), 1u);
  EXPECT_EQ(spte[0].time, ns(500));
  EXPECT_EQ(spte[0].where, "kvm");
  auto unbalanced = os.diagnostics().of_kind(DiagKind::kUnbalancedEnd);
  ASSERT_EQ(unbalanced.size(), 1u);
  EXPECT_EQ(unbalanced[0].time, ns(1000));
  EXPECT_EQ(os.diagnostics().total(), 2u);
}

// The subscriber-based check judges only the ranges that began before the
// registration: one registered mid-range is refused, one registered before the range
// (whose start it receives) is its own protocol's business.
TEST(MmuNotifierSubscriptions, SubscriberCheckJudgesOnlyRangesThatBeganBeforeItsRegistration) {
  TestOs os;
  MmStructConfig cfg = test_cfg();
  cfg.notifier.register_take_all_locks = false;
  MmStruct mm(os, 1, cfg);
  Log log;
  TestNotifier early("early", kRange, log), late("late", kRange, log);
  bool early_ok = false, late_ok = true;
  run_threads({[&] {
                 mmu_notifier_register(&early, mm);
                 mm.rmap_lock(0).down_read();
                 MmuNotifierRange r;
                 mmu_notifier_range_init(r, MmuNotifierEvent::kClear, 0, mm, 0x1000, 0x2000);
                 mmu_notifier_invalidate_range_start(r);
                 sc_core::wait(ns(1000) - sc_time_stamp());
                 mmu_notifier_invalidate_range_end(r);
                 mm.rmap_lock(0).up_read();
               },
               [&] {
                 sc_core::wait(ns(200));
                 mmu_notifier_register(&late, mm);
                 sc_core::wait(ns(500) - sc_time_stamp());
                 early_ok = mm.notifier_subscriptions().check_secondary_mapping(early, 0x1800);
                 late_ok = mm.notifier_subscriptions().check_secondary_mapping(late, 0x1800);
               }});
  EXPECT_TRUE(early_ok);
  EXPECT_FALSE(late_ok);
  auto spte = os.diagnostics().of_kind(DiagKind::kSpteInsideRange);
  ASSERT_EQ(spte.size(), 1u);
  EXPECT_EQ(spte[0].where, "late");
}

TEST(MmuNotifierSubscriptions, SecondaryMappingInsideWindowIsReported) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  std::vector<bool> results;
  test::run_thread([&] {
    mm.mmap_lock.down_read();
    MmuNotifierRange r;
    mmu_notifier_range_init(r, MmuNotifierEvent::kUnmap, 0, mm, 0x4000, 0x6000);
    mmu_notifier_invalidate_range_start(r);
    auto& subs = mm.notifier_subscriptions();
    results.push_back(subs.check_secondary_mapping("dev", 0x3fff));  // below
    results.push_back(subs.check_secondary_mapping("dev", 0x4000));  // first byte
    results.push_back(subs.check_secondary_mapping("dev", 0x5fff));  // last byte
    results.push_back(subs.check_secondary_mapping("dev", 0x6000));  // end is exclusive
    mmu_notifier_invalidate_range_end(r);
    results.push_back(subs.check_secondary_mapping("dev", 0x4000));  // after end
    mm.mmap_lock.up_read();
  });
  EXPECT_EQ(results, (std::vector<bool>{true, false, false, true, true}));
  EXPECT_EQ(diag(os, DiagKind::kSpteInsideRange), 2u);
}

TEST(MmuNotifierSubscriptions, RangeWithoutMmapOrRmapLockIsReported) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  test::run_thread([&] {
    MmuNotifierRange r;
    mmu_notifier_range_init(r, MmuNotifierEvent::kUnmap, 0, mm, 0, 0x1000);
    mmu_notifier_invalidate_range_start(r);
    mmu_notifier_invalidate_range_end(r);
  });
  EXPECT_EQ(diag(os, DiagKind::kRangeWithoutLock), 2u);
}

TEST(MmuNotifierSubscriptions, BlockableStartUnderSpinLockIsReported) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  test::run_thread([&] {
    mm.mmap_lock.down_read();
    mm.page_table_lock.lock();
    MmuNotifierRange r;
    mmu_notifier_range_init(r, MmuNotifierEvent::kUnmap, 0, mm, 0, 0x1000);
    mmu_notifier_invalidate_range_start(r);
    mm.page_table_lock.unlock();
    mmu_notifier_invalidate_range_end(r);
    mm.mmap_lock.up_read();
  });
  auto d = os.diagnostics().of_kind(DiagKind::kSleepInAtomic);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_NE(d[0].message.find("mmu_notifier_invalidate_range_start"), std::string::npos);
}

// --- get/put, unregister, release ------------------------------------------------

struct PoolLog {
  int allocs = 0;
  std::vector<sc_time> frees;
};

class PooledNotifier : public MmuNotifier {
 public:
  PooledNotifier(PoolLog& pool, sc_time start_cost)
      : MmuNotifier("pooled", MmuNotifier::kInvalidateRangeStart | MmuNotifier::kAllocNotifier |
                                  MmuNotifier::kFreeNotifier),
        pool_(pool),
        start_cost_(start_cost) {}
  std::unique_ptr<MmuNotifier> alloc_notifier(MmStruct&) const override {
    ++pool_.allocs;
    return std::make_unique<PooledNotifier>(pool_, start_cost_);
  }
  void free_notifier() override { pool_.frees.push_back(sc_time_stamp()); }
  int invalidate_range_start(const MmuNotifierRange&) override {
    sc_core::wait(start_cost_);
    return 0;
  }

 private:
  PoolLog& pool_;
  sc_time start_cost_;
};

TEST(MmuNotifierSubscriptions, GetSharesOneSubscriptionAndPutFreesAfterRunningCallbacks) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  PoolLog pool;
  PooledNotifier ops(pool, ns(300));
  MmuNotifier* first = nullptr;
  MmuNotifier* second = nullptr;
  unsigned users_after_gets = 0, users_after_put = 0;
  sc_time start_done, last_put;
  bool listed_after_put = true;
  run_threads({[&] {
                 first = mmu_notifier_get(ops, mm);   // alloc + register: 0..20
                 second = mmu_notifier_get(ops, mm);  // found: mmap_lock only, 20..30
                 users_after_gets = first->users();
                 mmu_notifier_put(*first);
                 users_after_put = first->users();
                 mm.mmap_lock.down_read();  // 30..40
                 MmuNotifierRange r;
                 mmu_notifier_range_init(r, MmuNotifierEvent::kUnmap, 0, mm, 0, 0x1000);
                 mmu_notifier_invalidate_range_start(r);  // pooled start runs 40..340
                 start_done = sc_time_stamp();
                 mmu_notifier_invalidate_range_end(r);
                 mm.mmap_lock.up_read();
               },
               [&] {
                 sc_core::wait(ns(100));
                 mmu_notifier_put(*second);  // last reference, while its start is running
                 last_put = sc_time_stamp();
                 listed_after_put = second->registered();
               }});
  EXPECT_EQ(first, second);
  EXPECT_EQ(pool.allocs, 1);
  EXPECT_EQ(users_after_gets, 2u);
  EXPECT_EQ(users_after_put, 1u);
  EXPECT_FALSE(listed_after_put);
  EXPECT_EQ(last_put, ns(100));
  EXPECT_EQ(start_done, ns(kRegisterNs + 2 * kLockNs + 300));
  // Freed only after the callback that was running returned (grace period of 50 ns
  // already elapsed), plus the wake-up of the SRCU callback thread.
  ASSERT_EQ(pool.frees.size(), 1u);
  EXPECT_EQ(pool.frees[0], start_done + ns(kWakeNs));
  EXPECT_EQ(mm.count(), 1);
  EXPECT_EQ(os.diagnostics().total(), 0u);
}

TEST(MmuNotifierSubscriptions, PutWithNoRunningCallbackFreesAfterGracePeriod) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  PoolLog pool;
  PooledNotifier ops(pool, ns(0));
  sc_time put_at;
  test::run_thread([&] {
    MmuNotifier* n = mmu_notifier_get(ops, mm);
    EXPECT_EQ(mm.count(), 2);
    sc_core::wait(ns(500) - sc_time_stamp());
    put_at = sc_time_stamp();
    mmu_notifier_put(*n);
    mm.notifier_subscriptions().synchronize();  // waits for the free
    EXPECT_EQ(pool.frees.size(), 1u);
  });
  ASSERT_EQ(pool.frees.size(), 1u);
  EXPECT_EQ(pool.frees[0], put_at + ns(kGraceNs));
  EXPECT_EQ(mm.count(), 1);
}

TEST(MmuNotifierSubscriptions, UnregisterCallsReleaseAndWaitsForRunningCallbacks) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  Log log;
  TestNotifier x("x", kRange | MmuNotifier::kRelease, log);
  x.on_start = [](const MmuNotifierRange&) {
    sc_core::wait(ns(400));
    return 0;
  };
  sc_time start_returned, unregistered;
  run_threads({[&] {
                 mmu_notifier_register(&x, mm);  // 0..20
                 mm.mmap_lock.down_read();       // 20..30
                 MmuNotifierRange r;
                 mmu_notifier_range_init(r, MmuNotifierEvent::kUnmap, 0, mm, 0, 0x1000);
                 mmu_notifier_invalidate_range_start(r);  // 30..430
                 start_returned = sc_time_stamp();
                 mmu_notifier_invalidate_range_end(r);  // x is gone: no end
                 mm.mmap_lock.up_read();
               },
               [&] {
                 sc_core::wait(ns(100));
                 mmu_notifier_unregister(x, mm);
                 unregistered = sc_time_stamp();
               }});
  EXPECT_EQ(log.calls, (std::vector<std::string>{"x.start", "x.release"}));
  EXPECT_EQ(log.times[1], ns(100));
  EXPECT_EQ(start_returned, ns(430));
  EXPECT_EQ(unregistered, start_returned + ns(kWakeNs));
  EXPECT_FALSE(x.registered());
  EXPECT_EQ(mm.count(), 1);
  EXPECT_EQ(os.diagnostics().total(), 0u);
}

TEST(MmuNotifierSubscriptions, ExitMmapReleasesListSubscribersOnceBeforeTeardown) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  Log log;
  TestNotifier a("a", kRange | MmuNotifier::kRelease, log), b("b", MmuNotifier::kRelease, log);
  mm.exit_mmap_hook = [&](MmStruct&) { log.add("exit_mmap_hook"); };
  sc_time exit_start, exit_done;
  test::run_thread([&] {
    mmu_notifier_register(&a, mm);
    mmu_notifier_register(&b, mm);
    EXPECT_EQ(mm.count(), 3);
    exit_start = sc_time_stamp();
    mm.mmput();  // last user: exit_mmap
    exit_done = sc_time_stamp();
    mmu_notifier_unregister(a, mm);  // already released: no second release
    mmu_notifier_unregister(b, mm);
  });
  EXPECT_EQ(log.calls, (std::vector<std::string>{"b.release", "a.release", "exit_mmap_hook"}));
  EXPECT_EQ(exit_done, exit_start + ns(kGraceNs));  // release ends with synchronize_srcu
  EXPECT_TRUE(mm.exited());
  EXPECT_TRUE(mm.freed());
  EXPECT_EQ(mm.count(), 0);
  EXPECT_EQ(a.stats().call_count(MmuNotifierOp::kRelease), 1u);
  EXPECT_EQ(os.diagnostics().total(), 0u);
}

// --- statistics -----------------------------------------------------------------

TEST(MmuNotifierSubscriptions, PerSubscriberStatisticsCountCallsEventsAndTime) {
  TestOs os;
  MmStruct mm(os, 1, test_cfg());
  Log log;
  TestNotifier kvm("kvm", kRange, log);
  TestNotifier sva("sva", MmuNotifier::kArchInvalidateSecondaryTlbs, log);
  kvm.on_start = [](const MmuNotifierRange&) {
    sc_core::wait(ns(30));
    return 0;
  };
  kvm.on_end = [](const MmuNotifierRange&) { sc_core::wait(ns(20)); };
  sva.on_arch = [&os] { os.current().spin_for(ns(200)); };
  test::run_thread([&] {
    mmu_notifier_register(&kvm, mm);
    mmu_notifier_register(&sva, mm);
    mm.mmap_lock.down_write();
    for (MmuNotifierEvent e :
         {MmuNotifierEvent::kUnmap, MmuNotifierEvent::kClear, MmuNotifierEvent::kClear}) {
      MmuNotifierRange r;
      mmu_notifier_range_init(r, e, 0, mm, 0x1000, 0x2000);
      mmu_notifier_invalidate_range_start(r);
      mm.page_table_lock.lock();
      mmu_notifier_arch_invalidate_secondary_tlbs(mm, 0x1000, 0x2000);
      mm.page_table_lock.unlock();
      mmu_notifier_invalidate_range_end(r);
    }
    mm.mmap_lock.up_write();
  });
  const MmuNotifierStats& k = kvm.stats();
  EXPECT_EQ(k.call_count(MmuNotifierOp::kInvalidateRangeStart), 3u);
  EXPECT_EQ(k.call_count(MmuNotifierOp::kInvalidateRangeEnd), 3u);
  EXPECT_EQ(k.call_count(MmuNotifierOp::kArchInvalidateSecondaryTlbs), 0u);
  EXPECT_EQ(k.start_events[ev(MmuNotifierEvent::kUnmap)], 1u);
  EXPECT_EQ(k.start_events[ev(MmuNotifierEvent::kClear)], 2u);
  EXPECT_EQ(k.end_events[ev(MmuNotifierEvent::kClear)], 2u);
  EXPECT_EQ(k.callback_time, ns(3 * (30 + 20)));
  EXPECT_EQ(k.callback_time_max, ns(30));
  EXPECT_EQ(k.callback_time_under_ptl, sc_core::SC_ZERO_TIME);
  const MmuNotifierStats& s = sva.stats();
  EXPECT_EQ(s.call_count(MmuNotifierOp::kArchInvalidateSecondaryTlbs), 3u);
  EXPECT_EQ(s.callback_time, ns(600));
  EXPECT_EQ(s.callback_time_under_ptl, ns(600));
  EXPECT_EQ(mm.page_table_lock.stats().holds, 3u);
  EXPECT_EQ(mm.page_table_lock.stats().hold_total, ns(600));
  EXPECT_EQ(os.diagnostics().total(), 0u);
}

}  // namespace
}  // namespace iosim
