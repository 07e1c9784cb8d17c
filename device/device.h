// A PCIe endpoint Function with ATS, PRI and PASID: DMA threads, an ATC, the
// ATS and PRI clients and the invalidation handler (each in its own file).
//
// Sockets: `upstream` (initiator, towards PcieLink.up_in and the IOMMU) carries
// every TLP the Function sends; `downstream` (target, from PcieLink.down_out)
// receives Invalidate Requests and PRG Responses, which are queued and served
// by the device's own processes, so the caller is never blocked. A downstream
// message takes effect when it arrives: at the caller's time plus the annotated
// delay (the link's latency), and never before an earlier one (posted ordering).
//
// An access of a DMA thread (any length; split at 4 KiB pages):
//  - ATS disabled: one untranslated request (AT=00) per page, with the PASID
//    prefix when the thread has one;
//  - ATS enabled: per page, an ATC lookup (atc_lookup_latency_ns); a hit with the
//    needed permission goes out as a translated request (AT=10) to the cached
//    PA; a miss sends a Translation Request (when the lookup latency has passed)
//    and retries; pages without a usable
//    translation are gathered into one Page Request Group (PRI), and after
//    Success translated again; U=1 completions use untranslated requests.
//  - the translation used is held (Atc::acquire) until the access completed (a
//    read: its data is back; a posted write: it is sent, since an Invalidate
//    Completion sent later cannot pass it on the link), so an invalidation waits
//    for it; a ground-truth DeviceAccessEvent is
//    published for every memory request, stamped with the simulated time at
//    which the request is handed to the upstream socket (the memory model
//    performs it in that call; the link adds annotated delay only).
//
// Timing of an ATC hit: the ATC is read when the lookup starts, and the lookup
// latency is waited for together with the request issue latency (one wait, the
// request leaves at the same simulated time as if each were waited for), so an
// ATC-hit access costs one context switch less; an invalidation reaching the ATC
// during the lookup latency finds the translation already held (Atc::acquire) and
// waits for the access, as it would a moment later. When no other process can run
// before the request reaches the IOMMU (sc_models/lookahead.h), the issue wait is
// skipped and the request leaves with that time as annotated delay; the IOMMU does
// the same, so a lone initiator's access costs one context switch (data back).
//
// Local lookahead: with several devices the kernel nearly always has something
// pending within the issue wait (another device's slots), so the check above fails
// although nothing pending could touch what the wait protects. Until the request
// reaches the IOMMU, which synchronises to its arrival before it touches shared
// state, the request changes only this device's state and its link's upstream
// direction, which only this device's own processes use. The issue wait (and the
// lookup's wait before a Translation Request, which crosses the link the same way)
// may therefore also be skipped when none of them can act before it ends: every other
// issue slot's SlotClock lies after its end, the invalidation handler is idle, no
// downstream message arrives by then, and any message not yet sent to the device
// arrives later (the wait is shorter than the link's latency, set_link_latency(),
// which the platform sets; zero, the default, turns the local lookahead off).
// Devices with more than kLocalLookaheadSlots slots keep no clocks and do not try
// it (the check reads every slot's clock). Exact like the kernel check: both executions send the
// same TLPs at the same simulated times in the same order.
//
// Temporal decoupling (decoupled slots, see dma_thread.h): the ATC lookup and
// issue latencies advance the slot's local time, each memory request is sent with
// that local time as its annotated delay and the returned delay becomes the new
// local time; a translation miss or a PRI round trip first synchronises (those
// involve other processes). Ground-truth events carry the local time.
//
// Simplifications: the DMA engine adds request_issue_latency_ns per request but
// has no internal bandwidth limit besides the issue slots; the Function is a
// single-function device; translated requests carry no Exe/Priv checks beyond
// R/W. When decoupled, a read's translation is released when the request returns,
// which can be earlier in simulated time than the local time of its completion.
#pragma once

#include "device/atc.h"
#include "device/ats_client.h"
#include "device/device_config.h"
#include "device/dma_thread.h"
#include "device/invalidation_handler.h"
#include "device/pri_client.h"
#include "device/upstream.h"
#include "sc_models/ground_truth.h"
#include "sc_models/payload_pool.h"
#include "sc_models/stats.h"

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include <deque>
#include <memory>
#include <utility>
#include <variant>
#include <vector>

namespace iosim {

class Device : public sc_core::sc_module, public DeviceUpstream, public DmaAccessor {
 public:
  tlm_utils::simple_initiator_socket<Device> upstream;
  tlm_utils::simple_target_socket<Device> downstream;

  // Throws ParamError naming the parameter for an invalid configuration.
  Device(sc_core::sc_module_name name, const DeviceConfig& cfg);
  ~Device() override;

  void set_ground_truth(GroundTruth* gt) { gt_ = gt; }
  // The least time a TLP takes over the link between this device and the root port,
  // in either direction (see the local lookahead above).
  void set_link_latency(const sc_core::sc_time& t) { link_latency_ = t; }
  // Devices with more issue slots in all than this make no local lookahead check.
  static constexpr size_t kLocalLookaheadSlots = 16;
  // Every DMA thread begins when `e` fires (DmaThread::set_start_event).
  void set_start_event(const sc_core::sc_event* e) {
    for (auto& t : threads_) t->set_start_event(e);
  }

  const DeviceConfig& config() const { return cfg_; }
  DmaThread& thread(size_t i) { return *threads_.at(i); }
  size_t thread_count() const { return threads_.size(); }
  Atc& atc() { return atc_; }
  AtsClient& ats() { return *ats_; }
  PriClient& pri() { return *pri_; }
  InvalidationHandler& invalidations() { return *inv_; }
  uint64_t atc_hits() const { return atc_hits_.value(); }
  uint64_t atc_misses() const { return atc_misses_.value(); }

  // DeviceUpstream
  void transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) override;
  uint16_t requester_id() const override { return cfg_.requester_id; }
  // DmaAccessor
  AccessResult access(DmaThread& t, const DmaRequest& r, uint64_t write_value, QuantumKeeper* qk,
                      SlotClock* clock) override;
  void stop_pasid(DmaThread& t) override;

 private:
  struct Page {  // one page-sized piece of an access
    uint64_t va;
    uint32_t len;
    uint32_t offset;  // into the access's data
  };
  // How a page is to be reached.
  struct Route {
    enum Kind { kTranslated, kUntranslated, kFault, kError } kind = kError;
    Atc::Hit hit;                 // kTranslated: acquired, must be released
    const char* error = nullptr;  // kError: why
  };

  using DownMessage = std::variant<InvalidateRequest, PrgResponse>;
  void b_transport_down(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  void deliver(const DownMessage& m);
  void deliver_arrived();  // SC_METHOD: the queued messages whose arrival has come
  uint32_t pasid_of(const DmaThread& t) const;
  // PasidPrefix::with(pasid, the thread's Exe/Priv), remembered per thread for the
  // last values asked (a thread issues many requests; a prefix built per request
  // also made the extension's copy of it wait on its byte stores).
  const PasidPrefix& prefix_of(DmaThread& t, uint32_t pasid);
  // `pending`: simulated time passed in the access but not yet waited for (ATC hit
  // latencies); route() adds to it, issue() consumes it with the issue latency.
  Route route(const DmaThread& t, uint64_t va, bool write, bool acquire, QuantumKeeper* qk,
              SlotClock* clock, sc_core::sc_time& pending);
  bool issue(DmaThread& t, const Page& p, bool write, const Route& route, uint8_t* data,
             std::string& error, QuantumKeeper* qk, SlotClock* clock, sc_core::sc_time& pending);
  // Waits `lead` before the slot whose clock is `clock` sends a TLP upstream, unless
  // the kernel's or the local lookahead lets it be kept as annotated delay; clears
  // `lead` when waited.
  void wait_to_send(SlotClock* clock, sc_core::sc_time& lead);
  // The local lookahead's check for the wait `d` before a send of the slot whose
  // clock is `self` (see above); counts the skip.
  bool may_skip_send_wait(const SlotClock* self, const sc_core::sc_time& d) const;
  // Sets `clock` (when kept) to the end of a wait of `d` from now plus the least
  // time from the slot's waking to its next send.
  void before_wait(SlotClock* clock, const sc_core::sc_time& d) const;
  // Consumes `pending` (wait, or local time when decoupled) and clears it.
  static void flush(QuantumKeeper* qk, sc_core::sc_time& pending);

  DeviceConfig cfg_;
  sc_core::sc_time atc_lookup_time_;
  sc_core::sc_time issue_time_;
  // The least time from a slot's waking after a request (its data back, or its
  // issue time) to its next send: an ATC lookup, or the issue latency alone (a
  // further page of the access, no ATS).
  sc_core::sc_time min_send_gap_;
  sc_core::sc_time link_latency_ = sc_core::SC_ZERO_TIME;
  // Of every thread's slots, in thread order; empty above kLocalLookaheadSlots.
  std::vector<SlotClock> slot_clocks_;
  ExtendedPayloadPool<PcieExtension> payloads_;  // memory request payloads
  GroundTruth* gt_ = nullptr;
  StatGroup& stats_;
  Atc atc_;
  std::unique_ptr<AtsClient> ats_;
  std::unique_ptr<PriClient> pri_;
  std::unique_ptr<InvalidationHandler> inv_;
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
};

}  // namespace iosim
