// RiscvIommu: registers, DDT (1/2/3 levels) and PDT lookups and each table fault's
// cause, translation through a process context and IOTLB tagging by PSCID, each
// command's effect, IOFENCE.C ordering after ATS.INVAL, the ATS.INVAL time-out
// (cmd_to), illegal commands (cmd_ill), fault and page request queue overflow.
#include "iommu/riscv/riscv_iommu.h"

#include <gtest/gtest.h>

#include "riscv_bench.h"

namespace iosim {
namespace {

using sc_core::sc_time;
using namespace test::rv;

constexpr uint64_t kVa = 0x40000000;
constexpr uint64_t kPa = 0x300000;

uint16_t cause(Cause c) {
  return static_cast<uint16_t>(c);
}

// ---- Registers ----

TEST(RiscvIommuTest, CapabilitiesAndQueueRegisters) {
  RiscvBench b;
  uint64_t caps = 0, cqb = 0, ddtp = 0;
  uint32_t fctl = 0, csr_off = 0, csr_on = 0, cqt = 0, cqh = 0;
  uint64_t pair = 0;
  test::run_thread([&] {
    caps = b.read64(reg::kCapabilities);
    fctl = b.read32(reg::kFctl);
    b.write64(reg::kCqb, reg::queue_base(kCq, kCqLog2));
    cqb = b.read64(reg::kCqb);
    csr_off = b.read32(reg::kCqcsr);
    b.write32(reg::kCqcsr, reg::kQcsrEn | reg::kQcsrIe);
    csr_on = b.read32(reg::kCqcsr);
    b.write32(reg::kCqt, 0);
    cqt = b.read32(reg::kCqt);
    cqh = b.read32(reg::kCqh);
    pair = b.read64(reg::kCqh);  // cqh and cqt in one 8-byte read
    b.write64(reg::kDdtp, reg::kDdtpMode.put(3) | addr_to_ppn_field(kDdt));
    ddtp = b.read64(reg::kDdtp);
  });
  EXPECT_EQ(reg::kCapVersion.get(caps), 0x10u);
  EXPECT_TRUE(caps & reg::kCapSv48);
  EXPECT_FALSE(caps & reg::kCapSv39);
  EXPECT_FALSE(caps & reg::kCapSv57);
  EXPECT_TRUE(caps & reg::kCapAts);
  EXPECT_TRUE(caps & reg::kCapPd8);
  EXPECT_TRUE(caps & reg::kCapPd17);
  EXPECT_TRUE(caps & reg::kCapPd20);
  EXPECT_FALSE(caps & reg::kCapMsiFlat);
  EXPECT_EQ(reg::kCapIgs.get(caps), reg::kIgsWsi);
  EXPECT_EQ(caps, 0x1f8'1300'0410ull);  // the fields above, PAS = 56, AMO_HWAD
  EXPECT_EQ(fctl, reg::kFctlWsi);
  EXPECT_EQ(cqb, reg::queue_base(kCq, kCqLog2));
  EXPECT_EQ(reg::kQbLog2SzM1.get(cqb), kCqLog2 - 1);
  EXPECT_EQ(csr_off, 0u);
  EXPECT_EQ(csr_on, reg::kQcsrEn | reg::kQcsrIe | reg::kQcsrOn);
  EXPECT_EQ(cqt, 0u);
  EXPECT_EQ(cqh, 0u);
  EXPECT_EQ(pair, 0u);
  EXPECT_EQ(reg::kDdtpMode.get(ddtp), 3u);
  EXPECT_EQ(ppn_to_addr(ddtp), kDdt);
}

// ---- Directory tables and translation ----

struct LevelRun {
  tlm::tlm_response_status st = tlm::TLM_INCOMPLETE_RESPONSE;
  uint64_t value = 0;
  uint64_t reads = 0;
};

LevelRun dma_with_levels(IommuMode mode, uint16_t did) {
  RiscvBench b;
  b.mode = mode;
  const uint64_t root = b.editor.new_root();
  b.editor.map(root, kVa, kPa, PageSize::k4K, RiscvBench::kUserRw);
  b.memory.write_u64(kPa + 0x10, 0x5a5a);
  b.translate_device(did, 3, root);
  LevelRun r;
  test::run_thread([&] {
    b.init();
    r.st = b.dev0.dma(std::nullopt, kVa + 0x10, false, &r.value, 8, did);
  });
  r.reads = b.counter("iommu.table_reads");
  return r;
}

// One read per level: the non-leaf entries, then the device context.
void expect_levels(IommuMode mode, uint16_t did, uint64_t reads) {
  const LevelRun r = dma_with_levels(mode, did);
  EXPECT_EQ(r.st, tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(r.value, 0x5a5au);
  EXPECT_EQ(r.reads, reads);
}
TEST(RiscvIommuTest, OneLevelDeviceDirectory) {
  expect_levels(IommuMode::kLvl1, 0x0005, 1);
}
TEST(RiscvIommuTest, TwoLevelDeviceDirectory) {
  expect_levels(IommuMode::kLvl2, kRid0, 2);
}
TEST(RiscvIommuTest, ThreeLevelDeviceDirectory) {
  expect_levels(IommuMode::kLvl3, kRid0, 3);
}

TEST(RiscvIommuTest, TranslatesThroughTheProcessContextAndTagsThePscid) {
  RiscvBench b;
  const uint64_t root = b.editor.new_root();
  b.editor.map(root, kVa, kPa, PageSize::k4K, RiscvBench::kUserRw);
  b.memory.write_u64(kPa + 8, 0x1234);
  const uint64_t pdt = b.pasid_device(kRid0);
  b.bind(pdt, 7, 42, root);
  uint64_t v1 = 0, v2 = 0;
  uint64_t hits_first = 0, hits_second = 0;
  test::run_thread([&] {
    b.init();
    EXPECT_EQ(b.dev0.dma(7, kVa + 8, false, &v1, 8), tlm::TLM_OK_RESPONSE);
    hits_first = b.iommu.iotlb().hits();
    EXPECT_EQ(b.dev0.dma(7, kVa + 8, false, &v2, 8), tlm::TLM_OK_RESPONSE);
    hits_second = b.iommu.iotlb().hits();
  });
  EXPECT_EQ(v1, 0x1234u);
  EXPECT_EQ(v2, 0x1234u);
  EXPECT_EQ(hits_first, 0u);
  EXPECT_EQ(hits_second, 1u);
  EXPECT_NE(b.iommu.iotlb().cache().peek(TranslationTag{42, kRid0}, kVa), nullptr);
  EXPECT_EQ(b.iommu.tables().ddt_cache_size(), 1u);
  EXPECT_EQ(b.iommu.tables().pdt_cache_size(), 1u);
  EXPECT_EQ(b.counter("iommu.ddt_cache_hits"), 1u);
  EXPECT_EQ(b.counter("iommu.pdt_cache_hits"), 1u);
  EXPECT_EQ(b.counter("iommu.table_reads"), 4u);  // 2 non-leaf, DC, PC
}

// Each table fault records its cause (spec 3.2) with the request's DID, PID, TTYP.
TEST(RiscvIommuTest, TableFaultsRecordTheirCauses) {
  RiscvBench b;
  const uint64_t root = b.editor.new_root();
  b.editor.map(root, kVa, kPa, PageSize::k4K, Pte::kUser | Pte::kAccessed);  // read-only
  b.translate_device(kRid0, 1, root);                                        // PDTV = 0
  DeviceContext invalid;
  invalid.valid = false;
  b.write_dc(0x0101, invalid);
  DeviceContext pri_without_ats;
  pri_without_ats.en_pri = true;
  b.write_dc(0x0102, pri_without_ats);
  const uint64_t pdt = b.pasid_device(0x0103);
  b.bind(pdt, 1, 5, root);
  ProcessContext sv39;
  sv39.mode = IosatpMode::kSv39;
  sv39.root = root;
  b.write_pc(pdt, 2, sv39);
  std::vector<tlm::tlm_response_status> st;
  test::run_thread([&] {
    b.init();
    uint64_t v = 0;
    st.push_back(b.dev0.dma(std::nullopt, kVa, false, &v, 8, 0x0101));          // 258
    st.push_back(b.dev0.dma(std::nullopt, kVa, false, &v, 8, 0x0102));          // 259
    st.push_back(b.dev0.dma(4, kVa, false, &v, 8, kRid0));                      // 260: PDTV = 0
    st.push_back(b.dev0.dma(3, kVa, false, &v, 8, 0x0103));                     // 266
    st.push_back(b.dev0.dma(2, kVa, false, &v, 8, 0x0103));                     // 267
    st.push_back(b.dev0.dma(300, kVa, false, &v, 8, 0x0103));                   // 260: PD8
    st.push_back(b.dev0.dma(std::nullopt, kVa + 0x5000, false, &v, 8, kRid0));  // 13
    st.push_back(b.dev0.dma(std::nullopt, kVa, true, &v, 8, kRid0));            // 15
    st.push_back(b.dev0.dma(std::nullopt, kVa, false, &v, 8, 0x0900));          // 258: no L1
    sc_core::wait(ns(2000));
  });
  for (auto s : st) EXPECT_EQ(s, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  ASSERT_EQ(b.iommu.fault_queue().tail(), 9u);
  const Cause expect[] = {
      Cause::kDdtInvalid,    Cause::kDdtMisconfigured, Cause::kTransactionTypeDisallowed,
      Cause::kPdtInvalid,    Cause::kPdtMisconfigured, Cause::kTransactionTypeDisallowed,
      Cause::kReadPageFault, Cause::kWritePageFault,   Cause::kDdtInvalid};
  const uint32_t dids[] = {0x0101, 0x0102, kRid0, 0x0103, 0x0103, 0x0103, kRid0, kRid0, 0x0900};
  for (unsigned i = 0; i < 9; ++i) {
    const FaultRecord f = b.fault(i);
    EXPECT_EQ(f.cause, cause(expect[i])) << i;
    EXPECT_EQ(f.did, dids[i]) << i;
  }
  EXPECT_TRUE(b.fault(3).pv);
  EXPECT_EQ(b.fault(3).pid, 3u);
  EXPECT_EQ(b.fault(6).ttyp, Ttyp::kUntranslatedRead);
  EXPECT_EQ(b.fault(6).iotval, kVa + 0x5000);
  EXPECT_EQ(b.fault(7).ttyp, Ttyp::kUntranslatedWrite);
  EXPECT_EQ(b.counter("iommu.faults_recorded"), 9u);
  EXPECT_TRUE(b.iommu.ipsr() & reg::kIpsrFip);
}

TEST(RiscvIommuTest, IommuOffDisallowsEverythingAndOneLevelRejectsWideDeviceIds) {
  RiscvBench b;
  b.mode = IommuMode::kLvl1;
  std::vector<tlm::tlm_response_status> st;
  test::run_thread([&] {
    b.write64(reg::kFqb, reg::queue_base(kFq, 4));
    b.write32(reg::kFqcsr, reg::kQcsrEn);
    uint64_t v = 0;
    st.push_back(b.dev0.dma(std::nullopt, kVa, false, &v, 8));  // ddtp Off at reset: 256
    b.init();
    st.push_back(b.dev0.dma(std::nullopt, kVa, false, &v, 8));  // 0x0100: DDI[1] != 0
    sc_core::wait(ns(1000));
  });
  for (auto s : st) EXPECT_EQ(s, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(b.fault(0).cause, cause(Cause::kAllDisallowed));
  EXPECT_EQ(b.fault(1).cause, cause(Cause::kTransactionTypeDisallowed));
}

// DPE = 1: a request without PASID uses process 0; DPE = 0: its first stage is Bare.
TEST(RiscvIommuTest, RequestsWithoutPasidFollowDpe) {
  RiscvBench b;
  const uint64_t root = b.editor.new_root();
  b.editor.map(root, kVa, kPa, PageSize::k4K, RiscvBench::kUserRw);
  b.memory.write_u64(kPa, 0x77);
  b.memory.write_u64(kVa, 0x88);  // what Bare reads
  const uint64_t pdt_dpe = b.pasid_device(kRid0, true, true, true, /*dpe=*/true);
  b.bind(pdt_dpe, 0, 9, root);
  b.pasid_device(kRid1, true, true, true, /*dpe=*/false);
  uint64_t v0 = 0, v1 = 0;
  test::run_thread([&] {
    b.init();
    b.dev0.dma(std::nullopt, kVa, false, &v0, 8);
    b.dev1.dma(std::nullopt, kVa, false, &v1, 8);
  });
  EXPECT_EQ(v0, 0x77u);
  EXPECT_EQ(v1, 0x88u);
}

// ---- Commands ----

TEST(RiscvIommuTest, IotinvalVmaByPscidDropsEveryDevicesEntries) {
  RiscvBench b;
  const uint64_t root = b.editor.new_root();
  b.editor.map(root, kVa, kPa, PageSize::k4K, RiscvBench::kUserRw);
  b.translate_device(kRid0, 7, root);
  b.translate_device(kRid1, 7, root);
  b.translate_device(0x0101, 8, root);  // another PSCID: kept
  size_t before = 0;
  bool drained = false;
  test::run_thread([&] {
    b.init();
    uint64_t v = 0;
    b.dev0.dma(std::nullopt, kVa, false, &v, 8);
    b.dev1.dma(std::nullopt, kVa, false, &v, 8);
    b.dev0.dma(std::nullopt, kVa, false, &v, 8, 0x0101);
    before = b.iommu.iotlb().cache().size();
    IotinvalVma inv;
    inv.pscv = true;
    inv.pscid = 7;
    b.submit({inv, IofenceC{}});
    drained = b.drain();
  });
  EXPECT_TRUE(drained);
  EXPECT_EQ(before, 3u);
  EXPECT_EQ(b.iommu.iotlb().cache().size(), 1u);
  EXPECT_EQ(b.iommu.iotlb().cache().peek(TranslationTag{7, kRid0}, kVa), nullptr);
  EXPECT_EQ(b.iommu.iotlb().cache().peek(TranslationTag{7, kRid1}, kVa), nullptr);
  EXPECT_NE(b.iommu.iotlb().cache().peek(TranslationTag{8, 0x0101}, kVa), nullptr);
  EXPECT_EQ(b.counter("iommu.command_queue.iotinval_vma_count"), 1u);
  EXPECT_EQ(b.counter("iommu.command_queue.iofence_c_count"), 1u);
}

TEST(RiscvIommuTest, IotinvalVmaWithAddressDropsOnePage) {
  RiscvBench b;
  const uint64_t root = b.editor.new_root();
  for (uint64_t i = 0; i < 4; ++i) {
    b.editor.map(root, kVa + i * 0x1000, kPa + i * 0x1000, PageSize::k4K, RiscvBench::kUserRw);
  }
  b.translate_device(kRid0, 3, root);
  size_t filled = 0, after_page = 0, after_all = 0;
  test::run_thread([&] {
    b.init();
    uint64_t v = 0;
    for (uint64_t i = 0; i < 4; ++i) b.dev0.dma(std::nullopt, kVa + i * 0x1000, false, &v, 8);
    filled = b.iommu.iotlb().cache().size();
    IotinvalVma page;
    page.av = page.pscv = true;
    page.pscid = 3;
    page.addr = kVa + 0x1000;
    IotinvalVma other_pscid = page;
    other_pscid.pscid = 4;
    other_pscid.addr = kVa;
    b.submit({page, other_pscid, IofenceC{}});
    b.drain();
    after_page = b.iommu.iotlb().cache().size();
    b.submit({IotinvalVma{}, IofenceC{}});  // AV = PSCV = 0: everything
    b.drain();
    after_all = b.iommu.iotlb().cache().size();
  });
  EXPECT_EQ(filled, 4u);
  EXPECT_EQ(after_page, 3u);
  EXPECT_EQ(b.iommu.iotlb().cache().peek(TranslationTag{3, kRid0}, kVa + 0x1000), nullptr);
  EXPECT_EQ(after_all, 0u);
}

TEST(RiscvIommuTest, IodirInvalidationsDropCachedContexts) {
  RiscvBench b;
  const uint64_t root = b.editor.new_root();
  b.editor.map(root, kVa, kPa, PageSize::k4K, RiscvBench::kUserRw);
  const uint64_t pdt = b.pasid_device(kRid0);
  b.bind(pdt, 1, 11, root);
  b.translate_device(kRid1, 12, root);
  std::vector<tlm::tlm_response_status> st;
  test::run_thread([&] {
    b.init();
    uint64_t v = 0;
    st.push_back(b.dev0.dma(1, kVa, false, &v, 8));
    st.push_back(b.dev1.dma(std::nullopt, kVa, false, &v, 8));
    // Software makes the process context and the other device context invalid: the
    // caches (and the IOTLB) still hold them.
    ProcessContext gone;
    gone.valid = false;
    b.write_pc(pdt, 1, gone);
    DeviceContext dc_gone;
    dc_gone.valid = false;
    b.write_dc(kRid1, dc_gone);
    st.push_back(b.dev0.dma(1, kVa + 8, false, &v, 8));
    st.push_back(b.dev1.dma(std::nullopt, kVa + 8, false, &v, 8));
    IotinvalVma all;
    b.submit({IodirInvalPdt{kRid0, 1}, IodirInvalDdt{true, kRid1}, all, IofenceC{}});
    b.drain();
    st.push_back(b.dev0.dma(1, kVa + 16, false, &v, 8));
    st.push_back(b.dev1.dma(std::nullopt, kVa + 16, false, &v, 8));
    sc_core::wait(ns(1000));
  });
  ASSERT_EQ(st.size(), 6u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(st[i], tlm::TLM_OK_RESPONSE) << i;
  EXPECT_EQ(st[4], tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(st[5], tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(b.fault(0).cause, cause(Cause::kPdtInvalid));
  EXPECT_EQ(b.fault(1).cause, cause(Cause::kDdtInvalid));
  EXPECT_EQ(b.iommu.tables().pdt_cache_size(), 0u);
}

TEST(RiscvIommuTest, AtsInvalAndAtsPrgrReachTheDevice) {
  RiscvBench b;
  test::run_thread([&] {
    b.init();
    AtsInval inv;
    inv.target.rid = kRid1;
    inv.target.pv = true;
    inv.target.pid = 5;
    const SBitAddress a = encode_s_range(AtsRange::with_log2(0x40004000, 14));
    inv.payload = AtsInvalPayload{a.address, a.s, true};
    AtsInval all;
    all.target.rid = kRid0;
    all.payload = AtsInvalPayload{0x7fff'ffff'ffff'f000ull, true, false};
    AtsPrgr resp;
    resp.target.rid = kRid0;
    resp.target.pv = true;
    resp.target.pid = 3;
    resp.payload = PrgrPayload{9, static_cast<uint8_t>(PrgResponseCode::kInvalidRequest), kRid0};
    b.submit({inv, all, resp, IofenceC{}});
    b.drain();
  });
  ASSERT_EQ(b.dev1.invalidations.size(), 1u);
  const InvalidateRequest& r = b.dev1.invalidations[0].req;
  EXPECT_EQ(r.destination_id, kRid1);
  EXPECT_TRUE(r.pasid.present);
  EXPECT_EQ(r.pasid.pasid, 5u);
  EXPECT_EQ(r.range.base, 0x40004000u);
  EXPECT_EQ(r.range.log2_size, 14u);
  EXPECT_TRUE(r.global_invalidate);
  ASSERT_EQ(b.dev0.invalidations.size(), 1u);
  EXPECT_FALSE(b.dev0.invalidations[0].req.pasid.present);
  EXPECT_TRUE(b.dev0.invalidations[0].req.range.is_whole_space());
  ASSERT_EQ(b.dev0.responses.size(), 1u);
  EXPECT_EQ(b.dev0.responses[0].resp.prg_index, 9u);
  EXPECT_EQ(b.dev0.responses[0].resp.code, PrgResponseCode::kInvalidRequest);
  EXPECT_EQ(b.dev0.responses[0].resp.pasid.pasid, 3u);
  EXPECT_EQ(b.counter("iommu.command_queue.ats_inval_count"), 2u);
  EXPECT_EQ(b.counter("iommu.command_queue.ats_prgr_count"), 1u);
}

// IOFENCE.C completes only after the earlier ATS.INVAL's Invalidate Completion
// arrived: its memory write reaches memory no earlier than the device sent the
// completion, 3 us after the request (a fence that ignored the ATS.INVAL would write
// ~100 ns after it).
TEST(RiscvIommuTest, IofenceWaitsForEarlierAtsInvalidations) {
  RiscvBench b;
  b.dev0.answer_delay = ns(3000);
  sc_time irq_at;
  test::run_threads({[&] {
                       b.init();
                       AtsInval inv;
                       inv.target.rid = kRid0;
                       inv.payload = AtsInvalPayload{kVa, false, false};
                       b.submit({inv, RiscvBench::fence_write()});
                       b.drain();
                     },
                     [&] {
                       sc_core::wait(b.iommu.completion_event());
                       irq_at = sc_core::sc_time_stamp();
                     }});
  ASSERT_EQ(b.dev0.invalidations.size(), 1u);
  ASSERT_EQ(b.dev0.completions_sent.size(), 1u);
  const MemorySpy::Write* w = b.spy.first_write(kFenceAddr);
  ASSERT_NE(w, nullptr);
  ASSERT_EQ(w->data.size(), 4u);
  EXPECT_EQ(b.memory.read_u64(kFenceAddr) & 0xffffffff, 0xC0FFEEu);
  EXPECT_GE(w->time, b.dev0.completions_sent[0]);
  EXPECT_GE(w->time, b.dev0.invalidations[0].at + ns(3000));
  EXPECT_GE(irq_at, w->time);
  EXPECT_TRUE(b.iommu.command_queue().csr() & reg::kCqcsrFenceWIp);
  EXPECT_TRUE(b.iommu.ipsr() & reg::kIpsrCip);
  EXPECT_EQ(b.counter("iommu.command_queue.failed_waits"), 0u);
}

// An ATS.INVAL that times out stops the queue at the IOFENCE.C with cmd_to; once
// software clears cmd_to the fence runs again and writes its data.
TEST(RiscvIommuTest, AtsInvalTimeoutSetsCmdToUntilSoftwareClearsIt) {
  IommuConfig cfg;
  cfg.command_queue.itag_timeout_ns = 5000;
  RiscvBench b(cfg);
  b.dev0.answer = false;
  uint32_t csr_stopped = 0, cqh_stopped = 0;
  bool fault_irq = false, write_before_ack = true, drained = false;
  sc_time ack_at;
  test::run_threads({[&] {
                       b.init();
                       AtsInval inv;
                       inv.target.rid = kRid0;
                       inv.payload = AtsInvalPayload{kVa, false, false};
                       b.submit({inv, RiscvBench::fence_write()});
                       sc_core::wait(ns(20000));
                       csr_stopped = b.read32(reg::kCqcsr);
                       cqh_stopped = b.read32(reg::kCqh);
                       write_before_ack = b.spy.first_write(kFenceAddr) != nullptr;
                       ack_at = sc_core::sc_time_stamp();
                       b.write32(reg::kCqcsr, reg::kQcsrEn | reg::kQcsrIe | reg::kCqcsrCmdTo);
                       drained = b.drain();
                     },
                     [&] {
                       sc_core::wait(b.iommu.fault_event());
                       fault_irq = true;
                     }});
  EXPECT_EQ(cqh_stopped, 1u);  // at the fence
  EXPECT_TRUE(csr_stopped & reg::kCqcsrCmdTo);
  EXPECT_TRUE(csr_stopped & reg::kQcsrOn);
  EXPECT_TRUE(fault_irq);
  EXPECT_FALSE(write_before_ack);
  EXPECT_TRUE(drained);
  const MemorySpy::Write* w = b.spy.first_write(kFenceAddr);
  ASSERT_NE(w, nullptr);
  EXPECT_GT(w->time, ack_at);
  EXPECT_FALSE(b.iommu.command_queue().csr() & reg::kCqcsrCmdTo);
  EXPECT_EQ(b.counter("iommu.command_queue.failed_waits"), 1u);
  EXPECT_EQ(b.counter("iommu.command_queue.itag_timeouts"), 1u);
  EXPECT_EQ(b.counter("iommu.command_queue.iofence_c_count"), 1u);
}

TEST(RiscvIommuTest, IllegalCommandSetsCmdIllAndStopsAtIt) {
  RiscvBench b;
  uint32_t csr_stopped = 0, cqh_stopped = 0;
  bool drained = false;
  test::run_thread([&] {
    b.init();
    b.put_command(encode_command(IotinvalVma{}));
    b.put_command(CmdWords{0x7f, 0});  // reserved opcode
    b.put_command(encode_command(RiscvBench::fence_write()));
    b.ring();
    sc_core::wait(ns(5000));
    csr_stopped = b.read32(reg::kCqcsr);
    cqh_stopped = b.read32(reg::kCqh);
    b.write_words(kCq + kCmdBytes * 1, encode_command(IofenceC{}));  // software's fix
    b.write32(reg::kCqcsr, reg::kQcsrEn | reg::kQcsrIe | reg::kCqcsrCmdIll);
    drained = b.drain();
  });
  EXPECT_EQ(cqh_stopped, 1u);
  EXPECT_TRUE(csr_stopped & reg::kCqcsrCmdIll);
  EXPECT_TRUE(drained);
  EXPECT_NE(b.spy.first_write(kFenceAddr), nullptr);
  EXPECT_EQ(b.counter("iommu.command_queue.bad_commands"), 1u);
  EXPECT_EQ(b.counter("iommu.command_queue.iofence_c_count"), 2u);
}

// ---- Fault and page request queues ----

TEST(RiscvIommuTest, FaultQueueOverflowSetsFqofAndLosesRecordsUntilCleared) {
  RiscvBench b;
  const uint64_t root = b.editor.new_root();
  b.translate_device(kRid0, 1, root);  // nothing mapped: every DMA faults
  uint32_t csr_full = 0, tail_full = 0, tail_after = 0;
  uint64_t lost_while_set = 0;
  test::run_thread([&] {
    b.init(/*fq_log2=*/2);  // 4 slots, 3 usable
    uint64_t v = 0;
    for (int i = 0; i < 5; ++i) b.dev0.dma(std::nullopt, kVa + 0x1000 * i, false, &v, 8);
    sc_core::wait(ns(1000));
    csr_full = b.read32(reg::kFqcsr);
    tail_full = b.read32(reg::kFqt);
    b.write32(reg::kFqh, tail_full);                       // software consumes every record ...
    b.dev0.dma(std::nullopt, kVa + 0x8000, false, &v, 8);  // ... but fqof is still set
    sc_core::wait(ns(1000));
    lost_while_set = b.iommu.fault_queue().lost();
    b.write32(reg::kFqcsr, reg::kQcsrEn | reg::kQcsrIe | reg::kQcsrOf);  // clear fqof
    b.dev0.dma(std::nullopt, kVa + 0x9000, false, &v, 8);
    sc_core::wait(ns(1000));
    tail_after = b.read32(reg::kFqt);
  });
  EXPECT_TRUE(csr_full & reg::kQcsrOf);
  EXPECT_EQ(tail_full, 3u);
  EXPECT_EQ(lost_while_set, 3u);
  EXPECT_EQ(b.counter("iommu.faults_recorded"), 4u);
  EXPECT_EQ(tail_after, 0u);  // wrapped
  EXPECT_EQ(b.fault(3).iotval, kVa + 0x9000);
}

TEST(RiscvIommuTest, PageRequestQueueOverflowAnswersLostLastRequestsWithSuccess) {
  RiscvBench b;
  b.pasid_device(kRid0, true, true, /*prpr=*/true);
  uint32_t csr = 0;
  bool irq = false;
  test::run_threads({[&] {
                       b.init(4, /*pq_log2=*/2);  // 3 usable slots
                       for (uint16_t g = 0; g < 5; ++g) {
                         PageRequest r;
                         r.page_address = kVa + 0x1000 * g;
                         r.read = true;
                         r.last = true;
                         r.prg_index = static_cast<uint16_t>(10 + g);
                         r.pasid = PasidPrefix::with(4);
                         b.dev0.message(r);
                       }
                       StopMarker m;  // lost too, never answered
                       m.pasid = PasidPrefix::with(4);
                       b.dev0.message(m);
                       sc_core::wait(ns(2000));
                       csr = b.read32(reg::kPqcsr);
                     },
                     [&] {
                       sc_core::wait(b.iommu.page_request_event());
                       irq = true;
                     }});
  EXPECT_TRUE(irq);
  EXPECT_TRUE(csr & reg::kQcsrOf);
  EXPECT_EQ(b.counter("iommu.page_request_queue.written"), 3u);
  EXPECT_EQ(b.counter("iommu.page_request_queue.lost"), 3u);
  const PageRequestRecord e0 = b.page_request(0);
  EXPECT_EQ(e0.did, kRid0);
  EXPECT_TRUE(e0.pv);
  EXPECT_EQ(e0.pid, 4u);
  EXPECT_EQ(e0.prgi, 10u);
  EXPECT_TRUE(e0.last);
  EXPECT_TRUE(e0.read);
  EXPECT_EQ(e0.addr, kVa);
  ASSERT_EQ(b.dev0.responses.size(), 2u);
  EXPECT_EQ(b.dev0.responses[0].resp.prg_index, 13u);
  EXPECT_EQ(b.dev0.responses[1].resp.prg_index, 14u);
  EXPECT_EQ(b.dev0.responses[0].resp.code, PrgResponseCode::kSuccess);
  EXPECT_TRUE(b.dev0.responses[0].resp.pasid.present);  // PRPR = 1
  EXPECT_EQ(b.counter("iommu.pri_auto_responses"), 2u);
}

TEST(RiscvIommuTest, PageRequestFromDeviceWithoutPriIsInvalidRequest) {
  RiscvBench b;
  b.pasid_device(kRid0, true, /*pri=*/false);
  test::run_thread([&] {
    b.init();
    PageRequest r;
    r.page_address = kVa;
    r.write = true;
    r.last = true;
    r.prg_index = 3;
    r.pasid = PasidPrefix::with(2);
    b.dev0.message(r);
    sc_core::wait(ns(2000));
  });
  ASSERT_EQ(b.dev0.responses.size(), 1u);
  EXPECT_EQ(b.dev0.responses[0].resp.code, PrgResponseCode::kInvalidRequest);
  EXPECT_FALSE(b.dev0.responses[0].resp.pasid.present);  // PRPR = 0
  EXPECT_EQ(b.counter("iommu.page_request_queue.written"), 0u);
  const FaultRecord f = b.fault(0);
  EXPECT_EQ(f.cause, cause(Cause::kTransactionTypeDisallowed));
  EXPECT_EQ(f.ttyp, Ttyp::kPcieMessage);
  EXPECT_EQ(f.pid, 2u);
}

}  // namespace
}  // namespace iosim
