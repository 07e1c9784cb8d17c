// IopfHandler tests on the stub register target (page requests written into the
// queue, Page Group Responses read from the command queue), the queue overflow on the
// real IOMMU with a stub device, and end to end with the real Device through a
// PcieLink: PRI fault-in of a never-touched page, and a munmap that invalidates the
// device's ATC so its next read faults.
#include <gtest/gtest.h>

#include "device/device.h"
#include "sc_models/timing/lookahead.h"
#include "sc_models/pcie/pcie_link.h"
#include "sc_models/timing/server_pool.h"
#include "sva_bench.h"

namespace iosim {
namespace {

using sc_core::sc_time;
using test::kRid;
using test::run_thread;
using test::StubSvaBench;
using test::SvaBench;

constexpr uint64_t kPage = 4096;
constexpr uint64_t kVa = uint64_t{1} << 32;

// Bench with one bound mm: kVa..+4 pages RW, kVa + 4 pages: 1 page read-only.
template <class Bench>
struct BoundOn {
  Bench b;
  Mm* mm = nullptr;
  uint32_t pasid = 0;
  void setup() {
    b.drv.init();
    b.drv.attach_device(kRid, true, true);
    mm = &b.new_mm(1, kVa, 4);
    b.os.mmap(*mm, 0, kVa + 4 * kPage, kPage, kProtRead, false);
    pasid = b.drv.bind(*mm, kRid, 0);
  }
};
using Bound = BoundOn<StubSvaBench>;

PrgResponseCode code(const PageGroupResponseDesc& r) {
  return static_cast<PrgResponseCode>(r.response_code);
}

TEST(IopfHandler, GroupOfThreeGetsOneSuccessAfterThreeFaults) {
  Bound t;
  sc_time sent;
  run_thread([&] {
    t.setup();
    sent = sc_core::sc_time_stamp();
    t.b.page_request(t.pasid, kVa, true, false, 7);
    t.b.page_request(t.pasid, kVa + kPage, false, false, 7);
    t.b.page_request(t.pasid, kVa + 2 * kPage, true, true, 7);
  });
  const auto responses = t.b.iommu.responses();
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(code(responses[0]), PrgResponseCode::kSuccess);
  EXPECT_EQ(responses[0].prg_index, 7u);
  EXPECT_EQ(responses[0].rid, kRid);
  EXPECT_TRUE(responses[0].pasid_present);
  EXPECT_EQ(responses[0].pasid, t.pasid);
  EXPECT_EQ(t.b.os.faults().count(FaultResult::kAnonymous), 2u);
  EXPECT_EQ(t.b.os.faults().count(FaultResult::kZeroPage), 1u);
  EXPECT_TRUE(t.mm->pte(kVa).present() && t.mm->pte(kVa).writable());
  EXPECT_TRUE(t.mm->pte(kVa + kPage).present());
  EXPECT_TRUE(t.mm->pte(kVa + 2 * kPage).writable());
  EXPECT_EQ(t.b.iopf.page_requests(), 3u);
  EXPECT_EQ(t.b.iopf.partial_groups(), 0u);
  const auto& g = t.b.sim.stats();
  EXPECT_EQ(g.find_as<Counter>("iopf.groups")->value(), 1u);
  EXPECT_EQ(g.find_as<Counter>("iopf.responses_success")->value(), 1u);
  const auto* lat = g.find_as<Histogram>("iopf.fault_latency");
  ASSERT_EQ(lat->count(), 1u);
  // At least: interrupt entry, 3 descriptor reads, group dispatch, 3 x bookkeeping.
  const IopfConfig fc;
  EXPECT_GE(lat->max(), fc.interrupt_entry_ns + 3 * fc.descriptor_read_ns + fc.group_dispatch_ns +
                            3 * fc.per_request_ns);
}

// unbind drains the page requests of the PASID: a complete group already in the queue is
// answered before unbind returns, and a partial group (no L=1 yet) is dropped.
TEST(IopfHandler, UnbindDrainsOutstandingPageRequests) {
  StubSvaBench b;
  Mm* mm = nullptr;
  uint32_t pasid = 0;
  sc_time unbound;
  size_t responses_at_unbind = 0;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid, false, true);
    mm = &b.new_mm(1, kVa, 4);
    pasid = b.drv.bind(*mm, kRid, 0);
    b.page_request(pasid, kVa + 3 * kPage, false, false, 9);  // partial group 9
    b.page_request(pasid, kVa, true, false, 7);
    b.page_request(pasid, kVa + kPage, true, true, 7);  // group 7 complete
    // While the handler is still entering its interrupt: requests still in the fabric
    // would need the page-drain flag, which is not modelled.
    sc_core::wait(sc_time(100, sc_core::SC_NS));
    ASSERT_EQ(b.iommu.responses().size(), 0u);
    b.drv.unbind(*mm, kRid, 0);
    unbound = sc_core::sc_time_stamp();
    responses_at_unbind = b.iommu.responses().size();
  });
  // The group was handled before unbind returned: both pages are mapped, one response.
  EXPECT_EQ(responses_at_unbind, 1u);
  const auto responses = b.iommu.responses();
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].prg_index, 7u);
  EXPECT_EQ(code(responses[0]), PrgResponseCode::kSuccess);
  EXPECT_TRUE(mm->pte(kVa).writable());
  EXPECT_TRUE(mm->pte(kVa + kPage).writable());
  // Group 9 never got its last request: no response, and it is no longer kept.
  EXPECT_FALSE(mm->pte(kVa + 3 * kPage).present());
  EXPECT_EQ(b.iopf.page_requests(), 3u);
  EXPECT_EQ(b.iopf.partial_groups(), 0u);
  EXPECT_FALSE(b.drv.pasid_of(*mm).has_value());
  EXPECT_GT(unbound, sc_time(0, sc_core::SC_NS));
}

// drain() called at the page request interrupt sleeps until the handler's round ends
// (the response, then PQH written and PRS read: two register accesses), then reads PQH
// and PQT. With the lookahead the handler keeps the round's last two accesses as
// annotated time and wakes the drain at their end: the same times as without it.
void expect_drain_returns_after_the_round(bool lookahead) {
  Bound t;
  t.b.sim.lookahead().set_enabled(lookahead);
  sc_time irq, drained;
  const uint64_t skips_before = t.b.sim.lookahead().skips();
  run_thread([&] {
    t.setup();
    t.b.page_request(t.pasid, kVa, false, true, 3);
    sc_core::wait(t.b.iommu.page_request_event());
    irq = sc_core::sc_time_stamp();
    t.b.iopf.drain(t.pasid);
    drained = sc_core::sc_time_stamp();
  });
  ASSERT_EQ(t.b.iommu.responses().size(), 1u);
  const auto* lat = t.b.sim.stats().find_as<Histogram>("iopf.fault_latency");
  ASSERT_EQ(lat->count(), 1u);
  const sc_time reg = t.b.iommu.register_latency;
  EXPECT_EQ(drained, irq + sc_time(lat->max(), sc_core::SC_NS) + 4 * reg);
  EXPECT_EQ(t.b.sim.lookahead().skips() > skips_before, lookahead);
}

TEST(IopfHandler, DrainReturnsAfterTheRoundWithTheLookahead) {
  expect_drain_returns_after_the_round(true);
}

TEST(IopfHandler, DrainReturnsAfterTheRoundWithoutTheLookahead) {
  expect_drain_returns_after_the_round(false);
}

TEST(IopfHandler, OutsideAnyVmaIsInvalidRequest) {
  Bound t;
  run_thread([&] {
    t.setup();
    t.b.page_request(t.pasid, kVa + 64 * kPage, false, true, 3);
  });
  ASSERT_EQ(t.b.iommu.responses().size(), 1u);
  EXPECT_EQ(code(t.b.iommu.responses()[0]), PrgResponseCode::kInvalidRequest);
  EXPECT_EQ(t.b.iopf.responses(PrgResponseCode::kInvalidRequest), 1u);
}

TEST(IopfHandler, WriteToReadOnlyVmaIsInvalidRequestAndNothingIsMapped) {
  Bound t;
  run_thread([&] {
    t.setup();
    t.b.page_request(t.pasid, kVa + 4 * kPage, true, true, 4);
  });
  ASSERT_EQ(t.b.iommu.responses().size(), 1u);
  EXPECT_EQ(code(t.b.iommu.responses()[0]), PrgResponseCode::kInvalidRequest);
  EXPECT_FALSE(t.mm->pte(kVa + 4 * kPage).present());
}

TEST(IopfHandler, ErrorIsStickyInItsGroup) {
  Bound t;
  run_thread([&] {
    t.setup();
    t.b.page_request(t.pasid, kVa + 64 * kPage, false, false, 9);  // no VMA
    t.b.page_request(t.pasid, kVa, true, true, 9);                 // valid, not handled
  });
  ASSERT_EQ(t.b.iommu.responses().size(), 1u);
  EXPECT_EQ(code(t.b.iommu.responses()[0]), PrgResponseCode::kInvalidRequest);
  EXPECT_FALSE(t.mm->pte(kVa).present());
}

TEST(IopfHandler, StopMarkerGetsNoResponse) {
  Bound t;
  run_thread([&] {
    t.setup();
    t.b.stop_marker(t.pasid, 2);
  });
  EXPECT_TRUE(t.b.iommu.responses().empty());
  EXPECT_EQ(t.b.sim.stats().find_as<Counter>("iopf.stop_markers")->value(), 1u);
  EXPECT_EQ(t.b.iopf.page_requests(), 0u);
}

// A round that only drops a Stop Marker is the last activity of the run: the run
// ends when the round does (interrupt entry, PRS write, PQT and PQH reads, the
// descriptor, PQH write, PRS read), with or without the lookahead.
void expect_run_ends_with_the_round(bool lookahead) {
  Bound t;
  t.b.sim.lookahead().set_enabled(lookahead);
  sc_time irq;
  run_thread([&] {
    t.setup();
    t.b.stop_marker(t.pasid, 0);
    sc_core::wait(t.b.iommu.page_request_event());
    irq = sc_core::sc_time_stamp();
  });
  const IopfConfig fc;
  const double reg_ns = to_ns(t.b.iommu.register_latency);
  EXPECT_EQ(
      sc_core::sc_time_stamp(),
      irq + sc_time(fc.interrupt_entry_ns + 5 * reg_ns + fc.descriptor_read_ns, sc_core::SC_NS));
  EXPECT_EQ(t.b.sim.stats().find_as<Counter>("iopf.stop_markers")->value(), 1u);
}

TEST(IopfHandler, RunEndsWithTheLastRoundWithTheLookahead) {
  expect_run_ends_with_the_round(true);
}

TEST(IopfHandler, RunEndsWithTheLastRoundWithoutTheLookahead) {
  expect_run_ends_with_the_round(false);
}

TEST(IopfHandler, UnknownPasidIsInvalidRequest) {
  Bound t;
  run_thread([&] {
    t.setup();
    t.b.page_request(42, kVa, false, true, 1);
  });
  ASSERT_EQ(t.b.iommu.responses().size(), 1u);
  EXPECT_EQ(code(t.b.iommu.responses()[0]), PrgResponseCode::kInvalidRequest);
}

TEST(IopfHandler, OverflowDiscardsPartialGroups) {
  SvaConfig sc;
  sc.page_request_queue_pqs = 0;  // 128 descriptors
  IopfConfig fc;
  fc.interrupt_entry_ns = 100000;  // a slow handler: the requests pile up meanwhile
  BoundOn<SvaBench> t{SvaBench(test::sva_os(), sc, IommuConfig{}, test::sva_port(), fc)};
  run_thread([&] {
    t.setup();
    // 130 requests arrive before the handler runs; 127 fit (full at PQT + 1 == PQH).
    for (int i = 0; i < 130; ++i) t.b.page_request(t.pasid, kVa, false, false, 5);
  });
  EXPECT_EQ(t.b.iommu.page_request_queue().overflows(), 3u);
  EXPECT_EQ(t.b.sim.stats().find_as<Counter>("iopf.discarded_groups")->value(), 1u);
  EXPECT_EQ(t.b.iopf.partial_groups(), 0u);
  EXPECT_TRUE(t.b.responses.empty());
  EXPECT_EQ(t.b.iommu.page_request_queue().prs() & 2u, 0u);  // PRO cleared
}

// --- end to end with the real Device ---

struct E2e : test::SvaSystem {
  PcieLink link;
  Device dev;
  explicit E2e(const DeviceConfig& dc)
      : SvaSystem(test::sva_os(), SvaConfig{}, IommuConfig{}, test::sva_port()),
        link("link", PcieLinkConfig{}),
        dev("dev", sim, dc) {
    dev.upstream.bind(link.up_in);
    link.up_out.bind(port.upstream);
    port.downstream.bind(link.down_in);
    link.down_out.bind(dev.downstream);
  }
};

TEST(SvaEndToEnd, PriFaultInThenCpuWriteThenMunmapMakesTheNextReadFault) {
  DeviceConfig dc;
  dc.requester_id = kRid;
  DmaThreadConfig th;
  th.pattern = AccessPattern::kScript;
  th.pasid = 1;
  th.script = {ScriptOp::at_ns(100000), ScriptOp::read(kVa),     ScriptOp::at_ns(300000),
               ScriptOp::read(kVa),     ScriptOp::at_ns(500000), ScriptOp::read(kVa)};
  dc.threads = {th};
  E2e s(dc);
  Mm* mm = nullptr;
  size_t atc_before_munmap = 0, atc_after_munmap = 0;
  run_thread([&] {
    s.drv.init();
    s.drv.attach_device(kRid, true, true);
    mm = &s.new_mm(1, kVa, 1);
    ASSERT_EQ(s.drv.bind(*mm, kRid, 0), 1u);
    test::until(200000);
    // The CPU writes the page (COW from the zero page the device faulted in).
    s.os.handle_fault(*mm, 0, kVa, true);
    s.mem.write_u64(s.frame_of(*mm, kVa), 0x4242);
    test::until(400000);
    atc_before_munmap = s.dev.atc().cache().size();
    s.os.munmap(*mm, 0, kVa, kPage);
    atc_after_munmap = s.dev.atc().cache().size();
  });
  const auto& reads = s.dev.thread(0).reads();
  ASSERT_GE(reads.size(), 2u);
  EXPECT_TRUE(reads[0].ok);
  EXPECT_EQ(reads[0].value, 0u);  // the zero page, faulted in through PRI
  EXPECT_TRUE(reads[1].ok);
  EXPECT_EQ(reads[1].value, 0x4242u);  // the COW invalidated the zero-page translation
  EXPECT_EQ(atc_before_munmap, 1u);
  EXPECT_EQ(atc_after_munmap, 0u);
  // After munmap the read faults again and the handler answers Invalid Request.
  EXPECT_TRUE(reads.size() == 2 || !reads[2].ok);
  EXPECT_FALSE(s.dev.thread(0).errors().empty());
  EXPECT_EQ(s.iopf.responses(PrgResponseCode::kSuccess), 1u);
  EXPECT_EQ(s.iopf.responses(PrgResponseCode::kInvalidRequest), 1u);
  EXPECT_EQ(s.rec.invals.size(), 2u);  // COW + munmap
}

}  // namespace
}  // namespace iosim
