// Lookahead::may_skip: the bound it keeps for one process run, asked again after a
// wait, another process's run, forget() and a horizon change.
#include "sc_models/timing/lookahead.h"

#include <gtest/gtest.h>

#include "tests/common/tlm_bench.h"

namespace iosim {
namespace {

sc_core::sc_time ns_(double v) {
  return sc_core::sc_time(v, sc_core::SC_NS);
}

TEST(Lookahead, SkipsOnlyBeforeThePendingActivity) {
  Lookahead la;
  sc_core::sc_event other;
  bool ran = false;
  test::run_thread([&] {
    const uint64_t skips = la.skips();
    EXPECT_TRUE(la.may_skip(ns_(100)));  // nothing pending at all
    EXPECT_FALSE(la.may_skip(sc_core::SC_ZERO_TIME));
    // A timed notification of our own at +50 ns: the known bound (none) is stale
    // until forget().
    other.notify(ns_(50));
    la.forget();
    EXPECT_TRUE(la.may_skip(ns_(49)));
    EXPECT_FALSE(la.may_skip(ns_(50)));  // strictly before the activity
    EXPECT_FALSE(la.may_skip(ns_(60)));
    EXPECT_EQ(la.skips(), skips + 2);
    sc_core::wait(other);  // a new run at 50 ns: asked again, nothing pending
    ran = true;
    EXPECT_TRUE(la.may_skip(ns_(1000)));
  });
  EXPECT_TRUE(ran);
}

TEST(Lookahead, AnotherProcessRunnableNowStopsASkip) {
  Lookahead la;
  sc_core::sc_event go;
  std::vector<bool> answers;
  test::run_threads({[&] {
                       sc_core::wait(ns_(1));  // thread1 waits for `go` by then
                       go.notify();            // makes thread1 runnable now
                       answers.push_back(la.may_skip(ns_(10)));
                     },
                     [&] {
                       sc_core::wait(go);
                       answers.push_back(la.may_skip(ns_(10)));  // alone, nothing pending
                     }});
  EXPECT_EQ(answers, (std::vector<bool>{false, true}));
}

TEST(Lookahead, HorizonAndDisabled) {
  Lookahead la;
  test::run_thread([&] {
    la.set_horizon(ns_(30));  // also forgets the bound
    EXPECT_TRUE(la.may_skip(ns_(29)));
    EXPECT_FALSE(la.may_skip(ns_(30)));
    la.set_enabled(false);
    EXPECT_FALSE(la.may_skip(ns_(1)));
    la.set_enabled(true);
    la.set_horizon(sc_core::sc_max_time());
    EXPECT_TRUE(la.may_skip(ns_(100)));
  });
}

}  // namespace
}  // namespace iosim
