// TraceRecorder: a Chrome trace-event JSON file (sc_models/observe/chrome_trace.h, opens in
// Perfetto) of the memory manager's steps, the CPU and device accesses and the
// completed invalidations, one track per thread:
//   CPU thread tracks   (and a track per kernel thread that runs on no core, such as the
//                       I/O page-fault handler's, named after its SystemC process)
//                       "invalidate_range(<event>)" spans from range start to the return
//                       of range end, "ptl_hold" spans, "preempted" spans,
//                       "arch_invalidate_secondary_tlbs" spans, "pte_update" instants,
//                       "load"/"store" instants;
//   device thread tracks "read"/"write" instants (PASID, VA, PA, translation age, ATC
//                       or IOMMU path);
//   "invalidations"     "invalidation_done" instants (InvalidationDoneEvent: software
//                       told the range is gone from the secondary TLBs).
// Thread naming as in TimelineRecorder: set_cpu_thread / set_device_thread.
//
// Events are kept in memory (at most max_events; later ones are counted as dropped)
// and written by finish(), so the file appears only when the run is over.
//
// An OS step goes to the track of the thread that runs it (ThreadNames::os_step): a
// core's thread by its cpu, a kernel thread without a core by its process, so one
// track's slices always nest (chrome_trace_nesting_errors()).
//
// Simplifications: nested ranges on one thread pair up last-in first-out; steps made
// outside any SystemC process (unit tests calling the memory manager directly) go to
// the track of the event's cpu, "kernel" when it has none.
#pragma once

#include "os/os_observer.h"
#include "platform/thread_names.h"
#include "sc_models/check/ground_truth.h"

#include <systemc>

#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace iosim {

class TraceRecorder : public GroundTruthSink, public OsObserver {
 public:
  explicit TraceRecorder(uint64_t max_events = 1000000) : max_events_(max_events) {}

  void set_cpu_thread(int cpu, const std::string& name) { names_.set_cpu(cpu, name); }
  void set_device_thread(const std::string& event_thread, const std::string& name) {
    names_.set_device(event_thread, name);
  }
  void set_kernel_thread(const std::string& process, const std::string& name) {
    names_.set_kernel_thread(process, name);
  }

  // GroundTruthSink
  void on_cpu_access(const CpuAccessEvent& e) override;
  void on_device_access(const DeviceAccessEvent& e) override;
  void on_invalidation_done(const InvalidationDoneEvent& e) override;
  // OsObserver
  void on_range_start(const OsRangeEvent& e) override;
  void on_range_end(const OsRangeEvent& e) override;
  void on_ptl_release(const OsEvent& e) override;
  void on_pte_update(const OsPteEvent& e) override;
  void on_preempt_end(const OsEvent& e) override;
  void on_secondary_flush_end(const OsRangeEvent& e) override;

  // Writes the trace; throws std::runtime_error naming the file if it cannot.
  void finish(const std::string& path) const;
  void finish(std::ostream& out) const;

  size_t size() const { return events_.size(); }
  uint64_t dropped() const { return dropped_; }
  // Events kept with this name ("ptl_hold", "read", "invalidate_range(clear)", ...).
  uint64_t count(const std::string& name) const;

 private:
  enum class Kind { kCpuAccess, kDevAccess, kRange, kSpan, kFlush, kPte, kInvalidation };
  struct Event {
    Kind kind = Kind::kCpuAccess;
    std::string track;
    std::string name;
    sc_core::sc_time ts;
    sc_core::sc_time dur;  // spans only
    uint64_t a = 0, b = 0, c = 0, d = 0;
    double x = 0;
    std::string s;
  };

  static Event make(Kind kind, std::string track, std::string name, const sc_core::sc_time& ts,
                    const sc_core::sc_time& dur = sc_core::SC_ZERO_TIME);
  void add(Event e);

  uint64_t max_events_;
  ThreadNames names_;
  std::vector<Event> events_;
  uint64_t dropped_ = 0;
  // (track, mm) -> start times of the ranges open on that thread.
  std::map<std::pair<std::string, uint32_t>, std::vector<sc_core::sc_time>> open_ranges_;
};

}  // namespace iosim
