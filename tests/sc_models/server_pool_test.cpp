#include "sc_models/timing/server_pool.h"

#include <gtest/gtest.h>

#include <tlm>

#include <random>
#include <utility>
#include <vector>

namespace iosim {
namespace {

TEST(ServerPool, OneServerQueuesBackToBackRequests) {
  ServerPool p(1);
  auto g1 = p.reserve(ns(0), ns(10));
  auto g2 = p.reserve(ns(0), ns(10));
  auto g3 = p.reserve(ns(5), ns(10));
  EXPECT_EQ(g1.start, ns(0));
  EXPECT_EQ(g2.start, ns(10));
  EXPECT_EQ(g3.start, ns(20));
  EXPECT_EQ(g3.finish, ns(30));
  EXPECT_EQ(p.total_wait(), ns(10 + 15));
  EXPECT_EQ(p.total_busy(), ns(30));
  // An arrival after the server is idle again starts at once.
  EXPECT_EQ(p.reserve(ns(100), ns(1)).start, ns(100));
}

TEST(ServerPool, TwoServersServeTwoRequestsInParallel) {
  ServerPool p(2);
  auto a = p.reserve(ns(0), ns(10));
  auto b = p.reserve(ns(0), ns(10));
  auto c = p.reserve(ns(0), ns(10));
  EXPECT_EQ(a.start, ns(0));
  EXPECT_EQ(b.start, ns(0));
  EXPECT_NE(a.server, b.server);
  EXPECT_EQ(c.start, ns(10));
  EXPECT_EQ(p.earliest_free(), ns(10));
}

// With a zero quantum, requests are served in call order (FIFO).
TEST(ServerPool, WithoutQuantumALaterCallQueuesBehindAnEarlierOne) {
  ServerPool p(1);
  EXPECT_EQ(p.reserve(ns(100), ns(10)).start, ns(100));
  EXPECT_EQ(p.reserve(ns(0), ns(10)).start, ns(110));
}

// With a quantum, a call for an earlier arrival takes the first gap that fits.
TEST(ServerPool, WithAQuantumRequestsFillGapsInSimulatedTimeOrder) {
  tlm::tlm_global_quantum::instance().set(sc_core::sc_time(1, sc_core::SC_US));
  ServerPool p(1);
  EXPECT_EQ(p.reserve(ns(100), ns(10)).start, ns(100));  // [100, 110)
  EXPECT_EQ(p.reserve(ns(0), ns(10)).start, ns(0));      // [0, 10)
  EXPECT_EQ(p.reserve(ns(95), ns(10)).start, ns(110));   // 95..105 overlaps [100, 110)
  const auto g = p.reserve(ns(10), ns(85));              // exactly [10, 95)
  EXPECT_EQ(g.start, ns(10));
  EXPECT_EQ(g.finish, ns(95));
  EXPECT_EQ(p.reserve(ns(5), ns(1)).start, ns(95));  // the gap [95, 100)
  EXPECT_EQ(p.requests(), 5u);
  EXPECT_EQ(p.total_wait(), ns(15 + 90));
  EXPECT_EQ(p.total_busy(), ns(10 + 10 + 10 + 85 + 1));
}

// With a quantum, many requests in random arrival order: every grant is the one a
// plain search over all earlier reservations gives (the earliest start on any server
// whose gap at or after the arrival fits the service; the lowest server on a tie).
// Arrivals are spread over 20 us against a 1 us quantum, so each lands among many
// booked reservations.
TEST(ServerPool, WithAQuantumGrantsMatchAReferenceSearch) {
  tlm::tlm_global_quantum::instance().set(sc_core::sc_time(1, sc_core::SC_US));
  for (unsigned servers : {1u, 3u}) {
    ServerPool p(servers);
    std::vector<std::vector<std::pair<uint64_t, uint64_t>>> booked(servers);  // [start, end)
    std::mt19937_64 rng(servers);
    for (int i = 0; i < 3000; ++i) {
      const uint64_t a = rng() % 20000;
      const uint64_t s = rng() % 8 == 0 ? 0 : 1 + rng() % 30;
      uint64_t best_t = 0;
      unsigned best = 0;
      for (unsigned k = 0; k < servers; ++k) {
        uint64_t t = a;
        if (s == 0) {  // no service: waits only for the reservation in progress at arrival
          for (const auto& [b, e] : booked[k]) {
            if (b <= a && a < e) t = e;
          }
        }
        for (bool moved = s > 0; moved;) {  // push t past every overlapping reservation
          moved = false;
          for (const auto& [b, e] : booked[k]) {
            if (b < t + s && t < e) {
              t = e;
              moved = true;
            }
          }
        }
        if (k == 0 || t < best_t) {
          best_t = t;
          best = k;
        }
      }
      const ServerPool::Grant g = p.reserve(ns(static_cast<double>(a)), ns(static_cast<double>(s)));
      ASSERT_EQ(g.start, ns(static_cast<double>(best_t)))
          << "request " << i << " servers " << servers;
      ASSERT_EQ(g.finish, ns(static_cast<double>(best_t + s)));
      ASSERT_EQ(g.server, best);
      if (s > 0) booked[best].push_back({best_t, best_t + s});
    }
  }
  tlm::tlm_global_quantum::instance().set(sc_core::SC_ZERO_TIME);
}

// reserve_in_time_order(), made in simulated-time order: exactly reserve()'s FIFO.
TEST(ServerPool, InTimeOrderCallsMadeInTimeOrderAreServedAsByReserve) {
  ServerPool fifo(1), ordered(1);
  std::mt19937_64 rng(7);
  uint64_t a = 0;
  for (int i = 0; i < 2000; ++i) {
    a += rng() % 20;
    const sc_core::sc_time ready = ns(static_cast<double>(a));
    const sc_core::sc_time service = ns(static_cast<double>(1 + rng() % 30));
    const ServerPool::Grant f = fifo.reserve(ready, service);
    const ServerPool::Grant o = ordered.reserve_in_time_order(ready, service);
    ASSERT_EQ(o.start, f.start) << "request " << i;
    ASSERT_EQ(o.finish, f.finish) << "request " << i;
  }
  EXPECT_EQ(ordered.total_wait(), fifo.total_wait());
  EXPECT_EQ(ordered.total_busy(), fifo.total_busy());
}

// A request made after one ready later takes the gap before it when it fits, else
// follows it; it never goes before a booked request ready no later than itself.
TEST(ServerPool, InTimeOrderAnEarlierRequestTakesTheGapBeforeALaterOne) {
  ServerPool p(1);
  EXPECT_EQ(p.reserve_in_time_order(ns(100), ns(10)).start, ns(100));  // [100, 110)
  EXPECT_EQ(p.reserve_in_time_order(ns(0), ns(10)).start, ns(0));      // [0, 10): before it
  EXPECT_EQ(p.reserve_in_time_order(ns(95), ns(10)).start, ns(110));   // no room before 100
  EXPECT_EQ(p.reserve_in_time_order(ns(20), ns(50)).start, ns(20));    // [20, 70)
  // Ready at 10: after [0, 10); [10, 20) is too short, so after [20, 70): [70, 100).
  EXPECT_EQ(p.reserve_in_time_order(ns(10), ns(30)).start, ns(70));
  // Ready at 15, 5 ns: [15, 20) would fit, but the request ready at 10 is served
  // first (first come, first served): after it, and after [100, 110) and [110, 120).
  EXPECT_EQ(p.reserve_in_time_order(ns(15), ns(5)).start, ns(120));
  EXPECT_EQ(p.requests(), 6u);
  EXPECT_EQ(p.total_wait(), ns(15 + 60 + 105));
  EXPECT_EQ(p.total_busy(), ns(10 + 10 + 10 + 50 + 30 + 5));
}

TEST(Clock, CyclesToTime) {
  Clock c(2000.0);  // 2 GHz
  EXPECT_EQ(c.period(), sc_core::sc_time(500, sc_core::SC_PS));
  EXPECT_EQ(c.cycles(4), ns(2));
  EXPECT_THROW(Clock(0.0), std::invalid_argument);
}

}  // namespace
}  // namespace iosim
