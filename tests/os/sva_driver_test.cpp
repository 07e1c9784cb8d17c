// SvaDriver tests. On the stub register target: the three invalidation policies'
// exact descriptor lists, the registers and entries init/attach/bind write, PASID
// numbering, the notifier placement under under_ptl and range_end, the latency of a
// batch, and a wait that never completes or is rejected. With the real IOMMU
// (integration): DMA through the mm's page tables after bind, the invalidation
// latency from the configured costs of both sides, each policy's answer to an ATC
// invalidation time-out, and unbind/release.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "os/os_context.h"
#include "sc_models/config/params.h"
#include "sc_models/pcie/ats_encoding.h"
#include "sc_models/timing/server_pool.h"
#include "sva_bench.h"

namespace iosim {
namespace {

using sc_core::sc_time;
using test::kRid;
using test::run_thread;
using test::StubSvaBench;
using test::SvaBench;

constexpr uint16_t kRid2 = 0x0108;
constexpr uint64_t kBase = 0x40000000;  // aligned to 2^18 pages
constexpr uint64_t kPage = 4096;
constexpr uint64_t kVa = uint64_t{1} << 32;

std::string hex(uint64_t v) {
  std::ostringstream o;
  o << std::hex << "0x" << v;
  return o.str();
}

// One line per descriptor, with every field the policies set.
std::string describe(const Desc128& d) {
  switch (descriptor_type(d)) {
    case InvType::kPasidIotlb: {
      const auto c = PasidIotlbInv::decode(d);
      if (c.granularity == PasidIotlbInv::kPasid) {
        return "piotlb pasid=" + std::to_string(c.pasid) + " did=" + std::to_string(c.did);
      }
      return "piotlb pasid=" + std::to_string(c.pasid) + " addr=" + hex(c.addr) +
             " am=" + std::to_string(c.am);
    }
    case InvType::kPasidDevTlb: {
      const auto c = DevTlbInv::decode(d);
      const AtsRange r = decode_s_range(c.addr, c.s);
      return "devtlb rid=" + hex(c.sid) + " pasid=" + std::to_string(c.pasid) +
             (r.is_whole_space() ? std::string(" all")
                                 : " base=" + hex(r.base) + " log2=" + std::to_string(r.log2_size));
    }
    case InvType::kInvWait: {
      const auto w = InvWait::decode(d);
      return std::string("wait") + (w.status_write ? " sw" : "") + (w.interrupt ? " if" : "");
    }
    case InvType::kPasidCache:
      return "pasid_cache pasid=" + std::to_string(PasidCacheInv::decode(d).pasid);
    default:
      return to_string(descriptor_type(d));
  }
}

std::vector<std::string> describe(const std::vector<Desc128>& v) {
  std::vector<std::string> out;
  for (const auto& d : v) out.push_back(describe(d));
  return out;
}

// One driver per test process (SystemC elaborates once), asked for command lists.
struct Policy {
  explicit Policy(const std::string& name) : b(test::sva_os(), config(name)) {}
  static SvaConfig config(const std::string& name) {
    SvaConfig sc;
    assign_param(sc, "policy", name);
    return sc;
  }
  std::vector<std::string> operator()(uint64_t start, uint64_t end,
                                      std::vector<uint16_t> rids = {kRid, kRid2}) const {
    return describe(b.drv.build_commands(1, rids, start, end));
  }
  StubSvaBench b;
};

const uint64_t kAll = SvaPolicy::kWholeSpaceEnd;

TEST(SvaPolicyIntel, OnePage) {
  const Policy p("intel");
  EXPECT_EQ(
      p(kBase, kBase + kPage),
      (std::vector<std::string>{"piotlb pasid=1 addr=0x40000000 am=0",
                                "devtlb rid=0x100 pasid=1 base=0x40000000 log2=12",
                                "devtlb rid=0x108 pasid=1 base=0x40000000 log2=12", "wait sw if"}));
}

// Linux dtlb_extra_inval: each device-TLB descriptor twice in the same batch, so two
// ATC invalidations per device are outstanding before the wait.
TEST(SvaPolicyIntel, ExtraDevTlbInvalidationQuirkWritesEachDeviceTwice) {
  SvaConfig sc = Policy::config("intel");
  sc.intel_dtlb_extra_inval = true;
  StubSvaBench b(test::sva_os(), sc);
  EXPECT_EQ(
      describe(b.drv.build_commands(1, {kRid, kRid2}, kBase, kBase + kPage)),
      (std::vector<std::string>{"piotlb pasid=1 addr=0x40000000 am=0",
                                "devtlb rid=0x100 pasid=1 base=0x40000000 log2=12",
                                "devtlb rid=0x100 pasid=1 base=0x40000000 log2=12",
                                "devtlb rid=0x108 pasid=1 base=0x40000000 log2=12",
                                "devtlb rid=0x108 pasid=1 base=0x40000000 log2=12", "wait sw if"}));
}

TEST(SvaPolicyIntel, ThirtyThreePagesRoundUpToSixtyFour) {
  const Policy p("intel");
  EXPECT_EQ(
      p(kBase, kBase + 33 * kPage),
      (std::vector<std::string>{"piotlb pasid=1 addr=0x40000000 am=6",
                                "devtlb rid=0x100 pasid=1 base=0x40000000 log2=18",
                                "devtlb rid=0x108 pasid=1 base=0x40000000 log2=18", "wait sw if"}));
}

TEST(SvaPolicyIntel, FiveHundredTwelveAndFiveHundredThirteenPages) {
  const Policy p("intel");
  EXPECT_EQ(
      p(kBase, kBase + 512 * kPage),
      (std::vector<std::string>{"piotlb pasid=1 addr=0x40000000 am=9",
                                "devtlb rid=0x100 pasid=1 base=0x40000000 log2=21",
                                "devtlb rid=0x108 pasid=1 base=0x40000000 log2=21", "wait sw if"}));
  EXPECT_EQ(
      p(kBase, kBase + 513 * kPage),
      (std::vector<std::string>{"piotlb pasid=1 addr=0x40000000 am=10",
                                "devtlb rid=0x100 pasid=1 base=0x40000000 log2=22",
                                "devtlb rid=0x108 pasid=1 base=0x40000000 log2=22", "wait sw if"}));
}

TEST(SvaPolicyIntel, UnalignedRangeGetsTheSmallestAlignedBlockCoveringIt) {
  const Policy p("intel");
  // Pages 0x40001 and 0x40002: a 2-page block cannot cover them, a 4-page one can.
  EXPECT_EQ(
      p(kBase + kPage, kBase + 3 * kPage, {kRid}),
      (std::vector<std::string>{"piotlb pasid=1 addr=0x40000000 am=2",
                                "devtlb rid=0x100 pasid=1 base=0x40000000 log2=14", "wait sw if"}));
}

TEST(SvaPolicyIntel, WholeSpaceAndTooLargeMaskFlushThePasid) {
  const Policy p("intel");
  const std::vector<std::string> full{"piotlb pasid=1 did=1", "devtlb rid=0x100 pasid=1 all",
                                      "devtlb rid=0x108 pasid=1 all", "wait sw if"};
  EXPECT_EQ(p(0, kAll), full);
  // 2^18 pages fit the default MAMV (18); one page more needs AM 19.
  EXPECT_EQ(p(0, (uint64_t{1} << 18) * kPage)[0], "piotlb pasid=1 addr=0x0 am=18");
  EXPECT_EQ(p(0, ((uint64_t{1} << 18) + 1) * kPage), full);
}

TEST(SvaPolicyIntel, BatchesSplitAfterSixteenDescriptors) {
  const Policy p("intel");
  // One IOTLB descriptor for the domain + one device-TLB descriptor per device: 20
  // devices give 21 descriptors, sent as 16 + wait, 5 + wait.
  std::vector<uint16_t> rids;
  for (uint16_t i = 0; i < 20; ++i) rids.push_back(static_cast<uint16_t>(0x200 + i));
  const auto v = p(kBase, kBase + kPage, rids);
  ASSERT_EQ(v.size(), 23u);
  EXPECT_EQ(v[0], "piotlb pasid=1 addr=0x40000000 am=0");
  for (int i = 1; i < 16; ++i) EXPECT_EQ(v[i].substr(0, 6), "devtlb") << i;
  EXPECT_EQ(v[16], "wait sw if");
  for (int i = 17; i < 22; ++i) EXPECT_EQ(v[i].substr(0, 6), "devtlb") << i;
  EXPECT_EQ(v[22], "wait sw if");
  EXPECT_EQ(v[15], "devtlb rid=0x20e pasid=1 base=0x40000000 log2=12");
  EXPECT_EQ(v[17], "devtlb rid=0x20f pasid=1 base=0x40000000 log2=12");
}

TEST(SvaConfigTest, ValidateNamesTheKey) {
  SvaConfig c;
  c.intel_batch_descriptors = 0;
  try {
    c.validate();
    FAIL();
  } catch (const ParamError& e) {
    EXPECT_NE(std::string(e.what()).find("sva.intel_batch_descriptors"), std::string::npos);
  }
  SvaConfig d;
  d.poll_interval_ns = -1;
  EXPECT_THROW(d.validate(), ParamError);
  EXPECT_EQ(list_params(d).size(), 14u);
}

// --- bind ---

TEST(SvaDriverBind, WritesThePasidEntryAndDmaTranslatesThroughTheMmPageTables) {
  SvaBench b;
  uint32_t p1 = 0, p2 = 0;
  uint64_t read_back = 0;
  tlm::tlm_response_status st = tlm::TLM_INCOMPLETE_RESPONSE;
  Mm* mm1 = nullptr;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid, true, true);
    mm1 = &b.new_mm(1, kVa, 4);
    Mm& mm2 = b.new_mm(2, kVa, 4);
    p1 = b.drv.bind(*mm1, kRid, 0);
    p2 = b.drv.bind(mm2, kRid, 0);
    EXPECT_EQ(b.drv.bind(*mm1, kRid, 0), p1);  // same mm, same device: same PASID
    ASSERT_EQ(b.os.handle_fault(*mm1, 0, kVa + kPage, true), FaultResult::kAnonymous);
    b.mem.write_u64(b.frame_of(*mm1, kVa + kPage) + 8, 0xfeed);
    st = b.dma(p1, kVa + kPage + 8, false, &read_back, 8);
  });
  EXPECT_EQ(p1, 1u);
  EXPECT_EQ(p2, 2u);
  const uint64_t table = b.drv.pasid_table_of(kRid);
  for (uint32_t p : {p1, p2}) {
    const PasidEntry e = PasidEntry::decode(
        Desc128{b.mem.read_u64(table + 16 * p), b.mem.read_u64(table + 16 * p + 8)});
    EXPECT_TRUE(e.present);
    EXPECT_EQ(e.flptr, b.drv.mm_of_pasid(p)->root());
    EXPECT_EQ(e.did, p);
  }
  EXPECT_EQ(b.drv.mm_of_pasid(1), mm1);
  EXPECT_EQ(*b.drv.pasid_of(*mm1), 1u);
  EXPECT_EQ(st, tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(read_back, 0xfeedu);
  // One notifier per mm.
  EXPECT_EQ(mm1->notifier_subscriptions().subscribers().size(), 1u);
}

TEST(SvaDriverBind, SecondDeviceReusesThePasidAndTheNotifier) {
  StubSvaBench b;
  Mm* mm = nullptr;
  uint32_t a = 0, c = 0;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid, true, true);
    b.drv.attach_device(kRid2, true, true);
    mm = &b.new_mm(1, kVa, 1);
    a = b.drv.bind(*mm, kRid, 0);
    c = b.drv.bind(*mm, kRid2, 0);
  });
  EXPECT_EQ(a, c);
  EXPECT_EQ(b.drv.devices_of(a), (std::vector<uint16_t>{kRid, kRid2}));
  EXPECT_EQ(mm->notifier_subscriptions().subscribers().size(), 1u);
  const uint64_t t2 = b.drv.pasid_table_of(kRid2);
  EXPECT_EQ(PasidEntry::decode(Desc128{b.mem.read_u64(t2 + 16 * a), 0}).flptr, mm->root());
}

// --- notifier placement ---

// Records whether a PTL was held when each invalidation was reported done.
struct DoneProbe : GroundTruthSink {
  explicit DoneProbe(OsContext& os) : os(os) {}
  OsContext& os;  // the kernel whose threads report
  std::vector<bool> under_ptl;
  void on_invalidation_done(const InvalidationDoneEvent&) override {
    under_ptl.push_back(os.current().page_table_locks_held() > 0);
  }
};

TEST(SvaDriverNotifier, UnderPtlMunmapInvalidatesOnceInsideThePtl) {
  StubSvaBench b;  // under_ptl -> arch_invalidate_secondary_tlbs
  DoneProbe probe(b.os.context());
  b.gt.subscribe(&probe);
  Mm* mm = nullptr;
  uint64_t frame = 0;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid, false, true);
    mm = &b.new_mm(1, kVa, 2);
    b.drv.bind(*mm, kRid, 0);
    b.os.handle_fault(*mm, 0, kVa, true);
    frame = b.frame_of(*mm, kVa);
    b.os.munmap(*mm, 0, kVa, 2 * kPage);
  });
  EXPECT_EQ(b.drv.notifier_mode(), SvaNotifierMode::kArchInvalidate);
  const MmuNotifier& n = *mm->notifier_subscriptions().subscribers().at(0);
  EXPECT_EQ(n.stats().call_count(MmuNotifierOp::kArchInvalidateSecondaryTlbs), 1u);
  EXPECT_EQ(n.stats().call_count(MmuNotifierOp::kInvalidateRangeEnd), 0u);
  ASSERT_EQ(b.rec.invals.size(), 1u);
  EXPECT_EQ(b.rec.invals[0].start, kVa);
  EXPECT_EQ(b.rec.invals[0].end, kVa + 2 * kPage);
  EXPECT_EQ(b.rec.invals[0].pasid, 1u);
  EXPECT_EQ(probe.under_ptl, std::vector<bool>{true});
  // The frame is freed after the invalidation completed.
  sc_time freed;
  for (const auto& f : b.rec.frames) {
    if (!f.allocated && f.frame_pa == frame) freed = f.time;
  }
  EXPECT_GE(freed, b.rec.invals[0].time);
  EXPECT_EQ(mm->page_table_lock.stats().holds, 2u);  // fault + munmap
}

// Under range_end the memory manager never calls arch_invalidate_secondary_tlbs, so a
// driver that would register only that op is refused; auto picks start/end there.
TEST(SvaDriverNotifier, ArchInvalidateUnderRangeEndIsRefused) {
  SvaConfig sc;
  sc.notifier = SvaNotifierMode::kArchInvalidate;
  try {
    StubSvaBench b(test::sva_os("range_end"), sc);
    FAIL() << "the driver accepted a notifier it would never be called on";
  } catch (const ParamError& e) {
    EXPECT_NE(std::string(e.what()).find("sva.notifier: arch_invalidate needs"), std::string::npos)
        << e.what();
  }
}

TEST(SvaDriverNotifier, RangeEndInvalidatesAfterThePreemptHoldOutsideThePtl) {
  StubSvaBench b(test::sva_os("range_end"));
  DoneProbe probe(b.os.context());
  b.gt.subscribe(&probe);
  Mm* mm = nullptr;
  uint64_t frame = 0;
  sc_time munmap_start;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid, false, true);
    mm = &b.new_mm(1, kVa, 1);
    b.drv.bind(*mm, kRid, 0);
    b.os.handle_fault(*mm, 0, kVa, true);
    frame = b.frame_of(*mm, kVa);
    b.os.set_preempt_hold_ns(0, 5000);
    munmap_start = sc_core::sc_time_stamp();
    b.os.munmap(*mm, 0, kVa, kPage);
  });
  EXPECT_EQ(b.drv.notifier_mode(), SvaNotifierMode::kRangeStartEnd);
  const MmuNotifier& n = *mm->notifier_subscriptions().subscribers().at(0);
  EXPECT_EQ(n.stats().call_count(MmuNotifierOp::kArchInvalidateSecondaryTlbs), 0u);
  EXPECT_EQ(n.stats().call_count(MmuNotifierOp::kInvalidateRangeEnd), 1u);
  ASSERT_EQ(b.rec.invals.size(), 1u);
  EXPECT_EQ(probe.under_ptl, std::vector<bool>{false});
  EXPECT_GE(to_ns(b.rec.invals[0].time - munmap_start), 5000.0);
  sc_time freed;
  for (const auto& f : b.rec.frames) {
    if (!f.allocated && f.frame_pa == frame) freed = f.time;
  }
  // Deferred: the frame was freed before the IOMMU was told.
  EXPECT_LT(freed, b.rec.invals[0].time);
  EXPECT_LE(to_ns(b.rec.invals[0].time - freed), 5000.0 + 2000.0);
}

// --- against the stub register target ---

TEST(SvaDriverRegisters, InitProgramsTheQueuesAndAttachWritesTheContextEntry) {
  SvaConfig sc;
  sc.command_queue_qs = 1;
  StubSvaBench b(test::sva_os(), sc);
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid, true, false);
  });
  EXPECT_EQ(b.iommu.iqa, b.drv.command_queue_base() | 1u);
  EXPECT_EQ(b.iommu.pqa, b.drv.page_request_queue_base());
  ASSERT_NE(b.iommu.rtaddr, 0u);
  const RootEntry re =
      RootEntry::decode(Desc128{b.mem.read_u64(b.iommu.rtaddr + 16 * (kRid >> 8)), 0});
  ASSERT_TRUE(re.present);
  const uint64_t ce_addr = re.context_table + 16 * (kRid & 0xff);
  const ContextEntry ce =
      ContextEntry::decode(Desc128{b.mem.read_u64(ce_addr), b.mem.read_u64(ce_addr + 8)});
  EXPECT_TRUE(ce.present && ce.dte && ce.pasid_enable);
  EXPECT_FALSE(ce.pre);
  EXPECT_EQ(ce.pasid_table, b.drv.pasid_table_of(kRid));
  // The context-cache invalidation of the device, then a wait with status write and
  // interrupt at the driver's status word.
  ASSERT_EQ(b.iommu.commands.size(), 2u);
  const ContextCacheInv cc = ContextCacheInv::decode(b.iommu.commands[0].desc);
  EXPECT_EQ(cc.granularity, ContextCacheInv::kDevice);
  EXPECT_EQ(cc.sid, kRid);
  const InvWait w = InvWait::decode(b.iommu.commands[1].desc);
  EXPECT_TRUE(w.status_write && w.interrupt);
  EXPECT_EQ(w.status_addr, b.drv.status_address());
  EXPECT_EQ(b.iommu.iqh, b.iommu.iqt);  // everything consumed
}

// Lock, two descriptor writes and the doorbell's register latency; the stub writes
// the status 200 ns after the doorbell, seen at the second 130 ns poll.
TEST(SvaDriverRegisters, InvalidateReturnsAtTheFirstPollAfterTheStatusWrite) {
  const SvaConfig sc;
  StubSvaBench b(test::sva_os(), sc);
  sc_time t_entry, t_done;
  size_t before = 0;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid, false, false);
    Mm& mm = b.new_mm(1, kVa, 1);
    b.drv.bind(mm, kRid, 0);
    before = b.iommu.commands.size();
    t_entry = sc_core::sc_time_stamp();
    b.drv.invalidate(mm, kVa, kVa + kPage);
    t_done = sc_core::sc_time_stamp();
  });
  ASSERT_EQ(b.iommu.commands.size(), before + 2);
  const PasidIotlbInv inv = PasidIotlbInv::decode(b.iommu.commands[before].desc);
  EXPECT_EQ(inv.granularity, PasidIotlbInv::kPage);
  EXPECT_EQ(inv.addr, kVa);
  EXPECT_EQ(inv.pasid, 1u);
  const double doorbell = sc.queue_lock.acquire_ns + 2 * sc.descriptor_write_ns;
  EXPECT_DOUBLE_EQ(to_ns(b.iommu.commands[before].time - t_entry), doorbell);
  const double reg = to_ns(b.iommu.register_latency);
  const double status = to_ns(b.iommu.wait_latency) - reg;  // after polling started
  EXPECT_DOUBLE_EQ(to_ns(t_done - t_entry),
                   doorbell + reg + std::ceil(status / sc.poll_interval_ns) * sc.poll_interval_ns);
  EXPECT_EQ(b.drv.failed_waits(), 0u);
  ASSERT_EQ(b.rec.invals.size(), 1u);
  EXPECT_EQ(b.rec.invals[0].time, t_done);
}

// A wait the IOMMU never completes: with sva.wait_timeout_ns the driver abandons it,
// and the invalidation is not reported done.
TEST(SvaDriverRegisters, WaitNeverCompletedIsAbandonedAfterTheTimeout) {
  SvaConfig sc;
  sc.wait_timeout_ns = 10000;
  StubSvaBench b(test::sva_os(), sc);
  sc_time t0, t1;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid, false, false);
    Mm& mm = b.new_mm(1, kVa, 1);
    b.drv.bind(mm, kRid, 0);
    b.iommu.stall_waits = true;
    t0 = sc_core::sc_time_stamp();
    b.drv.invalidate(mm, kVa, kVa + kPage);
    t1 = sc_core::sc_time_stamp();
  });
  EXPECT_EQ(b.drv.wait_timeouts(), 1u);
  EXPECT_EQ(b.drv.failed_waits(), 1u);
  EXPECT_GE(to_ns(t1 - t0), sc.wait_timeout_ns);
  EXPECT_LT(to_ns(t1 - t0), sc.wait_timeout_ns + 1000.0);
  EXPECT_TRUE(b.rec.invals.empty());
}

// A wait the IOMMU rejects (FSTS.IQE, the fault interrupt, the head past the wait
// without a status write): the driver clears FSTS and gives the invalidation up.
TEST(SvaDriverRegisters, RejectedWaitFailsTheInvalidation) {
  StubSvaBench b;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid, false, false);
    Mm& mm = b.new_mm(1, kVa, 1);
    b.drv.bind(mm, kRid, 0);
    b.iommu.reject_waits = true;
    b.drv.invalidate(mm, kVa, kVa + kPage);
  });
  EXPECT_EQ(b.drv.failed_waits(), 1u);
  EXPECT_EQ(b.drv.retries(), 0u);
  EXPECT_EQ(b.drv.wait_timeouts(), 0u);
  EXPECT_EQ(b.iommu.fsts, 0u);
  EXPECT_TRUE(b.rec.invals.empty());
}

// --- latency and failure ---

TEST(SvaDriverInvalidate, LatencyIsTheSumOfTheModelledCostsAndTheIotlbEntryIsGone) {
  SvaConfig sc;  // intel, poll every 130 ns
  SvaBench b(test::sva_os(), sc);
  Mm* mm = nullptr;
  sc_time t_entry, t_done;
  size_t iotlb_before = 0, iotlb_after = 0;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid, false, false);  // no ATS: IOTLB descriptor + wait only
    mm = &b.new_mm(1, kVa, 1);
    const uint32_t pasid = b.drv.bind(*mm, kRid, 0);
    b.os.handle_fault(*mm, 0, kVa, true);
    uint64_t v = 0;
    b.dma(pasid, kVa, false, &v, 8);
    iotlb_before = b.iommu.iotlb().cache().size();
    t_entry = sc_core::sc_time_stamp();
    b.drv.invalidate(*mm, kVa, kVa + kPage);
    t_done = sc_core::sc_time_stamp();
    iotlb_after = b.iommu.iotlb().cache().size();
  });
  // No wake-up is left pending (the wait's timeout is cancelled): the run ends at once.
  EXPECT_LT(sc_core::sc_time_stamp(), sc_time(1, sc_core::SC_MS));
  const auto* h = b.sim.stats().find_as<Histogram>("sva.invalidation_latency");
  ASSERT_NE(h, nullptr);
  ASSERT_EQ(h->count(), 1u);
  // Software: lock, 2 descriptors, the tail write (register latency). IOMMU: per
  // descriptor a 16-byte read (90 ns + 1 ns burst) + fetch + process, then the 4-byte
  // status write (90 + 0.25 ns). Software sees the status at the next 130 ns poll.
  const IommuConfig ic;
  const PhysicalMemoryConfig mc = test::sva_memory();
  const double sw = sc.queue_lock.acquire_ns + 2 * sc.descriptor_write_ns + ic.register_latency_ns;
  const double per_desc = mc.access_latency_ns + 1.0 + ic.command_queue.fetch_latency_ns +
                          ic.command_queue.process_latency_ns;
  const double hw = 2 * per_desc + mc.access_latency_ns + 0.25;
  const double seen = std::ceil(hw / sc.poll_interval_ns) * sc.poll_interval_ns;
  EXPECT_DOUBLE_EQ(hw, 332.25);
  EXPECT_DOUBLE_EQ(h->max(), sw + seen);
  EXPECT_DOUBLE_EQ(to_ns(t_done - t_entry), sw + seen);
  EXPECT_EQ(iotlb_before, 1u);
  EXPECT_EQ(iotlb_after, 0u);
  const auto* spin = b.sim.stats().find_as<Histogram>("sva.spin_time");
  EXPECT_DOUBLE_EQ(spin->max(), seen);
  ASSERT_EQ(b.rec.invals.size(), 1u);
  EXPECT_EQ(b.rec.invals[0].time, t_done);
}

// The stub device never answers; once it is gone (surprise removal), the intel
// policy's ITag-timeout check ends the wait with an error (qi_check_fault's
// -ETIMEDOUT) instead of writing the batch again.
TEST(SvaDriverInvalidate, AbsentDeviceEndsTheWaitAfterOneTimeout) {
  IommuConfig ic;
  ic.command_queue.itag_timeout_ns = 5000;
  SvaBench b(test::sva_os(), SvaConfig{}, ic);
  Mm* mm = nullptr;
  sc_time t0, t1;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid, true, true);
    mm = &b.new_mm(1, kVa, 1);
    b.drv.bind(*mm, kRid, 0);
    b.drv.set_device_present(kRid, false);
    t0 = sc_core::sc_time_stamp();
    b.drv.invalidate(*mm, kVa, kVa + kPage);
    t1 = sc_core::sc_time_stamp();
  });
  EXPECT_EQ(b.drv.failed_waits(), 1u);
  EXPECT_EQ(b.drv.retries(), 0u);
  EXPECT_GE(to_ns(t1 - t0), 5000.0);
  EXPECT_LT(to_ns(t1 - t0), 7000.0);
  EXPECT_TRUE(b.rec.invals.empty());
  EXPECT_EQ(b.sim.stats().find_as<Histogram>("sva.invalidation_latency")->count(), 0u);
  EXPECT_EQ(b.inv_requests.size(), 1u);
  EXPECT_EQ(b.iommu.command_queue().failed_waits(), 1u);
  EXPECT_EQ(b.iommu.command_queue().timeouts(), 1u);
}

// What each policy does when the device answers an ATC invalidation only after the
// IOMMU's ITag timeout (the stub device answers Invalidate Request number
// `answered` (0-based) 1 us after it was sent, and no other).
struct TimeoutRun {
  uint64_t retries = 0, failed_waits = 0, wait_timeouts = 0;
  uint64_t cq_timeouts = 0, cq_failed_waits = 0;
  size_t requests = 0;  // Invalidate Requests sent
  size_t done = 0;      // InvalidationDoneEvents published
  double latency = 0;   // invalidate() entry to return, ns
  double first_request_to_done = 0;
};

TimeoutRun run_with_late_device(const std::string& policy, size_t answered) {
  IommuConfig ic;
  ic.command_queue.itag_timeout_ns = 5000;
  SvaConfig sc;
  assign_param(sc, "policy", policy);
  SvaBench b(test::sva_os(), sc, ic);
  std::vector<sc_time> sent;
  b.down.hook = [&](tlm::tlm_generic_payload& gp, sc_time& d) {
    const PcieExtension* ext = PcieExtension::of(gp);
    if (!ext) return;
    const auto* r = std::get_if<InvalidateRequest>(&ext->body);
    if (!r) return;
    sent.push_back(sc_core::sc_time_stamp() + d);
    if (sent.size() - 1 != answered) return;
    InvalidateCompletion c;
    c.requester_id = kRid;
    c.itag_vector = 1u << r->itag;
    c.completion_count = 1;
    b.iommu.command_queue().on_invalidate_completion(b.port, c, d + ns(1000));
  };
  TimeoutRun out;
  sc_time t0, t1;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid, true, true);
    Mm& mm = b.new_mm(1, kVa, 1);
    b.drv.bind(mm, kRid, 0);
    t0 = sc_core::sc_time_stamp();
    b.drv.invalidate(mm, kVa, kVa + kPage);
    t1 = sc_core::sc_time_stamp();
  });
  out.retries = b.drv.retries();
  out.failed_waits = b.drv.failed_waits();
  out.wait_timeouts = b.drv.wait_timeouts();
  out.cq_timeouts = b.iommu.command_queue().timeouts();
  out.cq_failed_waits = b.iommu.command_queue().failed_waits();
  out.requests = sent.size();
  out.done = b.rec.invals.size();
  out.latency = to_ns(t1 - t0);
  if (!sent.empty()) out.first_request_to_done = to_ns(t1 - sent[0]);
  return out;
}

// intel: ITE fails the wait, qi_submit_sync writes the batch again; the second
// request is answered, the wait completes and only then is the invalidation done.
TEST(SvaDriverInvalidate, IntelWritesTheBatchAgainAfterAnItagTimeout) {
  const TimeoutRun r = run_with_late_device("intel", 1);
  EXPECT_EQ(r.requests, 2u);
  EXPECT_EQ(r.retries, 1u);
  EXPECT_EQ(r.failed_waits, 0u);
  EXPECT_EQ(r.wait_timeouts, 0u);
  EXPECT_EQ(r.cq_timeouts, 1u);
  EXPECT_EQ(r.cq_failed_waits, 1u);
  EXPECT_EQ(r.done, 1u);
  // The first request's 5 us timeout, then the second's 1 us answer.
  EXPECT_GT(r.first_request_to_done, 6000.0);
  EXPECT_LT(r.first_request_to_done, 7500.0);
}

// Several timeouts in a row: the batch is written once per timeout.
TEST(SvaDriverInvalidate, IntelKeepsRetryingWhileTheDevicePresentDoesNotAnswer) {
  const TimeoutRun r = run_with_late_device("intel", 3);
  EXPECT_EQ(r.requests, 4u);
  EXPECT_EQ(r.retries, 3u);
  EXPECT_EQ(r.failed_waits, 0u);
  EXPECT_EQ(r.cq_timeouts, 3u);
  EXPECT_EQ(r.done, 1u);
  EXPECT_GT(r.first_request_to_done, 3 * 5000.0 + 1000.0);
}

TEST(SvaDriverConfig, WaitTimeoutBelowTheItagTimeoutIsRejected) {
  SvaConfig c;
  c.wait_timeout_ns = 1;
  try {
    c.validate_wait_timeout(5000);
    ADD_FAILURE() << "no error";
  } catch (const ParamError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("sva.wait_timeout_ns"), std::string::npos) << msg;
    EXPECT_NE(msg.find("iommu.command_queue.itag_timeout_ns"), std::string::npos) << msg;
  }
  c.wait_timeout_ns = 0;
  EXPECT_NO_THROW(c.validate_wait_timeout(5000));
  c.wait_timeout_ns = 5000;
  EXPECT_NO_THROW(c.validate_wait_timeout(5000));
  EXPECT_EQ(SvaConfig{}.wait_timeout_ns, 0.0);
}

// --- unbind and release ---

TEST(SvaDriverUnbind, ClearsTheEntryFlushesAndFreesThePasidWithTheLastDevice) {
  SvaBench b;
  Mm* mm = nullptr;
  tlm::tlm_response_status st = tlm::TLM_OK_RESPONSE;
  uint32_t again = 0;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid, false, true);
    mm = &b.new_mm(1, kVa, 1);
    const uint32_t pasid = b.drv.bind(*mm, kRid, 0);
    b.os.handle_fault(*mm, 0, kVa, true);
    uint64_t v = 0;
    b.dma(pasid, kVa, false, &v, 8);
    b.drv.unbind(*mm, kRid, 0);
    st = b.dma(pasid, kVa, false, &v, 8);
    again = b.drv.bind(b.new_mm(2, kVa, 1), kRid, 0);
  });
  EXPECT_NE(st, tlm::TLM_OK_RESPONSE);  // entry cleared, caches flushed
  EXPECT_FALSE(b.drv.pasid_of(*mm).has_value());
  EXPECT_TRUE(mm->notifier_subscriptions().subscribers().empty());
  EXPECT_EQ(again, 1u);  // PASID 1 was freed
  EXPECT_EQ(b.iommu.iotlb().cache().size(), 0u);
}

TEST(SvaDriverUnbind, ExitReleasesTheBindingLikeLinuxRelease) {
  SvaBench b;
  Mm* mm = nullptr;
  tlm::tlm_response_status st = tlm::TLM_OK_RESPONSE;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid, false, true);
    mm = &b.new_mm(1, kVa, 1);
    const uint32_t pasid = b.drv.bind(*mm, kRid, 0);
    b.os.handle_fault(*mm, 0, kVa, true);
    b.os.exit(*mm, 0);
    uint64_t v = 0;
    st = b.dma(pasid, kVa, false, &v, 8);
  });
  EXPECT_NE(st, tlm::TLM_OK_RESPONSE);
  const uint64_t table = b.drv.pasid_table_of(kRid);
  EXPECT_FALSE(PasidEntry::decode(Desc128{b.mem.read_u64(table + 16), 0}).present);
}

// Bind and free of a PASID as the ground truth sees them.
struct BindingLog : GroundTruthSink {
  std::vector<PasidBindingEvent> ev;
  void on_pasid_binding(const PasidBindingEvent& e) override { ev.push_back(e); }
};

// remove_dev_pasid order: entry cleared, then PASID cache + IOTLB + device TLB with a
// wait, then (after the page-request drain) IOTLB + device TLB with a wait, then the
// free; the device gets one ATC invalidation per flush. The stub device never
// answers: it is marked gone, so each wait ends at a short ITag timeout.
IommuConfig short_itag_timeout() {
  IommuConfig ic;
  ic.command_queue.itag_timeout_ns = 5000;
  return ic;
}

TEST(SvaDriverUnbind, TeardownFlushesTheAtcTwiceThenFreesThePasid) {
  SvaBench b(test::sva_os(), SvaConfig{}, short_itag_timeout());
  BindingLog log;
  b.gt.subscribe(&log);
  sc_core::sc_time unbind_start, unbind_end;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid, true, true);
    Mm& mm = b.new_mm(1, kVa, 1);
    b.drv.bind(mm, kRid, 0);
    b.drv.set_device_present(kRid, false);
    b.inv_requests.clear();
    unbind_start = sc_core::sc_time_stamp();
    b.drv.unbind(mm, kRid, 0);
    unbind_end = sc_core::sc_time_stamp();
  });
  ASSERT_EQ(b.inv_requests.size(), 2u);
  for (const InvalidateRequest& r : b.inv_requests) EXPECT_EQ(r.pasid.pasid, 1u);
  ASSERT_EQ(log.ev.size(), 2u);
  EXPECT_TRUE(log.ev[0].bound);
  EXPECT_FALSE(log.ev[1].bound);
  EXPECT_EQ(log.ev[1].pasid, 1u);
  EXPECT_EQ(log.ev[1].mm_id, 1u);
  // The free comes at the end of the teardown, which took simulated time.
  EXPECT_EQ(log.ev[1].time, unbind_end);
  // Two waits, each ended by the 5 us ITag timeout.
  EXPECT_GT(unbind_end - unbind_start, sc_core::sc_time(10, sc_core::SC_US));
  EXPECT_EQ(b.drv.failed_waits(), 2u);
  const uint64_t table = b.drv.pasid_table_of(kRid);
  EXPECT_FALSE(PasidEntry::decode(Desc128{b.mem.read_u64(table + 16), 0}).present);
  EXPECT_EQ(b.drv.free_pasids(), 255u);
}

TEST(SvaDriverUnbind, SkippingTheAtcFlushSendsTheDeviceNoInvalidation) {
  SvaConfig sc;
  sc.unbind_skip_atc_flush = true;
  SvaBench b(test::sva_os(), sc, short_itag_timeout());
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid, true, true);
    Mm& mm = b.new_mm(1, kVa, 1);
    b.drv.bind(mm, kRid, 0);
    b.inv_requests.clear();
    b.drv.unbind(mm, kRid, 0);
  });
  EXPECT_TRUE(b.inv_requests.empty());
}

TEST(SvaDriverFlush, PasidAndGlobalFlushesReachTheDevice) {
  SvaBench b(test::sva_os(), SvaConfig{}, short_itag_timeout());
  bool no_pasid = true;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid, true, true);
    Mm& mm = b.new_mm(1, kVa, 1);
    Mm& other = b.new_mm(2, kVa, 1);
    b.drv.bind(mm, kRid, 0);
    b.drv.bind(other, kRid, 0);
    b.drv.set_device_present(kRid, false);
    b.inv_requests.clear();
    EXPECT_TRUE(b.drv.flush_pasid(mm));
    no_pasid = b.drv.flush_pasid(b.new_mm(3, kVa, 1));
    b.drv.flush_all();
  });
  EXPECT_FALSE(no_pasid);
  // flush_pasid: PASID 1; flush_all: every bound PASID (1 and 2).
  ASSERT_EQ(b.inv_requests.size(), 3u);
  EXPECT_EQ(b.inv_requests[0].pasid.pasid, 1u);
  EXPECT_EQ(b.inv_requests[1].pasid.pasid, 1u);
  EXPECT_EQ(b.inv_requests[2].pasid.pasid, 2u);
}

}  // namespace
}  // namespace iosim
