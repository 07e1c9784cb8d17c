// LocalTime: when a process's time stays ahead of the kernel (the kernel check and
// the private path's check), and the quantum keeper's synchronisation when decoupled.
#include "sc_models/timing/local_time.h"

#include <gtest/gtest.h>

#include "tests/common/tlm_bench.h"

namespace iosim {
namespace {

using sc_core::sc_time;

sc_time ns_(double v) {
  return sc_time(v, sc_core::SC_NS);
}

TEST(LocalTime, StaysAheadOnlyWhileNothingCanRunBeforeTheEnd) {
  Timing timing;
  sc_core::sc_event other;
  std::vector<double> stamps;
  test::run_thread([&] {
    LocalTime t(timing);
    t.start();
    EXPECT_FALSE(t.decoupled());
    const uint64_t skips = timing.lookahead().skips();
    t.advance(ns_(100));
    t.keep_up();  // nothing pending at all: kept as annotated time
    stamps.push_back(to_ns(sc_core::sc_time_stamp()));
    EXPECT_EQ(t.now(), ns_(100));
    EXPECT_EQ(timing.lookahead().skips(), skips + 1);
    other.notify(ns_(150));  // another process's activity before now() + 100 ns
    timing.notified();
    t.advance(ns_(100));
    t.keep_up();  // waited for: the kernel reaches now()
    stamps.push_back(to_ns(sc_core::sc_time_stamp()));
    EXPECT_EQ(t.now(), ns_(200));
    EXPECT_EQ(timing.lookahead().skips(), skips + 1);
  });
  ASSERT_EQ(stamps.size(), 2u);
  EXPECT_DOUBLE_EQ(stamps[0], 0);
  EXPECT_DOUBLE_EQ(stamps[1], 200);
}

TEST(LocalTime, DecoupledSynchronisesAtTheQuantumBoundary) {
  Timing timing;
  tlm::tlm_global_quantum::instance().set(ns_(1000));
  std::vector<double> stamps;
  test::run_thread([&] {
    LocalTime t(timing, true);
    t.start();
    ASSERT_TRUE(t.decoupled());
    t.advance(ns_(400));
    t.keep_up();  // within the quantum: no wait
    stamps.push_back(to_ns(sc_core::sc_time_stamp()));
    EXPECT_EQ(t.now(), ns_(400));
    t.advance(ns_(700));
    t.keep_up();  // 1100 ns reaches the boundary: synchronised
    stamps.push_back(to_ns(sc_core::sc_time_stamp()));
    EXPECT_EQ(t.now(), ns_(1100));
    t.advance(ns_(50));
    t.sync();  // before waiting for another process: always
    stamps.push_back(to_ns(sc_core::sc_time_stamp()));
  });
  tlm::tlm_global_quantum::instance().set(sc_core::SC_ZERO_TIME);
  EXPECT_EQ(stamps, (std::vector<double>{0, 1100, 1150}));
}

// Two members of a private path whose crossing takes 50 ns; an unrelated event at
// 10 ns stops the kernel check, so only the path's own check can keep a wait.
struct PathRun {
  double stamp_after_send = -1;  // kernel time right after send()
  double delay = -1;             // the request's annotated delay
};

PathRun send_beside_peer(double peer_idle_until_ns, bool quiet) {
  Timing timing;
  PrivatePath path;
  path.set_members(2);
  path.set_crossing_time(ns_(50));
  path.set_quiet_until([quiet](const sc_time&) { return quiet; });
  LocalTime self(timing, false, &path);
  LocalTime peer(timing, false, &path);
  sc_core::sc_event unrelated;
  PathRun r;
  test::run_threads({[&] {
                       peer.start();
                       peer.idle_until(ns_(peer_idle_until_ns));
                       peer.finish();
                     },
                     [&] {
                       self.start();
                       unrelated.notify(ns_(10));
                       timing.notified();
                       sc_core::wait(sc_core::SC_ZERO_TIME);  // the peer has marked its clock
                       self.advance(ns_(20));
                       r.delay = to_ns(self.send());
                       r.stamp_after_send = to_ns(sc_core::sc_time_stamp());
                       self.received(sc_core::SC_ZERO_TIME);
                     }});
  return r;
}

TEST(LocalTime, PrivatePathKeepsTheSendWaitWhenNoPeerCanActBefore) {
  const PathRun r = send_beside_peer(500, true);
  EXPECT_DOUBLE_EQ(r.stamp_after_send, 0);
  EXPECT_DOUBLE_EQ(r.delay, 20);
}

TEST(LocalTime, APeerSendingBeforeTheEndKeepsTheWait) {
  const PathRun r = send_beside_peer(15, true);
  EXPECT_DOUBLE_EQ(r.stamp_after_send, 20);
  EXPECT_DOUBLE_EQ(r.delay, 0);
}

TEST(LocalTime, InitiatorActivityBeforeTheEndKeepsTheWait) {
  const PathRun r = send_beside_peer(500, false);
  EXPECT_DOUBLE_EQ(r.stamp_after_send, 20);
  EXPECT_DOUBLE_EQ(r.delay, 0);
}

TEST(LocalTime, InitiatorStackSizesDiffer) {
  EXPECT_EQ(initiator_stack_size(0), sc_core::SC_DEFAULT_STACK_SIZE);
  EXPECT_NE(initiator_stack_size(1) % 4096, initiator_stack_size(0) % 4096);
  EXPECT_EQ(initiator_stack_size(64), initiator_stack_size(0));
}

}  // namespace
}  // namespace iosim
