#include "device/upstream.h"

#include <array>

namespace iosim {

tlm::tlm_response_status DeviceUpstream::send_message(const PcieExtension::Body& body) {
  tlm::tlm_response_status status = tlm::TLM_INCOMPLETE_RESPONSE;
  sc_core::wait(post_message(body, &status));
  return status;
}

sc_core::sc_time DeviceUpstream::post_message(const PcieExtension::Body& body,
                                              tlm::tlm_response_status* status) {
  PcieExtension ext = PcieExtension::message(requester_id(), body);
  std::array<unsigned char, 8> dummy{};
  tlm::tlm_generic_payload gp;
  gp.set_command(tlm::TLM_WRITE_COMMAND);
  gp.set_address(0);
  gp.set_data_ptr(dummy.data());
  const uint32_t len = ext.message_payload_bytes();
  gp.set_data_length(len);
  gp.set_streaming_width(len);
  gp.set_byte_enable_ptr(nullptr);
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  gp.set_extension(&ext);
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  transport(gp, delay);
  gp.clear_extension(&ext);
  if (status) *status = gp.get_response_status();
  return delay;
}

tlm::tlm_response_status DeviceUpstream::memory_request(tlm::tlm_command cmd, uint64_t addr,
                                                        uint8_t* data, uint32_t len,
                                                        sc_core::sc_time& delay) {
  PcieExtension ext = PcieExtension::memory(requester_id());
  tlm::tlm_generic_payload gp;
  gp.set_command(cmd);
  gp.set_address(addr);
  gp.set_data_ptr(data);
  gp.set_data_length(len);
  gp.set_streaming_width(len);
  gp.set_byte_enable_ptr(nullptr);
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  gp.set_extension(&ext);
  transport(gp, delay);
  gp.clear_extension(&ext);
  return gp.get_response_status();
}

}  // namespace iosim
