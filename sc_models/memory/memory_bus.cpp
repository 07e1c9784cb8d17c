#include "sc_models/memory/memory_bus.h"

#include "sc_models/config/params.h"
#include "sc_models/sim/sim_context.h"
#include "sc_models/observe/stats.h"

namespace iosim {

void MemoryBusConfig::validate() const {
  if (!(hop_latency_ns >= 0)) throw ParamError("memory.bus.hop_latency_ns: must be >= 0");
}

MemoryBus::MemoryBus(sc_core::sc_module_name name, SimContext& ctx, const MemoryBusConfig& cfg)
    : sc_module(name),
      targets("targets"),
      memory("memory"),
      cfg_(cfg),
      hop_(cfg.hop_latency_ns, sc_core::SC_NS) {
  cfg_.validate();
  targets.register_b_transport(this, &MemoryBus::b_transport);
  targets.register_transport_dbg(this, &MemoryBus::transport_dbg);
  transactions_ = &ctx.stats().group(*this).counter("transactions", "transactions",
                                                    "blocking transactions forwarded to memory");
}

uint64_t MemoryBus::transactions(size_t port) const {
  return port < per_port_.size() ? per_port_[port] : 0;
}

void MemoryBus::b_transport(int port, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  if (per_port_.size() <= static_cast<size_t>(port)) per_port_.resize(port + 1, 0);
  ++per_port_[port];
  transactions_->inc();
  delay += hop_;
  memory->b_transport(gp, delay);
}

unsigned int MemoryBus::transport_dbg(int, tlm::tlm_generic_payload& gp) {
  return memory->transport_dbg(gp);
}

}  // namespace iosim
