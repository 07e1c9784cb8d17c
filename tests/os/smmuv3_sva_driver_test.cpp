// Smmuv3SvaDriver with the real Smmuv3 and stub ATS devices: init's registers, bind's
// STE and CD and DMA through them, the commands of 1-, 16-, 512- and 2,048-page
// invalidations with and without range invalidation (IDR3.RIL) and the ATC_INV span the
// device receives, submissions split at CMDQ_BATCH_ENTRIES, a full command queue,
// unbind and mm release (and the events a later DMA records), an ATC invalidation
// time-out recovered by the repeated CMD_SYNC, a CERROR_ILL skipped, page requests
// answered with CMD_PRI_RESP, and PRI queue overflow recovery.
#include <gtest/gtest.h>

#include "smmuv3_sva_bench.h"

namespace iosim {
namespace {

using namespace smmuv3;
using sc_core::sc_time;
using test::run_thread;
using test::Smmuv3SvaBench;
using test::smmu::kRid0;
using test::smmu::kRid1;

constexpr uint64_t kVa = uint64_t{1} << 32;
constexpr uint64_t kPage = 4096;

uint32_t reg32(Smmuv3SvaBench& b, uint64_t off) {
  return b.drv.read_reg32(off);
}

TEST(Smmuv3SvaDriverInit, ProgramsTheQueuesTheStreamTableAndEveryEnable) {
  Smmuv3SvaBench b;
  uint32_t cr0 = 0, irq = 0, strtab_cfg = 0;
  uint64_t cmdq_base = 0, priq_base = 0;
  run_thread([&] {
    b.drv.init();
    cr0 = reg32(b, reg::kCr0);
    irq = reg32(b, reg::kIrqCtrl);
    strtab_cfg = reg32(b, reg::kStrtabBaseCfg);
    cmdq_base = b.drv.read_reg(reg::kCmdqBase);
    priq_base = b.drv.read_reg(reg::kPriqBase);
  });
  EXPECT_EQ(cr0, reg::kCr0SmmuEn | reg::kCr0PriqEn | reg::kCr0EventqEn | reg::kCr0CmdqEn |
                     reg::kCr0AtsChk);
  EXPECT_EQ(irq, reg::kIrqCtrlGerrorIrqEn | reg::kIrqCtrlPriqIrqEn | reg::kIrqCtrlEventqIrqEn);
  // 2-level: SIDSIZE 16 > STRTAB_SPLIT.
  EXPECT_TRUE(b.drv.two_level_stream_table());
  EXPECT_EQ(reg::kStrtabCfgFmt.get(strtab_cfg), reg::kStrtabFmt2Level);
  EXPECT_EQ(reg::kStrtabCfgLog2Size.get(strtab_cfg), 16u);
  EXPECT_EQ(reg::kStrtabCfgSplit.get(strtab_cfg), 8u);
  EXPECT_EQ(reg::kQBaseLog2Size.get(cmdq_base), 8u);  // 256 << QS, QS = 0
  EXPECT_EQ(reg::kQBaseAddr.get(cmdq_base) << reg::kQBaseAddr.lo, b.drv.command_queue_base());
  EXPECT_EQ(reg::kQBaseLog2Size.get(priq_base), 7u);  // 128 << PQS
  EXPECT_TRUE(b.drv.range_invalidation());
  // CFGI_ALL and TLBI_NSNH_ALL, each with its CMD_SYNC.
  EXPECT_EQ(b.counter("iommu.command_queue.cmd_cfgi_ste_range_count"), 1u);
  EXPECT_EQ(b.counter("iommu.command_queue.cmd_tlbi_nsnh_all_count"), 1u);
  EXPECT_EQ(b.counter("iommu.command_queue.cmd_sync_count"), 2u);
  EXPECT_EQ(b.counter("sva.batches"), 2u);
  EXPECT_EQ(b.counter("sva.descriptors"), 4u);
}

TEST(Smmuv3SvaDriverBind, WritesTheSteAndCdAndDmaTranslatesThroughTheMm) {
  Smmuv3SvaBench b;
  uint32_t pasid = 0;
  uint64_t read_back = 0;
  tlm::tlm_response_status st = tlm::TLM_INCOMPLETE_RESPONSE;
  Mm* mm = nullptr;
  std::map<Opcode, unsigned> attach_cmds, bind_cmds;
  run_thread([&] {
    b.drv.init();
    uint32_t p0 = b.drv.command_queue_prod();
    b.drv.attach_device(kRid0, true, true);
    attach_cmds = b.commands(p0, b.drv.command_queue_prod());
    mm = &b.new_mm(1, kVa, 4);
    p0 = b.drv.command_queue_prod();
    pasid = b.drv.bind(*mm, kRid0, 0);
    bind_cmds = b.commands(p0, b.drv.command_queue_prod());
    ASSERT_EQ(b.os.handle_fault(*mm, 0, kVa + kPage, true), FaultResult::kAnonymous);
    b.mem.write_u64(b.frame_of(*mm, kVa + kPage) + 8, 0xfeed);
    st = b.dev0.dma(pasid, kVa + kPage + 8, false, &read_back, 8);
  });
  EXPECT_EQ(pasid, 1u);
  // arm_smmu_write_ste: qwords 1..7 then qword 0, each with CFGI_STE + SYNC; a
  // PREFETCH_CONFIG; arm_smmu_enable_ats: ATC_INV + SYNC.
  EXPECT_EQ(attach_cmds, (std::map<Opcode, unsigned>{{Opcode::kCfgiSte, 2},
                                                     {Opcode::kSync, 3},
                                                     {Opcode::kPrefetchConfig, 1},
                                                     {Opcode::kAtcInv, 1}}));
  EXPECT_EQ(bind_cmds, (std::map<Opcode, unsigned>{{Opcode::kCfgiCd, 2}, {Opcode::kSync, 2}}));
  SteWords sw{};
  b.mem.read(b.drv.ste_address(kRid0), sw.data(), sizeof sw);
  const Ste ste = Ste::decode(sw);
  EXPECT_EQ(ste.config, SteConfig::kS1Translate);
  EXPECT_EQ(ste.s1_cdmax, 8u);
  EXPECT_EQ(ste.s1dss, S1Dss::kTerminate);
  EXPECT_EQ(ste.eats, Eats::kTranslate);
  CdWords cw{};
  b.mem.read(b.drv.cd_address(kRid0, pasid), cw.data(), sizeof cw);
  const Cd cd = Cd::decode(cw);
  EXPECT_EQ(cd.ttb0, mm->root());
  EXPECT_EQ(cd.asid, 1u);
  EXPECT_EQ(*b.drv.asid_of(pasid), 1u);
  EXPECT_EQ(st, tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(read_back, 0xfeedu);
}

// --- invalidation: commands per range size ---

struct RangeRun {
  std::map<Opcode, unsigned> cmds;
  InvalidateRequest atc;  // what the device received
  size_t atc_requests = 0;
  bool full_flush = false;
};

std::vector<RangeRun> invalidate_ranges(bool ril, const std::vector<uint64_t>& page_counts) {
  Smmuv3SvaBench b(test::smmu_sva_config(ril));
  std::vector<RangeRun> out;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid0, true, true);
    Mm& mm = b.new_mm(1, kVa, 2048);
    b.drv.bind(mm, kRid0, 0);
    for (uint64_t n : page_counts) {
      RangeRun r;
      const uint32_t p0 = b.drv.command_queue_prod();
      const size_t inv0 = b.dev0.invalidations.size();
      const uint64_t full0 = b.counter("sva.full_flushes");
      b.drv.invalidate(mm, kVa, kVa + n * kPage);
      r.cmds = b.commands(p0, b.drv.command_queue_prod());
      r.atc_requests = b.dev0.invalidations.size() - inv0;
      if (r.atc_requests) r.atc = b.dev0.invalidations.back().req;
      r.full_flush = b.counter("sva.full_flushes") > full0;
      out.push_back(r);
    }
  });
  return out;
}

using Cmds = std::map<Opcode, unsigned>;

TEST(Smmuv3SvaDriverInvalidate, WithRangeInvalidationOneTlbiPerRangeAndOneAtcSpan) {
  const auto r = invalidate_ranges(true, {1, 16, 512, 2048});
  // One TLBI_NH_VA each (NUM/SCALE cover 2 (1 widened), 16, 16 << 5 and 1 << 11 pages),
  // a CMD_SYNC; one ATC_INV, a CMD_SYNC.
  const unsigned log2[] = {0, 4, 9, 11};
  for (size_t i = 0; i < r.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(r[i].cmds, (Cmds{{Opcode::kTlbiNhVa, 1}, {Opcode::kAtcInv, 1}, {Opcode::kSync, 2}}));
    EXPECT_FALSE(r[i].full_flush);
    ASSERT_EQ(r[i].atc_requests, 1u);
    EXPECT_EQ(r[i].atc.range.base, kVa);
    EXPECT_EQ(r[i].atc.range.log2_size, 12 + log2[i]);
    EXPECT_EQ(r[i].atc.pasid.pasid, 1u);
  }
}

TEST(Smmuv3SvaDriverInvalidate, WithoutRangeInvalidationPerPageBelowFiveHundredTwelvePages) {
  const auto r = invalidate_ranges(false, {1, 16, 100, 512, 2048});
  EXPECT_EQ(r[0].cmds, (Cmds{{Opcode::kTlbiNhVa, 1}, {Opcode::kAtcInv, 1}, {Opcode::kSync, 2}}));
  EXPECT_EQ(r[0].atc.range.log2_size, 12u);
  EXPECT_EQ(r[1].cmds, (Cmds{{Opcode::kTlbiNhVa, 16}, {Opcode::kAtcInv, 1}, {Opcode::kSync, 2}}));
  EXPECT_EQ(r[1].atc.range.log2_size, 16u);
  // 100 TLBIs: 64 rung without a sync, then 36 + CMD_SYNC (CMDQ_BATCH_ENTRIES).
  EXPECT_EQ(r[2].cmds, (Cmds{{Opcode::kTlbiNhVa, 100}, {Opcode::kAtcInv, 1}, {Opcode::kSync, 2}}));
  EXPECT_EQ(r[2].atc.range.log2_size, 19u);  // 128 pages
  for (size_t i : {3, 4}) {
    SCOPED_TRACE(i);
    EXPECT_EQ(r[i].cmds,
              (Cmds{{Opcode::kTlbiNhAsid, 1}, {Opcode::kAtcInv, 1}, {Opcode::kSync, 2}}));
    EXPECT_TRUE(r[i].full_flush);
    EXPECT_TRUE(r[i].atc.range.is_whole_space());
  }
  for (size_t i : {0, 1, 2}) EXPECT_FALSE(r[i].full_flush);
}

TEST(Smmuv3SvaDriverInvalidate, ABatchOfSixtyFourIsRungWithoutASync) {
  Smmuv3SvaBench b(test::smmu_sva_config(false));
  uint32_t p0 = 0;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid0, false, false);
    Mm& mm = b.new_mm(1, kVa, 128);
    b.drv.bind(mm, kRid0, 0);
    p0 = b.drv.command_queue_prod();
    b.drv.invalidate(mm, kVa, kVa + 100 * kPage);
  });
  // No ATS device: no ATC submission. The 65th slot holds the 65th TLBI, not a sync.
  EXPECT_EQ(b.commands(p0, b.drv.command_queue_prod()),
            (Cmds{{Opcode::kTlbiNhVa, 100}, {Opcode::kSync, 1}}));
  const Command c = b.command_at(queue_next(p0 + 63, b.drv.command_queue_log2()));
  ASSERT_TRUE(std::holds_alternative<TlbiNhVa>(c));
  EXPECT_EQ(std::get<TlbiNhVa>(c).va.addr, kVa + 64 * kPage);
}

// 511 per-page TLBIs do not fit the 256-command queue: the driver polls CMDQ_CONS.
TEST(Smmuv3SvaDriverInvalidate, AFullQueueWaitsForTheSmmuToConsume) {
  Smmuv3SvaBench b(test::smmu_sva_config(false));
  uint64_t before = 0;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid0, false, false);
    Mm& mm = b.new_mm(1, kVa, 512);
    b.drv.bind(mm, kRid0, 0);
    before = b.counter("iommu.command_queue.cmd_tlbi_nh_va_count");
    b.drv.invalidate(mm, kVa, kVa + 511 * kPage);
  });
  EXPECT_EQ(b.counter("iommu.command_queue.cmd_tlbi_nh_va_count") - before, 511u);
  EXPECT_GT(b.counter("sva.queue_full_stalls"), 0u);
  EXPECT_EQ(b.rec.invals.size(), 1u);
}

TEST(Smmuv3SvaDriverFlush, PasidAndGlobalFlushes) {
  Smmuv3SvaBench b;
  Cmds pasid_cmds, all_cmds;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid0, true, true);
    b.drv.attach_device(kRid1, true, true);
    Mm& mm = b.new_mm(1, kVa, 1);
    Mm& other = b.new_mm(2, kVa, 1);
    b.drv.bind(mm, kRid0, 0);
    b.drv.bind(mm, kRid1, 0);
    b.drv.bind(other, kRid0, 0);
    uint32_t p0 = b.drv.command_queue_prod();
    EXPECT_TRUE(b.drv.flush_pasid(mm));
    pasid_cmds = b.commands(p0, b.drv.command_queue_prod());
    p0 = b.drv.command_queue_prod();
    b.drv.flush_all();
    all_cmds = b.commands(p0, b.drv.command_queue_prod());
  });
  EXPECT_EQ(pasid_cmds, (Cmds{{Opcode::kTlbiNhAsid, 1}, {Opcode::kAtcInv, 2}, {Opcode::kSync, 2}}));
  EXPECT_EQ(all_cmds, (Cmds{{Opcode::kCfgiSteRange, 1},
                            {Opcode::kTlbiNsnhAll, 1},
                            {Opcode::kAtcInv, 3},
                            {Opcode::kSync, 3}}));
}

// --- unbind and release ---

TEST(Smmuv3SvaDriverUnbind, ClearsTheCdAndALaterDmaRecordsCBadCd) {
  Smmuv3SvaBench b;
  tlm::tlm_response_status before = tlm::TLM_INCOMPLETE_RESPONSE, after = tlm::TLM_OK_RESPONSE;
  Cmds cmds;
  uint32_t pasid = 0;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid0, true, true);
    Mm& mm = b.new_mm(1, kVa, 1);
    pasid = b.drv.bind(mm, kRid0, 0);
    b.os.handle_fault(mm, 0, kVa, true);
    uint64_t v = 0;
    before = b.dev0.dma(pasid, kVa, false, &v, 8);
    const uint32_t p0 = b.drv.command_queue_prod();
    b.dev0.invalidations.clear();
    b.drv.unbind(mm, kRid0, 0);
    cmds = b.commands(p0, b.drv.command_queue_prod());
    after = b.dev0.dma(pasid, kVa, false, &v, 8);
  });
  EXPECT_EQ(before, tlm::TLM_OK_RESPONSE);
  EXPECT_NE(after, tlm::TLM_OK_RESPONSE);
  // CD cleared (2 x CFGI_CD + SYNC), ATC_INV of the SSID + SYNC, and with the last
  // device the domain's TLBI_NH_ASID + SYNC.
  EXPECT_EQ(cmds, (Cmds{{Opcode::kCfgiCd, 2},
                        {Opcode::kAtcInv, 1},
                        {Opcode::kTlbiNhAsid, 1},
                        {Opcode::kSync, 4}}));
  ASSERT_EQ(b.dev0.invalidations.size(), 1u);
  EXPECT_EQ(b.dev0.invalidations[0].req.pasid.pasid, pasid);
  EXPECT_TRUE(b.dev0.invalidations[0].req.range.is_whole_space());
  EXPECT_EQ(b.mem.read_u64(b.drv.cd_address(kRid0, pasid)), 0u);
  EXPECT_FALSE(b.drv.asid_of(pasid).has_value());
  EXPECT_EQ(b.iommu.iotlb().cache().size(), 0u);
  const auto ev = b.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, EventType::kCBadCd);
  EXPECT_EQ(ev[0].sid, kRid0);
  EXPECT_EQ(ev[0].ssid, pasid);
}

TEST(Smmuv3SvaDriverUnbind, SkippingTheAtcFlushSendsTheDeviceNoInvalidation) {
  SvaConfig sc;
  sc.unbind_skip_atc_flush = true;
  Smmuv3SvaBench b(test::smmu_sva_config(), sc);
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid0, true, true);
    Mm& mm = b.new_mm(1, kVa, 1);
    b.drv.bind(mm, kRid0, 0);
    b.dev0.invalidations.clear();
    b.drv.unbind(mm, kRid0, 0);
  });
  EXPECT_TRUE(b.dev0.invalidations.empty());
}

TEST(Smmuv3SvaDriverUnbind, ExitQuietsTheCdAndALaterDmaRecordsFTranslation) {
  Smmuv3SvaBench b;
  tlm::tlm_response_status st = tlm::TLM_OK_RESPONSE;
  uint32_t pasid = 0;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid0, false, true);
    Mm& mm = b.new_mm(1, kVa, 1);
    pasid = b.drv.bind(mm, kRid0, 0);
    b.os.handle_fault(mm, 0, kVa, true);
    b.os.exit(mm, 0);
    uint64_t v = 0;
    st = b.dev0.dma(pasid, kVa, false, &v, 8);
  });
  EXPECT_NE(st, tlm::TLM_OK_RESPONSE);
  CdWords cw{};
  b.mem.read(b.drv.cd_address(kRid0, pasid), cw.data(), sizeof cw);
  const Cd cd = Cd::decode(cw);  // still valid: no C_BAD_CD
  EXPECT_TRUE(cd.epd0);
  EXPECT_FALSE(cd.record);
  const auto ev = b.events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, EventType::kFTranslation);
}

// --- command queue errors ---

// The device answers an ATC_INV after `answer_ns` (never when 0); the SMMU's ITag
// time-out is 5 us.
struct TimeoutRun {
  uint64_t retries = 0, failed_waits = 0, cq_timeouts = 0, cq_failed_waits = 0;
  size_t done = 0;
  double latency_ns = 0;
};

TimeoutRun invalidate_with_late_device(double answer_ns) {
  IommuConfig ic = test::smmu_sva_config();
  ic.command_queue.itag_timeout_ns = 5000;
  Smmuv3SvaBench b(ic);
  TimeoutRun out;
  sc_time t0, t1;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid0, true, true);
    Mm& mm = b.new_mm(1, kVa, 1);
    b.drv.bind(mm, kRid0, 0);
    b.dev0.answer = answer_ns > 0;
    b.dev0.answer_delay = ns(answer_ns);
    t0 = sc_core::sc_time_stamp();
    b.drv.invalidate(mm, kVa, kVa + kPage);
    t1 = sc_core::sc_time_stamp();
  });
  out.retries = b.drv.retries();
  out.failed_waits = b.drv.failed_waits();
  out.cq_timeouts = b.iommu.command_queue().timeouts();
  out.cq_failed_waits = b.iommu.command_queue().failed_waits();
  out.done = b.rec.invals.size();
  out.latency_ns = to_ns(t1 - t0);
  return out;
}

void expect_recovered_by_the_repeated_sync(const TimeoutRun& r) {
  EXPECT_EQ(r.retries, 1u);
  EXPECT_EQ(r.failed_waits, 0u);
  EXPECT_EQ(r.cq_timeouts, 1u);
  EXPECT_EQ(r.cq_failed_waits, 1u);
  EXPECT_EQ(r.done, 1u);
  // The 5 us time-out, the fault interrupt, GERRORN, the repeated sync.
  EXPECT_GT(r.latency_ns, 5000.0);
  EXPECT_LT(r.latency_ns, 7000.0);
}

TEST(Smmuv3SvaDriverErrors, AtcTimeoutOfASilentDeviceIsRecoveredByTheRepeatedSync) {
  expect_recovered_by_the_repeated_sync(invalidate_with_late_device(0));
}

// The answer after the time-out is stale: the repeated sync does not wait for it.
TEST(Smmuv3SvaDriverErrors, AtcTimeoutOfALateDeviceIsRecoveredByTheRepeatedSync) {
  expect_recovered_by_the_repeated_sync(invalidate_with_late_device(8000));
}

TEST(Smmuv3SvaDriverErrors, AnAnswerBeforeTheTimeoutNeedsNoRetry) {
  const TimeoutRun r = invalidate_with_late_device(1000.0);
  EXPECT_EQ(r.retries, 0u);
  EXPECT_EQ(r.cq_timeouts, 0u);
  EXPECT_EQ(r.done, 1u);
  EXPECT_GT(r.latency_ns, 1000.0);
  EXPECT_LT(r.latency_ns, 3000.0);
}

TEST(Smmuv3SvaDriverErrors, AnIllegalCommandIsReplacedByASync) {
  Smmuv3SvaBench b;
  bool ok = false;
  uint32_t gerror = 0, gerrorn = 0;
  run_thread([&] {
    b.drv.init();
    ok = b.drv.submit({CmdWords{0x7f, 0}});  // no such opcode: CERROR_ILL
    gerror = reg32(b, reg::kGerror);
    gerrorn = reg32(b, reg::kGerrorN);
  });
  EXPECT_TRUE(ok);
  EXPECT_EQ(b.drv.skipped_commands(), 1u);
  EXPECT_EQ(b.drv.retries(), 0u);
  EXPECT_EQ(b.drv.failed_waits(), 0u);
  EXPECT_EQ(reg::gerror_active(gerror, gerrorn), 0u);
  EXPECT_EQ(b.counter("iommu.command_queue.bad_commands"), 1u);
  // init's 2 syncs, the replacement and ours.
  EXPECT_EQ(b.counter("iommu.command_queue.cmd_sync_count"), 4u);
}

// --- page requests ---

TEST(Smmuv3SvaDriverPri, PageRequestsAreAnsweredWithPriResp) {
  Smmuv3SvaBench b;
  uint32_t pasid = 0;
  Cmds cmds;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid0, true, true);
    Mm& mm = b.new_mm(1, kVa, 4);
    pasid = b.drv.bind(mm, kRid0, 0);
    const uint32_t p0 = b.drv.command_queue_prod();
    PageRequest r;
    r.page_address = kVa;
    r.write = true;
    r.last = true;
    r.prg_index = 5;
    r.pasid = PasidPrefix::with(pasid);
    b.dev0.message(r);
    r.page_address = kVa + 64 * kPage;  // outside the VMA
    r.prg_index = 6;
    b.dev0.message(r);
    sc_core::wait(ns(20000));
    cmds = b.commands(p0, b.drv.command_queue_prod());
    EXPECT_TRUE(b.drv.page_request_queue_empty());
  });
  ASSERT_EQ(b.dev0.responses.size(), 2u);
  EXPECT_EQ(b.dev0.responses[0].resp.prg_index, 5u);
  EXPECT_EQ(b.dev0.responses[0].resp.code, PrgResponseCode::kSuccess);
  EXPECT_EQ(b.dev0.responses[0].resp.pasid.pasid, pasid);
  EXPECT_EQ(b.dev0.responses[1].resp.prg_index, 6u);
  EXPECT_EQ(b.dev0.responses[1].resp.code, PrgResponseCode::kInvalidRequest);
  // arm_smmu_page_response: no CMD_SYNC.
  EXPECT_EQ(cmds, (Cmds{{Opcode::kPriResp, 2}}));
  EXPECT_EQ(b.iopf.page_requests(), 2u);
}

TEST(Smmuv3SvaDriverPri, OverflowIsAcknowledgedAndPartialGroupsDiscarded) {
  IopfConfig fc;
  fc.interrupt_entry_ns = 100000;  // a slow handler: the requests pile up meanwhile
  Smmuv3SvaBench b(test::smmu_sva_config(), SvaConfig{}, fc);
  bool overflow_seen = false;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid0, true, true);
    Mm& mm = b.new_mm(1, kVa, 256);
    const uint32_t pasid = b.drv.bind(mm, kRid0, 0);
    PageRequest r;
    r.read = true;
    r.pasid = PasidPrefix::with(pasid);
    r.prg_index = 1;
    for (unsigned i = 0; i < 130; ++i) {  // one group of 130 without its last request
      r.page_address = kVa + i * kPage;
      b.dev0.message(r);
    }
    r.last = true;  // a group lost to the overflow: the SMMU answers it itself
    r.prg_index = 2;
    b.dev0.message(r);
    sc_core::wait(ns(50000));
    overflow_seen = b.iommu.pri_queue().overflow_active();
    sc_core::wait(ns(200000));
  });
  EXPECT_TRUE(overflow_seen);
  EXPECT_FALSE(b.iommu.pri_queue().overflow_active());
  EXPECT_EQ(b.iommu.pri_queue().lost(), 3u);
  EXPECT_EQ(b.iopf.page_requests(), 128u);
  EXPECT_EQ(b.iopf.partial_groups(), 0u);
  ASSERT_EQ(b.dev0.responses.size(), 1u);  // the SMMU's answer for the lost last request
  EXPECT_EQ(b.dev0.responses[0].resp.prg_index, 2u);
}

}  // namespace
}  // namespace iosim
