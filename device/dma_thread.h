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
// Each slot owns a LocalTime (sc_models/timing/local_time.h): a synthetic thread's slots
// may run decoupled (temporal decoupling), and then take their issue
// times in simulated-time order, not in the order the slots ask
// (sc_models/timing/server_pool.h). Scripted threads are ordering scenarios and never
// decouple.
//
// Simplifications: a synthetic thread stops issuing when request_count is
// reached or at duration_ns; requests in flight then complete normally.
#pragma once

#include "device/address_pattern.h"
#include "device/device_config.h"
#include "sc_models/pcie/pcie_ext.h"
#include "sc_models/timing/local_time.h"
#include "sc_models/timing/server_pool.h"

#include <systemc>
#include <tlm>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace iosim {

// Result of one device access.
struct AccessResult {
  bool ok = true;
  uint64_t value = 0;   // first 8 bytes read (little endian)
  std::string error;    // why it failed
  bool halted = false;  // the device stopped working: the thread issues nothing more
};

class DmaThread;

// What a DMA thread needs from the device to perform an access.
class DmaAccessor {
 public:
  virtual ~DmaAccessor() = default;
  // `time`: the calling slot's own time.
  virtual AccessResult access(DmaThread& t, const DmaRequest& r, uint64_t write_value,
                              LocalTime& time) = 0;
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
  // Creates the issue slots (call during elaboration), timed by the system's
  // `timing`; they send on `path` (nullptr: none).
  void spawn(DmaAccessor& accessor, Timing& timing, PrivatePath* path = nullptr);
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
  void run_synthetic(DmaAccessor& a, LocalTime& time);
  void run_script(DmaAccessor& a, LocalTime& time);
  // The next request and its issue time `at` (reserved), or nothing when the thread
  // is done.
  std::optional<DmaRequest> next_request(const sc_core::sc_time& now, bool decoupled,
                                         sc_core::sc_time& at);
  void record(const DmaRequest& r, const AccessResult& res, const sc_core::sc_time& now);
  void slot_done(LocalTime& time);
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
  std::vector<std::unique_ptr<LocalTime>> slot_times_;  // one per slot
  std::vector<ReadRecord> reads_;
  std::vector<ErrorRecord> errors_;
  sc_core::sc_event finished_;
  const sc_core::sc_event* start_event_ = nullptr;
  sc_core::sc_time start_ = sc_core::SC_ZERO_TIME;
  PasidPrefix prefix_memo_;  // present once set
};

}  // namespace iosim
