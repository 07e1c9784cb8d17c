// RootPort: one PCIe root port of the IOMMU and the Function behind it.
//
// Sockets (bind to a PcieLink): `upstream` receives the device's TLPs (memory
// requests, Translation Requests, Page Requests, Stop Markers, Invalidate
// Completions) and hands them to the Iommu; `downstream` sends Invalidate Requests
// and PRG Responses to the device as posted writes.
//
// The port also holds the device's ATS Invalidate Request bookkeeping: the ITags
// (0..31) in flight, each with the Completion Count it waits for, and the
// Invalidate Queue Depth that bounds how many may be in flight.
//
// Simplifications: the port adds no time and has no buffers of its own (the link and
// the Iommu model both); its b_transport hands the request to the Iommu, whose
// handling may call wait(), so the sender must be an SC_THREAD.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include <array>
#include <cstdint>
#include <functional>
#include <set>

#include "iommu/iommu_config.h"
#include "sc_models/pcie/pcie_ext.h"

namespace iosim {

class RootPort : public sc_core::sc_module {
 public:
  using Handler = std::function<void(RootPort&, tlm::tlm_generic_payload&, sc_core::sc_time&)>;

  tlm_utils::simple_target_socket<RootPort> upstream;
  tlm_utils::simple_initiator_socket<RootPort> downstream;

  RootPort(sc_core::sc_module_name name, const RootPortConfig& cfg, Handler handler);

  const RootPortConfig& config() const { return cfg_; }
  // Requester IDs served by this port (configured and learned).
  const std::set<uint16_t>& requesters() const { return rids_; }
  void add_requester(uint16_t rid) { rids_.insert(rid); }

  // --- ATS invalidation ITags ---------------------------------------------------
  struct Itag {
    bool busy = false;
    unsigned expected = 0;  // completion count from the first completion, 0 = unknown
    unsigned received = 0;
    sc_core::sc_time issued;
    sc_core::sc_time deadline;
  };
  unsigned itags_in_flight() const { return in_flight_; }
  bool can_issue() const { return in_flight_ < cfg_.queue_depth(); }
  // Allocates a free ITag (can_issue() must be true).
  uint8_t allocate_itag(const sc_core::sc_time& now, const sc_core::sc_time& timeout);
  // Counts a completion for `itag`; returns true when that request is now complete
  // (and its ITag freed). Completions for free ITags return false.
  bool complete_itag(uint8_t itag, unsigned completion_count);
  void free_itag(uint8_t itag);
  const Itag& itag(uint8_t i) const { return itags_.at(i); }
  // Calls f(index, itag) for each ITag in flight, in index order; f may free the
  // ITag it is given. Stops once every ITag in flight at the call has been seen.
  template <class F>
  void for_each_busy_itag(F&& f) const {
    unsigned left = in_flight_;
    for (uint8_t i = 0; i < 32 && left > 0; ++i) {
      if (!itags_[i].busy) continue;
      --left;
      f(i, itags_[i]);
    }
  }

  // Fault injection (RootPortConfig::fault_translation_ur): true while injected
  // Unsupported Request answers are left, taking one.
  bool take_injected_ur() {
    if (injected_ur_left_ == 0) return false;
    --injected_ur_left_;
    return true;
  }

  // Sends a posted message downstream at sc_time_stamp() + delay (not waited for).
  void send(tlm::tlm_generic_payload& gp, sc_core::sc_time delay);
  // The same for a message with no data (an Invalidate Request, a PRG Response): the
  // port's one payload carries it (constructing a payload allocates its extension
  // array; a posted send returns before the next can start).
  void send_message(PcieExtension ext, const sc_core::sc_time& delay);

 private:
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);

  RootPortConfig cfg_;
  Handler handler_;
  std::set<uint16_t> rids_;
  std::array<Itag, 32> itags_{};
  unsigned in_flight_ = 0;
  unsigned next_itag_ = 0;
  uint64_t injected_ur_left_ = 0;
  tlm::tlm_generic_payload message_gp_;  // see send_message()
};

}  // namespace iosim
