// The device's single ordered upstream path, as seen by its parts (ATS client,
// PRI client, invalidation handler, DMA threads): every TLP the Function sends
// goes through one initiator socket, in call order, so a message sent after a
// posted write can never overtake it (PcieLink is FIFO per direction).
//
// Simplification: the device itself adds no queueing on this path; the link
// models the wire.
#pragma once

#include "sc_models/pcie/pcie_ext.h"

#include <systemc>
#include <tlm>

#include <cstdint>

namespace iosim {

class DeviceUpstream {
 public:
  virtual ~DeviceUpstream() = default;
  // One blocking transport through the device's upstream socket.
  virtual void transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) = 0;
  virtual uint16_t requester_id() const = 0;

  // Sends a posted message (Page Request, Stop Marker, Invalidate Completion)
  // and waits for its annotated delay. Returns the TLM response status.
  tlm::tlm_response_status send_message(const PcieExtension::Body& body);
  // The same without the wait: the message's annotated delay (its arrival is
  // sc_time_stamp() + the result) is returned for the caller to wait for later.
  sc_core::sc_time post_message(const PcieExtension::Body& body,
                                tlm::tlm_response_status* status = nullptr);
  // An untranslated memory request without PASID (AT=00) of `len` bytes at `addr`,
  // sent with annotated `delay`, which comes back advanced by its latency. Returns the
  // TLM response status.
  tlm::tlm_response_status memory_request(tlm::tlm_command cmd, uint64_t addr, uint8_t* data,
                                          uint32_t len, sc_core::sc_time& delay);
};

}  // namespace iosim
