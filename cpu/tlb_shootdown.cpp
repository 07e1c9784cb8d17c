#include "cpu/tlb_shootdown.h"

#include <algorithm>
#include <stdexcept>

#include "cpu/core.h"
#include "os/mm_struct.h"
#include "os/os_context.h"
#include "sc_models/memory/page_size.h"
#include "sc_models/sim/sim_context.h"
#include "sc_models/observe/stats.h"

namespace iosim {

TlbShootdown::TlbShootdown(const std::string& stats_path, SimContext& ctx,
                           const TlbShootdownConfig& cfg)
    : cfg_(cfg) {
  StatGroup& g = ctx.stats().group(stats_path);
  ipis_ = &g.counter("ipis", "IPIs", "TLB-shootdown IPIs sent");
  full_ = &g.counter("full_flushes", "flushes", "flushes turned into full flushes");
  flushes_ = &g.counter("flushes", "flushes", "flush_tlb_range/flush_tlb_mm calls");
  latency_ = &g.histogram("latency", "flush call until every ack is back");
}

void TlbShootdown::add_core(Core& c) {
  if (!cores_.emplace(c.id(), &c).second) {
    throw std::invalid_argument("two cores with id " + std::to_string(c.id()));
  }
}

uint64_t TlbShootdown::ipis_sent() const {
  return ipis_->value();
}
uint64_t TlbShootdown::full_flushes() const {
  return full_->value();
}

void TlbShootdown::flush_tlb_range(MmStruct& mm, const std::set<int>& cpumask, uint64_t start,
                                   uint64_t end, int initiator_cpu) {
  const uint64_t pages = end > start ? pages_in(end - start) : 0;
  shootdown(mm, cpumask, start, end, pages > cfg_.single_page_flush_ceiling, initiator_cpu);
}

void TlbShootdown::flush_tlb_mm(MmStruct& mm, const std::set<int>& cpumask, int initiator_cpu) {
  shootdown(mm, cpumask, 0, ~uint64_t{0}, true, initiator_cpu);
}

double TlbShootdown::flush_core(Core& c, uint32_t asid, uint64_t start, uint64_t end, bool full) {
  if (full) {
    c.invalidate_asid(asid);
    return cfg_.full_flush_ns;
  }
  c.invalidate_range(asid, start, end);
  return cfg_.invlpg_ns * static_cast<double>(pages_in(end - start));
}

void TlbShootdown::shootdown(MmStruct& mm, const std::set<int>& cpumask, uint64_t start,
                             uint64_t end, bool full, int initiator_cpu) {
  ExecContext& ctx = mm.context().current();
  const sc_core::sc_time t0 = sc_core::sc_time_stamp();
  flushes_->inc();
  if (full) full_->inc();
  auto self = cores_.find(initiator_cpu);
  if (self != cores_.end()) ctx.run_for(ns(flush_core(*self->second, mm.id(), start, end, full)));
  double remote_ns = 0;
  unsigned sent = 0;
  for (int cpu : cpumask) {
    auto it = cores_.find(cpu);
    if (cpu == initiator_cpu || it == cores_.end()) continue;
    ctx.spin_for(ns(cfg_.ipi_send_ns));
    remote_ns = std::max(remote_ns, flush_core(*it->second, mm.id(), start, end, full));
    ++sent;
  }
  if (sent) {
    ipis_->add(sent);
    ctx.spin_for(ns(cfg_.ipi_round_trip_ns + remote_ns));
  }
  latency_->sample(sc_core::sc_time_stamp() - t0);
}

}  // namespace iosim
