// Test bench for the SMMUv3 front-end: physical memory behind a spy that records the
// SMMU's memory writes with their times, an Smmuv3 with two root ports, each with a stub
// ATS device (it answers Invalidate Requests after a delay, or never, and records what
// it receives), a software stub on the registers, and helpers that write STEs, CDs,
// page tables and commands into memory and ring CMDQ_PROD.
#pragma once

#include <deque>
#include <optional>
#include <vector>

#include "common/tlm_bench.h"
#include "iommu/smmuv3/smmuv3.h"
#include "sc_models/memory/physical_memory.h"
#include "sc_models/page_table/page_table.h"
#include "sc_models/pcie/pcie_ext.h"
#include "sc_models/sim/sim_context.h"
#include "sc_models/timing/server_pool.h"

namespace iosim::test::smmu {

using namespace iosim::smmuv3;

constexpr uint16_t kRid0 = 0x0100;
constexpr uint16_t kRid1 = 0x0200;

// Fixed memory layout (the frame allocator starts above it).
constexpr uint64_t kStrtab = 0x1000000;  // linear stream table, LOG2SIZE 10 (64 KiB)
constexpr unsigned kStrtabLog2 = 10;
constexpr uint64_t kCmdq = 0x1100000;  // 256 commands
constexpr unsigned kCmdqLog2 = 8;
constexpr uint64_t kEventq = 0x1200000;
constexpr uint64_t kPriq = 0x1300000;
constexpr uint64_t kMsiAddr = 0x1400000;

// Forwards the SMMU's memory accesses to memory and records every write.
struct MemorySpy : sc_core::sc_module {
  struct Write {
    uint64_t addr;
    std::vector<uint8_t> data;
    sc_core::sc_time time;  // when it reached memory
  };
  tlm_utils::simple_target_socket<MemorySpy> target;
  tlm_utils::simple_initiator_socket<MemorySpy> initiator;
  std::vector<Write> writes;

  explicit MemorySpy(sc_core::sc_module_name n)
      : sc_module(n), target("target"), initiator("initiator") {
    target.register_b_transport(this, &MemorySpy::b_transport);
  }
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& d) {
    if (gp.is_write()) {
      writes.push_back({gp.get_address(),
                        {gp.get_data_ptr(), gp.get_data_ptr() + gp.get_data_length()},
                        sc_core::sc_time_stamp() + d});
    }
    initiator->b_transport(gp, d);
  }
  // The first write to addr, if any.
  const Write* first_write(uint64_t addr) const {
    for (const Write& w : writes) {
      if (w.addr == addr) return &w;
    }
    return nullptr;
  }
};

// A PCIe Function behind a root port: sends DMA and messages upstream; answers each
// Invalidate Request after `answer_delay` (never when !answer); records what it gets.
struct StubDevice : sc_core::sc_module {
  struct Invalidation {
    sc_core::sc_time at;
    InvalidateRequest req;
  };
  struct Response {
    sc_core::sc_time at;
    PrgResponse resp;
  };
  tlm_utils::simple_initiator_socket<StubDevice> up;
  tlm_utils::simple_target_socket<StubDevice> down;
  uint16_t rid;
  bool answer = true;
  sc_core::sc_time answer_delay = ns(1000);
  std::vector<Invalidation> invalidations;
  std::vector<sc_core::sc_time> completions_sent;
  std::vector<Response> responses;

  StubDevice(sc_core::sc_module_name n, uint16_t r) : sc_module(n), up("up"), down("down"), rid(r) {
    down.register_b_transport(this, &StubDevice::b_transport);
    sc_core::sc_spawn([this] { answer_loop(); }, "answer");
  }

  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& d) {
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
    const PcieExtension* e = PcieExtension::of(gp);
    if (!e) return;
    const sc_core::sc_time at = sc_core::sc_time_stamp() + d;
    if (const auto* inv = std::get_if<InvalidateRequest>(&e->body)) {
      InvalidateRequest r = *inv;
      r.pasid = e->pasid;
      invalidations.push_back({at, r});
      if (answer) {
        pending_.push_back({at + answer_delay, r.itag});
        wake_.notify(sc_core::SC_ZERO_TIME);
      }
    } else if (const auto* pr = std::get_if<PrgResponse>(&e->body)) {
      PrgResponse r = *pr;
      r.pasid = e->pasid;
      responses.push_back({at, r});
    }
  }

  // Upstream transactions (from a SystemC thread).
  tlm::tlm_response_status dma(std::optional<uint32_t> pasid, uint64_t va, bool write, void* data,
                               unsigned len, uint16_t as_rid = 0) {
    PcieExtension ext = PcieExtension::memory(as_rid ? as_rid : rid, AddressType::kUntranslated,
                                              pasid ? PasidPrefix::with(*pasid) : PasidPrefix{});
    return send(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND, va, data, len, ext);
  }
  void message(PcieExtension::Body body) {
    PcieExtension ext = PcieExtension::message(rid, std::move(body));
    send(tlm::TLM_WRITE_COMMAND, 0, nullptr, 0, ext);
  }

 private:
  tlm::tlm_response_status send(tlm::tlm_command cmd, uint64_t addr, void* data, unsigned len,
                                PcieExtension& ext) {
    tlm::tlm_generic_payload gp;
    gp.set_command(cmd);
    gp.set_address(addr);
    gp.set_data_ptr(static_cast<unsigned char*>(data));
    gp.set_data_length(len);
    gp.set_streaming_width(len);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    gp.set_extension(&ext);
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    up->b_transport(gp, d);
    gp.clear_extension(&ext);
    sc_core::wait(d);
    return gp.get_response_status();
  }
  void answer_loop() {
    for (;;) {
      while (pending_.empty()) sc_core::wait(wake_);
      const auto [due, itag] = pending_.front();
      pending_.pop_front();
      if (due > sc_core::sc_time_stamp()) sc_core::wait(due - sc_core::sc_time_stamp());
      InvalidateCompletion c;
      c.requester_id = rid;
      c.itag_vector = 1u << itag;
      c.completion_count = 1;
      completions_sent.push_back(sc_core::sc_time_stamp());
      message(c);
    }
  }
  std::deque<std::pair<sc_core::sc_time, uint8_t>> pending_;
  sc_core::sc_event wake_;
};

inline PhysicalMemoryConfig bench_memory() {
  PhysicalMemoryConfig c;
  c.size_bytes = uint64_t{1} << 32;
  return c;
}

inline IommuConfig smmu_config() {
  IommuConfig c;
  c.arch = IommuArch::kSmmuv3;
  return c;
}

struct Smmuv3Bench {
  SimContext ctx;  // first, so it outlives the modules
  PhysicalMemory memory;
  MemorySpy spy;
  Smmuv3 smmu;
  RootPort& port0;
  RootPort& port1;
  StubDevice dev0, dev1;
  StubInitiator sw;
  uint64_t next_frame = 0x2000000;
  PageTableEditor editor;
  uint32_t cmdq_prod = 0;
  static constexpr uint64_t kUserRw = Pte::kWritable | Pte::kUser | Pte::kAccessed | Pte::kDirty;

  explicit Smmuv3Bench(const IommuConfig& cfg = smmu_config(), RootPortConfig pc0 = {},
                       RootPortConfig pc1 = {})
      : memory("memory", bench_memory()),
        spy("spy"),
        smmu("smmu", ctx, cfg),
        port0(smmu.add_root_port("rp0", with_rid(pc0, kRid0))),
        port1(smmu.add_root_port("rp1", with_rid(pc1, kRid1))),
        dev0("dev0", kRid0),
        dev1("dev1", kRid1),
        sw("sw"),
        editor(memory, [this] { return alloc(); }) {
    smmu.mem.bind(spy.target);
    spy.initiator.bind(memory.socket);
    sw.socket.bind(smmu.regs);
    dev0.up.bind(port0.upstream);
    port0.downstream.bind(dev0.down);
    dev1.up.bind(port1.upstream);
    port1.downstream.bind(dev1.down);
  }
  static RootPortConfig with_rid(RootPortConfig c, uint16_t rid) {
    c.requester_id = rid;
    return c;
  }

  uint64_t alloc() {
    const uint64_t f = next_frame;
    next_frame += 4096;
    memory.zero_frame(f);
    return f;
  }
  template <size_t N>
  void write_words(uint64_t addr, const std::array<uint64_t, N>& w) {
    for (size_t i = 0; i < N; ++i) memory.write_u64(addr + 8 * i, w[i]);
  }
  template <size_t N>
  std::array<uint64_t, N> read_words(uint64_t addr) {
    std::array<uint64_t, N> w{};
    for (size_t i = 0; i < N; ++i) w[i] = memory.read_u64(addr + 8 * i);
    return w;
  }

  // --- Tables ---
  void write_ste_at(uint64_t addr, const Ste& s) { write_words(addr, s.encode()); }
  void write_ste(uint16_t sid, const Ste& s) { write_ste_at(kStrtab + kSteBytes * sid, s); }
  void write_cd(uint64_t addr, const Cd& cd) { write_words(addr, cd.encode()); }
  // A stage-1 stream with a single CD (S1CDMax = 0) of `asid` at a new frame whose TTB0
  // is `root`; returns the CD's address.
  uint64_t translate_stream(uint16_t sid, uint16_t asid, uint64_t root) {
    const uint64_t cd_addr = alloc();
    Cd cd;
    cd.asid = asid;
    cd.ttb0 = root;
    write_cd(cd_addr, cd);
    Ste s;
    s.config = SteConfig::kS1Translate;
    s.s1_context_ptr = cd_addr;
    s.eats = Eats::kTranslate;
    write_ste(sid, s);
    return cd_addr;
  }

  // --- Registers (from a thread) ---
  void write32(uint64_t off, uint32_t v) { sw.write(off, &v, 4); }
  void write64(uint64_t off, uint64_t v) { sw.write(off, &v, 8); }
  uint32_t read32(uint64_t off) {
    uint32_t v = 0;
    sw.read(off, &v, 4);
    return v;
  }
  uint64_t read64(uint64_t off) {
    uint64_t v = 0;
    sw.read(off, &v, 8);
    return v;
  }
  static uint64_t qbase(uint64_t addr, unsigned log2) {
    return reg::kQBaseAddr.put(addr >> reg::kQBaseAddr.lo) | reg::kQBaseLog2Size.put(log2);
  }
  // Linear stream table, queues, interrupts, CR2.RECINVSID, then every CR0 enable.
  void init(unsigned eventq_log2 = 4, unsigned priq_log2 = 4) {
    write64(reg::kStrtabBase, reg::kStrtabBaseAddr.put(kStrtab >> 6));
    write32(reg::kStrtabBaseCfg, static_cast<uint32_t>(reg::kStrtabCfgLog2Size.put(kStrtabLog2)));
    write64(reg::kCmdqBase, qbase(kCmdq, kCmdqLog2));
    write64(reg::kEventqBase, qbase(kEventq, eventq_log2));
    write64(reg::kPriqBase, qbase(kPriq, priq_log2));
    write32(reg::kIrqCtrl,
            reg::kIrqCtrlGerrorIrqEn | reg::kIrqCtrlPriqIrqEn | reg::kIrqCtrlEventqIrqEn);
    write32(reg::kCr2, reg::kCr2RecInvSid);
    write32(reg::kCr0, reg::kCr0SmmuEn | reg::kCr0PriqEn | reg::kCr0EventqEn | reg::kCr0CmdqEn);
  }

  // --- Command queue ---
  void put_command(const CmdWords& w) {
    write_words(kCmdq + queue_entry_offset(cmdq_prod, kCmdqLog2, kCmdBytes), w);
    cmdq_prod = queue_next(cmdq_prod, kCmdqLog2);
  }
  void ring() { write32(reg::kCmdqProd, cmdq_prod); }
  void submit(const std::vector<Command>& cmds) {
    for (const Command& c : cmds) put_command(encode_command(c));
    ring();
  }
  static Sync sync_msi(uint32_t data = 0xC0FFEE) {
    Sync s;
    s.cs = SyncCs::kIrq;
    s.msi_addr = kMsiAddr;
    s.msi_data = data;
    return s;
  }
  // Waits until CMDQ_CONS reaches PROD (polling every 100 ns, up to `limit`).
  bool drain(sc_core::sc_time limit = ns(100000)) {
    const sc_core::sc_time end = sc_core::sc_time_stamp() + limit;
    while (sc_core::sc_time_stamp() < end) {
      if (queue_position(smmu.command_queue().cons(), kCmdqLog2) == cmdq_prod) return true;
      sc_core::wait(ns(100));
    }
    return false;
  }

  // --- Queue contents ---
  EventRecord event(unsigned index) {
    return EventRecord::decode(read_words<4>(kEventq + uint64_t{kEventBytes} * index));
  }
  PriqEntry priq_entry(unsigned index) {
    return PriqEntry::decode(read_words<2>(kPriq + uint64_t{kPriqBytes} * index));
  }

  uint64_t counter(const std::string& path) {
    const auto* c = ctx.stats().find_as<Counter>(path);
    return c ? c->value() : ~0ull;
  }
};

}  // namespace iosim::test::smmu
