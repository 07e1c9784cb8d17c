// IopfHandler: the I/O page-fault path of the SVA driver (the driver's page request
// thread, Linux intel/prq.c prq_event_thread or arm-smmu-v3.c arm_smmu_priq_thread,
// + drivers/iommu/io-pgfault.c + iommu-sva.c iommu_sva_handle_iopf), as one
// interrupt-driven kernel thread on core `cpu`.
//
// On the IOMMU's page request interrupt the driver reads the page request queue
// (SvaDriver::read_page_requests: acknowledging the interrupt, the queue pointers
// through the registers, the requests from memory), and for each request:
//   - a Stop Marker is dropped (no response);
//   - a request without PASID, or a privileged one, makes its group Invalid Request;
//   - other requests are collected per (Requester ID, PASID, PRG index); the request
//     with L=1 completes the group, which is handled in order: resolve the mm from the
//     PASID, check the VMA (present, readable for a read, writable for a write), call
//     Kernel::handle_fault (which may itself invalidate through the notifier). The
//     first error is sticky: later requests of the group are not handled. The group
//     gets one Page Group Response through the driver's command queue: Success,
//     Invalid Request (no mm, no VMA, no permission, SIGSEGV) or Response Failure (the
//     fault handler failed: out of memory).
// Then the driver frees the queue slots; after a queue overflow with the queue empty
// the partial groups are discarded (iopf_queue_discard_partial).
//
// Costs: interrupt_entry_ns when the thread wakes, descriptor_read_ns per request read,
// per_request_ns per handled request and group_dispatch_ns per group (the work item
// that runs the group); register accesses take the IOMMU's register latency. These
// costs are accumulated and charged in one wait before the next action others can
// see (a register access, the mm and VMA lookups before the fault handler), so the
// simulated times are those of charging each on its own, with fewer context switches.
//
// Simplifications: the VMA check reads the VMA list without taking mmap_lock (the
// fault handler takes it); the handler thread does the work of both the IRQ thread
// and the iopf workqueue, so groups are handled one after another; no Exe permission.
#pragma once

#include <systemc>

#include <cstdint>
#include <map>
#include <tuple>
#include <vector>

#include "iommu/interrupts.h"
#include "os/exec_context.h"
#include "os/io_page_request.h"
#include "os/kernel.h"
#include "sc_models/observe/stats.h"
#include "sc_models/pcie/ats_encoding.h"

namespace iosim {

class SvaDriver;

struct IopfConfig {
  // The page request interrupt wakes a threaded IRQ handler: one scheduler wake-up
  // (os/exec_context.h kDefaultWakeupLatencyNs, ~1.07 us measured on Linux 6.6).
  double interrupt_entry_ns = kDefaultWakeupLatencyNs;
  // One page request read from the queue that misses the cache (the IOMMU wrote it):
  // one DRAM access, as sc_models/memory/physical_memory.h's default access latency.
  double descriptor_read_ns = 90.0;
  // Estimate: iommu_report_device_fault bookkeeping per request (allocate, list).
  double per_request_ns = 200.0;
  // Queuing the group's work item and waking the worker: one scheduler wake-up.
  double group_dispatch_ns = kDefaultWakeupLatencyNs;
  // Core the handler runs on (passed to the fault handler).
  int cpu = 0;

  template <class V>
  void visit(V& v) {
    v("interrupt_entry_ns", interrupt_entry_ns, "ns", "page request interrupt to handler thread");
    v("descriptor_read_ns", descriptor_read_ns, "ns", "reading one page request descriptor");
    v("per_request_ns", per_request_ns, "ns", "bookkeeping per page request");
    v("group_dispatch_ns", group_dispatch_ns, "ns", "dispatching one page request group");
    v("cpu", cpu, "", "core the page-fault handler runs on");
  }
  // Throws ParamError naming the first invalid key.
  void validate() const;
};

class IopfHandler : public sc_core::sc_module, private PageRequestSink {
 public:
  // The IOMMU's interrupt lines: the page request interrupt wakes the handler.
  sc_core::sc_port<IommuInterrupts> irq;

  IopfHandler(sc_core::sc_module_name name, const IopfConfig& cfg, SvaDriver& driver,
              Kernel& kernel);

  // From a thread that may sleep: returns when no page request of `pasid` is left in
  // the queue or being handled, and drops its partial groups.
  void drain(uint32_t pasid);

  uint64_t page_requests() const { return page_requests_.value(); }
  uint64_t responses(PrgResponseCode code) const;
  size_t partial_groups() const { return partial_.size(); }
  const IopfConfig& config() const { return cfg_; }

 private:
  using GroupKey = std::tuple<uint16_t, uint32_t, uint16_t>;  // rid, PASID, PRG index

  void on_irq();
  void run();
  // `pending`: time executed since the last action others can see, charged before
  // the next one (a register access, the fault handler).
  void round(sc_core::sc_time& pending);
  // PageRequestSink, called by the driver inside round().
  void take(const IoPageRequest& r, sc_core::sc_time& pending) override;
  void discard_partial_groups() override;
  // The `n` requests of one group, in order (the last has L=1).
  void handle_group(const IoPageRequest* group, size_t n, sc_core::sc_time& pending);
  PrgResponseCode handle_request(const IoPageRequest& r, sc_core::sc_time& pending);

  sc_core::sc_event_finder_t<IommuInterrupts> page_request_line_;  // through `irq`
  IopfConfig cfg_;
  // The costs of cfg_ as times, converted once.
  sc_core::sc_time interrupt_entry_, descriptor_read_, per_request_, group_dispatch_;
  SvaDriver& driver_;
  Kernel& kernel_;
  bool irq_pending_ = false;
  bool busy_ = false;
  unsigned draining_ = 0;      // drain() calls sleeping on idle_ev_
  sc_core::sc_time irq_time_;  // the interrupt of the running round
  sc_core::sc_event irq_ev_, idle_ev_;
  std::map<GroupKey, std::vector<IoPageRequest>> partial_;

  StatGroup& stats_;
  Histogram& fault_latency_;
  Counter& page_requests_;
  Counter& groups_;
  Counter& responses_success_;
  Counter& responses_invalid_;
  Counter& responses_failure_;
  Counter& stop_markers_;
  Counter& discarded_groups_;
};

}  // namespace iosim
