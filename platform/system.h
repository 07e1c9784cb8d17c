// System: builds a whole simulated system from a SystemConfig and a Scenario, boots
// it and runs it.
//
// Modules (top-level names, so stats paths follow them): memory (PhysicalMemory),
// bus (MemoryBus: every core and the IOMMU's memory port -> memory), core0..N-1
// (Core, all in one TlbShootdown), the Kernel (with the GroundTruth hub), iommu (one
// root port rpI per device), linkI (PcieLink between deviceI and its root port),
// deviceI (Device), sva (VtdSvaDriver, regs -> iommu.regs), iopf (IopfHandler), and the
// CheckerSuite attached to the hub.
//
// Boot, then start: a boot thread at time 0 initialises the SVA driver, attaches
// every device, runs the scenario's boot steps in script order (processes, maps with
// population through core0, forks, binds; every bind tells the checkers which mm a
// PASID belongs to), then sets up the synthetic workload's processes and notifies
// the start event. CPU threads (CpuThread, one per scenario CPU thread, on its core)
// and DMA threads begin at that event and their "@T" times count from it. A watcher
// stops the simulation when every program and every DMA thread is done; sc_start is
// bounded by sim.max_time_ns. Every way a run ends kills the threads still waiting
// (sc_models/sim/sim_teardown.h), so none is left suspended with live locals.
//
// The System is the CPU threads' SvaControl (platform/sva_control.h): their bind,
// unbind and flush operations run System::bind/unbind/flush_* on their own core, the
// same functions the boot's bind steps run.
//
// Simplifications: the boot populates memory through core0 (its TLB is warm for
// the boot mappings afterwards); the memory bus has no bandwidth of its own.
#pragma once

#include "cpu/core.h"
#include "cpu/tlb_shootdown.h"
#include "device/device.h"
#include "iommu/iommu.h"
#include "os/kernel.h"
#include "platform/cpu_thread.h"
#include "platform/scenario.h"
#include "platform/sva_control.h"
#include "platform/system_config.h"
#include "sc_models/check/checker_suite.h"
#include "sc_models/check/ground_truth.h"
#include "sc_models/memory/memory_bus.h"
#include "sc_models/memory/physical_memory.h"
#include "sc_models/pcie/pcie_link.h"
#include "sc_models/sim/sim_context.h"

#include <systemc>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace iosim {

class SvaDriver;
class IopfHandler;
class MirrorDriver;
struct StatsLayout;

class System : public SvaControl {
 public:
  // A scripted device thread of the scenario and where it runs.
  struct DevThreadRef {
    const DevThreadSpec* spec;
    Device* device;
    size_t index;  // in the device
  };
  struct Outcome {
    bool finished = false;      // every program and DMA thread completed
    std::string error;          // boot error or why the run did not finish
    sc_core::sc_time boot_end;  // when the start event fired
    sc_core::sc_time end;       // when the simulation stopped
  };

  // Elaborates everything. Throws std::exception for an invalid configuration.
  System(const SystemConfig& cfg, Scenario scenario);
  ~System() override;
  System(const System&) = delete;
  System& operator=(const System&) = delete;

  // Runs until done or sim.max_time_ns (call once).
  Outcome run();
  // Runs systems elaborated side by side in one simulation, each with its own
  // context, until every one is done or the latest sim.max_time_ns; one outcome per
  // system, in order (call once, instead of run()).
  static std::vector<Outcome> run_together(const std::vector<System*>& systems);

  const SystemConfig& config() const { return cfg_; }
  const Scenario& scenario() const { return scenario_; }
  PhysicalMemory& memory() { return *memory_; }
  MemoryBus& bus() { return *bus_; }
  Kernel& kernel() { return *kernel_; }
  Iommu& iommu() { return *iommu_; }
  size_t core_count() const { return cores_.size(); }
  Core& core(size_t i) { return *cores_.at(i); }
  size_t device_count() const { return devices_.size(); }
  Device& device(size_t i) { return *devices_.at(i); }
  SimContext& context() { return ctx_; }
  GroundTruth& ground_truth() { return gt_; }
  CheckerSuite* checkers() { return checkers_.get(); }
  const std::vector<DevThreadRef>& scripted_dev_threads() const { return dev_threads_; }
  // PASID of mm `mm_id` on device `dev` after boot (nullopt when not bound); for a
  // mirror device, the device context of the mm.
  std::optional<uint32_t> pasid(uint32_t mm_id, size_t dev) const;
  // The driver of device `dev` when it is a mirror device (device.N.kind = mirror).
  MirrorDriver* mirror_driver(size_t dev) { return mirror_drivers_.at(dev).get(); }
  // Every bind done at boot: (mm id, device) -> PASID, for a mirror device its context
  // (runtime binds are the CPU threads' operation results).
  const std::map<std::pair<uint32_t, size_t>, uint32_t>& pasids() const { return pasids_; }
  // Scenario CPU thread `i` (on core scenario().cpu_threads[i].core).
  CpuThread& cpu_thread(size_t i) { return *cpu_threads_.at(i); }
  const sc_core::sc_event& start_event() const { return start_; }
  // Where the run summary reads each module's statistics (platform/report.h); the
  // mms are those that registered statistics so far.
  StatsLayout stats_layout() const;
  // SVA binds, for the boot steps and for the CPU threads' operations alike
  // (platform/sva_control.h): System::bind and System::unbind are the one place a
  // process is bound to or unbound from a device. A bind programs the PASID into the
  // device's DMA threads of the process and tells the checkers which mm the PASID
  // belongs to; an unbind that frees the PASID tells them it is gone. Until its
  // process is bound, a scripted DMA thread carries kUnprogrammedPasid, which no bind
  // hands out (its requests fault); after an unbind it keeps the PASID it had.
  int64_t bind(uint32_t mm_id, size_t device, int cpu) override;
  int64_t unbind(uint32_t mm_id, size_t device, int cpu) override;
  int64_t flush_pasid(uint32_t mm_id, int cpu) override;
  int64_t flush_all(int cpu) override;
  const void* owner_of(size_t device) override;
  // Outside the PASID table (PASIDs 1..255): the IOMMU answers with a fault.
  static constexpr uint32_t kUnprogrammedPasid = (1u << 20) - 1;

  // Called in the boot thread when boot is over, just before the start event fires:
  // where observers that should see only the scenario are attached.
  void on_start(std::function<void()> fn) { start_hooks_.push_back(std::move(fn)); }

 private:
  void build_devices();
  void boot();
  void boot_step(const BootStep& b);
  // `hugepage`: the mapping gets MADV_HUGEPAGE before it is populated (map huge=2M).
  void map_and_populate(Mm& mm, uint64_t va, uint64_t size, uint32_t prot, bool shared,
                        Populate populate, uint64_t value, bool hugepage = false);
  // map huge=1G: an explicit 1 GiB hugetlb mapping (MmOps::mmap_hugetlb).
  void map_hugetlb(Mm& mm, uint64_t va, uint64_t size, uint32_t prot);
  void boot_workload();
  void watch();
  void explain_unfinished();

  SimContext
      ctx_;  // this system's statistics and timing settings; first, so it outlives the modules
  SystemConfig cfg_;
  Scenario scenario_;
  std::vector<std::function<void()>> start_hooks_;
  GroundTruth gt_;
  std::unique_ptr<CheckerSuite> checkers_;
  std::unique_ptr<PhysicalMemory> memory_;
  std::unique_ptr<MemoryBus> bus_;
  std::unique_ptr<Kernel> kernel_;
  std::unique_ptr<TlbShootdown> shootdown_;
  std::vector<std::unique_ptr<Core>> cores_;
  std::vector<std::unique_ptr<CpuThread>> cpu_threads_;
  std::unique_ptr<Iommu> iommu_;
  std::vector<std::unique_ptr<PcieLink>> links_;
  std::vector<std::unique_ptr<Device>> devices_;
  std::unique_ptr<SvaDriver> sva_;
  std::unique_ptr<IopfHandler> iopf_;
  std::vector<std::unique_ptr<MirrorDriver>> mirror_drivers_;  // per device, null for ATS
  std::vector<DevThreadRef> dev_threads_;
  // Per device: DMA thread index -> mm id it runs for (scripted and synthetic).
  std::vector<std::vector<uint32_t>> thread_mm_;
  std::map<std::pair<uint32_t, size_t>, uint32_t> pasids_;  // at boot
  std::map<std::pair<uint32_t, size_t>, uint32_t> bound_;   // now
  sc_core::sc_event start_;
  sc_core::sc_event boot_failed_;
  sc_core::sc_event done_;  // every program and DMA thread completed
  Outcome outcome_;
  bool booted_ = false;
};

}  // namespace iosim
