// A PCIe link between a device (endpoint) and a root port, one module per link.
//
// Sockets: upstream (device -> root complex) enters at `up_in` and leaves at `up_out`;
// downstream (root complex -> device) enters at `down_in` and leaves at `down_out`.
// Blocking transport with annotated delay:
//  - a write is posted: its data in TLPs of at most max_payload_bytes;
//  - a read is non-posted: header-only request TLPs (one per max_read_request_bytes),
//    then, when the target returns, the completion data (split at max_payload_bytes)
//    in the other direction; an error response or an ATS Translation Completion
//    without entries is header-only, a translation completion carries 8 B per entry;
//  - a message (see PcieExtension) is posted and carries its body size.
// The transaction is delivered to the far side once its last TLP has arrived.
//
// Timing: each direction is one ServerPool server. A TLP occupies the wire for
//     (payload + tlp_overhead_bytes) * 8 / (GT/s * 128/130 * lanes)
// and arrives latency_ns after its last byte left (propagation and the PHY/data-link
// pipelines at both ends). TLPs of one direction are served first come, first served
// by the simulated time they are ready, so none passes one ready no later than it,
// whatever their sizes (an Invalidate Completion or a read completion never passes
// earlier posted writes). A read completion is booked when its target answers; a TLP
// ready before it but sent later in host order (by another process) takes the gap
// before it when it fits and follows it otherwise (ServerPool::reserve_in_time_order).
//
// Simplifications: one overhead for every TLP (no 3DW/4DW headers; the other
// direction's DLLPs as a per-TLP share); no flow-control credits, replay, link errors
// or relaxed ordering; a booked TLP is not moved for one ready earlier; completions
// split at max_payload_bytes, not the read completion boundary; with a non-zero global
// quantum TLPs share the wire in simulated-time order, not call order (server_pool.h),
// so the FIFO guarantee holds only with a zero quantum. Debug transport passes through
// untimed; no DMI, which would bypass the link timing.
#pragma once

#include "sc_models/pcie/pcie_ext.h"
#include "sc_models/timing/server_pool.h"

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include <cstdint>
#include <vector>

namespace iosim {

struct PcieLinkConfig {
  // PCIe generation: 3, 4 or 5 (8, 16, 32 GT/s per lane, all 128b/130b encoded).
  uint32_t generation = 3;
  uint32_t lanes = 8;
  // One-way latency per direction, on top of serialisation: propagation plus
  // transmit/receive PHY and data-link pipelines. Calibrated so that a 64-byte
  // DMA read over Gen3 x8 costs ~515 ns in the link (2 x 250 ns + 3.3 ns request
  // + 11.4 ns completion serialisation); with ~85 ns for the root complex and a
  // cache/DRAM hit this gives the ~600 ns round trip reported for 64 B DMA reads
  // on Gen3 x8 hosts by Neugebauer et al., "Understanding PCIe performance for
  // end host networking", SIGCOMM 2018 (pcie-bench).
  double latency_ns = 250.0;
  // Bytes each TLP costs on the wire besides its data: 4 framing (the 128b/130b
  // STP token, which also carries the 12-bit sequence number) + 16 header (4DW,
  // 64-bit addressing) + 4 LCRC = 24, plus ~2 for the 8-byte Ack/UpdateFC DLLPs
  // the receiver returns about once every 4 TLPs. Intel AN 829 "Understanding
  // PCI Express Throughput" gives 5-7 DW of per-TLP overhead and 2-DW DLLPs.
  uint32_t tlp_overhead_bytes = 26;
  // Max_Payload_Size programmed in Device Control; 256 B is the largest value
  // many server root ports advertise and what firmware typically programs (the
  // reset default is 128 B).
  uint32_t max_payload_bytes = 256;
  // Max_Read_Request_Size; 512 B is the Device Control reset default.
  uint32_t max_read_request_bytes = 512;

  template <class V>
  void visit(V& v) {
    v("generation", generation, "", "PCIe generation: 3, 4 or 5 (8/16/32 GT/s per lane)");
    v("lanes", lanes, "lanes", "link width, 1..32");
    v("latency_ns", latency_ns, "ns", "one-way latency per direction besides serialisation");
    v("tlp_overhead_bytes", tlp_overhead_bytes, "bytes",
      "wire bytes per TLP besides data (framing, sequence, header, LCRC, DLLP share)");
    v("max_payload_bytes", max_payload_bytes, "bytes", "Max_Payload_Size: data bytes per TLP");
    v("max_read_request_bytes", max_read_request_bytes, "bytes",
      "Max_Read_Request_Size: bytes requested per read request TLP");
  }

  // Throws ParamError naming the parameter when a value is out of range.
  void validate() const;
  double gigatransfers_per_lane() const;  // 8, 16 or 32
  // Data rate of the link in Gbit/s after 128b/130b encoding, all lanes.
  double data_gbps() const;
};

class PcieLink : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<PcieLink> up_in;        // from the device
  tlm_utils::simple_initiator_socket<PcieLink> up_out;    // to the root complex
  tlm_utils::simple_target_socket<PcieLink> down_in;      // from the root complex
  tlm_utils::simple_initiator_socket<PcieLink> down_out;  // to the device

  // Counters of one direction.
  struct DirectionStats {
    uint64_t tlps = 0;
    uint64_t payload_bytes = 0;                         // data bytes
    uint64_t wire_bytes = 0;                            // data + per-TLP overhead
    sc_core::sc_time busy = sc_core::SC_ZERO_TIME;      // summed serialisation time
    sc_core::sc_time queueing = sc_core::SC_ZERO_TIME;  // summed wait for the wire
  };

  PcieLink(sc_core::sc_module_name name, const PcieLinkConfig& cfg);

  const PcieLinkConfig& config() const { return cfg_; }
  // Serialisation time of one TLP carrying `payload_bytes` of data.
  sc_core::sc_time tlp_time(uint32_t payload_bytes) const;
  sc_core::sc_time latency() const { return latency_; }
  DirectionStats upstream_stats() const { return stats_of(up_); }
  DirectionStats downstream_stats() const { return stats_of(down_); }

 private:
  struct Direction {
    ServerPool wire{1};
    DirectionStats stats;
    sc_core::sc_time last_ready = sc_core::SC_ZERO_TIME;
    sc_core::sc_time last_arrival = sc_core::SC_ZERO_TIME;
  };

  void b_transport_up(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  void b_transport_down(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned transport_dbg_up(tlm::tlm_generic_payload& gp);
  unsigned transport_dbg_down(tlm::tlm_generic_payload& gp);

  void transport(Direction& there, Direction& back,
                 tlm_utils::simple_initiator_socket<PcieLink>& out, tlm::tlm_generic_payload& gp,
                 sc_core::sc_time& delay);
  // Sends `tlps` TLPs sharing `payload_bytes` (each at most `chunk` bytes) from
  // time `ready`; returns when the last one has arrived at the far end.
  sc_core::sc_time send(Direction& d, const sc_core::sc_time& ready, uint64_t tlps,
                        uint64_t payload_bytes, uint32_t chunk);
  sc_core::sc_time send_data(Direction& d, const sc_core::sc_time& ready, uint64_t bytes);
  sc_core::sc_time send_read_request(Direction& d, const sc_core::sc_time& ready, uint64_t bytes);
  uint64_t completion_bytes(const tlm::tlm_generic_payload& gp, const PcieExtension* ext) const;
  DirectionStats stats_of(const Direction& d) const;
  sc_core::sc_time compute_tlp_time(uint32_t payload_bytes) const;

  PcieLinkConfig cfg_;
  double ps_per_byte_;  // wire time of one byte
  sc_core::sc_time latency_;
  std::vector<sc_core::sc_time> tlp_times_;  // tlp_time() of 0..max_payload_bytes
  Direction up_;
  Direction down_;
};

}  // namespace iosim
