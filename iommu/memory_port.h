// MemoryPort: how the IOMMU's parts reach system memory (table fetches, page
// walks, queue fetches, status and page-request writes, DMA forwarding) through the
// Iommu's one memory initiator socket.
//
// Every access happens at its own simulated time: the pending annotated delay of
// the caller is waited for first (the caller must be an SC_THREAD, or a b_transport
// called from one), then the access is issued and its latency is added to the
// delay, so the next access or action waits for it in turn.
//
// Temporal decoupling: an upstream request handled while the TLM global quantum
// is non-zero runs inside a Decoupled scope (opened by the Iommu). Within it,
// sync() waits only when the pending delay reaches the next quantum boundary, as a
// tlm_utils::tlm_quantumkeeper does, so the IOMMU, its table fetches and walks and
// the memory cost no context switch per request: accesses carry their simulated
// time as annotated delay and may reach memory before the kernel time gets there.
// With a zero quantum every access happens at its own simulated time, and inside
// the scope sync() may still keep a delay as annotated time when no other process
// can run before it ends (sc_models/lookahead.h): that is exact, not decoupling.
// Code inside the scope that wakes another process calls settle() first. The
// scope belongs to the process that opened it: it is set aside while that process
// waits, so other processes (the command queue, the page request queue) always
// synchronise exactly.
//
// Simplification: no outstanding-read limit of its own; memory contention is
// modelled by the memory target.
#pragma once

#include <systemc>
#include <tlm>

#include "sc_models/payload_pool.h"

#include <cstdint>

namespace iosim {

class MemoryPort {
 public:
  explicit MemoryPort(tlm::tlm_initiator_socket<>& socket) : socket_(socket) {}

  // kExact: a Decoupled scope with a zero quantum (lookahead only).
  enum class Scope : uint8_t { kNone, kExact, kDecoupled };

  // Sets the running process's scope while it lives (the two kinds below), and
  // restores the outer one when it ends.
  class ScopeGuard {
   public:
    explicit ScopeGuard(Scope inner) : outer_(scope_) { scope_ = inner; }
    ~ScopeGuard() { scope_ = outer_; }
    ScopeGuard(const ScopeGuard&) = delete;
    ScopeGuard& operator=(const ScopeGuard&) = delete;

   private:
    Scope outer_;
  };

  // Marks the current process as a decoupled initiator's request while it lives,
  // when the global quantum is non-zero (see above).
  class Decoupled : ScopeGuard {
   public:
    Decoupled();
  };

  // For processes that are no decoupled initiator (the command queue, the page
  // request queue, the OS's IOPF handler): while it lives, sync() may keep a delay as
  // annotated time when the lookahead allows, as in a Decoupled scope with a zero
  // quantum; with a non-zero quantum it changes nothing (every wait is taken).
  class Lookahead : ScopeGuard {
   public:
    Lookahead();
  };

  // Waits for `delay` (if any) and resets it to zero; inside a Decoupled scope
  // only when `delay` reaches the next quantum boundary (non-zero quantum), or when
  // it may not be skipped (lookahead::may_skip, zero quantum).
  static void sync(sc_core::sc_time& delay);
  // Inside a Decoupled scope with a zero quantum: waits for what sync() left
  // annotated, so the kernel time is the caller's own simulated time (before
  // waking another process). Does nothing otherwise.
  static void settle(sc_core::sc_time& delay);
  // Waits for `e`, setting a Decoupled scope aside while waiting.
  static void wait(const sc_core::sc_event& e);
  static void wait(const sc_core::sc_time& t);

  // Each returns true on TLM_OK_RESPONSE.
  bool read(uint64_t addr, void* dst, unsigned len, sc_core::sc_time& delay);
  bool write(uint64_t addr, const void* src, unsigned len, sc_core::sc_time& delay);
  bool read_u64(uint64_t addr, uint64_t& value, sc_core::sc_time& delay);
  bool write_u64(uint64_t addr, uint64_t value, sc_core::sc_time& delay);
  // Forwards a payload as it is (the caller sets the address).
  void forward(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);

  uint64_t reads() const { return reads_; }
  uint64_t writes() const { return writes_; }

 private:
  bool access(tlm::tlm_command cmd, uint64_t addr, void* data, unsigned len,
              sc_core::sc_time& delay);

  static Scope scope_;  // the running process's scope

  tlm::tlm_initiator_socket<>& socket_;
  PayloadPool payloads_;
  uint64_t reads_ = 0, writes_ = 0;
};

}  // namespace iosim
