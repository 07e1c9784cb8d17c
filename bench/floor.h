// The SystemC kernel floor shared by the model benchmarks: a target that adds 1 ns
// to a b_transport, an initiator for it, a thread answering wait/notify round trips,
// and the batch helpers that run benchmark iterations in a bench::Driver thread.
// Each program measures the floor in its own process, so a ratio to it cancels the
// machine's noise and the program's own footprint.
#pragma once

#include <benchmark/benchmark.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include <cstdint>

#include "bench/bench_system.h"
#include "sc_models/timing/lookahead.h"
#include "sc_models/timing/server_pool.h"

namespace iosim::bench {

struct NullTarget : sc_core::sc_module {
  tlm_utils::simple_target_socket<NullTarget> socket;
  explicit NullTarget(sc_core::sc_module_name n) : sc_module(n), socket("socket") {
    socket.register_b_transport(this, &NullTarget::b_transport);
  }
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
    delay += sc_core::sc_time(1, sc_core::SC_NS);
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
  }
};

struct FloorInitiator : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<FloorInitiator> socket;
  explicit FloorInitiator(sc_core::sc_module_name n) : sc_module(n), socket("socket") {}
};

// Answers wait/notify round trips from the driver.
struct Ponger : sc_core::sc_module {
  sc_core::sc_event ping, pong;
  SC_CTOR(Ponger) { SC_THREAD(run); }
  void run() {
    for (;;) {
      sc_core::wait(ping);
      pong.notify();
    }
  }
};

// The floor modules of one program, bound to each other.
struct Floor {
  NullTarget target{"null_target"};
  FloorInitiator initiator{"floor"};
  Ponger ponger{"ponger"};
  Floor() { initiator.socket.bind(target.socket); }
};

// Runs `op` n times in the driver thread, in one sc_start.
template <class Op>
void run_ops(Driver& driver, int64_t n, Op& op) {
  driver.run_job([n, &op] {
    for (int64_t i = 0; i < n; ++i) op();
  });
}

// Times iterations in batches of `batch`, one sc_start per batch; reports the
// simulated time per operation (counter sim_ns) and, given the lookahead of the
// system the operations run in, its skips per operation.
template <class Op>
void timed(benchmark::State& state, Driver& driver, Op op, int64_t batch = 64,
           const Lookahead* lookahead = nullptr) {
  const sc_core::sc_time t0 = sc_core::sc_time_stamp();
  const uint64_t deltas = sc_core::sc_delta_count();
  const uint64_t skips = lookahead ? lookahead->skips() : 0;
  while (state.KeepRunningBatch(batch)) run_ops(driver, batch, op);
  const double ops = static_cast<double>(state.iterations());
  state.counters["sim_ns"] = to_ns(sc_core::sc_time_stamp() - t0) / ops;
  // Kernel evaluation phases (about the context switches) and lookahead skips per op;
  // the batch's own start and pause count too.
  state.counters["deltas"] = static_cast<double>(sc_core::sc_delta_count() - deltas) / ops;
  if (lookahead) state.counters["skips"] = static_cast<double>(lookahead->skips() - skips) / ops;
  state.SetItemsProcessed(state.iterations());
}

// --- the floors -----------------------------------------------------------------

// A wait/notify round trip with a second thread (two context switches).
inline void floor_wait_notify(benchmark::State& state, Driver& driver, Floor& f) {
  timed(state, driver, [&f] {
    f.ponger.ping.notify();
    sc_core::wait(f.ponger.pong);
  });
}

// One wait(1 ns): one kernel time step, one context switch.
inline void floor_timed_wait(benchmark::State& state, Driver& driver) {
  timed(state, driver, [] { sc_core::wait(1, sc_core::SC_NS); });
}

// One b_transport into a target that adds 1 ns, then wait(delay): the cheapest timed
// TLM access an initiator can make; the ratio targets are relative to it.
inline void floor_transport_wait(benchmark::State& state, Driver& driver, Floor& f) {
  tlm::tlm_generic_payload gp;
  uint8_t buf[64] = {};
  gp.set_command(tlm::TLM_READ_COMMAND);
  gp.set_data_ptr(buf);
  gp.set_data_length(64);
  gp.set_streaming_width(64);
  timed(state, driver, [&] {
    gp.set_address(0);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    f.initiator.socket->b_transport(gp, delay);
    sc_core::wait(delay);
  });
}

// Registers the three floors (BM_Floor_WaitNotify, BM_Floor_TimedWait,
// BM_Floor_TransportWait) of a program; `driver` and `f` must live until the
// benchmarks have run.
inline void register_floors(Driver& driver, Floor& f) {
  benchmark::RegisterBenchmark("BM_Floor_WaitNotify", [&driver, &f](benchmark::State& s) {
    floor_wait_notify(s, driver, f);
  });
  benchmark::RegisterBenchmark("BM_Floor_TimedWait",
                               [&driver](benchmark::State& s) { floor_timed_wait(s, driver); });
  benchmark::RegisterBenchmark("BM_Floor_TransportWait", [&driver, &f](benchmark::State& s) {
    floor_transport_wait(s, driver, f);
  });
}

}  // namespace iosim::bench
