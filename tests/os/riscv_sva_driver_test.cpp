// RiscvSvaDriver with the real RiscvIommu and stub ATS devices: init's registers and
// DDT, attach and bind (device and process contexts) and DMA through them, the
// commands of 1-, 16-, 512- and 2,048-page invalidations and the ATS.INVAL span the
// device receives, unbind and mm release (and the faults a later DMA records), an
// ATS.INVAL time-out recovered by clearing cmd_to, a cmd_ill skipped, page requests
// answered with ATS.PRGR.
#include <gtest/gtest.h>

#include "riscv_sva_bench.h"

namespace iosim {
namespace {

using namespace riscv;
using sc_core::sc_time;
using test::RiscvSvaBench;
using test::run_thread;
using test::smmu::kRid0;
using test::smmu::kRid1;
using Cmds = std::map<std::string, unsigned>;

constexpr uint64_t kVa = uint64_t{1} << 32;
constexpr uint64_t kPage = 4096;

TEST(RiscvSvaDriverInit, EnablesTheQueuesAndAThreeLevelDdt) {
  RiscvSvaBench b;
  uint32_t cqcsr = 0, fqcsr = 0, pqcsr = 0, fctl = 0;
  uint64_t cqb = 0, ddtp = 0;
  run_thread([&] {
    b.drv.init();
    cqcsr = b.drv.read_reg32(reg::kCqcsr);
    fqcsr = b.drv.read_reg32(reg::kFqcsr);
    pqcsr = b.drv.read_reg32(reg::kPqcsr);
    fctl = b.drv.read_reg32(reg::kFctl);
    cqb = b.drv.read_reg(reg::kCqb);
    ddtp = b.drv.read_reg(reg::kDdtp);
  });
  for (uint32_t csr : {cqcsr, fqcsr, pqcsr}) {
    EXPECT_EQ(csr & (reg::kQcsrEn | reg::kQcsrIe | reg::kQcsrOn),
              reg::kQcsrEn | reg::kQcsrIe | reg::kQcsrOn);
  }
  EXPECT_EQ(fctl, reg::kFctlWsi);
  EXPECT_EQ(reg::kQbLog2SzM1.get(cqb), 12u);  // 8192 commands
  EXPECT_EQ(ppn_to_addr(cqb), b.drv.command_queue_base());
  EXPECT_EQ(reg::kDdtpMode.get(ddtp), static_cast<uint64_t>(IommuMode::kLvl3));
  EXPECT_EQ(b.drv.ddt_mode(), IommuMode::kLvl3);
  // IODIR.INVAL_DDT, IOTINVAL.VMA, IOFENCE.C.
  EXPECT_EQ(b.counter("iommu.command_queue.iodir_inval_ddt_count"), 1u);
  EXPECT_EQ(b.counter("iommu.command_queue.iotinval_vma_count"), 1u);
  EXPECT_EQ(b.counter("iommu.command_queue.iofence_c_count"), 1u);
  EXPECT_EQ(b.counter("sva.descriptors"), 3u);
  EXPECT_EQ(b.counter("sva.batches"), 1u);
}

TEST(RiscvSvaDriverBind, WritesTheContextsAndDmaTranslatesThroughTheMm) {
  RiscvSvaBench b;
  uint32_t pasid = 0;
  uint64_t read_back = 0;
  tlm::tlm_response_status st = tlm::TLM_INCOMPLETE_RESPONSE, no_pasid = tlm::TLM_OK_RESPONSE;
  Mm* mm = nullptr;
  Cmds attach_cmds, bind_cmds;
  run_thread([&] {
    b.drv.init();
    uint32_t t0 = b.drv.command_queue_tail();
    b.drv.attach_device(kRid0, true, true);
    attach_cmds = b.commands(t0, b.drv.command_queue_tail());
    mm = &b.new_mm(1, kVa, 4);
    t0 = b.drv.command_queue_tail();
    pasid = b.drv.bind(*mm, kRid0, 0);
    bind_cmds = b.commands(t0, b.drv.command_queue_tail());
    ASSERT_EQ(b.os.handle_fault(*mm, 0, kVa + kPage, true), FaultResult::kAnonymous);
    b.mem.write_u64(b.frame_of(*mm, kVa + kPage) + 8, 0xfeed);
    st = b.dev0.dma(pasid, kVa + kPage + 8, false, &read_back, 8);
    uint64_t v = 0;
    no_pasid = b.dev0.dma(std::nullopt, kVa + kPage, false, &v, 8);  // DPE: process 0
    sc_core::wait(ns(1000));
  });
  EXPECT_EQ(pasid, 1u);
  EXPECT_EQ(attach_cmds, (Cmds{{"iodir_inval_ddt", 1}, {"iofence_c", 1}}));
  EXPECT_EQ(bind_cmds, (Cmds{{"iodir_inval_pdt", 1}, {"iofence_c", 1}}));
  DcWords dw{};
  b.mem.read(b.drv.dc_address(kRid0), dw.data(), kDcBaseBytes);
  const DeviceContext dc = DeviceContext::decode(dw);
  EXPECT_TRUE(dc.pdtv);
  EXPECT_TRUE(dc.dpe);
  EXPECT_TRUE(dc.en_ats);
  EXPECT_TRUE(dc.en_pri);
  EXPECT_EQ(dc.fsc_mode, static_cast<uint8_t>(PdtpMode::kPd8));
  const uint64_t pa = b.drv.pc_address(kRid0, pasid);
  const ProcessContext pc = ProcessContext::decode({b.mem.read_u64(pa), b.mem.read_u64(pa + 8)});
  EXPECT_EQ(pc.root, mm->root());
  EXPECT_EQ(pc.pscid, 1u);
  EXPECT_EQ(pc.mode, IosatpMode::kSv48);
  EXPECT_EQ(st, tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(read_back, 0xfeedu);
  EXPECT_EQ(no_pasid, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  const auto f = b.faults();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].cause, static_cast<uint16_t>(Cause::kPdtInvalid));
}

// --- invalidation: commands per range size ---

struct RangeRun {
  Cmds cmds;
  InvalidateRequest atc;
  size_t atc_requests = 0;
  bool full_flush = false;
  uint64_t descriptors = 0, batches = 0;
};

std::vector<RangeRun> invalidate_ranges(const std::vector<uint64_t>& page_counts) {
  RiscvSvaBench b;
  std::vector<RangeRun> out;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid0, true, true);
    Mm& mm = b.new_mm(1, kVa, 2048);
    b.drv.bind(mm, kRid0, 0);
    for (uint64_t n : page_counts) {
      RangeRun r;
      const uint32_t t0 = b.drv.command_queue_tail();
      const size_t inv0 = b.dev0.invalidations.size();
      const uint64_t full0 = b.counter("sva.full_flushes");
      const uint64_t d0 = b.counter("sva.descriptors"), b0 = b.counter("sva.batches");
      b.drv.invalidate(mm, kVa, kVa + n * kPage);
      r.cmds = b.commands(t0, b.drv.command_queue_tail());
      r.atc_requests = b.dev0.invalidations.size() - inv0;
      if (r.atc_requests) r.atc = b.dev0.invalidations.back().req;
      r.full_flush = b.counter("sva.full_flushes") > full0;
      r.descriptors = b.counter("sva.descriptors") - d0;
      r.batches = b.counter("sva.batches") - b0;
      out.push_back(r);
    }
  });
  return out;
}

// riscv_iommu_iotlb_inval: per page below 2 MiB, the PSCID from 2 MiB (512 pages) on;
// then one ATS.INVAL of the covering span; two fences.
TEST(RiscvSvaDriverInvalidate, PerPageBelowTwoMegabytesThenByPscid) {
  const auto r = invalidate_ranges({1, 16, 512, 2048});
  EXPECT_EQ(r[0].cmds, (Cmds{{"iotinval_vma", 1}, {"ats_inval", 1}, {"iofence_c", 2}}));
  EXPECT_EQ(r[1].cmds, (Cmds{{"iotinval_vma", 16}, {"ats_inval", 1}, {"iofence_c", 2}}));
  EXPECT_EQ(r[2].cmds, (Cmds{{"iotinval_vma", 1}, {"ats_inval", 1}, {"iofence_c", 2}}));
  EXPECT_EQ(r[3].cmds, (Cmds{{"iotinval_vma", 1}, {"ats_inval", 1}, {"iofence_c", 2}}));
  EXPECT_EQ(r[0].descriptors, 4u);
  EXPECT_EQ(r[1].descriptors, 19u);
  EXPECT_EQ(r[2].descriptors, 4u);
  for (const RangeRun& x : r) EXPECT_EQ(x.batches, 2u);
  EXPECT_FALSE(r[0].full_flush);
  EXPECT_FALSE(r[1].full_flush);
  EXPECT_TRUE(r[2].full_flush);
  EXPECT_TRUE(r[3].full_flush);
  for (size_t i = 0; i < 4; ++i) ASSERT_EQ(r[i].atc_requests, 1u) << i;
  EXPECT_EQ(r[0].atc.range.log2_size, 12u);
  EXPECT_EQ(r[0].atc.range.base, kVa);
  EXPECT_EQ(r[1].atc.range.log2_size, 16u);
  EXPECT_TRUE(r[2].atc.range.is_whole_space());
  EXPECT_TRUE(r[3].atc.range.is_whole_space());
  EXPECT_EQ(r[0].atc.pasid.pasid, 1u);
}

// The per-page commands carry the PSCID and each page's address.
TEST(RiscvSvaDriverInvalidate, PerPageCommandsNameThePscidAndEachPage) {
  RiscvSvaBench b;
  std::vector<Command> cmds;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid0, false, false);
    Mm& mm = b.new_mm(1, kVa, 4);
    b.drv.bind(mm, kRid0, 0);
    const uint32_t t0 = b.drv.command_queue_tail();
    b.drv.invalidate(mm, kVa + 0x800, kVa + 2 * kPage + 1);  // touches 3 pages
    for (uint32_t p = t0; p != b.drv.command_queue_tail(); p = queue_next(p, 13)) {
      cmds.push_back(b.command_at(p));
    }
  });
  ASSERT_EQ(cmds.size(), 4u);  // no ATS device: no ATS.INVAL, one fence
  for (unsigned i = 0; i < 3; ++i) {
    const auto& c = std::get<IotinvalVma>(cmds[i]);
    EXPECT_TRUE(c.av && c.pscv);
    EXPECT_EQ(c.pscid, 1u);
    EXPECT_EQ(c.addr, kVa + i * kPage);
  }
  EXPECT_TRUE(std::holds_alternative<IofenceC>(cmds[3]));
}

TEST(RiscvSvaDriverFlush, PasidAndGlobalFlushes) {
  RiscvSvaBench b;
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
    uint32_t t0 = b.drv.command_queue_tail();
    EXPECT_TRUE(b.drv.flush_pasid(mm));
    pasid_cmds = b.commands(t0, b.drv.command_queue_tail());
    t0 = b.drv.command_queue_tail();
    b.drv.flush_all();
    all_cmds = b.commands(t0, b.drv.command_queue_tail());
  });
  EXPECT_EQ(pasid_cmds, (Cmds{{"iotinval_vma", 1}, {"ats_inval", 2}, {"iofence_c", 2}}));
  EXPECT_EQ(
      all_cmds,
      (Cmds{{"iodir_inval_ddt", 1}, {"iotinval_vma", 1}, {"ats_inval", 3}, {"iofence_c", 2}}));
}

// --- unbind and release ---

TEST(RiscvSvaDriverUnbind, ClearsTheProcessContextAndALaterDmaFaults) {
  RiscvSvaBench b;
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
    const uint32_t t0 = b.drv.command_queue_tail();
    b.dev0.invalidations.clear();
    b.drv.unbind(mm, kRid0, 0);
    cmds = b.commands(t0, b.drv.command_queue_tail());
    after = b.dev0.dma(pasid, kVa, false, &v, 8);
    sc_core::wait(ns(1000));
  });
  EXPECT_EQ(before, tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(after, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(
      cmds,
      (Cmds{{"iodir_inval_pdt", 1}, {"iotinval_vma", 1}, {"ats_inval", 1}, {"iofence_c", 2}}));
  ASSERT_EQ(b.dev0.invalidations.size(), 1u);
  EXPECT_EQ(b.dev0.invalidations[0].req.pasid.pasid, pasid);
  EXPECT_TRUE(b.dev0.invalidations[0].req.range.is_whole_space());
  EXPECT_FALSE(b.drv.pscid_of(pasid).has_value());
  EXPECT_EQ(b.iommu.iotlb().cache().size(), 0u);
  const auto f = b.faults();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].cause, static_cast<uint16_t>(Cause::kPdtInvalid));
  EXPECT_EQ(f[0].did, kRid0);
  EXPECT_EQ(f[0].pid, pasid);
}

TEST(RiscvSvaDriverUnbind, ExitPointsTheContextAtAnEmptyRootAndDmaPageFaults) {
  RiscvSvaBench b;
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
    sc_core::wait(ns(1000));
  });
  EXPECT_NE(st, tlm::TLM_OK_RESPONSE);
  const auto f = b.faults();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].cause, static_cast<uint16_t>(Cause::kReadPageFault));
}

// --- command queue errors ---

struct TimeoutRun {
  uint64_t retries = 0, failed_waits = 0, cq_timeouts = 0, cq_failed_waits = 0;
  size_t done = 0;
  double latency_ns = 0;
};

TimeoutRun invalidate_with_late_device(double answer_ns) {
  IommuConfig ic;
  ic.command_queue.itag_timeout_ns = 5000;
  RiscvSvaBench b(ic);
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

// cmd_to stops the queue at the IOFENCE.C; the driver clears it and the fence runs again.
TEST(RiscvSvaDriverErrors, AtsTimeoutIsRecoveredByClearingCmdTo) {
  const TimeoutRun r = invalidate_with_late_device(0);
  EXPECT_EQ(r.retries, 1u);
  EXPECT_EQ(r.failed_waits, 0u);
  EXPECT_EQ(r.cq_timeouts, 1u);
  EXPECT_EQ(r.cq_failed_waits, 1u);
  EXPECT_EQ(r.done, 1u);
  EXPECT_GT(r.latency_ns, 5000.0);
  EXPECT_LT(r.latency_ns, 8000.0);
}

TEST(RiscvSvaDriverErrors, AnAnswerBeforeTheTimeoutNeedsNoRetry) {
  const TimeoutRun r = invalidate_with_late_device(1000.0);
  EXPECT_EQ(r.retries, 0u);
  EXPECT_EQ(r.cq_timeouts, 0u);
  EXPECT_EQ(r.done, 1u);
  EXPECT_GT(r.latency_ns, 1000.0);
  EXPECT_LT(r.latency_ns, 4000.0);
}

TEST(RiscvSvaDriverErrors, AnIllegalCommandIsReplacedByAFence) {
  RiscvSvaBench b;
  bool ok = false;
  uint32_t csr = 0;
  run_thread([&] {
    b.drv.init();
    ok = b.drv.submit_words({CmdWords{0x7f, 0}});  // reserved opcode: cmd_ill
    csr = b.drv.read_reg32(reg::kCqcsr);
  });
  EXPECT_TRUE(ok);
  EXPECT_EQ(b.drv.skipped_commands(), 1u);
  EXPECT_EQ(b.drv.retries(), 0u);
  EXPECT_EQ(b.drv.failed_waits(), 0u);
  EXPECT_EQ(csr & reg::kCqcsrErrors, 0u);
  EXPECT_EQ(b.counter("iommu.command_queue.bad_commands"), 1u);
  // init's fence, the replacement and ours.
  EXPECT_EQ(b.counter("iommu.command_queue.iofence_c_count"), 3u);
}

// --- page requests ---

TEST(RiscvSvaDriverPri, PageRequestsAreAnsweredWithAtsPrgr) {
  RiscvSvaBench b;
  uint32_t pasid = 0;
  Cmds cmds;
  run_thread([&] {
    b.drv.init();
    b.drv.attach_device(kRid0, true, true);
    Mm& mm = b.new_mm(1, kVa, 4);
    pasid = b.drv.bind(mm, kRid0, 0);
    const uint32_t t0 = b.drv.command_queue_tail();
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
    cmds = b.commands(t0, b.drv.command_queue_tail());
    EXPECT_TRUE(b.drv.page_request_queue_empty());
  });
  ASSERT_EQ(b.dev0.responses.size(), 2u);
  EXPECT_EQ(b.dev0.responses[0].resp.prg_index, 5u);
  EXPECT_EQ(b.dev0.responses[0].resp.code, PrgResponseCode::kSuccess);
  EXPECT_EQ(b.dev0.responses[0].resp.pasid.pasid, pasid);
  EXPECT_EQ(b.dev0.responses[0].resp.destination_id, kRid0);
  EXPECT_EQ(b.dev0.responses[1].resp.prg_index, 6u);
  EXPECT_EQ(b.dev0.responses[1].resp.code, PrgResponseCode::kInvalidRequest);
  EXPECT_EQ(cmds, (Cmds{{"ats_prgr", 2}}));
  EXPECT_EQ(b.iopf.page_requests(), 2u);
}

}  // namespace
}  // namespace iosim
