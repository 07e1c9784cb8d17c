// Tests of Completion: sleeping vs spinning waits, wake-up latency, counting
// semantics and the atomic-context check.
#include "os/completion.h"

#include <gtest/gtest.h>

#include "os/spin_lock.h"
#include "tests/os/lock_bench.h"

namespace iosim {
namespace {

using namespace test;  // tests/os/lock_bench.h

TEST(Completion, WaitForCompletionSleepsAndPaysTheWakeupLatency) {
  TestOs os;
  Completion done(os, kWakeNs);
  sc_time returned, slept;
  run_threads({[&] {
                 done.wait_for_completion();
                 returned = sc_time_stamp();
                 slept = os.current().sleep_time();
               },
               [&] {
                 sc_core::wait(ns(200));
                 done.complete();
               }});
  EXPECT_EQ(returned, ns(200 + kWakeNs));
  EXPECT_EQ(slept, ns(200));
  EXPECT_FALSE(done.completion_done());  // consumed
  EXPECT_EQ(os.diagnostics().total(), 0u);
}

TEST(Completion, SpinningUnderASpinLockIsAllowedAndHasNoWakeupLatency) {
  TestOs os;
  Completion done(os, kWakeNs);
  SpinLock ptl(os, "ptl", SpinLockConfig{0.0}, SpinLock::Kind::kPageTable);
  sc_time returned, spun;
  run_threads({[&] {
                 ptl.lock();
                 done.spin_until_done();
                 returned = sc_time_stamp();
                 spun = os.current().spin_time();
                 ptl.unlock();
               },
               [&] {
                 sc_core::wait(ns(200));
                 done.complete();
               }});
  EXPECT_EQ(returned, ns(200));
  EXPECT_EQ(spun, ns(200));
  EXPECT_EQ(os.diagnostics().total(), 0u);
}

TEST(Completion, WaitingInAtomicContextIsReported) {
  TestOs os;
  Completion done(os, 0);
  done.complete();
  SpinLock l(os, "l", SpinLockConfig{0.0});
  test::run_thread([&] {
    l.lock();
    done.wait_for_completion();  // does not block, but might_sleep still fires
    l.unlock();
  });
  EXPECT_EQ(os.diagnostics().count(DiagKind::kSleepInAtomic), 1u);
}

TEST(Completion, CountsCompletionsAndCompleteAllReleasesEveryone) {
  TestOs os;
  Completion done(os, 0);
  std::vector<sc_time> returns;
  bool third_tried = true;
  run_threads({[&] {
                 done.complete();
                 done.complete();
                 done.wait_for_completion();
                 done.wait_for_completion();
                 returns.push_back(sc_time_stamp());
                 third_tried = done.try_wait_for_completion();
                 done.wait_for_completion();  // blocks until complete_all
                 returns.push_back(sc_time_stamp());
                 done.wait_for_completion();  // complete_all stays done
                 returns.push_back(sc_time_stamp());
               },
               [&] {
                 sc_core::wait(ns(300));
                 done.complete_all();
               }});
  EXPECT_FALSE(third_tried);
  EXPECT_EQ(returns, (std::vector<sc_time>{ns(0), ns(300), ns(300)}));
  EXPECT_TRUE(done.completion_done());
}

}  // namespace
}  // namespace iosim
