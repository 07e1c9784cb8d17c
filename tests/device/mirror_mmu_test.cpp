// A mirror device (device.N.kind = mirror) against a stub IOMMU whose byte map is
// system memory (tests/device/stub_iommu.h: memory reads take 50 ns), with the test
// playing its driver through the registers of device/mirror_sw_interface.h.
#include "device/device.h"
#include "sc_models/page_table/page_table.h"
#include "tests/common/tlm_bench.h"
#include "tests/device/stub_iommu.h"

#include <gtest/gtest.h>
#include <tlm_utils/simple_initiator_socket.h>

#include <cstring>

namespace iosim {
namespace {

using sc_core::SC_NS;
using sc_core::sc_time;
using test::run_thread;
using test::StubIommu;

constexpr uint64_t kVa = 0x10000000;
constexpr uint64_t kFrame = 0x7000000;
constexpr uint64_t kRoot = 0x1000, kFaultBuffer = 0x8000, kStatus = 0x9000;
constexpr uint32_t kCtx = 3;

struct Driver : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Driver> regs{"regs"};
  explicit Driver(sc_core::sc_module_name n) : sc_module(n) {}
  uint64_t access(tlm::tlm_command cmd, uint64_t off, uint64_t v) {
    tlm::tlm_generic_payload gp;
    gp.set_command(cmd);
    gp.set_address(off);
    gp.set_data_ptr(reinterpret_cast<unsigned char*>(&v));
    gp.set_data_length(8);
    gp.set_streaming_width(8);
    sc_time d = sc_core::SC_ZERO_TIME;
    regs->b_transport(gp, d);
    sc_core::wait(d);
    return v;
  }
  void write(uint64_t off, uint64_t v) { access(tlm::TLM_WRITE_COMMAND, off, v); }
  uint64_t read(uint64_t off) { return access(tlm::TLM_READ_COMMAND, off, 0); }
};

DeviceConfig mirror_config(std::vector<ScriptOp> ops) {
  DeviceConfig c;
  c.kind = DeviceKind::kMirror;
  c.ats_enabled = false;
  c.pri_enabled = false;
  c.mirror.mmio_read_ns = 1000;
  c.mirror.mmio_write_ns = 100;
  c.mirror.invalidation_processing_ns = 500;
  c.max_translation_attempts = 3;
  DmaThreadConfig t;
  t.pattern = AccessPattern::kScript;
  t.pasid = kCtx;  // a mirror device's thread names its context
  t.script = std::move(ops);
  c.threads.push_back(t);
  return c;
}

struct Bench {
  SimContext ctx;
  Device dev;
  StubIommu iommu{"iommu"};
  Driver drv{"drv"};
  GroundTruth gt;
  GroundTruthRecorder rec;
  explicit Bench(std::vector<ScriptOp> ops) : dev("dev", ctx, mirror_config(std::move(ops))) {
    dev.upstream.bind(iommu.up);
    iommu.down.bind(dev.downstream);
    drv.regs.bind(dev.mirror()->regs);
    gt.subscribe(&rec);
    dev.set_ground_truth(&gt);
  }
  void put_u64(uint64_t addr, uint64_t v) {
    for (int i = 0; i < 8; ++i) iommu.mem[addr + i] = static_cast<uint8_t>(v >> (8 * i));
  }
  uint64_t get_u64(uint64_t addr) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{iommu.mem[addr + i]} << (8 * i);
    return v;
  }
  // The tables down to the PT of kVa (PML4 0x1000, PDPT 0x2000, PD 0x3000, PT 0x4000).
  void build_tables() {
    uint64_t table = kRoot;
    for (int level = kPml4Level; level > kPtLevel; --level) {
      const uint64_t next = table + 0x1000;
      put_u64(entry_address(table, kVa, level), Pte::table(next).raw());
      table = next;
    }
  }
  uint64_t leaf_address() const { return entry_address(0x4000, kVa, kPtLevel); }
  void map(bool writable) {
    put_u64(leaf_address(),
            Pte::leaf(kFrame, PageSize::k4K, Pte::kUser | (writable ? Pte::kWritable : 0)).raw());
  }
  void program() {
    drv.write(mirror_reg::kCtxSel, kCtx);
    drv.write(mirror_reg::kCtxRoot, kRoot | mirror_reg::kCtxRootValid);
    drv.write(mirror_reg::kFaultBase, kFaultBuffer);
  }
  std::vector<StubIommu::Tlp> memory_tlps() const { return iommu.of_kind(PcieKind::kMemory); }
};

TEST(MirrorMmu, AMissWalksFourLevelsThenTheAccessGoesOutPhysicalWithoutPasid) {
  Bench b({ScriptOp::read(kVa + 0x10), ScriptOp::read(kVa + 0x18)});
  b.build_tables();
  b.map(false);
  b.put_u64(kFrame + 0x10, 0x1111);
  b.put_u64(kFrame + 0x18, 0x2222);
  sc_core::sc_event go;
  b.dev.set_start_event(&go);
  run_thread([&] {
    b.program();
    go.notify(sc_core::SC_ZERO_TIME);
  });
  const auto& reads = b.dev.thread(0).reads();
  ASSERT_EQ(reads.size(), 2u);
  EXPECT_EQ(reads[0].value, 0x1111u);
  EXPECT_EQ(reads[1].value, 0x2222u);
  const auto tlps = b.memory_tlps();
  ASSERT_EQ(tlps.size(), 6u);  // 4 walk reads, 2 data reads (the second a TLB hit)
  EXPECT_EQ(tlps[0].addr, entry_address(kRoot, kVa, kPml4Level));
  EXPECT_EQ(tlps[3].addr, b.leaf_address());
  for (const auto& t : tlps) {
    EXPECT_EQ(t.at, AddressType::kUntranslated);
    EXPECT_FALSE(t.pasid.present);
  }
  EXPECT_EQ(tlps[4].addr, kFrame + 0x10);
  EXPECT_EQ(tlps[5].addr, kFrame + 0x18);
  EXPECT_EQ(b.dev.mirror()->walks(), 1u);
  ASSERT_EQ(b.rec.dev.size(), 2u);
  EXPECT_EQ(b.rec.dev[0].pasid, mirror_context_tag(b.dev.config().requester_id, kCtx));
  EXPECT_EQ(b.rec.dev[0].pa, kFrame + 0x10);
}

TEST(MirrorMmu, AFaultWritesARecordAndTheAccessWaitsForTheReplay) {
  Bench b({ScriptOp::write(kVa + 8, 0x77)});
  b.build_tables();  // no leaf: the walk faults
  sc_core::sc_event go;
  b.dev.set_start_event(&go);
  sc_time fault_seen, replayed;
  uint64_t put = 0;
  MirrorFaultRecord rec;
  run_thread([&] {
    b.program();
    go.notify(sc_core::SC_ZERO_TIME);
    sc_core::wait(b.dev.mirror()->fault_event());
    fault_seen = sc_core::sc_time_stamp();
    put = b.drv.read(mirror_reg::kFaultPut);
    uint64_t raw[2] = {b.get_u64(kFaultBuffer), b.get_u64(kFaultBuffer + 8)};
    rec = MirrorFaultRecord::decode(raw);
    b.map(true);
    b.drv.write(mirror_reg::kFaultGet, put);
    b.drv.write(mirror_reg::kReplay, 1);
    replayed = sc_core::sc_time_stamp();
  });
  EXPECT_EQ(put, 1u);
  EXPECT_EQ(rec.va, kVa);
  EXPECT_TRUE(rec.write);
  EXPECT_EQ(rec.context, kCtx);
  EXPECT_EQ(b.get_u64(kFrame + 8), 0x77u);
  EXPECT_EQ(b.dev.mirror()->faults(), 1u);
  EXPECT_EQ(b.dev.mirror()->walks(), 2u);
  ASSERT_EQ(b.rec.dev.size(), 1u);
  EXPECT_GE(b.rec.dev[0].time, replayed);  // the write waited for REPLAY
  EXPECT_GT(fault_seen, sc_core::SC_ZERO_TIME);
}

TEST(MirrorMmu, InvalidationDropsTheEntryThenWritesTheStatus) {
  Bench b({ScriptOp::read(kVa), ScriptOp::at_ns(10000), ScriptOp::read(kVa)});
  b.build_tables();
  b.map(false);
  sc_core::sc_event go;
  b.dev.set_start_event(&go);
  sc_time rung, status_seen;
  run_thread([&] {
    b.program();
    go.notify(sc_core::SC_ZERO_TIME);
    sc_core::wait(5000, SC_NS);
    b.drv.write(mirror_reg::kInvCtx, kCtx);
    b.drv.write(mirror_reg::kInvStart, kVa);
    b.drv.write(mirror_reg::kInvEnd, kVa + 0x1000);
    b.drv.write(mirror_reg::kInvStatus, kStatus);
    b.drv.write(mirror_reg::kInvDoorbell, 5);
    rung = sc_core::sc_time_stamp();
    sc_core::wait(b.dev.mirror()->invalidation_event());
    status_seen = sc_core::sc_time_stamp();
  });
  EXPECT_EQ(b.get_u64(kStatus), 5u);
  EXPECT_GE(status_seen - rung, sc_time(500, SC_NS));  // the processing time
  EXPECT_EQ(b.dev.mirror()->invalidations(), 1u);
  EXPECT_EQ(b.dev.mirror()->walks(), 2u);  // the second read walks again
}

TEST(MirrorMmu, AWalkOvertakenByAnInvalidationStartsAgain) {
  Bench b({ScriptOp::at_ns(1000), ScriptOp::read(kVa)});
  b.iommu.read_latency = sc_time(1000, SC_NS);  // a walk takes four of them
  b.build_tables();
  b.map(false);
  sc_core::sc_event go;
  b.dev.set_start_event(&go);
  run_thread([&] {
    b.program();  // 300 ns of register writes
    go.notify(sc_core::SC_ZERO_TIME);
    sc_core::wait(2000, SC_NS);  // the walk has read two levels
    b.drv.write(mirror_reg::kInvCtx, kCtx);
    b.drv.write(mirror_reg::kInvStart, kVa);
    b.drv.write(mirror_reg::kInvEnd, kVa + 0x1000);
    b.drv.write(mirror_reg::kInvStatus, kStatus);
    b.drv.write(mirror_reg::kInvDoorbell, 1);
  });
  ASSERT_EQ(b.dev.thread(0).reads().size(), 1u);
  EXPECT_TRUE(b.dev.thread(0).reads()[0].ok);
  EXPECT_EQ(b.dev.mirror()->walks(), 2u);  // the first was discarded
  EXPECT_EQ(b.dev.mirror()->invalidations(), 1u);
  EXPECT_EQ(b.get_u64(kStatus), 1u);
}

TEST(MirrorMmu, AContextWithoutARootFaultsUntilTheAccessFails) {
  Bench b({ScriptOp::read(kVa)});
  sc_core::sc_event go;
  b.dev.set_start_event(&go);
  run_thread([&] {
    b.drv.write(mirror_reg::kFaultBase, kFaultBuffer);
    go.notify(sc_core::SC_ZERO_TIME);
    for (int i = 0; i < 3; ++i) {  // a driver that cannot map it: replay each time
      sc_core::wait(b.dev.mirror()->fault_event());
      b.drv.write(mirror_reg::kFaultGet, b.drv.read(mirror_reg::kFaultPut));
      b.drv.write(mirror_reg::kReplay, 1);
    }
  });
  ASSERT_EQ(b.dev.thread(0).errors().size(), 1u);
  EXPECT_EQ(b.dev.mirror()->faults(), 3u);  // max_translation_attempts walks
  EXPECT_TRUE(b.rec.dev.empty());
}

}  // namespace
}  // namespace iosim
