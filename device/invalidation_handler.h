// ATS invalidation handling of the device.
//
// Invalidate Requests arrive downstream and are queued (the Invalidate Queue
// Depth is the limit the device advertises; the translation agent must respect
// it; a request beyond it is counted as a protocol error and still queued, PCIe
// having no NAK for posted messages). One processing thread serves the queue in
// order: for each request it
//   1. takes invalidation_processing_latency_ns,
//   2. drops the matching ATC entries (by PASID and range, or every PASID) and
//      tells the ATS client, so completions in flight for the range are stale,
//   3. waits until every in-flight access that used one of the dropped
//      translations has completed (reads returned, writes posted),
//   4. sends its Invalidate Completions through the device's ordered upstream
//      path, after every posted write issued before them: completion_count
//      messages (1..8), each with the request's ITag bit and the Completion Count
//      field set to completion_count (PCIe ATS: the CC field says how many
//      Invalidate Completions the Function sends for the request; the translation
//      agent retires the ITag when the last has arrived).
//
// The handler is busy with a request until its last completion has reached the
// translation agent (the message's annotated delay); only then does the request
// free its queue slot and the next one start. That wait is not a wait of its own:
// the slot is freed when the next request starts or arrives, and the next
// request's processing is one wait that ends processing_latency_ns after the later
// of its arrival and that time (an idle handler is woken there directly by the
// arrival).
//
// Injected faults (DeviceFaultConfig, device/device_config.h; counted in the
// device's "fault" statistics group): a late completion waits completion_delay_ns
// after step 3; a dropped one is not sent (the slot is freed at once); a duplicated
// one is sent twice, back to back; an early one is sent right after step 1, and the
// ATC entries are dropped early_completion_ns later, without step 3. An
// unresponsive handler (set_unresponsive()) ignores the requests that arrive and
// sends no completion for the one it is working on.
//
// Simplifications: requests are processed one at a time; the split completions of
// a request are sent back to back (no coalescing of ITags into one vector).
#pragma once

#include "device/atc.h"
#include "device/ats_client.h"
#include "device/upstream.h"
#include "sc_models/observe/stats.h"

#include <systemc>

#include <cstdint>
#include <deque>

namespace iosim {

class InvalidationHandler {
 public:
  struct Config {
    uint32_t queue_depth = 32;
    double processing_latency_ns = 0;
    uint16_t translation_agent_id = 0;
    uint32_t completion_count = 1;  // Invalidate Completions per request (1..8)
    // Injected faults (see DeviceFaultConfig): all off by default.
    double completion_delay_ns = 0;
    uint64_t drop_completions = 0;
    uint64_t duplicate_completions = 0;
    double early_completion_ns = 0;
  };

  // `fault_stats`: where the injected faults are counted (null when none is set).
  InvalidationHandler(const Config& cfg, DeviceUpstream& up, Atc& atc, AtsClient& ats,
                      StatGroup& stats, StatGroup* fault_stats = nullptr);

  // Downstream Invalidate Request (called from the device's target; no wait).
  void accept(const InvalidateRequest& r);
  // The processing loop; run it as an SC_THREAD.
  void run();

  // Waiting for a request, none arrived meanwhile: the handler sends nothing
  // before the next accept().
  bool idle() const { return idle_; }
  size_t queued() const { return queue_.size() - (slot_freed() ? 1 : 0); }
  uint64_t completions_sent() const { return completions_.value(); }
  uint64_t overflows() const { return overflows_.value(); }

  // From now on the Function answers nothing (DeviceFaultConfig::unresponsive_from_ns).
  void set_unresponsive() { unresponsive_ = true; }

 private:
  struct Item {
    InvalidateRequest req;
    sc_core::sc_time arrival;
  };
  void process(const Item& item);
  // The front request's completion was sent and has arrived (its slot is free).
  bool slot_freed() const { return holding_ && sc_core::sc_time_stamp() >= free_at_; }
  void release_slot();
  // Sends the request's Invalidate Completions (or not, as the faults say); returns
  // when the last one arrives (now when none is sent).
  sc_core::sc_time send_completions(const InvalidateRequest& r);
  static Counter* fault_counter(StatGroup* g, const char* name, const char* unit, const char* desc);

  Config cfg_;
  sc_core::sc_time processing_;  // cfg_.processing_latency_ns
  bool holding_ = false;         // the front request's completion is in flight
  bool idle_ = false;            // run() waits for an arrival on wake_
  sc_core::sc_time free_at_;     // when that completion arrives
  sc_core::sc_event wake_;       // an idle handler's processing latency has passed
  DeviceUpstream& up_;
  Atc& atc_;
  AtsClient& ats_;
  std::deque<Item> queue_;
  Counter& received_;
  Counter& completions_;
  Counter& overflows_;
  Counter& entries_dropped_;
  Average& queue_depth_;
  Histogram& service_time_;
  Histogram& drain_wait_;
  bool unresponsive_ = false;
  uint64_t processed_ = 0;  // requests taken for processing (numbers the faults' first N)
  // Fault counters (null when no fault is set).
  Counter* late_ = nullptr;
  Counter* dropped_ = nullptr;
  Counter* duplicated_ = nullptr;
  Counter* early_ = nullptr;
  Counter* ignored_ = nullptr;
};

}  // namespace iosim
