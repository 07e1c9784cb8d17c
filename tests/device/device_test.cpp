// Device tests against a stub IOMMU (tests/device/stub_iommu.h). Default device
// timing: ATC lookup 4 ns, request issue 4 ns, invalidation processing 500 ns;
// stub: translation 100 ns, memory read 50 ns.
#include "device/device.h"
#include "sc_models/config/params.h"
#include "tests/common/tlm_bench.h"
#include "tests/device/stub_iommu.h"

#include <gtest/gtest.h>

#include <set>

namespace iosim {
namespace {

using sc_core::SC_NS;
using sc_core::sc_time;
using test::StubIommu;

constexpr uint64_t kA = 0x10000000;
constexpr uint64_t kOff = 0x100000000ull;  // stub PA offset

DmaThreadConfig script(std::vector<ScriptOp> ops, uint32_t pasid = 1) {
  DmaThreadConfig t;
  t.pattern = AccessPattern::kScript;
  t.pasid = pasid;
  t.script = std::move(ops);
  return t;
}

struct Bench {
  SimContext ctx;  // first, so it outlives the device
  Device dev;
  StubIommu iommu{"iommu"};
  GroundTruth gt;
  GroundTruthRecorder rec;
  explicit Bench(const DeviceConfig& cfg) : dev("dev", ctx, cfg) {
    dev.upstream.bind(iommu.up);
    iommu.down.bind(dev.downstream);
    gt.subscribe(&rec);
    dev.set_ground_truth(&gt);
  }
  std::vector<StubIommu::Tlp> reads() const {
    std::vector<StubIommu::Tlp> out;
    for (const auto& t : iommu.of_kind(PcieKind::kMemory)) {
      if (!t.write) out.push_back(t);
    }
    return out;
  }
};

TEST(Device, AtcHitGoesOutTranslatedWithoutTranslationTraffic) {
  DeviceConfig cfg;
  cfg.threads = {script({ScriptOp::read(kA), ScriptOp::read(kA + 8)})};
  Bench b(cfg);
  b.iommu.mem[kA + 8 + kOff] = 0x5a;
  test::run_thread([] {});

  auto trs = b.iommu.of_kind(PcieKind::kTranslationRequest);
  ASSERT_EQ(trs.size(), 1u);
  EXPECT_EQ(trs[0].time, sc_time(4, SC_NS));  // after one ATC lookup
  EXPECT_EQ(trs[0].addr, kA);
  EXPECT_TRUE(trs[0].pasid.present);
  EXPECT_EQ(trs[0].pasid.pasid, 1u);
  auto rd = b.reads();
  ASSERT_EQ(rd.size(), 2u);
  // miss: lookup 4 + translation 100 + lookup 4 + issue 4
  EXPECT_EQ(rd[0].time, sc_time(112, SC_NS));
  EXPECT_EQ(rd[0].at, AddressType::kTranslated);
  EXPECT_EQ(rd[0].addr, kA + kOff);
  // hit: read returned at 162, then lookup 4 + issue 4, no translation traffic
  EXPECT_EQ(rd[1].time, sc_time(170, SC_NS));
  EXPECT_EQ(rd[1].at, AddressType::kTranslated);
  EXPECT_EQ(rd[1].addr, kA + 8 + kOff);
  EXPECT_EQ(b.dev.atc_hits(), 1u);
  EXPECT_EQ(b.dev.atc_misses(), 1u);
  // Read values are recorded; ground truth has both accesses with the translation time.
  const auto& reads = b.dev.thread(0).reads();
  ASSERT_EQ(reads.size(), 2u);
  EXPECT_EQ(reads[1].value, 0x5au);
  EXPECT_EQ(reads[1].time, sc_time(220, SC_NS));
  ASSERT_EQ(b.rec.dev.size(), 2u);
  EXPECT_EQ(b.rec.dev[1].time, sc_time(170, SC_NS));
  EXPECT_EQ(b.rec.dev[1].translation_time, sc_time(104, SC_NS));
  EXPECT_EQ(b.rec.dev[1].pa, kA + 8 + kOff);
  EXPECT_EQ(b.rec.dev[1].pasid, 1u);
  EXPECT_EQ(b.rec.dev[1].value, 0x5au);
  EXPECT_TRUE(b.rec.dev[1].through_atc);
}

TEST(Device, MissSendsOneRequestPerPageAndSeveralCanBeOutstanding) {
  DeviceConfig cfg;
  cfg.threads = {script({ScriptOp::read(kA)}), script({ScriptOp::read(kA + 0x5000)}),
                 script({ScriptOp::read(kA + 0x20000, 3 * 4096)})};
  Bench b(cfg);
  test::run_thread([] {});
  auto trs = b.iommu.of_kind(PcieKind::kTranslationRequest);
  ASSERT_EQ(trs.size(), 5u);  // 1 + 1 + 3 pages
  // The first page of each thread is requested at 4 ns: three outstanding at once.
  int at4 = 0;
  for (const auto& t : trs) at4 += t.time == sc_time(4, SC_NS);
  EXPECT_EQ(at4, 3);
  std::vector<uint64_t> third;
  for (const auto& t : trs) {
    if (t.addr >= kA + 0x20000) third.push_back(t.addr);
  }
  EXPECT_EQ(third, (std::vector<uint64_t>{kA + 0x20000, kA + 0x21000, kA + 0x22000}));
  EXPECT_EQ(b.reads().size(), 5u);  // the 3-page read is one request per page
}

TEST(Device, TwoMegCompletionCovers512Pages) {
  DeviceConfig cfg;
  const uint64_t base = 0x40000000;
  cfg.threads = {script({ScriptOp::read(base + 0x1000), ScriptOp::read(base),
                         ScriptOp::read(base + 511 * 4096), ScriptOp::read(base + (2u << 20))})};
  Bench b(cfg);
  b.iommu.translate = [](uint32_t, uint64_t page) {
    AtsCompletionEntry e;
    e.range = AtsRange::of_size((page & ~((2ull << 20) - 1)) + kOff, 2ull << 20);
    e.read = e.write = true;
    return e;
  };
  test::run_thread([] {});
  auto trs = b.iommu.of_kind(PcieKind::kTranslationRequest);
  ASSERT_EQ(trs.size(), 2u);
  EXPECT_EQ(trs[1].addr, base + (2u << 20));
  auto rd = b.reads();
  ASSERT_EQ(rd.size(), 4u);
  EXPECT_EQ(rd[2].addr, base + 511 * 4096 + kOff);
  EXPECT_EQ(b.dev.atc_hits(), 2u);
  EXPECT_EQ(b.dev.atc_misses(), 2u);
}

TEST(Device, InvalidateCompletionWaitsForInFlightReadAndFollowsPostedWrite) {
  DeviceConfig cfg;
  cfg.invalidation_processing_latency_ns = 100;
  // thread 0 warms page A then reads it again at 1000 ns (read takes 2000 ns);
  // thread 1 writes page B at 1200 ns.
  cfg.threads = {script({ScriptOp::read(kA), ScriptOp::at_ns(1000), ScriptOp::read(kA)}),
                 script({ScriptOp::read(kA + 0x1000), ScriptOp::at_ns(1200),
                         ScriptOp::write(kA + 0x1000, 7)})};
  Bench b(cfg);
  test::run_thread([&] {
    sc_core::wait(sc_time(900, SC_NS));  // warm-up reads are done
    b.iommu.read_latency = sc_time(2000, SC_NS);
    sc_core::wait(sc_time(200, SC_NS));
    b.iommu.send_invalidate(3, 1u, AtsRange::of_size(kA, 4096));
  });
  // The second read of A was issued at 1008 ns and returns at 3008 ns; the
  // invalidation is processed at 1200 ns and must wait for that read.
  auto rd = b.reads();
  ASSERT_EQ(rd.size(), 3u);
  EXPECT_EQ(rd[2].time, sc_time(1008, SC_NS));
  auto comps = b.iommu.of_kind(PcieKind::kInvalidateCompletion);
  ASSERT_EQ(comps.size(), 1u);
  EXPECT_EQ(comps[0].time, sc_time(3008, SC_NS));
  const auto& c = std::get<InvalidateCompletion>(comps[0].body);
  EXPECT_EQ(c.itag_vector, 1u << 3);
  EXPECT_EQ(c.completion_count, 1u);
  EXPECT_EQ(c.requester_id, 0x0100);
  // The write (issued at 1208 ns) is before the completion in upstream order.
  const size_t w = b.iommu.index_of(PcieKind::kMemory, 3);
  ASSERT_TRUE(b.iommu.log[w].write);
  EXPECT_LT(w, b.iommu.index_of(PcieKind::kInvalidateCompletion));
  // Page A is gone from the ATC, page B is not.
  EXPECT_FALSE(b.dev.atc().lookup(1, kA));
  EXPECT_TRUE(b.dev.atc().lookup(1, kA + 0x1000));
}

TEST(Device, InvalidationWithoutUsersCompletesAfterProcessingLatency) {
  DeviceConfig cfg;
  cfg.threads = {script({ScriptOp::read(kA)})};
  Bench b(cfg);
  test::run_thread([&] {
    sc_core::wait(sc_time(1000, SC_NS));
    b.iommu.send_invalidate(5, std::nullopt, AtsRange::whole_space());
  });
  auto comps = b.iommu.of_kind(PcieKind::kInvalidateCompletion);
  ASSERT_EQ(comps.size(), 1u);
  EXPECT_EQ(comps[0].time, sc_time(1500, SC_NS));
  EXPECT_EQ(b.dev.atc().cache().size(), 0u);
}

// A Function configured to split its answer sends invalidate_completion_count
// completions per request, each with the ITag bit and that Completion Count; the
// next request starts only after the last of them has arrived.
TEST(Device, SplitCompletionSendsCompletionCountMessagesPerRequest) {
  DeviceConfig cfg;
  cfg.invalidate_completion_count = 3;
  cfg.threads = {script({ScriptOp::read(kA)})};
  Bench b(cfg);
  test::run_thread([&] {
    sc_core::wait(sc_time(1000, SC_NS));
    b.iommu.send_invalidate(5, 1u, AtsRange::of_size(kA, 4096));
    b.iommu.send_invalidate(6, 1u, AtsRange::of_size(kA, 4096));
  });
  const auto comps = b.iommu.of_kind(PcieKind::kInvalidateCompletion);
  ASSERT_EQ(comps.size(), 6u);
  for (size_t i = 0; i < comps.size(); ++i) {
    const auto& c = std::get<InvalidateCompletion>(comps[i].body);
    EXPECT_EQ(c.itag_vector, 1u << (i < 3 ? 5 : 6)) << i;
    EXPECT_EQ(c.completion_count, 3u) << i;
  }
  // Each request is processed 500 ns after the previous one's last completion.
  EXPECT_EQ(comps[0].time, sc_time(1500, SC_NS));
  EXPECT_EQ(comps[2].time, sc_time(1500, SC_NS));
  EXPECT_EQ(comps[3].time, sc_time(2000, SC_NS));
  EXPECT_EQ(b.dev.invalidations().completions_sent(), 6u);
}

TEST(Device, CompletionCountIsValidatedAgainstTheThreeBitField) {
  DeviceConfig cfg;
  cfg.invalidate_completion_count = 0;
  EXPECT_THROW(cfg.validate(), ParamError);
  cfg.invalidate_completion_count = 9;
  try {
    cfg.validate();
    ADD_FAILURE() << "no error";
  } catch (const ParamError& e) {
    EXPECT_NE(std::string(e.what()).find("invalidate_completion_count"), std::string::npos);
  }
  cfg.invalidate_completion_count = 8;
  EXPECT_NO_THROW(cfg.validate());
}

// The Invalidate Completions the stub received: (ITag, arrival ns) in order.
void expect_completions(const StubIommu& s, const std::vector<std::pair<uint8_t, double>>& want) {
  const auto comps = s.of_kind(PcieKind::kInvalidateCompletion);
  ASSERT_EQ(comps.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(std::get<InvalidateCompletion>(comps[i].body).itag_vector, 1u << want[i].first);
    EXPECT_EQ(comps[i].time, sc_time(want[i].second, SC_NS));
  }
}

TEST(Device, DownstreamMessagesTakeEffectWhenTheyArrive) {
  // Invalidate Requests sent at 1000 and 1100 ns with a 250 ns link latency
  // arrive at 1250 and 1350 ns; each is served 500 ns after it arrived, in order.
  DeviceConfig cfg;
  cfg.threads = {script({ScriptOp::read(kA)})};
  Bench b(cfg);
  b.iommu.down_delay = sc_time(250, SC_NS);
  test::run_thread([&] {
    sc_core::wait(sc_time(1000, SC_NS));
    b.iommu.send_invalidate(1, std::nullopt, AtsRange::whole_space());
    EXPECT_EQ(b.dev.invalidations().queued(), 0u);  // still on the link
    EXPECT_TRUE(b.dev.atc().lookup(1, kA));
    sc_core::wait(sc_time(100, SC_NS));
    b.iommu.send_invalidate(2, std::nullopt, AtsRange::whole_space());
    sc_core::wait(sc_time(150, SC_NS));
    EXPECT_EQ(b.dev.invalidations().queued(), 1u);  // the first arrived at 1250 ns
    sc_core::wait(sc_time(100, SC_NS));
    EXPECT_EQ(b.dev.invalidations().queued(), 2u);
  });
  expect_completions(b.iommu, {{1, 1750}, {2, 2250}});
  EXPECT_EQ(b.dev.atc().cache().size(), 0u);
}

TEST(Device, ALaterDownstreamMessageDoesNotPassAnEarlierOne) {
  // Sent together, the second with a shorter delay: it takes effect with the first
  // (at 1300 ns) and is served after it.
  DeviceConfig cfg;
  Bench b(cfg);
  test::run_thread([&] {
    sc_core::wait(sc_time(1000, SC_NS));
    b.iommu.down_delay = sc_time(300, SC_NS);
    b.iommu.send_invalidate(1, 1u, AtsRange::of_size(kA, 4096));
    b.iommu.down_delay = sc_time(100, SC_NS);
    b.iommu.send_invalidate(2, 1u, AtsRange::of_size(kA, 4096));
    sc_core::wait(sc_time(299, SC_NS));
    EXPECT_EQ(b.dev.invalidations().queued(), 0u);
    sc_core::wait(sc_time(1, SC_NS));
    EXPECT_EQ(b.dev.invalidations().queued(), 2u);
  });
  expect_completions(b.iommu, {{1, 1800}, {2, 2300}});
}

TEST(Device, InvalidateQueueDepthBackPressureIsCountedAndAllComplete) {
  DeviceConfig cfg;
  cfg.invalidate_queue_depth = 2;
  Bench b(cfg);
  test::run_thread([&] {
    for (uint8_t i = 0; i < 4; ++i) b.iommu.send_invalidate(i, 1u, AtsRange::of_size(kA, 4096));
    EXPECT_EQ(b.dev.invalidations().queued(), 4u);
  });
  EXPECT_EQ(b.dev.invalidations().overflows(), 2u);
  auto comps = b.iommu.of_kind(PcieKind::kInvalidateCompletion);
  ASSERT_EQ(comps.size(), 4u);
  for (unsigned i = 0; i < 4; ++i) {
    EXPECT_EQ(std::get<InvalidateCompletion>(comps[i].body).itag_vector, 1u << i);
    EXPECT_EQ(comps[i].time, sc_time(500.0 * (i + 1), SC_NS));  // served one at a time
  }
}

TEST(Device, InvalidateQueueDepthZeroMeans32) {
  DeviceConfig cfg;
  EXPECT_EQ(cfg.effective_invalidate_queue_depth(), 32u);
  cfg.invalidate_queue_depth = 32;
  EXPECT_THROW(cfg.validate(), ParamError);
}

// Pages are not present until a page request for them has been seen.
void fault_until_requested(StubIommu& s, std::set<uint64_t>& present) {
  s.on_page_request = [&present](const PageRequest& pr) { present.insert(pr.page_address); };
  s.translate = [&present](uint32_t, uint64_t page) {
    AtsCompletionEntry e;
    e.range = AtsRange::of_size(page + kOff, 4096);
    e.read = e.write = present.count(page) > 0;
    return e;
  };
}

TEST(Device, PriGroupHasLOnLastAndRespectsAllocation) {
  DeviceConfig cfg;
  cfg.outstanding_page_request_allocation = 2;
  cfg.threads = {script({ScriptOp::write(kA, 1, 3 * 4096)})};
  Bench b(cfg);
  std::set<uint64_t> present;
  fault_until_requested(b.iommu, present);
  b.iommu.auto_prg = PrgResponseCode::kSuccess;
  test::run_thread([] {});
  auto prs = b.iommu.of_kind(PcieKind::kPageRequest);
  ASSERT_EQ(prs.size(), 3u);
  const auto& p0 = std::get<PageRequest>(prs[0].body);
  const auto& p1 = std::get<PageRequest>(prs[1].body);
  const auto& p2 = std::get<PageRequest>(prs[2].body);
  // Group of two (the allocation), L on its second request; then a group of one.
  EXPECT_FALSE(p0.last);
  EXPECT_TRUE(p1.last);
  EXPECT_TRUE(p2.last);
  EXPECT_EQ(p0.prg_index, p1.prg_index);
  EXPECT_NE(p1.prg_index, p2.prg_index);
  EXPECT_TRUE(p0.write);
  EXPECT_TRUE(p0.pasid.present);
  EXPECT_EQ(p0.page_address, kA);
  EXPECT_EQ(p2.page_address, kA + 0x2000);
  // The third request waits for the first group's response (1000 ns later).
  EXPECT_EQ(prs[2].time, prs[1].time + sc_time(1000, SC_NS));
  EXPECT_EQ(b.dev.pri().outstanding(), 0u);
  // After Success the pages are translated again and written.
  EXPECT_EQ(b.iommu.of_kind(PcieKind::kMemory).size(), 3u);
  EXPECT_TRUE(b.dev.thread(0).errors().empty());
}

TEST(Device, PrgResponseLatencyIncludesItsLinkDelay) {
  // The group's round trip is the stub's 1000 ns plus the response's 300 ns on
  // the link: the read is retried when the response has arrived (an ATC lookup,
  // 4 ns, then the Translation Request).
  DeviceConfig cfg;
  cfg.threads = {script({ScriptOp::read(kA)})};
  Bench b(cfg);
  std::set<uint64_t> present;
  fault_until_requested(b.iommu, present);
  b.iommu.auto_prg = PrgResponseCode::kSuccess;
  b.iommu.down_delay = sc_time(300, SC_NS);
  test::run_thread([] {});
  const auto prs = b.iommu.of_kind(PcieKind::kPageRequest);
  ASSERT_EQ(prs.size(), 1u);
  const auto trs = b.iommu.of_kind(PcieKind::kTranslationRequest);
  ASSERT_EQ(trs.size(), 2u);
  EXPECT_EQ(trs[1].time, prs[0].time + sc_time(1304, SC_NS));
  EXPECT_EQ(b.reads().size(), 1u);
  EXPECT_TRUE(b.dev.thread(0).errors().empty());
}

TEST(Device, PriInvalidRequestIsAnAccessErrorOfThatThread) {
  DeviceConfig cfg;
  cfg.threads = {script({ScriptOp::read(kA), ScriptOp::read(kA + 0x1000)}),
                 script({ScriptOp::at_ns(5000), ScriptOp::read(kA + 0x1000)}, 2)};
  Bench b(cfg);
  std::set<uint64_t> present{kA + 0x1000};
  fault_until_requested(b.iommu, present);
  b.iommu.on_page_request = nullptr;
  b.iommu.auto_prg = PrgResponseCode::kInvalidRequest;
  test::run_thread([] {});
  const auto& errs = b.dev.thread(0).errors();
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].va, kA);
  EXPECT_EQ(errs[0].reason, "PRG Response: Invalid Request");
  EXPECT_TRUE(b.dev.thread(1).errors().empty());
  EXPECT_TRUE(b.dev.pri().enabled());
  EXPECT_EQ(b.reads().size(), 2u);  // the failed read never reached memory
}

TEST(Device, PriResponseFailureDisablesPri) {
  DeviceConfig cfg;
  cfg.threads = {script({ScriptOp::read(kA), ScriptOp::read(kA + 0x1000)})};
  Bench b(cfg);
  std::set<uint64_t> present;
  fault_until_requested(b.iommu, present);
  b.iommu.auto_prg = PrgResponseCode::kResponseFailure;
  test::run_thread([] {});
  EXPECT_FALSE(b.dev.pri().enabled());
  const auto& errs = b.dev.thread(0).errors();
  ASSERT_EQ(errs.size(), 2u);
  EXPECT_EQ(errs[0].reason, "PRG Response: Response Failure");
  EXPECT_EQ(errs[1].reason, "no translation and PRI disabled by Response Failure");
  EXPECT_EQ(b.iommu.of_kind(PcieKind::kPageRequest).size(), 1u);  // none after the failure
}

TEST(Device, StaleCompletionIsDroppedAndRequestedAgain) {
  DeviceConfig cfg;
  cfg.invalidation_processing_latency_ns = 0;
  cfg.threads = {script({ScriptOp::read(kA)})};
  Bench b(cfg);
  b.iommu.translation_latency = sc_time(1000, SC_NS);
  int n = 0;
  b.iommu.translate = [&n](uint32_t, uint64_t page) {
    AtsCompletionEntry e;
    e.range = AtsRange::of_size(page + kOff + 0x1000000 * n++, 4096);
    e.read = e.write = true;
    return e;
  };
  test::run_thread([&] {
    sc_core::wait(sc_time(500, SC_NS));
    b.iommu.send_invalidate(0, 1u, AtsRange::of_size(kA, 4096));
  });
  auto trs = b.iommu.of_kind(PcieKind::kTranslationRequest);
  ASSERT_EQ(trs.size(), 2u);
  EXPECT_EQ(trs[1].time, sc_time(1004, SC_NS));  // re-sent when the stale one arrived
  EXPECT_EQ(b.dev.ats().stale_dropped(), 1u);
  auto rd = b.reads();
  ASSERT_EQ(rd.size(), 1u);
  EXPECT_EQ(rd[0].addr, kA + kOff + 0x1000000);  // the second completion's PA
  // The invalidation completed while the request was outstanding.
  EXPECT_EQ(b.iommu.of_kind(PcieKind::kInvalidateCompletion)[0].time, sc_time(500, SC_NS));
}

TEST(Device, AtsDisabledSendsUntranslatedRequestsWithPasid) {
  DeviceConfig cfg;
  cfg.ats_enabled = false;
  cfg.pri_enabled = false;
  cfg.threads = {script({ScriptOp::write(kA, 9), ScriptOp::read(kA)}, 7)};
  Bench b(cfg);
  test::run_thread([] {});
  EXPECT_TRUE(b.iommu.of_kind(PcieKind::kTranslationRequest).empty());
  auto mem = b.iommu.of_kind(PcieKind::kMemory);
  ASSERT_EQ(mem.size(), 2u);
  EXPECT_EQ(mem[0].at, AddressType::kUntranslated);
  EXPECT_EQ(mem[0].addr, kA);
  EXPECT_EQ(mem[0].time, sc_time(4, SC_NS));  // issue latency only
  EXPECT_EQ(mem[1].pasid.pasid, 7u);
  EXPECT_EQ(b.dev.thread(0).reads()[0].value, 9u);
  ASSERT_EQ(b.rec.dev.size(), 2u);
  EXPECT_FALSE(b.rec.dev[0].through_atc);
}

TEST(Device, StopPasidSendsStopMarker) {
  DeviceConfig cfg;
  cfg.threads = {script({ScriptOp::stop_pasid()}, 3)};
  Bench b(cfg);
  test::run_thread([] {});
  auto sm = b.iommu.of_kind(PcieKind::kStopMarker);
  ASSERT_EQ(sm.size(), 1u);
  EXPECT_EQ(std::get<StopMarker>(sm[0].body).pasid.pasid, 3u);
}

TEST(Device, SyntheticStreamHonoursCountIntervalAndOutstanding) {
  DeviceConfig cfg;
  DmaThreadConfig t;
  t.pattern = AccessPattern::kStream;
  t.request_bytes = 1024;
  t.request_count = 8;
  t.max_outstanding = 2;
  t.issue_interval_ns = 10;
  cfg.threads = {t};
  Bench b(cfg);
  test::run_thread([] {});
  auto rd = b.reads();
  ASSERT_EQ(rd.size(), 8u);
  // Both slots miss page 0 (issued at 0 and 10 ns) and both miss page 1:
  // outstanding requests for the same page are not merged.
  EXPECT_EQ(b.iommu.of_kind(PcieKind::kTranslationRequest).size(), 4u);
  EXPECT_EQ(rd[1].time - rd[0].time, sc_time(10, SC_NS));
  EXPECT_EQ(b.dev.thread(0).completed(), 8u);
  EXPECT_EQ(b.dev.thread(0).bytes(), 8u * 1024);
  const auto* bytes = b.ctx.stats().find_as<Counter>("dev.bytes");
  ASSERT_NE(bytes, nullptr);
  EXPECT_EQ(bytes->value(), 8u * 1024);
}

TEST(Device, BadConfigNamesTheParameter) {
  DeviceConfig cfg;
  DmaThreadConfig t;
  t.request_bytes = 100;
  t.request_count = 1;
  cfg.threads = {t};
  try {
    cfg.validate();
    FAIL();
  } catch (const ParamError& e) {
    EXPECT_NE(std::string(e.what()).find("thread0.request_bytes"), std::string::npos);
  }
  EXPECT_TRUE(assign_param(cfg, "thread0.request_bytes", "64"));
  EXPECT_NO_THROW(cfg.validate());
}

}  // namespace
}  // namespace iosim
