// PageWalker: timed first-level walks with page-walk caches and a walker pool.
#include "iommu/page_walker.h"

#include <string>

#include "sc_models/server_pool.h"

namespace iosim {

namespace {
constexpr uint32_t kPermW = 1, kPermU = 2, kPermNx = 4;
const char* const kLevelName[5] = {"", "pte", "pde", "pdpte", "pml4e"};
}  // namespace

PageWalker::PageWalker(const WalkerConfig& cfg, MemoryPort& mem, StatGroup& g)
    : cfg_(cfg),
      mem_(mem),
      walks_(g.counter("walks", "walks", "page walks started")),
      reads_(g.counter("walk_reads", "reads", "page-table entries read by walks")),
      ad_writes_(g.counter("ad_writes", "writes", "accessed/dirty bit write-backs")),
      faults_(g.counter("walk_faults", "walks", "walks that ended without a translation")),
      walk_latency_(g.histogram("walk_latency", "walker acquisition to walk end")),
      walker_wait_(g.histogram("walker_wait", "time waiting for a free walker")) {
  const uint32_t entries[5] = {0, 0, cfg.pde_cache_entries, cfg.pdpte_cache_entries,
                               cfg.pml4e_cache_entries};
  for (int level = 2; level <= 4; ++level) {
    const std::string n = kLevelName[level];
    pwc_hits_[level] = &g.counter("pwc_" + n + "_hits", "lookups", "walk-cache hits");
    pwc_misses_[level] = &g.counter("pwc_" + n + "_misses", "lookups", "walk-cache misses");
    if (entries[level] == 0) continue;
    TranslationCacheConfig c;
    c.sets = 1;
    c.ways = entries[level];
    caches_[level] = std::make_unique<TranslationCache>(c);
  }
}

void PageWalker::acquire(sc_core::sc_time& delay) {
  MemoryPort::sync(delay);
  const sc_core::sc_time t0 = sc_core::sc_time_stamp();
  while (busy_ >= cfg_.walkers) sc_core::wait(freed_);
  ++busy_;
  walker_wait_.sample(sc_core::sc_time_stamp() - t0);
}

void PageWalker::release(sc_core::sc_time& delay) {
  MemoryPort::sync(delay);  // the walker is busy until its last access finished
  --busy_;
  freed_.notify(sc_core::SC_ZERO_TIME);
}

void PageWalker::start_point(const TranslationTag& tag, uint64_t va, int& level, uint64_t& table,
                             uint32_t& perms) {
  for (int l = 2; l <= 4; ++l) {
    if (!caches_[l]) continue;
    const TranslationEntry* e = caches_[l]->lookup(tag, va);
    if (e) {
      pwc_hits_[l]->inc();
      level = l - 1;
      table = e->target;
      perms = e->perms;
      return;
    }
    pwc_misses_[l]->inc();
  }
}

void PageWalker::fill(int level, const TranslationTag& tag, uint64_t va, uint64_t table,
                      uint32_t perms) {
  if (!caches_[level]) return;
  TranslationEntry e;
  e.pasid = tag.pasid;
  e.domain = tag.domain;
  e.log2_size = static_cast<uint8_t>(level_span_shift(level));
  e.base = va & ~e.offset_mask();
  e.target = table;
  e.perms = perms;
  caches_[level]->insert(e);
}

WalkOutcome PageWalker::walk(uint16_t rid, uint32_t pasid, uint64_t root, uint64_t va,
                             bool write_intent, sc_core::sc_time& delay) {
  WalkOutcome out;
  walks_.inc();
  if (!is_canonical(va)) {
    faults_.inc();
    return out;
  }
  acquire(delay);
  const sc_core::sc_time t0 = sc_core::sc_time_stamp();
  delay += ns(cfg_.walk_overhead_ns);
  const TranslationTag tag{pasid, rid};
  int level = kPml4Level;
  uint64_t table = root;
  uint32_t perms = kPermW | kPermU;
  start_point(tag, va, level, table, perms);
  out.status = WalkStatus::kOk;
  for (; level >= kPtLevel; --level) {
    const uint64_t addr = entry_address(table, va, level);
    uint64_t raw = 0;
    const bool ok = mem_.read_u64(addr, raw, delay);
    reads_.inc();
    ++out.reads;
    const Pte pte(raw);
    if (!ok) {
      out.status = WalkStatus::kBadAddress;
    } else if (!pte.present()) {
      out.status = WalkStatus::kNotPresent;
    } else if (level == kPml4Level && pte.page_size_bit()) {
      out.status = WalkStatus::kReservedBit;
    }
    if (out.status != WalkStatus::kOk) {
      out.fault_level = level;
      break;
    }
    if (!pte.writable()) perms &= ~kPermW;
    if (!pte.user()) perms &= ~kPermU;
    if (pte.no_execute()) perms |= kPermNx;
    if (pte.is_leaf_at(level)) {
      out.size = level == 1 ? PageSize::k4K : level == 2 ? PageSize::k2M : PageSize::k1G;
      out.page_pa = pte.page_address(out.size);
      out.writable = perms & kPermW;
      out.user = perms & kPermU;
      out.no_execute = perms & kPermNx;
      out.global = pte.global();
      Pte updated = pte.with(Pte::kAccessed);
      if (write_intent && out.writable) updated = updated.with(Pte::kDirty);
      out.dirty = updated.dirty();
      if (updated != pte) {
        mem_.write_u64(addr, updated.raw(), delay);
        ad_writes_.inc();
      }
      break;
    }
    if (!pte.accessed()) {
      mem_.write_u64(addr, pte.with(Pte::kAccessed).raw(), delay);
      ad_writes_.inc();
    }
    table = pte.table_address();
    fill(level, tag, va, table, perms);
  }
  if (!out.ok()) faults_.inc();
  release(delay);
  walk_latency_.sample(sc_core::sc_time_stamp() - t0);
  return out;
}

void PageWalker::invalidate(const TagFilter& f, uint64_t first, uint64_t last) {
  for (auto& c : caches_) {
    if (c) c->invalidate(f, first, last);
  }
}

void PageWalker::invalidate_all() {
  for (auto& c : caches_) {
    if (c) c->invalidate_all();
  }
}

}  // namespace iosim
