// PCIe link model. See pcie_link.h.
#include "sc_models/pcie/pcie_link.h"

#include "sc_models/config/params.h"
#include "sc_models/pcie/pcie_fields.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <string>

namespace iosim {

using sc_core::sc_time;

namespace {

[[noreturn]] void bad_param(const char* name, const std::string& rule, const std::string& got) {
  throw ParamError(std::string("PCIe link parameter '") + name + "' " + rule + ", got " + got);
}

bool is_pow2(uint32_t v) {
  return v != 0 && (v & (v - 1)) == 0;
}

void check_size(const char* name, uint32_t v) {
  if (!is_pow2(v) || v < kMinPayloadBytes || v > kMaxPayloadBytes) {
    bad_param(name, "must be a power of two from 128 to 4096 bytes", std::to_string(v));
  }
}

uint64_t div_ceil(uint64_t a, uint64_t b) {
  return (a + b - 1) / b;
}

}  // namespace

// ------------------------------------------------------------------ config

void PcieLinkConfig::validate() const {
  if (generation < 3 || generation > 5) {
    bad_param("generation", "must be 3, 4 or 5", std::to_string(generation));
  }
  if (lanes < 1 || lanes > 32) bad_param("lanes", "must be 1..32", std::to_string(lanes));
  if (!std::isfinite(latency_ns) || latency_ns < 0) {
    bad_param("latency_ns", "must be a finite value >= 0", std::to_string(latency_ns));
  }
  check_size("max_payload_bytes", max_payload_bytes);
  check_size("max_read_request_bytes", max_read_request_bytes);
}

double PcieLinkConfig::gigatransfers_per_lane() const {
  return 8.0 * static_cast<double>(1u << (generation - 3));
}

double PcieLinkConfig::data_gbps() const {
  return gigatransfers_per_lane() * 128.0 / 130.0 * lanes;
}

// ------------------------------------------------------------------ module

PcieLink::PcieLink(sc_core::sc_module_name name, const PcieLinkConfig& cfg)
    : sc_module(name),
      up_in("up_in"),
      up_out("up_out"),
      down_in("down_in"),
      down_out("down_out"),
      cfg_(cfg) {
  cfg_.validate();
  ps_per_byte_ = 8.0 * 1000.0 / cfg_.data_gbps();
  latency_ = sc_time(cfg_.latency_ns, sc_core::SC_NS);
  tlp_times_.reserve(cfg_.max_payload_bytes + 1);
  for (uint32_t p = 0; p <= cfg_.max_payload_bytes; ++p) tlp_times_.push_back(compute_tlp_time(p));
  up_in.register_b_transport(this, &PcieLink::b_transport_up);
  down_in.register_b_transport(this, &PcieLink::b_transport_down);
  up_in.register_transport_dbg(this, &PcieLink::transport_dbg_up);
  down_in.register_transport_dbg(this, &PcieLink::transport_dbg_down);
}

sc_time PcieLink::tlp_time(uint32_t payload_bytes) const {
  if (payload_bytes < tlp_times_.size()) return tlp_times_[payload_bytes];
  return compute_tlp_time(payload_bytes);
}

sc_time PcieLink::compute_tlp_time(uint32_t payload_bytes) const {
  const double bytes = static_cast<double>(payload_bytes) + cfg_.tlp_overhead_bytes;
  return sc_time(bytes * ps_per_byte_, sc_core::SC_PS);
}

void PcieLink::b_transport_up(tlm::tlm_generic_payload& gp, sc_time& delay) {
  transport(up_, down_, up_out, gp, delay);
}

void PcieLink::b_transport_down(tlm::tlm_generic_payload& gp, sc_time& delay) {
  transport(down_, up_, down_out, gp, delay);
}

unsigned PcieLink::transport_dbg_up(tlm::tlm_generic_payload& gp) {
  return up_out->transport_dbg(gp);
}

unsigned PcieLink::transport_dbg_down(tlm::tlm_generic_payload& gp) {
  return down_out->transport_dbg(gp);
}

void PcieLink::transport(Direction& there, Direction& back,
                         tlm_utils::simple_initiator_socket<PcieLink>& out,
                         tlm::tlm_generic_payload& gp, sc_time& delay) {
  const PcieExtension* ext = PcieExtension::of(gp);
  const bool message = ext && is_message(ext->kind());
  const bool non_posted = !message && gp.is_read();
  const sc_time now = kernel_time();  // nothing waits before out->b_transport
  const sc_time ready = now + delay;

  sc_time arrival;
  if (!non_posted) {
    arrival =
        send_data(there, ready, message ? ext->message_payload_bytes() : gp.get_data_length());
  } else if (ext && ext->kind() == PcieKind::kTranslationRequest) {
    arrival = send(there, ready, 1, 0, cfg_.max_payload_bytes);  // one request, any page count
  } else {
    arrival = send_read_request(there, ready, gp.get_data_length());
  }
  delay = arrival - now;
  out->b_transport(gp, delay);
  if (!non_posted) return;

  // The completion leaves when the target has answered (the target may have waited).
  const sc_time after = kernel_time();
  const sc_time answered = after + delay;
  // The target fills the extension in place (an ATS completion) and adds none.
  const sc_time back_arrival = send_data(back, answered, completion_bytes(gp, ext));
  delay = back_arrival - after;
}

sc_time PcieLink::send(Direction& d, const sc_time& ready, uint64_t tlps, uint64_t payload_bytes,
                       uint32_t chunk) {
  sc_time finish = ready;
  uint64_t left = payload_bytes;
  for (uint64_t i = 0; i < tlps; ++i) {
    const auto p = static_cast<uint32_t>(std::min<uint64_t>(left, chunk));
    left -= p;
    finish = d.wire.reserve_in_time_order(ready, tlp_time(p)).finish;  // after the one before
  }
  assert(left == 0);
  d.stats.tlps += tlps;
  d.stats.payload_bytes += payload_bytes;
  d.stats.wire_bytes += payload_bytes + tlps * cfg_.tlp_overhead_bytes;
  const sc_time arrival = finish + latency_;
  // Served by simulated time: a TLP ready no earlier than the one sent before it
  // never arrives before it (with a zero quantum; see server_pool.h).
  assert(ready < d.last_ready || arrival >= d.last_arrival || quantum_set());
  d.last_ready = ready;
  d.last_arrival = arrival;
  return arrival;
}

sc_time PcieLink::send_data(Direction& d, const sc_time& ready, uint64_t bytes) {
  const uint64_t tlps = std::max<uint64_t>(1, div_ceil(bytes, cfg_.max_payload_bytes));
  return send(d, ready, tlps, bytes, cfg_.max_payload_bytes);
}

sc_time PcieLink::send_read_request(Direction& d, const sc_time& ready, uint64_t bytes) {
  const uint64_t tlps = std::max<uint64_t>(1, div_ceil(bytes, cfg_.max_read_request_bytes));
  return send(d, ready, tlps, 0, cfg_.max_payload_bytes);
}

uint64_t PcieLink::completion_bytes(const tlm::tlm_generic_payload& gp,
                                    const PcieExtension* ext) const {
  if (ext && ext->kind() == PcieKind::kTranslationRequest) return ext->completion_payload_bytes();
  return gp.is_response_ok() ? gp.get_data_length() : 0;
}

PcieLink::DirectionStats PcieLink::stats_of(const Direction& d) const {
  DirectionStats s = d.stats;
  s.busy = d.wire.total_busy();
  s.queueing = d.wire.total_wait();
  return s;
}

}  // namespace iosim
