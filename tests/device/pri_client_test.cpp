// PriClient on its own, behind a recording upstream: PRG index allocation (an index
// still outstanding is skipped), reuse of finished groups, responses for no group;
// groups waiting for Outstanding Page Request Allocation credits or a PRG index are
// sent in the order they asked; the response time-out and stop() of the fault
// injection.
#include "device/pri_client.h"

#include <gtest/gtest.h>

#include <functional>
#include <variant>
#include <vector>

#include "sc_models/observe/stats.h"
#include "sc_models/sim/sim_context.h"
#include "tests/common/tlm_bench.h"

namespace iosim {
namespace {

using sc_core::SC_NS;
using sc_core::sc_time;

// Records the Page Requests and delivers each message 10 ns after it is sent.
struct RecordingUpstream : DeviceUpstream {
  std::vector<PageRequest> requests;
  std::vector<sc_time> sent;  // when each Page Request was sent
  void transport(tlm::tlm_generic_payload& gp, sc_time& delay) override {
    const PcieExtension* ext = PcieExtension::of(gp);
    if (const auto* pr = std::get_if<PageRequest>(&ext->body)) {
      requests.push_back(*pr);
      sent.push_back(sc_core::sc_time_stamp() + delay);
    }
    delay += sc_time(10, SC_NS);
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
  }
  uint16_t requester_id() const override { return 0x100; }
};

PrgResponse response(uint16_t index, PrgResponseCode code = PrgResponseCode::kSuccess) {
  PrgResponse r;
  r.destination_id = 0x100;
  r.prg_index = index;
  r.code = code;
  return r;
}

TEST(PriClient, IndicesSkipOutstandingGroupsAndFinishedGroupsAreReused) {
  SimContext ctx;
  RecordingUpstream up;
  StatGroup& stats = ctx.stats().group("test.pri");
  Timing timing;
  PriClient pri(up, 8, true, stats, timing);
  std::vector<PriClient::Outcome> outcomes;
  auto requester = [&](uint64_t va) {
    return [&, va] { outcomes.push_back(pri.request(1, {{va, true, false}})); };
  };
  test::run_threads({
      // Group A (index 0) stays outstanding until 100 ns.
      requester(0x1000),
      [&] {
        test::until(5);
        EXPECT_EQ(pri.outstanding_groups(), 1u);
        // Groups B and C (indices 1, 2), answered at once, one after the other.
        for (uint64_t va : {0x2000, 0x3000}) {
          sc_core::sc_spawn(requester(va));
          test::until(to_ns(sc_core::sc_time_stamp()) + 1);
          pri.on_response(response(up.requests.back().prg_index));
          test::until(to_ns(sc_core::sc_time_stamp()) + 20);
        }
        EXPECT_EQ(pri.outstanding_groups(), 1u);
        // An index with no group, an index out of range, and a second response
        // for a finished group are protocol errors.
        pri.on_response(response(7));
        pri.on_response(response(kPrgIndexMax + 1));
        pri.on_response(response(1));
        test::until(100);
        pri.on_response(response(0));
        // Index 0 is free again, but indices are taken in turn: the next is 3.
        test::until(120);
        sc_core::sc_spawn(requester(0x4000));
        test::until(121);
        EXPECT_EQ(pri.outstanding_groups(), 1u);
        pri.on_response(response(up.requests.back().prg_index));
      },
  });
  ASSERT_EQ(up.requests.size(), 4u);
  EXPECT_EQ(up.requests[0].prg_index, 0u);
  EXPECT_EQ(up.requests[1].prg_index, 1u);
  EXPECT_EQ(up.requests[2].prg_index, 2u);
  EXPECT_EQ(up.requests[3].prg_index, 3u);
  for (const PageRequest& r : up.requests) EXPECT_TRUE(r.last);
  ASSERT_EQ(outcomes.size(), 4u);
  for (PriClient::Outcome o : outcomes) EXPECT_EQ(o, PriClient::Outcome::kSuccess);
  EXPECT_EQ(pri.outstanding_groups(), 0u);
  EXPECT_EQ(pri.outstanding(), 0u);
  const auto* errors = ctx.stats().find_as<Counter>("test.pri.prg_protocol_errors");
  ASSERT_NE(errors, nullptr);
  EXPECT_EQ(errors->value(), 3u);
}

TEST(PriClient, AnIndexIsSkippedWhileItsGroupIsOutstanding) {
  // The first group holds index 0 while 512 others come and go one at a time:
  // they take 1..511, then wrap, skip 0 and take 1 again.
  SimContext ctx;
  RecordingUpstream up;
  StatGroup& stats = ctx.stats().group("test.pri");
  Timing timing;
  PriClient pri(up, 4, true, stats, timing);
  test::run_threads({
      [&] {
        EXPECT_EQ(pri.request(1, {{0x1000, true, false}}), PriClient::Outcome::kSuccess);
      },
      [&] {
        test::until(1);
        for (unsigned i = 1; i <= kPrgIndexMax + 1; ++i) {
          sc_core::sc_spawn([&] { pri.request(1, {{0x2000, true, false}}); });
          test::until(to_ns(sc_core::sc_time_stamp()) + 1);
          pri.on_response(response(up.requests.back().prg_index));
          test::until(to_ns(sc_core::sc_time_stamp()) + 20);
        }
        EXPECT_EQ(pri.outstanding_groups(), 1u);
        pri.on_response(response(0));
      },
  });
  ASSERT_EQ(up.requests.size(), kPrgIndexMax + 2u);
  EXPECT_EQ(up.requests[0].prg_index, 0u);
  EXPECT_EQ(up.requests[kPrgIndexMax].prg_index, kPrgIndexMax);  // 1..511, then
  EXPECT_EQ(up.requests[kPrgIndexMax + 1].prg_index, 1u);        // 0 is skipped
  EXPECT_EQ(pri.outstanding_groups(), 0u);
}

// The PRG index of the last Page Request sent for `va`'s page.
int index_of(const RecordingUpstream& up, uint64_t va) {
  for (size_t i = up.requests.size(); i-- > 0;) {
    if (up.requests[i].page_address == va) return up.requests[i].prg_index;
  }
  return -1;
}

// Allocation 4, all held by one group; three groups ask for 3, 1 and 2 credits in
// that order. The first response frees 4: the 3- and 1-page groups go (in order),
// the 2-page one waits. When the 1-page group is answered, one credit is free: a
// new 1-page group that asks then does not take it ahead of the waiting 2-page one.
TEST(PriClient, GroupsWaitingForCreditsAreSentInTheOrderTheyAsked) {
  SimContext ctx;
  RecordingUpstream up;
  StatGroup& stats = ctx.stats().group("test.pri");
  Timing timing;
  PriClient pri(up, 4, true, stats, timing);
  std::vector<uint64_t> done;  // first page of each group, as it finished
  auto group = [&](double at, uint64_t va, unsigned pages) {
    return [&, at, va, pages] {
      test::until(at);
      std::vector<PriClient::Page> p;
      for (unsigned i = 0; i < pages; ++i) p.push_back({va + i * 0x1000, true, false});
      EXPECT_EQ(pri.request(1, p), PriClient::Outcome::kSuccess);
      done.push_back(va);
    };
  };
  test::run_threads({
      group(0, 0x10000, 4),
      group(10, 0x20000, 3),
      group(20, 0x30000, 1),
      group(30, 0x40000, 2),
      group(250, 0x50000, 1),
      [&] {
        test::until(100);
        EXPECT_EQ(up.requests.size(), 4u);  // only the first group is out
        pri.on_response(response(index_of(up, 0x10000)));
        test::until(200);
        EXPECT_EQ(up.requests.size(), 8u);  // + the 3- and 1-page groups
        pri.on_response(response(index_of(up, 0x30000)));
        test::until(300);
        EXPECT_EQ(up.requests.size(), 8u);  // 2 credits are needed, 1 is free
        pri.on_response(response(index_of(up, 0x20000)));
        test::until(400);
        pri.on_response(response(index_of(up, 0x40000)));
        pri.on_response(response(index_of(up, 0x50000)));
      },
  });
  ASSERT_EQ(up.requests.size(), 11u);
  // The first Page Request of each group, in the order sent, and when.
  std::vector<uint64_t> firsts;
  std::vector<sc_time> at;
  for (size_t i = 0; i < up.requests.size(); ++i) {
    if ((up.requests[i].page_address & 0xffff) == 0) {
      firsts.push_back(up.requests[i].page_address);
      at.push_back(up.sent[i]);
    }
  }
  EXPECT_EQ(firsts, (std::vector<uint64_t>{0x10000, 0x20000, 0x30000, 0x40000, 0x50000}));
  EXPECT_EQ(at, (std::vector<sc_time>{sc_time(0, SC_NS), sc_time(100, SC_NS), sc_time(100, SC_NS),
                                      sc_time(300, SC_NS), sc_time(300, SC_NS)}));
  EXPECT_EQ(done, (std::vector<uint64_t>{0x10000, 0x30000, 0x20000, 0x40000, 0x50000}));
  EXPECT_EQ(pri.outstanding(), 0u);
}

// Every one of the 512 PRG indices outstanding (the allocation is larger): a group
// waits for an index, and gets the one a finished group gives back when that group
// is closed.
TEST(PriClient, AGroupWaitingForAPrgIndexGetsTheFirstOneFreed) {
  SimContext ctx;
  RecordingUpstream up;
  StatGroup& stats = ctx.stats().group("test.pri");
  Timing timing;
  PriClient pri(up, 1024, true, stats, timing);
  std::vector<std::function<void()>> threads;
  for (unsigned i = 0; i <= kPrgIndexMax; ++i) {
    threads.push_back([&, i] {
      test::until(1 + i);
      pri.request(1, {{0x100000 + i * 0x1000ull, true, false}});
    });
  }
  bool last_done = false;
  threads.push_back([&] {
    test::until(1000);
    EXPECT_EQ(pri.request(1, {{0x8000, true, false}}), PriClient::Outcome::kSuccess);
    last_done = true;
  });
  threads.push_back([&] {
    test::until(2000);
    EXPECT_EQ(up.requests.size(), kPrgIndexMax + 1u);  // the last group waits
    pri.on_response(response(5));
    test::until(2100);
    ASSERT_EQ(up.requests.size(), kPrgIndexMax + 2u);
    EXPECT_EQ(up.requests.back().prg_index, 5u);
    EXPECT_EQ(up.sent.back(), sc_time(2000, SC_NS));  // at the response
    for (uint16_t i = 0; i <= kPrgIndexMax; ++i) pri.on_response(response(i));
  });
  test::run_threads(threads);
  EXPECT_TRUE(last_done);
  EXPECT_EQ(pri.outstanding_groups(), 0u);
}

// PRI response time-out (DeviceFaultConfig::pri_response_timeout_ns): a group without
// a response ends with kTimeout at exactly the time-out after it was sent; its
// credits and PRG index come back, so a group waiting for them goes out then; a
// response that comes for it afterwards is a protocol error.
TEST(PriClient, AGroupWithoutAResponseTimesOutAndGivesBackItsCredits) {
  SimContext ctx;
  RecordingUpstream up;
  StatGroup& stats = ctx.stats().group("test.pri");
  StatGroup& faults = ctx.stats().group("test.fault");
  Timing timing;
  PriClient pri(up, 1, true, stats, timing, 1000, &faults);
  std::vector<std::pair<PriClient::Outcome, sc_time>> outcomes;
  auto requester = [&](uint64_t va) {
    return [&, va] {
      const PriClient::Outcome o = pri.request(1, {{va, true, false}});
      outcomes.push_back({o, sc_core::sc_time_stamp()});
    };
  };
  test::run_threads({
      requester(0x1000),  // never answered: times out at 1000 ns
      [&] {
        sc_core::wait(sc_time(1, SC_NS));
        requester(0x2000)();  // waits for the one credit; answered at 1200 ns
      },
      [&] {
        sc_core::wait(sc_time(1100, SC_NS));
        pri.on_response(response(0));  // too late for the first group (index 0)
        sc_core::wait(sc_time(100, SC_NS));
        pri.on_response(response(up.requests.back().prg_index));
      },
  });
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0].first, PriClient::Outcome::kTimeout);
  EXPECT_EQ(outcomes[0].second, sc_time(1000, SC_NS));
  EXPECT_EQ(outcomes[1].first, PriClient::Outcome::kSuccess);
  EXPECT_EQ(outcomes[1].second, sc_time(1200, SC_NS));
  ASSERT_EQ(up.sent.size(), 2u);
  EXPECT_EQ(up.sent[1], sc_time(1000, SC_NS));  // sent when the credit came back
  EXPECT_EQ(pri.timeouts(), 1u);
  EXPECT_EQ(ctx.stats().find_as<Counter>("test.fault.pri_response_timeouts")->value(), 1u);
  EXPECT_EQ(ctx.stats().find_as<Counter>("test.pri.prg_protocol_errors")->value(), 1u);
  EXPECT_EQ(pri.outstanding(), 0u);
  EXPECT_EQ(pri.outstanding_groups(), 0u);
}

// stop() (an unresponsive Function): the outstanding group ends with kDisabled at
// once and a later request is refused without a Page Request.
TEST(PriClient, StopEndsTheOutstandingGroupsAndRefusesNewOnes) {
  SimContext ctx;
  RecordingUpstream up;
  StatGroup& stats = ctx.stats().group("test.pri");
  Timing timing;
  PriClient pri(up, 4, true, stats, timing);
  std::vector<std::pair<PriClient::Outcome, sc_time>> outcomes;
  test::run_threads({
      [&] {
        outcomes.push_back({pri.request(1, {{0x1000, true, false}}), sc_core::sc_time_stamp()});
        outcomes.push_back({pri.request(1, {{0x2000, true, false}}), sc_core::sc_time_stamp()});
      },
      [&] {
        sc_core::wait(sc_time(500, SC_NS));
        pri.stop();
      },
  });
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[0].first, PriClient::Outcome::kDisabled);
  EXPECT_EQ(outcomes[0].second, sc_time(500, SC_NS));
  EXPECT_EQ(outcomes[1].first, PriClient::Outcome::kDisabled);
  EXPECT_EQ(up.requests.size(), 1u);
  EXPECT_FALSE(pri.enabled());
}

}  // namespace
}  // namespace iosim
