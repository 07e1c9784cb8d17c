// Shared pieces of the model benchmarks: a default system (PhysicalMemory, Iommu,
// up to four PCIe devices, each behind its own default PcieLink and root port, all
// bound to one PASID of one address space), a software initiator on the IOMMU
// registers, and a driver thread that runs one job per sc_start so a benchmark can
// time many simulated operations inside one elaboration.
//
// SystemC allows one elaboration per process: sc_main builds one BenchSystem, then
// every benchmark hands jobs to the driver. A job ends with sc_pause(), which makes
// sc_start() return to the benchmark loop with the simulation still alive.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "device/device.h"
#include "iommu/vtd/descriptors.h"
#include "iommu/vtd/vtd_iommu.h"
#include "sc_models/page_table/page_table.h"
#include "sc_models/pcie/pcie_link.h"
#include "sc_models/memory/physical_memory.h"
#include "sc_models/sim/sim_context.h"

namespace iosim::bench {

// Runs jobs handed over from sc_main, one per sc_start.
struct Driver : sc_core::sc_module {
  std::function<void()> job;
  sc_core::sc_event kick;

  SC_CTOR(Driver) { SC_THREAD(run); }
  void run() {
    for (;;) {
      sc_core::wait(kick);
      if (job) job();
      job = nullptr;
      sc_core::sc_pause();
    }
  }
  // From sc_main: runs `j` in the driver thread and returns when it is done.
  void run_job(std::function<void()> j) {
    job = std::move(j);
    kick.notify(sc_core::SC_ZERO_TIME);
    sc_core::sc_start();
  }
};

// A register initiator for the software side (any thread may use it).
struct Software : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Software> socket;
  explicit Software(sc_core::sc_module_name n) : sc_module(n), socket("socket") {}
  void access(tlm::tlm_command cmd, uint64_t off, uint64_t& v) {
    tlm::tlm_generic_payload gp;
    gp.set_command(cmd);
    gp.set_address(off);
    gp.set_data_ptr(reinterpret_cast<unsigned char*>(&v));
    gp.set_data_length(8);
    gp.set_streaming_width(8);
    gp.set_byte_enable_ptr(nullptr);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    socket->b_transport(gp, d);
    sc_core::wait(d);
  }
  void write_reg(uint64_t off, uint64_t v) { access(tlm::TLM_WRITE_COMMAND, off, v); }
  uint64_t read_reg(uint64_t off) {
    uint64_t v = 0;
    access(tlm::TLM_READ_COMMAND, off, v);
    return v;
  }
};

constexpr uint32_t kPasid = 1;
constexpr unsigned kMaxDevices = 4;

inline uint16_t rid_of(unsigned dev) {
  return static_cast<uint16_t>((dev + 1) << 8);
}

// One device (ATS, PRI, PASID enabled, default timing) with one idle scripted DMA
// thread whose accesses the benchmarks issue through Device::access.
inline DeviceConfig bench_device(unsigned i) {
  DeviceConfig dc;
  dc.requester_id = rid_of(i);
  DmaThreadConfig t;
  t.pattern = AccessPattern::kScript;  // empty program: the slot ends at once
  t.pasid = kPasid;
  dc.threads = {t};
  return dc;
}

struct BenchSystem {
  SimContext ctx;  // the modules' statistics; first, so it outlives them
  PhysicalMemory memory;
  VtdIommu iommu;
  Software sw;
  std::vector<std::unique_ptr<PcieLink>> links;
  std::vector<std::unique_ptr<Device>> devices;
  uint64_t next_frame = 0x100000;
  PageTableEditor editor;
  uint64_t root = 0;  // PML4 of the address space bound to kPasid
  uint64_t cq_base = 0, cq_tail = 0, pq_base = 0;

  explicit BenchSystem(unsigned n_devices, const IommuConfig& iommu_config = IommuConfig{})
      : memory("memory", PhysicalMemoryConfig{}),
        iommu("iommu", ctx, iommu_config),
        sw("sw"),
        editor(memory, [this] { return alloc(); }) {
    iommu.mem.bind(memory.socket);
    sw.socket.bind(iommu.regs);
    const uint64_t root_table = alloc();
    const uint64_t pasid_table = alloc();
    for (unsigned i = 0; i < n_devices; ++i) {
      RootPortConfig pc;
      pc.requester_id = rid_of(i);
      const std::string rp = "rp" + std::to_string(i);
      RootPort& port = iommu.add_root_port(rp.c_str(), pc);
      links.push_back(
          std::make_unique<PcieLink>(("link" + std::to_string(i)).c_str(), PcieLinkConfig{}));
      devices.push_back(
          std::make_unique<Device>(("dev" + std::to_string(i)).c_str(), ctx, bench_device(i)));
      Device& d = *devices.back();
      PcieLink& l = *links.back();
      d.upstream.bind(l.up_in);
      l.up_out.bind(port.upstream);
      port.downstream.bind(l.down_in);
      l.down_out.bind(d.downstream);
      const uint64_t context_table = alloc();
      const uint16_t rid = rid_of(i);
      write_entry(root_table + 16 * (rid >> 8), RootEntry{true, context_table}.encode());
      write_entry(context_table + 16 * (rid & 0xff),
                  ContextEntry{true, true, true, true, pasid_table, 8, 0}.encode());
    }
    root = editor.new_root();
    write_entry(pasid_table + 16 * kPasid, PasidEntry{true, false, root, 1}.encode());
    iommu.tables().set_root_table(root_table);
  }

  uint64_t alloc() {
    const uint64_t f = next_frame;
    next_frame += 4096;
    memory.zero_frame(f);
    return f;
  }
  void write_entry(uint64_t addr, const Desc128& d) { write_desc(memory, addr, d); }
  static constexpr uint64_t kUserRw =
      Pte::kPresent | Pte::kWritable | Pte::kUser | Pte::kAccessed | Pte::kDirty;
  // Maps `pages` 4 KiB pages from `va` to frames from `pa` (never written, so they
  // cost no host memory and read as zeros).
  void map(uint64_t va, uint64_t pa, uint64_t pages) {
    for (uint64_t i = 0; i < pages; ++i) {
      editor.map(root, va + 4096 * i, pa + 4096 * i, PageSize::k4K, kUserRw);
    }
  }

  // --- software, from a SystemC thread ---------------------------------------
  void setup_queues() {
    cq_base = alloc();
    sw.write_reg(vtd_reg::kIqa, cq_base);  // QS = 0: 256 descriptors
    cq_tail = 0;
    pq_base = alloc();
    sw.write_reg(vtd_reg::kPqa, pq_base);
  }
  // Writes descriptors into the command queue and rings the tail once.
  void submit(const std::vector<Desc128>& ds) {
    for (const Desc128& d : ds) {
      write_entry(cq_base + cq_tail, d);
      cq_tail = (cq_tail + 16) % 4096;
    }
    sw.write_reg(vtd_reg::kIqt, cq_tail);
  }
  // One DMA access of device `dev`'s thread 0.
  AccessResult dma(unsigned dev, uint64_t va, uint32_t len, bool write) {
    Device& d = *devices.at(dev);
    LocalTime time(ctx.timing());  // exact: every wait at its own simulated time
    return d.access(d.thread(0), DmaRequest{va, len, write}, 0, time);
  }
};

}  // namespace iosim::bench
