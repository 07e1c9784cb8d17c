// The SystemC kernel alone with as many waiting threads as a scaling point has issue
// slots: host ns per timed wait against the number of threads. No model code runs;
// it is the kernel's own share of the devices and PASIDs axes of bench/run's scaling
// part (one issue slot per outstanding request: 4 at one device, 64 at 16 devices,
// 256 at 64 PASIDs).
//
// Each thread waits in turn for the delays a slot's ATC-hit read waits for (the issue
// lead, the link to the IOMMU, the rest of the round trip), each with a few ns of
// jitter from a per-thread generator, so wake-up times interleave as the slots' do.
// Threads get the issue slots' stack sizes (sc_models/timing/local_time.h), so context switches
// touch the host's caches as the model's do.
//
//   kernel_scaling_bench THREADS WAITS   prints one JSON object:
//   {"threads": N, "waits": W, "host_ns_per_wait": X, "sim_ns_per_wait": Y}
#include "sc_models/timing/local_time.h"

#include <systemc>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

// Waits of one slot's ATC-hit read (ns): issue lead, link to the IOMMU, the rest.
constexpr uint64_t kDelaysNs[] = {6, 200, 350};
constexpr uint64_t kJitterNs = 16;

uint64_t waits_done = 0;

void slot(unsigned index, uint64_t waits) {
  uint64_t state = 0x9e3779b97f4a7c15ull * (index + 1);  // per-thread generator
  sc_core::wait(sc_core::sc_time(static_cast<double>(index), sc_core::SC_NS));  // staggered
  for (uint64_t i = 0; i < waits; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const uint64_t d = kDelaysNs[i % 3] + (state >> 60) % kJitterNs;
    sc_core::wait(sc_core::sc_time(static_cast<double>(d), sc_core::SC_NS));
    ++waits_done;
  }
}

bool parse(const char* text, uint64_t& out) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || v == 0) return false;
  out = v;
  return true;
}

}  // namespace

int sc_main(int argc, char** argv) {
  uint64_t threads = 0;
  uint64_t waits = 0;
  if (argc != 3 || !parse(argv[1], threads) || !parse(argv[2], waits) || threads > 100000) {
    std::fprintf(stderr,
                 "usage: kernel_scaling_bench THREADS WAITS (positive integers, THREADS "
                 "<= 100000; WAITS in all)\n");
    return 2;
  }
  const uint64_t per_thread = (waits + threads - 1) / threads;
  for (unsigned i = 0; i < threads; ++i) {
    sc_core::sc_spawn_options opts;
    opts.set_stack_size(iosim::initiator_stack_size(i));
    sc_core::sc_spawn([i, per_thread] { slot(i, per_thread); },
                      ("slot" + std::to_string(i)).c_str(), &opts);
  }
  const auto t0 = std::chrono::steady_clock::now();
  sc_core::sc_start();
  const auto t1 = std::chrono::steady_clock::now();
  const double host_ns = std::chrono::duration<double, std::nano>(t1 - t0).count();
  const double n = static_cast<double>(waits_done);
  std::printf(
      "{\"threads\": %llu, \"waits\": %llu, \"host_ns_per_wait\": %.2f, "
      "\"sim_ns_per_wait\": %.2f}\n",
      static_cast<unsigned long long>(threads), static_cast<unsigned long long>(waits_done),
      host_ns / n, iosim::to_ns(sc_core::sc_time_stamp()) * static_cast<double>(threads) / n);
  return 0;
}
