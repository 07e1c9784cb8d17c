// IoPageRequest: one PCIe page request (or Stop Marker) as an SVA driver reads it from
// its IOMMU's page request queue, whatever the queue's format (VT-d's 32-byte page
// request descriptor, SMMUv3's PRI queue entry). PageRequestSink: what the I/O
// page-fault handler does with the requests a driver reads (SvaDriver::
// read_page_requests).
#pragma once

#include <systemc>

#include <cstdint>

namespace iosim {

struct IoPageRequest {
  uint16_t rid = 0;  // Requester ID of the Function that sent it
  bool pasid_present = false;
  uint32_t pasid = 0;
  bool read = false;
  bool write = false;
  bool exe = false;
  bool priv = false;
  bool last = false;  // last request of its page request group (L / LPIG)
  uint16_t prg_index = 0;
  uint64_t addr = 0;  // 4 KiB aligned
  bool stop_marker = false;
};

class PageRequestSink {
 public:
  // One request, in queue order. `pending` is the reader's (time executed since the
  // last action others can see).
  virtual void take(const IoPageRequest& r, sc_core::sc_time& pending) = 0;
  // The queue overflowed and is empty again: the requests of partial groups are lost
  // (Linux iopf_queue_discard_partial).
  virtual void discard_partial_groups() = 0;

 protected:
  ~PageRequestSink() = default;
};

}  // namespace iosim
