// ServerSemaphore: arrival order, one wake-up per served waiter, counted units.
#include "sc_models/timing/server_semaphore.h"

#include <gtest/gtest.h>

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/tlm_bench.h"
#include "sc_models/timing/server_pool.h"

namespace iosim {
namespace {

using sc_core::sc_time;

// A request that arrives at `arrive_ns`, takes `units`, holds them `hold_ns` and
// records when it got them and how often it was woken.
struct Request {
  std::string name;
  double arrive_ns;
  unsigned units;
  double hold_ns;
  sc_time granted;
  unsigned wakeups = 0;
};

void run(ServerSemaphore& s, std::vector<Request>& reqs, std::vector<std::string>& order) {
  std::vector<std::function<void()>> bodies;
  for (Request& r : reqs) {
    bodies.push_back([&s, &r, &order] {
      test::until(r.arrive_ns);
      s.acquire(r.units, [&r](const sc_core::sc_event& e) {
        sc_core::wait(e);
        ++r.wakeups;
      });
      r.granted = sc_core::sc_time_stamp();
      order.push_back(r.name);
      sc_core::wait(ns(r.hold_ns));
      s.release(r.units);
    });
  }
  test::run_threads(bodies);
}

// One server held 100 ns per request: the waiters get it in arrival order, one after
// the other, each woken exactly once; a request arriving at the very time the server
// is handed over queues behind the waiters instead of taking it.
TEST(ServerSemaphore, ServesWaitersInArrivalOrderAndWakesOnlyTheServedOne) {
  Timing timing;
  ServerSemaphore s(1, timing);
  std::vector<Request> reqs = {{"a", 0, 1, 100, {}},
                               {"d", 30, 1, 100, {}},
                               {"b", 10, 1, 100, {}},
                               {"late", 100, 1, 100, {}},
                               {"c", 20, 1, 100, {}}};
  std::vector<std::string> order;
  run(s, reqs, order);
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c", "d", "late"}));
  for (const Request& r : reqs) {
    EXPECT_EQ(r.wakeups, r.name == "a" ? 0u : 1u) << r.name;
  }
  EXPECT_EQ(reqs[2].granted, ns(100));  // b: at a's release
  EXPECT_EQ(reqs[4].granted, ns(200));  // c
  EXPECT_EQ(reqs[1].granted, ns(300));  // d
  EXPECT_EQ(reqs[3].granted, ns(400));  // late, although it arrived as a released
  EXPECT_EQ(s.wakeups(), 4u);
  EXPECT_EQ(s.free_units(), 1u);
  EXPECT_EQ(s.waiting(), 0u);
}

// Counted units (credits): a release serves the oldest waiter when it fits, then the
// next; a small request behind a large one waits for it (no overtaking).
TEST(ServerSemaphore, CreditsGoInArrivalOrderEvenWhenALaterRequestWouldFit) {
  Timing timing;
  ServerSemaphore s(4, timing);
  std::vector<Request> reqs = {{"hold3", 0, 3, 100, {}},  // 1 credit left
                               {"hold1", 1, 1, 50, {}},   // none left
                               {"big", 10, 4, 10, {}},    // needs all four
                               {"small", 20, 1, 10, {}}};
  std::vector<std::string> order;
  run(s, reqs, order);
  EXPECT_EQ(order, (std::vector<std::string>{"hold3", "hold1", "big", "small"}));
  // hold1's release at 51 frees one credit: small would fit but big is first.
  EXPECT_EQ(reqs[2].granted, ns(100));
  EXPECT_EQ(reqs[3].granted, ns(110));
  EXPECT_EQ(reqs[2].wakeups, 1u);
  EXPECT_EQ(reqs[3].wakeups, 1u);
}

// One release that frees enough for several waiters serves all of them, and they run
// in the order they asked.
TEST(ServerSemaphore, OneReleaseServesEveryWaiterItCovers) {
  Timing timing;
  ServerSemaphore s(3, timing);
  std::vector<Request> reqs = {
      {"all", 0, 3, 100, {}}, {"x", 10, 1, 10, {}}, {"y", 20, 2, 10, {}}, {"z", 30, 1, 10, {}}};
  std::vector<std::string> order;
  run(s, reqs, order);
  EXPECT_EQ(order, (std::vector<std::string>{"all", "x", "y", "z"}));
  EXPECT_EQ(reqs[1].granted, ns(100));
  EXPECT_EQ(reqs[2].granted, ns(100));
  EXPECT_EQ(reqs[3].granted, ns(110));  // after x's release
  EXPECT_EQ(s.wakeups(), 3u);
}

TEST(ServerSemaphore, RejectsImpossibleRequestsAndReleases) {
  Timing timing;
  EXPECT_THROW(ServerSemaphore(0, timing), std::invalid_argument);
  ServerSemaphore s(2, timing);
  EXPECT_THROW(s.release(1), std::logic_error);
  bool threw_big = false, threw_zero = false;
  test::run_thread([&] {
    try {
      s.acquire(3);
    } catch (const std::invalid_argument&) {
      threw_big = true;
    }
    try {
      s.acquire(0);
    } catch (const std::invalid_argument&) {
      threw_zero = true;
    }
    EXPECT_FALSE(s.acquire(2));  // free: no wait
    EXPECT_EQ(s.in_use(), 2u);
  });
  EXPECT_TRUE(threw_big);
  EXPECT_TRUE(threw_zero);
}

}  // namespace
}  // namespace iosim
