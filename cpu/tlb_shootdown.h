// TlbShootdown: the x86 Linux CPU TLB shootdown (flush_tlb_mm_range /
// native_flush_tlb_multi), implementing os/tlb_flush.h for the cores.
//
// The initiating core flushes its own TLB (invlpg per page, or one full flush of the
// mm's entries above single_page_flush_ceiling pages: Linux x86
// tlb_single_page_flush_ceiling = 33, arch/x86/mm/tlb.c), then sends one IPI per other
// core in the mm's cpumask (ipi_send_ns each, serially, as the x2APIC ICR is written
// once per destination) and spins until every acknowledgement is back: the last ack
// arrives ipi_round_trip_ns plus the remote flush time after the last IPI was sent.
// So the cost grows with the number of target cores.
//
// Simplifications: a target's TLB is invalidated at the moment its IPI is sent (the
// handler's latency is folded into the round trip, and the target core's own thread is
// not delayed); no lazy-TLB mode, no batching of flushes, no PCID-based deferred
// flushes of cores not currently running the mm.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "os/tlb_flush.h"
#include "sc_models/sim/sim_context.h"

namespace iosim {

class Core;
class Counter;
class Histogram;

struct TlbShootdownConfig {
  // One IPI to a remote core and its acknowledgement: TLB shootdown round trips of
  // 1-3 us on bare metal (Amit, "Optimizing the TLB Shootdown Algorithm with Page Access
  // Tracking", USENIX ATC 2017; Kumar et al., "LATR: Lazy Translation Coherence",
  // ASPLOS 2018).
  double ipi_round_trip_ns = 2000.0;
  // Sending one more IPI (one ICR write per destination). Estimate.
  double ipi_send_ns = 100.0;
  // INVLPG of one page. Estimate (a few hundred cycles at 3 GHz).
  double invlpg_ns = 80.0;
  // Flush of every entry of the mm (CR3 write / INVPCID single-context). Estimate.
  double full_flush_ns = 150.0;
  // Above this many pages the whole TLB is flushed (tlb_single_page_flush_ceiling).
  uint32_t single_page_flush_ceiling = 33;

  template <class V>
  void visit(V& v) {
    v("ipi_round_trip_ns", ipi_round_trip_ns, "ns", "IPI to a remote core until its ack");
    v("ipi_send_ns", ipi_send_ns, "ns", "cost of sending each additional IPI");
    v("invlpg_ns", invlpg_ns, "ns", "invalidation of one page in one TLB");
    v("full_flush_ns", full_flush_ns, "ns", "flush of all entries of an mm in one TLB");
    v("single_page_flush_ceiling", single_page_flush_ceiling, "pages",
      "above this many pages the whole TLB is flushed");
  }
};

class TlbShootdown : public CpuTlbShootdown {
 public:
  // `stats_path` names the stats group (e.g. "top.tlb_shootdown") in ctx's registry.
  TlbShootdown(const std::string& stats_path, SimContext& ctx, const TlbShootdownConfig& cfg = {});

  void add_core(Core& c);

  void flush_tlb_range(MmStruct& mm, const std::set<int>& cpumask, uint64_t start, uint64_t end,
                       int initiator_cpu) override;
  void flush_tlb_mm(MmStruct& mm, const std::set<int>& cpumask, int initiator_cpu) override;

  uint64_t ipis_sent() const;
  uint64_t full_flushes() const;

 private:
  // Flushes [start, end) (or everything when full) on one core; returns its cost in ns.
  double flush_core(Core& c, uint32_t asid, uint64_t start, uint64_t end, bool full);
  void shootdown(MmStruct& mm, const std::set<int>& cpumask, uint64_t start, uint64_t end,
                 bool full, int initiator_cpu);

  TlbShootdownConfig cfg_;
  std::map<int, Core*> cores_;
  Counter* ipis_;
  Counter* full_;
  Counter* flushes_;
  Histogram* latency_;
};

}  // namespace iosim
