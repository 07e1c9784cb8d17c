// System builder: elaboration, boot and the run loop.
#include "platform/system.h"

#include "iommu/amdvi/amdvi_iommu.h"
#include "iommu/riscv/riscv_iommu.h"
#include "iommu/smmuv3/smmuv3.h"
#include "iommu/vtd/vtd_iommu.h"
#include "os/amdvi_sva_driver.h"
#include "os/iopf_handler.h"
#include "os/mirror_driver.h"
#include "os/mm_ops.h"
#include "os/riscv_sva_driver.h"
#include "os/smmuv3_sva_driver.h"
#include "os/vtd_sva_driver.h"
#include "platform/report.h"
#include "sc_models/sim/sim_teardown.h"
#include "sc_models/timing/lookahead.h"
#include "sc_models/timing/sim_time.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace iosim {

namespace {

std::string ns_text(const sc_core::sc_time& t) {
  std::ostringstream o;
  o.precision(15);
  o << to_ns(t) << " ns";
  return o.str();
}

// A deterministic per-thread seed (splitmix64 of the run seed and the thread's place).
uint64_t thread_seed(uint64_t seed, uint64_t device, uint64_t process, uint64_t thread) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ull * (1 + device * 1000003 + process * 1009 + thread);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

System::System(const SystemConfig& cfg, Scenario scenario)
    : cfg_(cfg), scenario_(std::move(scenario)) {
  cfg_.validate();
  if (scenario_.workload_processes != cfg_.workload.processes) {
    throw std::invalid_argument(
        "the scenario was built for " + std::to_string(scenario_.workload_processes) +
        " workload processes, workload.processes = " + std::to_string(cfg_.workload.processes));
  }
  if (cfg_.check.enabled) {
    checkers_ = std::make_unique<CheckerSuite>(cfg_.check.checker);
    checkers_->attach(gt_);
  }
  memory_ = std::make_unique<PhysicalMemory>("memory", cfg_.memory.dram);
  bus_ = std::make_unique<MemoryBus>("bus", ctx_, cfg_.memory.bus);
  bus_->memory.bind(memory_->socket);
  kernel_ = std::make_unique<Kernel>(ctx_, cfg_.os, *memory_, &gt_);
  shootdown_ = std::make_unique<TlbShootdown>("tlb_shootdown", ctx_, cfg_.tlb_shootdown);
  kernel_->set_tlb_shootdown(shootdown_.get());
  for (uint32_t i = 0; i < cfg_.cpu.cores; ++i) {
    const std::string name = "core" + std::to_string(i);
    cores_.push_back(std::make_unique<Core>(name.c_str(), ctx_, cfg_.cpu.core, static_cast<int>(i),
                                            *kernel_, &gt_));
    cores_.back()->socket.bind(bus_->targets);
    shootdown_->add_core(*cores_.back());
  }
  for (const CpuThreadSpec& t : scenario_.cpu_threads) {
    cpu_threads_.push_back(
        std::make_unique<CpuThread>(t.program, *cores_.at(t.core), *kernel_, &start_, this));
  }
  // The architecture's front-end on the IOMMU core, and its Linux driver.
  switch (cfg_.iommu.arch) {
    case IommuArch::kVtd:
      iommu_ = std::make_unique<VtdIommu>("iommu", ctx_, cfg_.iommu);
      break;
    case IommuArch::kSmmuv3:
      iommu_ = std::make_unique<Smmuv3>("iommu", ctx_, cfg_.iommu);
      break;
    case IommuArch::kRiscv:
      iommu_ = std::make_unique<RiscvIommu>("iommu", ctx_, cfg_.iommu);
      break;
    case IommuArch::kAmdvi:
      iommu_ = std::make_unique<AmdviIommu>("iommu", ctx_, cfg_.iommu);
      break;
  }
  iommu_->set_ground_truth(&gt_);
  iommu_->mem.bind(bus_->targets);
  build_devices();
  switch (cfg_.iommu.arch) {
    case IommuArch::kVtd:
      sva_ = std::make_unique<VtdSvaDriver>("sva", cfg_.sva, *kernel_);
      break;
    case IommuArch::kSmmuv3:
      sva_ = std::make_unique<Smmuv3SvaDriver>("sva", cfg_.sva, *kernel_);
      break;
    case IommuArch::kRiscv:
      sva_ = std::make_unique<RiscvSvaDriver>("sva", cfg_.sva, *kernel_);
      break;
    case IommuArch::kAmdvi:
      sva_ = std::make_unique<AmdviSvaDriver>("sva", cfg_.sva, *kernel_);
      break;
  }
  sva_->regs.bind(iommu_->regs);
  sva_->irq.bind(iommu_->irq);
  sva_->set_ground_truth(&gt_);
  iopf_ = std::make_unique<IopfHandler>("iopf", cfg_.iopf, *sva_, *kernel_);
  iopf_->irq.bind(iommu_->irq);
  for (size_t d = 0; d < devices_.size(); ++d) {
    Device& dev = *devices_[d];
    MirrorMmu* mmu = dev.mirror();
    mirror_drivers_.push_back(nullptr);
    if (!mmu) continue;
    const std::string name = "mirror_driver" + std::to_string(d);
    mirror_drivers_.back() = std::make_unique<MirrorDriver>(name.c_str(), dev.config().mirror,
                                                            dev.config().requester_id, *kernel_);
    mirror_drivers_.back()->regs.bind(mmu->regs);
    mirror_drivers_.back()->irq.bind(mmu->irq);
  }
  sc_core::sc_spawn([this] { boot(); }, "boot");
  sc_core::sc_spawn([this] { watch(); }, "watch");
}

System::~System() = default;

void System::build_devices() {
  const WorkloadConfig& w = cfg_.workload;
  const uint32_t first_workload_mm = 1;
  for (size_t d = 0; d < cfg_.device.size(); ++d) {
    DeviceConfig dc = cfg_.device[d];
    dc.requester_id = cfg_.requester_id(d);
    dc.threads.clear();
    std::vector<uint32_t> mms;
    std::vector<const DevThreadSpec*> scripted;
    for (const DevThreadSpec& s : scenario_.dev_threads) {
      if (s.device != d) continue;
      DmaThreadConfig t;
      t.pattern = AccessPattern::kScript;
      t.script = s.ops;
      t.max_outstanding = 1;  // a scripted program runs one operation at a time
      dc.threads.push_back(t);
      mms.push_back(s.mm_id);
      scripted.push_back(&s);
    }
    for (uint32_t p = 0; p < w.processes; ++p) {
      for (uint32_t k = 0; k < w.threads_per_device; ++k) {
        DmaThreadConfig t;
        t.pattern = w.pattern;
        t.base_va = w.base_va;
        t.window_bytes = w.window_bytes;
        t.request_bytes = w.request_bytes;
        t.read_fraction = w.read_fraction;
        t.max_outstanding = w.max_outstanding;
        t.issue_interval_ns = w.issue_interval_ns;
        t.request_count = w.requests;
        t.duration_ns = cfg_.sim.duration_ns;
        t.seed = thread_seed(cfg_.sim.seed, d, p, k);
        dc.threads.push_back(t);
        mms.push_back(first_workload_mm + p);
      }
    }
    const std::string idx = std::to_string(d);
    RootPortConfig rp;
    rp.requester_id = dc.requester_id;
    rp.ats_enabled = dc.ats_enabled;
    rp.pri_enabled = dc.pri_enabled;
    rp.invalidate_queue_depth = dc.invalidate_queue_depth;
    rp.fault_translation_ur = dc.fault.translation_ur;  // UR comes from the translation agent
    RootPort& port = iommu_->add_root_port(("rp" + idx).c_str(), rp);
    links_.push_back(std::make_unique<PcieLink>(("link" + idx).c_str(), cfg_.link));
    devices_.push_back(std::make_unique<Device>(("device" + idx).c_str(), ctx_, dc));
    Device& dev = *devices_.back();
    PcieLink& link = *links_.back();
    dev.upstream.bind(link.up_in);
    link.up_out.bind(port.upstream);
    port.downstream.bind(link.down_in);
    link.down_out.bind(dev.downstream);
    dev.set_link_latency(link.latency());
    dev.set_ground_truth(&gt_);
    dev.set_start_event(&start_);
    // An unresponsive Function fails its configuration reads: the driver's
    // pci_device_is_present() check finds it gone.
    dev.on_unresponsive([this, rid = dc.requester_id] { sva_->set_device_present(rid, false); });
    for (size_t i = 0; i < scripted.size(); ++i) {
      dev.thread(i).set_name(scripted[i]->name);
      dev_threads_.push_back({scripted[i], &dev, i});
    }
    thread_mm_.push_back(std::move(mms));
  }
}

StatsLayout System::stats_layout() const {
  StatsLayout l;
  for (const auto& d : devices_) l.devices.push_back(d->name());
  for (const auto& c : cores_) l.cores.push_back(c->name());
  l.iommu = iommu_->name();
  l.command_queue = iommu_->command_processor().name();
  l.sva = sva_->name();
  // Every Mm registers its statistics as "os.<mm name>" (os/mm.cpp); "os" holds only
  // those and the fault handler's "faults".
  if (const StatGroup* os = ctx_.stats().root().find_group("os")) {
    for (const auto& [name, g] : os->groups()) {
      if (name.rfind("mm", 0) == 0) l.mms.push_back(g->path());
    }
  }
  return l;
}

std::optional<uint32_t> System::pasid(uint32_t mm_id, size_t dev) const {
  auto it = pasids_.find({mm_id, dev});
  if (it == pasids_.end()) return std::nullopt;
  return it->second;
}

void System::boot() {
  try {
    sva_->init();
    for (size_t d = 0; d < devices_.size(); ++d) {
      const DeviceConfig& dc = devices_[d]->config();
      if (mirror_drivers_[d]) {
        sva_->attach_identity(dc.requester_id);
        mirror_drivers_[d]->init();
      } else {
        sva_->attach_device(dc.requester_id, dc.ats_enabled, dc.pri_enabled);
      }
    }
    boot_workload();
    for (const BootStep& b : scenario_.boot) boot_step(b);
    for (size_t d = 0; d < devices_.size(); ++d) {
      for (size_t t = 0; t < thread_mm_[d].size(); ++t) {
        // Bound by a CPU thread later (the scenario checked there is such a bind).
        if (!pasid(thread_mm_[d][t], d)) devices_[d]->thread(t).set_pasid(kUnprogrammedPasid);
      }
    }
    outcome_.boot_end = sc_core::sc_time_stamp();
    booted_ = true;
    for (const std::function<void()>& hook : start_hooks_) hook();
    start_.notify(sc_core::SC_ZERO_TIME);
  } catch (const sc_core::sc_unwind_exception&) {
    throw;  // the kernel is killing this thread (end of run): it must unwind
  } catch (const std::exception& e) {
    outcome_.error =
        std::string("boot failed at ") + ns_text(sc_core::sc_time_stamp()) + ": " + e.what();
    kill_live_threads();  // no thread left suspended with live locals
    sc_core::sc_stop();
  }
}

void System::boot_step(const BootStep& b) {
  const std::string where = b.loc.file + ":" + std::to_string(b.loc.line) + ": ";
  switch (b.kind) {
    case BootStep::Kind::kProcess:
      kernel_->create_mm(b.mm_id);
      break;
    case BootStep::Kind::kMap:
      try {
        if (b.huge == (uint64_t{1} << 30)) {
          map_hugetlb(kernel_->mm(b.mm_id), b.va, b.size, b.prot);
        } else {
          map_and_populate(kernel_->mm(b.mm_id), b.va, b.size, b.prot, b.shared, b.populate,
                           b.value, b.huge != 0);
        }
      } catch (const sc_core::sc_unwind_exception&) {
        throw;
      } catch (const std::exception& e) {
        throw std::runtime_error(where + e.what());
      }
      break;
    case BootStep::Kind::kFork:
      if (int r = kernel_->fork(kernel_->mm(b.mm_id), 0, b.child_mm); r != 0) {
        throw std::runtime_error(where + "fork failed (" + std::to_string(r) + ")");
      }
      break;
    case BootStep::Kind::kBind:
      if (const int64_t r = bind(b.mm_id, b.device, 0); r < 0) {
        throw std::runtime_error(where + "bind failed (" + std::to_string(r) + ")");
      }
      break;
  }
}

void System::map_hugetlb(Mm& mm, uint64_t va, uint64_t size, uint32_t prot) {
  const int64_t r = kernel_->mmap_hugetlb(mm, 0, va, size, prot);
  if (r < 0 || static_cast<uint64_t>(r) != va) {
    throw std::runtime_error("1G hugetlb mmap of " + std::to_string(size) + " bytes failed (" +
                             std::to_string(r) + "; allocator.frames may not hold an aligned 1G)");
  }
}

void System::map_and_populate(Mm& mm, uint64_t va, uint64_t size, uint32_t prot, bool shared,
                              Populate populate, uint64_t value, bool hugepage) {
  const int64_t r = kernel_->mmap(mm, 0, va, size, prot, shared);
  if (r < 0 || static_cast<uint64_t>(r) != va) {
    throw std::runtime_error("mmap of " + std::to_string(size) + " bytes failed (" +
                             std::to_string(r) + ")");
  }
  // huge=2M: MADV_HUGEPAGE, so the faults below map 2 MiB pages where os.thp allows.
  if (hugepage) kernel_->madvise_hugepage(mm, 0, va, size);
  if (populate == Populate::kNone) return;
  Core& c = *cores_.front();
  mm.cpu_enter(c.id());
  const AddressSpace as{mm.id(), mm.root()};
  for (uint64_t off = 0; off < size; off += Mm::kPageBytes) {
    const bool ok = populate == Populate::kWrite ? c.store(as, va + off, value)
                                                 : c.load(as, va + off).has_value();
    if (!ok) throw std::runtime_error("populating the mapping faulted (check prot=)");
  }
}

int64_t System::bind(uint32_t mm_id, size_t dev, int cpu) {
  if (bound_.count({mm_id, dev})) return err::kEexist;
  Mm& mm = kernel_->mm(mm_id);
  uint32_t p = 0;
  if (MirrorDriver* m = mirror_drivers_.at(dev).get()) {
    if (!m->can_bind(mm)) return err::kEnospc;
    p = m->bind(mm, cpu);
    if (checkers_) checkers_->bind_pasid(m->tag_of(p), mm_id);
  } else {
    const bool new_pasid = !sva_->pasid_of(mm);
    if (new_pasid && sva_->free_pasids() == 0) return err::kEnospc;
    p = sva_->bind(mm, devices_.at(dev)->config().requester_id, cpu);
    if (checkers_ && new_pasid) checkers_->bind_pasid(p, mm_id);
  }
  bound_[{mm_id, dev}] = p;
  if (!booted_) pasids_[{mm_id, dev}] = p;
  // The device driver programs the PASID (a mirror device: its context) into the
  // device's contexts of the process.
  for (size_t t = 0; t < thread_mm_.at(dev).size(); ++t) {
    if (thread_mm_[dev][t] == mm_id) devices_[dev]->thread(t).set_pasid(p);
  }
  return p;
}

int64_t System::unbind(uint32_t mm_id, size_t dev, int cpu) {
  auto it = bound_.find({mm_id, dev});
  if (it == bound_.end()) return err::kEinval;
  const uint32_t p = it->second;
  Mm& mm = kernel_->mm(mm_id);
  bound_.erase(it);
  if (MirrorDriver* m = mirror_drivers_.at(dev).get()) {
    m->unbind(mm, cpu);
    if (checkers_) checkers_->unbind_pasid(m->tag_of(p));
    return 0;
  }
  sva_->unbind(mm, devices_.at(dev)->config().requester_id, cpu);
  if (checkers_ && !sva_->pasid_of(mm)) checkers_->unbind_pasid(p);
  return 0;
}

int64_t System::flush_pasid(uint32_t mm_id, int /*cpu*/) {
  return sva_->flush_pasid(kernel_->mm(mm_id)) ? 0 : err::kEinval;
}

int64_t System::flush_all(int /*cpu*/) {
  sva_->flush_all();
  return 0;
}

const void* System::owner_of(size_t device) {
  // A mirror device's driver filters by its cookie; an ATS device's (the SVA driver)
  // filters by none, so the device object stands for it.
  if (MirrorDriver* m = mirror_drivers_.at(device).get()) return m->owner();
  return devices_.at(device).get();
}

void System::boot_workload() {
  const WorkloadConfig& w = cfg_.workload;
  for (uint32_t p = 0; p < w.processes; ++p) {
    const uint32_t id = 1 + p;
    Mm& mm = kernel_->create_mm(id);
    map_and_populate(mm, w.base_va, w.window_bytes, kProtRead | kProtWrite, false, w.populate, 0);
    for (size_t d = 0; d < devices_.size(); ++d) {
      if (const int64_t r = bind(id, d, 0); r < 0) {
        throw std::runtime_error("bind of workload process W" + std::to_string(p) + " failed (" +
                                 std::to_string(r) + ")");
      }
    }
  }
}

void System::watch() {
  sc_core::wait(start_);
  for (auto& c : cores_) {
    while (!c->finished()) sc_core::wait(c->finished_event());
  }
  for (auto& d : devices_) {
    for (size_t t = 0; t < d->thread_count(); ++t) {
      while (!d->thread(t).finished()) sc_core::wait(d->thread(t).finished_event());
    }
  }
  outcome_.finished = true;
  done_.notify();
}

System::Outcome System::run() {
  return run_together({this}).front();
}

std::vector<System::Outcome> System::run_together(const std::vector<System*>& systems) {
  // sc_stop() reports "Simulation stopped by user." as an info of this type.
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO,
                                          sc_core::SC_DO_NOTHING);
  sc_core::sc_time limit = sc_core::SC_ZERO_TIME;
  for (System* s : systems) {
    s->ctx_.lookahead().set_enabled(s->cfg_.sim.lookahead);
    s->ctx_.lookahead().set_horizon(ns(s->cfg_.sim.max_time_ns));
    limit = std::max(limit, ns(s->cfg_.sim.max_time_ns));
  }
  sc_core::sc_spawn(
      [systems] {
        for (System* s : systems) {
          while (!s->outcome_.finished) sc_core::wait(s->done_);
        }
        kill_live_threads();  // the server loops still waiting for work
        sc_core::sc_stop();
      },
      "stop_when_done");
  sc_core::sc_start(limit, sc_core::SC_RUN_TO_TIME);
  restore_main_stack_for_asan();
  std::vector<Outcome> outcomes;
  bool unfinished = false;
  for (System* s : systems) {
    s->outcome_.end = sc_core::sc_time_stamp();
    if (s->outcome_.error.empty() && !s->outcome_.finished) s->explain_unfinished();
    unfinished = unfinished || !s->outcome_.finished;
    outcomes.push_back(s->outcome_);
  }
  if (unfinished) end_simulation();  // the threads that did not finish unwind, freeing their locals
  return outcomes;
}

void System::explain_unfinished() {
  std::string busy;
  for (auto& c : cores_) {
    if (!c->finished()) busy += " " + std::string(c->name()) + " (" + c->thread_name() + ")";
  }
  for (auto& d : devices_) {
    for (size_t t = 0; t < d->thread_count(); ++t) {
      if (!d->thread(t).finished()) busy += " " + d->thread(t).name();
    }
  }
  const bool starved = !sc_core::sc_pending_activity();
  outcome_.error =
      "simulation did not finish by sim.max_time_ns = " + ns_text(ns(cfg_.sim.max_time_ns)) +
      (booted_ ? "; still running:" + busy : "; the boot did not complete") +
      (starved ? " (nothing left to simulate: they wait for each other)" : "");
}

}  // namespace iosim
