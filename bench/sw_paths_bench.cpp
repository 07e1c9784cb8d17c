// Host cost per simulated operation of the invalidation and PRI paths through the
// real OS software (issue 8's definitions), with the SystemC kernel floor measured in
// the same process (bench/floor.h).
//
// One elaboration: PhysicalMemory, a Kernel (os.secondary_tlb_flush = under_ptl), the
// default Iommu with four default Devices (ATS, PRI, PASID) each behind its own
// default PcieLink and root port, the VtdSvaDriver (intel policy) on the IOMMU registers
// and the IopfHandler, all with their default costs. At boot the driver is
// initialised, the four devices attached, and two address spaces bound: mm 1 to
// device 0 only (PASID 1), mm 2 to all four devices (PASID 2).
//
//  - InvalidateNotifier/N: "notifier call to completion" of a 1-page invalidation
//    with N devices whose ATCs hold the page. The timed operation is what the memory
//    manager does at its flush point under the under_ptl policy: take the mm's
//    page-table lock, call mmu_notifier_arch_invalidate_secondary_tlbs(mm, va,
//    va + 4 KiB), drop the lock. The SVA notifier builds the descriptors (PASID IOTLB
//    page invalidation, one device-TLB invalidation per device, a wait), writes them,
//    rings the tail and polls the status word until the IOMMU completes the wait
//    (Invalidate Requests over each link, ATC invalidation in each device,
//    Invalidate Completions back). The notifier is called directly rather than
//    through munmap/madvise so that the VMA work, the PTE clears, the CPU TLB flush
//    and the frame freeing of those calls are not part of the measured operation.
//    Untimed between batches: every device reads each page of the next batch so its
//    ATC holds it (the pages are mapped once, read faults of the zero page). After
//    each batch the benchmark checks that no ATC still holds any page of it.
//  - PriFaultIopf: a 64-byte read by device 0 of a page of mm 1 that the VMA
//    covers but no PTE maps yet: ATS says not present, the device sends a Page
//    Request, the IOMMU queues it and interrupts, the IopfHandler wakes, reads the
//    queue, calls the Kernel's fault handler (a read fault maps the zero page),
//    answers with a Page Group Response, the device translates again and reads.
//    Checked: every read succeeded, every page is mapped afterwards, and the handler
//    answered exactly one Success per operation.
//
// Counters: sim_ns (simulated time per operation, timed part only); deltas (kernel
// evaluation phases per operation, about the context switches; timed part only, the
// batch's own start included).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_system.h"
#include "bench/floor.h"
#include "os/iopf_handler.h"
#include "os/kernel.h"
#include "os/mmu_notifier_subscriptions.h"
#include "os/vtd_sva_driver.h"
#include "sc_models/check/ground_truth.h"
#include "sc_models/sim/sim_context.h"

namespace {

using iosim::bench::Driver;

constexpr unsigned kDevices = 4;
constexpr uint64_t kInvVa = uint64_t{1} << 32;     // the invalidation window of both mms
constexpr uint64_t kInvPages = 4096;               // mapped (zero page) at boot
constexpr uint64_t kPriVa = uint64_t{1} << 36;     // mm 1: a VMA never touched at boot
constexpr uint64_t kPriPages = uint64_t{1} << 22;  // 16 GiB of VMA: one new page per op
// Invalidation batches: 32 pages, half of the 64-entry ATC, so every page of a batch
// is still cached when the batch starts.
constexpr int64_t kInvBatch = 32;

iosim::OsConfig os_config() {
  iosim::OsConfig c;
  c.secondary_tlb_flush = iosim::SecondaryTlbFlush::kUnderPtl;
  return c;
}

// Everything the two paths need, elaborated once.
struct SwSystem {
  iosim::SimContext ctx;  // the modules' statistics; first, so it outlives them
  iosim::PhysicalMemory memory{"memory", iosim::PhysicalMemoryConfig{}};
  iosim::GroundTruth gt;
  iosim::Kernel os{ctx, os_config(), memory, &gt};
  iosim::VtdIommu iommu{"iommu", ctx, iosim::IommuConfig{}};
  std::vector<std::unique_ptr<iosim::PcieLink>> links;
  std::vector<std::unique_ptr<iosim::Device>> devices;
  iosim::VtdSvaDriver drv{"sva", iosim::SvaConfig{}, os};
  iosim::IopfHandler iopf{"iopf", iosim::IopfConfig{}, drv, os};
  iosim::Mm* mm1 = nullptr;  // device 0 only
  iosim::Mm* mm2 = nullptr;  // all four devices
  uint32_t pasid1 = 0, pasid2 = 0;

  SwSystem() {
    iommu.mem.bind(memory.socket);
    drv.regs.bind(iommu.regs);
    drv.irq.bind(iommu.irq);
    iopf.irq.bind(iommu.irq);
    drv.set_ground_truth(&gt);
    for (unsigned i = 0; i < kDevices; ++i) {
      iosim::RootPortConfig pc;
      pc.requester_id = iosim::bench::rid_of(i);
      iosim::RootPort& port = iommu.add_root_port(("rp" + std::to_string(i)).c_str(), pc);
      links.push_back(std::make_unique<iosim::PcieLink>(("link" + std::to_string(i)).c_str(),
                                                        iosim::PcieLinkConfig{}));
      devices.push_back(std::make_unique<iosim::Device>(("dev" + std::to_string(i)).c_str(), ctx,
                                                        iosim::bench::bench_device(i)));
      iosim::Device& d = *devices.back();
      iosim::PcieLink& l = *links.back();
      d.upstream.bind(l.up_in);
      l.up_out.bind(port.upstream);
      port.downstream.bind(l.down_in);
      l.down_out.bind(d.downstream);
    }
  }

  // From a thread: driver, devices, the two mms and their bindings.
  void boot() {
    using namespace iosim;
    drv.init();
    for (unsigned i = 0; i < kDevices; ++i) drv.attach_device(bench::rid_of(i), true, true);
    mm1 = &new_mm(1);
    mm2 = &new_mm(2);
    os.mmap(*mm1, 0, kPriVa, kPriPages * 4096, kProtRead | kProtWrite, false);
    pasid1 = drv.bind(*mm1, bench::rid_of(0), 0);
    for (unsigned i = 0; i < kDevices; ++i) pasid2 = drv.bind(*mm2, bench::rid_of(i), 0);
  }
  iosim::Mm& new_mm(uint32_t id) {
    using namespace iosim;
    Mm& mm = os.create_mm(id);
    mm.cpu_enter(0);
    os.mmap(mm, 0, kInvVa, kInvPages * 4096, kProtRead | kProtWrite, false);
    for (uint64_t p = 0; p < kInvPages; ++p) os.handle_fault(mm, 0, kInvVa + 4096 * p, false);
    return mm;
  }
  // One 64-byte read by device `dev`'s thread 0 for `pasid`.
  iosim::AccessResult read(unsigned dev, uint32_t pasid, uint64_t va) {
    iosim::Device& d = *devices.at(dev);
    d.thread(0).set_pasid(pasid);
    iosim::LocalTime time(ctx.timing());  // exact: every wait at its own simulated time
    return d.access(d.thread(0), iosim::DmaRequest{va, 64, false}, 0, time);
  }
  // Whether device `dev`'s ATC holds a translation of `va` for `pasid`.
  bool atc_holds(unsigned dev, uint32_t pasid, uint64_t va) const {
    bool found = false;
    devices.at(dev)->atc().cache().for_each([&](const iosim::TranslationEntry& e) {
      if ((e.pasid == pasid || e.global) && e.contains(va)) found = true;
    });
    return found;
  }
};

SwSystem* g_sys = nullptr;
Driver* g_driver = nullptr;

// --- software paths -------------------------------------------------------------

void BM_InvalidateNotifier(benchmark::State& state) {
  const auto n = static_cast<unsigned>(state.range(0));
  iosim::Mm& mm = n == 1 ? *g_sys->mm1 : *g_sys->mm2;
  const uint32_t pasid = n == 1 ? g_sys->pasid1 : g_sys->pasid2;
  uint64_t next = 0;  // page index of the next batch in the window
  std::string error;
  sc_core::sc_time sim;
  uint64_t deltas = 0;  // kernel evaluation phases of the timed part
  while (state.KeepRunningBatch(kInvBatch)) {
    state.PauseTiming();
    const uint64_t first = next;
    next = (next + kInvBatch) % kInvPages;
    g_driver->run_job([&] {
      for (int64_t i = 0; i < kInvBatch; ++i) {
        const uint64_t va = kInvVa + 4096 * ((first + i) % kInvPages);
        for (unsigned d = 0; d < n; ++d) {
          const iosim::AccessResult r = g_sys->read(d, pasid, va);
          if (!r.ok && error.empty()) error = "warm-up DMA failed: " + r.error;
        }
      }
    });
    for (int64_t i = 0; i < kInvBatch && error.empty(); ++i) {
      for (unsigned d = 0; d < n; ++d) {
        if (!g_sys->atc_holds(d, pasid, kInvVa + 4096 * ((first + i) % kInvPages))) {
          error = "an ATC does not hold the page before the invalidation";
        }
      }
    }
    const sc_core::sc_time t0 = sc_core::sc_time_stamp();
    const uint64_t d0 = sc_core::sc_delta_count();
    state.ResumeTiming();
    g_driver->run_job([&] {
      for (int64_t i = 0; i < kInvBatch; ++i) {
        const uint64_t va = kInvVa + 4096 * ((first + i) % kInvPages);
        mm.ptl_lock();
        iosim::mmu_notifier_arch_invalidate_secondary_tlbs(mm, va, va + 4096);
        mm.ptl_unlock();
      }
    });
    state.PauseTiming();
    sim += sc_core::sc_time_stamp() - t0;
    deltas += sc_core::sc_delta_count() - d0;
    for (int64_t i = 0; i < kInvBatch && error.empty(); ++i) {
      for (unsigned d = 0; d < n; ++d) {
        if (g_sys->atc_holds(d, pasid, kInvVa + 4096 * ((first + i) % kInvPages))) {
          error = "an ATC still holds an invalidated page";
        }
      }
    }
    state.ResumeTiming();
  }
  if (g_sys->drv.failed_waits() != 0) error = "an invalidation wait failed";
  if (!error.empty()) state.SkipWithError(error.c_str());
  state.counters["sim_ns"] = iosim::to_ns(sim) / static_cast<double>(state.iterations());
  state.counters["deltas"] = static_cast<double>(deltas) / static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations());
}

void BM_PriFaultIopf(benchmark::State& state) {
  static uint64_t next_page = 0;  // every op faults on a page never touched before
  const uint64_t first = next_page;
  const uint64_t successes = g_sys->iopf.responses(iosim::PrgResponseCode::kSuccess);
  bool ok = true;
  iosim::bench::timed(
      state, *g_driver,
      [&] {
        const uint64_t page = next_page++;
        ok = page < kPriPages && g_sys->read(0, g_sys->pasid1, kPriVa + 4096 * page).ok && ok;
      },
      64, &g_sys->ctx.lookahead());
  const auto ops = static_cast<uint64_t>(state.iterations());
  if (!ok) state.SkipWithError("a faulting DMA failed");
  for (uint64_t p = first; p < next_page && ok; ++p) {
    if (!g_sys->mm1->pte(kPriVa + 4096 * p).present()) {
      state.SkipWithError("a faulted page is not mapped");
      break;
    }
  }
  if (g_sys->iopf.responses(iosim::PrgResponseCode::kSuccess) - successes != ops) {
    state.SkipWithError("not one successful page group response per access");
  }
}

BENCHMARK(BM_InvalidateNotifier)->Arg(1)->Arg(4);
BENCHMARK(BM_PriFaultIopf);

}  // namespace

int sc_main(int argc, char** argv) {
  SwSystem sys;
  Driver driver("driver");
  iosim::bench::Floor floor;
  g_sys = &sys;
  g_driver = &driver;
  sc_core::sc_start(sc_core::SC_ZERO_TIME);  // elaboration, processes started
  driver.run_job([&] { sys.boot(); });
  if (sys.pasid1 == 0 || sys.pasid2 == 0) return 1;

  iosim::bench::register_floors(driver, floor);  // bench/floor.h
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
