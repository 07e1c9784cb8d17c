// Host cost of PhysicalMemory accesses.
//
// Times 64-byte reads through b_transport to written and to never-written frames,
// a 4 KiB read spread over every channel, and the zero-time backdoor. Two baselines
// are measured in the same run: a b_transport into a target that only sets the
// response (the bare TLM call), and one SystemC kernel time step that resumes one
// thread (sc_start of 1 ns with a thread waiting 1 ns), which is what an initiator
// pays per timed access when it waits for the annotated delay.
//
// SystemC allows one elaboration, so sc_main builds every module once, completes
// elaboration with sc_start(SC_ZERO_TIME) and then runs the benchmarks; b_transport
// is called from sc_main (outside any process), which is legal because the memory
// never waits.
#include <benchmark/benchmark.h>

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include <cstdint>

#include "sc_models/memory/physical_memory.h"

namespace {

using iosim::PhysicalMemory;
using sc_core::sc_time;

constexpr uint64_t kWrittenBase = 0;
constexpr uint64_t kUnwrittenBase = uint64_t{32} << 30;
constexpr uint64_t kRegionBytes = uint64_t{16} << 20;  // 4096 frames per region

struct NullTarget : sc_core::sc_module {
  tlm_utils::simple_target_socket<NullTarget> socket;
  explicit NullTarget(sc_core::sc_module_name n) : sc_module(n), socket("socket") {
    socket.register_b_transport(this, &NullTarget::b_transport);
  }
  void b_transport(tlm::tlm_generic_payload& gp, sc_time& delay) {
    delay += sc_time(1, sc_core::SC_NS);
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
  }
};

struct Initiator : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Initiator> to_mem;
  tlm_utils::simple_initiator_socket<Initiator> to_null;
  explicit Initiator(sc_core::sc_module_name n)
      : sc_module(n), to_mem("to_mem"), to_null("to_null") {}
};

// A thread that wakes every nanosecond: one kernel time step per sc_start(1 ns).
struct Ticker : sc_core::sc_module {
  uint64_t ticks = 0;
  SC_CTOR(Ticker) { SC_THREAD(run); }
  void run() {
    for (;;) {
      sc_core::wait(1, sc_core::SC_NS);
      ++ticks;
    }
  }
};

PhysicalMemory* g_mem = nullptr;
Initiator* g_init = nullptr;
Ticker* g_ticker = nullptr;

void prepare(tlm::tlm_generic_payload& gp, uint8_t* buf, unsigned len) {
  gp.set_command(tlm::TLM_READ_COMMAND);
  gp.set_data_ptr(buf);
  gp.set_data_length(len);
  gp.set_streaming_width(len);
  gp.set_byte_enable_ptr(nullptr);
}

void transport_reads(benchmark::State& state, tlm_utils::simple_initiator_socket<Initiator>& s,
                     uint64_t base, unsigned len) {
  tlm::tlm_generic_payload gp;
  uint8_t buf[4096];
  prepare(gp, buf, len);
  uint64_t off = 0;
  for (auto _ : state) {
    gp.set_address(base + off);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_time delay = sc_core::SC_ZERO_TIME;
    s->b_transport(gp, delay);
    benchmark::DoNotOptimize(delay);
    benchmark::DoNotOptimize(buf[0]);
    off = (off + len) & (kRegionBytes - 1);
  }
  if (gp.get_response_status() != tlm::TLM_OK_RESPONSE) state.SkipWithError("transport failed");
  state.SetItemsProcessed(state.iterations());
}

void BM_BareTransportNullTarget(benchmark::State& state) {
  transport_reads(state, g_init->to_null, 0, 64);
}

void BM_KernelTimeStep(benchmark::State& state) {
  for (auto _ : state) sc_core::sc_start(1, sc_core::SC_NS);
  benchmark::DoNotOptimize(g_ticker->ticks);
  state.SetItemsProcessed(state.iterations());
}

void BM_TransportRead64Written(benchmark::State& state) {
  transport_reads(state, g_init->to_mem, kWrittenBase, 64);
}

void BM_TransportRead64Unwritten(benchmark::State& state) {
  transport_reads(state, g_init->to_mem, kUnwrittenBase, 64);
}

void BM_TransportRead4KWritten(benchmark::State& state) {
  transport_reads(state, g_init->to_mem, kWrittenBase, 4096);
}

void BM_BackdoorRead64Written(benchmark::State& state) {
  uint8_t buf[64];
  uint64_t off = 0;
  for (auto _ : state) {
    g_mem->read(kWrittenBase + off, buf, sizeof buf);
    benchmark::DoNotOptimize(buf[0]);
    off = (off + 64) & (kRegionBytes - 1);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_BackdoorReadU64Written(benchmark::State& state) {
  uint64_t off = 0, sum = 0;
  for (auto _ : state) {
    sum += g_mem->read_u64(kWrittenBase + off);
    off = (off + 64) & (kRegionBytes - 1);
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_BareTransportNullTarget);
BENCHMARK(BM_KernelTimeStep);
BENCHMARK(BM_TransportRead64Written);
BENCHMARK(BM_TransportRead64Unwritten);
BENCHMARK(BM_TransportRead4KWritten);
BENCHMARK(BM_BackdoorRead64Written);
BENCHMARK(BM_BackdoorReadU64Written);

}  // namespace

int sc_main(int argc, char** argv) {
  iosim::PhysicalMemoryConfig cfg;  // defaults: 64 GiB, 6 channels
  PhysicalMemory mem("mem", cfg);
  NullTarget null_target("null_target");
  Initiator init("init");
  Ticker ticker("ticker");
  init.to_mem.bind(mem.socket);
  init.to_null.bind(null_target.socket);
  for (uint64_t a = kWrittenBase; a < kWrittenBase + kRegionBytes;
       a += PhysicalMemory::kFrameBytes) {
    mem.fill_frame(a, static_cast<uint8_t>(1 + (a >> 12) % 255));
  }
  g_mem = &mem;
  g_init = &init;
  g_ticker = &ticker;
  sc_core::sc_start(sc_core::SC_ZERO_TIME);  // completes elaboration and binding

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
