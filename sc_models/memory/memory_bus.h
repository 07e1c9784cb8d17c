// MemoryBus: the interconnect between the system's memory initiators (CPU cores, the
// IOMMU's memory port) and the single target socket of PhysicalMemory.
//
// Every initiator binds to `targets` (a multi-passthrough socket, so one per
// initiator without wiring ports by index); every transaction, blocking or debug,
// is forwarded unchanged to `memory`. The bus adds hop_latency_ns of annotated
// delay per blocking transaction and counts the transactions per initiator.
//
// Simplifications: no arbitration or bandwidth of its own (the memory channels
// model contention, sc_models/memory/physical_memory.h); no address decoding (one target).
#pragma once

#include <tlm_utils/multi_passthrough_target_socket.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

#include <cstdint>
#include <vector>

#include "sc_models/sim/sim_context.h"

namespace iosim {

class Counter;

struct MemoryBusConfig {
  // Interconnect hop from a core or the IOMMU to the memory controller. Default 0:
  // PhysicalMemory's access latency is a load-to-use figure that already includes it.
  double hop_latency_ns = 0.0;

  template <class V>
  void visit(V& v) {
    v("hop_latency_ns", hop_latency_ns, "ns", "interconnect latency added to each access");
  }
  // Throws ParamError naming the parameter.
  void validate() const;
};

class MemoryBus : public sc_core::sc_module {
 public:
  tlm_utils::multi_passthrough_target_socket<MemoryBus> targets;  // from every initiator
  tlm_utils::simple_initiator_socket<MemoryBus> memory;           // to PhysicalMemory

  MemoryBus(sc_core::sc_module_name name, SimContext& ctx, const MemoryBusConfig& cfg = {});

  // Transactions forwarded for the initiator bound at `port` (in binding order).
  uint64_t transactions(size_t port) const;

 private:
  void b_transport(int port, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned int transport_dbg(int port, tlm::tlm_generic_payload& gp);

  MemoryBusConfig cfg_;
  sc_core::sc_time hop_;
  std::vector<uint64_t> per_port_;
  Counter* transactions_;
};

}  // namespace iosim
