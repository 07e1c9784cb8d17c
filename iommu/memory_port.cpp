// MemoryPort: timed memory accesses of the IOMMU.
#include "iommu/memory_port.h"

#include "sc_models/memory/physical_memory.h"
#include "sc_models/timing/server_pool.h"

namespace iosim {

bool MemoryPort::access(tlm::tlm_command cmd, uint64_t addr, void* data, unsigned len,
                        sc_core::sc_time& delay) {
  sync(delay);
  tlm::tlm_generic_payload& gp = payloads_.take();
  gp.set_command(cmd);
  gp.set_address(addr);
  gp.set_data_ptr(static_cast<unsigned char*>(data));
  gp.set_data_length(len);
  gp.set_streaming_width(len);
  gp.set_byte_enable_ptr(nullptr);
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  socket_->b_transport(gp, delay);
  const bool ok = gp.is_response_ok();
  payloads_.give(gp);
  if (cmd == tlm::TLM_READ_COMMAND) {
    ++reads_;
  } else {
    ++writes_;
  }
  return ok;
}

bool MemoryPort::read(uint64_t addr, void* dst, unsigned len, sc_core::sc_time& delay) {
  return access(tlm::TLM_READ_COMMAND, addr, dst, len, delay);
}

bool MemoryPort::write(uint64_t addr, const void* src, unsigned len, sc_core::sc_time& delay) {
  return access(tlm::TLM_WRITE_COMMAND, addr, const_cast<void*>(src), len, delay);
}

bool MemoryPort::read_u64(uint64_t addr, uint64_t& value, sc_core::sc_time& delay) {
  uint8_t b[8] = {};
  const bool ok = read(addr, b, 8, delay);
  value = load_le64(b);
  return ok;
}

bool MemoryPort::write_u64(uint64_t addr, uint64_t value, sc_core::sc_time& delay) {
  uint8_t b[8];
  store_le64(b, value);
  return write(addr, b, 8, delay);
}

void MemoryPort::forward(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  sync(delay);
  socket_->b_transport(gp, delay);
  if (gp.is_read()) {
    ++reads_;
  } else {
    ++writes_;
  }
}

bool MemoryPort::compare_exchange_u64(uint64_t addr, uint64_t expected, uint64_t desired,
                                      sc_core::sc_time& delay) {
  sync(delay);  // the compare happens when the locked access reaches memory
  uint64_t current = 0;
  tlm::tlm_generic_payload gp;
  gp.set_command(tlm::TLM_READ_COMMAND);
  gp.set_address(addr);
  gp.set_data_ptr(reinterpret_cast<unsigned char*>(&current));
  gp.set_data_length(8);
  gp.set_streaming_width(8);
  // A target without debug access cannot be compared: the write goes ahead.
  if (socket_->transport_dbg(gp) == 8 && current != expected) return false;
  return write_u64(addr, desired, delay);
}

}  // namespace iosim
