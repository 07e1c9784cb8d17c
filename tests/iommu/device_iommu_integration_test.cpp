// Integration: the real Device, through a PcieLink, to the real Iommu and memory.
// A scripted DMA thread reads a page through ATS; software remaps the page and
// issues the Intel-style invalidation sequence (PASID IOTLB page invalidation,
// PASID-based device-TLB invalidation, wait with status write); the device drops
// its ATC entry, answers with an Invalidate Completion, and its next read sees the
// new page.
#include <gtest/gtest.h>

#include "device/device.h"
#include "device_iommu_bench.h"
#include "iommu/vtd/descriptors.h"
#include "sc_models/pcie/ats_encoding.h"
#include "sc_models/pcie/pcie_link.h"

namespace iosim {
namespace {

using sc_core::sc_time;
using test::IommuSystem;
using System = test::DeviceIommuSystem;
using test::kRid;
using test::run_thread;
using test::until;

constexpr uint32_t kPasid = 5;
constexpr uint64_t kVa = 0x400000;

// A device with one scripted DMA thread of kPasid.
DeviceConfig one_script_thread(std::vector<ScriptOp> ops) {
  return test::one_script_thread(std::move(ops), kPasid);
}

TEST(DeviceIommuIntegration, AtcInvalidationThroughTheCommandQueueMakesTheDeviceSeeTheNewPage) {
  System s(one_script_thread({ScriptOp::read(kVa), ScriptOp::at_ns(10000), ScriptOp::read(kVa),
                              ScriptOp::at_ns(40000), ScriptOp::read(kVa)}));
  const uint64_t root = s.bind(kPasid);
  const uint64_t old_frame = s.alloc(), new_frame = s.alloc();
  s.memory.write_u64(old_frame, 0x1111);
  s.memory.write_u64(new_frame, 0x2222);
  s.editor.map(root, kVa, old_frame, PageSize::k4K, Pte::kPresent | IommuSystem::kUserRw);
  const uint64_t status = s.alloc();

  sc_time submitted, wait_done;
  uint64_t atc_entries_before = 0, atc_entries_after = 0;
  run_thread([&] {
    s.setup_command_queue();
    until(15000);
    atc_entries_before = s.dev.atc().cache().size();
    // Software changes the PTE, then invalidates the IOTLB and the device TLB.
    s.editor.map(root, kVa, new_frame, PageSize::k4K, Pte::kPresent | IommuSystem::kUserRw);
    submitted = sc_core::sc_time_stamp();
    s.submit(PasidIotlbInv{PasidIotlbInv::kPage, 1, kPasid, kVa, 0, false}.encode());
    const SBitAddress a = encode_s_range(kVa, 0x1000);
    s.submit(DevTlbInv{true, kRid, 0, kPasid, a.address, a.s, false}.encode());
    s.submit(InvWait{true, true, false, 0xD0E, status}.encode());
    sc_core::wait(s.iommu.completion_event());
    wait_done = sc_core::sc_time_stamp();
    atc_entries_after = s.dev.atc().cache().size();
  });

  const auto& reads = s.dev.thread(0).reads();
  ASSERT_EQ(reads.size(), 3u);
  EXPECT_EQ(reads[0].value, 0x1111u);
  EXPECT_EQ(reads[1].value, 0x1111u);  // ATC hit, before the remap
  EXPECT_EQ(reads[2].value, 0x2222u);  // re-translated after the invalidation
  EXPECT_TRUE(reads[0].ok && reads[1].ok && reads[2].ok);
  EXPECT_EQ(s.dev.atc_misses(), 2u);
  EXPECT_EQ(s.dev.atc_hits(), 1u);
  EXPECT_EQ(atc_entries_before, 1u);
  EXPECT_EQ(atc_entries_after, 0u);
  EXPECT_EQ(s.memory.read_u64(status), 0xD0Eu);
  EXPECT_EQ(s.port.itags_in_flight(), 0u);
  // The wait cannot complete before the Invalidate Request crossed the link, the
  // device processed it and its completion crossed back.
  const double min_ns =
      s.dev.config().invalidation_processing_latency_ns + 2 * PcieLinkConfig{}.latency_ns;
  EXPECT_GE(to_ns(wait_done - submitted), min_ns);
  EXPECT_LT(to_ns(wait_done - submitted), min_ns + 2000.0);
  // ITag allocated to Invalidate Completion received: the request's serialisation
  // and latency down the link, the device's processing, the completion's back.
  const auto* inv = s.ctx.stats().find_as<Histogram>("iommu.command_queue.atc_inv_latency");
  ASSERT_NE(inv, nullptr);
  ASSERT_EQ(inv->count(), 1u);
  const sc_time expected = s.link.tlp_time(InvalidateRequest::kPayloadBytes) + s.link.latency() +
                           ns(s.dev.config().invalidation_processing_latency_ns) +
                           s.link.tlp_time(0) + s.link.latency();
  EXPECT_DOUBLE_EQ(inv->max(), to_ns(expected));
}

TEST(DeviceIommuIntegration, NonPresentPageFaultsInThroughPriAndTheReadSucceeds) {
  // The page is not mapped when the device first touches it: the IOMMU answers
  // R=W=0, the device sends a Page Request; software (here the test) maps the page
  // and answers Success with a page group response; the retried read succeeds.
  System s(one_script_thread({ScriptOp::read(kVa)}));
  const uint64_t root = s.bind(kPasid);
  const uint64_t frame = s.alloc();
  s.memory.write_u64(frame, 0x3333);
  uint64_t pqa = s.alloc();
  bool answered = false;
  run_thread([&] {
    s.setup_command_queue();
    s.write_reg(vtd_reg::kPqa, pqa);
    sc_core::wait(s.iommu.page_request_event());
    const uint64_t tail = s.read_reg(vtd_reg::kPqt);
    ASSERT_EQ(tail, 32u);  // one 32-byte page request descriptor
    uint64_t raw[4];
    for (int i = 0; i < 4; ++i) raw[i] = s.memory.read_u64(pqa + 8 * i);
    const PageRequestDesc pr = PageRequestDesc::decode(raw);
    EXPECT_EQ(pr.pasid, kPasid);
    EXPECT_EQ(pr.addr, kVa);
    EXPECT_TRUE(pr.lpig);
    s.editor.map(root, kVa, frame, PageSize::k4K, Pte::kPresent | IommuSystem::kUserRw);
    s.write_reg(vtd_reg::kPqh, tail);
    PageGroupResponseDesc resp;
    resp.pasid_present = true;
    resp.response_code = 0;  // Success
    resp.rid = kRid;
    resp.pasid = kPasid;
    resp.prg_index = pr.prg_index;
    s.submit(resp.encode());
    answered = true;
  });
  ASSERT_TRUE(answered);
  const auto& reads = s.dev.thread(0).reads();
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_TRUE(reads[0].ok);
  EXPECT_EQ(reads[0].value, 0x3333u);
  EXPECT_TRUE(s.dev.thread(0).errors().empty());
}

// Two ATC invalidations to one device in one batch (two pages, then the wait), with
// the device's Invalidate Queue Depth (the port's copy bounds the ITags in flight)
// at `qdep`. Returns the ATC invalidation latencies (ITag allocated to completion)
// and the ITag back-pressure stalls.
struct TwoInvalidations {
  double first = 0, second = 0;  // min and max of atc_inv_latency
  double done = 0;               // tail write to the wait's completion interrupt
  uint64_t stalls = 0;
  double rt = 0;   // one request's round trip: down, processing, completion up
  double tr = 0;   // the Invalidate Request's serialisation and latency down the link
  double cmd = 0;  // one descriptor's fetch and execution in the IOMMU
  double p = 0, tc = 0;
  double status_write = 0;  // the wait's 4-byte status write
};

TwoInvalidations two_invalidations(uint32_t qdep) {
  DeviceConfig dc = one_script_thread({ScriptOp::read(kVa)});
  dc.invalidate_queue_depth = qdep;
  RootPortConfig pc;
  pc.requester_id = kRid;
  pc.invalidate_queue_depth = qdep;
  System s(dc, pc);
  s.bind(kPasid);
  const uint64_t status = s.alloc();
  sc_time tail_written, wait_done;
  run_thread([&] {
    s.setup_command_queue();
    until(5000);
    std::vector<Desc128> descs;
    for (uint64_t page : {kVa, kVa + 0x1000}) {
      const SBitAddress a = encode_s_range(page, 0x1000);
      descs.push_back(DevTlbInv{true, kRid, 0, kPasid, a.address, a.s, false}.encode());
    }
    descs.push_back(InvWait{true, true, false, 1, status}.encode());
    for (const Desc128& d : descs) {
      s.write_entry(s.cq_base + s.cq_tail, d);
      s.cq_tail += 16;
    }
    s.write_reg(vtd_reg::kIqt, s.cq_tail);
    tail_written = sc_core::sc_time_stamp();
    sc_core::wait(s.iommu.completion_event());
    wait_done = sc_core::sc_time_stamp();
  });
  TwoInvalidations t;
  t.done = to_ns(wait_done - tail_written);
  const auto* inv = s.ctx.stats().find_as<Histogram>("iommu.command_queue.atc_inv_latency");
  EXPECT_EQ(inv->count(), 2u);
  t.first = inv->min();
  t.second = inv->max();
  t.stalls =
      s.ctx.stats().find_as<Counter>("iommu.command_queue.itag_backpressure_stalls")->value();
  t.p = s.dev.config().invalidation_processing_latency_ns;
  t.tr = to_ns(s.link.tlp_time(InvalidateRequest::kPayloadBytes) + s.link.latency());
  t.tc = to_ns(s.link.tlp_time(0) + s.link.latency());
  t.rt = t.tr + t.p + t.tc;
  const PhysicalMemoryConfig m = test::small_memory();
  const CommandQueueConfig cq;
  t.cmd = m.access_latency_ns + 16 / m.channel_bandwidth_gb_per_s + cq.fetch_latency_ns +
          cq.process_latency_ns;
  t.status_write = m.access_latency_ns + 4 / m.channel_bandwidth_gb_per_s;
  return t;
}

// Queue depth 1: the second request waits for the first's ITag to come back, so the
// batch takes two full round trips from the first request on: the wait completes
// cmd + 2 rt after the tail write (plus its status write).
TEST(DeviceIommuIntegration, QueueDepthOneSerialisesTheInvalidationsOfABatch) {
  const TwoInvalidations t = two_invalidations(1);
  EXPECT_EQ(t.stalls, 1u);
  EXPECT_DOUBLE_EQ(t.first, t.rt);
  EXPECT_DOUBLE_EQ(t.second, t.rt);
  EXPECT_NEAR(t.done, t.cmd + 2 * t.rt + t.status_write, 0.002);
  // Default link and device: tr = 250 ns + the request's serialisation, p = 500 ns.
  EXPECT_NEAR(t.done, 2226.17, 0.01);
}

// Queue depth 8: both requests are outstanding at once (the second is sent one
// command after the first); the device serves them in order, so the second
// completes p + tc after the first. The wait completes cmd + tr + 2p + 2tc after the
// tail write: tr (the second request's way down) earlier than with depth 1.
TEST(DeviceIommuIntegration, QueueDepthEightKeepsTheInvalidationsOfABatchOutstanding) {
  const TwoInvalidations t = two_invalidations(8);
  EXPECT_EQ(t.stalls, 0u);
  EXPECT_DOUBLE_EQ(t.first, t.rt);
  EXPECT_NEAR(t.second, t.tr + 2 * t.p + 2 * t.tc - t.cmd, 0.002);
  EXPECT_NEAR(t.done, t.cmd + t.tr + 2 * t.p + 2 * t.tc + t.status_write, 0.002);
  EXPECT_NEAR(t.done, 2226.17 - t.tr, 0.01);
}

}  // namespace
}  // namespace iosim
