// PRI client of the device: asks the host to make pages present with Page
// Requests grouped into Page Request Groups (PRG), and handles PRG Responses.
//
// - A group gets a free 9-bit PRG index; its requests carry that index and the
//   last one has L=1. A group larger than the Outstanding Page Request
//   Allocation is sent as several groups, one after the other.
// - The allocation bounds the page requests outstanding (sent, response not yet
//   received): a group waits until it fits, and waiting groups are sent in the
//   order they asked (a response wakes only the groups its credits let go). A
//   group also needs one of the 512 PRG indices, taken the same way.
// - Response codes: Success -> the caller retries the translation; Invalid
//   Request -> the caller reports an access error; Response Failure -> PRI is
//   disabled for the Function (every outstanding group fails too, new requests
//   fail at once).
// - stop_pasid() sends a Stop Marker (L=1, R=W=0, with the PASID) after the
//   page requests already sent; it gets no response.
//
// - Response time-out (DeviceFaultConfig::pri_response_timeout_ns; 0: none). PCIe
//   (Base 5.0, section 10.4) leaves what a Function does when a PRG Response does not
//   come to the Function: here a group not answered within the time-out is given up
//   (kTimeout), its credits and PRG index are taken back, and the caller decides
//   (DeviceFaultConfig::pri_timeout_action). A response that still comes for it
//   later is a protocol error.
//
// Simplifications: a Stop Marker consumes no allocation
// and carries the next PRG index without reserving it; a response with an
// unknown index is counted as a protocol error and ignored.
#pragma once

#include "device/upstream.h"
#include "sc_models/observe/stats.h"
#include "sc_models/timing/local_time.h"
#include "sc_models/timing/server_semaphore.h"

#include <systemc>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace iosim {

class PriClient {
 public:
  enum class Outcome { kSuccess, kInvalidRequest, kResponseFailure, kDisabled, kTimeout };
  struct Page {
    uint64_t va = 0;  // any address inside the page
    bool read = true;
    bool write = false;
  };

  // `timing`: the system's (a waiter woken for credits or an index is activity it
  // must know of). `response_timeout_ns`: 0 for none; `fault_stats`: where time-outs
  // are counted (null: nowhere, when no fault is configured).
  PriClient(DeviceUpstream& up, uint32_t allocation, bool enabled, StatGroup& stats, Timing& timing,
            double response_timeout_ns = 0, StatGroup* fault_stats = nullptr);

  // Sends the pages as one group (or several when larger than the allocation)
  // and waits for the response(s). pasid kNoPasid-like values are given as
  // nullopt (no PASID prefix).
  Outcome request(std::optional<uint32_t> pasid, const std::vector<Page>& pages);
  // Downstream PRG Response (called from the device's target; does not wait).
  void on_response(const PrgResponse& r);
  // Sends a Stop Marker for the PASID (thread context).
  void stop_pasid(uint32_t pasid);
  // The Function stopped working (DeviceFaultConfig::unresponsive_from_ns): PRI is
  // off, every outstanding group ends with kDisabled and no new one is sent.
  void stop();

  bool enabled() const { return enabled_; }
  uint32_t outstanding() const { return credits_.in_use(); }
  // Groups waiting for allocation credits or a PRG index.
  size_t waiting_groups() const { return credits_.waiting() + indices_.waiting(); }
  // Groups sent and not yet finished (at most kPrgIndexMax + 1: one per PRG index).
  uint32_t outstanding_groups() const { return active_groups_; }
  uint64_t page_requests_sent() const { return page_requests_.value(); }
  uint64_t timeouts() const { return timeouts_; }

 private:
  struct Group {
    uint32_t size = 0;
    std::optional<Outcome> outcome;
    sc_core::sc_event done;
  };
  Outcome send_group(std::optional<uint32_t> pasid, const Page* pages, uint32_t n);
  // A free PRG index, taken for a new group (reused from a finished one when there is one).
  uint16_t open_group(uint32_t size);
  void close_group(uint16_t index);
  void finish(uint16_t index, Outcome o);

  DeviceUpstream& up_;
  uint32_t allocation_;
  bool enabled_;
  sc_core::sc_time response_timeout_;  // zero: none
  uint64_t timeouts_ = 0;
  Counter* timeout_counter_ = nullptr;
  // Outstanding Page Request Allocation: one credit per page request, from sending
  // until the group's response.
  ServerSemaphore credits_;
  // Free PRG indices: taken with the credits, returned when the group is closed.
  ServerSemaphore indices_;
  uint16_t next_index_ = 0;
  // Outstanding groups by PRG index (null: free). Groups, with their events, are
  // kept for reuse (pool_ owns them all, spare_ lists the free ones): a group costs
  // no allocation once as many have been outstanding at once before.
  std::array<Group*, kPrgIndexMax + 1> groups_{};
  uint32_t active_groups_ = 0;
  std::vector<std::unique_ptr<Group>> pool_;
  std::vector<Group*> spare_;
  Counter& page_requests_;
  Counter& groups_sent_;
  Counter& stop_markers_;
  Counter& invalid_requests_;
  Counter& response_failures_;
  Counter& protocol_errors_;
  Histogram& round_trip_;
  Histogram& allocation_wait_;
};

}  // namespace iosim
