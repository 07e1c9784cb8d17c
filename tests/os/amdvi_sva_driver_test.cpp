// AmdviSvaDriver with the real AmdviIommu and stub ATS devices: init's registers, attach's
// DTE, bind's GCR3 entry and DMA through it, the commands of 1-, 16-, 512- and 2,048-page
// invalidations under amd and amd_legacy and the range the device receives, unbind (a
// later DMA faults), an ATS time-out that the wait survives, and a PPR round trip.
#include <gtest/gtest.h>

#include "amdvi_sva_bench.h"

namespace iosim {
namespace {

using namespace amdvi;
using test::AmdviSvaBench;
using test::run_thread;
using test::smmu::kRid0;
using test::smmu::kRid1;

constexpr uint64_t kVa = uint64_t{1} << 32;
constexpr uint64_t kPage = 4096;
using Cmds = std::map<Opcode, unsigned>;

TEST(AmdviSvaDriverInit, ProgramsTheTablesBuffersLogsAndEnables) {
  AmdviSvaBench b;
  uint64_t ctrl = 0, status = 0, cmd_base = 0, dev_base = 0;
  run_thread([&] {
    b.drv.init();
    ctrl = b.drv.read_reg(reg::kControl);
    status = b.drv.read_reg(reg::kStatus);
    cmd_base = b.drv.read_reg(reg::kCmdBufBase);
    dev_base = b.drv.read_reg(reg::kDevTableBase);
  });
  for (uint64_t bit : {reg::kCtrlIommuEn, reg::kCtrlCmdBufEn, reg::kCtrlEventLogEn,
                       reg::kCtrlPprLogEn, reg::kCtrlPprEn, reg::kCtrlGtEn, reg::kCtrlPprIntEn}) {
    EXPECT_TRUE(ctrl & bit) << bit;
  }
  EXPECT_EQ(reg::kCtrlInvTimeout.get(ctrl), reg::kInvTimeout1s);
  EXPECT_TRUE(status & reg::kStatusCmdBufRun);
  EXPECT_TRUE(status & reg::kStatusPprLogRun);
  EXPECT_EQ(reg::kBaseLen.get(cmd_base), 9u);
  EXPECT_EQ(reg::kDevTableSize.get(dev_base), 511u);
  EXPECT_EQ(b.counter("iommu.command_queue.invalidate_iommu_all_count"), 1u);
  EXPECT_EQ(b.counter("iommu.command_queue.completion_wait_count"), 1u);
  EXPECT_EQ(b.counter("sva.batches"), 1u);
  EXPECT_EQ(b.counter("sva.descriptors"), 2u);
}

TEST(AmdviSvaDriverBind, WritesTheDteAndGcr3AndDmaTranslatesThroughTheMm) {
  AmdviSvaBench b;
  uint32_t pasid = 0;
  uint64_t read_back = 0;
  tlm::tlm_response_status st = tlm::TLM_INCOMPLETE_RESPONSE;
  Mm* mm = nullptr;
  Cmds attach_cmds, bind_cmds;
  run_thread([&] {
    b.drv.init();
    uint64_t t0 = b.drv.command_tail();
    b.drv.attach_device(kRid0, true, true);
    attach_cmds = b.commands(t0, b.drv.command_tail());
    mm = &b.new_mm(1, kVa, 4);
    t0 = b.drv.command_tail();
    pasid = b.drv.bind(*mm, kRid0, 0);
    bind_cmds = b.commands(t0, b.drv.command_tail());
    ASSERT_EQ(b.os.handle_fault(*mm, 0, kVa + kPage, true), FaultResult::kAnonymous);
    b.mem.write_u64(b.frame_of(*mm, kVa + kPage) + 8, 0xfeed);
    st = b.dev0.dma(pasid, kVa + kPage + 8, false, &read_back, 8);
  });
  EXPECT_EQ(pasid, 1u);
  EXPECT_EQ(attach_cmds, (Cmds{{Opcode::kInvalidateDevtabEntry, 1},
                               {Opcode::kInvalidateIotlbPages, 1},
                               {Opcode::kCompletionWait, 1}}));
  // amd_iommu_dev_flush_pasid_all.
  EXPECT_EQ(bind_cmds, (Cmds{{Opcode::kInvalidateIommuPages, 1},
                             {Opcode::kInvalidateIotlbPages, 1},
                             {Opcode::kCompletionWait, 1}}));
  DteWords w{};
  for (unsigned q = 0; q < 4; ++q) {
    w[q] = b.mem.read_u64(b.drv.device_table_base() + kDteBytes * kRid0 + 8 * q);
  }
  const Dte d = Dte::decode(w);
  EXPECT_TRUE(d.gv);
  EXPECT_TRUE(d.iotlb);
  EXPECT_TRUE(d.ppr);
  EXPECT_EQ(d.mode, 0u);
  EXPECT_EQ(d.gcr3_root, b.drv.gcr3_table_of(kRid0));
  EXPECT_EQ(d.domain_id, 1u);
  const Gcr3Entry g = Gcr3Entry::decode(b.mem.read_u64(b.drv.gcr3_table_of(kRid0) + 8 * pasid));
  EXPECT_TRUE(g.valid);
  EXPECT_EQ(g.root, mm->root());
  EXPECT_EQ(st, tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(read_back, 0xfeedu);
}

struct RangeRun {
  Cmds cmds;
  InvalidateRequest atc;
  size_t atc_requests = 0;
  bool full_flush = false;
};

std::vector<RangeRun> invalidate_ranges(AmdviSvaPolicy policy, const std::vector<uint64_t>& pages) {
  AmdviSvaBench b(test::amd_sva(policy));
  std::vector<RangeRun> out;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid0, true, true);
    Mm& mm = b.new_mm(1, kVa, 2048);
    b.drv.bind(mm, kRid0, 0);
    for (uint64_t n : pages) {
      RangeRun r;
      const uint64_t t0 = b.drv.command_tail();
      const size_t inv0 = b.dev0.invalidations.size();
      const uint64_t full0 = b.counter("sva.full_flushes");
      b.drv.invalidate(mm, kVa, kVa + n * kPage);
      r.cmds = b.commands(t0, b.drv.command_tail());
      r.atc_requests = b.dev0.invalidations.size() - inv0;
      if (r.atc_requests) r.atc = b.dev0.invalidations.back().req;
      r.full_flush = b.counter("sva.full_flushes") > full0;
      out.push_back(r);
    }
    EXPECT_EQ(b.rec.invals.size(), pages.size());
  });
  return out;
}

// Linux 6.10: one INVALIDATE_IOMMU_PAGES and one INVALIDATE_IOTLB_PAGES with the S-bit
// block of the range, one COMPLETION_WAIT, at every size.
TEST(AmdviSvaDriverInvalidate, AmdFlushesTheAlignedBlockWithOneWait) {
  const auto r = invalidate_ranges(AmdviSvaPolicy::kAmd, {1, 16, 512, 2048});
  const unsigned log2[] = {12, 16, 21, 23};
  for (size_t i = 0; i < r.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(r[i].cmds, (Cmds{{Opcode::kInvalidateIommuPages, 1},
                               {Opcode::kInvalidateIotlbPages, 1},
                               {Opcode::kCompletionWait, 1}}));
    EXPECT_FALSE(r[i].full_flush);
    ASSERT_EQ(r[i].atc_requests, 1u);
    EXPECT_EQ(r[i].atc.range.base, kVa);
    EXPECT_EQ(r[i].atc.range.log2_size, log2[i]);
    EXPECT_EQ(r[i].atc.pasid.pasid, 1u);
  }
}

// Linux 6.6 iommu_v2: one page, else the whole PASID; the IOMMU TLB and the device TLB
// each followed by a COMPLETION_WAIT (__flush_pasid).
TEST(AmdviSvaDriverInvalidate, AmdLegacyFlushesOnePageOrTheWholePasid) {
  const auto r = invalidate_ranges(AmdviSvaPolicy::kAmdLegacy, {1, 16, 512, 2048});
  for (size_t i = 0; i < r.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(r[i].cmds, (Cmds{{Opcode::kInvalidateIommuPages, 1},
                               {Opcode::kInvalidateIotlbPages, 1},
                               {Opcode::kCompletionWait, 2}}));
    ASSERT_EQ(r[i].atc_requests, 1u);
    EXPECT_EQ(r[i].full_flush, i > 0);
    if (i == 0) {
      EXPECT_EQ(r[i].atc.range, AtsRange::with_log2(kVa, 12));
    } else {
      EXPECT_TRUE(r[i].atc.range.is_whole_space());
    }
  }
}

TEST(AmdviSvaDriverUnbind, ClearsTheGcr3EntryAndALaterDmaFaults) {
  AmdviSvaBench b;
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
    const uint64_t t0 = b.drv.command_tail();
    b.dev0.invalidations.clear();
    b.drv.unbind(mm, kRid0, 0);
    cmds = b.commands(t0, b.drv.command_tail());
    after = b.dev0.dma(pasid, kVa, false, &v, 8);
    sc_core::wait(ns(1000));
  });
  EXPECT_EQ(before, tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(after, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(cmds, (Cmds{{Opcode::kInvalidateIommuPages, 1},
                        {Opcode::kInvalidateIotlbPages, 1},
                        {Opcode::kCompletionWait, 1}}));
  ASSERT_EQ(b.dev0.invalidations.size(), 1u);
  EXPECT_TRUE(b.dev0.invalidations[0].req.range.is_whole_space());
  EXPECT_EQ(b.mem.read_u64(b.drv.gcr3_table_of(kRid0) + 8 * pasid), 0u);
  EXPECT_EQ(b.iommu.iotlb().cache().size(), 0u);
  EXPECT_EQ(b.iommu.tables().gcr3_cache_size(), 0u);
  EXPECT_EQ(b.counter("iommu.faults_recorded"), 1u);  // IO_PAGE_FAULT, GCR3 not valid
}

// The device never answers: the IOMMU logs IOTLB_INV_TIMEOUT, the wait completes, and the
// driver goes on without a retry or a failed wait.
TEST(AmdviSvaDriverErrors, AnAtsTimeoutIsLoggedAndTheInvalidationCompletes) {
  IommuConfig ic;
  ic.command_queue.itag_timeout_ns = 5000;
  AmdviSvaBench b(SvaConfig{}, ic);
  sc_core::sc_time t0, t1;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid0, true, true);
    Mm& mm = b.new_mm(1, kVa, 1);
    b.drv.bind(mm, kRid0, 0);
    b.dev0.answer = false;
    t0 = sc_core::sc_time_stamp();
    b.drv.invalidate(mm, kVa, kVa + kPage);
    t1 = sc_core::sc_time_stamp();
  });
  EXPECT_EQ(b.drv.retries(), 0u);
  EXPECT_EQ(b.drv.failed_waits(), 0u);
  EXPECT_EQ(b.rec.invals.size(), 1u);
  EXPECT_EQ(b.iommu.command_queue().timeouts(), 1u);
  EXPECT_GT(to_ns(t1 - t0), 5000.0);
  EXPECT_LT(to_ns(t1 - t0), 7000.0);
  EXPECT_EQ(b.counter("iommu.faults_recorded"), 1u);
}

TEST(AmdviSvaDriverPpr, PageRequestsAreAnsweredWithCompletePprRequest) {
  AmdviSvaBench b;
  uint32_t pasid = 0;
  Cmds cmds;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid0, true, true);
    Mm& mm = b.new_mm(1, kVa, 4);
    pasid = b.drv.bind(mm, kRid0, 0);
    const uint64_t t0 = b.drv.command_tail();
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
    cmds = b.commands(t0, b.drv.command_tail());
    EXPECT_TRUE(b.drv.page_request_queue_empty());
  });
  ASSERT_EQ(b.dev0.responses.size(), 2u);
  EXPECT_EQ(b.dev0.responses[0].resp.prg_index, 5u);
  EXPECT_EQ(b.dev0.responses[0].resp.code, PrgResponseCode::kSuccess);
  EXPECT_EQ(b.dev0.responses[0].resp.pasid.pasid, pasid);
  EXPECT_EQ(b.dev0.responses[1].resp.prg_index, 6u);
  EXPECT_EQ(b.dev0.responses[1].resp.code, PrgResponseCode::kInvalidRequest);
  EXPECT_EQ(cmds[Opcode::kCompletePprRequest], 2u);
  EXPECT_EQ(b.iopf.page_requests(), 2u);
}

TEST(AmdviSvaDriverPolicy, OtherArchitecturesPoliciesAreRefused) {
  EXPECT_THROW(AmdviSvaDriver::policy_of(SvaPolicyName::kIntel), ParamError);
  EXPECT_EQ(AmdviSvaDriver::policy_of(SvaPolicyName::kAmdLegacy), AmdviSvaPolicy::kAmdLegacy);
}

}  // namespace
}  // namespace iosim
