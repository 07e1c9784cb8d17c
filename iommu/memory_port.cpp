// MemoryPort: timed memory accesses of the IOMMU.
#include "iommu/memory_port.h"

#include "sc_models/lookahead.h"
#include "sc_models/physical_memory.h"
#include "sc_models/server_pool.h"

namespace iosim {

MemoryPort::Scope MemoryPort::scope_ = MemoryPort::Scope::kNone;

MemoryPort::Decoupled::Decoupled()
    : ScopeGuard(quantum_set() ? Scope::kDecoupled : Scope::kExact) {}

MemoryPort::Lookahead::Lookahead() : ScopeGuard(quantum_set() ? scope_ : Scope::kExact) {}

namespace {
// Waits for `what` with the Decoupled scope set aside: other processes run meanwhile.
template <class Scope, class What>
void wait_outside_scope(Scope& current, const What& what) {
  const Scope scope = current;
  current = Scope::kNone;
  sc_core::wait(what);
  current = scope;
}
}  // namespace

void MemoryPort::sync(sc_core::sc_time& delay) {
  if (delay == sc_core::SC_ZERO_TIME) return;
  if (scope_ == Scope::kDecoupled &&
      delay < tlm::tlm_global_quantum::instance().compute_local_quantum()) {
    return;
  }
  if (scope_ == Scope::kExact && lookahead::may_skip(delay)) return;
  wait_outside_scope(scope_, delay);
  delay = sc_core::SC_ZERO_TIME;
}

void MemoryPort::settle(sc_core::sc_time& delay) {
  if (scope_ != Scope::kExact || delay == sc_core::SC_ZERO_TIME) return;
  wait_outside_scope(scope_, delay);
  delay = sc_core::SC_ZERO_TIME;
}

void MemoryPort::wait(const sc_core::sc_time& t) {
  wait_outside_scope(scope_, t);
}

void MemoryPort::wait(const sc_core::sc_event& e) {
  wait_outside_scope(scope_, e);
}

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

}  // namespace iosim
