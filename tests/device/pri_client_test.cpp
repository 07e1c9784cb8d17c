// PriClient on its own, behind a recording upstream: PRG index allocation (an index
// still outstanding is skipped), reuse of finished groups, responses for no group.
#include "device/pri_client.h"

#include <gtest/gtest.h>

#include <variant>
#include <vector>

#include "sc_models/stats.h"
#include "tests/common/tlm_bench.h"

namespace iosim {
namespace {

using sc_core::SC_NS;
using sc_core::sc_time;

// Records the Page Requests and delivers each message 10 ns after it is sent.
struct RecordingUpstream : DeviceUpstream {
  std::vector<PageRequest> requests;
  void transport(tlm::tlm_generic_payload& gp, sc_time& delay) override {
    const PcieExtension* ext = PcieExtension::of(gp);
    if (const auto* pr = std::get_if<PageRequest>(&ext->body)) requests.push_back(*pr);
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
  RecordingUpstream up;
  StatGroup& stats = StatRegistry::global().group("test.pri");
  PriClient pri(up, 8, true, stats);
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
          test::until(sc_core::sc_time_stamp().to_seconds() * 1e9 + 1);
          pri.on_response(response(up.requests.back().prg_index));
          test::until(sc_core::sc_time_stamp().to_seconds() * 1e9 + 20);
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
  const auto* errors = StatRegistry::global().find_as<Counter>("test.pri.prg_protocol_errors");
  ASSERT_NE(errors, nullptr);
  EXPECT_EQ(errors->value(), 3u);
}

TEST(PriClient, AnIndexIsSkippedWhileItsGroupIsOutstanding) {
  // The first group holds index 0 while 512 others come and go one at a time:
  // they take 1..511, then wrap, skip 0 and take 1 again.
  RecordingUpstream up;
  StatGroup& stats = StatRegistry::global().group("test.pri");
  PriClient pri(up, 4, true, stats);
  test::run_threads({
      [&] {
        EXPECT_EQ(pri.request(1, {{0x1000, true, false}}), PriClient::Outcome::kSuccess);
      },
      [&] {
        test::until(1);
        for (unsigned i = 1; i <= kPrgIndexMax + 1; ++i) {
          sc_core::sc_spawn([&] { pri.request(1, {{0x2000, true, false}}); });
          test::until(sc_core::sc_time_stamp().to_seconds() * 1e9 + 1);
          pri.on_response(response(up.requests.back().prg_index));
          test::until(sc_core::sc_time_stamp().to_seconds() * 1e9 + 20);
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

}  // namespace
}  // namespace iosim
