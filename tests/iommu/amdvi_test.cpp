// AmdviIommu: DTE and GCR3 lookups and their events, translation and IOTLB tagging by
// DomainID + PASID, each command's effect, COMPLETION_WAIT ordering, IOTLB_INV_TIMEOUT,
// illegal commands, event and PPR log overflow, PPR logging and COMPLETE_PPR_REQUEST.
#include "iommu/amdvi/amdvi_iommu.h"

#include <gtest/gtest.h>

#include "amdvi_bench.h"

namespace iosim {
namespace {

using sc_core::sc_time;
using namespace test::amd;

constexpr uint64_t kVa = 0x40000000;
constexpr uint64_t kPa = 0x300000;

TEST(AmdviTest, RegistersAndFeatures) {
  AmdviBench b;
  uint64_t efr = 0, status = 0, ctrl = 0;
  test::run_thread([&] {
    efr = b.read64(reg::kExtFeature);
    b.init();
    ctrl = b.read64(reg::kControl);
    status = b.read64(reg::kStatus);
  });
  EXPECT_TRUE(efr & reg::kEfrGtSup);
  EXPECT_TRUE(efr & reg::kEfrPprSup);
  EXPECT_FALSE(efr & reg::kEfrPrefSup);
  EXPECT_EQ(reg::kEfrPasMax.get(efr), 15u);
  EXPECT_EQ(reg::kEfrGlxSup.get(efr), 1u);
  EXPECT_EQ(ctrl, b.control());
  EXPECT_EQ(status, reg::kStatusCmdBufRun | reg::kStatusEventLogRun | reg::kStatusPprLogRun);
}

TEST(AmdviTest, GuestTranslationThroughGcr3TaggedByPasidAndDomain) {
  AmdviBench b;
  const uint64_t root = b.editor.new_root();
  b.editor.map(root, kVa, kPa, PageSize::k4K, AmdviBench::kUserRw);
  b.memory.write_u64(kPa + 0x18, 0x1122334455667788ull);
  b.guest_device(kRid0, 7, 3, root);
  uint64_t v1 = 0, v2 = 0, hits = 0;
  test::run_thread([&] {
    b.init();
    EXPECT_EQ(b.dev0.dma(3, kVa + 0x18, false, &v1, 8), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(b.dev0.dma(3, kVa + 0x18, false, &v2, 8), tlm::TLM_OK_RESPONSE);
    hits = b.iommu.iotlb().hits();
  });
  EXPECT_EQ(v1, 0x1122334455667788ull);
  EXPECT_EQ(v2, v1);
  EXPECT_EQ(hits, 1u);
  EXPECT_NE(b.iommu.iotlb().cache().peek(TranslationTag{3, 7}, kVa), nullptr);
  EXPECT_EQ(b.iommu.tables().dte_cache_size(), 1u);
  EXPECT_EQ(b.iommu.tables().gcr3_cache_size(), 1u);
  EXPECT_EQ(b.counter("iommu.table_reads"), 2u);  // DTE + one GCR3 level
}

TEST(AmdviTest, TwoLevelGcr3Table) {
  AmdviBench b;
  const uint64_t root = b.editor.new_root();
  b.editor.map(root, kVa, kPa, PageSize::k4K, AmdviBench::kUserRw);
  b.memory.write_u64(kPa, 0xAB);
  const uint64_t l1 = b.alloc(), l0 = b.alloc();
  const uint32_t pasid = 0x2a5;  // level-1 index 1, leaf index 0xa5
  b.memory.write_u64(l1 + 8 * 1, Gcr3Entry{true, l0}.encode());
  b.memory.write_u64(l0 + 8 * 0xa5, Gcr3Entry{true, root}.encode());
  Dte d;
  d.gv = true;
  d.glx = 1;
  d.gcr3_root = l1;
  d.domain_id = 4;
  b.write_dte(kRid0, d);
  uint64_t v = 0;
  tlm::tlm_response_status st = tlm::TLM_INCOMPLETE_RESPONSE;
  test::run_thread([&] {
    b.init();
    st = b.dev0.dma(pasid, kVa, false, &v, 8);
  });
  EXPECT_EQ(st, tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(v, 0xABu);
  EXPECT_EQ(b.counter("iommu.table_reads"), 3u);
}

// Each table problem logs its event; a translation fault logs IO_PAGE_FAULT with flags.
TEST(AmdviTest, TableAndPageFaultsAreLogged) {
  AmdviBench b;
  const uint64_t root = b.editor.new_root();
  b.editor.map(root, kVa, kPa, PageSize::k4K, Pte::kUser | Pte::kAccessed);  // read-only
  b.guest_device(kRid0, 1, 5, root);
  Dte plain;  // GV = 0
  plain.domain_id = 2;
  b.write_dte(0x0101, plain);
  bool fault_irq = false;
  std::vector<tlm::tlm_response_status> st;
  test::run_threads({[&] {
                       b.init();
                       uint64_t v = 0;
                       st.push_back(b.dev0.dma(5, kVa, true, &v, 8));            // RO page
                       st.push_back(b.dev0.dma(5, kVa + 0x5000, false, &v, 8));  // not mapped
                       st.push_back(b.dev0.dma(6, kVa, false, &v, 8));           // GCR3 V = 0
                       st.push_back(b.dev0.dma(5, kVa, false, &v, 8, 0x0101));   // GV = 0
                       st.push_back(b.dev0.dma(5, kVa, false, &v, 8, 0x7f00));   // beyond table
                       sc_core::wait(ns(1000));
                     },
                     [&] {
                       sc_core::wait(b.iommu.fault_event());
                       fault_irq = true;
                     }});
  for (auto s : st) EXPECT_EQ(s, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_TRUE(fault_irq);
  ASSERT_EQ(b.events(), 5u);
  EXPECT_EQ(b.counter("iommu.faults_recorded"), 5u);
  const EventEntry e0 = b.event(0);
  EXPECT_EQ(e0.code, EventCode::kIoPageFault);
  EXPECT_EQ(e0.device_id, kRid0);
  EXPECT_EQ(e0.pasid, 5u);
  EXPECT_EQ(e0.address, kVa);
  EXPECT_EQ(e0.flags, event_flag::kGn | event_flag::kUs | event_flag::kRw | event_flag::kPr |
                          event_flag::kPe);
  EXPECT_EQ(b.event(1).code, EventCode::kIoPageFault);
  EXPECT_EQ(b.event(1).flags & event_flag::kPr, 0u);
  EXPECT_EQ(b.event(2).code, EventCode::kIoPageFault);
  EXPECT_EQ(b.event(2).pasid, 6u);
  EXPECT_EQ(b.event(3).code, EventCode::kInvalidDeviceRequest);
  EXPECT_EQ(b.event(3).device_id, 0x0101u);
  EXPECT_EQ(b.event(4).code, EventCode::kIllegalDevTableEntry);
  EXPECT_EQ(b.event(4).device_id, 0x7f00u);
  EXPECT_TRUE(b.iommu.status() & reg::kStatusEventLogInt);
}

// The IOTLB is tagged by DomainID + PASID: an INVALIDATE_IOMMU_PAGES of the domain and
// PASID drops the entries of both devices of the domain and keeps the other domain's.
TEST(AmdviTest, InvalidateIommuPagesDropsEveryDeviceOfTheDomain) {
  AmdviBench b;
  const uint64_t root = b.editor.new_root();
  for (uint64_t i = 0; i < 4; ++i) {
    b.editor.map(root, kVa + i * 0x1000, kPa + i * 0x1000, PageSize::k4K, AmdviBench::kUserRw);
  }
  b.guest_device(kRid0, 9, 2, root);
  b.guest_device(kRid1, 9, 2, root);
  b.guest_device(0x0101, 10, 2, root);
  size_t filled = 0, after_page = 0, after_all = 0;
  size_t gcr3_after = 0;
  test::run_thread([&] {
    b.init();
    uint64_t v = 0;
    for (uint64_t i = 0; i < 4; ++i) b.dev0.dma(2, kVa + i * 0x1000, false, &v, 8);
    b.dev1.dma(2, kVa, false, &v, 8);
    b.dev0.dma(2, kVa, false, &v, 8, 0x0101);
    filled = b.iommu.iotlb().cache().size();
    InvalidateIommuPages one;  // one page of domain 9, PASID 2, PTEs only
    one.domain_id = 9;
    one.pasid = 2;
    one.gn = true;
    one.address = kVa + 0x1000;
    b.submit({one, AmdviBench::store()});
    b.drain();
    after_page = b.iommu.iotlb().cache().size();
    InvalidateIommuPages all = one;  // the whole space, PDE: GCR3 entries too
    all.address = kInvAllPages.address;
    all.s = true;
    all.pde = true;
    b.submit({all, AmdviBench::store(2)});
    b.drain();
    after_all = b.iommu.iotlb().cache().size();
    gcr3_after = b.iommu.tables().gcr3_cache_size();
  });
  // kRid1's translation is kRid0's entry: same DomainID and PASID.
  EXPECT_EQ(filled, 5u);
  EXPECT_EQ(after_page, 4u);
  EXPECT_EQ(b.iommu.iotlb().cache().peek(TranslationTag{2, 9}, kVa + 0x1000), nullptr);
  EXPECT_EQ(after_all, 1u);  // domain 10's entry stays
  EXPECT_NE(b.iommu.iotlb().cache().peek(TranslationTag{2, 10}, kVa), nullptr);
  EXPECT_EQ(gcr3_after, 1u);
  EXPECT_EQ(b.counter("iommu.command_queue.invalidate_iommu_pages_count"), 2u);
  EXPECT_EQ(b.counter("iommu.command_queue.completion_wait_count"), 2u);
  EXPECT_EQ(b.memory.read_u64(kSem), 2u);  // the 64-bit store
}

TEST(AmdviTest, InvalidateDevtabEntryAndIommuAllDropCachedEntries) {
  AmdviBench b;
  const uint64_t root = b.editor.new_root();
  b.editor.map(root, kVa, kPa, PageSize::k4K, AmdviBench::kUserRw);
  b.guest_device(kRid0, 1, 2, root);
  b.guest_device(kRid1, 3, 2, root);
  size_t dtes = 0, after_dte = 0, after_all = 0, iotlb_after_all = 0;
  test::run_thread([&] {
    b.init();
    uint64_t v = 0;
    b.dev0.dma(2, kVa, false, &v, 8);
    b.dev1.dma(2, kVa, false, &v, 8);
    dtes = b.iommu.tables().dte_cache_size();
    b.submit({InvalidateDevtabEntry{kRid0}, AmdviBench::store()});
    b.drain();
    after_dte = b.iommu.tables().dte_cache_size();
    b.submit({InvalidateIommuAll{}, AmdviBench::store()});
    b.drain();
    after_all = b.iommu.tables().dte_cache_size();
    iotlb_after_all = b.iommu.iotlb().cache().size();
  });
  EXPECT_EQ(dtes, 2u);
  EXPECT_EQ(after_dte, 1u);
  EXPECT_EQ(after_all, 0u);
  EXPECT_EQ(iotlb_after_all, 0u);
}

TEST(AmdviTest, InvalidateIotlbPagesReachesTheDeviceWithPasidAndRange) {
  AmdviBench b;
  test::run_thread([&] {
    b.init();
    InvalidateIotlbPages inv;
    inv.device_id = kRid1;
    inv.pasid = 5;
    inv.gn = true;
    const InvAddress a = inv_address(0x40004000, 4 * 4096);
    inv.address = a.address;
    inv.s = a.s;
    InvalidateIotlbPages all;
    all.device_id = kRid0;
    all.address = kInvAllPages.address;
    all.s = true;
    b.submit({inv, all, AmdviBench::store()});
    b.drain();
  });
  ASSERT_EQ(b.dev1.invalidations.size(), 1u);
  const InvalidateRequest& r = b.dev1.invalidations[0].req;
  EXPECT_EQ(r.destination_id, kRid1);
  EXPECT_TRUE(r.pasid.present);
  EXPECT_EQ(r.pasid.pasid, 5u);
  EXPECT_EQ(r.range.base, 0x40004000u);
  EXPECT_EQ(r.range.log2_size, 14u);
  ASSERT_EQ(b.dev0.invalidations.size(), 1u);
  EXPECT_FALSE(b.dev0.invalidations[0].req.pasid.present);
  EXPECT_TRUE(b.dev0.invalidations[0].req.range.is_whole_space());
}

// COMPLETION_WAIT completes only after the earlier INVALIDATE_IOTLB_PAGES's Invalidate
// Completion arrived: its store reaches memory no earlier than the device sent the
// completion, 3 us after the request (a wait that ignored it would store ~100 ns after).
TEST(AmdviTest, CompletionWaitStoreFollowsTheInvalidateCompletion) {
  AmdviBench b;
  b.dev0.answer_delay = ns(3000);
  sc_time irq_at;
  test::run_threads({[&] {
                       b.init();
                       InvalidateIotlbPages inv;
                       inv.device_id = kRid0;
                       CompletionWait w = AmdviBench::store(0x1122334455667788ull);
                       w.interrupt = true;
                       b.submit({inv, w});
                       b.drain();
                     },
                     [&] {
                       sc_core::wait(b.iommu.completion_event());
                       irq_at = sc_core::sc_time_stamp();
                     }});
  ASSERT_EQ(b.dev0.completions_sent.size(), 1u);
  const test::smmu::MemorySpy::Write* st = b.spy.first_write(kSem);
  ASSERT_NE(st, nullptr);
  ASSERT_EQ(st->data.size(), 8u);
  EXPECT_EQ(b.memory.read_u64(kSem), 0x1122334455667788ull);
  EXPECT_GE(st->time, b.dev0.completions_sent[0]);
  EXPECT_GE(st->time, b.dev0.invalidations[0].at + ns(3000));
  EXPECT_GE(irq_at, st->time);
  EXPECT_TRUE(b.iommu.status() & reg::kStatusComWaitInt);
}

// A device that never answers: IOTLB_INV_TIMEOUT is logged at the time-out (DeviceID and
// the command's address) and the COMPLETION_WAIT still completes.
TEST(AmdviTest, IotlbInvalidationTimeoutIsLoggedAndTheWaitCompletes) {
  IommuConfig cfg = amd_config();
  cfg.command_queue.itag_timeout_ns = 5000;
  AmdviBench b(cfg);
  b.dev1.answer = false;
  bool drained = false;
  test::run_thread([&] {
    b.init();
    InvalidateIotlbPages inv;
    inv.device_id = kRid1;
    b.submit({InvalidateDevtabEntry{kRid0}, inv, AmdviBench::store()});
    drained = b.drain();
    sc_core::wait(ns(1000));
  });
  EXPECT_TRUE(drained);
  const test::smmu::MemorySpy::Write* st = b.spy.first_write(kSem);
  ASSERT_NE(st, nullptr);
  EXPECT_GE(st->time, b.dev1.invalidations[0].at + ns(5000));
  ASSERT_EQ(b.events(), 1u);
  const EventEntry e = b.event(0);
  EXPECT_EQ(e.code, EventCode::kIotlbInvTimeout);
  EXPECT_EQ(e.device_id, kRid1);
  EXPECT_EQ(e.address, kCmdBuf + 16);
  EXPECT_EQ(b.counter("iommu.command_queue.itag_timeouts"), 1u);
  EXPECT_EQ(b.counter("iommu.command_queue.failed_waits"), 0u);
  EXPECT_EQ(b.counter("iommu.command_queue.waits_after_timeout"), 1u);
  EXPECT_EQ(b.counter("iommu.command_queue.completion_wait_count"), 1u);
}

TEST(AmdviTest, IllegalCommandStopsTheBufferUntilReenabled) {
  AmdviBench b;
  uint64_t status_stopped = 0, head_stopped = 0;
  bool drained = false;
  test::run_thread([&] {
    b.init();
    b.put_command(encode_command(InvalidateIommuAll{}));
    b.put_command(CmdWords{0xfull << 60, 0});  // reserved opcode
    b.put_command(encode_command(AmdviBench::store()));
    b.ring();
    sc_core::wait(ns(5000));
    status_stopped = b.read64(reg::kStatus);
    head_stopped = b.read64(reg::kCmdBufHead);
    // Software replaces the command and restarts the buffer (CmdBufEn 0 -> 1).
    const CmdWords fix = encode_command(InvalidateDevtabEntry{1});
    b.memory.write_u64(kCmdBuf + 16, fix[0]);
    b.memory.write_u64(kCmdBuf + 24, fix[1]);
    b.tail = 48;
    b.write64(reg::kControl, b.control() & ~reg::kCtrlCmdBufEn);
    b.write64(reg::kControl, b.control());
    drained = b.drain();
  });
  EXPECT_EQ(status_stopped & reg::kStatusCmdBufRun, 0u);
  EXPECT_TRUE(status_stopped & reg::kStatusEventLogInt);
  EXPECT_EQ(head_stopped, 16u);
  ASSERT_GE(b.events(), 1u);
  EXPECT_EQ(b.event(0).code, EventCode::kIllegalCommandError);
  EXPECT_EQ(b.event(0).address, kCmdBuf + 16);
  EXPECT_TRUE(drained);
  EXPECT_NE(b.spy.first_write(kSem), nullptr);
  EXPECT_EQ(b.counter("iommu.command_queue.bad_commands"), 1u);
}

TEST(AmdviTest, CompletePprRequestSendsThePrgResponse) {
  AmdviBench b;
  test::run_thread([&] {
    b.init();
    b.submit({CompletePprRequest{kRid0, 5, true, 7, kPprStatusInvalidRequest},
              CompletePprRequest{kRid0, 0, false, 8, kPprStatusResponseFailure},
              CompletePprRequest{kRid1, 0, false, 9, kPprStatusSuccess}, AmdviBench::store()});
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
}

// 256-entry log: 255 entries fit (one stays free); the next faults are lost, EventOverflow
// set and logging stops until the log is re-enabled.
TEST(AmdviTest, EventLogOverflowStopsLogging) {
  AmdviBench b;
  const uint64_t root = b.editor.new_root();  // nothing mapped: every DMA faults
  b.guest_device(kRid0, 1, 2, root);
  uint64_t status = 0;
  test::run_thread([&] {
    b.init();
    uint64_t v = 0;
    for (int i = 0; i < 258; ++i) b.dev0.dma(2, kVa + 0x1000 * i, false, &v, 8);
    sc_core::wait(ns(1000));
    status = b.read64(reg::kStatus);
  });
  EXPECT_TRUE(status & reg::kStatusEventOverflow);
  EXPECT_EQ(status & reg::kStatusEventLogRun, 0u);
  EXPECT_EQ(b.counter("iommu.event_log.written"), 255u);
  EXPECT_EQ(b.counter("iommu.event_log.lost"), 1u);
  EXPECT_EQ(b.counter("iommu.event_log.discarded"), 2u);
}

TEST(AmdviTest, PageRequestsAreLoggedAndALostLastRequestIsAnswered) {
  AmdviBench b;
  const uint64_t root = b.editor.new_root();
  b.guest_device(kRid0, 1, 4, root);
  b.guest_device(kRid1, 2, 4, root, /*ppr=*/false);
  bool irq = false;
  uint64_t status = 0;
  test::run_threads({[&] {
                       b.init();
                       PageRequest r;
                       r.write = true;
                       r.last = true;
                       r.pasid = PasidPrefix::with(4);
                       for (uint16_t g = 0; g < 256; ++g) {
                         r.page_address = kVa + 0x1000 * g;
                         r.prg_index = g;
                         b.dev0.message(r);
                       }
                       b.dev1.message(r);  // DTE.PPR = 0: refused
                       sc_core::wait(ns(50000));
                       status = b.read64(reg::kStatus);
                     },
                     [&] {
                       sc_core::wait(b.iommu.page_request_event());
                       irq = true;
                     }});
  EXPECT_TRUE(irq);
  EXPECT_TRUE(status & reg::kStatusPprOverflow);
  EXPECT_EQ(b.counter("iommu.ppr_log.written"), 255u);
  EXPECT_EQ(b.counter("iommu.ppr_log.lost"), 1u);
  const PprLogEntry e = b.ppr(0);
  EXPECT_EQ(e.device_id, kRid0);
  EXPECT_EQ(e.pasid, 4u);
  EXPECT_TRUE(e.last);
  EXPECT_EQ(e.flags, ppr_flag::kGn | ppr_flag::kWrite | ppr_flag::kUser);
  EXPECT_EQ(e.address, kVa);
  ASSERT_EQ(b.dev0.responses.size(), 1u);  // the lost one (prg 255): overflow_response
  EXPECT_EQ(b.dev0.responses[0].resp.prg_index, 255u);
  EXPECT_EQ(b.dev0.responses[0].resp.code, PrgResponseCode::kSuccess);
  ASSERT_EQ(b.dev1.responses.size(), 1u);
  EXPECT_EQ(b.dev1.responses[0].resp.code, PrgResponseCode::kInvalidRequest);
  EXPECT_EQ(b.counter("iommu.ppr_refused"), 1u);
}

}  // namespace
}  // namespace iosim
