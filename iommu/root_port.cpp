// RootPort: sockets and ITag bookkeeping of one device link.
#include "iommu/root_port.h"

#include <cassert>

namespace iosim {

RootPort::RootPort(sc_core::sc_module_name name, const RootPortConfig& cfg, Handler handler)
    : sc_module(name),
      upstream("upstream"),
      downstream("downstream"),
      cfg_(cfg),
      handler_(std::move(handler)),
      injected_ur_left_(cfg.fault_translation_ur) {
  cfg_.validate();
  rids_.insert(static_cast<uint16_t>(cfg_.requester_id));
  upstream.register_b_transport(this, &RootPort::b_transport);
}

void RootPort::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  handler_(*this, gp, delay);
}

uint8_t RootPort::allocate_itag(const sc_core::sc_time& now, const sc_core::sc_time& timeout) {
  assert(can_issue());
  for (unsigned k = 0; k < 32; ++k) {
    const unsigned i = (next_itag_ + k) % 32;
    if (itags_[i].busy) continue;
    itags_[i] = Itag{true, 0, 0, now, now + timeout};
    ++in_flight_;
    next_itag_ = (i + 1) % 32;
    return static_cast<uint8_t>(i);
  }
  assert(false && "no free ITag although in_flight < 32");
  return 0;
}

bool RootPort::complete_itag(uint8_t i, unsigned completion_count) {
  Itag& t = itags_.at(i);
  if (!t.busy) return false;
  if (t.expected == 0) t.expected = completion_count == 0 ? 8 : completion_count;
  ++t.received;
  if (t.received < t.expected) return false;
  free_itag(i);
  return true;
}

void RootPort::free_itag(uint8_t i) {
  if (!itags_.at(i).busy) return;
  itags_[i].busy = false;
  --in_flight_;
}

void RootPort::send(tlm::tlm_generic_payload& gp, sc_core::sc_time delay) {
  downstream->b_transport(gp, delay);
}

void RootPort::send_message(PcieExtension ext, const sc_core::sc_time& delay) {
  tlm::tlm_generic_payload& gp = message_gp_;
  gp.set_command(tlm::TLM_WRITE_COMMAND);
  gp.set_address(0);
  gp.set_data_ptr(nullptr);
  gp.set_data_length(0);
  gp.set_streaming_width(0);
  gp.set_byte_enable_ptr(nullptr);
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  gp.set_extension(&ext);
  send(gp, delay);
  gp.clear_extension(&ext);
}

}  // namespace iosim
