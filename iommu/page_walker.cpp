// PageWalker: timed first-level walks with page-walk caches and a walker pool.
#include "iommu/page_walker.h"

#include <string>

#include "sc_models/timing/server_pool.h"

namespace iosim {

namespace {
const char* const kLevelName[5] = {"", "pte", "pde", "pdpte", "pml4e"};
}  // namespace

PageWalker::PageWalker(const WalkerConfig& cfg, MemoryPort& mem, StatGroup& g)
    : cfg_(cfg),
      mem_(mem),
      overhead_(ns(cfg.walk_overhead_ns)),
      pwc_(cfg.pml4e_cache_entries, cfg.pdpte_cache_entries, cfg.pde_cache_entries),
      walkers_(cfg.walkers, mem.timing()),
      walks_(g.counter("walks", "walks", "page walks started")),
      reads_(g.counter("walk_reads", "reads", "page-table entries read by walks")),
      ad_writes_(g.counter("ad_writes", "writes", "accessed/dirty bit write-backs")),
      faults_(g.counter("walk_faults", "walks", "walks that ended without a translation")),
      walk_latency_(g.histogram("walk_latency", "walker acquisition to walk end")),
      walker_wait_(g.histogram("walker_wait", "time waiting for a free walker")) {
  for (int level = kPdLevel; level <= kPml4Level; ++level) {
    const std::string n = kLevelName[level];
    pwc_hits_[level] = &g.counter("pwc_" + n + "_hits", "lookups", "walk-cache hits");
    pwc_misses_[level] = &g.counter("pwc_" + n + "_misses", "lookups", "walk-cache misses");
  }
}

void PageWalker::acquire(sc_core::sc_time& delay) {
  mem_.sync(delay);
  const sc_core::sc_time t0 = kernel_time() + delay;
  if (walkers_.free_units() == 0 || walkers_.waiting() > 0) {
    // Queues from the request's own time.
    if (delay > sc_core::SC_ZERO_TIME) mem_.wait(delay);
    delay = sc_core::SC_ZERO_TIME;
  }
  walkers_.acquire(1, [this](const sc_core::sc_event& e) { mem_.wait(e); });
  walker_wait_.sample(kernel_time() + delay - t0);
}

void PageWalker::release(sc_core::sc_time& delay) {
  mem_.sync(delay);  // the walker is busy until its last access finished
  // A waiter takes the walker at the release's own time.
  if (walkers_.waiting() > 0) mem_.settle(delay);
  walkers_.release(1);
}

WalkCache::Start PageWalker::start_point(const TranslationTag& tag, uint64_t va, uint64_t root) {
  const WalkCache::Start start = pwc_.lookup(tag, va, root);
  for (int level = kPdLevel; level <= kPml4Level; ++level) {
    if (start.missed_levels & (1u << level)) pwc_misses_[level]->inc();
  }
  if (start.hit_level) pwc_hits_[start.hit_level]->inc();
  return start;
}

WalkOutcome PageWalker::walk(const TranslationTag& tag, uint64_t root, uint64_t va,
                             bool write_intent, sc_core::sc_time& delay) {
  WalkOutcome out;
  walks_.inc();
  if (!is_canonical(va)) {
    faults_.inc();
    return out;
  }
  acquire(delay);
  const sc_core::sc_time t0 = kernel_time() + delay;
  delay += overhead_;
  WalkRules rules;
  rules.write = write_intent;
  rules.set_table_accessed = true;
  TableWalk w;
  do {
    // The Accessed/Dirty updates are locked compare-and-exchanges: an entry software
    // changed since the walk read it (a PMD cleared under the walk) is not written
    // back, and the walk starts again from what memory holds now.
    w = walk_tables(
        pwc_, tag, va, start_point(tag, va, root), rules,
        [&](uint64_t addr, Pte& e) {
          uint64_t raw = 0;
          const bool ok = mem_.read_u64(addr, raw, delay);
          reads_.inc();
          e = Pte(raw);
          return ok;
        },
        [&](uint64_t addr, Pte old, Pte updated) {
          ad_writes_.inc();
          return mem_.compare_exchange_u64(addr, old.raw(), updated.raw(), delay);
        });
  } while (w.aborted);
  out.status = w.status;
  out.reads = w.reads;
  if (w.status == WalkStatus::kOk) {
    out.size = w.size;
    out.page_pa = w.leaf.page_address(w.size);
    out.writable = w.perms & tperm::kWrite;
    out.user = w.perms & tperm::kUser;
    out.no_execute = !(w.perms & tperm::kExec);
    out.global = w.leaf.global();
    out.dirty = w.leaf.dirty();
  } else {
    out.fault_level = w.level;
    faults_.inc();
  }
  release(delay);
  walk_latency_.sample(kernel_time() + delay - t0);
  return out;
}

void PageWalker::invalidate(const TagFilter& f, uint64_t first, uint64_t last) {
  pwc_.invalidate(f, first, last);
}

void PageWalker::invalidate_all() {
  pwc_.invalidate_all();
}

}  // namespace iosim
