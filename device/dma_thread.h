// One DMA thread of the device: a PASID-bound stream of requests from a
// synthetic pattern or a scripted program, issued through a small pool of issue
// slots (max_outstanding worker processes created at elaboration, not one
// process per request) at most one issue per issue_interval_ns.
//
// A scripted program runs in order on one slot (read, write, wait, at time T,
// stop PASID); every read's value is recorded with its time so scenarios can
// assert what the device saw (synthetic threads record no values). Access errors (Invalid Request,
// PRI disabled, translation errors) are recorded per thread.
//
// Temporal decoupling: when the TLM global quantum (tlm::tlm_global_quantum) is
// non-zero, each slot of a synthetic thread keeps a tlm_utils::tlm_quantumkeeper:
// its issue waits and the device's own latencies advance the slot's local time
// instead of waiting, and the slot synchronises with the kernel only when its local
// time reaches the quantum boundary (or before it needs another process, e.g. a
// translation request); issue times are reserved in simulated-time order, not in the
// order the slots ask (sc_models/server_pool.h). With a quantum of zero (the default) every delay
// is a wait, exactly as without decoupling. Scripted threads are ordering scenarios and never
// decouple.
//
// Simplifications: a synthetic thread stops issuing when request_count is
// reached or at duration_ns; requests in flight then complete normally.
#pragma once

#include "device/address_pattern.h"
#include "device/device_config.h"
#include "sc_models/pcie_ext.h"
#include "sc_models/server_pool.h"

#include <systemc>
#include <tlm>

// After <systemc>: the keeper header does not include the kernel declarations.
#include <tlm_utils/tlm_quantumkeeper.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace iosim {

// Result of one device access.
struct AccessResult {
  bool ok = true;
  uint64_t value = 0;  // first 8 bytes read (little endian)
  std::string error;   // why it failed
};

class DmaThread;

// The local time of a decoupled issue slot; nullptr (or a zero global quantum)
// means every delay is a wait.
using QuantumKeeper = tlm_utils::tlm_quantumkeeper;

// True when `qk` is set and the global quantum is non-zero.
inline bool decoupled(const QuantumKeeper* qk) {
  return qk && quantum_set();
}
// sc_time_stamp() plus the local time of `qk` when decoupled (inline: several calls
// per request).
inline sc_core::sc_time local_now(const QuantumKeeper* qk) {
  return decoupled(qk) ? kernel_time() + qk->get_local_time() : kernel_time();
}
// Stack size of the n-th issue slot spawned in the process. SystemC gives every
// thread a stack of the same size (SC_DEFAULT_STACK_SIZE, 256 KiB) from aligned
// allocations, so the frames in use when a slot waits sit at the same address
// modulo 64 KiB in every slot: with tens of slots they all compete for the same few
// sets of the host's L1 and L2 caches, and every context switch misses. A different
// extra size per slot (73 cache lines apart, odd, so 64 slots get 64 different
// offsets modulo 4 KiB and modulo 64 KiB) spreads them. Host-side only: nothing
// simulated depends on it.
int issue_slot_stack_size(unsigned n);
// Consumes `d` of simulated time: adds it to the local time when decoupled (and
// synchronises at the quantum boundary), else waits.
void consume(QuantumKeeper* qk, const sc_core::sc_time& d);

// What the device knows of one issue slot while the slot waits: the earliest
// simulated time (a raw sc_time value) at which the slot may next hand a TLP to the
// device's upstream port. Whoever makes the slot wait sets it first: the end of the
// wait plus the least time the slot takes from waking to sending when that is known,
// 0 ("any time") when the wait's end or the slot's next step is not known, ~0 once
// the slot has finished. Only the device's local lookahead reads it
// (Device::may_skip_send_wait); a bound set too early only costs a skipped skip.
struct SlotClock {
  uint64_t next_send = 0;
};
// Sets the clock (when kept) to `t`.
inline void set_next_send(SlotClock* c, const sc_core::sc_time& t) {
  if (c) c->next_send = t.value();
}

// What a DMA thread needs from the device to perform an access.
class DmaAccessor {
 public:
  virtual ~DmaAccessor() = default;
  // `qk`: the calling slot's quantum keeper (nullptr: not decoupled); `clock`: the
  // calling slot's SlotClock (nullptr: the accessor keeps none).
  virtual AccessResult access(DmaThread& t, const DmaRequest& r, uint64_t write_value,
                              QuantumKeeper* qk, SlotClock* clock) = 0;
  virtual void stop_pasid(DmaThread& t) = 0;
};

class DmaThread {
 public:
  struct ReadRecord {
    sc_core::sc_time time;  // when the data was back at the device
    uint64_t va;
    uint64_t value;
    bool ok;
  };
  struct ErrorRecord {
    sc_core::sc_time time;
    uint64_t va;
    bool write;
    std::string reason;
  };

  DmaThread(std::string name, const DmaThreadConfig& cfg);

  // Number of issue slots spawn() creates.
  unsigned slot_count() const;
  // Creates the issue slots (call during elaboration). `clocks`: slot_count()
  // SlotClocks, one per slot, kept up to date at the thread's own waits (nullptr:
  // none are kept).
  void spawn(DmaAccessor& accessor, SlotClock* clocks = nullptr);
  // With a start event (set before sc_start), the slots begin when it fires, and
  // script times (kAtTime) and duration_ns count from that moment.
  void set_start_event(const sc_core::sc_event* e) { start_event_ = e; }
  sc_core::sc_time start_time() const { return start_; }

  const std::string& name() const { return name_; }
  // Before the start: the name used in records and ground-truth events (e.g. a
  // scenario's "DEV-thread-0"), and the PASID bound at boot.
  void set_name(std::string n) { name_ = std::move(n); }
  void set_pasid(uint32_t pasid) { cfg_.pasid = pasid; }
  const DmaThreadConfig& config() const { return cfg_; }
  const std::vector<ReadRecord>& reads() const { return reads_; }
  const std::vector<ErrorRecord>& errors() const { return errors_; }
  uint64_t completed() const { return completed_; }
  uint64_t bytes() const { return bytes_; }
  bool finished() const { return live_slots_ == 0; }
  // The device's memo of the PASID prefix of this thread's requests (kept per
  // thread: with many threads one memo per device would miss on every request).
  PasidPrefix& prefix_memo() { return prefix_memo_; }
  // Notified when the last slot has finished.
  const sc_core::sc_event& finished_event() const { return finished_; }

 private:
  void run_synthetic(DmaAccessor& a, QuantumKeeper& qk, SlotClock* clock);
  void run_script(DmaAccessor& a, SlotClock* clock);
  // The next request and its issue time `at` (reserved), or nothing when the thread
  // is done.
  std::optional<DmaRequest> next_request(const sc_core::sc_time& now, bool decoupled,
                                         sc_core::sc_time& at);
  void record(const DmaRequest& r, const AccessResult& res, const sc_core::sc_time& now);
  void slot_done(SlotClock* clock);
  void await_start();

  std::string name_;
  DmaThreadConfig cfg_;
  sc_core::sc_time issue_interval_;  // cfg_ latencies as sc_time, converted once
  sc_core::sc_time duration_;
  std::unique_ptr<AddressPattern> pattern_;
  uint64_t issued_ = 0;
  uint64_t completed_ = 0;
  uint64_t bytes_ = 0;
  sc_core::sc_time next_issue_ = sc_core::SC_ZERO_TIME;
  ServerPool issue_slots_{1};  // issue times of decoupled slots (issue_interval_ each)
  unsigned live_slots_ = 0;
  std::vector<std::unique_ptr<QuantumKeeper>> keepers_;  // one per synthetic slot
  std::vector<ReadRecord> reads_;
  std::vector<ErrorRecord> errors_;
  sc_core::sc_event finished_;
  const sc_core::sc_event* start_event_ = nullptr;
  sc_core::sc_time start_ = sc_core::SC_ZERO_TIME;
  PasidPrefix prefix_memo_;  // present once set
};

}  // namespace iosim
