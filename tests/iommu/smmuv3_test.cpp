// Smmuv3: stream table and CD resolution, events, translation and the IOTLB, the
// command queue's commands, CMD_SYNC ordering and errors, the event and PRI queues.
#include "iommu/smmuv3/smmuv3.h"

#include <gtest/gtest.h>

#include "smmuv3_bench.h"

namespace iosim {
namespace {

using sc_core::sc_time;
using namespace test::smmu;

constexpr uint64_t kVa = 0x40000000;
constexpr uint64_t kPa = 0x300000;

// ---- Registers ----

TEST(Smmuv3Test, IdRegistersAndCr0Ack) {
  IommuConfig cfg = smmu_config();
  cfg.smmuv3.range_invalidation = false;
  Smmuv3Bench b(cfg);
  test::run_thread([&] {
    const uint32_t idr0 = b.read32(reg::kIdr0);
    EXPECT_TRUE(idr0 & reg::kIdr0S1p);
    EXPECT_FALSE(idr0 & reg::kIdr0S2p);
    EXPECT_EQ(reg::kIdr0Ttf.get(idr0), reg::kIdr0TtfAarch64);
    EXPECT_TRUE(idr0 & reg::kIdr0Ats);
    EXPECT_TRUE(idr0 & reg::kIdr0Pri);
    EXPECT_TRUE(idr0 & reg::kIdr0Msi);
    EXPECT_TRUE(idr0 & reg::kIdr0Sev);
    EXPECT_TRUE(idr0 & reg::kIdr0Asid16);
    EXPECT_TRUE(idr0 & reg::kIdr0Cohacc);
    EXPECT_EQ(reg::kIdr0StLevel.get(idr0), reg::kIdr0StLevel2);
    const uint32_t idr1 = b.read32(reg::kIdr1);
    EXPECT_EQ(reg::kIdr1SidSize.get(idr1), 16u);
    EXPECT_EQ(reg::kIdr1SsidSize.get(idr1), 20u);
    EXPECT_EQ(reg::kIdr1CmdqS.get(idr1), 19u);
    EXPECT_EQ(b.read32(reg::kIdr3) & reg::kIdr3Ril, 0u);  // from the configuration
    const uint32_t idr5 = b.read32(reg::kIdr5);
    EXPECT_EQ(reg::kIdr5Oas.get(idr5), reg::kIdr5Oas48);
    EXPECT_TRUE(idr5 & reg::kIdr5Gran4K);
    // 8-byte read of IDR0/IDR1 together.
    EXPECT_EQ(b.read64(reg::kIdr0), uint64_t{idr0} | (uint64_t{idr1} << 32));

    EXPECT_EQ(b.read32(reg::kCr0Ack), 0u);
    b.write32(reg::kCr0, reg::kCr0CmdqEn | reg::kCr0EventqEn);
    EXPECT_EQ(b.read32(reg::kCr0Ack), reg::kCr0CmdqEn | reg::kCr0EventqEn);
    b.write32(reg::kIrqCtrl, reg::kIrqCtrlEventqIrqEn);
    EXPECT_EQ(b.read32(reg::kIrqCtrlAck), reg::kIrqCtrlEventqIrqEn);
  });
}

TEST(Smmuv3Test, RangeInvalidationAdvertisedByDefault) {
  Smmuv3Bench b;
  test::run_thread([&] { EXPECT_EQ(b.read32(reg::kIdr3) & reg::kIdr3Ril, reg::kIdr3Ril); });
}

TEST(Smmuv3Test, QueuePointerRegistersWithFourAndEightByteAccesses) {
  Smmuv3Bench b;
  test::run_thread([&] {
    b.write64(reg::kCmdqBase, Smmuv3Bench::qbase(kCmdq, kCmdqLog2));
    EXPECT_EQ(b.read64(reg::kCmdqBase), Smmuv3Bench::qbase(kCmdq, kCmdqLog2));
    // CMDQ disabled: software sets CONS (0x9c) with a 4-byte access, PROD (0x98) too.
    b.write32(reg::kCmdqCons, 5);
    b.write32(reg::kCmdqProd, 5);
    EXPECT_EQ(b.read32(reg::kCmdqCons), 5u);
    EXPECT_EQ(b.read32(reg::kCmdqProd), 5u);
    // One 8-byte write covers both; an 8-byte read returns both.
    b.write64(reg::kCmdqProd, (uint64_t{7} << 32) | 9);
    EXPECT_EQ(b.read32(reg::kCmdqProd), 9u);
    EXPECT_EQ(b.read32(reg::kCmdqCons), 7u);
    EXPECT_EQ(b.read64(reg::kCmdqProd), (uint64_t{7} << 32) | 9);
    // Page-1 EVENTQ_CONS with a 4-byte access.
    b.write64(reg::kEventqBase, Smmuv3Bench::qbase(kEventq, 4));
    b.write32(reg::kEventqCons, 3);
    EXPECT_EQ(b.read32(reg::kEventqCons), 3u);
    b.write32(reg::kEventqIrqCfg1, 0xABCD);
    EXPECT_EQ(b.read32(reg::kEventqIrqCfg1), 0xABCDu);
  });
}

// ---- Stream table, CDs and translation ----

TEST(Smmuv3Test, LinearStreamTableTranslatesThroughTtb0AndHitsTheIotlb) {
  Smmuv3Bench b;
  const uint64_t root = b.editor.new_root();
  b.editor.map(root, kVa, kPa, PageSize::k4K, Smmuv3Bench::kUserRw);
  b.memory.write_u64(kPa + 0x18, 0x1122334455667788ull);
  b.translate_stream(kRid0, 5, root);
  uint64_t v1 = 0, v2 = 0;
  uint64_t hits_after_first = 0, hits_after_second = 0;
  test::run_thread([&] {
    b.init();
    EXPECT_EQ(b.dev0.dma(std::nullopt, kVa + 0x18, false, &v1, 8), tlm::TLM_OK_RESPONSE);
    hits_after_first = b.smmu.iotlb().hits();
    EXPECT_EQ(b.dev0.dma(std::nullopt, kVa + 0x18, false, &v2, 8), tlm::TLM_OK_RESPONSE);
    hits_after_second = b.smmu.iotlb().hits();
  });
  EXPECT_EQ(v1, 0x1122334455667788ull);
  EXPECT_EQ(v2, 0x1122334455667788ull);
  EXPECT_EQ(hits_after_first, 0u);
  EXPECT_EQ(hits_after_second, 1u);
  // Tagged by ASID (pasid field) and StreamID (domain).
  EXPECT_NE(b.smmu.iotlb().cache().peek(TranslationTag{5, kRid0}, kVa), nullptr);
  EXPECT_EQ(b.smmu.tables().ste_cache_size(), 1u);
  EXPECT_EQ(b.smmu.tables().cd_cache_size(), 1u);
  EXPECT_EQ(b.counter("smmu.ste_cache_hits"), 1u);
  EXPECT_EQ(b.counter("smmu.cd_cache_hits"), 1u);
}

TEST(Smmuv3Test, TwoLevelStreamTableAndTwoLevelCdTable) {
  Smmuv3Bench b;
  const uint64_t root = b.editor.new_root();
  b.editor.map(root, kVa, kPa, PageSize::k4K, Smmuv3Bench::kUserRw);
  b.memory.write_u64(kPa, 0xAB);
  // Stream table: SPLIT 8, so StreamID 0x0100 is L1 index 1, L2 index 0.
  const uint64_t l1 = b.alloc(), l2 = b.alloc();
  b.memory.write_u64(l1 + 8 * (kRid0 >> 8), L1Std{9, l2}.encode());  // 2^8 STEs
  // CD table: 2-level with 4 KiB leaves (64 CDs); SSID 70 is L1 index 1, CD 6.
  const uint64_t l1cd = b.alloc(), l2cd = b.alloc();
  b.memory.write_u64(l1cd + 8, L1Cd{true, l2cd}.encode());
  Cd cd;
  cd.asid = 9;
  cd.ttb0 = root;
  b.write_cd(l2cd + kCdBytes * 6, cd);
  Ste s;
  s.config = SteConfig::kS1Translate;
  s.s1fmt = S1Fmt::kTwoLevel4K;
  s.s1_cdmax = 8;
  s.s1_context_ptr = l1cd;
  b.write_ste_at(l2, s);
  uint64_t v = 0;
  tlm::tlm_response_status st = tlm::TLM_INCOMPLETE_RESPONSE;
  test::run_thread([&] {
    b.init();
    b.write64(reg::kStrtabBase, reg::kStrtabBaseAddr.put(l1 >> 6));
    b.write32(reg::kStrtabBaseCfg,
              static_cast<uint32_t>(reg::kStrtabCfgLog2Size.put(16) | reg::kStrtabCfgSplit.put(8) |
                                    reg::kStrtabCfgFmt.put(reg::kStrtabFmt2Level)));
    st = b.dev0.dma(70, kVa, false, &v, 8);
  });
  EXPECT_EQ(st, tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(v, 0xABu);
  EXPECT_NE(b.smmu.iotlb().cache().peek(TranslationTag{9, kRid0}, kVa), nullptr);
  // L1STD, STE, L1CD, CD.
  EXPECT_EQ(b.counter("smmu.table_reads"), 4u);
}

// Each configuration problem records its C_BAD_* event; Config = abort records none.
TEST(Smmuv3Test, ConfigurationFaultsRecordTheirEvents) {
  Smmuv3Bench b;
  const uint64_t root = b.editor.new_root();
  b.translate_stream(kRid0, 1, root);  // S1CDMax = 0
  Ste bad;                             // V = 0
  bad.valid = false;
  b.write_ste(0x0101, bad);
  Ste abort_ste;  // Config = abort
  b.write_ste(0x0102, abort_ste);
  const uint64_t cd_addr = b.alloc();  // CD with V = 0
  Cd bad_cd;
  bad_cd.valid = false;
  b.write_cd(cd_addr, bad_cd);
  Ste s;
  s.config = SteConfig::kS1Translate;
  s.s1_context_ptr = cd_addr;
  b.write_ste(0x0103, s);
  const uint64_t cdt = b.alloc();  // S1CDMax = 2, S1DSS = terminate
  Ste t = s;
  t.s1_context_ptr = cdt;
  t.s1_cdmax = 2;
  t.s1dss = S1Dss::kTerminate;
  b.write_ste(0x0104, t);
  std::vector<tlm::tlm_response_status> st;
  test::run_thread([&] {
    b.init();
    uint64_t v = 0;
    st.push_back(b.dev0.dma(std::nullopt, kVa, false, &v, 8, 0x0500));  // beyond 2^10
    st.push_back(b.dev0.dma(std::nullopt, kVa, false, &v, 8, 0x0101));
    st.push_back(b.dev0.dma(3, kVa, true, &v, 8, kRid0));  // PASID, S1CDMax = 0
    st.push_back(b.dev0.dma(std::nullopt, kVa, false, &v, 8, 0x0102));
    st.push_back(b.dev0.dma(std::nullopt, kVa, false, &v, 8, 0x0103));
    st.push_back(b.dev0.dma(std::nullopt, kVa, false, &v, 8, 0x0104));
    st.push_back(b.dev0.dma(4, kVa, false, &v, 8, 0x0104));  // SSID 4 >= 2^2
    sc_core::wait(ns(1000));
  });
  for (auto s1 : st) EXPECT_EQ(s1, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  ASSERT_EQ(queue_index(b.smmu.event_queue().prod(), 4), 6u);
  EXPECT_EQ(b.counter("smmu.faults_recorded"), 6u);
  const EventType expect[] = {EventType::kCBadStreamid,    EventType::kCBadSte,
                              EventType::kCBadSubstreamid, EventType::kCBadCd,
                              EventType::kFStreamDisabled, EventType::kCBadSubstreamid};
  const uint32_t sids[] = {0x0500, 0x0101, kRid0, 0x0103, 0x0104, 0x0104};
  for (unsigned i = 0; i < 6; ++i) {
    const EventRecord e = b.event(i);
    EXPECT_EQ(e.type, expect[i]) << i;
    EXPECT_EQ(e.sid, sids[i]) << i;
  }
  EXPECT_TRUE(b.event(2).ssv);
  EXPECT_EQ(b.event(2).ssid, 3u);
  EXPECT_FALSE(b.event(2).rnw);  // a write
  EXPECT_EQ(b.event(5).ssid, 4u);
}

TEST(Smmuv3Test, TranslationAndPermissionFaultEvents) {
  Smmuv3Bench b;
  const uint64_t root = b.editor.new_root();
  b.editor.map(root, kVa, kPa, PageSize::k4K, Pte::kUser | Pte::kAccessed);  // read-only
  b.translate_stream(kRid0, 2, root);
  bool fault_irq = false;
  test::run_threads({[&] {
                       b.init();
                       uint64_t v = 0;
                       EXPECT_EQ(b.dev0.dma(std::nullopt, kVa + 0x5000, false, &v, 8),
                                 tlm::TLM_ADDRESS_ERROR_RESPONSE);
                       EXPECT_EQ(b.dev0.dma(std::nullopt, kVa + 8, true, &v, 8),
                                 tlm::TLM_ADDRESS_ERROR_RESPONSE);
                       sc_core::wait(ns(1000));
                     },
                     [&] {
                       sc_core::wait(b.smmu.fault_event());
                       fault_irq = true;
                     }});
  EXPECT_TRUE(fault_irq);
  ASSERT_EQ(queue_index(b.smmu.event_queue().prod(), 4), 2u);
  const EventRecord e0 = b.event(0), e1 = b.event(1);
  EXPECT_EQ(e0.type, EventType::kFTranslation);
  EXPECT_EQ(e0.input_addr, kVa + 0x5000);
  EXPECT_TRUE(e0.rnw);
  EXPECT_EQ(e0.sid, kRid0);
  EXPECT_EQ(e1.type, EventType::kFPermission);
  EXPECT_EQ(e1.input_addr, kVa + 8);
  EXPECT_FALSE(e1.rnw);
}

TEST(Smmuv3Test, DisabledSmmuFollowsGbpa) {
  Smmuv3Bench b;
  b.memory.write_u64(kPa, 0x77);
  tlm::tlm_response_status aborted = tlm::TLM_OK_RESPONSE, bypassed = tlm::TLM_INCOMPLETE_RESPONSE;
  uint64_t v = 0;
  test::run_thread([&] {
    b.write64(reg::kEventqBase, Smmuv3Bench::qbase(kEventq, 4));
    b.write32(reg::kCr0, reg::kCr0EventqEn);  // SMMUEN = 0, GBPA.ABORT = 1 at reset
    aborted = b.dev0.dma(std::nullopt, kPa, false, &v, 8);
    b.write32(reg::kGbpa, reg::kGbpaUpdate);  // ABORT = 0: bypass
    bypassed = b.dev0.dma(std::nullopt, kPa, false, &v, 8);
    sc_core::wait(ns(1000));
  });
  EXPECT_EQ(aborted, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(bypassed, tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(v, 0x77u);
  EXPECT_EQ(b.counter("smmu.faults_recorded"), 0u);  // the abort records no event
}

// ---- Commands ----

TEST(Smmuv3Test, TlbiNhAsidDropsTheAsidInEveryStream) {
  Smmuv3Bench b;
  const uint64_t root = b.editor.new_root();
  b.editor.map(root, kVa, kPa, PageSize::k4K, Smmuv3Bench::kUserRw);
  b.translate_stream(kRid0, 7, root);
  b.translate_stream(kRid1, 7, root);
  b.translate_stream(0x0101, 8, root);  // another ASID: kept
  size_t before = 0;
  bool drained = false;
  test::run_thread([&] {
    b.init();
    uint64_t v = 0;
    b.dev0.dma(std::nullopt, kVa, false, &v, 8);
    b.dev1.dma(std::nullopt, kVa, false, &v, 8);
    b.dev0.dma(std::nullopt, kVa, false, &v, 8, 0x0101);
    before = b.smmu.iotlb().cache().size();
    b.submit({TlbiNhAsid{7, 0}, Sync{}});
    drained = b.drain();
  });
  EXPECT_TRUE(drained);
  EXPECT_EQ(before, 3u);
  EXPECT_EQ(b.smmu.iotlb().cache().size(), 1u);
  EXPECT_EQ(b.smmu.iotlb().cache().peek(TranslationTag{7, kRid0}, kVa), nullptr);
  EXPECT_EQ(b.smmu.iotlb().cache().peek(TranslationTag{7, kRid1}, kVa), nullptr);
  EXPECT_NE(b.smmu.iotlb().cache().peek(TranslationTag{8, 0x0101}, kVa), nullptr);
  EXPECT_EQ(b.counter("smmu.command_queue.cmd_tlbi_nh_asid_count"), 1u);
  EXPECT_EQ(b.counter("smmu.command_queue.cmd_sync_count"), 1u);
}

// TLBI_NH_VA for one page, then a range (TG = 4K, NUM = 1: two pages).
void tlbi_va_test(bool ril, size_t after_range) {
  IommuConfig cfg = smmu_config();
  cfg.smmuv3.range_invalidation = ril;
  Smmuv3Bench b(cfg);
  const uint64_t root = b.editor.new_root();
  for (uint64_t i = 0; i < 4; ++i) {
    b.editor.map(root, kVa + i * 0x1000, kPa + i * 0x1000, PageSize::k4K, Smmuv3Bench::kUserRw);
  }
  b.translate_stream(kRid0, 3, root);
  size_t filled = 0, after_single = 0, after = 0;
  test::run_thread([&] {
    b.init();
    uint64_t v = 0;
    for (uint64_t i = 0; i < 4; ++i) b.dev0.dma(std::nullopt, kVa + i * 0x1000, false, &v, 8);
    filled = b.smmu.iotlb().cache().size();
    TlbiNhVa single{3, 0, {}};
    single.va.addr = kVa + 0x1000;
    single.va.leaf = true;
    b.submit({single, Sync{}});
    b.drain();
    after_single = b.smmu.iotlb().cache().size();
    TlbiNhVa range{3, 0, {}};
    range.va.addr = kVa + 0x2000;
    range.va.tg = kTlbiTg4K;
    range.va.num = 1;
    range.va.ttl = 3;
    b.submit({range, Sync{}});
    b.drain();
    after = b.smmu.iotlb().cache().size();
  });
  EXPECT_EQ(filled, 4u);
  EXPECT_EQ(after_single, 3u);
  EXPECT_EQ(b.smmu.iotlb().cache().peek(TranslationTag{3, kRid0}, kVa + 0x1000), nullptr);
  EXPECT_NE(b.smmu.iotlb().cache().peek(TranslationTag{3, kRid0}, kVa), nullptr);
  EXPECT_EQ(after, after_range);
}

TEST(Smmuv3Test, TlbiNhVaSinglePageAndRange) {
  tlbi_va_test(true, 1);
}
TEST(Smmuv3Test, TlbiNhVaRangeFieldsIgnoredWithoutRil) {
  tlbi_va_test(false, 2);
}

TEST(Smmuv3Test, CfgiSteAndCfgiCdDropCachedConfiguration) {
  Smmuv3Bench b;
  const uint64_t root = b.editor.new_root();
  b.editor.map(root, kVa, kPa, PageSize::k4K, Smmuv3Bench::kUserRw);
  const uint64_t cd_addr = b.translate_stream(kRid0, 4, root);
  b.translate_stream(kRid1, 6, root);
  std::vector<tlm::tlm_response_status> st;
  test::run_thread([&] {
    b.init();
    uint64_t v = 0;
    st.push_back(b.dev0.dma(std::nullopt, kVa, false, &v, 8));
    st.push_back(b.dev1.dma(std::nullopt, kVa, false, &v, 8));
    // Software makes the CD invalid and the other STE abort: the caches still hold them.
    Cd bad;
    bad.valid = false;
    b.write_cd(cd_addr, bad);
    b.write_ste(kRid1, Ste{});
    st.push_back(b.dev0.dma(std::nullopt, kVa + 8, false, &v, 8));
    st.push_back(b.dev1.dma(std::nullopt, kVa + 8, false, &v, 8));
    b.submit({CfgiCd{kRid0, 0, true}, CfgiSte{kRid1, true}, Sync{}});
    b.drain();
    st.push_back(b.dev0.dma(std::nullopt, kVa + 16, false, &v, 8));
    st.push_back(b.dev1.dma(std::nullopt, kVa + 16, false, &v, 8));
    sc_core::wait(ns(1000));
  });
  ASSERT_EQ(st.size(), 6u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(st[i], tlm::TLM_OK_RESPONSE) << i;
  EXPECT_EQ(st[4], tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(st[5], tlm::TLM_ADDRESS_ERROR_RESPONSE);
  // C_BAD_CD for the first; the aborting STE records nothing.
  ASSERT_EQ(queue_index(b.smmu.event_queue().prod(), 4), 1u);
  EXPECT_EQ(b.event(0).type, EventType::kCBadCd);
}

TEST(Smmuv3Test, CfgiAllDropsEveryCachedSteAndCd) {
  Smmuv3Bench b;
  const uint64_t root = b.editor.new_root();
  b.translate_stream(kRid0, 4, root);
  b.translate_stream(kRid1, 6, root);
  size_t stes = 0, cds = 0;
  test::run_thread([&] {
    b.init();
    uint64_t v = 0;
    b.dev0.dma(std::nullopt, kVa, false, &v, 8);
    b.dev1.dma(std::nullopt, kVa, false, &v, 8);
    stes = b.smmu.tables().ste_cache_size();
    cds = b.smmu.tables().cd_cache_size();
    b.submit({CfgiSteRange::all(), Sync{}});
    b.drain();
  });
  EXPECT_EQ(stes, 2u);
  EXPECT_EQ(cds, 2u);
  EXPECT_EQ(b.smmu.tables().ste_cache_size(), 0u);
  EXPECT_EQ(b.smmu.tables().cd_cache_size(), 0u);
}

TEST(Smmuv3Test, AtcInvReachesTheDeviceWithPasidAndRange) {
  Smmuv3Bench b;
  test::run_thread([&] {
    b.init();
    AtcInv inv;
    inv.sid = kRid1;
    inv.ssv = true;
    inv.ssid = 5;
    inv.addr = 0x40004000;
    inv.size = 2;  // 4 pages
    inv.global = true;
    AtcInv all;
    all.sid = kRid0;
    all.size = AtcInv::kSizeAll;
    b.submit({inv, all, Sync{}});
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
}

// CMD_SYNC completes only after the earlier ATC_INV's Invalidate Completion arrived:
// its MSI write reaches memory no earlier than the device sent the completion, 3 us
// after the request (a SYNC that ignored the ATC_INV would write ~100 ns after it).
TEST(Smmuv3Test, CmdSyncWaitsForOutstandingAtcInvalidations) {
  Smmuv3Bench b;
  b.dev0.answer_delay = ns(3000);
  sc_time irq_at;
  test::run_threads({[&] {
                       b.init();
                       AtcInv inv;
                       inv.sid = kRid0;
                       b.submit({inv, Smmuv3Bench::sync_msi()});
                       b.drain();
                     },
                     [&] {
                       sc_core::wait(b.smmu.completion_event());
                       irq_at = sc_core::sc_time_stamp();
                     }});
  ASSERT_EQ(b.dev0.invalidations.size(), 1u);
  ASSERT_EQ(b.dev0.completions_sent.size(), 1u);
  const MemorySpy::Write* msi = b.spy.first_write(kMsiAddr);
  ASSERT_NE(msi, nullptr);
  ASSERT_EQ(msi->data.size(), 4u);
  EXPECT_EQ(b.memory.read_u64(kMsiAddr) & 0xffffffff, 0xC0FFEEu);
  // Issued when the completion arrives (the port adds no time), never before.
  EXPECT_GE(msi->time, b.dev0.completions_sent[0]);
  EXPECT_GE(msi->time, b.dev0.invalidations[0].at + ns(3000));
  EXPECT_GE(irq_at, msi->time);
  EXPECT_EQ(b.counter("smmu.command_queue.failed_waits"), 0u);
}

TEST(Smmuv3Test, SyncWithoutMsiSignalsOnlyTheInterrupt) {
  Smmuv3Bench b;
  bool irq = false;
  test::run_threads({[&] {
                       b.init();
                       Sync s;
                       s.cs = SyncCs::kIrq;
                       b.submit({s});
                       b.drain();
                     },
                     [&] {
                       sc_core::wait(b.smmu.completion_event());
                       irq = true;
                     }});
  EXPECT_TRUE(irq);
  EXPECT_EQ(b.spy.first_write(kMsiAddr), nullptr);
}

// An ATC invalidation that times out fails the next CMD_SYNC: CERROR_ATC_INV_SYNC with
// CONS at the SYNC, GERROR.CMDQ_ERR active; after the GERRORN acknowledgement the SYNC
// runs again and completes.
TEST(Smmuv3Test, AtcInvTimeoutStopsTheQueueUntilGerrorAcknowledged) {
  IommuConfig cfg = smmu_config();
  cfg.command_queue.itag_timeout_ns = 5000;
  Smmuv3Bench b(cfg);
  b.dev0.answer = false;
  uint32_t cons_stopped = 0, gerror = 0, gerrorn = 0;
  bool fault_irq = false, msi_before_ack = true, drained = false;
  sc_time ack_at;
  test::run_threads({[&] {
                       b.init();
                       AtcInv inv;
                       inv.sid = kRid0;
                       b.submit({inv, Smmuv3Bench::sync_msi()});
                       sc_core::wait(ns(20000));
                       cons_stopped = b.read32(reg::kCmdqCons);
                       gerror = b.read32(reg::kGerror);
                       gerrorn = b.read32(reg::kGerrorN);
                       msi_before_ack = b.spy.first_write(kMsiAddr) != nullptr;
                       ack_at = sc_core::sc_time_stamp();
                       b.write32(reg::kGerrorN, gerror);  // acknowledge
                       drained = b.drain();
                     },
                     [&] {
                       sc_core::wait(b.smmu.fault_event());
                       fault_irq = true;
                     }});
  EXPECT_EQ(queue_index(cons_stopped, kCmdqLog2), 1u);  // at the SYNC
  EXPECT_EQ(reg::kCmdqConsErr.get(cons_stopped), static_cast<uint32_t>(CmdqError::kAtcInvSync));
  EXPECT_EQ(reg::gerror_active(gerror, gerrorn), reg::kGerrorCmdqErr);
  EXPECT_TRUE(fault_irq);
  EXPECT_FALSE(msi_before_ack);
  EXPECT_TRUE(drained);
  const MemorySpy::Write* msi = b.spy.first_write(kMsiAddr);
  ASSERT_NE(msi, nullptr);
  EXPECT_GT(msi->time, ack_at);
  EXPECT_EQ(reg::kCmdqConsErr.get(b.smmu.command_queue().cons()), 0u);
  EXPECT_EQ(b.counter("smmu.command_queue.failed_waits"), 1u);
  EXPECT_EQ(b.counter("smmu.command_queue.itag_timeouts"), 1u);
  EXPECT_EQ(b.counter("smmu.command_queue.cmd_sync_count"), 1u);
}

TEST(Smmuv3Test, IllegalCommandStopsWithCerrorIll) {
  Smmuv3Bench b;
  uint32_t cons_stopped = 0, gerror = 0;
  bool drained = false;
  test::run_thread([&] {
    b.init();
    b.put_command(encode_command(TlbiNsnhAll{}));
    b.put_command(CmdWords{0x7f, 0});  // unallocated opcode
    b.put_command(encode_command(Smmuv3Bench::sync_msi()));
    b.ring();
    sc_core::wait(ns(5000));
    cons_stopped = b.read32(reg::kCmdqCons);
    gerror = b.read32(reg::kGerror);
    // Linux's arm_smmu_cmdq_skip_err: replace the command at CONS with a CMD_SYNC.
    b.write_words(kCmdq + kCmdBytes * 1, encode_command(Sync{}));
    b.write32(reg::kGerrorN, gerror);
    drained = b.drain();
  });
  EXPECT_EQ(queue_index(cons_stopped, kCmdqLog2), 1u);
  EXPECT_EQ(reg::kCmdqConsErr.get(cons_stopped), static_cast<uint32_t>(CmdqError::kIll));
  EXPECT_EQ(gerror & reg::kGerrorCmdqErr, reg::kGerrorCmdqErr);
  EXPECT_TRUE(drained);
  EXPECT_NE(b.spy.first_write(kMsiAddr), nullptr);
  EXPECT_EQ(b.counter("smmu.command_queue.bad_commands"), 1u);
  EXPECT_EQ(b.counter("smmu.command_queue.cmd_sync_count"), 2u);
}

TEST(Smmuv3Test, PriRespReachesTheDevice) {
  Smmuv3Bench b;
  test::run_thread([&] {
    b.init();
    b.submit({PriResp{kRid0, 5, true, 7, PriResponse::kDeny},
              PriResp{kRid0, 0, false, 8, PriResponse::kFail},
              PriResp{kRid1, 0, false, 9, PriResponse::kSuccess}, Sync{}});
    b.drain();
  });
  ASSERT_EQ(b.dev0.responses.size(), 2u);
  EXPECT_EQ(b.dev0.responses[0].resp.code, PrgResponseCode::kInvalidRequest);
  EXPECT_EQ(b.dev0.responses[0].resp.prg_index, 7u);
  EXPECT_TRUE(b.dev0.responses[0].resp.pasid.present);
  EXPECT_EQ(b.dev0.responses[0].resp.pasid.pasid, 5u);
  EXPECT_EQ(b.dev0.responses[1].resp.code, PrgResponseCode::kResponseFailure);
  EXPECT_FALSE(b.dev0.responses[1].resp.pasid.present);
  ASSERT_EQ(b.dev1.responses.size(), 1u);
  EXPECT_EQ(b.dev1.responses[0].resp.code, PrgResponseCode::kSuccess);
  EXPECT_EQ(b.dev1.responses[0].resp.prg_index, 9u);
}

// ---- Event and PRI queues ----

TEST(Smmuv3Test, EventQueueOverflowSetsOvflgAndLosesEvents) {
  Smmuv3Bench b;
  const uint64_t root = b.editor.new_root();
  b.translate_stream(kRid0, 1, root);  // nothing mapped: every DMA faults
  uint32_t prod_full = 0, cons = 0, prod_after = 0;
  test::run_thread([&] {
    b.init(/*eventq_log2=*/1);  // 2 entries
    uint64_t v = 0;
    for (int i = 0; i < 4; ++i) b.dev0.dma(std::nullopt, kVa + 0x1000 * i, false, &v, 8);
    sc_core::wait(ns(1000));
    prod_full = b.read32(reg::kEventqProd);
    cons = b.read32(reg::kEventqCons);
    // Software consumes both and acknowledges the overflow (CONS.OVACKFLG = PROD.OVFLG).
    b.write32(reg::kEventqCons, (prod_full & reg::kQOverflow) | queue_position(prod_full, 1));
    b.dev0.dma(std::nullopt, kVa + 0x9000, false, &v, 8);
    sc_core::wait(ns(1000));
    prod_after = b.read32(reg::kEventqProd);
  });
  EXPECT_TRUE(queue_full(prod_full, cons, 1));
  EXPECT_EQ(prod_full & reg::kQOverflow, reg::kQOverflow);  // toggled once
  EXPECT_EQ(cons & reg::kQOverflow, 0u);
  EXPECT_EQ(b.counter("smmu.event_queue.lost"), 2u);
  EXPECT_EQ(b.counter("smmu.faults_recorded"), 3u);
  EXPECT_EQ(queue_position(prod_after, 1), queue_next(queue_position(prod_full, 1), 1));
  EXPECT_EQ(b.event(0).input_addr, kVa + 0x9000);  // written at index 0 after the wrap
}

TEST(Smmuv3Test, PriQueueOverflowAnswersLostLastRequest) {
  Smmuv3Bench b;
  uint32_t prod = 0;
  bool irq = false;
  test::run_threads({[&] {
                       b.init(4, /*priq_log2=*/1);
                       for (uint16_t g = 0; g < 3; ++g) {
                         PageRequest r;
                         r.page_address = kVa + 0x1000 * g;
                         r.read = true;
                         r.last = true;
                         r.prg_index = static_cast<uint16_t>(10 + g);
                         r.pasid = PasidPrefix::with(4);
                         b.dev0.message(r);
                       }
                       PageRequest not_last;  // lost too, but no response
                       not_last.page_address = kVa;
                       not_last.read = true;
                       not_last.prg_index = 20;
                       b.dev0.message(not_last);
                       sc_core::wait(ns(2000));
                       prod = b.read32(reg::kPriqProd);
                     },
                     [&] {
                       sc_core::wait(b.smmu.page_request_event());
                       irq = true;
                     }});
  EXPECT_TRUE(irq);
  EXPECT_EQ(prod & reg::kQOverflow, reg::kQOverflow);
  EXPECT_EQ(b.counter("smmu.pri_queue.written"), 2u);
  EXPECT_EQ(b.counter("smmu.pri_queue.lost"), 2u);
  const PriqEntry e0 = b.priq_entry(0);
  EXPECT_EQ(e0.sid, kRid0);
  EXPECT_TRUE(e0.ssv);
  EXPECT_EQ(e0.ssid, 4u);
  EXPECT_EQ(e0.prgi, 10u);
  EXPECT_TRUE(e0.last);
  EXPECT_EQ(e0.addr, kVa);
  ASSERT_EQ(b.dev0.responses.size(), 1u);
  EXPECT_EQ(b.dev0.responses[0].resp.prg_index, 12u);
  EXPECT_EQ(b.dev0.responses[0].resp.code, PrgResponseCode::kSuccess);
  EXPECT_EQ(b.dev0.responses[0].resp.pasid.pasid, 4u);
  EXPECT_EQ(b.counter("smmu.pri_auto_responses"), 1u);
}

TEST(Smmuv3Test, StopMarkerIsWrittenAsLastWithoutReadOrWrite) {
  Smmuv3Bench b;
  test::run_thread([&] {
    b.init();
    StopMarker m;
    m.prg_index = 3;
    m.pasid = PasidPrefix::with(9);
    b.dev1.message(m);
    sc_core::wait(ns(1000));
  });
  EXPECT_EQ(b.counter("smmu.pri_queue.written"), 1u);
  const PriqEntry e = b.priq_entry(0);
  EXPECT_EQ(e.sid, kRid1);
  EXPECT_TRUE(e.ssv);
  EXPECT_EQ(e.ssid, 9u);
  EXPECT_TRUE(e.last);
  EXPECT_FALSE(e.read);
  EXPECT_FALSE(e.write);
  EXPECT_TRUE(b.dev1.responses.empty());
}

}  // namespace
}  // namespace iosim
