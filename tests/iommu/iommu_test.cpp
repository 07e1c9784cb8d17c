#include "iommu/iommu.h"

#include <gtest/gtest.h>

#include <vector>

#include "huge_leaves.h"
#include "iommu_bench.h"

namespace iosim {
namespace {

using sc_core::sc_time;
using test::IommuBench;
using test::kRid;
using test::run_thread;

// Time of one memory access of `bytes` on an idle channel, from the memory config.
double mem_ns(unsigned bytes) {
  const PhysicalMemoryConfig c = test::small_memory();
  return c.access_latency_ns + bytes / c.channel_bandwidth_gb_per_s;
}

struct Message {
  PcieExtension ext;
  sc_time arrival;
};

// Records every downstream message with its arrival time.
void record_downstream(IommuBench& b, std::vector<Message>& out) {
  b.down.hook = [&out](tlm::tlm_generic_payload& gp, sc_time& d) {
    if (auto* e = PcieExtension::of(gp)) out.push_back({*e, sc_core::sc_time_stamp() + d});
  };
}

TEST(Iommu, IotlbHitVersusMissLatencyMatchesTheConfig) {
  IommuConfig cfg;
  IommuBench b(cfg);
  const uint64_t root = b.bind(1);
  for (int i = 0; i < 2; ++i) {
    b.editor.map(root, 0x40000000 + i * 0x1000, 0x200000 + i * 0x1000, PageSize::k4K,
                 IommuBench::kUserRw);
  }
  sc_time cold, hit, warm_miss;
  uint64_t reads_before_warm = 0, reads_after_warm = 0;
  run_thread([&] {
    uint64_t v = 0;
    ASSERT_EQ(b.dma(1, 0x40000000, false, &v, 8, &cold), tlm::TLM_OK_RESPONSE);
    ASSERT_EQ(b.dma(1, 0x40000008, false, &v, 8, &hit), tlm::TLM_OK_RESPONSE);
    reads_before_warm = b.iommu.memory_port().reads();
    ASSERT_EQ(b.dma(1, 0x40001000, false, &v, 8, &warm_miss), tlm::TLM_OK_RESPONSE);
    reads_after_warm = b.iommu.memory_port().reads();
  });
  const double m8 = mem_ns(8);
  EXPECT_NEAR(to_ns(hit), cfg.iotlb.lookup_latency_ns + m8, 0.01);
  // Warm miss: context + PASID cache lookups (hits), walker overhead, PDE + PTE reads.
  const double miss_extra = 2 * cfg.tables.lookup_latency_ns + cfg.walker.walk_overhead_ns + 2 * m8;
  EXPECT_NEAR(to_ns(warm_miss) - to_ns(hit), miss_extra, 0.01);
  EXPECT_NEAR(to_ns(warm_miss) - to_ns(hit), 280.0, 10.0);  // calibration target
  EXPECT_EQ(reads_after_warm - reads_before_warm, 3u);      // PDE + PTE + the DMA read itself
  EXPECT_GT(cold, warm_miss);
  EXPECT_EQ(b.iommu.iotlb().hits(), 1u);
  EXPECT_EQ(b.iommu.iotlb().misses(), 2u);
}

TEST(Iommu, WalkReadsWithColdAndWarmWalkCaches) {
  IommuConfig cfg;
  cfg.walker.pde_cache_entries = 16;
  IommuBench b(cfg);
  const uint64_t root = b.bind(1);
  for (int i = 0; i < 2; ++i) {
    b.editor.map(root, 0x40000000 + i * 0x1000, 0x200000 + i * 0x1000, PageSize::k4K,
                 IommuBench::kUserRw);
  }
  const Counter* walk_reads = nullptr;
  uint64_t cold = 0, warm = 0;
  run_thread([&] {
    walk_reads = b.ctx.stats().find_as<Counter>("iommu.walk_reads");
    ASSERT_NE(walk_reads, nullptr);
    uint64_t v = 0;
    b.dma(1, 0x40000000, false, &v, 8);
    cold = walk_reads->value();
    b.dma(1, 0x40001000, false, &v, 8);
    warm = walk_reads->value() - cold;
  });
  EXPECT_EQ(cold, 4u);  // PML4E, PDPTE, PDE, PTE
  EXPECT_EQ(warm, 1u);  // PDE cache hit: only the PTE
  // The cold walk set A in the three intermediate entries.
  const auto w = walk(b.memory, root, 0x40000000);
  for (unsigned i = 0; i < 3; ++i) EXPECT_TRUE(w.entries[i].accessed());
}

TEST(Iommu, WalkSetsAccessedAndDirtyBitsLikeTheCpuWalker) {
  IommuBench b;
  const uint64_t root = b.bind(1);
  b.editor.map(root, 0x1000, 0x300000, PageSize::k4K, Pte::kWritable | Pte::kUser);
  run_thread([&] {
    uint64_t v = 0;
    b.dma(1, 0x1000, false, &v, 8);
    EXPECT_TRUE(b.editor.lookup(root, 0x1000)->pte.accessed());
    EXPECT_FALSE(b.editor.lookup(root, 0x1000)->pte.dirty());
    v = 0x1234;
    EXPECT_EQ(b.dma(1, 0x1000, true, &v, 8), tlm::TLM_OK_RESPONSE);
    EXPECT_TRUE(b.editor.lookup(root, 0x1000)->pte.dirty());
  });
  EXPECT_EQ(b.memory.read_u64(0x300000), 0x1234u);
}

TEST(Iommu, AtsCompletionFieldsFor4K2M1GAndReadOnlyPages) {
  IommuBench b;
  const uint64_t root = b.bind(3);
  b.editor.map(root, 0x7000, 0x305000, PageSize::k4K, IommuBench::kUserRw);
  b.editor.map(root, 0x40200000, 0x600000, PageSize::k2M, IommuBench::kUserRw);
  b.editor.map(root, 0x80000000, 0x40000000, PageSize::k1G, IommuBench::kUserRw);
  b.editor.map(root, 0x9000, 0x309000, PageSize::k4K, Pte::kUser | Pte::kAccessed);
  run_thread([&] {
    PcieExtension e = b.ats(3, 0x7000);
    ASSERT_EQ(e.completion_status, AtsCompletionStatus::kSuccess);
    ASSERT_EQ(e.completions.size(), 1u);
    EXPECT_EQ(e.completions[0].range, AtsRange::with_log2(0x305000, 12));
    EXPECT_TRUE(e.completions[0].read);
    EXPECT_TRUE(e.completions[0].write);
    EXPECT_FALSE(e.completions[0].untranslated_only);
    EXPECT_FALSE(e.completions[0].priv);
    EXPECT_FALSE(e.completions[0].exe);
    EXPECT_FALSE(e.completions[0].global);

    e = b.ats(3, 0x40234000);
    EXPECT_EQ(e.completions.at(0).range, AtsRange::with_log2(0x600000, 21));
    EXPECT_TRUE(encode_s_range(e.completions[0].range).s);  // S bit set for pages above 4K
    e = b.ats(3, 0x80001000);
    EXPECT_EQ(e.completions.at(0).range, AtsRange::with_log2(0x40000000, 30));
    EXPECT_TRUE(e.completions[0].write);

    e = b.ats(3, 0x9000);
    EXPECT_TRUE(e.completions.at(0).read);
    EXPECT_FALSE(e.completions[0].write);
  });
}

// A 2 MiB and a 1 GiB leaf: one IOTLB entry each, no walk-cache entry at or below the
// leaf's level; a PASID-IOTLB PSI of one 4 KiB page inside (AM = 0) drops the whole
// entry, with IH = 1 keeping the walk caches and IH = 0 dropping those covering it.
TEST(Iommu, HugeLeafPsiOfOnePageDropsTheWholeLeafAndIhKeepsTheWalkCaches) {
  test::IommuBench b(test::huge::with_pde_cache(IommuConfig{}));
  const uint64_t root = b.bind(1);
  test::huge::map_leaves(b.editor, root);
  test::huge::Cached filled, after_ih, after_2m, after_1g;
  test::run_thread([&] {
    b.setup_command_queue();
    uint64_t v = 0;
    b.dma(1, test::huge::kVa2M + 0x1ff008, false, &v, 8);
    b.dma(1, test::huge::kVa1G + 0x3fe00008, false, &v, 8);
    filled = test::huge::cached(b.iommu);
    // IH = 1 (only leaves changed): the IOTLB entry goes, the walk caches stay.
    b.submit(
        PasidIotlbInv{PasidIotlbInv::kPage, 1, 1, test::huge::kVa2M + test::huge::kInside, 0, true}
            .encode());
    sc_core::wait(1, sc_core::SC_US);
    after_ih = test::huge::cached(b.iommu);
    b.dma(1, test::huge::kVa2M, false, &v, 8);
    b.submit(
        PasidIotlbInv{PasidIotlbInv::kPage, 1, 1, test::huge::kVa2M + test::huge::kInside, 0, false}
            .encode());
    sc_core::wait(1, sc_core::SC_US);
    after_2m = test::huge::cached(b.iommu);
    b.submit(
        PasidIotlbInv{PasidIotlbInv::kPage, 1, 1, test::huge::kVa1G + test::huge::kInside, 0, false}
            .encode());
    sc_core::wait(1, sc_core::SC_US);
    after_1g = test::huge::cached(b.iommu);
  });
  test::huge::expect_filled(filled);
  EXPECT_FALSE(after_ih.leaf_2m);
  EXPECT_TRUE(after_ih.leaf_1g);
  EXPECT_EQ(after_ih.pml4e, 1u);
  EXPECT_EQ(after_ih.pdpte, 1u);
  // IH = 0: the 2 MiB entry and the PML4E and PDPTE covering the page.
  EXPECT_FALSE(after_2m.leaf_2m);
  EXPECT_TRUE(after_2m.leaf_1g);
  EXPECT_EQ(after_2m.iotlb, 1u);
  EXPECT_EQ(after_2m.pml4e + after_2m.pdpte, 0u);
  EXPECT_EQ(after_1g.iotlb, 0u);
}

TEST(Iommu, AtsNotPresentGivesReadWriteZeroAndUnsupportedWithoutAts) {
  RootPortConfig pc;
  IommuBench b({}, pc);
  b.bind(3);
  run_thread([&] {
    PcieExtension e = b.ats(3, 0x5000);
    ASSERT_EQ(e.completion_status, AtsCompletionStatus::kSuccess);
    ASSERT_EQ(e.completions.size(), 1u);
    EXPECT_FALSE(e.completions[0].read);
    EXPECT_FALSE(e.completions[0].write);
    e = b.ats(9, 0x5000);  // PASID entry not present
    EXPECT_EQ(e.completion_status, AtsCompletionStatus::kUnsupportedRequest);
  });
}

TEST(Iommu, FailingUntranslatedRequestRecordsAFault) {
  IommuBench b;
  const uint64_t root = b.bind(1);
  b.editor.map(root, 0x2000, 0x302000, PageSize::k4K, Pte::kUser | Pte::kAccessed);  // read-only
  uint64_t qw0 = 0, qw1 = 0, fsts = 0;
  run_thread([&] {
    uint64_t v = 7;
    EXPECT_EQ(b.dma(1, 0x2008, true, &v, 8), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(b.dma(1, 0x6000, false, &v, 8), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    qw0 = b.read_reg(vtd_reg::kFrcdBase);
    qw1 = b.read_reg(vtd_reg::kFrcdBase + 8);
    fsts = b.read_reg(vtd_reg::kFsts);
    b.write_reg(vtd_reg::kFrcdBase + 8, 1ull << 63);
  });
  EXPECT_EQ(b.memory.read_u64(0x302008), 0u);  // nothing written
  EXPECT_EQ(qw0, 0x2000u);
  EXPECT_EQ(qw1 & 0xffff, kRid);
  EXPECT_EQ((qw1 >> 32) & 0xff, static_cast<uint64_t>(FaultReason::kWriteDenied));
  EXPECT_EQ((qw1 >> 40) & 0xfffff, 1u);
  EXPECT_EQ((qw1 >> 62) & 1, 0u);  // T = write
  EXPECT_EQ(qw1 >> 63, 1u);        // F
  EXPECT_TRUE(fsts & vtd_reg::kFstsPpf);
  EXPECT_EQ(b.iommu.faults().at(1).reason, FaultReason::kPageNotPresent);
  EXPECT_FALSE(b.iommu.faults().at(0).pending);  // cleared by the W1C write
}

TEST(Iommu, PassThroughPasidEntryUsesTheAddressAsPhysicalWithoutAWalk) {
  IommuBench b;
  PasidEntry pt;  // RID_PASID (0): requests without a PASID
  pt.present = true;
  pt.pgtt = Pgtt::kPassThrough;
  b.write_entry(b.pasid_table, pt.encode());
  b.memory.write_u64(0x345008, 0xabc);
  run_thread([&] {
    PcieExtension ext = PcieExtension::memory(kRid);  // no PASID prefix
    uint64_t v = 0;
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    EXPECT_EQ(b.dev.transport(tlm::TLM_READ_COMMAND, 0x345008, &v, 8, d, &ext),
              tlm::TLM_OK_RESPONSE);
    sc_core::wait(d);
    EXPECT_EQ(v, 0xabcu);
    // A PASID whose entry is not present still faults.
    EXPECT_EQ(b.dma(1, 0x345008, false, &v, 8), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  });
  EXPECT_EQ(b.iommu.walker().walks(), 0u);
}

TEST(Iommu, PasidEntryWithAnUnimplementedTranslationTypeFaults) {
  IommuBench b;
  Desc128 raw = PasidEntry{true, false, 0, 1}.encode();
  raw.qw0 = (raw.qw0 & ~(uint64_t{7} << 6)) | (uint64_t{0b010} << 6);  // second-stage only
  b.write_entry(b.pasid_table + 16, raw);
  EXPECT_TRUE(PasidEntry::decode(raw).pgtt_unsupported);
  run_thread([&] {
    uint64_t v = 0;
    EXPECT_EQ(b.dma(1, 0x1000, false, &v, 8), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  });
  EXPECT_EQ(b.iommu.faults().at(0).reason, FaultReason::kReservedBit);
}

TEST(Iommu, PasidIsolation) {
  IommuBench b;
  const uint64_t mm1 = b.bind(1);
  const uint64_t mm2 = b.bind(2);
  b.editor.map(mm1, 0x10000, 0x310000, PageSize::k4K, IommuBench::kUserRw);
  b.editor.map(mm2, 0x20000, 0x320000, PageSize::k4K, IommuBench::kUserRw);
  b.memory.write_u64(0x320000, 0x5ec7e7);
  run_thread([&] {
    uint64_t v = 0;
    ASSERT_EQ(b.dma(2, 0x20000, false, &v, 8), tlm::TLM_OK_RESPONSE);  // fills the IOTLB
    EXPECT_EQ(v, 0x5ec7e7u);
    v = 0;
    EXPECT_EQ(b.dma(1, 0x20000, false, &v, 8), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(v, 0u);
    EXPECT_FALSE(b.ats(1, 0x20000).completions.at(0).read);
    EXPECT_TRUE(b.ats(2, 0x20000).completions.at(0).read);
  });
}

TEST(Iommu, IotlbCommandsInvalidateByPasidRangeAndGlobally) {
  IommuBench b;
  const uint64_t mm1 = b.bind(1);
  const uint64_t mm2 = b.bind(2);
  for (uint64_t va = 0x10000; va < 0x18000; va += 0x1000) {
    b.editor.map(mm1, va, 0x300000 + va, PageSize::k4K, IommuBench::kUserRw);
    b.editor.map(mm2, va, 0x400000 + va, PageSize::k4K, IommuBench::kUserRw);
  }
  auto count = [&](uint32_t pasid) {
    size_t n = 0;
    b.iommu.iotlb().cache().for_each([&](const TranslationEntry& e) { n += e.pasid == pasid; });
    return n;
  };
  run_thread([&] {
    b.setup_command_queue();
    uint64_t v = 0;
    for (uint64_t va = 0x10000; va < 0x18000; va += 0x1000) {
      b.dma(1, va, false, &v, 8);
      b.dma(2, va, false, &v, 8);
    }
    ASSERT_EQ(count(1), 8u);
    // Page-selective: 4 pages at 0x14000 (AM = 2).
    b.submit(PasidIotlbInv{PasidIotlbInv::kPage, 1, 1, 0x14000, 2, false}.encode());
    sc_core::wait(1, sc_core::SC_US);
    EXPECT_EQ(count(1), 4u);
    EXPECT_EQ(count(2), 8u);
    for (uint64_t va = 0x10000; va < 0x14000; va += 0x1000) {
      EXPECT_NE(b.iommu.iotlb().cache().peek({1, kRid}, va), nullptr);
    }
    b.submit(PasidIotlbInv{PasidIotlbInv::kPasid, 1, 2, 0, 0, false}.encode());
    sc_core::wait(1, sc_core::SC_US);
    EXPECT_EQ(count(2), 0u);
    EXPECT_EQ(count(1), 4u);
    b.submit(IotlbInv{IotlbInv::kGlobal, 0, 0, 0, false}.encode());
    sc_core::wait(1, sc_core::SC_US);
    EXPECT_EQ(b.iommu.iotlb().cache().size(), 0u);
    EXPECT_EQ(b.read_reg(vtd_reg::kIqh), 3u * 16);
  });
}

TEST(Iommu, ContextAndPasidCacheInvalidationMakeTheNextRequestRefetch) {
  IommuBench b;
  const uint64_t mm1 = b.bind(1);
  b.editor.map(mm1, 0x10000, 0x310000, PageSize::k4K, IommuBench::kUserRw);
  run_thread([&] {
    b.setup_command_queue();
    uint64_t v = 0;
    b.dma(1, 0x10000, false, &v, 8);
    EXPECT_EQ(b.iommu.tables().context_cache_size(), 1u);
    EXPECT_EQ(b.iommu.tables().pasid_cache_size(), 1u);
    // Software unbinds PASID 1: clears the entry, then invalidates PASID cache and IOTLB.
    b.write_entry(b.pasid_table + 16, PasidEntry{}.encode());
    b.submit(PasidCacheInv{PasidCacheInv::kPasid, 1, 1}.encode());
    b.submit(PasidIotlbInv{PasidIotlbInv::kPasid, 1, 1, 0, 0, false}.encode());
    b.submit(ContextCacheInv{ContextCacheInv::kDevice, 0, kRid}.encode());
    sc_core::wait(1, sc_core::SC_US);
    EXPECT_EQ(b.iommu.tables().pasid_cache_size(), 0u);
    EXPECT_EQ(b.iommu.tables().context_cache_size(), 0u);
    EXPECT_EQ(b.dma(1, 0x10000, false, &v, 8), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(b.iommu.faults().at(0).reason, FaultReason::kPasidNotPresent);
  });
}

TEST(Iommu, DevTlbInvalidationAndPrgResponseGoDownstream) {
  IommuBench b;
  std::vector<Message> msgs;
  record_downstream(b, msgs);
  run_thread([&] {
    b.setup_command_queue();
    const SBitAddress a = encode_s_range(0x200000, 0x200000);
    b.submit(DevTlbInv{true, kRid, 0, 5, a.address, a.s, true}.encode());
    b.submit(PageGroupResponseDesc{true, 0, kRid, 5, true, 17}.encode());
    sc_core::wait(1, sc_core::SC_US);
  });
  ASSERT_EQ(msgs.size(), 2u);
  ASSERT_EQ(msgs[0].ext.kind(), PcieKind::kInvalidateRequest);
  const auto& req = std::get<InvalidateRequest>(msgs[0].ext.body);
  EXPECT_EQ(req.destination_id, kRid);
  EXPECT_EQ(req.range, AtsRange::with_log2(0x200000, 21));
  EXPECT_TRUE(req.pasid.present);
  EXPECT_EQ(req.pasid.pasid, 5u);
  EXPECT_TRUE(req.global_invalidate);
  EXPECT_EQ(req.itag, 0u);
  ASSERT_EQ(msgs[1].ext.kind(), PcieKind::kPrgResponse);
  const auto& r = std::get<PrgResponse>(msgs[1].ext.body);
  EXPECT_EQ(r.prg_index, 17u);
  EXPECT_EQ(r.code, PrgResponseCode::kSuccess);
  EXPECT_EQ(r.pasid.pasid, 5u);
  EXPECT_EQ(b.port.itags_in_flight(), 1u);
}

TEST(Iommu, WaitSyncCompletesOnlyAfterTheAtcInvalidationCompletes) {
  IommuBench b;
  std::vector<Message> msgs;
  record_downstream(b, msgs);
  const uint64_t status = 0x90000;
  sc_time wait_done, completion_sent;
  run_thread([&] {
    b.setup_command_queue();
    const SBitAddress a = encode_s_range(0x1000, 0x1000);
    b.submit(DevTlbInv{true, kRid, 0, 5, a.address, a.s, false}.encode());
    b.submit(InvWait{true, true, false, 0xC0FFEE, status}.encode());
    sc_core::wait(5, sc_core::SC_US);
    EXPECT_EQ(b.memory.read_u64(status), 0u);  // not yet: the device has not answered
    EXPECT_EQ(b.read_reg(vtd_reg::kIcs), 0u);
    ASSERT_EQ(msgs.size(), 1u);
    InvalidateCompletion c;
    c.requester_id = kRid;
    c.itag_vector = 1u << std::get<InvalidateRequest>(msgs[0].ext.body).itag;
    c.completion_count = 1;
    completion_sent = sc_core::sc_time_stamp();
    b.message(c);
    sc_core::wait(b.iommu.completion_event());
    wait_done = sc_core::sc_time_stamp();
  });
  EXPECT_EQ(b.memory.read_u64(status), 0xC0FFEEu);
  EXPECT_GE(wait_done, completion_sent);
  EXPECT_EQ(b.port.itags_in_flight(), 0u);
}

TEST(Iommu, WaitCompletionRegistersChangeWhenTheStatusWriteEnds) {
  // The command queue does not wait for the end of the last command: IQH, ICS.IWC
  // and the interrupt must still take effect when the status write has completed,
  // not when it starts (the status word is in memory from the start).
  IommuBench b;
  const uint64_t status = 0x90000;
  const double reg_ns = IommuConfig{}.register_latency_ns;
  sc_time write_seen, irq;
  uint64_t ics_during = 9, iqh_during = 9, ics_after = 9, iqh_after = 9;
  auto status_written = [&] {
    while (b.memory.read_u64(status) != 0xC0FFEEu) sc_core::wait(ns(1));
  };
  test::run_threads({[&] {
                       b.setup_command_queue();
                       b.submit(InvWait{true, true, false, 0xC0FFEE, status}.encode());
                       status_written();
                       write_seen = sc_core::sc_time_stamp();
                       ics_during = b.read_reg(vtd_reg::kIcs);  // acts reg_ns later
                     },
                     [&] {
                       sc_core::wait(ns(1));
                       status_written();
                       iqh_during = b.read_reg(vtd_reg::kIqh);
                     },
                     [&] {
                       sc_core::wait(b.iommu.completion_event());
                       irq = sc_core::sc_time_stamp();
                       ics_after = b.read_reg(vtd_reg::kIcs);
                       iqh_after = b.read_reg(vtd_reg::kIqh);
                     }});
  ASSERT_GT(irq, write_seen + ns(reg_ns));  // the reads above acted inside the write
  EXPECT_EQ(ics_during, 0u);
  EXPECT_EQ(iqh_during, 0u);
  EXPECT_EQ(ics_after, 1u);
  EXPECT_EQ(iqh_after, 16u);
  EXPECT_EQ(b.iommu.command_queue().processed(), 1u);
}

TEST(Iommu, ItagBackPressureAtTheInvalidateQueueDepth) {
  RootPortConfig pc;
  pc.invalidate_queue_depth = 2;
  IommuBench b({}, pc);
  std::vector<Message> msgs;
  record_downstream(b, msgs);
  run_thread([&] {
    b.setup_command_queue();
    for (int i = 0; i < 3; ++i) {
      const SBitAddress a = encode_s_range(0x1000 * (i + 1), 0x1000);
      b.submit(DevTlbInv{true, kRid, 0, 5, a.address, a.s, false}.encode());
    }
    sc_core::wait(5, sc_core::SC_US);
    EXPECT_EQ(msgs.size(), 2u);  // the third waits for a free ITag
    EXPECT_EQ(b.port.itags_in_flight(), 2u);
    InvalidateCompletion c;
    c.requester_id = kRid;
    c.itag_vector = 1u << std::get<InvalidateRequest>(msgs[0].ext.body).itag;
    b.message(c);
    sc_core::wait(1, sc_core::SC_US);
    ASSERT_EQ(msgs.size(), 3u);
    EXPECT_NE(std::get<InvalidateRequest>(msgs[2].ext.body).itag,
              std::get<InvalidateRequest>(msgs[1].ext.body).itag);
  });
  const auto* stalls =
      b.ctx.stats().find_as<Counter>("iommu.command_queue.itag_backpressure_stalls");
  ASSERT_NE(stalls, nullptr);
  EXPECT_EQ(stalls->value(), 1u);
}

TEST(Iommu, ItagTimeoutFailsTheNextWaitWithoutHanging) {
  IommuConfig cfg;
  cfg.command_queue.itag_timeout_ns = 10000;
  IommuBench b(cfg);
  const uint64_t status = 0x90000;
  sc_time fault_time;
  run_thread([&] {
    b.setup_command_queue();
    const SBitAddress a = encode_s_range(0x1000, 0x1000);
    b.submit(DevTlbInv{true, kRid, 0, 5, a.address, a.s, false}.encode());
    b.submit(InvWait{true, true, false, 1, status}.encode());
    sc_core::wait(b.iommu.fault_event());
    fault_time = sc_core::sc_time_stamp();
    sc_core::wait(1, sc_core::SC_US);
    EXPECT_EQ(b.memory.read_u64(status), 0u);  // failed wait: no status write
    EXPECT_TRUE(b.read_reg(vtd_reg::kFsts) & vtd_reg::kFstsIte);
    EXPECT_EQ(b.iommu.command_queue().failed_waits(), 1u);
    // The queue goes on: the next wait succeeds.
    b.write_reg(vtd_reg::kFsts, vtd_reg::kFstsIte);
    b.submit(InvWait{false, true, false, 2, status}.encode());
    sc_core::wait(1, sc_core::SC_US);
    EXPECT_EQ(b.memory.read_u64(status), 2u);
  });
  EXPECT_GE(to_ns(fault_time), 10000.0);
  EXPECT_LT(to_ns(fault_time), 11000.0);
  EXPECT_EQ(b.iommu.command_queue().timeouts(), 1u);
  EXPECT_EQ(b.port.itags_in_flight(), 0u);
}

TEST(Iommu, PageRequestsAreWrittenToTheQueueAndOverflowIsHandled) {
  IommuBench b;
  std::vector<Message> msgs;
  record_downstream(b, msgs);
  uint64_t prq = 0;
  run_thread([&] {
    prq = b.alloc();
    b.write_reg(vtd_reg::kPqa, prq);  // PQS = 0: 128 descriptors, 127 usable
    for (unsigned i = 0; i < 128; ++i) {
      PageRequest r;
      r.page_address = 0x1000 * (i + 1);
      r.read = true;
      r.last = i == 127;
      r.prg_index = static_cast<uint16_t>(i);
      r.pasid = PasidPrefix::with(4);
      b.message(r);
    }
    sc_core::wait(100, sc_core::SC_US);
    EXPECT_EQ(b.read_reg(vtd_reg::kPqt), 127u * 32);
    EXPECT_EQ(b.read_reg(vtd_reg::kPrs), 3u);  // PPR and PRO
  });
  uint64_t q[4];
  for (int i = 0; i < 4; ++i) q[i] = b.memory.read_u64(prq + 32 + 8 * i);
  const PageRequestDesc d = PageRequestDesc::decode(q);
  EXPECT_EQ(d.addr, 0x2000u);
  EXPECT_EQ(d.prg_index, 1u);
  EXPECT_EQ(d.pasid, 4u);
  EXPECT_EQ(d.rid, kRid);
  EXPECT_TRUE(d.read);
  EXPECT_EQ(b.iommu.page_request_queue().overflows(), 1u);
  ASSERT_EQ(msgs.size(), 1u);  // the dropped last-in-group request was answered
  const auto& r = std::get<PrgResponse>(msgs[0].ext.body);
  EXPECT_EQ(r.prg_index, 127u);
  EXPECT_EQ(r.code, PrgResponseCode::kSuccess);
}

TEST(Iommu, TranslatedRequestsPassOrAreRejectedInCheckingMode) {
  IommuConfig cfg;
  cfg.check_translated_requests = true;
  RootPortConfig pc;
  pc.ats_enabled = false;
  IommuBench b(cfg, pc);
  b.memory.write_u64(0x330000, 99);
  run_thread([&] {
    PcieExtension ext = PcieExtension::memory(kRid, AddressType::kTranslated);
    uint64_t v = 0;
    sc_time d = sc_core::SC_ZERO_TIME;
    EXPECT_EQ(b.dev.transport(tlm::TLM_READ_COMMAND, 0x330000, &v, 8, d, &ext),
              tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(v, 0u);
    EXPECT_EQ(b.iommu.faults().at(0).reason, FaultReason::kAtsDisabled);
  });
}

TEST(Iommu, TranslatedRequestsAreForwardedWhenAtsIsEnabled) {
  IommuConfig cfg;
  cfg.check_translated_requests = true;
  IommuBench b(cfg);
  b.memory.write_u64(0x330000, 99);
  run_thread([&] {
    PcieExtension ext = PcieExtension::memory(kRid, AddressType::kTranslated);
    uint64_t v = 0;
    sc_time d = sc_core::SC_ZERO_TIME;
    EXPECT_EQ(b.dev.transport(tlm::TLM_READ_COMMAND, 0x330000, &v, 8, d, &ext),
              tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(v, 99u);
    EXPECT_NEAR(to_ns(d), mem_ns(8), 0.01);
  });
}

}  // namespace
}  // namespace iosim

namespace iosim {
namespace {

TEST(Iommu, MissesQueueForTheWalkerPool) {
  IommuConfig cfg;
  cfg.walker.walkers = 1;
  IommuBench b(cfg);
  RootPortConfig pc2;
  pc2.requester_id = 0x0108;
  RootPort& rp2 = b.iommu.add_root_port("rp1", pc2);
  test::StubInitiator dev2("dev2");
  test::StubTarget down2("down2");
  dev2.socket.bind(rp2.upstream);
  rp2.downstream.bind(down2.socket);
  b.write_entry(b.context_table + 16 * 0x08,
                ContextEntry{true, true, true, true, b.pasid_table, 8, 0}.encode());
  const uint64_t mm = b.bind(1);
  b.editor.map(mm, 0x10000, 0x310000, PageSize::k4K, IommuBench::kUserRw);
  b.editor.map(mm, 0x40000000, 0x320000, PageSize::k4K, IommuBench::kUserRw);
  sc_time first, second;
  auto issue = [](test::StubInitiator& d, uint16_t rid, uint64_t va, sc_time& out) {
    PcieExtension ext =
        PcieExtension::memory(rid, AddressType::kUntranslated, PasidPrefix::with(1));
    uint64_t v = 0;
    sc_time delay = sc_core::SC_ZERO_TIME;
    d.transport(tlm::TLM_READ_COMMAND, va, &v, 8, delay, &ext);
    sc_core::wait(delay);
    out = sc_core::sc_time_stamp();
  };
  sc_core::sc_spawn([&] { issue(b.dev, kRid, 0x10000, first); });
  sc_core::sc_spawn([&] { issue(dev2, 0x0108, 0x40000000, second); });
  sc_core::sc_start(1, sc_core::SC_SEC, sc_core::SC_EXIT_ON_STARVATION);
  // Both walks are cold; the second had to wait for the only walker.
  const auto* wait_hist = b.ctx.stats().find_as<Histogram>("iommu.walker_wait");
  ASSERT_NE(wait_hist, nullptr);
  EXPECT_EQ(wait_hist->count(), 2u);
  EXPECT_GT(wait_hist->max(), 100.0);
  EXPECT_GT(second, first);
}

}  // namespace
}  // namespace iosim
