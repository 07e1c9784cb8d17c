// MemoryPort: how the IOMMU's parts reach system memory (table fetches, page
// walks, queue fetches, status and page-request writes, DMA forwarding) through the
// Iommu's one memory initiator socket.
//
// Every access happens at its own simulated time: the caller's annotated delay
// is synchronised first (Timing::sync_delay: waited for, or kept where the
// running process's timing scope allows; the caller must be an SC_THREAD, or a
// b_transport called from one), then the access is issued and its latency is
// added to the delay, so the next access or action waits for it in turn. Code
// that wakes another process calls settle() first.
//
// Simplification: no outstanding-read limit of its own; memory contention is
// modelled by the memory target.
#pragma once

#include <systemc>
#include <tlm>

#include "sc_models/memory/payload_pool.h"
#include "sc_models/timing/local_time.h"

#include <cstdint>

namespace iosim {

class MemoryPort {
 public:
  // `timing`: the system's (sc_models/timing/local_time.h), whose rules the accesses follow.
  MemoryPort(tlm::tlm_initiator_socket<>& socket, Timing& timing)
      : socket_(socket), timing_(timing) {}

  Timing& timing() { return timing_; }
  // A scope in which the running process serves an initiator's request.
  Timing::Serving serving() { return Timing::Serving(timing_); }

  void sync(sc_core::sc_time& delay) { timing_.sync_delay(delay); }
  void settle(sc_core::sc_time& delay) { timing_.settle_delay(delay); }
  // Waits with the running process's scope set aside.
  void wait(const sc_core::sc_event& e) { timing_.wait_aside(e); }
  void wait(const sc_core::sc_time& t) { timing_.wait_aside(t); }

  // Each returns true on TLM_OK_RESPONSE.
  bool read(uint64_t addr, void* dst, unsigned len, sc_core::sc_time& delay);
  bool write(uint64_t addr, const void* src, unsigned len, sc_core::sc_time& delay);
  bool read_u64(uint64_t addr, uint64_t& value, sc_core::sc_time& delay);
  bool write_u64(uint64_t addr, uint64_t value, sc_core::sc_time& delay);
  // A locked read-modify-write of a 64-bit word (a walker's Accessed/Dirty update): at
  // the access's time, writes `desired` only if the word still holds `expected`;
  // false (nothing written) when another agent changed it since it was read.
  bool compare_exchange_u64(uint64_t addr, uint64_t expected, uint64_t desired,
                            sc_core::sc_time& delay);
  // Forwards a payload as it is (the caller sets the address).
  void forward(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);

  uint64_t reads() const { return reads_; }
  uint64_t writes() const { return writes_; }

 private:
  bool access(tlm::tlm_command cmd, uint64_t addr, void* data, unsigned len,
              sc_core::sc_time& delay);

  tlm::tlm_initiator_socket<>& socket_;
  Timing& timing_;
  PayloadPool payloads_;
  uint64_t reads_ = 0, writes_ = 0;
};

}  // namespace iosim
