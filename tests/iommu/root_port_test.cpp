// RootPort ITag bookkeeping: allocation order, completion counts, and the in-flight
// iteration (for_each_busy_itag) that replaces a scan of all 32 ITags.
#include "iommu/root_port.h"

#include <gtest/gtest.h>

#include <vector>

#include "sc_models/timing/server_pool.h"

namespace iosim {
namespace {

using sc_core::sc_time;

RootPortConfig deep_port() {
  RootPortConfig c;
  c.invalidate_queue_depth = 0;  // encodes 32
  return c;
}

// The busy ITags found by scanning all 32 entries.
std::vector<uint8_t> scan_busy(const RootPort& p) {
  std::vector<uint8_t> out;
  for (uint8_t i = 0; i < 32; ++i) {
    if (p.itag(i).busy) out.push_back(i);
  }
  return out;
}

std::vector<uint8_t> visit_busy(const RootPort& p) {
  std::vector<uint8_t> out;
  p.for_each_busy_itag([&](uint8_t i, const RootPort::Itag& t) {
    EXPECT_TRUE(t.busy);
    out.push_back(i);
  });
  return out;
}

TEST(RootPort, ForEachBusyItagVisitsTheSameItagsAsAFullScan) {
  RootPort port("rp", deep_port(), [](RootPort&, tlm::tlm_generic_payload&, sc_time&) {});
  EXPECT_TRUE(visit_busy(port).empty());
  for (int i = 0; i < 7; ++i) EXPECT_EQ(port.allocate_itag(ns(i), ns(100)), i);
  port.free_itag(0);
  EXPECT_TRUE(port.complete_itag(3, 1));
  EXPECT_FALSE(port.complete_itag(5, 2));  // one of two completions: still in flight
  EXPECT_EQ(visit_busy(port), scan_busy(port));
  EXPECT_EQ(visit_busy(port), (std::vector<uint8_t>{1, 2, 4, 5, 6}));
  // Allocation goes on round robin past the freed ones, wrapping at 32.
  for (int i = 7; i < 32; ++i) port.allocate_itag(ns(i), ns(100));
  EXPECT_EQ(port.allocate_itag(ns(40), ns(100)), 0u);
  EXPECT_EQ(port.itags_in_flight(), 31u);
  EXPECT_EQ(visit_busy(port), scan_busy(port));
  EXPECT_EQ(port.itag(0).deadline, ns(140));
}

TEST(RootPort, ForEachBusyItagToleratesFreeingTheVisitedItag) {
  RootPort port("rp", deep_port(), [](RootPort&, tlm::tlm_generic_payload&, sc_time&) {});
  for (int i = 0; i < 5; ++i) port.allocate_itag(ns(10 * i), ns(100));
  std::vector<uint8_t> visited;
  port.for_each_busy_itag([&](uint8_t i, const RootPort::Itag& t) {
    visited.push_back(i);
    if (t.deadline <= ns(120)) port.free_itag(i);  // issued at 0, 10, 20 expire
  });
  EXPECT_EQ(visited, (std::vector<uint8_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(scan_busy(port), (std::vector<uint8_t>{3, 4}));
  EXPECT_EQ(port.itags_in_flight(), 2u);
}

}  // namespace
}  // namespace iosim
