// Host cost per simulated operation of the main model paths, and the SystemC
// kernel floor measured in the same process so ratios cancel machine noise.
//
// Floors (one SC_THREAD, the driver, does the work):
//  - Floor_WaitNotify: a wait/notify round trip with a second thread (two context
//    switches);
//  - Floor_TimedWait: one wait(1 ns) (one kernel time step, one context switch);
//  - Floor_TransportWait: one b_transport into a target that adds 1 ns, then
//    wait(delay): the cheapest timed TLM access an initiator can make; the ratio
//    targets are relative to it.
// Model paths, all through the default Device, PcieLink, Iommu and PhysicalMemory:
//  - AtcHitDma: a 64-byte read whose translation hits the device ATC (translated
//    request, passed through by the IOMMU);
//  - AtcMissIotlbHit: 64-byte reads cycling over 256 pages (the 64-entry ATC always
//    misses, the 512-entry IOTLB always hits): ATS Translation Request, fill,
//    translated read;
//  - IotlbMissWalk: the same over 4096 pages: every translation walks (PDE and PTE
//    reads; PML4E/PDPTE from the walk caches);
//  - Invalidate1Page/N: software invalidates one page of the PASID for N devices as
//    the Intel SVA driver does (PASID IOTLB page invalidation, one PASID device-TLB
//    invalidation per device, an invalidation wait with status write and
//    interrupt), submitted to the command queue with one tail write, until the wait
//    completes: Invalidate Requests over each link, device processing, Invalidate
//    Completions back. The descriptors are written straight into the queue (the
//    same invalidation through the OS notifier and SVA driver is
//    bench/sw_paths_bench.cpp's InvalidateNotifier);
//  - PriFault: a 64-byte read of a page that is not mapped: ATS says not present,
//    the device sends a Page Request, the IOMMU writes it to the page request queue,
//    a software handler thread (register reads, PTE write, page group response
//    through the command queue) answers, the device translates again and reads
//    (with the real IopfHandler and Kernel: sw_paths_bench's PriFaultIopf).
//
// Each benchmark runs its iterations in batches, one sc_start per batch, inside
// the single elaboration (see bench_system.h). Counters: sim_ns (simulated time
// per operation).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "bench/bench_system.h"
#include "bench/floor.h"
#include "sc_models/pcie/ats_encoding.h"
#include "sc_models/timing/server_pool.h"

namespace {

using iosim::bench::BenchSystem;
using iosim::bench::Driver;
using sc_core::sc_time;

constexpr uint64_t kDmaVa = 0x10000000;         // 16 MiB mapped here (4096 pages)
constexpr uint64_t kDmaPa = uint64_t{8} << 30;  // frames never written
constexpr uint64_t kPriVa = uint64_t{1} << 36;  // unmapped; each PRI op takes a new page
constexpr uint64_t kPriPa = uint64_t{16} << 30;
constexpr int64_t kBatch = 64;

// The software side of PRI: on a page request event, reads the queue tail, maps
// every requested page, moves the head and answers each last-in-group request.
struct PriHandler : sc_core::sc_module {
  BenchSystem* sys = nullptr;
  uint64_t handled = 0;
  SC_CTOR(PriHandler) { SC_THREAD(run); }
  void run() {
    for (;;) {
      sc_core::wait(sys->iommu.page_request_event());
      serve();
    }
  }
  void serve() {
    using namespace iosim;
    uint64_t head = sys->sw.read_reg(vtd_reg::kPqh);
    const uint64_t tail = sys->sw.read_reg(vtd_reg::kPqt);
    const uint64_t size = 4096;  // PQS = 0
    std::vector<Desc128> responses;
    while (head != tail) {
      uint64_t raw[4];
      for (int i = 0; i < 4; ++i) raw[i] = sys->memory.read_u64(sys->pq_base + head + 8 * i);
      const PageRequestDesc pr = PageRequestDesc::decode(raw);
      if (!pr.is_stop_marker()) {
        const uint64_t page = (pr.addr - kPriVa) >> 12;
        sys->map(pr.addr, kPriPa + (page % 4096) * 4096, 1);
      }
      if (pr.lpig && !pr.is_stop_marker()) {
        PageGroupResponseDesc resp;
        resp.pasid_present = pr.pasid_present;
        resp.response_code = 0;  // Success
        resp.rid = pr.rid;
        resp.pasid = pr.pasid;
        resp.prg_index = pr.prg_index;
        responses.push_back(resp.encode());
      }
      head = (head + PageRequestDesc::kBytes) % size;
      ++handled;
    }
    sys->sw.write_reg(vtd_reg::kPqh, head);
    if (!responses.empty()) sys->submit(responses);
  }
};

BenchSystem* g_sys = nullptr;
Driver* g_driver = nullptr;
PriHandler* g_pri = nullptr;

template <class Op>
void run_ops(int64_t n, Op op) {
  iosim::bench::run_ops(*g_driver, n, op);
}

template <class Op>
void timed(benchmark::State& state, Op op) {
  iosim::bench::timed(state, *g_driver, op, kBatch, &g_sys->ctx.lookahead());
}

// --- model paths ----------------------------------------------------------------

void check(benchmark::State& state, const iosim::AccessResult& r) {
  if (!r.ok) state.SkipWithError(("DMA failed: " + r.error).c_str());
}

void BM_AtcHitDma(benchmark::State& state) {
  check(state, [] {
    iosim::AccessResult r;
    run_ops(1, [&] { r = g_sys->dma(0, kDmaVa, 64, false); });
    return r;
  }());
  const uint64_t misses = g_sys->devices[0]->atc_misses();
  bool ok = true;
  timed(state, [&] { ok = g_sys->dma(0, kDmaVa + 64, 64, false).ok && ok; });
  if (!ok) state.SkipWithError("a DMA failed");
  if (g_sys->devices[0]->atc_misses() != misses) state.SkipWithError("the ATC missed");
}

// 64-byte reads cycling over `pages` pages of the mapped window.
void cycle_pages(benchmark::State& state, uint64_t pages, bool expect_iotlb_hits) {
  uint64_t i = 0;
  bool ok = true;
  // One warm-up pass fills the IOTLB (or, when it cannot hold them, leaves it missing).
  run_ops(static_cast<int64_t>(pages),
          [&] { ok = g_sys->dma(0, kDmaVa + 4096 * (i++ % pages), 64, false).ok && ok; });
  const uint64_t hits = g_sys->iommu.iotlb().hits(), misses = g_sys->iommu.iotlb().misses();
  const uint64_t atc_hits = g_sys->devices[0]->atc_hits();
  timed(state, [&] { ok = g_sys->dma(0, kDmaVa + 4096 * (i++ % pages), 64, false).ok && ok; });
  if (!ok) state.SkipWithError("a DMA failed");
  if (g_sys->devices[0]->atc_hits() != atc_hits) state.SkipWithError("the ATC hit");
  const uint64_t new_hits = g_sys->iommu.iotlb().hits() - hits;
  const uint64_t new_misses = g_sys->iommu.iotlb().misses() - misses;
  if (expect_iotlb_hits ? new_misses != 0 : new_hits != 0) {
    state.SkipWithError("unexpected IOTLB outcome");
  }
}

void BM_AtcMissIotlbHit(benchmark::State& state) {
  cycle_pages(state, 256, true);
}
void BM_IotlbMissWalk(benchmark::State& state) {
  cycle_pages(state, 4096, false);
}

void BM_Invalidate1Page(benchmark::State& state) {
  using namespace iosim;
  const auto devices = static_cast<unsigned>(state.range(0));
  const uint64_t status = g_sys->alloc();
  uint32_t seq = 0;
  bool ok = true;
  timed(state, [&] {
    const uint64_t va = kDmaVa + 4096 * (seq % 4096);
    std::vector<Desc128> ds;
    ds.push_back(PasidIotlbInv{PasidIotlbInv::kPage, 1, bench::kPasid, va, 0, false}.encode());
    const SBitAddress a = encode_s_range(va, 4096);
    for (unsigned d = 0; d < devices; ++d) {
      ds.push_back(
          DevTlbInv{true, bench::rid_of(d), 0, bench::kPasid, a.address, a.s, false}.encode());
    }
    ++seq;
    ds.push_back(InvWait{true, true, false, seq, status}.encode());
    g_sys->submit(ds);
    sc_core::wait(g_sys->iommu.completion_event());
    ok = ok && g_sys->memory.read_u64(status) == seq;
  });
  if (!ok) state.SkipWithError("an invalidation wait did not write its status");
}

void BM_PriFault(benchmark::State& state) {
  static uint64_t next_page = 0;  // every op faults on a page never mapped before
  const uint64_t handled = g_pri->handled;
  bool ok = true;
  timed(state, [&] { ok = g_sys->dma(0, kPriVa + 4096 * next_page++, 64, false).ok && ok; });
  if (!ok) state.SkipWithError("a faulting DMA failed");
  if (g_pri->handled - handled != static_cast<uint64_t>(state.iterations())) {
    state.SkipWithError("not one page request per access");
  }
}

BENCHMARK(BM_AtcHitDma);
BENCHMARK(BM_AtcMissIotlbHit);
BENCHMARK(BM_IotlbMissWalk);
BENCHMARK(BM_Invalidate1Page)->Arg(1)->Arg(4);
BENCHMARK(BM_PriFault);

// AtcMissIotlbHit cycles over 256 pages: more than the device's 64-entry ATC holds, so
// every read misses it, and fewer than this IOTLB's 512 entries (64 sets x 8 ways), so
// every translation hits it; IotlbMissWalk's 4096 pages miss it. The default IOTLB
// (64 entries) is as large as the ATC, so no set of pages misses one and hits the other.
iosim::IommuConfig bench_iommu() {
  iosim::IommuConfig c;
  c.iotlb.sets = 64;
  return c;
}

}  // namespace

int sc_main(int argc, char** argv) {
  BenchSystem sys(iosim::bench::kMaxDevices, bench_iommu());
  Driver driver("driver");
  iosim::bench::Floor floor;
  PriHandler pri("pri_handler");
  pri.sys = &sys;
  sys.map(kDmaVa, kDmaPa, 4096);
  g_sys = &sys;
  g_driver = &driver;
  g_pri = &pri;
  sc_core::sc_start(sc_core::SC_ZERO_TIME);  // elaboration, processes started
  driver.run_job([&] { sys.setup_queues(); });

  iosim::bench::register_floors(driver, floor);  // bench/floor.h
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
