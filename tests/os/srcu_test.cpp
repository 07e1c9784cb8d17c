// Tests of Srcu: grace periods wait only for pre-existing readers, call_srcu runs
// after a grace period in a non-block section, self-deadlock is reported.
#include "os/srcu.h"

#include <gtest/gtest.h>

#include "os/exec_context.h"
#include "tests/os/lock_bench.h"

namespace iosim {
namespace {

using namespace test;  // tests/os/lock_bench.h

constexpr double kGraceNs = 50;
constexpr double kWakeNs = 20;  // SRCU's own wake-up latency (hides test::kWakeNs)

TEST(Srcu, SynchronizeWaitsOnlyForReadersThatStartedBefore) {
  TestOs os;
  Srcu srcu(os, "s", kGraceNs, kWakeNs);
  sc_time synced;
  run_threads({[&] {  // old reader: 0..300
                 uint64_t t = srcu.read_lock();
                 until(300);
                 srcu.read_unlock(t);
               },
               [&] {  // new reader: 150..1000, must not extend the grace period
                 until(150);
                 uint64_t t = srcu.read_lock();
                 until(1000);
                 srcu.read_unlock(t);
               },
               [&] {
                 until(100);
                 srcu.synchronize();
                 synced = sc_time_stamp();
               }});
  EXPECT_EQ(synced, ns(300 + kWakeNs));
  EXPECT_EQ(srcu.grace_periods(), 1u);
  EXPECT_EQ(srcu.readers(), 0u);
}

TEST(Srcu, ReadersLeavingOutOfTicketOrderEndTheGracePeriodAtTheLast) {
  TestOs os;
  Srcu srcu(os, "s", kGraceNs, kWakeNs);
  sc_time synced;
  uint64_t first = 0, second = 0;
  run_threads({[&] {  // first ticket, leaves last: 0..500
                 first = srcu.read_lock();
                 until(500);
                 srcu.read_unlock(first);
               },
               [&] {  // second ticket, leaves first: 10..200
                 until(10);
                 second = srcu.read_lock();
                 until(200);
                 srcu.read_unlock(second);
                 srcu.read_unlock(second);  // no longer held: reported
               },
               [&] {
                 until(100);
                 srcu.synchronize();
                 synced = sc_time_stamp();
               }});
  EXPECT_LT(first, second);
  EXPECT_EQ(synced, ns(500 + kWakeNs));
  EXPECT_EQ(srcu.readers(), 0u);
  EXPECT_EQ(os.diagnostics().of_kind(DiagKind::kSrcuDeadlock).size(), 1u);
}

TEST(Srcu, SynchronizeWithNoReadersLastsTheMinimumGracePeriod) {
  TestOs os;
  Srcu srcu(os, "s", kGraceNs, kWakeNs);
  sc_time synced;
  test::run_thread([&] {
    until(10);
    srcu.synchronize();
    synced = sc_time_stamp();
  });
  EXPECT_EQ(synced, ns(10 + kGraceNs));
}

TEST(Srcu, CallbackRunsAfterGracePeriodInANonBlockSection) {
  TestOs os;
  Srcu srcu(os, "s", kGraceNs, kWakeNs);
  std::vector<sc_time> ran;
  run_threads({[&] {
                 uint64_t t = srcu.read_lock();
                 until(400);
                 srcu.read_unlock(t);
               },
               [&] {
                 until(100);
                 srcu.call([&] {
                   ran.push_back(sc_time_stamp());
                   os.current().sleep_for(ns(1), "kfree_sleeping");  // not allowed
                 });
                 srcu.barrier();
                 ran.push_back(sc_time_stamp());
               }});
  ASSERT_EQ(ran.size(), 2u);
  EXPECT_EQ(ran[0], ns(400 + kWakeNs));
  EXPECT_EQ(ran[1], ns(400 + kWakeNs + 1));  // barrier returns once the callback finished
  auto d = os.diagnostics().of_kind(DiagKind::kSleepInAtomic);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].where, "s.srcu_callback");
  EXPECT_EQ(srcu.callbacks_pending(), 0u);
}

TEST(Srcu, SynchronizeInsideOwnReadSectionIsReportedNotHung) {
  TestOs os;
  Srcu srcu(os, "s", kGraceNs, kWakeNs);
  sc_time synced;
  test::run_thread([&] {
    uint64_t t = srcu.read_lock();
    srcu.synchronize();
    synced = sc_time_stamp();
    srcu.read_unlock(t);
    srcu.read_unlock(t);  // unbalanced
  });
  EXPECT_EQ(synced, ns(kGraceNs));
  EXPECT_EQ(os.diagnostics().count(DiagKind::kSrcuDeadlock), 2u);
}

}  // namespace
}  // namespace iosim
