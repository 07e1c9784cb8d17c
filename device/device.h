// A PCIe endpoint Function with ATS, PRI and PASID: DMA threads, an ATC, the
// ATS and PRI clients and the invalidation handler (each in its own file).
//
// Sockets: `upstream` (initiator, towards PcieLink.up_in and the IOMMU) carries
// every TLP the Function sends; `downstream` (target, from PcieLink.down_out)
// receives Invalidate Requests and PRG Responses, queued and served by the
// device's own processes, so the caller is never blocked. A downstream message
// takes effect at its arrival (the caller's time plus the annotated delay) and
// never before an earlier one (posted ordering).
//
// An access of a DMA thread (any length; split at 4 KiB pages), per page:
//  - ATS disabled: one untranslated request (AT=00), with the PASID prefix when
//    the thread has one;
//  - ATS enabled: an ATC lookup (atc_lookup_latency_ns); a hit with the needed
//    permission goes out as a translated request (AT=10) to the cached PA after
//    the lookup and the issue latency; a miss sends a Translation Request and
//    retries; pages without a usable translation are gathered into one Page
//    Request Group (PRI), translated again after Success; U=1 completions use
//    untranslated requests.
//  - the translation used is held (Atc::acquire) until the access completed (a
//    read: data back; a posted write: sent, as a later Invalidate Completion cannot
//    pass it), so an invalidation waits for it. A DeviceAccessEvent (ground truth)
//    is stamped with the time the request is handed to the upstream socket.
// Each issue slot's time is a LocalTime (sc_models/timing/local_time.h).
//
// Injected faults (DeviceFaultConfig in device/device_config.h) are counted in the
// group "<device>.fault", which exists only when a fault is configured: lost PRG
// Responses are dropped on arrival; from unresponsive_from_ns after the start the
// Function ignores downstream messages and a DMA thread's next access fails at once
// (no TLP) and ends the thread; the others act in the ATS, PRI and invalidation
// parts.
//
// Simplifications: the DMA engine adds request_issue_latency_ns per request but
// has no internal bandwidth limit besides the issue slots; a single-function
// device; translated requests carry no Exe/Priv checks beyond R/W. When
// decoupled, a read's translation is released when the request returns, which can
// be earlier in simulated time than the local time of its completion.
#pragma once

#include "device/atc.h"
#include "device/ats_client.h"
#include "device/device_config.h"
#include "device/dma_thread.h"
#include "device/invalidation_handler.h"
#include "device/mirror_mmu.h"
#include "device/pri_client.h"
#include "device/upstream.h"
#include "sc_models/check/ground_truth.h"
#include "sc_models/memory/payload_pool.h"
#include "sc_models/observe/stats.h"
#include "sc_models/sim/sim_context.h"

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include <deque>
#include <functional>
#include <memory>
#include <utility>
#include <variant>
#include <vector>

namespace iosim {

class Device : public sc_core::sc_module, public DeviceUpstream, public DmaAccessor {
 public:
  tlm_utils::simple_initiator_socket<Device> upstream;
  tlm_utils::simple_target_socket<Device> downstream;

  // Registers its statistics in ctx. Throws ParamError naming the parameter for an
  // invalid configuration.
  Device(sc_core::sc_module_name name, SimContext& ctx, const DeviceConfig& cfg);
  ~Device() override;

  void set_ground_truth(GroundTruth* gt) {
    gt_ = gt;
    if (mirror_) mirror_->set_ground_truth(gt);
  }
  // The least time a TLP takes over the link between this device and the root port,
  // in either direction.
  void set_link_latency(const sc_core::sc_time& t) { path_.set_crossing_time(t); }
  // Every DMA thread begins when `e` fires (DmaThread::set_start_event).
  void set_start_event(const sc_core::sc_event* e) {
    start_event_ = e;
    for (auto& t : threads_) t->set_start_event(e);
  }
  // Called when the device becomes unresponsive (DeviceFaultConfig::unresponsive_from_ns):
  // what a configuration read of the Function would find from then on.
  void on_unresponsive(std::function<void()> f) { unresponsive_hooks_.push_back(std::move(f)); }
  bool unresponsive() const { return unresponsive_; }

  const DeviceConfig& config() const { return cfg_; }
  DmaThread& thread(size_t i) { return *threads_.at(i); }
  size_t thread_count() const { return threads_.size(); }
  Atc& atc() { return atc_; }
  AtsClient& ats() { return *ats_; }
  PriClient& pri() { return *pri_; }
  InvalidationHandler& invalidations() { return *inv_; }
  // kind mirror: the device's MMU (its registers and interrupt); nullptr for kind ats.
  MirrorMmu* mirror() { return mirror_.get(); }
  uint64_t atc_hits() const { return atc_hits_.value(); }
  uint64_t atc_misses() const { return atc_misses_.value(); }

  // DeviceUpstream
  void transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) override;
  uint16_t requester_id() const override { return cfg_.requester_id; }
  // DmaAccessor
  AccessResult access(DmaThread& t, const DmaRequest& r, uint64_t write_value,
                      LocalTime& time) override;
  void stop_pasid(DmaThread& t) override;

 private:
  struct Page {  // one page-sized piece of an access
    uint64_t va;
    uint32_t len;
    uint32_t offset;  // into the access's data
  };
  // How a page is to be reached.
  struct Route {
    // kPhysical: a mirror device's own translation, sent untranslated to hit.pa.
    enum Kind { kTranslated, kUntranslated, kPhysical, kFault, kError } kind = kError;
    Atc::Hit hit;                 // kTranslated, kPhysical: acquired, must be released
    const char* error = nullptr;  // kError: why
  };

  using DownMessage = std::variant<InvalidateRequest, PrgResponse>;
  void b_transport_down(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  void deliver(const DownMessage& m);
  void deliver_arrived();     // SC_METHOD: the queued messages whose arrival has come
  void unresponsive_timer();  // SC_THREAD when unresponsive_from_ns is set
  uint32_t pasid_of(const DmaThread& t) const;
  // PasidPrefix::with(pasid, the thread's Exe/Priv), remembered per thread for the
  // last values asked (a thread issues many requests; a prefix built per request
  // also made the extension's copy of it wait on its byte stores).
  const PasidPrefix& prefix_of(DmaThread& t, uint32_t pasid);
  // How the page at `va` is reached (the ATC lookup, and ATS on a miss).
  Route route(const DmaThread& t, uint64_t va, bool write, bool acquire, LocalTime& time);
  // A mirror device's translation of the page at `va` (acquired), or the error.
  Route mirror_route(const DmaThread& t, uint64_t va, bool write, LocalTime& time);
  // Sends the memory request of one page and waits for its completion.
  bool issue(DmaThread& t, const Page& p, bool write, const Route& route, uint8_t* data,
             std::string& error, LocalTime& time);

  DeviceConfig cfg_;
  sc_core::sc_time atc_lookup_time_;
  sc_core::sc_time issue_time_;
  PrivatePath path_;  // the issue slots and the link's upstream direction
  ExtendedPayloadPool<PcieExtension> payloads_;  // memory request payloads
  GroundTruth* gt_ = nullptr;
  StatGroup& stats_;
  Timing& timing_;  // the system's
  Atc atc_;
  std::unique_ptr<AtsClient> ats_;
  std::unique_ptr<PriClient> pri_;
  std::unique_ptr<InvalidationHandler> inv_;
  std::unique_ptr<MirrorMmu> mirror_;
  std::vector<std::unique_ptr<DmaThread>> threads_;
  std::deque<std::pair<sc_core::sc_time, DownMessage>> arrivals_;  // by arrival time
  sc_core::sc_event arrival_;
  Counter& atc_hits_;
  Counter& atc_misses_;
  Counter& requests_;
  Counter& bytes_;
  Counter& access_errors_;
  Counter& bad_downstream_;
  Histogram& stall_;
  Histogram& read_latency_;
  Histogram& write_latency_;
  Histogram& read_round_trip_;
  // Simulated times (ns) of each completed access's issue and completion: their min and
  // max bound the DMA phase (the run summary's rates divide by it).
  Average& issue_times_;
  Average& completion_times_;
  // Fault injection (DeviceFaultConfig); the counters are null when no fault is set.
  const sc_core::sc_event* start_event_ = nullptr;
  sc_core::sc_time unresponsive_at_ = sc_core::sc_max_time();  // known from the start on
  bool unresponsive_ = false;
  std::vector<std::function<void()>> unresponsive_hooks_;
  uint64_t prg_responses_to_lose_ = 0;
  Counter* lost_prg_responses_ = nullptr;
  Counter* ignored_prg_responses_ = nullptr;
  Counter* refused_accesses_ = nullptr;
};

}  // namespace iosim
