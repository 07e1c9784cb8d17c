// Temporal decoupling of synthetic DMA threads (device/dma_thread.h): with a
// non-zero global quantum the device issues exactly the same requests, finishes at
// the same simulated time, and synchronises with the kernel far less often. Each
// test runs in its own process, so each sets its own quantum.
//
// Timing (stub IOMMU, tests/device/stub_iommu.h): ATC lookup 4 ns, issue 4 ns,
// translation 100 ns, memory read 50 ns; the stub never waits, so every
// synchronisation counted is the device's own.
#include "device/device.h"
#include "sc_models/timing/lookahead.h"
#include "tests/common/tlm_bench.h"
#include "tests/device/stub_iommu.h"

#include <gtest/gtest.h>

#include <tlm>

#include <algorithm>
#include <tuple>

namespace iosim {
namespace {

using sc_core::SC_NS;
using sc_core::sc_time;
using test::StubIommu;

constexpr uint64_t kBase = 0x10000000;
constexpr uint64_t kRequests = 1000;

// One slot streaming 64-byte reads over one page: one translation, then ATC hits.
DeviceConfig streaming_device(AccessPattern pattern = AccessPattern::kStream) {
  DeviceConfig cfg;
  DmaThreadConfig t;
  t.pattern = pattern;
  t.base_va = kBase;
  t.window_bytes = 4096;
  t.request_bytes = 64;
  t.request_count = kRequests;
  t.max_outstanding = 1;
  cfg.threads = {t};
  return cfg;
}

struct Outcome {
  std::vector<uint64_t> read_addresses;
  size_t translation_requests = 0;
  uint64_t completed = 0;
  sc_time finished;
  // sc_delta_count(): the kernel's evaluation phases. Only the device's slot and
  // the test body run here, so it counts the slot's wake-ups (host-independent).
  uint64_t evaluations = 0;
  uint64_t skips = 0;  // waits kept as annotated time (lookahead)
};

// `link_latency`: Device::set_link_latency (the stub sends nothing downstream, so
// any value is true of it). `ticker`: another process wakes every nanosecond, so the
// kernel always has activity pending within the device's issue wait.
Outcome run(const sc_time& quantum, bool lookahead = true,
            const sc_time& link_latency = sc_core::SC_ZERO_TIME, bool ticker = false) {
  tlm::tlm_global_quantum::instance().set(quantum);
  SimContext ctx;
  ctx.lookahead().set_enabled(lookahead);
  Device dev("dev", ctx, streaming_device());
  dev.set_link_latency(link_latency);
  StubIommu iommu("iommu");
  dev.upstream.bind(iommu.up);
  iommu.down.bind(dev.downstream);
  Outcome r;
  if (ticker) {
    sc_core::sc_spawn(
        [&] {
          while (!dev.thread(0).finished()) sc_core::wait(1, SC_NS);
        },
        "ticker");
  }
  const uint64_t skips0 = ctx.lookahead().skips();
  test::run_thread([&] {
    sc_core::wait(dev.thread(0).finished_event());
    r.finished = sc_core::sc_time_stamp();
  });
  for (const auto& t : iommu.of_kind(PcieKind::kMemory)) r.read_addresses.push_back(t.addr);
  r.translation_requests = iommu.of_kind(PcieKind::kTranslationRequest).size();
  r.completed = dev.thread(0).completed();
  r.evaluations = sc_core::sc_delta_count();
  r.skips = ctx.lookahead().skips() - skips0;
  return r;
}

std::vector<uint64_t> expected_addresses() {
  std::vector<uint64_t> v;
  for (uint64_t i = 0; i < kRequests; ++i) v.push_back(0x100000000ull + kBase + 64 * (i % 64));
  return v;
}

// First access: lookup 4, translation 100, lookup 4, issue 4, read 50; then
// lookup 4, issue 4, read 50 per access.
const double kFinishNs = (4 + 100 + 4 + 4 + 50) + (kRequests - 1) * (4 + 4 + 50.0);

// Every run makes the same requests in the same simulated time, whatever it waits for.
void expect_the_same_requests(const Outcome& r) {
  EXPECT_EQ(r.read_addresses, expected_addresses());
  EXPECT_EQ(r.translation_requests, 1u);
  EXPECT_EQ(r.completed, kRequests);
  // With a quantum the local time holds exactly the delays waited for without it.
  EXPECT_EQ(r.finished, sc_time(kFinishNs, SC_NS));
}

TEST(TemporalDecoupling, WithoutQuantumEveryDelayIsAWait) {
  const Outcome r = run(sc_core::SC_ZERO_TIME, false);
  expect_the_same_requests(r);
  // Two waits per access (ATC lookup and issue together, data back) and a few
  // around the translation and the end of the thread.
  EXPECT_GE(r.evaluations, 2 * kRequests);
  EXPECT_LE(r.evaluations, 2 * kRequests + 10);
}

// With the lookahead (sc_models/timing/lookahead.h): the device is the only process, so
// the ATC lookup + issue wait is kept as annotated delay and only the data back is
// waited for: one wait per access, same requests and times.
TEST(TemporalDecoupling, WithoutQuantumALoneDeviceWaitsOncePerAccess) {
  const Outcome r = run(sc_core::SC_ZERO_TIME, true);
  expect_the_same_requests(r);
  EXPECT_GE(r.evaluations, kRequests);
  EXPECT_LE(r.evaluations, kRequests + 10);
}

// Local lookahead (device.h): with another process always pending within the ATC
// lookup + issue wait, the kernel check never lets the device skip it, but that
// process cannot touch the request before it reaches the IOMMU, so the device may:
// one skip per access once it knows its link's latency, none without.
TEST(TemporalDecoupling, BesideABusyProcessTheDeviceSkipsTheIssueWaitItself) {
  const Outcome r = run(sc_core::SC_ZERO_TIME, true, sc_time(50, SC_NS), true);
  expect_the_same_requests(r);
  EXPECT_GE(r.skips, kRequests);
  EXPECT_LE(r.skips, kRequests + 2);
}

TEST(TemporalDecoupling, BesideABusyProcessWithoutTheLinkLatencyTheDeviceWaits) {
  const Outcome r = run(sc_core::SC_ZERO_TIME, true, sc_core::SC_ZERO_TIME, true);
  expect_the_same_requests(r);
  EXPECT_EQ(r.skips, 0u);
}

// A wait is skipped only when shorter than the link latency (a message sent by the
// IOMMU meanwhile could arrive before the request leaves): with 8 ns, every issue
// wait (lookup + issue, 8 ns) is kept and only the lookup before the one
// Translation Request (4 ns) is skipped.
TEST(TemporalDecoupling, BesideABusyProcessALinkFasterThanTheIssueWaitKeepsTheWait) {
  const Outcome r = run(sc_core::SC_ZERO_TIME, true, sc_time(8, SC_NS), true);
  expect_the_same_requests(r);
  EXPECT_EQ(r.skips, 1u);
}

// Two devices side by side, each on its own stub IOMMU, beside a process that wakes
// every nanosecond (so the kernel check never lets a wait be skipped): `local` knows
// its link latency (50 ns) and may skip its issue waits itself, `strict` does not and
// takes every wait. Their logs (arrival time, kind, address of every upstream TLP)
// must be the same.
struct SideBySide {
  std::vector<StubIommu::Tlp> local, strict;
  uint64_t skips = 0;  // all the local device's: the strict one never skips
};

SideBySide run_side_by_side(const DeviceConfig& cfg) {
  SimContext ctx;
  Device local("local", ctx, cfg);
  Device strict("strict", ctx, cfg);
  local.set_link_latency(sc_time(50, SC_NS));
  StubIommu iommu_l("iommu_l");
  StubIommu iommu_s("iommu_s");
  local.upstream.bind(iommu_l.up);
  iommu_l.down.bind(local.downstream);
  strict.upstream.bind(iommu_s.up);
  iommu_s.down.bind(strict.downstream);
  auto all_finished = [&] {
    for (size_t i = 0; i < cfg.threads.size(); ++i) {
      if (!local.thread(i).finished() || !strict.thread(i).finished()) return false;
    }
    return true;
  };
  const uint64_t skips0 = ctx.lookahead().skips();
  test::run_thread([&] {
    while (!all_finished()) sc_core::wait(1, SC_NS);
  });
  SideBySide r;
  r.local = iommu_l.log;
  r.strict = iommu_s.log;
  r.skips = ctx.lookahead().skips() - skips0;
  return r;
}

// The same TLPs at the same times, each device's in time order on the link (no TLP
// sent ahead passed one sent after it). TLPs sent at the same simulated time
// may come in either order (SystemC leaves the order of processes that run at the
// same time to the kernel), so the logs are compared in time order.
std::vector<std::tuple<sc_time, PcieKind, uint64_t>> by_time(
    const std::vector<StubIommu::Tlp>& log) {
  std::vector<std::tuple<sc_time, PcieKind, uint64_t>> v;
  for (const auto& t : log) v.emplace_back(t.time, t.kind, t.addr);
  std::sort(v.begin(), v.end());
  return v;
}

void expect_the_same_log(const SideBySide& r) {
  EXPECT_EQ(by_time(r.local), by_time(r.strict));
  for (const auto* log : {&r.local, &r.strict}) {
    for (size_t i = 1; i < log->size(); ++i) {
      EXPECT_LE((*log)[i - 1].time, (*log)[i].time) << "TLP " << i;
    }
  }
}

size_t memory_requests(const std::vector<StubIommu::Tlp>& log) {
  size_t n = 0;
  for (const auto& t : log) n += t.kind == PcieKind::kMemory;
  return n;
}

// Thread 0 streams 64-byte reads over one page (ATC hits, sent 8 ns after the
// lookup); thread 1 strides over 64 pages that a 16-entry ATC cannot hold, so each
// of its accesses sends a Translation Request 4 ns after its lookup, and the two
// threads' phases drift apart. When thread 1 can send inside thread 0's issue wait,
// thread 0 must wait even though nothing outside the device can act meanwhile:
// skipping would put its read on the link before a TLP sent earlier.
TEST(TemporalDecoupling, AnotherSlotAboutToSendKeepsTheIssueWait) {
  DeviceConfig cfg = streaming_device();
  cfg.atc.ways = 16;
  DmaThreadConfig strided = cfg.threads[0];
  strided.pattern = AccessPattern::kStrided;
  strided.base_va = kBase + 0x100000;
  strided.window_bytes = 64 * 4096;
  strided.stride_bytes = 4096;
  strided.request_count = kRequests / 4;
  cfg.threads.push_back(strided);
  const SideBySide r = run_side_by_side(cfg);
  expect_the_same_log(r);
  EXPECT_EQ(memory_requests(r.local), kRequests + kRequests / 4);
  EXPECT_EQ(r.local.size(), memory_requests(r.local) + kRequests / 4 + 1);  // + translations
  // Skipped where thread 1 cannot send before the read, kept where it can.
  EXPECT_GE(r.skips, kRequests / 2);
  EXPECT_LE(r.skips, kRequests + kRequests / 4 - 100);
}

// The check reads every other slot's clock, so a device with more slots than
// PrivatePath::kMaxMembers does not try it. Slots 10 ns apart (the issue
// interval) never send within another's 8 ns issue wait: every read is skipped
// at the limit and none above it.
DeviceConfig spaced_slots(uint32_t slots) {
  DeviceConfig cfg = streaming_device();
  cfg.threads[0].max_outstanding = slots;
  cfg.threads[0].issue_interval_ns = 10;
  return cfg;
}

TEST(TemporalDecoupling, UpToTheSlotLimitTheDeviceSkipsItsIssueWaits) {
  const SideBySide r = run_side_by_side(spaced_slots(PrivatePath::kMaxMembers));
  expect_the_same_log(r);
  EXPECT_EQ(memory_requests(r.local), kRequests);
  EXPECT_GE(r.skips, kRequests - 3 * PrivatePath::kMaxMembers);
  EXPECT_LE(r.skips, kRequests + 2);
}

TEST(TemporalDecoupling, AboveTheSlotLimitTheDeviceTakesEveryIssueWait) {
  const SideBySide r = run_side_by_side(spaced_slots(PrivatePath::kMaxMembers + 1));
  expect_the_same_log(r);
  EXPECT_EQ(memory_requests(r.local), kRequests);
  EXPECT_EQ(r.skips, 0u);
}

TEST(TemporalDecoupling, WithAQuantumTheSameRequestsTakeFarFewerSynchronisations) {
  const Outcome r = run(sc_time(1, sc_core::SC_US));
  expect_the_same_requests(r);
  // One synchronisation per quantum of simulated time (58 us in all), plus the
  // few around the translation and the end: 50 times fewer than without.
  EXPECT_GE(r.evaluations, static_cast<uint64_t>(kFinishNs / 1000));
  EXPECT_LE(r.evaluations, static_cast<uint64_t>(kFinishNs / 1000) + 10);
}

}  // namespace
}  // namespace iosim
