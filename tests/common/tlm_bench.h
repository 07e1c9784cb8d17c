// Small TLM test-bench helpers: a stub initiator and a stub target around one
// module under test, and a way to run a test body as a SystemC thread.
//
// Each gtest test that uses these runs in its own process (see tests/CMakeLists.txt),
// because SystemC allows one elaboration and one simulation per process.
#pragma once

#include "sc_models/sim/sim_teardown.h"

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace iosim::test {

// Runs `body` as an SC_THREAD and simulates until every event is consumed (or
// `limit` of simulated time has passed, so a broken model cannot hang a test).
// Then ends the simulation: every thread still waiting (the model's server loops,
// a body stuck on a completion that never came) is killed and unwinds, so its
// locals are freed while the test's objects are still alive (sim_teardown.h).
// A test simulates once: call it once, then check the results.
inline void run_thread(std::function<void()> body,
                       sc_core::sc_time limit = sc_core::sc_time(1, sc_core::SC_SEC)) {
  sc_core::sc_spawn(std::move(body), "test_body");
  sc_core::sc_start(limit, sc_core::SC_EXIT_ON_STARVATION);
  iosim::end_simulation();
}

// Runs each body as its own SC_THREAD ("thread0", "thread1", ...), simulates until
// every event is consumed or one simulated second has passed, and ends the
// simulation as run_thread() does.
inline void run_threads(std::vector<std::function<void()>> bodies) {
  int i = 0;
  for (auto& b : bodies) sc_core::sc_spawn(b, ("thread" + std::to_string(i++)).c_str());
  sc_core::sc_start(sc_core::sc_time(1, sc_core::SC_SEC), sc_core::SC_EXIT_ON_STARVATION);
  iosim::end_simulation();
}

// From a SystemC thread: waits until absolute simulated time `t_ns` (no-op if past).
inline void until(double t_ns) {
  const sc_core::sc_time t(t_ns, sc_core::SC_NS);
  if (sc_core::sc_time_stamp() < t) sc_core::wait(t - sc_core::sc_time_stamp());
}

// Initiator with helpers to issue blocking reads and writes.
struct StubInitiator : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<StubInitiator> socket;

  explicit StubInitiator(sc_core::sc_module_name name) : sc_module(name), socket("socket") {}

  // Issues one b_transport; returns the response status. `delay` is the annotated
  // delay in and out. `ext` (optional, e.g. a PCIe extension) is attached for the call.
  template <class Ext = tlm::tlm_extension<void>>
  tlm::tlm_response_status transport(tlm::tlm_command cmd, uint64_t addr, void* data, unsigned len,
                                     sc_core::sc_time& delay, Ext* ext = nullptr) {
    tlm::tlm_generic_payload gp;
    gp.set_command(cmd);
    gp.set_address(addr);
    gp.set_data_ptr(static_cast<unsigned char*>(data));
    gp.set_data_length(len);
    gp.set_streaming_width(len);
    gp.set_byte_enable_ptr(nullptr);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    if (ext) gp.set_extension(ext);
    socket->b_transport(gp, delay);
    if (ext) gp.clear_extension(ext);
    return gp.get_response_status();
  }
  // Read/write that also waits for the annotated delay (so sc_time_stamp() moves).
  tlm::tlm_response_status read(uint64_t addr, void* data, unsigned len) {
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    auto st = transport(tlm::TLM_READ_COMMAND, addr, data, len, d);
    sc_core::wait(d);
    return st;
  }
  tlm::tlm_response_status write(uint64_t addr, const void* data, unsigned len) {
    sc_core::sc_time d = sc_core::SC_ZERO_TIME;
    auto st = transport(tlm::TLM_WRITE_COMMAND, addr, const_cast<void*>(data), len, d);
    sc_core::wait(d);
    return st;
  }
};

// Target that records every transaction and answers after a fixed latency.
struct StubTarget : sc_core::sc_module {
  struct Record {
    tlm::tlm_command cmd;
    uint64_t addr;
    std::vector<uint8_t> data;
    sc_core::sc_time time;  // sc_time_stamp() + incoming annotated delay
  };

  tlm_utils::simple_target_socket<StubTarget> socket;
  sc_core::sc_time latency = sc_core::SC_ZERO_TIME;
  std::vector<Record> log;
  // Optional hook run before recording; may inspect extensions or change the payload.
  std::function<void(tlm::tlm_generic_payload&, sc_core::sc_time&)> hook;

  explicit StubTarget(sc_core::sc_module_name name) : sc_module(name), socket("socket") {
    socket.register_b_transport(this, &StubTarget::b_transport);
  }

  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
    if (hook) hook(gp, delay);
    Record r{gp.get_command(), gp.get_address(), {}, sc_core::sc_time_stamp() + delay};
    if (gp.get_data_ptr() && gp.get_data_length()) {
      r.data.assign(gp.get_data_ptr(), gp.get_data_ptr() + gp.get_data_length());
    }
    log.push_back(std::move(r));
    delay += latency;
    if (gp.get_response_status() == tlm::TLM_INCOMPLETE_RESPONSE) {
      gp.set_response_status(tlm::TLM_OK_RESPONSE);
    }
  }
};

}  // namespace iosim::test
