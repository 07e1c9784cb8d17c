#include "sc_models/pcie/pcie_link.h"

#include "common/tlm_bench.h"
#include "sc_models/config/params.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace iosim {
namespace {

using test::run_thread;
using test::StubInitiator;
using test::StubTarget;

// Wire time in ns of one TLP with `payload` data bytes, from the config fields.
double tlp_ns(const PcieLinkConfig& c, double payload) {
  const double gbps = 8.0 * (1u << (c.generation - 3)) * 128.0 / 130.0 * c.lanes;
  return (payload + c.tlp_overhead_bytes) * 8.0 / gbps;
}

// sc_time keeps picoseconds: allow 1 ps of rounding per TLP involved.
constexpr double kPsNs = 0.001;

// One link with a stub on each of its four sockets: `dev` sends upstream to `rc`,
// `host` sends downstream to `ep`.
struct Bench {
  StubInitiator dev, host;
  PcieLink link;
  StubTarget rc, ep;

  Bench(const std::string& n, const PcieLinkConfig& cfg)
      : dev((n + "_dev").c_str()),
        host((n + "_host").c_str()),
        link((n + "_link").c_str(), cfg),
        rc((n + "_rc").c_str()),
        ep((n + "_ep").c_str()) {
    dev.socket.bind(link.up_in);
    link.up_out.bind(rc.socket);
    host.socket.bind(link.down_in);
    link.down_out.bind(ep.socket);
  }
};

// Issues a transaction at the current time without waiting; returns its delay.
sc_core::sc_time post(StubInitiator& from, tlm::tlm_command cmd, uint64_t addr,
                      std::vector<uint8_t>& buf, PcieExtension* ext = nullptr) {
  sc_core::sc_time d = sc_core::SC_ZERO_TIME;
  from.transport(cmd, addr, buf.data(), static_cast<unsigned>(buf.size()), d, ext);
  return d;
}

TEST(PcieLink, Gen3x8ReadRoundTripMatchesTheFormula) {
  const PcieLinkConfig cfg;  // defaults: Gen3 x8
  ASSERT_EQ(cfg.generation, 3u);
  ASSERT_EQ(cfg.lanes, 8u);
  Bench b("b", cfg);
  const double memory_ns = 85.0;  // root complex + memory access behind the link
  b.rc.latency = ns(memory_ns);
  double round_trip = 0;
  run_thread([&] {
    std::vector<uint8_t> buf(64);
    const sc_core::sc_time t0 = sc_core::sc_time_stamp();
    EXPECT_EQ(b.dev.read(0x1000, buf.data(), 64), tlm::TLM_OK_RESPONSE);
    round_trip = to_ns(sc_core::sc_time_stamp() - t0);
  });
  const double request = tlp_ns(cfg, 0), completion = tlp_ns(cfg, 64);
  const double expected = request + cfg.latency_ns + memory_ns + completion + cfg.latency_ns;
  EXPECT_NEAR(round_trip, expected, 2 * kPsNs);
  EXPECT_NEAR(round_trip, 600.0, 10.0);  // the calibration target of the defaults
  // The request reached the root complex after one header-only TLP and the latency.
  ASSERT_EQ(b.rc.log.size(), 1u);
  EXPECT_NEAR(to_ns(b.rc.log[0].time), request + cfg.latency_ns, kPsNs);

  const auto up = b.link.upstream_stats(), down = b.link.downstream_stats();
  EXPECT_EQ(up.tlps, 1u);
  EXPECT_EQ(up.payload_bytes, 0u);
  EXPECT_EQ(up.wire_bytes, cfg.tlp_overhead_bytes);
  EXPECT_EQ(down.tlps, 1u);
  EXPECT_EQ(down.payload_bytes, 64u);
  EXPECT_EQ(down.wire_bytes, 64u + cfg.tlp_overhead_bytes);
  EXPECT_NEAR(to_ns(down.busy), completion, kPsNs);
}

TEST(PcieLink, LaterSmallTlpNeverOvertakesEarlierLargeOne) {
  const PcieLinkConfig cfg;
  Bench b("b", cfg);
  std::vector<sc_core::sc_time> up_delay, down_delay;
  run_thread([&] {
    std::vector<uint8_t> big(4096), small(4);
    // Upstream: a 4 KiB posted write, a 4-byte write, then an Invalidate Completion.
    up_delay.push_back(post(b.dev, tlm::TLM_WRITE_COMMAND, 0x10000, big));
    up_delay.push_back(post(b.dev, tlm::TLM_WRITE_COMMAND, 0x20000, small));
    PcieExtension inv_cpl = PcieExtension::message(0x0100, InvalidateCompletion{});
    std::vector<uint8_t> none;
    up_delay.push_back(post(b.dev, tlm::TLM_WRITE_COMMAND, 0, none, &inv_cpl));
    // Downstream: a 4 KiB write, then an Invalidate Request (8 bytes of payload).
    down_delay.push_back(post(b.host, tlm::TLM_WRITE_COMMAND, 0x30000, big));
    InvalidateRequest ir;
    ir.range = AtsRange::of_size(0x10000, 4096);
    PcieExtension inv_req = PcieExtension::message(0, ir);
    down_delay.push_back(post(b.host, tlm::TLM_WRITE_COMMAND, 0, none, &inv_req));
  });
  ASSERT_EQ(b.rc.log.size(), 3u);
  ASSERT_EQ(b.ep.log.size(), 2u);
  const double big = 16 * tlp_ns(cfg, 256);  // 4 KiB in 256-byte TLPs
  EXPECT_NEAR(to_ns(b.rc.log[0].time), big + cfg.latency_ns, 16 * kPsNs);
  EXPECT_NEAR(to_ns(b.rc.log[1].time), big + tlp_ns(cfg, 4) + cfg.latency_ns, 17 * kPsNs);
  EXPECT_NEAR(to_ns(b.rc.log[2].time), big + tlp_ns(cfg, 4) + tlp_ns(cfg, 0) + cfg.latency_ns,
              18 * kPsNs);
  for (size_t i = 1; i < b.rc.log.size(); ++i) EXPECT_GT(b.rc.log[i].time, b.rc.log[i - 1].time);
  EXPECT_GT(b.ep.log[1].time, b.ep.log[0].time);
  EXPECT_NEAR(to_ns(b.ep.log[1].time), big + tlp_ns(cfg, 8) + cfg.latency_ns, 17 * kPsNs);
  // Upstream and downstream are independent wires.
  EXPECT_EQ(b.ep.log[0].time, b.rc.log[0].time);
}

TEST(PcieLink, ReadCompletionDoesNotPassAnEarlierPostedWrite) {
  const PcieLinkConfig cfg;
  Bench b("b", cfg);
  sc_core::sc_time read_delay;
  run_thread([&] {
    std::vector<uint8_t> big(4096), word(64);
    post(b.host, tlm::TLM_WRITE_COMMAND, 0x0, big);  // fills the downstream wire
    read_delay = post(b.dev, tlm::TLM_READ_COMMAND, 0x1000, word);
  });
  const double write_done = 16 * tlp_ns(cfg, 256);
  // The read request arrives long before the write has left, but its completion
  // queues behind the write on the downstream wire.
  ASSERT_LT(tlp_ns(cfg, 0) + cfg.latency_ns, write_done);
  EXPECT_NEAR(to_ns(read_delay), write_done + tlp_ns(cfg, 64) + cfg.latency_ns, 17 * kPsNs);
  EXPECT_GT(read_delay, b.ep.log[0].time);
  EXPECT_GT(to_ns(b.link.downstream_stats().queueing), 0.0);
}

// A read's completion is booked on the downstream wire when the root complex
// answers, at the read's simulated time, for when its data is ready (300 ns
// later). An Invalidate Request sent meanwhile is ready first and leaves first,
// in the gap before the booked completion (which keeps its time); of a write sent
// next, the TLPs that fit in the rest of the gap go before it and the others after.
TEST(PcieLink, AMessageReadyBeforeABookedCompletionLeavesFirst) {
  const PcieLinkConfig cfg;
  Bench b("b", cfg);
  b.rc.latency = ns(300);
  sc_core::sc_time read_delay, inv_delay, long_delay;
  run_thread([&] {
    std::vector<uint8_t> word(64), none, big(4096);
    read_delay = post(b.dev, tlm::TLM_READ_COMMAND, 0x1000, word);
    InvalidateRequest ir;
    ir.range = AtsRange::of_size(0x10000, 4096);
    PcieExtension inv_req = PcieExtension::message(0, ir);
    inv_delay = post(b.host, tlm::TLM_WRITE_COMMAND, 0, none, &inv_req);
    long_delay = post(b.host, tlm::TLM_WRITE_COMMAND, 0x20000, big);  // 16 TLPs
  });
  const double ready = tlp_ns(cfg, 0) + cfg.latency_ns + 300;  // the completion's
  EXPECT_NEAR(to_ns(read_delay), ready + tlp_ns(cfg, 64) + cfg.latency_ns, 2 * kPsNs);
  EXPECT_NEAR(to_ns(inv_delay), tlp_ns(cfg, 8) + cfg.latency_ns, kPsNs);
  ASSERT_EQ(b.ep.log.size(), 2u);
  EXPECT_LT(b.ep.log[0].time, read_delay);  // the Invalidate Request arrived first
  // The write's TLPs: those that fit before the completion go first (the wire is
  // free from the Invalidate Request's end), the rest after it.
  const double first = tlp_ns(cfg, 8), each = tlp_ns(cfg, 256);
  const auto before = static_cast<int>((ready - first) / each);
  ASSERT_GT(before, 0);
  ASSERT_LT(before, 16);
  EXPECT_NEAR(to_ns(long_delay), ready + tlp_ns(cfg, 64) + (16 - before) * each + cfg.latency_ns,
              20 * kPsNs);
  EXPECT_GT(long_delay, read_delay);
  EXPECT_NEAR(to_ns(b.link.downstream_stats().busy), first + 16 * each + tlp_ns(cfg, 64),
              20 * kPsNs);
}

TEST(PcieLink, BackToBackWritesTakeNSerialisationTimes) {
  const PcieLinkConfig cfg;
  Bench b("b", cfg);
  constexpr int kWrites = 32;
  std::vector<sc_core::sc_time> delays;
  run_thread([&] {
    std::vector<uint8_t> buf(cfg.max_payload_bytes);
    for (int i = 0; i < kWrites; ++i) {
      delays.push_back(post(b.dev, tlm::TLM_WRITE_COMMAND, 0x1000 * i, buf));
    }
  });
  const double ser = tlp_ns(cfg, cfg.max_payload_bytes);
  for (int i = 0; i < kWrites; ++i) {
    EXPECT_NEAR(to_ns(delays[i]), (i + 1) * ser + cfg.latency_ns, (i + 1) * kPsNs);
  }
  const auto up = b.link.upstream_stats();
  EXPECT_EQ(up.tlps, static_cast<uint64_t>(kWrites));
  EXPECT_EQ(up.payload_bytes, uint64_t{kWrites} * cfg.max_payload_bytes);
  EXPECT_EQ(up.wire_bytes, uint64_t{kWrites} * (cfg.max_payload_bytes + cfg.tlp_overhead_bytes));
  EXPECT_NEAR(to_ns(up.busy), kWrites * ser, kWrites * kPsNs);
  EXPECT_NEAR(to_ns(up.queueing), ser * kWrites * (kWrites - 1) / 2, kWrites * kWrites * kPsNs);
  EXPECT_EQ(b.link.downstream_stats().tlps, 0u);  // posted: nothing comes back
}

TEST(PcieLink, LargeTransfersSplitAtMaxPayloadAndMaxReadRequest) {
  const PcieLinkConfig cfg;
  Bench b("b", cfg);
  sc_core::sc_time write_delay, read_delay;
  run_thread([&] {
    std::vector<uint8_t> buf(1000);
    write_delay = post(b.dev, tlm::TLM_WRITE_COMMAND, 0x0, buf);
    sc_core::wait(write_delay);
    std::vector<uint8_t> rd(2048);
    read_delay = post(b.dev, tlm::TLM_READ_COMMAND, 0x0, rd);
  });
  // 1000 bytes: 3 TLPs of 256 and one of 232.
  EXPECT_NEAR(to_ns(write_delay), 3 * tlp_ns(cfg, 256) + tlp_ns(cfg, 232) + cfg.latency_ns,
              4 * kPsNs);
  // 2048-byte read: 4 request TLPs (512-byte Max_Read_Request), 8 completion TLPs.
  const double read = 4 * tlp_ns(cfg, 0) + cfg.latency_ns + 8 * tlp_ns(cfg, 256) + cfg.latency_ns;
  EXPECT_NEAR(to_ns(read_delay), read, 12 * kPsNs);
  const auto up = b.link.upstream_stats(), down = b.link.downstream_stats();
  EXPECT_EQ(up.tlps, 4u + 4u);
  EXPECT_EQ(up.payload_bytes, 1000u);
  EXPECT_EQ(down.tlps, 8u);
  EXPECT_EQ(down.payload_bytes, 2048u);
}

TEST(PcieLink, Gen4x16HasFourTimesTheBandwidthOfGen3x8) {
  PcieLinkConfig g3, g4;
  g4.generation = 4;
  g4.lanes = 16;
  Bench a("g3", g3), b("g4", g4);
  EXPECT_NEAR(g3.data_gbps(), 8 * 8 * 128.0 / 130.0, 1e-9);
  EXPECT_NEAR(g4.data_gbps(), 4 * g3.data_gbps(), 1e-9);
  constexpr int kWrites = 64;
  sc_core::sc_time last_a, last_b;
  run_thread([&] {
    std::vector<uint8_t> buf(256);
    for (int i = 0; i < kWrites; ++i) {
      last_a = post(a.dev, tlm::TLM_WRITE_COMMAND, 0x100 * i, buf);
      last_b = post(b.dev, tlm::TLM_WRITE_COMMAND, 0x100 * i, buf);
    }
  });
  const double busy_a = to_ns(a.link.upstream_stats().busy);
  const double busy_b = to_ns(b.link.upstream_stats().busy);
  EXPECT_NEAR(busy_a, kWrites * tlp_ns(g3, 256), kWrites * kPsNs);
  EXPECT_NEAR(busy_a / busy_b, 4.0, 1e-3);
  // Time on the wire (arrival minus the fixed latency) scales the same way.
  EXPECT_NEAR((to_ns(last_a) - g3.latency_ns) / (to_ns(last_b) - g4.latency_ns), 4.0, 1e-3);
}

TEST(PcieLink, TranslationAndPriMessagesCostTheirBodySizes) {
  const PcieLinkConfig cfg;
  Bench b("b", cfg);
  // The root complex answers a translation request with two 4 KiB entries.
  b.rc.hook = [](tlm::tlm_generic_payload& gp, sc_core::sc_time&) {
    PcieExtension* e = PcieExtension::of(gp);
    if (!e || e->kind() != PcieKind::kTranslationRequest) return;
    e->completions.resize(2);
    e->completions[0].range = AtsRange::of_size(0x80000000, 4096);
    e->completions[1].range = AtsRange::of_size(0x80001000, 4096);
    if (gp.get_address() == 0xdead000) {
      e->completions.clear();
      e->completion_status = AtsCompletionStatus::kUnsupportedRequest;
    }
  };
  sc_core::sc_time ok_delay, ur_delay;
  run_thread([&] {
    std::vector<uint8_t> buf(16);
    PcieExtension tr = PcieExtension::translation_request(0x0100, PasidPrefix::with(5));
    ok_delay = post(b.dev, tlm::TLM_READ_COMMAND, 0x7000, buf, &tr);
    EXPECT_EQ(tr.completions.size(), 2u);
    sc_core::wait(ok_delay);
    PcieExtension tr2 = PcieExtension::translation_request(0x0100, PasidPrefix::with(5));
    ur_delay = post(b.dev, tlm::TLM_READ_COMMAND, 0xdead000, buf, &tr2);
    sc_core::wait(ur_delay);
    // A Page Request (header only) up and a PRG Response (header only) down.
    PageRequest pr;
    pr.page_address = 0x9000;
    pr.read = pr.last = true;
    pr.pasid = PasidPrefix::with(5);
    PcieExtension pr_ext = PcieExtension::message(0x0100, pr);
    std::vector<uint8_t> none;
    post(b.dev, tlm::TLM_WRITE_COMMAND, 0, none, &pr_ext);
    PcieExtension rsp = PcieExtension::message(0, PrgResponse{0x0100, 0, {}, pr.pasid});
    post(b.host, tlm::TLM_WRITE_COMMAND, 0, none, &rsp);
  });
  const double ok = tlp_ns(cfg, 0) + cfg.latency_ns + tlp_ns(cfg, 16) + cfg.latency_ns;
  EXPECT_NEAR(to_ns(ok_delay), ok, 2 * kPsNs);
  const double ur = tlp_ns(cfg, 0) + cfg.latency_ns + tlp_ns(cfg, 0) + cfg.latency_ns;
  EXPECT_NEAR(to_ns(ur_delay), ur, 2 * kPsNs);
  const auto up = b.link.upstream_stats(), down = b.link.downstream_stats();
  EXPECT_EQ(up.tlps, 3u);  // two translation requests, one page request
  EXPECT_EQ(up.payload_bytes, 0u);
  EXPECT_EQ(down.tlps, 3u);  // two completions, one PRG response
  EXPECT_EQ(down.payload_bytes, 16u);
  ASSERT_EQ(b.ep.log.size(), 1u);
}

TEST(PcieLinkConfig, ValidationNamesTheParameter) {
  PcieLinkConfig c;
  EXPECT_NO_THROW(c.validate());
  auto expect_bad = [](PcieLinkConfig bad, const char* name) {
    try {
      bad.validate();
      ADD_FAILURE() << "no error for " << name;
    } catch (const ParamError& e) {
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    }
  };
  c.generation = 2;
  expect_bad(c, "generation");
  c = {};
  c.lanes = 0;
  expect_bad(c, "lanes");
  c.lanes = 33;
  expect_bad(c, "lanes");
  c = {};
  c.latency_ns = -1;
  expect_bad(c, "latency_ns");
  c = {};
  c.max_payload_bytes = 100;
  expect_bad(c, "max_payload_bytes");
  c = {};
  c.max_read_request_bytes = 8192;
  expect_bad(c, "max_read_request_bytes");

  c = {};
  const auto ps = list_params(c, "link.");
  ASSERT_EQ(ps.size(), 6u);
  EXPECT_EQ(ps[0].name, "link.generation");
  EXPECT_EQ(ps[2].name, "link.latency_ns");
  EXPECT_EQ(ps[2].unit, "ns");
  EXPECT_TRUE(assign_param(c, "lanes", "16"));
  EXPECT_EQ(c.lanes, 16u);
  EXPECT_NEAR((PcieLinkConfig{5, 4}.data_gbps()), 32 * 4 * 128.0 / 130.0, 1e-9);
}

}  // namespace
}  // namespace iosim
